/* SPDX-License-Identifier: PostgreSQL */
/*
 * fake_libpq.c — the libpq functions hyperdist-agent calls, played in
 * memory from the fuzz input (see fake_libpq.h): connections, queries,
 * COPY, cancels and conninfo.  The results they return are
 * fake_pgresult.c's.
 *
 * The server it plays keeps libpq's contract, so that everything the
 * agent does wrong shows: results come one statement after another and
 * end with NULL; in single-row mode rows come as PGRES_SINGLE_TUPLE
 * results, then a PGRES_TUPLES_OK without rows; a COPY TO STDOUT run as
 * "COPY (...) TO STDOUT (FORMAT binary)" sends the binary header, one
 * tuple per message and the trailer, all tuples with the result's column
 * count; an error ends the query; a lost connection gives one error
 * result without SQLSTATE, then NULL, and CONNECTION_BAD.
 *
 * To fake a function the agent starts calling, add it here (a PGresult
 * accessor: to fake_pgresult.c) with the real signature (libpq-fe.h) and
 * take its decisions with draw(): a decision of 0, which is what an
 * exhausted input gives, must mean "the usual thing happens".
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_libpq_int.h"
#include "session.h"			/* HD_MAX_NOTICES */

FuzzInput  *fake_pq_input;
static int	open_connections;
static int	last_conn_id;
static int	socket_fd = -1;		/* every connection's "socket" */
static PGconn *open_list;
static FakePqQueryHook query_hook;

void
fake_pq_attach(FuzzInput *in)
{
	fake_pq_input = in;
	fake_pq_big_left = BIG_VALUES;
}

void
fake_pq_on_query(FakePqQueryHook hook)
{
	query_hook = hook;
}

int
fake_pq_open_connections(void)
{
	return open_connections;
}

static char *
fasprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	return p;
}

/* Reads n bytes the way libpq would, so that ASan checks the caller's buffer. */
static unsigned
touch(const char *p, size_t n)
{
	unsigned	sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (unsigned char) p[i];
	return sum;
}

/*
 * A message: canned, from the input, or (rarely) longer than the agent
 * relays, in two-byte UTF-8 characters so that cutting it must mind them
 * (with one byte more or not, the cut falls inside a character or not).
 */
static char *
draw_message(const char *const *canned, unsigned n)
{
	enum
	{
		LONG_CHARS = 17 * 1024	/* 34 kB */
	};
	static char *long_text;
	char	   *text;

	if (draw(64) != 63)
		return draw_string(canned, n);
	if (long_text == NULL)
	{
		long_text = fmalloc(2 * LONG_CHARS + 2);
		for (int i = 0; i < LONG_CHARS; i++)
			memcpy(long_text + 2 * i, "\xc3\xa9", 2);	/* é */
		long_text[2 * LONG_CHARS] = '!';
	}
	text = fstrdup(long_text);
	if (draw(2))
		text[2 * LONG_CHARS] = '\0';
	return text;
}

/*
 * Messages holding a big value use buffers kept for the next ones: fresh
 * memory of that size costs more than the rest of an input (page faults).
 * PQfreemem gives them back.
 */
#define BIG_BUFFERS		4
#define BIG_BUFFER_SIZE	((size_t) HUGE_VALUE + 64 * 1024)

static struct
{
	char	   *data;
	bool		in_use;
}			big_buffers[BIG_BUFFERS];

static char *
take_big_buffer(void)
{
	for (int i = 0; i < BIG_BUFFERS; i++)
	{
		if (big_buffers[i].in_use)
			continue;
		if (big_buffers[i].data == NULL)
			big_buffers[i].data = fmalloc(BIG_BUFFER_SIZE);
		big_buffers[i].in_use = true;
		return big_buffers[i].data;
	}
	return NULL;
}

int
fake_pq_buffers_in_use(void)
{
	int			n = 0;

	for (int i = 0; i < BIG_BUFFERS; i++)
		n += big_buffers[i].in_use;
	return n;
}

/* Whether ptr was a big buffer, now free again. */
static bool
give_back_big_buffer(void *ptr)
{
	for (int i = 0; i < BIG_BUFFERS; i++)
	{
		if (big_buffers[i].data == ptr && ptr != NULL)
		{
			if (!big_buffers[i].in_use)
				misuse("freed a COPY buffer twice");
			big_buffers[i].in_use = false;
			return true;
		}
	}
	return false;
}

void
PQfreemem(void *ptr)
{
	if (!give_back_big_buffer(ptr))
		free(ptr);
}

/* ---- connections ------------------------------------------------------- */

