/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/session.c — this backend's sessions with data node agents.
 *
 * Structure follows postgres_fdw's connection.c: a cache of sessions keyed
 * by (foreign server, user) in TopMemoryContext, kept across transactions,
 * invalidated by catalog changes, with the transaction logic in txn.c.
 * A session is a socket (remote/transport.c) and the session the agent
 * opened for it on the data node's PostgreSQL (Hello, then the settings).
 *
 * Lost sessions: an idle session whose connection broke (agent restart) is
 * reopened before its next request.  The first requests sent to an idle
 * session outside a remote transaction form a "replayable batch": their
 * encoding is kept until the first real reply, and when the answer proves
 * that none of it ran (08003 "unknown session" from a restarted agent, or
 * the batch's START TRANSACTION failing because the data node restarted)
 * the session is reopened and the batch resent, once.  Two sequence numbers
 * are reserved ahead of each batch for that Hello and its settings, so the
 * resent requests keep their numbers and still increase within the new
 * session.  A session lost inside a remote transaction is an error: the
 * remote transaction is gone.  An error that ends the session drops it.
 *
 * Lost nodes: when a node cannot be reached (no answer in time, connection
 * refused or lost, its PostgreSQL not taking sessions) the session is
 * dropped, the node is reported down to every backend at once
 * (remote/node_health.h), and the error says so to hd_conn_attempt, which
 * lets a caller that can do without the node go on elsewhere.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "keys.h"
#include "remote/error.h"
#include "remote/node_health.h"
#include "remote/remote_sql.h"
#include "remote/session_internal.h"
#include "remote/target.h"
#include "remote/txn.h"

static HTAB *conn_cache = NULL;
static dlist_head uncached_conns = DLIST_STATIC_INIT(uncached_conns);

typedef struct HdConnKey
{
	Oid			serverid;
	Oid			userid;
} HdConnKey;

typedef struct HdConnEntry
{
	HdConnKey	key;
	HdConn	   *conn;
} HdConnEntry;

/* How long a Close may wait in the socket for the agent after zmq_close. */
#define HD_CLOSE_LINGER_MS		100

static void disconnect_all(void);
static void conn_lost(HdConn *conn, const char *why, bool report);

/* ---- session lifecycle ------------------------------------------------------ */

static HdConn *
conn_new(Oid serverid, Oid userid, const HdConnTarget *target)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "hyperdist connection",
											  ALLOCSET_SMALL_SIZES);
	HdConn	   *conn = MemoryContextAllocZero(cxt, sizeof(HdConn));

	conn->cxt = cxt;
	conn->reply_cxt = AllocSetContextCreate(cxt, "hyperdist replies",
											ALLOCSET_DEFAULT_SIZES);
	conn->replay_cxt = AllocSetContextCreate(cxt, "hyperdist replayable requests",
											 ALLOCSET_DEFAULT_SIZES);
	conn->serverid = serverid;
	conn->userid = userid;
	conn->next_seq = 1;			/* seq 0 is the agent's probes */
	conn->maxreqs = 8;
	conn->reqs = MemoryContextAlloc(cxt, sizeof(HdRequest) * conn->maxreqs);
	conn->node_name = MemoryContextStrdup(cxt, "");
	conn->host = MemoryContextStrdup(cxt, "");
	if (target != NULL)
		conn->target = hd_conn_target_copy(cxt, target);
	hd_transport_set_exit_hook(disconnect_all);
	return conn;
}

static void
conn_set_str(HdConn *conn, char **field, const char *value)
{
	char	   *copy = MemoryContextStrdup(conn->cxt, value ? value : "");

	if (*field != NULL)
		pfree(*field);
	*field = copy;
}

