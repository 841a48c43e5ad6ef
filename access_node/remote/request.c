/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/request.c — a session's requests: sending them, the table of
 * those pending, and waiting for their replies.
 *
 * Requests carry a sequence number; a session remembers which ones are
 * pending and how their replies are handled (HdReqMode).  Replies to
 * anything else (cancelled requests, the agent's seq-0 probes) are dropped.
 * An interrupted wait cancels its request on the agent without waiting.
 * Every final reply's transaction status is checked against the one the
 * access node believes in (check_txn_status).
 *
 * Also here: the savepoint an abandonable scan runs under inside a remote
 * transaction (HdScanSavepoint), and the requests the transaction
 * callbacks of remote/txn.c send without waiting.
 */
#include "postgres.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "remote/error.h"
#include "remote/remote_sql.h"
#include "remote/session_internal.h"
#include "remote/txn.h"

/* Longest remote SQL kept for error context lines. */
#define HD_CONTEXT_SQL_LEN		1024
/* Largest control message sent from transaction callbacks (stack buffer). */
#define HD_NOWAIT_MAX			256

/* Bound on every wait (hd_conn_set_deadline); 0: none. */
TimestampTz hd_wait_deadline = 0;

/* ---- pending requests ------------------------------------------------------ */

int
hd_req_index(const HdConn *conn, uint32 seq)
{
	for (int i = 0; i < conn->nreqs; i++)
		if (conn->reqs[i].seq == seq)
			return i;
	return -1;
}

HdRequest *
hd_req_add(HdConn *conn, uint32 seq, HdReqMode mode, const char *sql, int level)
{
	HdRequest  *req;

	if (conn->nreqs == conn->maxreqs)
	{
		conn->maxreqs *= 2;
		conn->reqs = repalloc(conn->reqs, sizeof(HdRequest) * conn->maxreqs);
	}
	req = &conn->reqs[conn->nreqs++];
	memset(req, 0, sizeof(*req));
	req->seq = seq;
	req->mode = mode;
	req->level = level;
	if (sql != NULL)
	{
		int			len = pg_mbcliplen(sql, strlen(sql), HD_CONTEXT_SQL_LEN);

		req->sql = MemoryContextAlloc(conn->cxt, len + 1);
		memcpy(req->sql, sql, len);
		req->sql[len] = '\0';
	}
	return req;
}

/* Forgets request i; a stream still reading it loses its session. */
void
hd_req_remove(HdConn *conn, int i)
{
	HdRequest  *req = &conn->reqs[i];

	if (req->stream != NULL)
	{
		req->stream->conn = NULL;
		if (conn->stream == req->stream)
			conn->stream = NULL;
	}
	if (req->sql != NULL)
		pfree(req->sql);
	memmove(&conn->reqs[i], &conn->reqs[i + 1],
			sizeof(HdRequest) * (conn->nreqs - i - 1));
	conn->nreqs--;
}

/* The remote SQL of request i, copied for an error report. */
char *
hd_req_sql(const HdConn *conn, int i)
{
	return conn->reqs[i].sql ? pstrdup(conn->reqs[i].sql) : NULL;
}

/* ---- sending ---------------------------------------------------------------- */

static void
conn_send_failure(HdConn *conn, const char *what, const char *msg)
{
	hd_conn_disconnect(conn);
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("could not %s a message for data node \"%s\": %s",
					what, conn->node_name, msg)));
}

/*
 * Sends one frame, waiting for room (or, with ZMQ_IMMEDIATE, for the
 * connection) until deadline (0: the backend's wait deadline, if any).
 */
void
hd_conn_send(HdConn *conn, const void *buf, size_t len, TimestampTz deadline,
			 bool opening)
{
	for (;;)
	{
		HdSockStatus st;
		const char *why;
		int			err = hd_sock_send(&conn->sock, buf, len, &why);

		if (err == 0)
			return;
		if (err != EAGAIN)
			conn_send_failure(conn, "send", why);
		st = hd_sock_wait(&conn->sock, HD_SOCK_OUT,
						  deadline != 0 ? deadline : hd_wait_deadline);
		if (st != HD_SOCK_READY)
			hd_conn_fail(conn, st, opening);
	}
}

void
hd_envelope_address(HdConn *conn, HdEnvelope *env, uint32 seq)
{
	env->has_session = true;
	env->session = conn->session;
	env->has_epoch = true;
	env->epoch = conn->epoch;
	env->has_seq = true;
	env->seq = seq;
}

