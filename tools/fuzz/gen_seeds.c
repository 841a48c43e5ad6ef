/* SPDX-License-Identifier: PostgreSQL */
/*
 * gen_seeds.c — writes the seed corpora of the fuzz targets:
 *
 *   gen_seeds DIR   DIR/fuzz_wire/<body>: one envelope of every body kind
 *                   (and a few variants), encoded as a peer sends them;
 *                   DIR/fuzz_agent_request/<scenario>: step lists in the
 *                   input layout fuzz_agent_request.c describes, with the
 *                   fake server's decisions at the back (fake_libpq.c
 *                   draws them in the order written here).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wire.h"

#define EPOCH 1					/* fuzz_agent_request.c's agent_epoch */

static const char *outdir;

static void
die(const char *what)
{
	fprintf(stderr, "gen_seeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
}

static void
write_file(const char *target, const char *name, const uint8_t *data, size_t len)
{
	char		path[1024];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

/* ---- envelopes ---------------------------------------------------------- */

typedef struct Frame
{
	uint8_t		data[4096];
	size_t		len;
} Frame;

static Frame
encode(HdEnvelope *env)
{
	Frame		f;

	f.len = hd_wire_size(env);
	if (f.len > sizeof(f.data))
	{
		fprintf(stderr, "gen_seeds: a seed envelope takes %zu bytes\n", f.len);
		exit(1);
	}
	hd_wire_encode(env, f.data);
	return f;
}

static void
envelope(HdEnvelope *env, uint64_t session, uint32_t seq)
{
	hyperdist__envelope__init(env);
	env->has_session = env->has_seq = env->has_epoch = 1;
	env->session = session;
	env->seq = seq;
	env->epoch = EPOCH;
}

static ProtobufCBinaryData
bytes(const char *s)
{
	return (ProtobufCBinaryData) {strlen(s), (uint8_t *) s};
}

static Frame
hello_with(uint32_t seq, uint32_t minor, const char *user, const char *password)
{
	HdEnvelope	env;
	Hyperdist__Hello h = HYPERDIST__HELLO__INIT;

	envelope(&env, 0, seq);
	h.has_major = h.has_minor = 1;
	h.major = HD_PROTO_MAJOR;
	h.minor = minor;
	h.dbname = "app";
	h.user = (char *) user;
	h.password = (char *) password;
	h.application_name = "fuzz";
	h.origin = "7301";
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	return encode(&env);
}

static Frame
hello(uint32_t seq)
{
	return hello_with(seq, HD_PROTO_MINOR, "alice", "secret");
}

static Frame
hello_minor(uint32_t seq, uint32_t minor)
{
	return hello_with(seq, minor, "alice", "secret");
}

/* A Hello one byte beyond its limits: the password, or the user name. */
static Frame
hello_oversized(uint32_t seq, bool password)
{
	char		user[HD_MAX_NAME_LEN + 2];
	char		secret[HD_MAX_PASSWORD_LEN + 2];

	memset(user, 'u', sizeof(user) - 1);
	user[password ? HD_MAX_NAME_LEN : HD_MAX_NAME_LEN + 1] = '\0';
	memset(secret, 's', sizeof(secret) - 1);
	secret[password ? HD_MAX_PASSWORD_LEN + 1 : HD_MAX_PASSWORD_LEN] = '\0';
	return hello_with(seq, HD_PROTO_MINOR, user, secret);
}

typedef struct ExecOpts
{
	const char *copy_data;
	bool		notices;
	int			nparams;
	bool		empty_param;	/* the first parameter is '' */
} ExecOpts;

static Frame
exec_frame(uint64_t session, uint32_t seq, const char *sql, ExecOpts o)
{
	HdEnvelope	env;
	Hyperdist__Exec e = HYPERDIST__EXEC__INIT;
	Hyperdist__Param p[2] = {HYPERDIST__PARAM__INIT, HYPERDIST__PARAM__INIT};
	Hyperdist__Param *pp[2] = {&p[0], &p[1]};

	envelope(&env, session, seq);
	e.has_sql = 1;
	e.sql = bytes(sql);
	if (o.copy_data)
	{
		e.has_copy_data = 1;
		e.copy_data = bytes(o.copy_data);
	}
	e.has_notices = o.notices;
	e.notices = o.notices;
	p[0].has_type_oid = p[0].has_value = 1;
	p[0].type_oid = 23;
	p[0].value = bytes(o.empty_param ? "" : "42");
	p[1].has_binary = p[1].binary = 1;		/* and no value: NULL */
	e.n_params = o.nparams;
	e.params = pp;
	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &e;
	return encode(&env);
}

typedef struct QueryOpts
{
	uint32_t	credit;
	bool		binary;
	bool		copy;
	uint32_t	batch_bytes;
	bool		notices;
	bool		param;
} QueryOpts;

static Frame
query_frame(uint64_t session, uint32_t seq, const char *sql, QueryOpts o)
{
	HdEnvelope	env;
	Hyperdist__Query q = HYPERDIST__QUERY__INIT;
	Hyperdist__Param p = HYPERDIST__PARAM__INIT;
	Hyperdist__Param *pp = &p;

	envelope(&env, session, seq);
	q.has_sql = 1;
	q.sql = bytes(sql);
	q.has_credit = o.credit > 0;
	q.credit = o.credit;
	q.has_binary = q.binary = o.binary;
	q.has_copy = q.copy = o.copy;
	q.has_batch_bytes = o.batch_bytes > 0;
	q.batch_bytes = o.batch_bytes;
	q.has_notices = q.notices = o.notices;
	if (o.param)
	{
		p.has_binary = p.binary = p.has_value = 1;
		p.value = bytes("\0\0\0\1");
		p.value.len = 4;
		q.n_params = 1;
		q.params = &pp;
	}
	env.body_case = HYPERDIST__ENVELOPE__BODY_QUERY;
	env.query = &q;
	return encode(&env);
}

static Frame
credit_frame(uint64_t session, uint32_t seq, uint32_t batches)
{
	HdEnvelope	env;
	Hyperdist__Credit c = HYPERDIST__CREDIT__INIT;

	envelope(&env, session, seq);
	c.has_batches = 1;
	c.batches = batches;
	env.body_case = HYPERDIST__ENVELOPE__BODY_CREDIT;
	env.credit = &c;
	return encode(&env);
}

/* Cancel, Ping, Close: bodies without fields. */
static Frame
empty_body(uint64_t session, uint32_t seq, Hyperdist__Envelope__BodyCase body)
{
	HdEnvelope	env;
	Hyperdist__Cancel cancel = HYPERDIST__CANCEL__INIT;
	Hyperdist__Ping ping = HYPERDIST__PING__INIT;
	Hyperdist__Close close = HYPERDIST__CLOSE__INIT;

	envelope(&env, session, seq);
	env.body_case = body;
	env.cancel = &cancel;		/* the oneof shares one pointer */
	if (body == HYPERDIST__ENVELOPE__BODY_PING)
		env.ping = &ping;
	else if (body == HYPERDIST__ENVELOPE__BODY_CLOSE)
		env.close = &close;
	return encode(&env);
}

/* ---- fuzz_wire: every body kind ----------------------------------------- */

static void
wire_seed(const char *name, Frame f)
{
	write_file("fuzz_wire", name, f.data, f.len);
}

static void
wire_seeds(void)
{
	HdEnvelope	env;
	Hyperdist__HelloOk ok = HYPERDIST__HELLO_OK__INIT;
	Hyperdist__Error err = HYPERDIST__ERROR__INIT;
	Hyperdist__Column col[2] = {HYPERDIST__COLUMN__INIT, HYPERDIST__COLUMN__INIT};
	Hyperdist__Column *cols[2] = {&col[0], &col[1]};
	Hyperdist__RowDescription rd = HYPERDIST__ROW_DESCRIPTION__INIT;
	Hyperdist__RowBatch rb = HYPERDIST__ROW_BATCH__INIT;
	Hyperdist__Done done = HYPERDIST__DONE__INIT;
	Hyperdist__Pong pong = HYPERDIST__PONG__INIT;
	HdBuf		batch;

	wire_seed("hello", hello(1));
	wire_seed("exec", exec_frame(7, 2, "INSERT INTO t VALUES ($1, $2)",
								 (ExecOpts) {.nparams = 2}));
	wire_seed("exec-copy", exec_frame(7, 3, "COPY t FROM STDIN",
									  (ExecOpts) {.copy_data = "1\tx\n", .notices = true}));
	wire_seed("query", query_frame(7, 4, "SELECT a, b FROM t WHERE a = $1",
								   (QueryOpts) {.credit = 8, .binary = true,
									   .batch_bytes = 65536, .param = true}));
	wire_seed("query-copy", query_frame(7, 5, "SELECT * FROM t",
										(QueryOpts) {.credit = 2, .binary = true,
											.copy = true, .notices = true}));
	wire_seed("credit", credit_frame(7, 4, 3));
	wire_seed("cancel", empty_body(7, 4, HYPERDIST__ENVELOPE__BODY_CANCEL));
	wire_seed("ping", empty_body(0, 6, HYPERDIST__ENVELOPE__BODY_PING));
	wire_seed("close", empty_body(7, 0, HYPERDIST__ENVELOPE__BODY_CLOSE));

	envelope(&env, 7, 1);
	ok.has_major = ok.has_minor = ok.has_epoch = ok.has_session = 1;
	ok.major = HD_PROTO_MAJOR;
	ok.minor = HD_PROTO_MINOR;
	ok.epoch = EPOCH;
	ok.session = 7;
	ok.server_version = "15.6";
	ok.agent_version = "0.1.0";
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO_OK;
	env.hello_ok = &ok;
	wire_seed("hello-ok", encode(&env));

	err.sqlstate = "22012";
	err.severity = "ERROR";
	err.message = "division by zero";
	err.detail = "detail";
	err.hint = "hint";
	err.context = "context";
	env.body_case = HYPERDIST__ENVELOPE__BODY_ERROR;
	env.error = &err;
	wire_seed("error", encode(&env));
	err.sqlstate = "01000";
	err.severity = "WARNING";
	env.body_case = HYPERDIST__ENVELOPE__BODY_NOTICE;
	env.notice = &err;
	wire_seed("notice", encode(&env));

	col[0].name = "a";
	col[0].has_type_oid = col[0].has_typmod = col[0].has_binary = 1;
	col[0].type_oid = 23;
	col[0].typmod = -1;
	col[1].name = "b";
	col[1].has_type_oid = 1;
	col[1].type_oid = 25;
	rd.n_columns = 2;
	rd.columns = cols;
	env.body_case = HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION;
	env.row_description = &rd;
	wire_seed("row-description", encode(&env));

	hd_buf_init(&batch);
	for (int i = 0; i < 3; i++)
	{
		hd_batch_put_row_header(&batch, 2);
		hd_batch_put_field(&batch, "\0\0\0\1", 4);
		hd_batch_put_field(&batch, i == 1 ? NULL : "text", 4);
	}
	rb.has_nrows = rb.has_data = 1;
	rb.nrows = 3;
	rb.data.data = batch.data;
	rb.data.len = batch.len;
	env.body_case = HYPERDIST__ENVELOPE__BODY_ROW_BATCH;
	env.row_batch = &rb;
	wire_seed("row-batch", encode(&env));
	rb.nrows = 0;
	rb.data.len = 5;			/* a piece of the first row */
	rb.has_fragment = rb.fragment = 1;
	wire_seed("row-fragment", encode(&env));
	rb.has_fragment = rb.fragment = 0;
	rb.data.len = 0;
	wire_seed("row-batch-empty", encode(&env));
	hd_buf_free(&batch);

	done.command_tag = "SELECT 3";
	done.has_rows = 1;
	done.rows = 3;
	env.body_case = HYPERDIST__ENVELOPE__BODY_DONE;
	env.done = &done;
	wire_seed("done", encode(&env));

	pong.has_epoch = pong.has_sessions = 1;
	pong.epoch = EPOCH;
	pong.sessions = 2;
	env.body_case = HYPERDIST__ENVELOPE__BODY_PONG;
	env.pong = &pong;
	wire_seed("pong", encode(&env));
}

/* ---- fuzz_agent_request: scenarios -------------------------------------- */

typedef struct Script
{
	uint8_t		front[16384];
	size_t		nfront;
	uint8_t		back[4096];		/* in the order the fake draws them */
	size_t		nback;
} Script;

static void
front(Script *s, uint8_t b)
{
	s->front[s->nfront++] = b;
}

/* Decisions of the fake server, in the order it draws them. */
static void
decide(Script *s, int n,...)
{
	va_list		ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s->back[s->nback++] = (uint8_t) va_arg(ap, int);
	va_end(ap);
}

enum
{
	STEP_END = 0, STEP_FRAME = 1, STEP_MULTIPART = 3, STEP_SERVE = 4, STEP_THREADS = 5,
	STEP_CLOCK = 6, STEP_DISCONNECT = 7, STEP_SHUTDOWN = 8, STEP_SETTING = 9,
	STEP_READING = 10, STEP_OVERSIZED = 11, STEP_RECONNECT = 12
};

/* STEP_CLOCK's arguments: how far the clock moves. */
enum
{
	CLOCK_100MS = 2, CLOCK_1S = 4, CLOCK_10S = 6, CLOCK_30S = 7
};

static void
send_from(Script *s, int peer, Frame f, int op)
{
	front(s, (uint8_t) op);
	front(s, (uint8_t) peer);
	if (f.len >= 0xF0)
	{
		front(s, (uint8_t) (0xF0 | (f.len >> 8)));
		front(s, (uint8_t) f.len);
	}
	else
		front(s, (uint8_t) f.len);
	memcpy(s->front + s->nfront, f.data, f.len);
	s->nfront += f.len;
}

static void
send_to(Script *s, int peer, Frame f)
{
	send_from(s, peer, f, STEP_FRAME);
}

static void
step(Script *s, int op, int arg)
{
	front(s, (uint8_t) op);
	if (arg >= 0)
		front(s, (uint8_t) arg);
}

/*
 * The steps and their end, zeros (decisions past those written: nothing unusual, so that
 * the fake does not eat into the last step), the decisions from the end.
 */
#define PADDING 256

static void
save(const char *name, Script *s)
{
	uint8_t		data[sizeof(s->front) + PADDING + sizeof(s->back)];

	s->front[s->nfront++] = STEP_END;
	memcpy(data, s->front, s->nfront);
	memset(data + s->nfront, 0, PADDING);
	for (size_t i = 0; i < s->nback; i++)
		data[s->nfront + PADDING + i] = s->back[s->nback - 1 - i];
	write_file("fuzz_agent_request", name, data, s->nfront + PADDING + s->nback);
	memset(s, 0, sizeof(*s));
}

/*
 * Decisions, in the order they are drawn.  A Hello starts a connect
 * thread (which could fail to start); when it runs, the connection's
 * outcome, its steps, server_version and whether it used a password.  A
 * query sent: whether the connection is lost, (an Exec without parameters,
 * sent with PQsendQuery) how many statements, unflushed output, busy
 * input.  An idle open session served once: what PQconsumeInput finds.  A
 * cancel: whether it reaches the query, its thread's start.
 */
#define THREAD_STARTS(s)	decide(s, 1, 0)
#define CONNECT_OK(s)		decide(s, 4, 0, 0, 0, 0)
#define QUERY_SENT(s)		decide(s, 4, 0, 0, 0, 0)
#define PARAMS_SENT(s)		decide(s, 3, 0, 0, 0)
#define NOTHING_NEW(s)		decide(s, 1, 0)
#define CANCEL_SENT(s)		decide(s, 2, 0, 0)

static void
serve(Script *s, int rounds)
{
	step(s, STEP_SERVE, rounds - 1);
}

/* A Hello (minor 3 unless said) from peer, answered by a connection made at once. */
static void
open_session(Script *s, int peer, uint32_t seq)
{
	THREAD_STARTS(s);
	CONNECT_OK(s);
	send_to(s, peer, hello(seq));
	step(s, STEP_THREADS, 0);
}

static void
agent_seeds(void)
{
	Script		s = {0};

	/* Hello, an Exec, Close */
	open_session(&s, 0, 1);
	QUERY_SENT(&s);
	send_to(&s, 0, exec_frame(1, 2, "CREATE TABLE t (a int, b text)", (ExecOpts) {0}));
	serve(&s, 1);
	send_to(&s, 0, empty_body(1, 0, HYPERDIST__ENVELOPE__BODY_CLOSE));
	save("exec", &s);

	/* a Query with rows: 2 columns, 3 rows, credit 1 then more */
	open_session(&s, 0, 1);
	PARAMS_SENT(&s);
	decide(&s, 1, 1);			/* a SELECT */
	decide(&s, 5, 2, 0, 0, 1, 1);	/* 2 columns: names, types */
	decide(&s, 1, 3);			/* 3 rows */
	for (int r = 0; r < 3; r++)	/* not failing; "abc", NULL; not busy */
		decide(&s, 7, 0, 3, 'a', 'b', 'c', 254, 0);
	send_to(&s, 0, query_frame(1, 2, "SELECT a, b FROM t", (QueryOpts) {.credit = 1,
		.batch_bytes = 16}));
	send_to(&s, 0, credit_frame(1, 2, 4));
	save("query-rows", &s);

	/* a Query run as COPY: binary header, tuples, trailer */
	open_session(&s, 0, 1);
	PARAMS_SENT(&s);
	decide(&s, 1, 3);			/* COPY TO STDOUT */
	decide(&s, 2, 2, 2);		/* 2 columns, 2 rows */
	decide(&s, 2, 1, 0);		/* the header alone; not busy */
	decide(&s, 2, 0, 0);		/* the header's message */
	decide(&s, 6, 0, 2, 'h', 'i', 254, 0);
	decide(&s, 6, 0, 2, 'y', 'o', 254, 0);
	send_to(&s, 0, query_frame(1, 2, "SELECT * FROM t", (QueryOpts) {.credit = 4,
		.binary = true, .copy = true}));
	save("query-copy", &s);

	/* COPY FROM STDIN with the Exec's data */
	open_session(&s, 0, 1);
	QUERY_SENT(&s);
	decide(&s, 3, 4, 1, 0);		/* COPY FROM STDIN, 1 column; not busy */
	send_to(&s, 0, exec_frame(1, 2, "COPY t FROM STDIN", (ExecOpts) {.copy_data = "1\n2\n"}));
	serve(&s, 2);
	save("copy-in", &s);

	/* a Query blocked on credit, cancelled, then the next request */
	open_session(&s, 0, 1);
	PARAMS_SENT(&s);
	decide(&s, 4, 1, 1, 0, 0);	/* a SELECT: 1 column */
	decide(&s, 1, 6);			/* 300 rows */
	decide(&s, 4, 0, 2, '4', '2');
	CANCEL_SENT(&s);
	send_to(&s, 0, query_frame(1, 2, "SELECT g FROM generate_series(1, 300) g",
							   (QueryOpts) {0}));
	send_to(&s, 0, exec_frame(1, 3, "SELECT 1", (ExecOpts) {0}));
	send_to(&s, 0, exec_frame(1, 4, "SELECT 2", (ExecOpts) {0}));
	send_to(&s, 0, empty_body(1, 3, HYPERDIST__ENVELOPE__BODY_CANCEL));
	send_to(&s, 0, empty_body(1, 2, HYPERDIST__ENVELOPE__BODY_CANCEL));
	serve(&s, 2);
	step(&s, STEP_THREADS, 0);
	serve(&s, 2);
	save("cancel", &s);

	/* an error, then the notices a request asked for */
	open_session(&s, 0, 1);
	QUERY_SENT(&s);
	decide(&s, 1, 2);			/* an error: first of each field; not busy */
	decide(&s, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	PARAMS_SENT(&s);
	decide(&s, 2, 7, 7);		/* too many notices, then the command's result */
	send_to(&s, 0, exec_frame(1, 2, "SELECT 1/0", (ExecOpts) {0}));
	send_to(&s, 0, exec_frame(1, 3, "DO $$ BEGIN RAISE NOTICE 'x'; END $$",
							   (ExecOpts) {.notices = true, .nparams = 1}));
	serve(&s, 2);
	save("errors-notices", &s);

	/* a transaction: BEGIN, an error in it, ROLLBACK (txn_status follows) */
	open_session(&s, 0, 1);
	QUERY_SENT(&s);
	decide(&s, 3, 0, 4, 0);		/* a command: BEGIN; not busy */
	QUERY_SENT(&s);
	decide(&s, 1, 2);			/* an error */
	decide(&s, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	QUERY_SENT(&s);
	decide(&s, 3, 0, 6, 0);		/* ROLLBACK */
	send_to(&s, 0, exec_frame(1, 2, "BEGIN", (ExecOpts) {0}));
	send_to(&s, 0, exec_frame(1, 3, "SELECT 1/0", (ExecOpts) {0}));
	send_to(&s, 0, exec_frame(1, 4, "ROLLBACK", (ExecOpts) {0}));
	save("transaction", &s);

	/* text parameters: an empty one (protobuf-c leaves its data NULL) */
	open_session(&s, 0, 1);
	PARAMS_SENT(&s);
	send_to(&s, 0, exec_frame(1, 2, "SELECT $1::text, $2", (ExecOpts) {.nparams = 2,
		.empty_param = true}));
	save("empty-param", &s);

	/* the server refuses the connection, saying why (28P01) */
	THREAD_STARTS(&s);
	decide(&s, 5, 2, 1, 0, 0, 5);	/* fails after a step; 5 fragments: */
	decide(&s, 5, 0, 1, 4, 7, 8);	/* libpq's, FATAL, 28P01, message, DETAIL */
	send_to(&s, 0, hello(1));
	step(&s, STEP_THREADS, 0);
	save("connect-refused", &s);

	/* the server is not there: libpq's message alone (08001) */
	THREAD_STARTS(&s);
	decide(&s, 5, 3, 0, 0, 0, 1);	/* fails; 2 fragments */
	decide(&s, 2, 0, 11);
	send_to(&s, 0, hello(1));
	step(&s, STEP_THREADS, 0);
	save("connect-failed", &s);

	/* no thread yet when the clock passes the deadline; then it runs */
	THREAD_STARTS(&s);
	CONNECT_OK(&s);
	send_to(&s, 1, hello(1));
	step(&s, STEP_CLOCK, CLOCK_30S);
	step(&s, STEP_THREADS, 0);
	save("connect-timeout", &s);

	/* one connect thread: Hellos wait their turn, one is closed meanwhile */
	step(&s, STEP_SETTING, 3);	/* connect_threads 1 */
	THREAD_STARTS(&s);
	send_to(&s, 0, hello(1));
	send_to(&s, 0, hello(2));
	send_to(&s, 1, hello(3));
	CONNECT_OK(&s);
	THREAD_STARTS(&s);
	step(&s, STEP_THREADS, 1);
	CONNECT_OK(&s);
	THREAD_STARTS(&s);
	step(&s, STEP_THREADS, 1);
	step(&s, STEP_DISCONNECT, 1);
	CONNECT_OK(&s);
	step(&s, STEP_THREADS, 1);
	save("connect-queue", &s);

	/* two peers: one uses the other's session; an unconnected peer */
	open_session(&s, 0, 1);
	open_session(&s, 1, 1);
	THREAD_STARTS(&s);
	send_to(&s, 3, hello(1));
	serve(&s, 1);
	send_to(&s, 1, exec_frame(1, 2, "SELECT 1", (ExecOpts) {0}));
	send_to(&s, 0, empty_body(1, 3, HYPERDIST__ENVELOPE__BODY_PING));
	send_to(&s, 0, exec_frame(1, 4, "SELECT 1", (ExecOpts) {0}));
	save("peers", &s);

	/* a backend killed: its connection closes, the watch finds it gone */
	open_session(&s, 0, 1);
	open_session(&s, 1, 1);
	QUERY_SENT(&s);
	decide(&s, 3, 0, 4, 0);		/* BEGIN */
	send_to(&s, 0, exec_frame(1, 2, "BEGIN", (ExecOpts) {0}));
	step(&s, STEP_DISCONNECT, 0);
	step(&s, STEP_DISCONNECT, 1);
	step(&s, STEP_CLOCK, CLOCK_100MS);
	step(&s, STEP_RECONNECT, 1);
	step(&s, STEP_CLOCK, CLOCK_100MS);
	step(&s, STEP_CLOCK, CLOCK_1S);
	step(&s, STEP_CLOCK, CLOCK_10S);
	save("backend-gone", &s);

	/* a peer that reads nothing: replies park, its session pauses, resumes */
	open_session(&s, 0, 1);
	PARAMS_SENT(&s);
	decide(&s, 4, 1, 1, 0, 0);	/* a SELECT: 1 column */
	decide(&s, 1, 4);			/* 5 rows */
	for (int r = 0; r < 5; r++)
		decide(&s, 5, 0, 2, 'o', 'k', 0);
	step(&s, STEP_READING, 0 | (2 << 2) | (1 << 4));	/* peer 0: HWM 1 */
	step(&s, STEP_READING, 0);	/* peer 0 stops reading */
	send_to(&s, 0, query_frame(1, 2, "SELECT 'ok' FROM generate_series(1, 5)",
							   (QueryOpts) {.credit = 8, .batch_bytes = 1}));
	serve(&s, 3);
	step(&s, STEP_READING, 1 << 2);	/* reads again */
	serve(&s, 8);
	save("slow-reader", &s);

	/* a row too large for a frame: fragments for minor 3, 54000 for minor 2 */
	for (int minor = 2; minor <= 3; minor++)
	{
		THREAD_STARTS(&s);
		CONNECT_OK(&s);
		send_to(&s, 0, hello_minor(1, (uint32_t) minor));
		step(&s, STEP_THREADS, 0);
		PARAMS_SENT(&s);
		decide(&s, 6, 1, 2, 0, 0, 0, 0);	/* a SELECT: 2 columns */
		decide(&s, 1, 2);		/* 2 rows: "hi", "x"; a big value, NULL */
		decide(&s, 7, 0, 2, 'h', 'i', 1, 'x', 0);
		decide(&s, 4, 0, 253, 254, 0);
		send_to(&s, 0, query_frame(1, 2, "SELECT * FROM big", (QueryOpts) {.credit = 2,
			.batch_bytes = 16384}));
		send_to(&s, 0, credit_frame(1, 2, 8));
		send_to(&s, 0, credit_frame(1, 2, 64));
		save(minor == 3 ? "row-fragments" : "row-too-large", &s);
	}

	/* the queue is full: max_queued_requests 1 */
	open_session(&s, 0, 1);
	QUERY_SENT(&s);
	decide(&s, 2, 0, 2);		/* unflushed twice */
	step(&s, STEP_SETTING, 2);	/* max_queued_requests 1 */
	send_to(&s, 0, exec_frame(1, 2, "SELECT pg_sleep(1)", (ExecOpts) {0}));
	send_to(&s, 0, exec_frame(1, 3, "SELECT 3", (ExecOpts) {0}));
	send_to(&s, 0, exec_frame(1, 4, "SELECT 4", (ExecOpts) {0}));
	send_to(&s, 0, empty_body(1, 3, HYPERDIST__ENVELOPE__BODY_CANCEL));
	serve(&s, 3);
	save("queue-full", &s);

	/* frames the agent refuses */
	send_to(&s, 0, empty_body(0, 1, HYPERDIST__ENVELOPE__BODY_PING));
	send_from(&s, 1, empty_body(0, 2, HYPERDIST__ENVELOPE__BODY_PING), STEP_MULTIPART);
	send_to(&s, 2, (Frame) {.data = {0x08, 0x01, 0xff}, .len = 3});
	send_to(&s, 2, (Frame) {.len = 0});
	send_to(&s, 0, exec_frame(1, 2, "SELECT 1", (ExecOpts) {0}));
	send_to(&s, 0, credit_frame(0, 2, 1));
	send_from(&s, 0, credit_frame(0, 5, 1), STEP_OVERSIZED);
	send_from(&s, 0, hello(6), STEP_OVERSIZED);
	send_to(&s, 1, hello_oversized(7, true));
	send_to(&s, 1, hello_oversized(8, false));
	step(&s, STEP_SETTING, 0);	/* max_sessions 0 */
	send_to(&s, 0, hello(3));
	step(&s, STEP_SHUTDOWN, -1);
	send_to(&s, 0, hello(4));
	save("refused", &s);

	/* sending a request finds the connection lost (the next one waits) */
	open_session(&s, 0, 1);
	decide(&s, 1, 31);			/* PQsendQueryParams: lost */
	send_to(&s, 0, exec_frame(1, 2, "SELECT $1", (ExecOpts) {.nparams = 1}));
	send_to(&s, 0, exec_frame(1, 3, "SELECT 3", (ExecOpts) {0}));
	save("send-lost", &s);

	/* the connection is lost while idle, then requests get 08006 */
	open_session(&s, 0, 1);
	decide(&s, 1, 3);			/* PQconsumeInput: lost */
	serve(&s, 2);
	send_to(&s, 0, exec_frame(1, 2, "SELECT 1", (ExecOpts) {0}));
	step(&s, STEP_CLOCK, CLOCK_10S);
	save("lost", &s);
}

int
main(int argc, char **argv)
{
	char		path[1024];

	if (argc != 2)
	{
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	make_dir(outdir);
	snprintf(path, sizeof(path), "%s/fuzz_wire", outdir);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/fuzz_agent_request", outdir);
	make_dir(path);
	wire_seeds();
	agent_seeds();
	return 0;
}