/* Where to open the session now; refreshes the names used in messages. */
static const HdConnTarget *
conn_current_target(HdConn *conn)
{
	const HdConnTarget *target = conn->target;

	if (OidIsValid(conn->serverid))
	{
		UserMapping *um;

		if (GetForeignServerExtended(conn->serverid, FSV_MISSING_OK) == NULL)
		{
			/* a delete_data_node committed since the caller looked it up */
			conn_lost(conn, "The data node was deleted.", false);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_DOES_NOT_EXIST),
					 errmsg("data node \"%s\" was deleted",
							conn->node_name && conn->node_name[0] ? conn->node_name : "?")));
		}
		um = hd_find_user_mapping(conn->serverid, conn->userid);

		target = hd_conn_target_for_server(conn->serverid, conn->userid);
		conn->server_hash = GetSysCacheHashValue1(FOREIGNSERVEROID,
												  ObjectIdGetDatum(conn->serverid));
		conn->mapping_hash = um == NULL ? 0 :
			GetSysCacheHashValue1(USERMAPPINGOID, ObjectIdGetDatum(um->umid));
	}
	conn_set_str(conn, &conn->node_name,
				 target->node_name ? target->node_name : target->host);
	conn_set_str(conn, &conn->host, target->host);
	conn->port = target->port;
	return target;
}

/* Waits for the reply to a session-setup request, dropping anything else. */
static HdEnvelope *
conn_wait_setup(HdConn *conn, uint32 seq, TimestampTz deadline)
{
	for (;;)
	{
		HdEnvelope *env;
		const char *why;
		HdSockStatus st;

		MemoryContextReset(conn->reply_cxt);
		switch (hd_sock_recv(&conn->sock, conn->reply_cxt, &env, &why))
		{
			case HD_RECV_OK:
				if (env->seq == seq && env->body_case != HYPERDIST__ENVELOPE__BODY_NOTICE)
					return env;
				continue;
			case HD_RECV_BAD:
				hd_conn_protocol_error(conn, why);
			case HD_RECV_NONE:
				break;
		}
		st = hd_sock_wait(&conn->sock, HD_SOCK_IN, deadline);
		if (st != HD_SOCK_READY)
			hd_conn_fail(conn, st, true);
	}
}

static void
conn_send_hello(HdConn *conn, const HdConnTarget *target, uint32 seq,
				TimestampTz deadline)
{
	Hyperdist__Hello hello = HYPERDIST__HELLO__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	size_t		len;
	void	   *buf;

	hello.has_major = true;
	hello.major = HD_PROTO_MAJOR;
	hello.has_minor = true;
	hello.minor = HD_PROTO_MINOR;
	hello.dbname = (char *) target->dbname;
	hello.user = (char *) target->user;
	/*
	 * Without an explicit password, look in the passfile at the moment of
	 * connecting, for the database actually used (add_data_node's bootstrap
	 * opens the maintenance database with the node's target).
	 */
	hello.password = (char *) target->password;
	if (hello.password == NULL)
		hello.password = hd_passfile_lookup(target->host, target->port,
											target->dbname, target->user);
	/* the user mapping's is checked when set; the passfile's only here */
	if (hello.password != NULL && strlen(hello.password) > HD_MAX_PASSWORD_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the password for data node \"%s\" is longer than %d bytes",
						conn->node_name, HD_MAX_PASSWORD_LEN),
				 errhint("Agents refuse longer passwords: use a shorter one in %s.",
						 target->password ? "the user mapping" : "hyperdist.passfile")));
	hello.application_name = "hyperdist";
	hello.origin = psprintf(UINT64_FORMAT, GetSystemIdentifier());
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	env.has_seq = true;
	env.seq = seq;

	buf = hd_envelope_encode(&env, conn->node_name, CurrentMemoryContext, &len);
	hd_conn_send(conn, buf, len, deadline, true);
	/* the password must not linger in freed memory */
	explicit_bzero(buf, len);
	pfree(buf);
}

/*
 * An agent answers a Hello with these when its data node cannot take a
 * session: the data node's PostgreSQL refuses connections or does not
 * answer (08001), is starting up, shutting down or in recovery (57P03), or
 * the agent itself shuts down (57P01).
 */
static bool
hello_unavailable(const Hyperdist__Error *err)
{
	return strcmp(err->sqlstate, "08001") == 0 ||
		strcmp(err->sqlstate, "57P03") == 0 ||
		strcmp(err->sqlstate, "57P01") == 0;
}

