/* SPDX-License-Identifier: PostgreSQL */
/*
 * agent_client.c — a command-line client for hyperdist-agent, speaking
 * protocol v1 over a DEALER, for tests and debugging.
 *
 *   agent-client --endpoint tcp://127.0.0.1:5532 --server-key Z85
 *                --client-key-file client.key --db D --user U [--password P]
 *                STEP...
 *
 * Steps run in order over one connection; a session is opened (Hello) on
 * the first step that needs one.  Options may also appear between steps
 * and apply to the steps after them (e.g. "--binary query ...").  Each reply is printed as one line:
 *   HELLO_OK session=... epoch=... server=... agent=...
 *   COLUMNS a:23,b:25
 *   ROW 1|foo|NULL             (text format; binary fields print as \x...)
 *   DONE seq=N tag="SELECT 2" rows=2 batches=1 received=2 ms=N [txn=IDLE]
 *   ERROR seq=N sqlstate=57014 severity=ERROR message="..." [detail="..."] [txn=IN_ERROR]
 *     (txn: the data node session's transaction status, when the reply has one:
 *     IDLE, IN_TRANSACTION, IN_ERROR or UNKNOWN)
 *   NOTICE seq=N sqlstate=00000 severity=NOTICE message="..."  (the same fields)
 *   PONG epoch=... sessions=N
 *   TIMEOUT ...
 *
 * Steps:
 *   hello                  open the session now
 *   exec SQL               Exec and wait for its reply
 *   query SQL              Query and stream its rows (see --credit, --binary,
 *                          --copy, --batch-bytes, --count, --slow)
 *   send-exec SQL          send without waiting (see cancel, wait)
 *   send-query SQL
 *   cancel                 Cancel the last sent request
 *   credit N               grant the last sent Query N more batches
 *   peek N                 read the last sent Query's replies, returning no
 *                          credit, until N row batches came, then 300 ms
 *                          more; prints PEEK batches=M (all that came)
 *   wait                   wait for the last sent request's final reply
 *   ping                   Ping with session 0 (retried: survives reconnects)
 *   session-ping           Ping within the session
 *   close                  Close the session (no reply)
 *   sleep MS
 *   pause                  wait for a line on stdin
 *   expect STATE|ok        the last final reply must be that SQLSTATE (or
 *                          Done/Pong/HelloOk for "ok"); else exit 3
 *   garbage | truncated | empty | multipart | reply-msg | nul-sql |
 *   bad-version | bad-session | bad-epoch | oversized
 *                          send a bad frame; wait for the Error (oversized:
 *                          the agent disconnects instead, nothing comes back)
 *
 * --notices asks the agent to relay the data node's notices.  --minor N
 * sends protocol minor N in the Hello (default: this build's), e.g. 1 for
 * an access node that takes no rows in fragments.  A row that comes in
 * fragments is printed once joined; a fragment out of place prints
 * BAD_FRAGMENT and the request's replies are read on.
 * --password-bytes N sends a password of N bytes ('x' repeated), e.g. one
 * far above the agent's limit.
 *
 * Parameters for the next exec/query: --param TEXT, --param-int4 N (binary,
 * type int4), --param-bytea TEXT (binary, type bytea: the text's bytes),
 * --param-null; data for the next exec's COPY FROM STDIN:
 * --copy-data TEXT (backslash escapes \n and \t are expanded).
 *
 * Exit status: 0 ok, 1 usage/connection problem, 2 timeout, 3 failed expect.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "keys.h"
#include "wire.h"

typedef struct Options
{
	const char *endpoint;
	const char *server_key;
	const char *server_key_file;
	const char *client_key_file;
	const char *db;
	const char *user;
	const char *password;
	char	   *password_bytes; /* --password-bytes's password, owned */
	int			timeout_ms;
	uint32_t	credit;
	uint32_t	batch_bytes;
	int			binary;
	int			copy;			/* Query.copy */
	int			count_only;
	int			slow_ms;
	int			notices;		/* ask for notices (Exec/Query.notices) */
	int			minor;			/* Hello.minor */
	int			insecure;
	int			verbose;
	/* Parameters for the next exec/query (then cleared). */
	int			nparams;
	Hyperdist__Param params[64];
	Hyperdist__Param *param_ptrs[64];
	uint8_t		int4_values[64][4];
	char	   *copy_data;		/* for the next exec, or NULL */
} Options;