/* Credit, Cancel: no reply, sent at once. */
void
hd_conn_send_control(HdConn *conn, HdEnvelope *env, uint32 seq)
{
	size_t		len;
	void	   *buf;

	hd_envelope_address(conn, env, seq);
	buf = hd_envelope_encode(env, conn->node_name, CurrentMemoryContext, &len);
	hd_conn_send(conn, buf, len, 0, false);
	pfree(buf);
}

/*
 * For transaction callbacks and memory-context callbacks: queues a small
 * message if there is room right now.  Never waits, allocates or raises.
 */
bool
hd_conn_send_quietly(HdConn *conn, HdEnvelope *env, uint32 seq)
{
	uint8_t		buf[HD_NOWAIT_MAX];
	size_t		len;
	const char *why;

	if (conn->sock.dealer == NULL || conn->session == 0)
		return false;
	hd_envelope_address(conn, env, seq);
	len = hd_wire_size(env);
	if (len > sizeof(buf))
		return false;
	hd_wire_encode(env, buf);
	return hd_sock_send(&conn->sock, buf, len, &why) == 0;
}

/* Cancels pending request i on the agent (without waiting) and forgets it. */
void
hd_conn_cancel_request(HdConn *conn, int i)
{
	Hyperdist__Cancel cancel = HYPERDIST__CANCEL__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	if (conn->reqs[i].stream != NULL)
		conn->reqs[i].stream->cancelled = true;
	env.body_case = HYPERDIST__ENVELOPE__BODY_CANCEL;
	env.cancel = &cancel;
	(void) hd_conn_send_quietly(conn, &env, conn->reqs[i].seq);
	hd_req_remove(conn, i);
}

/* Cancels request seq if it is still pending; never waits or raises. */
void
hd_conn_cancel_seq(HdConn *conn, uint32 seq)
{
	int			i = hd_req_index(conn, seq);

	if (i >= 0)
		hd_conn_cancel_request(conn, i);
}

/* ---- waiting for replies ---------------------------------------------------- */

/*
 * A data node's NOTICE, WARNING or INFO, reported here at its level (as
 * postgres_fdw's connections do), naming the node.
 */
static void
conn_relay_notice(HdConn *conn, const Hyperdist__Error *notice)
{
	const char *sev = notice->severity ? notice->severity : "";
	int			elevel = NOTICE;

	if (strcmp(sev, "WARNING") == 0)
		elevel = WARNING;
	else if (strcmp(sev, "INFO") == 0)
		elevel = INFO;
	else if (strcmp(sev, "LOG") == 0)
		elevel = LOG;
	else if (strncmp(sev, "DEBUG", 5) == 0)
		elevel = DEBUG1;
	hd_report_remote_error(elevel, conn->node_name, notice, NULL);
}

static HdEnvelope *
conn_recv(HdConn *conn, MemoryContext cxt)
{
	HdEnvelope *env;
	const char *why;

	switch (hd_sock_recv(&conn->sock, cxt, &env, &why))
	{
		case HD_RECV_OK:
			return env;
		case HD_RECV_BAD:
			hd_conn_protocol_error(conn, why);
		case HD_RECV_NONE:
			break;
	}
	return NULL;
}

void
hd_conn_grant_credit(HdConn *conn, int i)
{
	HdRequest  *req = &conn->reqs[i];
	Hyperdist__Credit credit = HYPERDIST__CREDIT__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	/* batched: one Credit per half window */
	if (++req->unacked < (req->window + 1) / 2)
		return;
	credit.has_batches = true;
	credit.batches = req->unacked;
	req->unacked = 0;
	env.body_case = HYPERDIST__ENVELOPE__BODY_CREDIT;
	env.credit = &credit;
	hd_conn_send_control(conn, &env, req->seq);
}

/*
 * The data node's transaction state after a statement must be the one the
 * access node believes in: a transaction open while the session takes
 * part in the local one, none otherwise.  SQL that ended or opened a
 * transaction there behind the access node's back (transaction control is
 * refused where users give SQL, this catches whatever else could) fails
 * the statement before anything commits, and the session is dropped,
 * which rolls back what it left open on the node.  Agents older than
 * protocol 1.2 report nothing, and nothing is checked.
 */