static void
conn_accept_hello(HdConn *conn, HdEnvelope *env)
{
	Hyperdist__HelloOk *ok;

	if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
	{
		if (hello_unavailable(env->error))
		{
			hd_conn_disconnect(conn);
			conn_lost(conn, env->error->message ? env->error->message : "", true);
		}
		hd_report_remote_error(ERROR, conn->node_name, env->error, NULL);
	}
	if (env->body_case != HYPERDIST__ENVELOPE__BODY_HELLO_OK)
		hd_conn_protocol_error(conn, "the agent did not answer Hello with HelloOk");
	ok = env->hello_ok;
	if (ok->major != HD_PROTO_MAJOR)
	{
		const char *name = conn->node_name;

		hd_conn_disconnect(conn);
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("data node \"%s\" speaks protocol version %u, the access node version %d",
						name, ok->major, HD_PROTO_MAJOR),
				 errhint("Install the same hyperdist version on the access node and the data nodes.")));
	}
	conn->session = ok->session;
	conn->epoch = ok->epoch;
}

/*
 * The data node session's settings, so values travel in formats the access
 * node parses back unambiguously.
 */
static void
conn_send_settings(HdConn *conn, uint32 seq, TimestampTz deadline)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	char	   *sql;
	HdEnvelope *reply;

	sql = hd_sql_session_settings(pg_get_timezone_name(session_timezone));
	exec.has_sql = true;
	exec.sql.data = (uint8_t *) sql;
	exec.sql.len = strlen(sql);
	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &exec;
	hd_conn_send_control(conn, &env, seq);

	reply = conn_wait_setup(conn, seq, deadline);
	if (reply->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
		hd_conn_remote_error(conn, reply->error, sql);
	if (reply->body_case != HYPERDIST__ENVELOPE__BODY_DONE)
		hd_conn_protocol_error(conn, "the agent did not answer Exec with Done");
}

/*
 * Opens the session on the agent: Hello, then the settings, both within
 * hyperdist.connect_timeout.  On any failure the socket is closed.
 */