typedef struct Client
{
	Options		opt;
	void	   *ctx;
	void	   *sock;
	uint64_t	session;
	uint64_t	epoch;
	uint32_t	next_seq;
	uint32_t	last_sent;		/* seq of the last send-exec/send-query */
	int			last_kind;		/* 'e' or 'q' */
	HdBuf		row;			/* fragments of a row received so far */
	bool		in_row;			/* a row's first fragments came */
	char		last_state[8];	/* "ok" or the SQLSTATE of the last final reply */
} Client;

static void
die(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "agent-client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- socket ---------------------------------------------------------------- */

static void
setup_curve(Client *c)
{
	HdKeyPair	pair;
	char		server[HD_Z85_KEY_LEN + 1];
	char		err[512];

	if (c->opt.server_key)
		snprintf(server, sizeof(server), "%s", c->opt.server_key);
	else if (c->opt.server_key_file)
	{
		if (!hd_key_load_public(c->opt.server_key_file, server, err, sizeof(err)))
			die("%s", err);
	}
	else
		die("--server-key or --server-key-file is required (or --insecure)");
	if (!hd_key_valid(server))
		die("invalid server key \"%s\"", server);

	if (c->opt.client_key_file)
	{
		if (!hd_key_load_pair(c->opt.client_key_file, &pair, err, sizeof(err)))
			die("%s", err);
	}
	else if (zmq_curve_keypair(pair.public_key, pair.secret_key) != 0)
		die("zmq_curve_keypair failed");

	zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server, HD_Z85_KEY_LEN + 1);
	zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, pair.public_key, HD_Z85_KEY_LEN + 1);
	zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, pair.secret_key, HD_Z85_KEY_LEN + 1);
}

static void
client_connect(Client *c)
{
	uint8_t		rid[16];
	int			one = 1;
	int			zero = 0;
	int64_t		maxmsg = HD_MAX_REPLY_FRAME;

	c->ctx = zmq_ctx_new();
	c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
	/* A fixed routing id survives reconnects, as the access node's does. */
	if (getrandom(rid, sizeof(rid), 0) != (ssize_t) sizeof(rid))
		die("getrandom failed");
	rid[0] |= 1;				/* ids starting with 0 are reserved */
	zmq_setsockopt(c->sock, ZMQ_ROUTING_ID, rid, sizeof(rid));
	zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &one, sizeof(one));
	zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &c->opt.timeout_ms, sizeof(int));
	if (!c->opt.insecure)
		setup_curve(c);
	if (zmq_connect(c->sock, c->opt.endpoint) != 0)
		die("could not connect to %s: %s", c->opt.endpoint, zmq_strerror(zmq_errno()));
}

static int
send_bytes(Client *c, const void *data, size_t len, int flags)
{
	if (zmq_send(c->sock, data, len, flags) < 0)
	{
		printf("SEND_FAILED %s\n", zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

static void
envelope_init(Client *c, HdEnvelope *env, uint32_t seq)
{
	hyperdist__envelope__init(env);
	env->has_session = true;
	env->session = c->session;
	env->has_seq = true;
	env->seq = seq;
	env->has_epoch = true;
	env->epoch = c->epoch;
}

static int
send_env(Client *c, const HdEnvelope *env)
{
	size_t		len = hd_wire_size(env);
	uint8_t    *buf = malloc(len ? len : 1);
	int			rc;

	hd_wire_encode(env, buf);
	rc = send_bytes(c, buf, len, 0);
	free(buf);
	return rc;
}

/* Next reply within timeout_ms; NULL on timeout. */
static HdEnvelope *
recv_env(Client *c, int timeout_ms)
{
	int64_t		deadline = now_ms() + timeout_ms;

	for (;;)
	{
		zmq_pollitem_t item = {.socket = c->sock, .events = ZMQ_POLLIN};
		int64_t		left = deadline - now_ms();
		zmq_msg_t	m;
		HdEnvelope *env;
		const char *why;
		HdWireStatus st;

		if (left <= 0)
			return NULL;
		if (zmq_poll(&item, 1, (long) left) <= 0)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0)
		{
			zmq_msg_close(&m);
			continue;
		}
		st = hd_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), HD_MAX_REPLY_FRAME,
							NULL, &env, &why);
		zmq_msg_close(&m);
		if (st != HD_WIRE_OK)
		{
			printf("BAD_REPLY %s: %s\n", hd_wire_status_name(st), why ? why : "");
			continue;
		}
		return env;
	}
}

/* ---- printing ------------------------------------------------------------- */