static void
check_txn_status(HdConn *conn, int i, const HdEnvelope *env)
{
	bool		expect_open = conn->xact.state == HD_RXACT_OPEN;
	bool		open;
	char	   *sql;

	if (!conn->reqs[i].checks_txn || !hd_envelope_is_final(env) || !env->has_txn_status ||
		env->txn_status == HYPERDIST__TXN_STATUS__TXN_UNKNOWN ||
		conn->xact.state == HD_RXACT_FAILED)
		return;
	open = env->txn_status != HYPERDIST__TXN_STATUS__TXN_IDLE;
	if (open == expect_open)
		return;
	sql = hd_req_sql(conn, i);
	hd_conn_disconnect(conn);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
			 expect_open
			 ? errmsg("data node \"%s\" ended its part of the transaction", conn->node_name)
			 : errmsg("data node \"%s\" has a transaction the access node did not open",
					  conn->node_name),
			 errdetail("A statement changed the data node session's transaction state behind the access node's back; the session was closed."),
			 errhint("Statements sent to data nodes must not start or end transactions: the access node's own BEGIN, COMMIT and ROLLBACK reach every node."),
			 sql ? errcontext("remote SQL: %s", sql) : 0));
}

/*
 * A reply for pending request i, which no caller is waiting for: a
 * pipelined request (an Error is raised here, in whatever wait meets it) or
 * an abandoned stream being drained.
 */
static void
conn_dispatch(HdConn *conn, int i, HdEnvelope *env)
{
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
	{
		char	   *sql = hd_req_sql(conn, i);

		hd_req_remove(conn, i);
		hd_conn_remote_error(conn, env->error, sql);
	}
	switch (conn->reqs[i].mode)
	{
		case HD_REQ_CHECK:
			break;
		case HD_REQ_DRAIN:
			if (env->body_case == HYPERDIST__ENVELOPE__BODY_ROW_BATCH)
				hd_conn_grant_credit(conn, i);
			break;
		case HD_REQ_AWAIT:
			/* requests run in order, and streams are read ahead first */
			elog(ERROR, "data node \"%s\" answered request %u out of order",
				 conn->node_name, env->seq);
	}
	if (hd_envelope_is_final(env))
		hd_req_remove(conn, i);
}

/*
 * The replayable batch's first request, START TRANSACTION, failed because
 * the session's connection to PostgreSQL is gone (the data node
 * restarted): like postgres_fdw, retry on a new session, since nothing of
 * the batch can have run.
 */
static bool
batch_start_failed(const HdConn *conn, int i, const HdEnvelope *env)
{
	return conn->replayable &&
		conn->reqs[i].seq == conn->replay_seq + 2 &&
		conn->reqs[i].mode == HD_REQ_CHECK &&
		env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR &&
		hd_ends_session(env->error);
}

/*
 * Waits for the next reply to pending request seq and returns it, decoded
 * into cxt, which this function resets at will.  Replies to other requests
 * are dispatched or dropped on the way.  If the wait fails (interrupt,
 * statement_timeout, a remote error of a pipelined request), request seq is
 * cancelled on the agent, without waiting, before the error propagates.
 */
HdEnvelope *
hd_conn_wait_for(HdConn *conn, uint32 seq, MemoryContext cxt)
{
	HdEnvelope *env = NULL;

	PG_TRY();
	{
		for (;;)
		{
			int			i;

			if (hd_req_index(conn, seq) < 0)
				elog(ERROR, "request %u is not pending on data node \"%s\"",
					 seq, conn->node_name);
			MemoryContextReset(cxt);
			env = conn_recv(conn, cxt);
			if (env == NULL)
			{
				HdSockStatus st = hd_sock_wait(&conn->sock, HD_SOCK_IN,
											   hd_wait_deadline);

				if (st != HD_SOCK_READY)
					hd_conn_fail(conn, st, false);
				continue;
			}
			i = hd_req_index(conn, env->seq);
			if (i < 0)
				continue;		/* stale, or a probe */
			if (env->body_case == HYPERDIST__ENVELOPE__BODY_NOTICE)
			{
				conn_relay_notice(conn, env->notice);
				continue;
			}
			if (hd_envelope_unknown_session(env) || batch_start_failed(conn, i, env))
			{
				hd_conn_session_gone(conn);
				continue;
			}
			check_txn_status(conn, i, env);
			hd_conn_confirm_batch(conn);
			if (env->seq == seq)
				break;
			conn_dispatch(conn, i, env);
		}
	}
	PG_CATCH();
	{
		int			i = hd_req_index(conn, seq);

		if (i >= 0)
			hd_conn_cancel_request(conn, i);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return env;
}

TimestampTz
hd_conn_set_deadline(TimestampTz deadline)
{
	TimestampTz old = hd_wait_deadline;

	hd_wait_deadline = deadline;
	return old;
}

/* ---- requests ----------------------------------------------------------------- */

/* Sets an Exec's or Query's request for the data node's notices. */
static void
ask_for_notices(HdEnvelope *env)
{
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_EXEC)
		env->exec->has_notices = env->exec->notices = true;
	else if (env->body_case == HYPERDIST__ENVELOPE__BODY_QUERY)
		env->query->has_notices = env->query->notices = true;
}