static void
conn_hello(HdConn *conn, uint32 hello_seq, uint32 settings_seq)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "hyperdist session opening",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);

	PG_TRY();
	{
		const HdConnTarget *target = conn_current_target(conn);
		TimestampTz deadline;

		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   hd_connect_timeout * 1000);
		if (hd_wait_deadline != 0 && hd_wait_deadline < deadline)
			deadline = hd_wait_deadline;
		if (conn->sock.dealer == NULL)
			hd_sock_open(&conn->sock, target, conn->cxt);
		conn_send_hello(conn, target, hello_seq, deadline);
		conn_accept_hello(conn, conn_wait_setup(conn, hello_seq, deadline));
		conn_send_settings(conn, settings_seq, deadline);
	}
	PG_CATCH();
	{
		hd_conn_disconnect(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();

	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}

static void
conn_open_session(HdConn *conn)
{
	uint32		hello_seq = conn->next_seq++;

	conn_hello(conn, hello_seq, conn->next_seq++);
}

/*
 * Ends the session: Close to the agent (which rolls back its open work),
 * pending requests forgotten, socket closed.  Never raises: also used by
 * transaction callbacks and at process exit.
 */
void
hd_conn_disconnect(HdConn *conn)
{
	int			linger = 0;

	if (conn->session != 0)
	{
		Hyperdist__Close close_body = HYPERDIST__CLOSE__INIT;
		HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

		env.body_case = HYPERDIST__ENVELOPE__BODY_CLOSE;
		env.close = &close_body;
		if (hd_conn_send_quietly(conn, &env, conn->next_seq++))
			linger = HD_CLOSE_LINGER_MS;
	}
	while (conn->nreqs > 0)
	{
		if (conn->reqs[conn->nreqs - 1].stream != NULL)
			conn->reqs[conn->nreqs - 1].stream->cancelled = true;
		hd_req_remove(conn, conn->nreqs - 1);
	}
	hd_sock_close(&conn->sock, linger);
	conn->session = 0;
	conn->epoch = 0;
	conn->replayable = false;
	conn->scan_sp.state = HD_SCAN_SP_NONE;
	MemoryContextReset(conn->replay_cxt);
}

/* Starts a replayable batch: nothing pending and no remote transaction. */
void
hd_conn_start_batch(HdConn *conn)
{
	MemoryContextReset(conn->replay_cxt);
	conn->replayable = true;
	conn->replay_seq = conn->next_seq;
	conn->next_seq += 2;
}

/* A real reply arrived: the session is alive, the batch is not replayed. */
void
hd_conn_confirm_batch(HdConn *conn)
{
	if (!conn->replayable)
		return;
	conn->replayable = false;
	for (int i = 0; i < conn->nreqs; i++)
		conn->reqs[i].wire = NULL;
	MemoryContextReset(conn->replay_cxt);
}

static void
conn_resend(HdConn *conn, HdRequest *req)
{
	HdEnvelope *env;
	void	   *buf;
	size_t		len;

	env = hd_envelope_decode_kept(req->wire, req->wire_len, CurrentMemoryContext);
	hd_envelope_address(conn, env, req->seq);
	buf = hd_envelope_encode(env, conn->node_name, CurrentMemoryContext, &len);
	hd_conn_send(conn, buf, len, 0, false);
	pfree(buf);
}

/*
 * The replayable batch cannot have run: the agent answered 08003 (it
 * restarted), or the batch's START TRANSACTION found the session's
 * PostgreSQL connection gone.  Open a new session and send it again.
 */
static void
conn_replay(HdConn *conn)
{
	uint32		hello_seq = conn->replay_seq;
	Hyperdist__Close close_body = HYPERDIST__CLOSE__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	/* a broken session the agent still holds is freed at once */
	env.body_case = HYPERDIST__ENVELOPE__BODY_CLOSE;
	env.close = &close_body;
	(void) hd_conn_send_quietly(conn, &env, conn->next_seq++);

	conn->replayable = false;
	conn->session = 0;
	/* the restart's disconnect, already followed by the new connection */
	hd_sock_drain_monitor(&conn->sock);
	conn->sock.lost = false;
	conn_hello(conn, hello_seq, hello_seq + 1);
	for (int i = 0; i < conn->nreqs; i++)
		if (conn->reqs[i].wire != NULL)
			conn_resend(conn, &conn->reqs[i]);
	hd_conn_confirm_batch(conn);
}

void
hd_conn_session_gone(HdConn *conn)
{
	if (conn->replayable)
		conn_replay(conn);
	else
		hd_conn_fail(conn, HD_SOCK_SESSION_GONE, false);
}

/*
 * Makes sure the session exists before a request: an idle session whose
 * connection broke, or that was invalidated, is reopened, unless a remote
 * transaction was open on it that cannot be given up (then it is lost, and
 * that is an error).
 */
void
hd_conn_ensure_session(HdConn *conn)
{
	if (conn->sock.dealer != NULL && hd_conn_idle(conn))
	{
		hd_sock_drain_monitor(&conn->sock);
		if (hd_sock_failure(&conn->sock) != HD_SOCK_READY)
		{
			if (hd_xact_in_session(conn) && !hd_conn_drop_lost_reader(conn))
				hd_conn_fail(conn, HD_SOCK_LOST, false);
			hd_conn_disconnect(conn);
		}
		else if (conn->invalidated && conn->xact.state == HD_RXACT_NONE)
			hd_conn_disconnect(conn);
	}
	if (conn->session != 0)
		return;
	if (hd_xact_in_session(conn) && !hd_conn_drop_lost_reader(conn))
		hd_conn_fail(conn, HD_SOCK_LOST, false);
	conn->invalidated = false;
	conn_open_session(conn);
}

/* ---- failures --------------------------------------------------------------- */

/*
 * The server whose loss the error being raised reports (conn_lost), for
 * hd_conn_attempt; InvalidOid while no such error is on its way.
 */
static Oid lost_server = InvalidOid;

/*
 * Whether conn's remote transaction may be given up when its session is
 * lost: a participant that only read, at READ COMMITTED, where every
 * statement on a data node takes a snapshot of its own, so nothing the
 * transaction saw or will see depends on that remote transaction, and its
 * COMMIT would have had nothing to make durable.  Not one that wrote (its
 * writes are gone: the transaction must fail), nor one that ran SQL a
 * caller gave (which may have written), nor under REPEATABLE READ or
 * SERIALIZABLE, where the remote snapshot, and the checks of its COMMIT,
 * are part of what the transaction promises.
 */
static bool
xact_droppable(const HdConn *conn)
{
	const HdRemoteXact *x = &conn->xact;

	return x->state == HD_RXACT_OPEN && !x->wrote && !x->ran_sql &&
		!IsolationUsesXactSnapshot();
}

/*
 * conn's session was dropped because its node, or the node's PostgreSQL
 * connection, is gone, and an error saying so is about to be raised.  With
 * report, the node could not be reached at all: every backend learns at
 * once that it is down.  A remote transaction that may be given up is;
 * when none is left on conn, hd_conn_attempt may drop the error.
 */
static void
conn_lost(HdConn *conn, const char *why, bool report)
{
	/* the monitor logs the transitions it sees, a backend's may be missed */
	if (report && OidIsValid(conn->serverid) &&
		hd_health_report_failure(conn->serverid, why) &&
		MyBackendType == B_BACKEND)
		ereport(LOG,
				(errmsg("hyperdist: data node \"%s\" is unavailable: this session could not reach it",
						conn->node_name),
				 errdetail_internal("%s", why)));
	if (xact_droppable(conn))
		conn->xact.state = HD_RXACT_NONE;
	lost_server = conn->xact.state == HD_RXACT_NONE ? conn->serverid : InvalidOid;
}

/*
 * Raises the error for a failed wait or a lost session, after closing the
 * socket so that the next use starts afresh.
 */
void
hd_conn_fail(HdConn *conn, HdSockStatus why, bool opening)
{
	const char *name = conn->node_name;
	char	   *where = psprintf("%s:%d", conn->host, conn->port);
	char	   *detail;

	hd_conn_disconnect(conn);
	switch (why)
	{
		case HD_SOCK_AUTH_FAILED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("data node \"%s\" refused the access node's key", name),
					 errhint("Add the access node's public key (%s/access_node.pub) to the authorized keys of the agent at %s, then send the agent SIGHUP.",
							 hd_keys_dir_path(), where)));
			break;
		case HD_SOCK_HANDSHAKE_FAILED:

			/*
			 * Unusable either way: a wrong key, or an agent that closed the
			 * connection halfway (it is dying or starting), which libzmq
			 * reports alike.  Down for every backend, so reads fail over.
			 */
			conn_lost(conn, psprintf("The secure handshake with the agent at %s failed.", where),
					  true);
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to data node \"%s\"", name),
					 errdetail("The secure handshake with the agent at %s failed.", where),
					 errhint("Check that the data node's agent_public_key option holds the agent's public key, and that the agent runs with the same security setting.")));
			break;
		case HD_SOCK_TIMEOUT:

			/*
			 * Only the session's own connect timeout says the node cannot
			 * be reached.  A deadline the caller set (hd_conn_set_deadline:
			 * the health monitor's checks, the bound on COMMIT PREPARED,
			 * the resolver) says it was slow, which the caller judges: the
			 * monitor marks a node down only after its checks have failed
			 * for hyperdist.node_failure_timeout.  Waits without a caller's
			 * deadline never time out once the session is open.
			 */
			if (!opening)
			{
				detail = psprintf("The agent at %s sent no reply before the deadline of this step; the session was closed.",
								  where);
				conn_lost(conn, detail, false);
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("data node \"%s\" did not answer in time", name),
						 errdetail_internal("%s", detail)));
			}
			if (hd_wait_deadline != 0)
				detail = psprintf("The agent at %s did not answer before the deadline of this step.",
								  where);
			else
				detail = psprintf("The agent at %s did not answer within %d seconds.",
								  where, hd_connect_timeout);
			conn_lost(conn, detail, hd_wait_deadline == 0);
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to data node \"%s\"", name),
					 errdetail_internal("%s", detail),
					 errhint("Check that hyperdist-agent is running there and that the data node's agent_public_key matches the agent's key.")));
			break;
		case HD_SOCK_LOST:
		case HD_SOCK_SESSION_GONE:
			if (why == HD_SOCK_SESSION_GONE)
				detail = psprintf("The agent at %s no longer knows this session; it was restarted.",
								  where);
			else if (opening)
				detail = psprintf("The agent at %s closed the connection.", where);
			else
				detail = psprintf("The connection to the agent at %s broke.", where);
			/* a restarted agent is reachable: only its sessions are gone */
			conn_lost(conn, detail, why == HD_SOCK_LOST);
			if (opening)
				ereport(ERROR,
						(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						 errmsg("could not connect to data node \"%s\"", name),
						 errdetail_internal("%s", detail)));
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lost connection to data node \"%s\"", name),
					 errdetail_internal("%s", detail),
					 hd_xact_in_session(conn) ?
					 errhint("The remote transaction on the data node was lost; retry the transaction.") : 0));
			break;
		case HD_SOCK_READY:
			break;
	}
	elog(ERROR, "unexpected socket status %d", (int) why);
}