static void
print_quoted(const char *name, const char *s)
{
	if (s == NULL)
		return;
	printf(" %s=\"", name);
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
	putchar('"');
}

/* " txn=STATUS" when the reply carries a transaction status. */
static void
print_txn(const HdEnvelope *env)
{
	static const char *const names[] = {"UNKNOWN", "IDLE", "IN_TRANSACTION", "IN_ERROR"};

	if (!env->has_txn_status)
		return;
	if ((unsigned) env->txn_status < sizeof(names) / sizeof(names[0]))
		printf(" txn=%s", names[env->txn_status]);
	else
		printf(" txn=%d", (int) env->txn_status);
}

static void
print_error_fields(const char *what, const HdEnvelope *env, const Hyperdist__Error *e)
{
	printf("%s seq=%u sqlstate=%s severity=%s", what, env->seq, e->sqlstate,
		   e->severity ? e->severity : "?");
	print_quoted("message", e->message);
	print_quoted("detail", e->detail);
	print_quoted("hint", e->hint);
	print_quoted("context", e->context);
	print_txn(env);
	putchar('\n');
}

static void
print_error(Client *c, const HdEnvelope *env)
{
	print_error_fields("ERROR", env, env->error);
	snprintf(c->last_state, sizeof(c->last_state), "%s", env->error->sqlstate);
}

static void
print_columns(const Hyperdist__RowDescription *d)
{
	printf("COLUMNS ");
	for (size_t i = 0; i < d->n_columns; i++)
		printf("%s%s:%u%s", i ? "," : "", d->columns[i]->name,
			   d->columns[i]->type_oid,
			   d->columns[i]->has_binary && d->columns[i]->binary ? ":b" : "");
	putchar('\n');
}

static void
print_rows(const uint8_t *data, size_t len, int binary)
{
	HdBatchReader r;
	uint16_t	nfields;
	bool		bad;

	hd_batch_reader_init(&r, data, len);
	while (hd_batch_next_row(&r, &nfields, &bad))
	{
		fputs("ROW ", stdout);
		for (uint16_t i = 0; i < nfields; i++)
		{
			const uint8_t *d;
			int32_t		len;

			if (!hd_batch_next_field(&r, &d, &len))
			{
				puts("<truncated>");
				return;
			}
			if (i)
				putchar('|');
			if (d == NULL)
				fputs("NULL", stdout);
			else if (binary)
			{
				fputs("\\x", stdout);
				for (int32_t j = 0; j < len; j++)
					printf("%02x", d[j]);
			}
			else
				fwrite(d, 1, len, stdout);
		}
		putchar('\n');
	}
}

/*
 * Takes a RowBatch: prints its rows, or joins a row's fragments and prints
 * the row after the last one.  Fragments must come in one run per row and
 * join into exactly one tuple.
 */
static void
take_batch(Client *c, const Hyperdist__RowBatch *b)
{
	const char *why;

	if (!(b->has_fragment && b->fragment))
	{
		if (c->in_row)
			printf("BAD_FRAGMENT a whole batch came inside a fragmented row\n");
		c->in_row = false;
		hd_buf_reset(&c->row);
		if (!c->opt.count_only)
			print_rows(b->data.data, b->data.len, c->opt.binary);
		return;
	}
	if (b->nrows == 1 && !c->in_row)
		printf("BAD_FRAGMENT a row's last fragment came without its first\n");
	if (!hd_buf_append(&c->row, b->data.data, b->data.len))
		die("out of memory joining a row");
	c->in_row = b->nrows == 0;
	if (c->in_row)
		return;
	why = hd_batch_check(c->row.data, c->row.len, 1, 0);
	if (why != NULL)
		printf("BAD_FRAGMENT %s\n", why);
	else if (!c->opt.count_only)
		print_rows(c->row.data, c->row.len, c->opt.binary);
	hd_buf_reset(&c->row);
}

/* ---- session and requests --------------------------------------------------- */

/* Waits for a reply to seq (others are reported with -v and skipped). */
static HdEnvelope *
wait_for(Client *c, uint32_t seq, const char *what)
{
	for (;;)
	{
		HdEnvelope *env = recv_env(c, c->opt.timeout_ms);

		if (env == NULL)
		{
			printf("TIMEOUT waiting for %s\n", what);
			fflush(stdout);
			exit(2);
		}
		if (env->seq == seq)
			return env;
		if (c->opt.verbose)
			fprintf(stderr, "(skipping %s seq %u)\n",
					hd_wire_body_name(env->body_case), env->seq);
		hd_wire_free(env, NULL);
	}
}