typedef enum QueryPhase
{
	PHASE_IDLE,					/* no query */
	PHASE_NEXT,					/* between statements */
	PHASE_ROWS,					/* returning a statement's rows */
	PHASE_COPY_OUT,
	PHASE_COPY_IN,
	PHASE_LOST					/* the connection died during the query */
} QueryPhase;

struct pg_conn
{
	int			id;
	ConnStatusType status;
	int			connect_steps;	/* PQconnectPoll calls before the outcome */
	bool		connect_fails;
	bool		nonblocking_fails;
	bool		used_password;	/* the server asked for one */
	uint64_t	tag;			/* fake_pq_tag's */
	struct pg_conn *next_open;	/* the list of open connections */
	char	   *errmsg;
	char	   *server_version;
	PQnoticeReceiver receiver;
	void	   *receiver_arg;
	PGVerbosity verbosity;
	bool		nonblocking;
	PGTransactionStatusType txn;	/* between queries */
	PGnotify   *notifies;

	/* the query in progress */
	QueryPhase	phase;
	bool		results_started;
	bool		single_row;
	bool		binary;			/* results in binary format */
	bool		copy_binary;	/* the agent's COPY (...) TO STDOUT (FORMAT binary) */
	int			statements_left;
	int			busy;			/* PQisBusy is true for this many PQconsumeInput */
	int			unflushed;		/* PQflush returns 1 this many times */
	bool		cancelled;		/* a cancel reached the server */
	bool		lost_reported;
	PGresult   *shape;			/* columns of the rows or tuples being sent */
	unsigned	rows_left;
	unsigned	rows_sent;
	bool		header_sent;
	bool		header_alone;
	bool		trailer_sent;
	bool		copy_finished;	/* PQgetCopyData returned -1 */
	bool		copy_failed;	/* ... because of a cancel */
	long		copy_in_lines;
	bool		copy_in_ended;
	char	   *copy_in_error;
};

static void
set_error(PGconn *conn, char *msg)
{
	free(conn->errmsg);
	conn->errmsg = msg;
}

/* A verbose connection error built from fragments libpq and the server use. */
static char *
draw_connect_error(void)
{
	static const char *const fragments[] = {
		"connection to server at \"127.0.0.1\", port 5432 failed: ",
		"FATAL:  ", "ERROR:  ", "PANIC:  ", "28P01: ", "3D000: ", "53300: ",
		"password authentication failed for user \"alice\"",
		"\nDETAIL:  ", "\nHINT:  ", "\n", "Connection refused",
	};
	size_t		cap = 64;
	size_t		len = 0;
	char	   *text = fmalloc(cap);
	unsigned	pieces = 1 + draw(8);

	for (unsigned i = 0; i < pieces; i++)
	{
		char	   *piece = DRAW_STRING(fragments);
		size_t		n = strlen(piece);

		if (len + n + 1 > cap)
		{
			cap = (len + n + 1) * 2;
			text = realloc(text, cap);
			if (text == NULL)
				abort();
		}
		memcpy(text + len, piece, n + 1);
		len += n;
		free(piece);
	}
	return text;
}