/*
 * Sends a request and registers it as pending at transaction nest level
 * `level`; returns its seq.
 *
 * A request of the local transaction's own work first gets the remote
 * savepoints of the current nest level, and any request but a Query marks
 * the remote transaction as written (a Query is a scan; everything else,
 * including request kinds added later, may write).  With REQ_OPENS_XACT
 * the remote transaction counts as open before the request can leave, so
 * that an abort rolls it back whatever happened to the request.
 */
uint32
hd_conn_request_at(HdConn *conn, HdEnvelope *env, HdReqMode mode, const char *sql,
				   int flags, int level)
{
	HdRequest  *req;
	uint32		seq;
	void	   *buf;
	size_t		len;
	bool		replayable;

	/* before anything this sends first (START TRANSACTION, ...) */
	if (conn->relay_notices && !(flags & REQ_TXN_CONTROL))
	{
		ask_for_notices(env);
		conn->relay_notices = false;
	}
	/* the agent runs requests in order: a half-read stream would block us */
	if (conn->stream != NULL)
		hd_stream_buffer_rest(conn->stream);
	hd_conn_ensure_session(conn);
	if (!(flags & REQ_TXN_CONTROL) && conn->xact.state == HD_RXACT_OPEN)
	{
		hd_scan_savepoint_release(conn);
		hd_txn_sync_savepoints(conn);
		if (env->body_case != HYPERDIST__ENVELOPE__BODY_QUERY)
			conn->xact.wrote = true;
	}
	if (hd_conn_idle(conn) && !hd_xact_in_session(conn))
		hd_conn_start_batch(conn);
	if (flags & REQ_OPENS_XACT)
	{
		memset(&conn->xact, 0, sizeof(conn->xact));
		conn->xact.state = HD_RXACT_OPEN;
		conn->xact.depth = 1;
	}

	seq = conn->next_seq++;
	hd_envelope_address(conn, env, seq);
	replayable = conn->replayable;
	buf = hd_envelope_encode(env, conn->node_name,
							 replayable ? conn->replay_cxt : CurrentMemoryContext, &len);
	req = hd_req_add(conn, seq, mode, sql, level);
	req->checks_txn = !(flags & REQ_TXN_CONTROL);
	if (replayable)
	{
		req->wire = buf;
		req->wire_len = len;
	}

	hd_conn_send(conn, buf, len, 0, false);
	if (!replayable)
		pfree(buf);
	return seq;
}

/*
 * A request of the local transaction's work, at the current nest level;
 * with opens_xact, the START TRANSACTION of its remote transaction.
 */
uint32
hd_conn_request(HdConn *conn, HdEnvelope *env, HdReqMode mode, const char *sql,
				bool opens_xact)
{
	if (opens_xact)
		return hd_conn_request_at(conn, env, mode, sql,
								  REQ_OPENS_XACT | REQ_TXN_CONTROL, 0);
	return hd_conn_request_at(conn, env, mode, sql, 0,
							  GetCurrentTransactionNestLevel());
}

void
hd_init_exec(Hyperdist__Exec *exec, HdEnvelope *env, const char *sql, int nparams,
			 const Oid *types, const char *const *values)
{
	exec->has_sql = true;
	exec->sql.data = (uint8_t *) sql;
	exec->sql.len = strlen(sql);
	exec->n_params = nparams;
	exec->params = hd_envelope_params(nparams, types, values);
	env->body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env->exec = exec;
}

/* ---- savepoints of abandonable scans (see HdScanSavepoint) ------------------ */

/* Sends transaction-control sql, pipelined, checked by a later wait. */
void
hd_send_checked_txn_sql(HdConn *conn, const char *sql, int level)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	hd_init_exec(&exec, &env, sql, 0, NULL, NULL);
	(void) hd_conn_request_at(conn, &env, HD_REQ_CHECK, sql, REQ_TXN_CONTROL, level);
}

/* Before the session's next request of the transaction. */
void
hd_scan_savepoint_release(HdConn *conn)
{
	if (conn->scan_sp.state != HD_SCAN_SP_RELEASABLE)
		return;
	conn->scan_sp.state = HD_SCAN_SP_NONE;
	hd_send_checked_txn_sql(conn, HD_SQL_SCAN_RELEASE, conn->scan_sp.level);
}