static void
send_hello(Client *c, uint32_t major)
{
	HdEnvelope	env;
	Hyperdist__Hello h = HYPERDIST__HELLO__INIT;

	h.has_major = h.has_minor = true;
	h.major = major;
	h.minor = (uint32_t) c->opt.minor;
	h.dbname = (char *) c->opt.db;
	h.user = (char *) c->opt.user;
	h.password = (char *) c->opt.password;
	h.application_name = "agent-client";
	h.origin = "agent-client";
	c->session = 0;
	envelope_init(c, &env, ++c->next_seq);
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	send_env(c, &env);
}

static void
do_hello(Client *c)
{
	HdEnvelope *env;

	if (c->opt.db == NULL || c->opt.user == NULL)
		die("--db and --user are required to open a session");
	send_hello(c, HD_PROTO_MAJOR);
	env = wait_for(c, c->next_seq, "HelloOk");
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_HELLO_OK)
	{
		c->session = env->hello_ok->session;
		c->epoch = env->hello_ok->epoch;
		printf("HELLO_OK session=%016" PRIx64 " epoch=%016" PRIx64 " server=%s agent=%s\n",
			   c->session, c->epoch, env->hello_ok->server_version,
			   env->hello_ok->agent_version);
		strcpy(c->last_state, "ok");
	}
	else if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
		print_error(c, env);
	else
		printf("UNEXPECTED %s\n", hd_wire_body_name(env->body_case));
	hd_wire_free(env, NULL);
}

static void
ensure_session(Client *c)
{
	if (c->session == 0)
		do_hello(c);
	if (c->session == 0)
		exit(1);
}

static uint32_t
send_request(Client *c, int kind, const char *sql)
{
	HdEnvelope	env;
	Hyperdist__Exec e = HYPERDIST__EXEC__INIT;
	Hyperdist__Query q = HYPERDIST__QUERY__INIT;
	uint32_t	seq = ++c->next_seq;

	envelope_init(c, &env, seq);
	if (kind == 'e')
	{
		e.has_sql = true;
		e.sql.data = (uint8_t *) sql;
		e.sql.len = strlen(sql);
		e.n_params = c->opt.nparams;
		e.params = c->opt.param_ptrs;
		if (c->opt.copy_data != NULL)
		{
			e.has_copy_data = true;
			e.copy_data.data = (uint8_t *) c->opt.copy_data;
			e.copy_data.len = strlen(c->opt.copy_data);
		}
		e.has_notices = c->opt.notices;
		e.notices = c->opt.notices;
		env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
		env.exec = &e;
	}
	else
	{
		q.has_sql = true;
		q.sql.data = (uint8_t *) sql;
		q.sql.len = strlen(sql);
		q.n_params = c->opt.nparams;
		q.params = c->opt.param_ptrs;
		q.has_binary = true;
		q.binary = c->opt.binary;
		q.has_copy = c->opt.copy;
		q.copy = c->opt.copy;
		q.has_notices = c->opt.notices;
		q.notices = c->opt.notices;
		q.has_credit = true;
		q.credit = c->opt.credit;
		if (c->opt.batch_bytes)
		{
			q.has_batch_bytes = true;
			q.batch_bytes = c->opt.batch_bytes;
		}
		env.body_case = HYPERDIST__ENVELOPE__BODY_QUERY;
		env.query = &q;
	}
	send_env(c, &env);
	c->opt.nparams = 0;
	free(c->opt.copy_data);
	c->opt.copy_data = NULL;
	c->last_sent = seq;
	c->last_kind = kind;
	return seq;
}

static void
send_control(Client *c, uint32_t seq, Hyperdist__Envelope__BodyCase body, uint32_t n)
{
	HdEnvelope	env;
	Hyperdist__Credit credit = HYPERDIST__CREDIT__INIT;
	Hyperdist__Cancel cancel = HYPERDIST__CANCEL__INIT;
	Hyperdist__Close close = HYPERDIST__CLOSE__INIT;

	envelope_init(c, &env, seq);
	env.body_case = body;
	if (body == HYPERDIST__ENVELOPE__BODY_CREDIT)
	{
		credit.has_batches = true;
		credit.batches = n;
		env.credit = &credit;
	}
	else if (body == HYPERDIST__ENVELOPE__BODY_CANCEL)
		env.cancel = &cancel;
	else
		env.close = &close;
	send_env(c, &env);
}