static PGconn *
fake_connect_start(const char *const *keywords, const char *const *values)
{
	static const char *const versions[] = {"15.6", "15.6 (Debian 15.6-0+deb12u1)", ""};
	PGconn	   *conn;
	unsigned	outcome;

	/* Read the parameters as libpq would (ASan checks they are strings). */
	for (int i = 0; keywords[i]; i++)
	{
		touch(keywords[i], strlen(keywords[i]));
		if (values[i])
			touch(values[i], strlen(values[i]));
	}

	/*
	 * The socket a connect thread polls until PQconnectPoll is done: one
	 * that is always ready (when a connection completes is the harness's
	 * choice: when it runs the thread).
	 */
	if (socket_fd < 0 && (socket_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		abort();
	outcome = draw(8);
	if (outcome == 7)
		return NULL;			/* out of memory */
	conn = fmalloc(sizeof(PGconn));
	conn->id = ++last_conn_id;
	conn->status = CONNECTION_STARTED;
	conn->connect_steps = (int) draw(4);
	conn->txn = PQTRANS_IDLE;
	conn->server_version = DRAW_STRING(versions);
	conn->used_password = draw(8) != 7;
	switch (outcome)
	{
		case 1:					/* an invalid option: bad at once */
			conn->status = CONNECTION_BAD;
			set_error(conn, draw_connect_error());
			break;
		case 2:					/* the server refuses */
		case 3:
			conn->connect_fails = true;
			set_error(conn, draw_connect_error());
			break;
		case 4:
			conn->nonblocking_fails = true;
			break;
		case 5:					/* connect_timeout passes: libpq's own error */
			conn->connect_fails = true;
			set_error(conn, fstrdup("timeout expired\n"));
			break;
	}
	open_connections++;
	conn->next_open = open_list;
	open_list = conn;
	return conn;
}

PGconn *
PQconnectStartParams(const char *const *keywords, const char *const *values,
					 int expand_dbname)
{
	return fake_connect_start(keywords, values);
}

PostgresPollingStatusType
PQconnectPoll(PGconn *conn)
{
	if (conn == NULL || conn->status == CONNECTION_BAD)
		return PGRES_POLLING_FAILED;
	if (conn->status == CONNECTION_OK)
		return PGRES_POLLING_OK;
	if (conn->connect_steps > 0)
	{
		conn->connect_steps--;
		return conn->connect_steps % 2 ? PGRES_POLLING_WRITING : PGRES_POLLING_READING;
	}
	if (conn->connect_fails)
	{
		conn->status = CONNECTION_BAD;
		return PGRES_POLLING_FAILED;
	}
	conn->status = CONNECTION_OK;
	return PGRES_POLLING_OK;
}

void
PQfinish(PGconn *conn)
{
	if (conn == NULL)
		return;
	while (conn->notifies)
	{
		PGnotify   *n = conn->notifies;

		conn->notifies = n->next;
		free(n);
	}
	PQclear(conn->shape);
	free(conn->copy_in_error);
	free(conn->errmsg);
	free(conn->server_version);
	for (PGconn **link = &open_list; *link; link = &(*link)->next_open)
	{
		if (*link == conn)
		{
			*link = conn->next_open;
			break;
		}
	}
	free(conn);
	open_connections--;
}

ConnStatusType
PQstatus(const PGconn *conn)
{
	return conn ? conn->status : CONNECTION_BAD;
}

char *
PQerrorMessage(const PGconn *conn)
{
	return conn && conn->errmsg ? conn->errmsg : "";
}

int
PQsocket(const PGconn *conn)
{
	return conn && conn->status != CONNECTION_BAD ? socket_fd : -1;
}

/* True unless the input says the server asked for no password. */
int
PQconnectionUsedPassword(const PGconn *conn)
{
	return conn && conn->used_password;
}

void
fake_pq_tag(PGconn *conn, uint64_t tag)
{
	conn->tag = tag;
}

PGconn *
fake_pq_find(uint64_t tag)
{
	for (PGconn *conn = open_list; conn; conn = conn->next_open)
		if (conn->tag == tag)
			return conn;
	return NULL;
}

int
PQbackendPID(const PGconn *conn)
{
	return conn && conn->status == CONNECTION_OK ? 4242 + conn->id : 0;
}

const char *
PQparameterStatus(const PGconn *conn, const char *name)
{
	if (conn == NULL || conn->status != CONNECTION_OK)
		return NULL;
	return strcmp(name, "server_version") == 0 ? conn->server_version : NULL;
}

PGTransactionStatusType
PQtransactionStatus(const PGconn *conn)
{
	if (conn == NULL || conn->status != CONNECTION_OK)
		return PQTRANS_UNKNOWN;
	if (conn->phase != PHASE_IDLE)
		return PQTRANS_ACTIVE;
	return conn->txn;
}

PGVerbosity
PQsetErrorVerbosity(PGconn *conn, PGVerbosity verbosity)
{
	PGVerbosity old;

	if (conn == NULL)
		return PQERRORS_DEFAULT;
	old = conn->verbosity;
	conn->verbosity = verbosity;
	return old;
}

PQnoticeReceiver
PQsetNoticeReceiver(PGconn *conn, PQnoticeReceiver proc, void *arg)
{
	PQnoticeReceiver old;

	if (conn == NULL)
		return NULL;
	old = conn->receiver;
	if (proc)
	{
		conn->receiver = proc;
		conn->receiver_arg = arg;
	}
	return old;
}

int
PQsetnonblocking(PGconn *conn, int arg)
{
	if (conn == NULL || conn->nonblocking_fails)
		return -1;
	conn->nonblocking = arg != 0;
	return 0;
}

/* ---- what the server says besides results --------------------------------- */

/* Hands the notice receiver a message (taking ownership of the strings). */
static void
notify_receiver(PGconn *conn, char *severity, char *sqlstate, char *message)
{
	PGresult   *res = make_result(PGRES_NONFATAL_ERROR);

	set_diag(res, PG_DIAG_SEVERITY, fstrdup(severity));
	set_diag(res, PG_DIAG_SEVERITY_NONLOCALIZED, severity);
	set_diag(res, PG_DIAG_SQLSTATE, sqlstate);
	set_diag(res, PG_DIAG_MESSAGE_PRIMARY, message);
	res->errmsg = fasprintf("%s:  %s\n", severity, message);
	if (conn->receiver)
		conn->receiver(conn->receiver_arg, res);
	PQclear(res);
}

static void
emit_notice(PGconn *conn)
{
	static const char *const severities[] = {"NOTICE", "WARNING", "INFO"};
	static const char *const states[] = {"00000", "01000", "42P07", "0100C"};
	static const char *const messages[] = {
		"relation \"t\" already exists, skipping", "hello from the data node"
	};
	char	   *severity = DRAW_STRING(severities);

	notify_receiver(conn, severity, DRAW_STRING(states), draw_message(messages, 2));
}

/* A few notices, or more than the agent relays. */
static void
emit_notices(PGconn *conn)
{
	unsigned	c = draw(8);
	unsigned	n = c == 7 ? HD_MAX_NOTICES + 1 : 1 + c % 3;

	for (unsigned i = 0; i < n; i++)
		emit_notice(conn);
}

static void
queue_notify(PGconn *conn)
{
	PGnotify   *n = fmalloc(sizeof(PGnotify) + 16);

	/* one block, as libpq allocates it: PQfreemem frees it whole */
	n->relname = (char *) (n + 1);
	strcpy(n->relname, "chan");
	n->extra = n->relname + 5;
	n->be_pid = 4242 + conn->id;
	n->next = conn->notifies;
	conn->notifies = n;
}

PGnotify *
PQnotifies(PGconn *conn)
{
	PGnotify   *n;

	if (conn == NULL || conn->notifies == NULL)
		return NULL;
	n = conn->notifies;
	conn->notifies = n->next;
	n->next = NULL;
	return n;
}

/* The server went away: libpq's state after it noticed. */
static void
lose(PGconn *conn)
{
	conn->status = CONNECTION_BAD;
	set_error(conn, fstrdup("server closed the connection unexpectedly\n"
							"\tThis probably means the server terminated abnormally\n"
							"\tbefore or while processing the request.\n"));
	if (conn->phase != PHASE_IDLE)
	{
		conn->phase = PHASE_LOST;
		conn->lost_reported = false;
		conn->busy = 0;
	}
}

int
PQconsumeInput(PGconn *conn)
{
	if (conn == NULL || conn->status != CONNECTION_OK)
	{
		if (conn)
			set_error(conn, fstrdup("no connection to the server\n"));
		return 0;
	}
	switch (draw(8))
	{
		case 1:
			emit_notice(conn);
			break;
		case 2:
			queue_notify(conn);
			break;
		case 3:
			lose(conn);
			return 0;
		case 4:
			emit_notices(conn);
			break;
		case 5:
			/* pg_terminate_backend: libpq passes the FATAL on, then EOF */
			if (conn->phase == PHASE_IDLE)
			{
				notify_receiver(conn, fstrdup("FATAL"), fstrdup("57P01"),
								fstrdup("terminating connection due to administrator command"));
				lose(conn);
				return 0;
			}
			break;
	}
	if (conn->busy > 0)
		conn->busy--;
	return 1;
}

int
PQflush(PGconn *conn)
{
	if (conn == NULL || conn->status != CONNECTION_OK)
		return -1;
	if (conn->unflushed > 0)
	{
		conn->unflushed--;
		return 1;
	}
	return 0;
}

/* ---- queries ----------------------------------------------------------- */

static bool
is_binary_copy(const char *query)
{
	static const char suffix[] = ") TO STDOUT (FORMAT binary)";
	size_t		len = strlen(query);

	return strncmp(query, "COPY (", 6) == 0 && len >= 6 + sizeof(suffix) - 1 &&
		strcmp(query + len - (sizeof(suffix) - 1), suffix) == 0;
}

static int
begin_query(PGconn *conn, const char *query, bool extended, bool binary)
{
	touch(query, strlen(query));
	if (conn == NULL)
		return 0;
	if (query_hook)
		query_hook(conn->tag);
	if (conn->status != CONNECTION_OK)
	{
		set_error(conn, fstrdup("no connection to the server\n"));
		return 0;
	}
	if (conn->phase != PHASE_IDLE)
		misuse("sent a query while another one was in progress");
	switch (draw(32))
	{
		case 30:
			set_error(conn, fstrdup("out of memory\n"));
			return 0;
		case 31:
			lose(conn);
			set_error(conn, fstrdup("could not send data to server: Broken pipe\n"));
			return 0;
	}
	conn->phase = PHASE_NEXT;
	conn->results_started = false;
	conn->single_row = false;
	conn->binary = binary;
	conn->copy_binary = is_binary_copy(query);
	conn->statements_left = extended ? 1 : 1 + (int) draw(3);
	conn->unflushed = (int) draw(3);
	conn->busy = (int) draw(3);
	conn->cancelled = false;
	return 1;
}

int
PQsendQuery(PGconn *conn, const char *query)
{
	return begin_query(conn, query, false, false);
}

int
PQsendQueryParams(PGconn *conn, const char *command, int nParams,
				  const Oid *paramTypes, const char *const *paramValues,
				  const int *paramLengths, const int *paramFormats, int resultFormat)
{
	if (conn == NULL)
		return 0;
	if (nParams < 0 || nParams > 65535)
	{
		set_error(conn, fstrdup("number of parameters must be between 0 and 65535\n"));
		return 0;
	}
	for (int i = 0; i < nParams; i++)
	{
		if (paramTypes)
			touch((const char *) &paramTypes[i], sizeof(Oid));
		if (paramValues == NULL || paramValues[i] == NULL)
			continue;
		if (paramFormats && paramFormats[i])
		{
			if (paramLengths == NULL || paramLengths[i] < 0)
				misuse("passed a binary parameter without its length");
			touch(paramValues[i], (size_t) paramLengths[i]);
		}
		else
			touch(paramValues[i], strlen(paramValues[i]));
	}
	return begin_query(conn, command, true, resultFormat == 1);
}

int
PQsetSingleRowMode(PGconn *conn)
{
	if (conn == NULL || conn->phase == PHASE_IDLE || conn->results_started)
		return 0;
	conn->single_row = true;
	return 1;
}

int
PQisBusy(PGconn *conn)
{
	return conn && conn->phase != PHASE_IDLE && conn->phase != PHASE_LOST &&
		conn->busy > 0;
}

static void
end_statement(PGconn *conn)
{
	PQclear(conn->shape);
	conn->shape = NULL;
	conn->phase = PHASE_NEXT;
}

/* An error result; it ends the query.  sqlstate NULL: libpq's own error. */
static PGresult *
error_result(PGconn *conn, char *sqlstate, char *message)
{
	PGresult   *res = make_result(PGRES_FATAL_ERROR);

	if (sqlstate)
	{
		set_diag(res, PG_DIAG_SEVERITY, fstrdup("ERROR"));
		set_diag(res, PG_DIAG_SEVERITY_NONLOCALIZED, fstrdup("ERROR"));
		set_diag(res, PG_DIAG_SQLSTATE, sqlstate);
		set_diag(res, PG_DIAG_MESSAGE_PRIMARY, fstrdup(message));
	}
	res->errmsg = fasprintf("%s%s\n", sqlstate ? "ERROR:  " : "", message);
	free(message);
	end_statement(conn);
	conn->statements_left = 0;
	if (conn->txn == PQTRANS_INTRANS)
		conn->txn = PQTRANS_INERROR;
	return res;
}

static bool
result_is_fatal(const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	return severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0);
}

static PGresult *
cancelled_result(PGconn *conn)
{
	return error_result(conn, fstrdup("57014"),
						fstrdup("canceling statement due to user request"));
}

/* An error as the server would send it, with fields drawn from the input. */
static PGresult *
drawn_error(PGconn *conn)
{
	static const char *const states[] = {
		"22012", "42P01", "40001", "57014", "XX000", "2201", "abcde"
	};
	static const char *const messages[] = {"division by zero", "relation \"t\" does not exist"};
	static const char *const severities[] = {"ERROR", "FATAL", "PANIC"};
	static const char *const details[] = {"Key (a)=(1) already exists."};
	PGresult   *res = error_result(conn, DRAW_STRING(states), draw_message(messages, 2));

	set_diag(res, PG_DIAG_SEVERITY_NONLOCALIZED, DRAW_STRING(severities));
	if (draw(2))
		set_diag(res, PG_DIAG_MESSAGE_DETAIL, draw_message(details, 1));
	if (draw(2))
		set_diag(res, PG_DIAG_MESSAGE_HINT, draw_text(40));
	if (draw(2))
		set_diag(res, PG_DIAG_CONTEXT, draw_text(40));
	if (draw(4) == 3)
		set_diag(res, PG_DIAG_MESSAGE_PRIMARY, NULL);	/* only the full text */
	if (result_is_fatal(res))
	{
		/* the server hangs up after a FATAL or PANIC */
		conn->status = CONNECTION_BAD;
		set_error(conn, fstrdup("server closed the connection unexpectedly\n"));
	}
	return res;
}

static PGresult *
command_result(PGconn *conn, ExecStatusType status)
{
	static const char *const tags[] = {
		"SELECT 1", "INSERT 0 3", "UPDATE 2", "CREATE TABLE", "BEGIN", "COMMIT",
		"ROLLBACK", "PREPARE TRANSACTION", "SET", "COPY 2"
	};
	PGresult   *res = make_result(status);

	set_tag(res, status == PGRES_EMPTY_QUERY ? fstrdup("") : DRAW_STRING(tags));
	if (strcmp(res->cmd_status, "BEGIN") == 0)
		conn->txn = PQTRANS_INTRANS;
	else if (strcmp(res->cmd_status, "COMMIT") == 0 ||
			 strcmp(res->cmd_status, "ROLLBACK") == 0 ||
			 strcmp(res->cmd_status, "PREPARE TRANSACTION") == 0)
		conn->txn = PQTRANS_IDLE;
	end_statement(conn);
	return res;
}

/* A result with the columns of conn->shape and rows drawn from the input. */
static PGresult *
rows_result(PGconn *conn, ExecStatusType status, unsigned nrows)
{
	PGresult   *res = make_result(status);

	copy_columns(res, conn->shape);
	res->nrows = (int) nrows;
	res->values = fmalloc(sizeof(FakeValue) * (nrows * res->ncols + 1));
	for (unsigned i = 0; i < nrows * (unsigned) res->ncols; i++)
		res->values[i] = draw_value();
	conn->rows_sent += nrows;
	return res;
}

static PGresult *
start_statement(PGconn *conn)
{
	PGresult   *res;

	switch (draw(8))
	{
		default:
			return command_result(conn, PGRES_COMMAND_OK);
		case 1:					/* a SELECT */
			conn->shape = draw_shape(PGRES_TUPLES_OK, conn->binary ? 1 : 0, true);
			conn->rows_left = draw_row_count();
			if (conn->shape->ncols > 8 && conn->rows_left > 3)
				conn->rows_left = 3;	/* wide rows: a few are enough */
			conn->rows_sent = 0;
			conn->phase = PHASE_ROWS;
			if (conn->single_row)
				return NULL;	/* the caller goes on to the rows */
			res = rows_result(conn, PGRES_TUPLES_OK, conn->rows_left);
			set_tag(res, fasprintf("SELECT %u", conn->rows_left));
			end_statement(conn);
			return res;
		case 2:
			return drawn_error(conn);
		case 3:					/* COPY TO STDOUT */
			conn->shape = draw_shape(PGRES_COPY_OUT, conn->copy_binary ? 1 : 0, false);
			conn->rows_left = draw_row_count();
			conn->rows_sent = 0;
			conn->header_sent = !conn->copy_binary;
			conn->header_alone = draw(2);
			conn->trailer_sent = !conn->copy_binary;
			conn->copy_finished = false;
			conn->copy_failed = false;
			conn->phase = PHASE_COPY_OUT;
			res = make_result(PGRES_COPY_OUT);
			copy_columns(res, conn->shape);
			return res;
		case 4:					/* COPY FROM STDIN */
			conn->shape = draw_shape(PGRES_COPY_IN, 0, false);
			conn->copy_in_lines = 0;
			conn->copy_in_ended = false;
			conn->phase = PHASE_COPY_IN;
			res = make_result(PGRES_COPY_IN);
			copy_columns(res, conn->shape);
			return res;
		case 5:
			return command_result(conn, PGRES_EMPTY_QUERY);
		case 6:
			lose(conn);
			return NULL;
		case 7:
			emit_notices(conn);
			return command_result(conn, PGRES_COMMAND_OK);
	}
}

static PGresult *
next_rows(PGconn *conn)
{
	PGresult   *res;

	if (conn->cancelled)
		return cancelled_result(conn);
	if (conn->rows_left > 0)
	{
		if (draw(32) == 31)
			return drawn_error(conn);	/* fails halfway */
		conn->rows_left--;
		return rows_result(conn, PGRES_SINGLE_TUPLE, 1);
	}
	res = rows_result(conn, PGRES_TUPLES_OK, 0);
	set_tag(res, fasprintf("SELECT %u", conn->rows_sent));
	end_statement(conn);
	return res;
}

static PGresult *
copy_in_result(PGconn *conn)
{
	PGresult   *res;

	if (!conn->copy_in_ended)
	{
		res = make_result(PGRES_COPY_IN);
		copy_columns(res, conn->shape);
		return res;
	}
	if (conn->copy_in_error)
	{
		char	   *msg = fasprintf("COPY from stdin failed: %s", conn->copy_in_error);

		free(conn->copy_in_error);
		conn->copy_in_error = NULL;
		return error_result(conn, fstrdup("57014"), msg);
	}
	if (draw(4) == 3)
		return error_result(conn, fstrdup("22P04"), fstrdup("missing data for column \"b\""));
	res = make_result(PGRES_COMMAND_OK);
	set_tag(res, fasprintf("COPY %ld", conn->copy_in_lines));
	end_statement(conn);
	return res;
}

static PGresult *
copy_out_result(PGconn *conn)
{
	PGresult   *res;

	if (!conn->copy_finished)
	{
		res = make_result(PGRES_COPY_OUT);
		copy_columns(res, conn->shape);
		return res;
	}
	if (conn->copy_failed)
		return cancelled_result(conn);
	res = make_result(PGRES_COMMAND_OK);
	set_tag(res, fasprintf("COPY %u", conn->rows_sent));
	end_statement(conn);
	return res;
}

static PGresult *
next_result(PGconn *conn)
{
	for (;;)
	{
		PGresult   *res;

		switch (conn->phase)
		{
			case PHASE_IDLE:
				return NULL;
			case PHASE_LOST:
				if (!conn->lost_reported)
				{
					conn->lost_reported = true;
					return error_result(conn, NULL, fstrdup(PQerrorMessage(conn)));
				}
				conn->phase = PHASE_IDLE;
				return NULL;
			case PHASE_ROWS:
				return next_rows(conn);
			case PHASE_COPY_OUT:
				return copy_out_result(conn);
			case PHASE_COPY_IN:
				return copy_in_result(conn);
			case PHASE_NEXT:
				if (conn->statements_left == 0)
				{
					conn->phase = PHASE_IDLE;
					return NULL;
				}
				if (conn->cancelled)
					return cancelled_result(conn);
				conn->statements_left--;
				res = start_statement(conn);
				if (res)
					return res;
				break;			/* rows or a lost connection follow */
		}
	}
}

PGresult *
PQgetResult(PGconn *conn)
{
	PGresult   *res;

	if (conn == NULL || conn->phase == PHASE_IDLE)
		return NULL;
	if (PQisBusy(conn))
	{
		if (conn->nonblocking)
			misuse("called PQgetResult while PQisBusy was true (it would block)");
		conn->busy = 0;
	}
	conn->results_started = true;
	res = next_result(conn);
	if (res && conn->status == CONNECTION_OK)
		conn->busy = (int) draw(3);		/* the next one may not be here yet */
	return res;
}

/* ---- COPY -------------------------------------------------------------- */

typedef struct Message
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Message;

static void
put(Message *m, const void *data, size_t len)
{
	size_t		need = m->len + len;
	char	   *big;

	if (need > m->cap)
	{
		big = need > BIG_VALUE / 2 && need <= BIG_BUFFER_SIZE ? take_big_buffer() : NULL;
		if (big || (m->data && m->cap == BIG_BUFFER_SIZE))
		{
			char	   *grown = big ? big : fmalloc(2 * need);

			if (m->len > 0)
				memcpy(grown, m->data, m->len);
			PQfreemem(m->data);
			m->data = grown;
			m->cap = big ? BIG_BUFFER_SIZE : 2 * need;
		}
		else
		{
			m->cap = 2 * need;
			if ((m->data = realloc(m->data, m->cap)) == NULL)
				abort();
		}
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
}

static void
put_be(Message *m, uint32_t v, int bytes)
{
	uint8_t		b[4];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t) (v >> (8 * (bytes - 1 - i)));
	put(m, b, (size_t) bytes);
}

/* One row of COPY data: binary tuple layout or a text line. */
static void
put_tuple(PGconn *conn, Message *m)
{
	if (conn->copy_binary)
		put_be(m, (uint32_t) conn->shape->ncols, 2);
	for (int i = 0; i < conn->shape->ncols; i++)
	{
		FakeValue	v = draw_value();

		if (conn->copy_binary)
		{
			put_be(m, v.data ? (uint32_t) v.len : UINT32_MAX, 4);
			if (v.data)
				put(m, v.data, (size_t) v.len);
		}
		else
		{
			if (i > 0)
				put(m, "\t", 1);
			put(m, v.data ? "x" : "\\N", v.data ? 1 : 2);
		}
		if (!v.shared)
			free(v.data);
	}
	if (!conn->copy_binary)
		put(m, "\n", 1);
	conn->rows_sent++;
}

int
PQgetCopyData(PGconn *conn, char **buffer, int async)
{
	static const char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	Message		m = {0};

	*buffer = NULL;
	if (conn == NULL || conn->phase != PHASE_COPY_OUT || conn->copy_finished)
	{
		if (conn)
			set_error(conn, fstrdup("no COPY in progress\n"));
		return -2;
	}
	if (conn->busy > 0)
	{
		if (async)
			return 0;
		conn->busy = 0;
	}
	if (draw(32) == 31)
	{
		lose(conn);
		return -2;
	}
	if (conn->cancelled || (conn->header_sent && conn->trailer_sent && conn->rows_left == 0))
	{
		conn->copy_failed = conn->cancelled;
		conn->copy_finished = true;
		return -1;
	}
	if (!conn->header_sent)
	{
		put(&m, header, sizeof(header) - 1);
		if (draw(32) == 31)
			m.data[0] = 'X';	/* now and then another signature */
		conn->header_sent = true;
	}
	if (m.len == 0 || !conn->header_alone)
	{
		if (conn->rows_left > 0)
		{
			conn->rows_left--;
			put_tuple(conn, &m);
		}
		else if (!conn->trailer_sent)
		{
			put(&m, "\377\377", 2);
			conn->trailer_sent = true;
		}
	}
	conn->busy = (int) draw(2);
	*buffer = m.data;
	return (int) m.len;
}

int
PQputCopyData(PGconn *conn, const char *buffer, int nbytes)
{
	if (conn == NULL || conn->phase != PHASE_COPY_IN || conn->copy_in_ended)
	{
		if (conn)
			set_error(conn, fstrdup("no COPY in progress\n"));
		return -1;
	}
	if (nbytes < 0)
		misuse("passed a negative length to PQputCopyData");
	touch(buffer, (size_t) nbytes);
	for (int i = 0; i < nbytes; i++)
		conn->copy_in_lines += buffer[i] == '\n';
	switch (draw(32))
	{
		case 30:
			return 0;			/* nonblocking, and no room for the data */
		case 31:
			lose(conn);
			return -1;
	}
	return 1;
}

int
PQputCopyEnd(PGconn *conn, const char *errormsg)
{
	if (conn == NULL || conn->phase != PHASE_COPY_IN || conn->copy_in_ended)
	{
		if (conn)
			set_error(conn, fstrdup("no COPY in progress\n"));
		return -1;
	}
	conn->copy_in_ended = true;
	conn->copy_in_error = errormsg ? fstrdup(errormsg) : NULL;
	conn->unflushed = (int) draw(2);
	return 1;
}

/* ---- cancel -------------------------------------------------------------- */

struct pg_cancel
{
	bool		fails;
};

/*
 * The cancel's effect is decided here, in the loop's thread, so that it does
 * not depend on when the agent's helper thread runs PQcancel.
 */
PGcancel *
PQgetCancel(PGconn *conn)
{
	PGcancel   *cancel;
	unsigned	c;

	if (conn == NULL || conn->status != CONNECTION_OK)
		return NULL;
	c = draw(4);
	cancel = fmalloc(sizeof(PGcancel));
	cancel->fails = c == 1;
	/* 2: it arrives after the statement ended and finds the backend idle */
	if (c != 1 && c != 2 && conn->phase != PHASE_IDLE)
		conn->cancelled = true;
	return cancel;
}

int
PQcancel(PGcancel *cancel, char *errbuf, int errbufsize)
{
	if (cancel == NULL || cancel->fails)
	{
		snprintf(errbuf, (size_t) errbufsize, "could not connect to the server");
		return 0;
	}
	return 1;
}

void
PQfreeCancel(PGcancel *cancel)
{
	free(cancel);
}

/* ---- conninfo ------------------------------------------------------------ */

/* "key=value" words separated by spaces (no quoting, which the agent never gets). */
PQconninfoOption *
PQconninfoParse(const char *conninfo, char **errmsg)
{
	PQconninfoOption *opts = fmalloc(sizeof(PQconninfoOption) * (strlen(conninfo) / 2 + 2));
	int			n = 0;
	const char *p = conninfo;

	if (errmsg)
		*errmsg = NULL;
	while (*p)
	{
		const char *end;
		const char *eq;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchrnul(p, ' ');
		eq = memchr(p, '=', (size_t) (end - p));
		if (eq == NULL || eq == p)
		{
			if (errmsg)
				*errmsg = fasprintf("missing \"=\" after \"%.*s\" in connection info string\n",
									(int) (end - p), p);
			opts[n].keyword = NULL;
			PQconninfoFree(opts);
			return NULL;
		}
		opts[n].keyword = fasprintf("%.*s", (int) (eq - p), p);
		opts[n].val = fasprintf("%.*s", (int) (end - eq - 1), eq + 1);
		n++;
		p = end;
	}
	opts[n].keyword = NULL;
	return opts;
}

void
PQconninfoFree(PQconninfoOption *opts)
{
	if (opts == NULL)
		return;
	for (PQconninfoOption *o = opts; o->keyword; o++)
	{
		free(o->keyword);
		free(o->val);
	}
	free(opts);
}