void
hd_conn_protocol_error(HdConn *conn, const char *why)
{
	const char *name = conn->node_name;

	hd_conn_disconnect(conn);
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("invalid message from data node \"%s\"", name),
			 errdetail_internal("%s", why)));
}

/* The session's PostgreSQL connection is gone, or the data node ended it. */
bool
hd_ends_session(const Hyperdist__Error *err)
{
	const char *severity = err->severity ? err->severity : "";

	return strncmp(err->sqlstate, "08", 2) == 0 ||
		strncmp(err->sqlstate, "57P", 3) == 0 ||
		strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0;
}

/*
 * Raises an error the data node or agent reported for this session.  One
 * that ended the session also drops it here, so the next use reopens it.
 */
void
hd_conn_remote_error(HdConn *conn, const Hyperdist__Error *err, const char *sql)
{
	if (hd_ends_session(err))
	{
		hd_conn_disconnect(conn);
		/* the PostgreSQL connection lost or ended: not the node, maybe */
		if (strcmp(err->sqlstate, "08006") == 0 || strncmp(err->sqlstate, "57P", 3) == 0)
			conn_lost(conn, err->message ? err->message : "", false);
	}
	hd_report_remote_error(ERROR, conn->node_name, err, sql);
	pg_unreachable();
}

/*
 * Whether code is that of an error conn_lost may have flagged: a connection
 * exception, or the data node's PostgreSQL shutting down or not taking
 * sessions.
 */