/* The scan's final reply arrived: release its savepoint, or (error) forget it. */
void
hd_scan_savepoint_ended(HdConn *conn, uint32 seq, bool ok)
{
	if (conn->scan_sp.state == HD_SCAN_SP_RUNNING && conn->scan_sp.seq == seq)
		conn->scan_sp.state = ok ? HD_SCAN_SP_RELEASABLE : HD_SCAN_SP_NONE;
}

/*
 * The savepoint is gone with (sub)transaction nest level `level` (its
 * RELEASE or ROLLBACK TO, or the end of the transaction): a scan it covered
 * can no longer be rolled back, and is drained if abandoned.
 */
void
hd_scan_savepoint_forget(HdConn *conn, int level)
{
	if (conn->scan_sp.state != HD_SCAN_SP_NONE && conn->scan_sp.level >= level)
		conn->scan_sp.state = HD_SCAN_SP_NONE;
}

/*
 * Abandons the running scan request i under its savepoint: Cancel, then
 * ROLLBACK TO the savepoint and RELEASE it, queued behind the query.  False
 * when the Cancel could not be queued: the scan is then drained instead.
 * Never waits or raises (a stream's release callback).
 */
bool
hd_scan_savepoint_rollback(HdConn *conn, int i)
{
	Hyperdist__Cancel cancel = HYPERDIST__CANCEL__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	int			level = conn->scan_sp.level;

	env.body_case = HYPERDIST__ENVELOPE__BODY_CANCEL;
	env.cancel = &cancel;
	if (!hd_conn_send_quietly(conn, &env, conn->reqs[i].seq))
		return false;
	conn->scan_sp.state = HD_SCAN_SP_NONE;
	hd_req_remove(conn, i);
	if (!hd_conn_queue_checked(conn, HD_SQL_SCAN_ROLLBACK, level))
		hd_conn_disconnect(conn);	/* rolls the remote transaction back */
	return true;
}

/* ---- for the transaction callbacks (remote/conn_internal.h) ---------------- */

/*
 * At abort: consumes the final replies that already arrived, so that only
 * requests still running get a Cancel.  A needless Cancel is not harmless:
 * the agent's PQcancel is asynchronous and can hit the session's next
 * statement.  Never waits or raises; stops at anything unexpected.
 */
static void
conn_absorb_replies(HdConn *conn)
{
	HdEnvelope *env;
	const char *why;

	if (conn->sock.dealer == NULL)
		return;
	while (hd_sock_recv(&conn->sock, conn->reply_cxt, &env, &why) == HD_RECV_OK)
	{
		int			i = hd_req_index(conn, env->seq);

		if (i >= 0 && hd_envelope_is_final(env))
		{
			if (conn->reqs[i].stream != NULL)
				conn->reqs[i].stream->cancelled = true;
			hd_req_remove(conn, i);
		}
		MemoryContextReset(conn->reply_cxt);
	}
	MemoryContextReset(conn->reply_cxt);
}

void
hd_conn_cancel_requests(HdConn *conn, int min_level)
{
	/* only at top level is every pending reply unwanted */
	if (min_level == 0)
		conn_absorb_replies(conn);
	hd_scan_savepoint_forget(conn, min_level);
	for (int i = conn->nreqs - 1; i >= 0; i--)
		if (conn->reqs[i].level >= min_level)
			hd_conn_cancel_request(conn, i);
}

/* Queues sql as Exec request seq without waiting; false if it could not be. */
static bool
conn_queue_exec(HdConn *conn, const char *sql, uint32 seq)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	exec.has_sql = true;
	exec.sql.data = (uint8_t *) sql;
	exec.sql.len = strlen(sql);
	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &exec;
	return hd_conn_send_quietly(conn, &env, seq);
}

bool
hd_conn_send_nowait(HdConn *conn, const char *sql)
{
	/* no pending entry: its reply is dropped like any unknown seq */
	return conn_queue_exec(conn, sql, conn->next_seq++);
}

bool
hd_conn_queue_checked(HdConn *conn, const char *sql, int level)
{
	uint32		seq = conn->next_seq++;

	if (!conn_queue_exec(conn, sql, seq))
		return false;
	(void) hd_req_add(conn, seq, HD_REQ_CHECK, sql, level);
	return true;
}

void
hd_conn_subxact_commit(HdConn *conn, int level)
{
	hd_scan_savepoint_forget(conn, level);
	for (int i = 0; i < conn->nreqs; i++)
		if (conn->reqs[i].level >= level)
			conn->reqs[i].level = level - 1;
}