/*
 * Reads a request's replies until Done or Error, returning credit as
 * batches are consumed (half the window at a time).
 */
static void
finish_request(Client *c, uint32_t seq, int kind)
{
	uint64_t	received = 0;
	uint32_t	batches = 0;
	uint32_t	consumed = 0;
	uint32_t	refill = c->opt.credit / 2 ? c->opt.credit / 2 : 1;
	int64_t		start = now_ms();

	for (;;)
	{
		HdEnvelope *env = wait_for(c, seq, kind == 'q' ? "query reply" : "exec reply");

		switch (env->body_case)
		{
			case HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION:
				if (!c->opt.count_only)
					print_columns(env->row_description);
				break;
			case HYPERDIST__ENVELOPE__BODY_ROW_BATCH:
				batches++;
				received += env->row_batch->nrows;
				take_batch(c, env->row_batch);
				if (c->opt.slow_ms)
					usleep(c->opt.slow_ms * 1000);
				if (++consumed >= refill)
				{
					send_control(c, seq, HYPERDIST__ENVELOPE__BODY_CREDIT, consumed);
					consumed = 0;
				}
				break;
			case HYPERDIST__ENVELOPE__BODY_DONE:
				if (c->in_row)
					printf("BAD_FRAGMENT the query ended inside a fragmented row\n");
				printf("DONE seq=%u tag=\"%s\" rows=%" PRIu64, seq,
					   env->done->command_tag ? env->done->command_tag : "",
					   env->done->rows);
				if (kind == 'q')
					printf(" batches=%u received=%" PRIu64, batches, received);
				printf(" ms=%" PRId64, now_ms() - start);
				print_txn(env);
				putchar('\n');
				strcpy(c->last_state, "ok");
				hd_wire_free(env, NULL);
				return;
			case HYPERDIST__ENVELOPE__BODY_NOTICE:
				print_error_fields("NOTICE", env, env->notice);
				break;
			case HYPERDIST__ENVELOPE__BODY_ERROR:
				c->in_row = false;
				hd_buf_reset(&c->row);
				print_error(c, env);
				if (kind == 'q')
					printf("(after batches=%u received=%" PRIu64 " ms=%" PRId64 ")\n",
						   batches, received, now_ms() - start);
				hd_wire_free(env, NULL);
				return;
			default:
				printf("UNEXPECTED %s\n", hd_wire_body_name(env->body_case));
				break;
		}
		hd_wire_free(env, NULL);
		fflush(stdout);
	}
}

/*
 * Reads the last sent Query's replies, returning no credit, until n
 * RowBatch messages came (or the timeout passed), then 300 ms more, and
 * prints how many came: no more than the credit the agent had, when it
 * respects credit.  (A slow machine can only hide an excess, never show
 * one that is not there.)
 */
static void
do_peek(Client *c, uint32_t n)
{
	int64_t		deadline = now_ms() + c->opt.timeout_ms;
	uint32_t	batches = 0;
	HdEnvelope *env;

	while ((env = recv_env(c, (int) (deadline - now_ms()))) != NULL)
	{
		if (env->seq == c->last_sent &&
			env->body_case == HYPERDIST__ENVELOPE__BODY_ROW_BATCH)
		{
			if (++batches == n)
				deadline = now_ms() + 300;
			take_batch(c, env->row_batch);
		}
		else if (env->seq == c->last_sent &&
				 env->body_case != HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION)
			printf("UNEXPECTED %s while peeking\n", hd_wire_body_name(env->body_case));
		hd_wire_free(env, NULL);
	}
	printf("PEEK batches=%u\n", batches);
}