static bool
lost_errcode(int code)
{
	return ERRCODE_TO_CATEGORY(code) == ERRCODE_CONNECTION_EXCEPTION ||
		code == ERRCODE_ADMIN_SHUTDOWN || code == ERRCODE_CRASH_SHUTDOWN ||
		code == ERRCODE_CANNOT_CONNECT_NOW;
}

/*
 * The one place where remote/ drops an error without a subtransaction.
 * That is safe for the errors dropped, and only those: conn_lost flagged
 * them right after the session layer had dropped the session (socket
 * closed, its pending requests and streams forgotten) and given up its
 * remote transaction or had none, and the remote layer holds no lock,
 * buffer pin, relation or cache reference at those points; its memory is
 * in contexts that are reset or deleted with their owners.  What transaction
 * abort would still do is restored here: the memory context, and the
 * interrupt holdoff counts errfinish() reset.  fn itself must hold nothing
 * of the kind while it calls into remote/ (see connection.h).
 */
Oid
hd_conn_attempt(HdConnAttempt fn, void *arg, const List *again)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			holdoff = InterruptHoldoffCount;
	int			cancel_holdoff = QueryCancelHoldoffCount;
	volatile Oid lost = InvalidOid;

	lost_server = InvalidOid;
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		lost = lost_server;
		lost_server = InvalidOid;
		if (!OidIsValid(lost) || list_member_oid(again, lost))
			PG_RE_THROW();
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!lost_errcode(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		ereport(DEBUG1,
				(errmsg_internal("going on without a lost data node: %s",
								 edata->message)));
		FreeErrorData(edata);
		InterruptHoldoffCount = holdoff;
		QueryCancelHoldoffCount = cancel_holdoff;
	}
	PG_END_TRY();
	lost_server = InvalidOid;
	return lost;
}

/* ---- the cache ------------------------------------------------------------------ */

/*
 * A data node's options or a user mapping changed: sessions built from
 * them are reopened at their next use outside a remote transaction.  Only
 * flags here: this can run in the middle of opening a session.
 */
void
hd_conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	HdConnEntry *entry;

	if (conn_cache == NULL)
		return;
	hash_seq_init(&scan, conn_cache);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		HdConn	   *conn = entry->conn;

		if (conn == NULL)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && conn->server_hash == hashvalue) ||
			(cacheid == USERMAPPINGOID &&
			 (conn->mapping_hash == hashvalue || conn->mapping_hash == 0)))
			conn->invalidated = true;
	}
}

static HdConn *
conn_cache_get(Oid serverid, Oid userid)
{
	HdConnKey	key;
	HdConnEntry *entry;
	bool		found;

	if (conn_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(HdConnKey);
		ctl.entrysize = sizeof(HdConnEntry);
		conn_cache = hash_create("hyperdist connections", 8, &ctl,
								 HASH_ELEM | HASH_BLOBS);
	}

	key.serverid = serverid;
	key.userid = userid;
	entry = hash_search(conn_cache, &key, HASH_ENTER, &found);
	if (!found)
		entry->conn = NULL;
	/* entries are never removed, so HdConn pointers stay valid */
	if (entry->conn == NULL)
		entry->conn = conn_new(serverid, userid, NULL);
	return entry->conn;
}

/*
 * At process exit, before the ZeroMQ context goes: a Close to every agent,
 * so that they roll back at once what the sessions left open.
 */
static void
disconnect_all(void)
{
	HASH_SEQ_STATUS scan;
	HdConnEntry *entry;
	dlist_mutable_iter iter;

	if (conn_cache != NULL)
	{
		hash_seq_init(&scan, conn_cache);
		while ((entry = hash_seq_search(&scan)) != NULL)
			if (entry->conn != NULL)
				hd_conn_disconnect(entry->conn);
	}
	dlist_foreach_modify(iter, &uncached_conns)
		hd_conn_disconnect(dlist_container(HdConn, uncached_node, iter.cur));
}

/* ---- public API: sessions ---------------------------------------------------- */

/* set while sessions must not be used (hd_conn_forbid) */
static const char *forbidden_reason = NULL;

void
hd_conn_forbid(const char *reason)
{
	forbidden_reason = reason;
}

static void
check_allowed(void)
{
	if (forbidden_reason != NULL)
		elog(ERROR, "data node session requested while %s", forbidden_reason);
}

HdConn *
hd_conn_get(Oid serverid, bool transactional)
{
	HdConn	   *conn;

	check_allowed();
	conn = conn_cache_get(serverid, GetUserId());

	hd_conn_ensure_session(conn);
	if (transactional)
		hd_txn_begin_on(conn);
	return conn;
}

typedef struct ConnGet
{
	Oid			serverid;
	bool		transactional;
	HdConn	   *conn;
} ConnGet;

static void
conn_get(void *arg)
{
	ConnGet    *get = arg;

	get->conn = hd_conn_get(get->serverid, get->transactional);
}

HdConn *
hd_conn_try_get(Oid serverid, bool transactional)
{
	ConnGet		get = {serverid, transactional, NULL};

	if (OidIsValid(hd_conn_attempt(conn_get, &get, NIL)))
		return NULL;
	return get.conn;
}