static void
do_ping(Client *c, bool in_session)
{
	HdEnvelope	env;
	Hyperdist__Ping ping = HYPERDIST__PING__INIT;
	uint64_t	save = c->session;

	/* Retried, so a ping right after a forced disconnect still gets through. */
	for (int attempt = 0; attempt < 5; attempt++)
	{
		uint32_t	seq = ++c->next_seq;
		HdEnvelope *reply;
		int64_t		deadline = now_ms() + c->opt.timeout_ms / 5 + 1;

		if (!in_session)
			c->session = 0;
		envelope_init(c, &env, seq);
		c->session = save;
		env.body_case = HYPERDIST__ENVELOPE__BODY_PING;
		env.ping = &ping;
		if (send_env(c, &env) != 0)
			continue;
		while ((reply = recv_env(c, (int) (deadline - now_ms()))) != NULL)
		{
			if (reply->seq != seq)
			{
				hd_wire_free(reply, NULL);
				continue;
			}
			if (reply->body_case == HYPERDIST__ENVELOPE__BODY_PONG)
			{
				printf("PONG epoch=%016" PRIx64 " sessions=%u\n",
					   reply->pong->epoch, reply->pong->sessions);
				strcpy(c->last_state, "ok");
			}
			else if (reply->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
				print_error(c, reply);
			hd_wire_free(reply, NULL);
			return;
		}
	}
	printf("TIMEOUT waiting for Pong\n");
	fflush(stdout);
	exit(2);
}

/* Waits for the Error a bad frame earns (any seq). */
static void
expect_error_reply(Client *c, const char *what)
{
	for (;;)
	{
		HdEnvelope *env = recv_env(c, c->opt.timeout_ms);

		if (env == NULL)
		{
			printf("TIMEOUT waiting for the Error to %s\n", what);
			fflush(stdout);
			exit(2);
		}
		if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
		{
			print_error(c, env);
			hd_wire_free(env, NULL);
			return;
		}
		hd_wire_free(env, NULL);
	}
}

/* ---- bad frames -------------------------------------------------------------- */

static void
send_bad(Client *c, const char *kind)
{
	uint8_t		buf[256];

	if (strcmp(kind, "garbage") == 0)
	{
		/* Field 1 as a length-delimited field of absurd length: not protobuf. */
		memcpy(buf, "\x0a\xff\xff\xff\xff\x0f garbage", 14);
		send_bytes(c, buf, 14, 0);
	}
	else if (strcmp(kind, "empty") == 0)
		send_bytes(c, "", 0, 0);
	else if (strcmp(kind, "multipart") == 0)
	{
		send_bytes(c, "a", 1, ZMQ_SNDMORE);
		send_bytes(c, "b", 1, 0);
	}
	else if (strcmp(kind, "truncated") == 0 || strcmp(kind, "nul-sql") == 0 ||
			 strcmp(kind, "reply-msg") == 0)
	{
		HdEnvelope	env;
		Hyperdist__Exec e = HYPERDIST__EXEC__INIT;
		Hyperdist__Done d = HYPERDIST__DONE__INIT;
		static const char sql[] = "SELECT 'a long enough statement'\0;";
		size_t		len;

		envelope_init(c, &env, ++c->next_seq);
		if (strcmp(kind, "reply-msg") == 0)
		{
			env.body_case = HYPERDIST__ENVELOPE__BODY_DONE;
			env.done = &d;
		}
		else
		{
			e.has_sql = true;
			e.sql.data = (uint8_t *) sql;
			e.sql.len = sizeof(sql) - 1;	/* includes the NUL */
			env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
			env.exec = &e;
		}
		len = hd_wire_encode(&env, buf);
		if (strcmp(kind, "truncated") == 0)
			len -= 10;
		send_bytes(c, buf, len, 0);
	}
	else if (strcmp(kind, "bad-version") == 0)
	{
		send_hello(c, HD_PROTO_MAJOR + 1);
	}
	else if (strcmp(kind, "bad-session") == 0 || strcmp(kind, "bad-epoch") == 0)
	{
		uint64_t	session = c->session;
		uint64_t	epoch = c->epoch;

		if (strcmp(kind, "bad-session") == 0)
			c->session ^= 1;
		else
			c->epoch ^= 1;
		send_request(c, 'e', "SELECT 1");
		c->session = session;
		c->epoch = epoch;
	}
	else if (strcmp(kind, "oversized") == 0)
	{
		size_t		n = HD_MAX_REQUEST_FRAME + 1;
		char	   *big = calloc(1, n);

		send_bytes(c, big, n, 0);
		free(big);
		printf("SENT oversized %zu bytes\n", n);
		return;
	}
	else
		die("unknown step \"%s\"", kind);
	expect_error_reply(c, kind);
}

/* ---- main -------------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
			"usage: agent-client --endpoint E [--server-key Z85 | --server-key-file F]\n"
			"         [--client-key-file F] [--insecure] [--db D] [--user U]\n"
			"         [--password P | --password-bytes N]\n"
			"         [--timeout MS] [--credit N] [--batch-bytes N] [--binary] [--copy] [--count]\n"
			"         [--slow MS] [--notices] [--minor N] [--text] [-v] STEP...\n"
			"         (options may also precede any step)\n"
			"         [--param TEXT | --param-int4 N | --param-bytea TEXT | --param-null]...\n"
			"         before exec/query\n"
			"         [--copy-data TEXT] before exec\n"
			"steps: hello | exec SQL | query SQL | send-exec SQL | send-query SQL | cancel |\n"
			"       credit N | peek N |\n"
			"       wait | ping | session-ping | close | sleep MS | pause | expect STATE|ok |\n"
			"       garbage | truncated | empty | multipart | reply-msg | nul-sql |\n"
			"       bad-version | bad-session | bad-epoch | oversized\n");
	exit(1);
}

/* Applies the option at argv[*i] (and its value); false if it is none. */
static bool
apply_option(Options *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;

#define ARG(name, field) \
	if (strcmp(a, name) == 0) { if (!v) usage(); field = v; (*i)++; return true; }
#define INTARG(name, field) \
	if (strcmp(a, name) == 0) { if (!v) usage(); field = atoi(v); (*i)++; return true; }
	ARG("--endpoint", o->endpoint);
	ARG("--server-key", o->server_key);
	ARG("--server-key-file", o->server_key_file);
	ARG("--client-key-file", o->client_key_file);
	ARG("--db", o->db);
	ARG("--user", o->user);
	ARG("--password", o->password);
	INTARG("--timeout", o->timeout_ms);
	INTARG("--credit", o->credit);
	INTARG("--batch-bytes", o->batch_bytes);
	INTARG("--slow", o->slow_ms);
	INTARG("--minor", o->minor);
#undef ARG
#undef INTARG
	if ((strcmp(a, "--param") == 0 || strcmp(a, "--param-int4") == 0 ||
		 strcmp(a, "--param-bytea") == 0) && v)
	{
		Hyperdist__Param *p = &o->params[o->nparams];

		if (o->nparams == 64)
			die("too many parameters");
		hyperdist__param__init(p);
		p->has_value = true;
		if (strcmp(a, "--param-int4") == 0)
		{
			/* Binary int4, type 23: the send/recv format is big-endian. */
			uint32_t	n = (uint32_t) atoi(v);
			uint8_t    *b = o->int4_values[o->nparams];

			b[0] = n >> 24;
			b[1] = n >> 16;
			b[2] = n >> 8;
			b[3] = n;
			p->has_type_oid = p->has_binary = true;
			p->type_oid = 23;
			p->binary = true;
			p->value.data = b;
			p->value.len = 4;
		}
		else
		{
			p->value.data = (uint8_t *) v;
			p->value.len = strlen(v);
			if (strcmp(a, "--param-bytea") == 0)
			{
				/* Binary bytea, type 17: the bytes as they are. */
				p->has_type_oid = p->has_binary = true;
				p->type_oid = 17;
				p->binary = true;
			}
		}
		o->param_ptrs[o->nparams++] = p;
		(*i)++;
		return true;
	}
	if (strcmp(a, "--password-bytes") == 0 && v)
	{
		size_t		n = strtoul(v, NULL, 10);
		char	   *password = malloc(n + 1);

		if (password == NULL)
			die("out of memory");
		memset(password, 'x', n);
		password[n] = '\0';
		free(o->password_bytes);
		o->password = o->password_bytes = password;
		(*i)++;
		return true;
	}
	if (strcmp(a, "--copy-data") == 0 && v)
	{
		char	   *out;

		free(o->copy_data);
		out = o->copy_data = strdup(v);
		if (out == NULL)
			die("out of memory");

		/* "\n" and "\t" as the characters, so a shell argument holds rows */
		for (const char *in = v; *in; in++)
		{
			if (in[0] == '\\' && (in[1] == 'n' || in[1] == 't'))
				*out++ = *++in == 'n' ? '\n' : '\t';
			else
				*out++ = *in;
		}
		*out = '\0';
		(*i)++;
		return true;
	}
	if (strcmp(a, "--param-null") == 0)
	{
		if (o->nparams == 64)
			die("too many parameters");
		hyperdist__param__init(&o->params[o->nparams]);
		o->param_ptrs[o->nparams] = &o->params[o->nparams];
		o->nparams++;
		return true;
	}
	if (strcmp(a, "--binary") == 0)
		o->binary = 1;
	else if (strcmp(a, "--text") == 0)
		o->binary = 0;
	else if (strcmp(a, "--copy") == 0)
		o->copy = 1;
	else if (strcmp(a, "--notices") == 0)
		o->notices = 1;
	else if (strcmp(a, "--count") == 0)
		o->count_only = 1;
	else if (strcmp(a, "--insecure") == 0)
		o->insecure = 1;
	else if (strcmp(a, "-v") == 0)
		o->verbose = 1;
	else if (strcmp(a, "--help") == 0)
		usage();
	else
		return false;
	return true;
}

/* Leading options; returns the index of the first step. */
static int
parse_options(Options *o, int argc, char **argv)
{
	int			i;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 10000;
	o->credit = 4;
	o->minor = HD_PROTO_MINOR;
	for (i = 1; i < argc && apply_option(o, argc, argv, &i); i++)
		;
	if (o->endpoint == NULL || i >= argc)
		usage();
	return i;
}

static const char *
need_arg(int argc, char **argv, int i)
{
	if (i >= argc)
		die("step \"%s\" needs an argument", argv[i - 1]);
	return argv[i];
}

int
main(int argc, char **argv)
{
	Client		c;
	int			i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&c, 0, sizeof(c));
	hd_buf_init(&c.row);
	i = parse_options(&c.opt, argc, argv);
	client_connect(&c);

	for (; i < argc; i++)
	{
		const char *step = argv[i];

		/* Options between steps apply to the steps after them. */
		if (strncmp(step, "--", 2) == 0 || strcmp(step, "-v") == 0)
		{
			if (!apply_option(&c.opt, argc, argv, &i))
				die("unknown option \"%s\"", step);
		}
		else if (strcmp(step, "hello") == 0)
			do_hello(&c);
		else if (strcmp(step, "exec") == 0 || strcmp(step, "query") == 0)
		{
			const char *sql = need_arg(argc, argv, ++i);
			int			kind = step[0] == 'e' ? 'e' : 'q';

			ensure_session(&c);
			finish_request(&c, send_request(&c, kind, sql), kind);
		}
		else if (strcmp(step, "send-exec") == 0 || strcmp(step, "send-query") == 0)
		{
			const char *sql = need_arg(argc, argv, ++i);

			ensure_session(&c);
			printf("SENT seq=%u\n", send_request(&c, step[5] == 'e' ? 'e' : 'q', sql));
		}
		else if (strcmp(step, "cancel") == 0)
			send_control(&c, c.last_sent, HYPERDIST__ENVELOPE__BODY_CANCEL, 0);
		else if (strcmp(step, "credit") == 0)
			send_control(&c, c.last_sent, HYPERDIST__ENVELOPE__BODY_CREDIT,
						 (uint32_t) atoi(need_arg(argc, argv, ++i)));
		else if (strcmp(step, "peek") == 0)
			do_peek(&c, (uint32_t) atoi(need_arg(argc, argv, ++i)));
		else if (strcmp(step, "wait") == 0)
			finish_request(&c, c.last_sent, c.last_kind);
		else if (strcmp(step, "ping") == 0)
			do_ping(&c, false);
		else if (strcmp(step, "session-ping") == 0)
			do_ping(&c, true);
		else if (strcmp(step, "close") == 0)
		{
			send_control(&c, ++c.next_seq, HYPERDIST__ENVELOPE__BODY_CLOSE, 0);
			printf("CLOSED\n");
		}
		else if (strcmp(step, "sleep") == 0)
			usleep(atoi(need_arg(argc, argv, ++i)) * 1000);
		else if (strcmp(step, "pause") == 0)
		{
			char		line[64];

			printf("PAUSED\n");
			fflush(stdout);
			if (fgets(line, sizeof(line), stdin) == NULL)
				clearerr(stdin);
		}
		else if (strcmp(step, "expect") == 0)
		{
			const char *want = need_arg(argc, argv, ++i);

			if (strcmp(want, c.last_state) != 0)
			{
				printf("EXPECT_FAILED wanted %s, got %s\n", want,
					   c.last_state[0] ? c.last_state : "nothing");
				exit(3);
			}
		}
		else
		{
			if (strncmp(step, "bad-", 4) == 0 && strcmp(step, "bad-version") != 0)
				ensure_session(&c);
			send_bad(&c, step);
		}
		fflush(stdout);
	}
	zmq_close(c.sock);
	zmq_ctx_term(c.ctx);
	/* freed so that LeakSanitizer's report lists only real leaks */
	free(c.opt.password_bytes);
	hd_buf_free(&c.row);
	return 0;
}