HdConn *
hd_conn_open(const HdConnTarget *target)
{
	HdConn	   *conn;

	check_allowed();
	conn = conn_new(InvalidOid, InvalidOid, target);

	dlist_push_tail(&uncached_conns, &conn->uncached_node);
	PG_TRY();
	{
		conn_open_session(conn);
	}
	PG_CATCH();
	{
		dlist_delete(&conn->uncached_node);
		MemoryContextDelete(conn->cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return conn;
}

/* Frees an uncached session; also used at transaction end. */
static void
conn_destroy(HdConn *conn)
{
	hd_conn_disconnect(conn);
	dlist_delete(&conn->uncached_node);
	MemoryContextDelete(conn->cxt);
}

void
hd_conn_close(HdConn *conn)
{
	if (OidIsValid(conn->serverid))
	{
		/* a cached session outlives its users; just renew it */
		conn->invalidated = true;
		if (hd_conn_idle(conn) && conn->xact.state == HD_RXACT_NONE)
			hd_conn_disconnect(conn);
		return;
	}
	conn_destroy(conn);
}

const char *
hd_conn_node_name(const HdConn *conn)
{
	return conn->node_name;
}

bool
hd_conn_in_transaction(const HdConn *conn)
{
	return conn->xact.state != HD_RXACT_NONE;
}

void
hd_conn_mark_written(HdConn *conn)
{
	if (conn->xact.state == HD_RXACT_OPEN)
		conn->xact.wrote = true;
}

void
hd_conn_relay_notices(HdConn *conn)
{
	conn->relay_notices = true;
}

void
hd_conn_mark_caller_sql(HdConn *conn)
{
	if (conn->xact.state == HD_RXACT_OPEN)
		conn->xact.ran_sql = true;
}

static void
invalidate_if_server(HdConn *conn, void *arg)
{
	if (conn->serverid != *(Oid *) arg)
		return;
	conn->invalidated = true;
	if (hd_conn_idle(conn) && conn->xact.state == HD_RXACT_NONE)
		hd_conn_disconnect(conn);
}

void
hd_conn_invalidate_server(Oid serverid)
{
	hd_conn_visit(invalidate_if_server, &serverid);
}

/* ---- for remote/txn.c (remote/conn_internal.h) ------------------------------ */

HdRemoteXact *
hd_conn_xact(HdConn *conn)
{
	return &conn->xact;
}

Oid
hd_conn_server(const HdConn *conn)
{
	return conn->serverid;
}

bool
hd_conn_idle(const HdConn *conn)
{
	return conn->nreqs == 0 && conn->stream == NULL;
}

/*
 * True while the session takes part in the local transaction, so losing
 * the session is an error.  That includes a prepared branch: another
 * session could finish it, but reopening one inside the COMMIT callback
 * would hold the client for the whole deadline when the agent is down,
 * while the background worker finishes it as soon as the agent is back.
 */
bool
hd_xact_in_session(const HdConn *conn)
{
	return conn->xact.state != HD_RXACT_NONE;
}

bool
hd_conn_alive(const HdConn *conn)
{
	return conn->session != 0;
}

void
hd_conn_check(HdConn *conn)
{
	hd_conn_ensure_session(conn);
}

void
hd_conn_visit(HdConnVisitor fn, void *arg)
{
	HASH_SEQ_STATUS scan;
	HdConnEntry *entry;

	if (conn_cache == NULL)
		return;
	hash_seq_init(&scan, conn_cache);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (entry->conn != NULL)
			fn(entry->conn, arg);
}

static void
end_xact_cached(HdConn *conn, void *arg)
{
	hd_scan_savepoint_forget(conn, 0);
	if (conn->invalidated && hd_conn_idle(conn) && conn->xact.state == HD_RXACT_NONE)
		hd_conn_disconnect(conn);
}

void
hd_conn_end_xact(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &uncached_conns)
		conn_destroy(dlist_container(HdConn, uncached_node, iter.cur));
	hd_conn_visit(end_xact_cached, NULL);
}

void
hd_conn_discard_session(HdConn *conn)
{
	hd_conn_disconnect(conn);
}

bool
hd_conn_drop_lost_reader(HdConn *conn)
{
	if (!xact_droppable(conn))
		return false;
	if (conn->session != 0)
	{
		if (conn->sock.dealer == NULL || !hd_conn_idle(conn))
			return false;
		hd_sock_drain_monitor(&conn->sock);
		if (hd_sock_failure(&conn->sock) == HD_SOCK_READY)
			return false;
		hd_conn_disconnect(conn);
	}
	conn->xact.state = HD_RXACT_NONE;
	return true;
}
