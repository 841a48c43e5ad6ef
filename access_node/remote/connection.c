/*
 * remote/connection.c — this backend's sessions with data node agents.
 *
 * Structure follows postgres_fdw's connection.c: a cache of sessions keyed
 * by (foreign server, user) in TopMemoryContext, kept across transactions,
 * invalidated by catalog changes, with the transaction logic in txn.c.
 *
 * ZeroMQ inside a backend (see docs/ARCHITECTURE.md):
 *  - one context per process, created on first use (never in the
 *    postmaster), torn down by on_proc_exit so that the abort callback can
 *    still queue ROLLBACKs during ShutdownPostgres;
 *  - libzmq's I/O threads are spawned under BlockSig, so PostgreSQL's
 *    signals always reach the main thread;
 *  - every wait goes through the latch (WaitEventSetWait on ZMQ_FD), after
 *    reading ZMQ_EVENTS, because ZMQ_FD is edge-triggered; so cancel,
 *    statement_timeout and terminate work everywhere;
 *  - libzmq's message buffers are malloc'ed: every frame is unpacked and
 *    closed before anything can raise an ERROR;
 *  - a monitor socket per DEALER reports disconnects and failed handshakes,
 *    so a wait fails at once instead of timing out.
 *
 * Requests carry a sequence number; a session remembers which ones are
 * pending and how their replies are handled (HdReqMode).  Replies to
 * anything else (cancelled requests, the agent's seq-0 probes) are dropped.
 * An interrupted wait cancels its request on the agent without waiting.
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
 * Streams: the agent answers a session's requests in order, so a stream
 * that is still producing rows when another request is sent is read ahead
 * into memory first.  A stream released early inside a remote transaction
 * is drained (cancelling it would abort the data node's transaction);
 * elsewhere it is cancelled.  A row too large for one frame comes in
 * fragments (protocol 1.3), which the stream joins and hands on as a batch
 * of that one row.
 */
#include "postgres.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <zmq.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/defrem.h"
#include "common/string.h"
#include "foreign/foreign.h"
#include "lib/ilist.h"
#include "lib/stringinfo.h"
#include "libpq/pqsignal.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "fdw/option.h"
#include "guc.h"
#include "keys.h"
#include "remote/conn_internal.h"
#include "remote/connection.h"
#include "remote/error.h"
#include "remote/txn.h"
#include "sqlstate.h"
#include "wire.h"

/*
 * Socket tuning: ZMTP heartbeats find a dead agent while nothing is awaited;
 * a lost connection is retried at once, then backing off to 2 s.
 */
#define HD_HEARTBEAT_IVL_MS		5000
#define HD_HEARTBEAT_TIMEOUT_MS	15000
#define HD_RECONNECT_IVL_MS		100
#define HD_RECONNECT_IVL_MAX_MS	2000
/* How long a Close may wait in the socket for the agent after zmq_close. */
#define HD_CLOSE_LINGER_MS		100

/* External fds: context (term mailbox, reaper, I/O thread, its poller). */
#define HD_FDS_PER_CONTEXT		5
/* Per session: DEALER mailbox, its TCP connection, two monitor mailboxes. */
#define HD_FDS_PER_SOCKET		4

#define HD_MONITOR_EVENTS \
	(ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
	 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/* Longest remote SQL kept for error context lines. */
#define HD_CONTEXT_SQL_LEN		1024
/* Largest control message sent from transaction callbacks (stack buffer). */
#define HD_NOWAIT_MAX			256

/* What a wait on a socket ended with. */
typedef enum HdSockStatus
{
	HD_SOCK_READY,
	HD_SOCK_TIMEOUT,
	HD_SOCK_LOST,				/* the connection broke */
	HD_SOCK_HANDSHAKE_FAILED,	/* CurveZMQ or ZMTP handshake failed */
	HD_SOCK_AUTH_FAILED,		/* the agent refused our key */
	HD_SOCK_SESSION_GONE		/* the agent no longer knows the session */
} HdSockStatus;

/* A DEALER with its monitor and the wait set watching both. */
typedef struct HdSock
{
	void	   *dealer;
	void	   *monitor;		/* PAIR receiving the DEALER's events */
	WaitEventSet *wes;
	int			nfds;			/* external fds reserved for it */
	/* sticky: what the monitor has reported since the socket was opened */
	bool		lost;
	bool		handshake_failed;
	bool		auth_failed;
} HdSock;

/* A request whose final reply has not arrived yet. */
typedef struct HdRequest
{
	uint32		seq;
	HdReqMode	mode;
	int			level;			/* transaction nest level that sent it */
	char	   *sql;			/* clipped copy, for error context */
	HdStream   *stream;			/* the stream reading its rows, if any */
	uint32		window;			/* query: credit window */
	uint32		unacked;		/* query: batches consumed, credit not sent */
	bool		checks_txn;		/* its final reply's transaction status must
								 * be the one expected (check_txn_status) */
	void	   *wire;			/* encoding, while its batch is replayable */
	size_t		wire_len;
} HdRequest;

/*
 * Inside a remote transaction a scan its reader may abandon (hd_scan_start)
 * runs under a savepoint, so that abandoning it cancels the query and rolls
 * back to the savepoint instead of reading every remaining row: a cancel
 * alone would abort the data node's transaction.  The savepoint is released
 * lazily, ahead of the session's next request of the transaction.
 */
#define HD_SCAN_SAVEPOINT "hyperdist_scan"

typedef enum HdScanSpState
{
	HD_SCAN_SP_NONE,
	HD_SCAN_SP_RUNNING,			/* the scan (request seq) runs under it */
	HD_SCAN_SP_RELEASABLE		/* the scan ended: release it before the
								 * session's next request */
} HdScanSpState;

typedef struct HdScanSavepoint
{
	HdScanSpState state;
	uint32		seq;
	int			level;			/* transaction nest level that made it */
} HdScanSavepoint;

struct HdConn
{
	Oid			serverid;		/* InvalidOid: from hd_conn_open, uncached */
	Oid			userid;
	HdConnTarget *target;		/* uncached only: where to reopen */
	dlist_node	uncached_node;

	MemoryContext cxt;			/* the HdConn and all it owns */
	MemoryContext reply_cxt;	/* replies of exec waits and session setup */
	MemoryContext replay_cxt;	/* encodings of the replayable batch */

	char	   *node_name;
	char	   *host;
	int			port;
	char	   *server_version;
	uint32		server_hash;	/* syscache hash values, for invalidation */
	uint32		mapping_hash;	/* 0: no user mapping */
	bool		invalidated;

	HdSock		sock;
	uint64		session;		/* 0: none on the agent */
	uint64		epoch;
	uint32		next_seq;

	HdRequest  *reqs;
	int			nreqs;
	int			maxreqs;
	HdStream   *stream;			/* stream whose rows arrive now, if any */

	bool		replayable;
	uint32		replay_seq;		/* reserved: re-Hello, then its settings */
	bool		relay_notices;	/* the next request asks for notices */

	HdRemoteXact xact;
	HdScanSavepoint scan_sp;
};

typedef struct HdStoredBatch
{
	uint8_t    *data;
	size_t		len;
	uint32		nrows;
} HdStoredBatch;

struct HdStream
{
	HdConn	   *conn;			/* NULL once ended, cancelled or released */
	uint32		seq;
	MemoryContext cxt;			/* deleting it releases the stream */
	MemoryContext batch_cxt;	/* the batch last returned */
	MemoryContextCallback release_cb;
	char	   *node_name;
	char	   *sql;
	Hyperdist__RowDescription *columns;	/* NULL until described */
	bool		ended;			/* its final reply arrived */
	bool		cancelled;		/* cancelled or lost before its end */
	uint64		rows;
	uint64		rows_seen;
	List	   *stored;			/* HdStoredBatch read ahead of the caller */
	HdStoredBatch *current;		/* stored batch last returned */
	HdStoredBatch *row;			/* a row whose fragments are arriving */
	size_t		row_cap;		/* bytes allocated for row->data */
	HdBatchReader rows_in;		/* hd_stream_next_text_row's position */
	bool		rows_in_batch;	/* rows_in points into a live batch */
};

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

static void *zctx = NULL;
static pid_t zctx_pid = 0;
static bool zctx_started = false;
static uint32 monitor_counter = 0;

static HTAB *conn_cache = NULL;
static dlist_head uncached_conns = DLIST_STATIC_INIT(uncached_conns);

/* Bound on every wait (hd_conn_set_deadline); 0: none. */
static TimestampTz wait_deadline = 0;

static void conn_fail(HdConn *conn, HdSockStatus why, bool opening) pg_attribute_noreturn();
static void conn_protocol_error(HdConn *conn, const char *why) pg_attribute_noreturn();
static void conn_remote_error(HdConn *conn, const Hyperdist__Error *err,
							  const char *sql) pg_attribute_noreturn();
static void conn_disconnect(HdConn *conn);
static void conn_hello(HdConn *conn, uint32 hello_seq, uint32 settings_seq);
static void stream_buffer_rest(HdStream *s);
static uint32 conn_request_at(HdConn *conn, HdEnvelope *env, HdReqMode mode,
							  const char *sql, int flags, int level);
static void init_exec(Hyperdist__Exec *exec, HdEnvelope *env, const char *sql,
					  int nparams, const Oid *types, const char *const *values);
static void scan_savepoint_release(HdConn *conn);
static void scan_savepoint_ended(HdConn *conn, uint32 seq, bool ok);

/* ---- the ZeroMQ context -------------------------------------------------- */

static void
zctx_teardown(int code, Datum arg)
{
	HASH_SEQ_STATUS scan;
	HdConnEntry *entry;
	dlist_mutable_iter iter;

	if (zctx == NULL || zctx_pid != getpid())
		return;

	if (conn_cache != NULL)
	{
		hash_seq_init(&scan, conn_cache);
		while ((entry = hash_seq_search(&scan)) != NULL)
			if (entry->conn != NULL)
				conn_disconnect(entry->conn);
	}
	dlist_foreach_modify(iter, &uncached_conns)
		conn_disconnect(dlist_container(HdConn, uncached_node, iter.cur));

	while (zmq_ctx_term(zctx) != 0 && zmq_errno() == EINTR)
		;
	zctx = NULL;
}

static bool
acquire_fds(int n)
{
	for (int i = 0; i < n; i++)
	{
		if (!AcquireExternalFD())
		{
			while (i-- > 0)
				ReleaseExternalFD();
			return false;
		}
	}
	return true;
}

static void
report_too_many_fds(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("could not open a connection to a data node"),
			 errdetail("There are too many open files on the local server."),
			 errhint("Raise the server's max_files_per_process and/or \"ulimit -n\" limits.")));
}

/*
 * The process's context, created on first use.  Created here, never in
 * _PG_init: the postmaster forks, and a context does not survive a fork.
 */
static void *
zctx_get(void)
{
	if (zctx != NULL)
	{
		if (zctx_pid != getpid())
			elog(ERROR, "ZeroMQ context was created by process %d", (int) zctx_pid);
		return zctx;
	}

	if (!acquire_fds(HD_FDS_PER_CONTEXT))
		report_too_many_fds();
	zctx = zmq_ctx_new();
	if (zctx == NULL)
	{
		int			err = zmq_errno();

		for (int i = 0; i < HD_FDS_PER_CONTEXT; i++)
			ReleaseExternalFD();
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create a ZeroMQ context: %s", zmq_strerror(err))));
	}
	/* BLOCKY=0: sockets linger 0 by default, so zmq_ctx_term never hangs */
	zmq_ctx_set(zctx, ZMQ_BLOCKY, 0);
	zmq_ctx_set(zctx, ZMQ_IO_THREADS, 1);
	zctx_pid = getpid();
	on_proc_exit(zctx_teardown, (Datum) 0);
	return zctx;
}

/*
 * zmq_socket; the first one starts libzmq's threads, which must not be
 * able to take PostgreSQL's signals even before they block them themselves.
 */
static void *
zsocket(int type)
{
	void	   *ctx = zctx_get();
	sigset_t	save;
	void	   *s;
	int			err;

	if (!zctx_started)
		pthread_sigmask(SIG_SETMASK, &BlockSig, &save);
	s = zmq_socket(ctx, type);
	err = zmq_errno();
	if (!zctx_started)
		pthread_sigmask(SIG_SETMASK, &save, NULL);
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create a ZeroMQ socket: %s", zmq_strerror(err))));
	zctx_started = true;
	return s;
}

/* ---- sockets --------------------------------------------------------------- */

static void
zsetopt(void *s, int option, const void *value, size_t len, const char *name)
{
	if (zmq_setsockopt(s, option, value, len) != 0)
	{
		int			err = zmq_errno();

		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set ZeroMQ socket option %s: %s", name, zmq_strerror(err))));
	}
}

static void
zsetopt_int(void *s, int option, int value, const char *name)
{
	zsetopt(s, option, &value, sizeof(value), name);
}

/* CurveZMQ client keys: ours from the keys directory, the agent's given. */
static void
sock_set_curve(void *dealer, const HdConnTarget *target)
{
	char	   *dir = hd_keys_dir_path();
	char	   *path = psprintf("%s/access_node.key", dir);
	HdKeyPair	pair;
	char		err[512];

	if (!hd_key_valid(target->agent_public_key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent_public_key for data node \"%s\"",
						target->node_name ? target->node_name : target->host),
				 errhint("The key is the 40-character Z85 text of the agent's .pub file.")));
	if (!hd_key_load_pair(path, &pair, err, sizeof(err)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not load the access node's key pair from \"%s\"", path),
				 errdetail_internal("%s", err),
				 errhint("Create it with \"hyperdist-agent --keygen %s --name access_node\" and add access_node.pub to each agent's authorized keys.",
						 dir)));

	zsetopt(dealer, ZMQ_CURVE_SERVERKEY, target->agent_public_key,
			HD_Z85_KEY_LEN + 1, "CURVE_SERVERKEY");
	zsetopt(dealer, ZMQ_CURVE_PUBLICKEY, pair.public_key,
			HD_Z85_KEY_LEN + 1, "CURVE_PUBLICKEY");
	zsetopt(dealer, ZMQ_CURVE_SECRETKEY, pair.secret_key,
			HD_Z85_KEY_LEN + 1, "CURVE_SECRETKEY");
	explicit_bzero(&pair, sizeof(pair));
}

static void
sock_configure(void *dealer, const HdConnTarget *target)
{
	int64		maxmsg = HD_MAX_REPLY_FRAME;

	/* never queue requests for a connection that is not up (agent restart) */
	zsetopt_int(dealer, ZMQ_IMMEDIATE, 1, "IMMEDIATE");
	zsetopt_int(dealer, ZMQ_LINGER, 0, "LINGER");
	zsetopt(dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg), "MAXMSGSIZE");
	zsetopt_int(dealer, ZMQ_HEARTBEAT_IVL, HD_HEARTBEAT_IVL_MS, "HEARTBEAT_IVL");
	zsetopt_int(dealer, ZMQ_HEARTBEAT_TIMEOUT, HD_HEARTBEAT_TIMEOUT_MS, "HEARTBEAT_TIMEOUT");
	zsetopt_int(dealer, ZMQ_RECONNECT_IVL, HD_RECONNECT_IVL_MS, "RECONNECT_IVL");
	zsetopt_int(dealer, ZMQ_RECONNECT_IVL_MAX, HD_RECONNECT_IVL_MAX_MS, "RECONNECT_IVL_MAX");
	zsetopt_int(dealer, ZMQ_IPV6, 1, "IPV6");
	if (target->agent_public_key != NULL && target->agent_public_key[0] != '\0')
		sock_set_curve(dealer, target);
}

/* tcp://host:port, with IPv6 literals bracketed. */
static char *
agent_endpoint(const HdConnTarget *target)
{
	const char *name = target->node_name ? target->node_name : target->host;

	if (target->host == NULL || target->host[0] == '\0' ||
		strpbrk(target->host, " \t\r\n/[]") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent host \"%s\" for data node \"%s\"",
						target->host ? target->host : "", name)));
	if (target->port < 1 || target->port > 65535)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent port %d for data node \"%s\"",
						target->port, name)));
	if (strchr(target->host, ':') != NULL)
		return psprintf("tcp://[%s]:%d", target->host, target->port);
	return psprintf("tcp://%s:%d", target->host, target->port);
}

static int
zfd_of(void *s)
{
	int			fd;
	size_t		len = sizeof(fd);

	if (zmq_getsockopt(s, ZMQ_FD, &fd, &len) != 0)
	{
		int			err = zmq_errno();

		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not get the ZeroMQ socket's descriptor: %s", zmq_strerror(err))));
	}
	return fd;
}

static void
sock_close(HdSock *hs, int linger_ms)
{
	if (hs->wes != NULL)
		FreeWaitEventSet(hs->wes);
	if (hs->dealer != NULL)
	{
		if (linger_ms > 0)
			zmq_setsockopt(hs->dealer, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
		zmq_close(hs->dealer);
	}
	if (hs->monitor != NULL)
		zmq_close(hs->monitor);
	while (hs->nfds-- > 0)
		ReleaseExternalFD();
	memset(hs, 0, sizeof(*hs));
}

/*
 * Opens a DEALER to the target's agent, with a monitor, and a wait set
 * (latch, postmaster death, both ZMQ_FDs) allocated in wes_cxt.
 */
static void
sock_open(HdSock *hs, const HdConnTarget *target, MemoryContext wes_cxt)
{
	char	   *endpoint = agent_endpoint(target);
	char		monitor_ep[64];

	memset(hs, 0, sizeof(*hs));
	if (!acquire_fds(HD_FDS_PER_SOCKET))
		report_too_many_fds();
	hs->nfds = HD_FDS_PER_SOCKET;

	PG_TRY();
	{
		hs->dealer = zsocket(ZMQ_DEALER);
		sock_configure(hs->dealer, target);

		snprintf(monitor_ep, sizeof(monitor_ep), "inproc://hyperdist-monitor-%u",
				 ++monitor_counter);
		if (zmq_socket_monitor(hs->dealer, monitor_ep, HD_MONITOR_EVENTS) != 0)
		{
			int			err = zmq_errno();

			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not monitor a ZeroMQ socket: %s", zmq_strerror(err))));
		}
		hs->monitor = zsocket(ZMQ_PAIR);
		if (zmq_connect(hs->monitor, monitor_ep) != 0)
		{
			int			err = zmq_errno();

			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not connect a ZeroMQ monitor: %s", zmq_strerror(err))));
		}

		hs->wes = CreateWaitEventSet(wes_cxt, 4);
		AddWaitEventToSet(hs->wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(hs->wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		AddWaitEventToSet(hs->wes, WL_SOCKET_READABLE, zfd_of(hs->dealer), NULL, NULL);
		AddWaitEventToSet(hs->wes, WL_SOCKET_READABLE, zfd_of(hs->monitor), NULL, NULL);

		/* the address is resolved and connected by libzmq's I/O thread */
		if (zmq_connect(hs->dealer, endpoint) != 0)
		{
			int			err = zmq_errno();

			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to the agent at \"%s\": %s",
							endpoint, zmq_strerror(err))));
		}
	}
	PG_CATCH();
	{
		sock_close(hs, 0);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* ZMQ_EVENTS; reading it also re-arms the edge-triggered ZMQ_FD. */
static int
sock_events(void *s)
{
	int			events;
	size_t		len = sizeof(events);

	while (zmq_getsockopt(s, ZMQ_EVENTS, &events, &len) != 0)
	{
		int			err = zmq_errno();

		if (err != EINTR)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not poll a ZeroMQ socket: %s", zmq_strerror(err))));
		len = sizeof(events);
	}
	return events;
}

/* Reads every queued monitor event into the socket's sticky flags. */
static void
sock_drain_monitor(HdSock *hs)
{
	for (;;)
	{
		zmq_msg_t	msg;
		uint16_t	event = 0;
		bool		more;

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, hs->monitor, ZMQ_DONTWAIT) < 0)
		{
			int			err = zmq_errno();

			zmq_msg_close(&msg);
			if (err == EINTR)
				continue;
			return;
		}
		if (zmq_msg_size(&msg) >= sizeof(event))
			memcpy(&event, zmq_msg_data(&msg), sizeof(event));
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);

		/* the second frame (the endpoint) arrives with the first */
		while (more)
		{
			zmq_msg_init(&msg);
			more = zmq_msg_recv(&msg, hs->monitor, ZMQ_DONTWAIT) >= 0 &&
				zmq_msg_more(&msg);
			zmq_msg_close(&msg);
		}

		switch (event)
		{
			case ZMQ_EVENT_DISCONNECTED:
				hs->lost = true;
				break;
			case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
				hs->auth_failed = true;
				break;
			case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
				hs->handshake_failed = true;
				break;
		}
	}
}

static HdSockStatus
sock_failure(const HdSock *hs)
{
	if (hs->auth_failed)
		return HD_SOCK_AUTH_FAILED;
	if (hs->handshake_failed)
		return HD_SOCK_HANDSHAKE_FAILED;
	if (hs->lost)
		return HD_SOCK_LOST;
	return HD_SOCK_READY;
}

/*
 * Waits until ZMQ_EVENTS shows `want` (ZMQ_POLLIN or ZMQ_POLLOUT), the
 * monitor reports a failure, or deadline (0: none) passes.  Always waits for
 * ZMQ_FD to become readable, also for POLLOUT: ZMQ_FD signals any change.
 */
static HdSockStatus
sock_wait(HdSock *hs, int want, TimestampTz deadline)
{
	for (;;)
	{
		WaitEvent	event;
		long		timeout = -1;
		HdSockStatus failure;

		CHECK_FOR_INTERRUPTS();
		if (sock_events(hs->dealer) & want)
			return HD_SOCK_READY;
		sock_drain_monitor(hs);
		failure = sock_failure(hs);
		if (failure != HD_SOCK_READY)
			return failure;
		if (deadline != 0)
		{
			timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (timeout <= 0)
				return HD_SOCK_TIMEOUT;
		}
		event.events = 0;
		if (WaitEventSetWait(hs->wes, timeout, &event, 1, PG_WAIT_EXTENSION) > 0 &&
			(event.events & WL_LATCH_SET))
			ResetLatch(MyLatch);
	}
}

/* ---- encoding and decoding ------------------------------------------------ */

/*
 * protobuf-c allocator on a memory context.  NO_OOM: unpack must see NULL
 * rather than a longjmp, so it can clean up.  Nothing is freed one by one:
 * every decoding context is reset as a whole.
 */
static void *
pb_alloc(void *cxt, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) cxt, size,
									  MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
}

static void
pb_free(void *cxt, void *ptr)
{
}

typedef enum HdRecvStatus
{
	HD_RECV_NONE,				/* nothing queued */
	HD_RECV_OK,
	HD_RECV_BAD					/* see *why */
} HdRecvStatus;

/*
 * Reads one queued message without waiting and unpacks it into cxt.  The
 * zmq message is closed before returning, whatever happened.
 */
static HdRecvStatus
sock_recv(HdSock *hs, MemoryContext cxt, HdEnvelope **env, const char **why)
{
	ProtobufCAllocator alloc = {pb_alloc, pb_free, cxt};
	zmq_msg_t	msg;
	HdWireStatus status;
	bool		more;

	*env = NULL;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, hs->dealer, ZMQ_DONTWAIT) < 0)
	{
		int			err = zmq_errno();

		zmq_msg_close(&msg);
		if (err == EAGAIN || err == EINTR)
			return HD_RECV_NONE;
		*why = zmq_strerror(err);
		return HD_RECV_BAD;
	}
	more = zmq_msg_more(&msg);
	status = hd_wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg),
							HD_MAX_REPLY_FRAME, &alloc, env, why);
	zmq_msg_close(&msg);

	if (more)
	{
		/* the caller drops the socket, and the rest of the message with it */
		*env = NULL;
		*why = "message has more than one frame";
		return HD_RECV_BAD;
	}
	if (status != HD_WIRE_OK)
		return HD_RECV_BAD;
	/* the agent's liveness probes are requests with seq 0 */
	if ((*env)->seq != 0 && hd_wire_is_request((*env)->body_case))
	{
		*env = NULL;
		*why = "the agent sent a request";
		return HD_RECV_BAD;
	}
	return HD_RECV_OK;
}

static void *
encode_envelope(const HdEnvelope *env, const char *node_name, MemoryContext cxt,
				size_t *len)
{
	size_t		size = hd_wire_size(env);
	void	   *buf;

	if (size > HD_MAX_REQUEST_FRAME)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("request for data node \"%s\" is too large", node_name),
				 errdetail("The request takes %zu bytes; the limit is %d bytes.",
						   size, HD_MAX_REQUEST_FRAME)));
	buf = MemoryContextAlloc(cxt, size);
	*len = hd_wire_encode(env, buf);
	return buf;
}

static bool
is_final_reply(const HdEnvelope *env)
{
	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_DONE:
		case HYPERDIST__ENVELOPE__BODY_ERROR:
		case HYPERDIST__ENVELOPE__BODY_HELLO_OK:
		case HYPERDIST__ENVELOPE__BODY_PONG:
			return true;
		default:
			return false;
	}
}

static bool
is_unknown_session(const HdEnvelope *env)
{
	return env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR &&
		strcmp(env->error->sqlstate, HD_SQLSTATE_CONNECTION_DOES_NOT_EXIST) == 0;
}

static Hyperdist__Param **
build_params(int nparams, const Oid *types, const char *const *values)
{
	Hyperdist__Param **params;

	if (nparams == 0)
		return NULL;
	params = palloc(sizeof(Hyperdist__Param *) * nparams);
	for (int i = 0; i < nparams; i++)
	{
		Hyperdist__Param *p = palloc(sizeof(Hyperdist__Param));

		hyperdist__param__init(p);
		p->has_type_oid = true;
		p->type_oid = types != NULL ? types[i] : InvalidOid;
		if (values[i] != NULL)
		{
			p->has_value = true;
			p->value.data = (uint8_t *) values[i];
			p->value.len = strlen(values[i]);
		}
		params[i] = p;
	}
	return params;
}

/* ---- pending requests ------------------------------------------------------ */

static int
req_index(const HdConn *conn, uint32 seq)
{
	for (int i = 0; i < conn->nreqs; i++)
		if (conn->reqs[i].seq == seq)
			return i;
	return -1;
}

static HdRequest *
req_add(HdConn *conn, uint32 seq, HdReqMode mode, const char *sql, int level)
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
static void
req_remove(HdConn *conn, int i)
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
static char *
req_sql(const HdConn *conn, int i)
{
	return conn->reqs[i].sql ? pstrdup(conn->reqs[i].sql) : NULL;
}

static bool
conn_idle(const HdConn *conn)
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
static bool
xact_in_session(const HdConn *conn)
{
	return conn->xact.state != HD_RXACT_NONE;
}

/* ---- sending ---------------------------------------------------------------- */

static void
conn_zmq_failure(HdConn *conn, const char *what, int err)
{
	const char *msg = zmq_strerror(err);

	conn_disconnect(conn);
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("could not %s a message for data node \"%s\": %s",
					what, conn->node_name, msg)));
}

/*
 * Sends one frame, waiting for room (or, with ZMQ_IMMEDIATE, for the
 * connection) until deadline (0: the backend's wait deadline, if any).
 */
static void
conn_send(HdConn *conn, const void *buf, size_t len, TimestampTz deadline,
		  bool opening)
{
	for (;;)
	{
		HdSockStatus st;
		int			err;

		if (zmq_send(conn->sock.dealer, buf, len, ZMQ_DONTWAIT) >= 0)
			return;
		err = zmq_errno();
		if (err == EINTR)
			continue;
		if (err != EAGAIN)
			conn_zmq_failure(conn, "send", err);
		st = sock_wait(&conn->sock, ZMQ_POLLOUT,
					   deadline != 0 ? deadline : wait_deadline);
		if (st != HD_SOCK_READY)
			conn_fail(conn, st, opening);
	}
}

static void
envelope_address(HdConn *conn, HdEnvelope *env, uint32 seq)
{
	env->has_session = true;
	env->session = conn->session;
	env->has_epoch = true;
	env->epoch = conn->epoch;
	env->has_seq = true;
	env->seq = seq;
}

/* Credit, Cancel: no reply, sent at once. */
static void
conn_send_control(HdConn *conn, HdEnvelope *env, uint32 seq)
{
	size_t		len;
	void	   *buf;

	envelope_address(conn, env, seq);
	buf = encode_envelope(env, conn->node_name, CurrentMemoryContext, &len);
	conn_send(conn, buf, len, 0, false);
	pfree(buf);
}

/*
 * For transaction callbacks and memory-context callbacks: queues a small
 * message if there is room right now.  Never waits, allocates or raises.
 */
static bool
conn_send_quietly(HdConn *conn, HdEnvelope *env, uint32 seq)
{
	uint8_t		buf[HD_NOWAIT_MAX];
	size_t		len;

	if (conn->sock.dealer == NULL || conn->session == 0)
		return false;
	envelope_address(conn, env, seq);
	len = hd_wire_size(env);
	if (len > sizeof(buf))
		return false;
	hd_wire_encode(env, buf);
	for (;;)
	{
		if (zmq_send(conn->sock.dealer, buf, len, ZMQ_DONTWAIT) >= 0)
			return true;
		if (zmq_errno() != EINTR)
			return false;
	}
}

/* Cancels pending request i on the agent (without waiting) and forgets it. */
static void
conn_cancel_request(HdConn *conn, int i)
{
	Hyperdist__Cancel cancel = HYPERDIST__CANCEL__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	if (conn->reqs[i].stream != NULL)
		conn->reqs[i].stream->cancelled = true;
	env.body_case = HYPERDIST__ENVELOPE__BODY_CANCEL;
	env.cancel = &cancel;
	(void) conn_send_quietly(conn, &env, conn->reqs[i].seq);
	req_remove(conn, i);
}

/* ---- session lifecycle ------------------------------------------------------ */

static HdConnTarget *
target_copy(MemoryContext cxt, const HdConnTarget *src)
{
	HdConnTarget *t = MemoryContextAllocZero(cxt, sizeof(HdConnTarget));

#define COPY_STR(f) (t->f = src->f ? MemoryContextStrdup(cxt, src->f) : NULL)
	COPY_STR(node_name);
	COPY_STR(host);
	COPY_STR(dbname);
	COPY_STR(user);
	COPY_STR(password);
	COPY_STR(agent_public_key);
#undef COPY_STR
	t->port = src->port;
	return t;
}

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
		conn->target = target_copy(cxt, target);
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

static UserMapping *
find_user_mapping(Oid serverid, Oid userid)
{
	if (!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
							   ObjectIdGetDatum(serverid)) &&
		!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							   ObjectIdGetDatum(serverid)))
		return NULL;
	return GetUserMapping(userid, serverid);
}

/* Where to open the session now; refreshes the names used in messages. */
static const HdConnTarget *
conn_current_target(HdConn *conn)
{
	const HdConnTarget *target = conn->target;

	if (OidIsValid(conn->serverid))
	{
		UserMapping *um = find_user_mapping(conn->serverid, conn->userid);

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
		switch (sock_recv(&conn->sock, conn->reply_cxt, &env, &why))
		{
			case HD_RECV_OK:
				if (env->seq == seq && env->body_case != HYPERDIST__ENVELOPE__BODY_NOTICE)
					return env;
				continue;
			case HD_RECV_BAD:
				conn_protocol_error(conn, why);
			case HD_RECV_NONE:
				break;
		}
		st = sock_wait(&conn->sock, ZMQ_POLLIN, deadline);
		if (st != HD_SOCK_READY)
			conn_fail(conn, st, true);
	}
}

static char *passfile_lookup(const char *host, int port, const char *dbname,
							 const char *user);

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
		hello.password = passfile_lookup(target->host, target->port,
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

	buf = encode_envelope(&env, conn->node_name, CurrentMemoryContext, &len);
	conn_send(conn, buf, len, deadline, true);
	/* the password must not linger in freed memory */
	explicit_bzero(buf, len);
	pfree(buf);
}

static void
conn_accept_hello(HdConn *conn, HdEnvelope *env)
{
	Hyperdist__HelloOk *ok;

	if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
		hd_report_remote_error(ERROR, conn->node_name, env->error, NULL);
	if (env->body_case != HYPERDIST__ENVELOPE__BODY_HELLO_OK)
		conn_protocol_error(conn, "the agent did not answer Hello with HelloOk");
	ok = env->hello_ok;
	if (ok->major != HD_PROTO_MAJOR)
	{
		const char *name = conn->node_name;

		conn_disconnect(conn);
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("data node \"%s\" speaks protocol version %u, the access node version %d",
						name, ok->major, HD_PROTO_MAJOR),
				 errhint("Install the same hyperdist version on the access node and the data nodes.")));
	}
	conn->session = ok->session;
	conn->epoch = ok->epoch;
	conn_set_str(conn, &conn->server_version, ok->server_version);
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

	sql = psprintf("SET datestyle = ISO; SET intervalstyle = postgres; "
				   "SET extra_float_digits = 3; SET timezone = %s",
				   quote_literal_cstr(pg_get_timezone_name(session_timezone)));
	exec.has_sql = true;
	exec.sql.data = (uint8_t *) sql;
	exec.sql.len = strlen(sql);
	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &exec;
	conn_send_control(conn, &env, seq);

	reply = conn_wait_setup(conn, seq, deadline);
	if (reply->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
		conn_remote_error(conn, reply->error, sql);
	if (reply->body_case != HYPERDIST__ENVELOPE__BODY_DONE)
		conn_protocol_error(conn, "the agent did not answer Exec with Done");
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
		if (wait_deadline != 0 && wait_deadline < deadline)
			deadline = wait_deadline;
		if (conn->sock.dealer == NULL)
			sock_open(&conn->sock, target, conn->cxt);
		conn_send_hello(conn, target, hello_seq, deadline);
		conn_accept_hello(conn, conn_wait_setup(conn, hello_seq, deadline));
		conn_send_settings(conn, settings_seq, deadline);
	}
	PG_CATCH();
	{
		conn_disconnect(conn);
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
static void
conn_disconnect(HdConn *conn)
{
	int			linger = 0;

	if (conn->session != 0)
	{
		Hyperdist__Close close_body = HYPERDIST__CLOSE__INIT;
		HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

		env.body_case = HYPERDIST__ENVELOPE__BODY_CLOSE;
		env.close = &close_body;
		if (conn_send_quietly(conn, &env, conn->next_seq++))
			linger = HD_CLOSE_LINGER_MS;
	}
	while (conn->nreqs > 0)
	{
		if (conn->reqs[conn->nreqs - 1].stream != NULL)
			conn->reqs[conn->nreqs - 1].stream->cancelled = true;
		req_remove(conn, conn->nreqs - 1);
	}
	sock_close(&conn->sock, linger);
	conn->session = 0;
	conn->epoch = 0;
	conn->replayable = false;
	conn->scan_sp.state = HD_SCAN_SP_NONE;
	MemoryContextReset(conn->replay_cxt);
}

/* Starts a replayable batch: nothing pending and no remote transaction. */
static void
conn_start_batch(HdConn *conn)
{
	MemoryContextReset(conn->replay_cxt);
	conn->replayable = true;
	conn->replay_seq = conn->next_seq;
	conn->next_seq += 2;
}

/* A real reply arrived: the session is alive, the batch is not replayed. */
static void
conn_confirm_batch(HdConn *conn)
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
	ProtobufCAllocator alloc = {pb_alloc, pb_free, CurrentMemoryContext};
	HdEnvelope *env;
	void	   *buf;
	size_t		len;

	env = hyperdist__envelope__unpack(&alloc, req->wire_len, req->wire);
	if (env == NULL)
		elog(ERROR, "could not unpack a request kept for replay");
	envelope_address(conn, env, req->seq);
	buf = encode_envelope(env, conn->node_name, CurrentMemoryContext, &len);
	conn_send(conn, buf, len, 0, false);
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
	(void) conn_send_quietly(conn, &env, conn->next_seq++);

	conn->replayable = false;
	conn->session = 0;
	/* the restart's disconnect, already followed by the new connection */
	sock_drain_monitor(&conn->sock);
	conn->sock.lost = false;
	conn_hello(conn, hello_seq, hello_seq + 1);
	for (int i = 0; i < conn->nreqs; i++)
		if (conn->reqs[i].wire != NULL)
			conn_resend(conn, &conn->reqs[i]);
	conn_confirm_batch(conn);
}

static void
conn_session_gone(HdConn *conn)
{
	if (conn->replayable)
		conn_replay(conn);
	else
		conn_fail(conn, HD_SOCK_SESSION_GONE, false);
}

/*
 * Makes sure the session exists before a request: an idle session whose
 * connection broke, or that was invalidated, is reopened, unless a remote
 * transaction was open on it (then it is lost, and that is an error).
 */
static void
conn_ensure_session(HdConn *conn)
{
	if (conn->sock.dealer != NULL && conn_idle(conn))
	{
		sock_drain_monitor(&conn->sock);
		if (sock_failure(&conn->sock) != HD_SOCK_READY)
		{
			if (xact_in_session(conn))
				conn_fail(conn, HD_SOCK_LOST, false);
			conn_disconnect(conn);
		}
		else if (conn->invalidated && conn->xact.state == HD_RXACT_NONE)
			conn_disconnect(conn);
	}
	if (conn->session != 0)
		return;
	if (xact_in_session(conn))
		conn_fail(conn, HD_SOCK_LOST, false);
	conn->invalidated = false;
	conn_open_session(conn);
}

/* ---- failures --------------------------------------------------------------- */

/*
 * Raises the error for a failed wait or a lost session, after closing the
 * socket so that the next use starts afresh.
 */
static void
conn_fail(HdConn *conn, HdSockStatus why, bool opening)
{
	const char *name = conn->node_name;
	char	   *where = psprintf("%s:%d", conn->host, conn->port);
	bool		in_xact = xact_in_session(conn);

	conn_disconnect(conn);
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
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to data node \"%s\"", name),
					 errdetail("The secure handshake with the agent at %s failed.", where),
					 errhint("Check that the data node's agent_public_key option holds the agent's public key, and that the agent runs with the same security setting.")));
			break;
		case HD_SOCK_TIMEOUT:
			if (!opening)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("data node \"%s\" did not answer in time", name),
						 errdetail("The agent at %s sent no reply before the deadline of this step; the session was closed.",
								   where)));
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to data node \"%s\"", name),
					 errdetail("The agent at %s did not answer within %d seconds.",
							   where, hd_connect_timeout),
					 errhint("Check that hyperdist-agent is running there and that the data node's agent_public_key matches the agent's key.")));
			break;
		case HD_SOCK_LOST:
		case HD_SOCK_SESSION_GONE:
			if (opening)
				ereport(ERROR,
						(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						 errmsg("could not connect to data node \"%s\"", name),
						 errdetail("The agent at %s closed the connection.", where)));
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lost connection to data node \"%s\"", name),
					 why == HD_SOCK_SESSION_GONE ?
					 errdetail("The agent at %s no longer knows this session; it was restarted.", where) :
					 errdetail("The connection to the agent at %s broke.", where),
					 in_xact ?
					 errhint("The remote transaction on the data node was lost; retry the transaction.") : 0));
			break;
		case HD_SOCK_READY:
			break;
	}
	elog(ERROR, "unexpected socket status %d", (int) why);
}

static void
conn_protocol_error(HdConn *conn, const char *why)
{
	const char *name = conn->node_name;

	conn_disconnect(conn);
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("invalid message from data node \"%s\"", name),
			 errdetail_internal("%s", why)));
}

/* The session's PostgreSQL connection is gone, or the data node ended it. */
static bool
ends_session(const Hyperdist__Error *err)
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
static void
conn_remote_error(HdConn *conn, const Hyperdist__Error *err, const char *sql)
{
	if (ends_session(err))
		conn_disconnect(conn);
	hd_report_remote_error(ERROR, conn->node_name, err, sql);
	pg_unreachable();
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

	switch (sock_recv(&conn->sock, cxt, &env, &why))
	{
		case HD_RECV_OK:
			return env;
		case HD_RECV_BAD:
			conn_protocol_error(conn, why);
		case HD_RECV_NONE:
			break;
	}
	return NULL;
}

static void
conn_grant_credit(HdConn *conn, int i)
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
	conn_send_control(conn, &env, req->seq);
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

	if (!conn->reqs[i].checks_txn || !is_final_reply(env) || !env->has_txn_status ||
		env->txn_status == HYPERDIST__TXN_STATUS__TXN_UNKNOWN ||
		conn->xact.state == HD_RXACT_FAILED)
		return;
	open = env->txn_status != HYPERDIST__TXN_STATUS__TXN_IDLE;
	if (open == expect_open)
		return;
	sql = req_sql(conn, i);
	conn_disconnect(conn);
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
		char	   *sql = req_sql(conn, i);

		req_remove(conn, i);
		conn_remote_error(conn, env->error, sql);
	}
	switch (conn->reqs[i].mode)
	{
		case HD_REQ_CHECK:
			break;
		case HD_REQ_DRAIN:
			if (env->body_case == HYPERDIST__ENVELOPE__BODY_ROW_BATCH)
				conn_grant_credit(conn, i);
			break;
		case HD_REQ_AWAIT:
			/* requests run in order, and streams are read ahead first */
			elog(ERROR, "data node \"%s\" answered request %u out of order",
				 conn->node_name, env->seq);
	}
	if (is_final_reply(env))
		req_remove(conn, i);
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
		ends_session(env->error);
}

/*
 * Waits for the next reply to pending request seq and returns it, decoded
 * into cxt, which this function resets at will.  Replies to other requests
 * are dispatched or dropped on the way.  If the wait fails (interrupt,
 * statement_timeout, a remote error of a pipelined request), request seq is
 * cancelled on the agent, without waiting, before the error propagates.
 */
static HdEnvelope *
conn_wait_for(HdConn *conn, uint32 seq, MemoryContext cxt)
{
	HdEnvelope *env = NULL;

	PG_TRY();
	{
		for (;;)
		{
			int			i;

			if (req_index(conn, seq) < 0)
				elog(ERROR, "request %u is not pending on data node \"%s\"",
					 seq, conn->node_name);
			MemoryContextReset(cxt);
			env = conn_recv(conn, cxt);
			if (env == NULL)
			{
				HdSockStatus st = sock_wait(&conn->sock, ZMQ_POLLIN,
											wait_deadline);

				if (st != HD_SOCK_READY)
					conn_fail(conn, st, false);
				continue;
			}
			i = req_index(conn, env->seq);
			if (i < 0)
				continue;		/* stale, or a probe */
			if (env->body_case == HYPERDIST__ENVELOPE__BODY_NOTICE)
			{
				conn_relay_notice(conn, env->notice);
				continue;
			}
			if (is_unknown_session(env) || batch_start_failed(conn, i, env))
			{
				conn_session_gone(conn);
				continue;
			}
			check_txn_status(conn, i, env);
			conn_confirm_batch(conn);
			if (env->seq == seq)
				break;
			conn_dispatch(conn, i, env);
		}
	}
	PG_CATCH();
	{
		int			i = req_index(conn, seq);

		if (i >= 0)
			conn_cancel_request(conn, i);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return env;
}

/* ---- requests ----------------------------------------------------------------- */

/* conn_request_at flags */
#define REQ_OPENS_XACT	0x01	/* START TRANSACTION */
#define REQ_TXN_CONTROL 0x02	/* savepoints, PREPARE...: see hd_conn_send_txn_sql */

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
/* Sets an Exec's or Query's request for the data node's notices. */
static void
ask_for_notices(HdEnvelope *env)
{
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_EXEC)
		env->exec->has_notices = env->exec->notices = true;
	else if (env->body_case == HYPERDIST__ENVELOPE__BODY_QUERY)
		env->query->has_notices = env->query->notices = true;
}

static uint32
conn_request_at(HdConn *conn, HdEnvelope *env, HdReqMode mode, const char *sql,
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
		stream_buffer_rest(conn->stream);
	conn_ensure_session(conn);
	if (!(flags & REQ_TXN_CONTROL) && conn->xact.state == HD_RXACT_OPEN)
	{
		scan_savepoint_release(conn);
		hd_txn_sync_savepoints(conn);
		if (env->body_case != HYPERDIST__ENVELOPE__BODY_QUERY)
			conn->xact.wrote = true;
	}
	if (conn_idle(conn) && !xact_in_session(conn))
		conn_start_batch(conn);
	if (flags & REQ_OPENS_XACT)
	{
		memset(&conn->xact, 0, sizeof(conn->xact));
		conn->xact.state = HD_RXACT_OPEN;
		conn->xact.depth = 1;
	}

	seq = conn->next_seq++;
	envelope_address(conn, env, seq);
	replayable = conn->replayable;
	buf = encode_envelope(env, conn->node_name,
						  replayable ? conn->replay_cxt : CurrentMemoryContext, &len);
	req = req_add(conn, seq, mode, sql, level);
	req->checks_txn = !(flags & REQ_TXN_CONTROL);
	if (replayable)
	{
		req->wire = buf;
		req->wire_len = len;
	}

	conn_send(conn, buf, len, 0, false);
	if (!replayable)
		pfree(buf);
	return seq;
}

/*
 * A request of the local transaction's work, at the current nest level;
 * with opens_xact, the START TRANSACTION of its remote transaction.
 */
static uint32
conn_request(HdConn *conn, HdEnvelope *env, HdReqMode mode, const char *sql,
			 bool opens_xact)
{
	if (opens_xact)
		return conn_request_at(conn, env, mode, sql,
							   REQ_OPENS_XACT | REQ_TXN_CONTROL, 0);
	return conn_request_at(conn, env, mode, sql, 0,
						   GetCurrentTransactionNestLevel());
}

static void
init_exec(Hyperdist__Exec *exec, HdEnvelope *env, const char *sql, int nparams,
		  const Oid *types, const char *const *values)
{
	exec->has_sql = true;
	exec->sql.data = (uint8_t *) sql;
	exec->sql.len = strlen(sql);
	exec->n_params = nparams;
	exec->params = build_params(nparams, types, values);
	env->body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env->exec = exec;
}

/* ---- savepoints of abandonable scans (see HdScanSavepoint) ------------------ */

/* Sends transaction-control sql, pipelined, checked by a later wait. */
static void
send_checked_txn_sql(HdConn *conn, const char *sql, int level)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	init_exec(&exec, &env, sql, 0, NULL, NULL);
	(void) conn_request_at(conn, &env, HD_REQ_CHECK, sql, REQ_TXN_CONTROL, level);
}

/* Before the session's next request of the transaction. */
static void
scan_savepoint_release(HdConn *conn)
{
	if (conn->scan_sp.state != HD_SCAN_SP_RELEASABLE)
		return;
	conn->scan_sp.state = HD_SCAN_SP_NONE;
	send_checked_txn_sql(conn, "RELEASE SAVEPOINT " HD_SCAN_SAVEPOINT, conn->scan_sp.level);
}

/* The scan's final reply arrived: release its savepoint, or (error) forget it. */
static void
scan_savepoint_ended(HdConn *conn, uint32 seq, bool ok)
{
	if (conn->scan_sp.state == HD_SCAN_SP_RUNNING && conn->scan_sp.seq == seq)
		conn->scan_sp.state = ok ? HD_SCAN_SP_RELEASABLE : HD_SCAN_SP_NONE;
}

/*
 * The savepoint is gone with (sub)transaction nest level `level` (its
 * RELEASE or ROLLBACK TO, or the end of the transaction): a scan it covered
 * can no longer be rolled back, and is drained if abandoned.
 */
static void
scan_savepoint_forget(HdConn *conn, int level)
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
static bool
scan_savepoint_rollback(HdConn *conn, int i)
{
	Hyperdist__Cancel cancel = HYPERDIST__CANCEL__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	int			level = conn->scan_sp.level;

	env.body_case = HYPERDIST__ENVELOPE__BODY_CANCEL;
	env.cancel = &cancel;
	if (!conn_send_quietly(conn, &env, conn->reqs[i].seq))
		return false;
	conn->scan_sp.state = HD_SCAN_SP_NONE;
	req_remove(conn, i);
	if (!hd_conn_queue_checked(conn, "ROLLBACK TO SAVEPOINT " HD_SCAN_SAVEPOINT
							   "; RELEASE SAVEPOINT " HD_SCAN_SAVEPOINT, level))
		conn_disconnect(conn);	/* rolls the remote transaction back */
	return true;
}

/* ---- targets and the password file ------------------------------------------ */

/*
 * One field of a passfile line, as libpq's pwdfMatchesString: "*" matches
 * anything, backslash escapes.  Returns the rest of the line after the
 * field's colon, or NULL.
 */
static char *
passfile_match(char *buf, const char *token)
{
	const char *t = token;
	bool		escaped = false;

	if (buf[0] == '*' && buf[1] == ':')
		return buf + 2;
	while (*buf != '\0')
	{
		if (*buf == '\\' && !escaped)
		{
			buf++;
			escaped = true;
		}
		if (*buf == ':' && *t == '\0' && !escaped)
			return buf + 1;
		escaped = false;
		if (*t == '\0' || *buf != *t)
			return NULL;
		buf++;
		t++;
	}
	return NULL;
}

/* The password field: unescaped, up to an unescaped colon. */
static char *
passfile_password(const char *field)
{
	char	   *pw = palloc(strlen(field) + 1);
	char	   *out = pw;

	for (const char *p = field; *p != ':' && *p != '\0'; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		*out++ = *p;
	}
	*out = '\0';
	return pw;
}

/*
 * Looks the password up in hyperdist.passfile (libpq passfile syntax),
 * matching the agent's host and port.  Like libpq, a file others can read
 * is ignored with a warning.
 */
static char *
passfile_lookup(const char *host, int port, const char *dbname, const char *user)
{
	char	   *path = hd_passfile_path();
	char		portstr[16];
	struct stat st;
	StringInfoData line;
	FILE	   *f;
	char	   *password = NULL;

	if (stat(path, &st) != 0)
		return NULL;
	if (!S_ISREG(st.st_mode))
	{
		ereport(WARNING,
				(errmsg("password file \"%s\" is not a plain file", path)));
		return NULL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
	{
		ereport(WARNING,
				(errmsg("password file \"%s\" has group or world access; permissions should be u=rw (0600) or less",
						path)));
		return NULL;
	}
	f = AllocateFile(path, "r");
	if (f == NULL)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not open password file \"%s\": %m", path)));
		return NULL;
	}

	snprintf(portstr, sizeof(portstr), "%d", port);
	initStringInfo(&line);
	while (password == NULL && pg_get_line_buf(f, &line))
	{
		char	   *t = line.data;

		(void) pg_strip_crlf(t);
		if (t[0] == '#' || t[0] == '\0')
			continue;
		if ((t = passfile_match(t, host)) != NULL &&
			(t = passfile_match(t, portstr)) != NULL &&
			(t = passfile_match(t, dbname)) != NULL &&
			(t = passfile_match(t, user)) != NULL)
			password = passfile_password(t);
	}
	explicit_bzero(line.data, line.maxlen);
	pfree(line.data);
	FreeFile(f);
	return password;
}

HdConnTarget *
hd_conn_target_for_server(Oid serverid, Oid userid)
{
	ForeignServer *server = GetForeignServer(serverid);
	HdConnTarget *target = palloc0(sizeof(HdConnTarget));
	HdServerOptions opts;
	UserMapping *um;
	ListCell   *lc;

	if (!hd_server_is_data_node(server))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("foreign server \"%s\" is not a hyperdist data node",
						server->servername)));
	hd_server_options_get(server, &opts);
	target->node_name = server->servername;
	target->host = opts.host;
	target->port = opts.port;
	target->dbname = opts.dbname;
	target->agent_public_key = opts.agent_public_key;

	um = find_user_mapping(serverid, userid);
	if (um != NULL)
	{
		foreach(lc, um->options)
		{
			DefElem    *def = lfirst_node(DefElem, lc);

			if (strcmp(def->defname, "user") == 0)
				target->user = defGetString(def);
			else if (strcmp(def->defname, "password") == 0)
				target->password = defGetString(def);
		}
	}
	if (target->user == NULL)
		target->user = GetUserNameFromId(userid, false);
	return target;
}

/* ---- the cache ------------------------------------------------------------------ */

/*
 * A data node's options or a user mapping changed: sessions built from
 * them are reopened at their next use outside a remote transaction.  Only
 * flags here: this can run in the middle of opening a session.
 */
static void
conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	HdConnEntry *entry;

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
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, conn_inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, conn_inval_callback, (Datum) 0);
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

	conn_ensure_session(conn);
	if (transactional)
		hd_txn_begin_on(conn);
	return conn;
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
	conn_disconnect(conn);
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
		if (conn_idle(conn) && conn->xact.state == HD_RXACT_NONE)
			conn_disconnect(conn);
		return;
	}
	conn_destroy(conn);
}

const char *
hd_conn_node_name(const HdConn *conn)
{
	return conn->node_name;
}

const char *
hd_conn_server_version(const HdConn *conn)
{
	return conn->server_version ? conn->server_version : "";
}

bool
hd_conn_in_transaction(const HdConn *conn)
{
	return conn->xact.state != HD_RXACT_NONE;
}

void
hd_conn_invalidate_server(Oid serverid)
{
	HASH_SEQ_STATUS scan;
	HdConnEntry *entry;

	if (conn_cache == NULL)
		return;
	hash_seq_init(&scan, conn_cache);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		HdConn	   *conn = entry->conn;

		if (conn == NULL || conn->serverid != serverid)
			continue;
		conn->invalidated = true;
		if (conn_idle(conn) && conn->xact.state == HD_RXACT_NONE)
			conn_disconnect(conn);
	}
}

/* ---- public API: Exec ---------------------------------------------------------- */

uint64
hd_exec(HdConn *conn, const char *sql, int nparams, const Oid *types,
		const char *const *values, char **command_tag)
{
	uint32		seq = hd_exec_send(conn, sql, nparams, types, values);

	return hd_exec_wait(conn, seq, command_tag);
}

uint32
hd_exec_send(HdConn *conn, const char *sql, int nparams, const Oid *types,
			 const char *const *values)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	init_exec(&exec, &env, sql, nparams, types, values);
	return conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
}

uint32
hd_exec_send_copy(HdConn *conn, const char *sql, const void *data, size_t len)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	init_exec(&exec, &env, sql, 0, NULL, NULL);
	exec.has_copy_data = true;
	exec.copy_data.data = (uint8_t *) data;
	exec.copy_data.len = len;
	return conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
}

/*
 * Waits for the final reply to Exec request seq.  A data node's error is
 * raised, or, with err, returned there (false) unless it ended the session.
 */
static bool
exec_finish(HdConn *conn, uint32 seq, char **command_tag, uint64 *rows,
			HdRemoteError *err)
{
	HdEnvelope *env = conn_wait_for(conn, seq, conn->reply_cxt);
	int			i = req_index(conn, seq);
	char	   *sql = req_sql(conn, i);
	Hyperdist__Done *done;

	req_remove(conn, i);
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
	{
		const char *st = env->error->sqlstate;

		if (err == NULL || ends_session(env->error))
			conn_remote_error(conn, env->error, sql);
		/* common/wire.c checked: five characters of [0-9A-Z] */
		err->sqlerrcode = MAKE_SQLSTATE(st[0], st[1], st[2], st[3], st[4]);
		err->message = pstrdup(env->error->message);
		return false;
	}
	if (env->body_case != HYPERDIST__ENVELOPE__BODY_DONE)
		conn_protocol_error(conn, "the agent did not answer Exec with Done");

	done = env->done;
	if (command_tag != NULL)
		*command_tag = pstrdup(done->command_tag ? done->command_tag : "");
	if (rows != NULL)
		*rows = done->has_rows ? done->rows : 0;
	return true;
}

uint32
hd_exec_send_params(HdConn *conn, const char *sql, int nparams,
					const HdParamValue *params)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__Param *pbs = palloc(sizeof(Hyperdist__Param) * Max(nparams, 1));
	Hyperdist__Param **pbps = palloc(sizeof(Hyperdist__Param *) * Max(nparams, 1));
	uint32		seq;

	init_exec(&exec, &env, sql, 0, NULL, NULL);
	for (int i = 0; i < nparams; i++)
	{
		hyperdist__param__init(&pbs[i]);
		pbs[i].has_type_oid = true;
		pbs[i].type_oid = params[i].type;
		pbs[i].has_binary = true;
		pbs[i].binary = params[i].binary;
		if (params[i].data != NULL)
		{
			pbs[i].has_value = true;
			pbs[i].value.data = (uint8_t *) params[i].data;
			pbs[i].value.len = params[i].len;
		}
		pbps[i] = &pbs[i];
	}
	exec.n_params = nparams;
	exec.params = pbps;
	seq = conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
	pfree(pbs);
	pfree(pbps);
	return seq;
}

uint64
hd_exec_wait(HdConn *conn, uint32 seq, char **command_tag)
{
	uint64		rows;

	(void) exec_finish(conn, seq, command_tag, &rows, NULL);
	return rows;
}

/* ---- public API: streams -------------------------------------------------------- */

/*
 * The stream's memory is going away (hd_stream_close, or its context reset
 * on error or abort).  Never waits or raises: an unfinished query inside a
 * remote transaction is drained by later waits (cancelling it would abort
 * the data node's transaction); anywhere else it is cancelled.
 */
static void
stream_release(void *arg)
{
	HdStream   *s = arg;
	HdConn	   *conn = s->conn;
	int			i;

	if (conn == NULL)
		return;
	i = req_index(conn, s->seq);
	conn->stream = NULL;
	s->conn = NULL;
	if (i < 0)
		return;
	conn->reqs[i].stream = NULL;
	if (conn->xact.state != HD_RXACT_OPEN)
		conn_cancel_request(conn, i);
	else if (conn->scan_sp.state != HD_SCAN_SP_RUNNING || conn->scan_sp.seq != s->seq ||
			 !scan_savepoint_rollback(conn, i))
		conn->reqs[i].mode = HD_REQ_DRAIN;
}

static void
stream_lost(HdStream *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("query on data node \"%s\" was cancelled", s->node_name),
			 errdetail("The transaction or the connection it ran in ended.")));
}

static Hyperdist__RowDescription *
copy_row_description(const Hyperdist__RowDescription *src)
{
	Hyperdist__RowDescription *rd = palloc(sizeof(Hyperdist__RowDescription));

	hyperdist__row_description__init(rd);
	rd->n_columns = src->n_columns;
	rd->columns = palloc(sizeof(Hyperdist__Column *) * (src->n_columns + 1));
	for (size_t i = 0; i < src->n_columns; i++)
	{
		Hyperdist__Column *c = palloc(sizeof(Hyperdist__Column));

		*c = *src->columns[i];
		c->name = pstrdup(src->columns[i]->name);
		rd->columns[i] = c;
	}
	return rd;
}

/*
 * Joins a fragment of a row too large for one frame to those before it.
 * After the last one the joined tuple is checked like a batch of one row
 * and returned (the caller owns it); before, NULL.  The buffer grows with
 * what arrived, never with what the agent might claim, and a row may take
 * at most HD_MAX_ROW_BYTES.
 */
static HdStoredBatch *
stream_join_fragment(HdStream *s, const Hyperdist__RowBatch *fragment)
{
	HdStoredBatch *row = s->row;
	size_t		len = fragment->data.len;
	const char *why;

	if (row == NULL)
	{
		if (fragment->nrows > 0)
			conn_protocol_error(s->conn, "the last fragment of a row came without the first");
		row = s->row = MemoryContextAllocZero(s->cxt, sizeof(HdStoredBatch));
		s->row_cap = 0;
	}
	if (len > HD_MAX_ROW_BYTES - row->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row from data node \"%s\" is too large", s->node_name),
				 errdetail("A row may take at most %zu bytes.", HD_MAX_ROW_BYTES),
				 errcontext("remote SQL: %s", s->sql)));
	if (row->len + len > s->row_cap)
	{
		size_t		cap = Max(row->len + len, Min(2 * s->row_cap, HD_MAX_ROW_BYTES));

		row->data = row->data == NULL ? MemoryContextAllocHuge(s->cxt, cap)
			: repalloc_huge(row->data, cap);
		s->row_cap = cap;
	}
	memcpy(row->data + row->len, fragment->data.data, len);
	row->len += len;
	if (fragment->nrows == 0)
		return NULL;
	why = hd_batch_check(row->data, row->len, 1, s->columns->n_columns);
	if (why != NULL)
		conn_protocol_error(s->conn, why);
	row->nrows = 1;
	s->row = NULL;
	return row;
}

/*
 * Applies one reply of the stream's query.  Returns true when it brings
 * rows: a row batch (checked against the row description), or the last
 * fragment of a row, whose joined tuple *row then holds (NULL for a
 * batch).  Every batch and fragment returns its credit.
 */
static bool
stream_apply(HdStream *s, HdEnvelope *env, HdStoredBatch **row)
{
	HdConn	   *conn = s->conn;
	int			i = req_index(conn, s->seq);
	Hyperdist__RowBatch *batch;
	MemoryContext old;
	const char *why;

	*row = NULL;

	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION:
			if (s->columns != NULL)
				conn_protocol_error(conn, "second row description in one query");
			old = MemoryContextSwitchTo(s->cxt);
			s->columns = copy_row_description(env->row_description);
			MemoryContextSwitchTo(old);
			return false;

		case HYPERDIST__ENVELOPE__BODY_ROW_BATCH:
			batch = env->row_batch;
			if (s->columns == NULL)
				conn_protocol_error(conn, "row batch before the row description");
			if (batch->has_fragment && batch->fragment)
				*row = stream_join_fragment(s, batch);
			else if (s->row != NULL)
				conn_protocol_error(conn, "a row batch came between the fragments of a row");
			else if ((why = hd_batch_check(batch->data.data, batch->data.len,
										   batch->nrows, s->columns->n_columns)) != NULL)
				conn_protocol_error(conn, why);
			s->rows_seen += batch->nrows;
			conn_grant_credit(conn, i);
			return *row != NULL || !(batch->has_fragment && batch->fragment);

		case HYPERDIST__ENVELOPE__BODY_DONE:
			if (s->row != NULL)
				conn_protocol_error(conn, "the query ended inside a fragmented row");
			scan_savepoint_ended(conn, s->seq, true);
			s->ended = true;
			s->rows = env->done->has_rows ? env->done->rows : s->rows_seen;
			if (s->columns == NULL)
			{
				old = MemoryContextSwitchTo(s->cxt);
				s->columns = palloc(sizeof(Hyperdist__RowDescription));
				hyperdist__row_description__init(s->columns);
				MemoryContextSwitchTo(old);
			}
			req_remove(conn, i);
			return false;

		case HYPERDIST__ENVELOPE__BODY_ERROR:
			scan_savepoint_ended(conn, s->seq, false);
			s->ended = true;
			req_remove(conn, i);
			conn_remote_error(conn, env->error, s->sql);

		default:
			conn_protocol_error(conn, "unexpected reply to a query");
	}
}

static void
stream_describe(HdStream *s)
{
	HdStoredBatch *row;

	while (s->columns == NULL)
	{
		if (s->conn == NULL)
			stream_lost(s);
		if (stream_apply(s, conn_wait_for(s->conn, s->seq, s->batch_cxt), &row))
			conn_protocol_error(s->conn, "row batch before the row description");
	}
}

/*
 * Another request is about to be sent on the stream's session: read the
 * rest of the query into memory first, since the agent answers requests in
 * order.  The batch the caller holds (in batch_cxt) stays valid.
 */
static void
stream_buffer_rest(HdStream *s)
{
	MemoryContext scratch;

	if (s->columns == NULL)
		stream_describe(s);
	scratch = AllocSetContextCreate(s->cxt, "hyperdist stream read-ahead",
									ALLOCSET_DEFAULT_SIZES);
	while (s->conn != NULL && !s->ended)
	{
		HdEnvelope *env = conn_wait_for(s->conn, s->seq, scratch);
		HdStoredBatch *b;

		if (stream_apply(s, env, &b))
		{
			MemoryContext old;

			if (b == NULL)
			{
				b = MemoryContextAlloc(s->cxt, sizeof(HdStoredBatch));
				b->len = env->row_batch->data.len;
				b->nrows = env->row_batch->nrows;
				b->data = MemoryContextAllocHuge(s->cxt, b->len > 0 ? b->len : 1);
				/* protobuf-c leaves the data of an empty batch NULL */
				if (b->len > 0)
					memcpy(b->data, env->row_batch->data.data, b->len);
			}
			old = MemoryContextSwitchTo(s->cxt);
			s->stored = lappend(s->stored, b);
			MemoryContextSwitchTo(old);
		}
	}
	MemoryContextDelete(scratch);
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

HdStream *
hd_query_start(HdConn *conn, const char *sql, int nparams, const Oid *types,
			   const char *const *values, HdRowFormat format)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "hyperdist stream",
											  ALLOCSET_DEFAULT_SIZES);
	HdStream   *s = MemoryContextAllocZero(cxt, sizeof(HdStream));
	Hyperdist__Query query = HYPERDIST__QUERY__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	int			i;

	s->cxt = cxt;
	s->batch_cxt = AllocSetContextCreate(cxt, "hyperdist stream batch",
										 ALLOCSET_DEFAULT_SIZES);
	s->node_name = MemoryContextStrdup(cxt, conn->node_name);
	s->sql = MemoryContextStrdup(cxt, sql);

	query.has_sql = true;
	query.sql.data = (uint8_t *) sql;
	query.sql.len = strlen(sql);
	query.n_params = nparams;
	query.params = build_params(nparams, types, values);
	query.has_binary = true;
	query.binary = format != HD_ROWS_TEXT;
	query.has_copy = format == HD_ROWS_COPY;
	query.copy = format == HD_ROWS_COPY;
	query.has_credit = true;
	query.credit = hd_stream_window;
	query.has_batch_bytes = true;
	query.batch_bytes = hd_batch_bytes;
	env.body_case = HYPERDIST__ENVELOPE__BODY_QUERY;
	env.query = &query;

	s->seq = conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
	i = req_index(conn, s->seq);
	conn->reqs[i].stream = s;
	conn->reqs[i].window = hd_stream_window;
	conn->stream = s;
	s->conn = conn;
	s->release_cb.func = stream_release;
	s->release_cb.arg = s;
	MemoryContextRegisterResetCallback(cxt, &s->release_cb);
	return s;
}

HdStream *
hd_scan_start(HdConn *conn, const char *sql, int nparams, const Oid *types,
			  const char *const *values, HdRowFormat format)
{
	int			level = GetCurrentTransactionNestLevel();
	HdStream   *s;

	if (conn->xact.state != HD_RXACT_OPEN)
		return hd_query_start(conn, sql, nparams, types, values, format);

	/* the savepoint goes inside the caller's: sync those first */
	if (conn->stream != NULL)
		stream_buffer_rest(conn->stream);
	scan_savepoint_release(conn);
	hd_txn_sync_savepoints(conn);
	send_checked_txn_sql(conn, "SAVEPOINT " HD_SCAN_SAVEPOINT, level);
	s = hd_query_start(conn, sql, nparams, types, values, format);
	conn->scan_sp.state = HD_SCAN_SP_RUNNING;
	conn->scan_sp.seq = s->seq;
	conn->scan_sp.level = level;
	return s;
}

Hyperdist__RowDescription *
hd_stream_columns(HdStream *stream)
{
	if (stream->columns == NULL)
		stream_describe(stream);
	return stream->columns;
}

/* Hands b to the caller; hd_stream_next frees it at its next call. */
static void
stream_hand_out(HdStream *s, HdStoredBatch *b, const uint8_t **data,
				size_t *len, uint32_t *nrows)
{
	s->current = b;
	*data = b->data;
	*len = b->len;
	*nrows = b->nrows;
}

bool
hd_stream_next(HdStream *s, const uint8_t **data, size_t *len, uint32_t *nrows)
{
	if (s->current != NULL)
	{
		pfree(s->current->data);
		pfree(s->current);
		s->current = NULL;
	}
	if (s->columns == NULL)
		stream_describe(s);

	for (;;)
	{
		HdEnvelope *env;
		HdStoredBatch *row;

		if (s->stored != NIL)
		{
			stream_hand_out(s, linitial(s->stored), data, len, nrows);
			s->stored = list_delete_first(s->stored);
			return true;
		}
		if (s->ended)
			return false;
		if (s->conn == NULL || s->cancelled)
			stream_lost(s);

		env = conn_wait_for(s->conn, s->seq, s->batch_cxt);
		if (!stream_apply(s, env, &row))
			continue;
		if (row != NULL)
		{
			stream_hand_out(s, row, data, len, nrows);
			return true;
		}
		if (env->row_batch->nrows > 0)
		{
			*data = env->row_batch->data.data;
			*len = env->row_batch->data.len;
			*nrows = env->row_batch->nrows;
			return true;
		}
	}
}

/* A row that does not fit the row description: the agent broke the protocol. */
static void
stream_bad_row(HdStream *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed row from data node \"%s\"", s->node_name),
			 errcontext("remote SQL: %s", s->sql)));
}

bool
hd_stream_next_text_row(HdStream *s, char **fields, int nfields)
{
	for (;;)
	{
		uint16_t	n;
		bool		bad = false;
		const uint8_t *data;
		size_t		len;
		uint32_t	nrows;

		if (s->rows_in_batch && hd_batch_next_row(&s->rows_in, &n, &bad))
		{
			if (n != nfields)
				stream_bad_row(s);
			for (int i = 0; i < nfields; i++)
			{
				const uint8_t *f;
				int32_t		flen;

				if (!hd_batch_next_field(&s->rows_in, &f, &flen))
					stream_bad_row(s);
				fields[i] = f == NULL ? NULL : pnstrdup((const char *) f, flen);
			}
			return true;
		}
		if (bad)
			stream_bad_row(s);
		s->rows_in_batch = false;
		if (!hd_stream_next(s, &data, &len, &nrows))
			return false;
		hd_batch_reader_init(&s->rows_in, data, len);
		s->rows_in_batch = true;
	}
}

uint64
hd_stream_rows(HdStream *stream)
{
	return stream->ended ? stream->rows : stream->rows_seen;
}

void
hd_stream_close(HdStream *stream)
{
	/* the reset callback releases the query */
	MemoryContextDelete(stream->cxt);
}

/* ---- public API: ping -------------------------------------------------------------- */

static const char *
sock_status_text(HdSockStatus st)
{
	switch (st)
	{
		case HD_SOCK_AUTH_FAILED:
			return "the agent refused the access node's key";
		case HD_SOCK_HANDSHAKE_FAILED:
			return "the secure handshake with the agent failed (check agent_public_key)";
		case HD_SOCK_LOST:
		case HD_SOCK_SESSION_GONE:
			return "the agent closed the connection";
		case HD_SOCK_TIMEOUT:
			return "the agent did not answer in time";
		case HD_SOCK_READY:
			break;
	}
	return "unknown failure";
}

/* Ping, then wait for its Pong; false with *error set on failure. */
static bool
ping_exchange(HdSock *hs, TimestampTz deadline, char **error)
{
	Hyperdist__Ping ping = HYPERDIST__PING__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	MemoryContext cxt = CurrentMemoryContext;
	void	   *buf;
	size_t		len;
	HdSockStatus st;

	env.body_case = HYPERDIST__ENVELOPE__BODY_PING;
	env.ping = &ping;
	env.has_seq = true;
	env.seq = 1;
	buf = encode_envelope(&env, "", cxt, &len);

	while (zmq_send(hs->dealer, buf, len, ZMQ_DONTWAIT) < 0)
	{
		if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
		{
			*error = pstrdup(zmq_strerror(zmq_errno()));
			return false;
		}
		st = sock_wait(hs, ZMQ_POLLOUT, deadline);
		if (st != HD_SOCK_READY)
		{
			*error = pstrdup(sock_status_text(st));
			return false;
		}
	}

	for (;;)
	{
		HdEnvelope *reply;
		const char *why;

		switch (sock_recv(hs, cxt, &reply, &why))
		{
			case HD_RECV_BAD:
				*error = psprintf("invalid message from the agent: %s", why);
				return false;
			case HD_RECV_OK:
				if (reply->seq != 1)
					continue;
				if (reply->body_case == HYPERDIST__ENVELOPE__BODY_PONG)
					return true;
				if (reply->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
					*error = pstrdup(reply->error->message);
				else
					*error = pstrdup("the agent did not answer Ping with Pong");
				return false;
			case HD_RECV_NONE:
				break;
		}
		st = sock_wait(hs, ZMQ_POLLIN, deadline);
		if (st != HD_SOCK_READY)
		{
			*error = pstrdup(sock_status_text(st));
			return false;
		}
	}
}

bool
hd_agent_ping(const HdConnTarget *target, int timeout_ms, char **error)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeout_ms);
	HdSock		hs;
	volatile bool ok = false;

	*error = NULL;
	sock_open(&hs, target, CurrentMemoryContext);
	PG_TRY();
	{
		ok = ping_exchange(&hs, deadline, error);
	}
	PG_FINALLY();
	{
		sock_close(&hs, 0);
	}
	PG_END_TRY();
	return ok;
}

/* ---- internal API for txn.c ----------------------------------------------------- */

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
	return conn_idle(conn);
}

bool
hd_conn_alive(const HdConn *conn)
{
	return conn->session != 0;
}

void
hd_conn_check(HdConn *conn)
{
	conn_ensure_session(conn);
}

void
hd_conn_begin_xact(HdConn *conn, const char *sql, bool read_only)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	init_exec(&exec, &env, sql, 0, NULL, NULL);
	/* at level 0: only the top-level abort may cancel it */
	(void) conn_request(conn, &env, HD_REQ_CHECK, sql, true);
	conn->xact.read_only = read_only;
}

uint32
hd_conn_send_txn_sql(HdConn *conn, const char *sql, HdReqMode mode, int level)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	init_exec(&exec, &env, sql, 0, NULL, NULL);
	return conn_request_at(conn, &env, mode, sql, REQ_TXN_CONTROL, level);
}

TimestampTz
hd_conn_set_deadline(TimestampTz deadline)
{
	TimestampTz old = wait_deadline;

	wait_deadline = deadline;
	return old;
}

bool
hd_exec_wait_noerror(HdConn *conn, uint32 seq, char **command_tag,
					 HdRemoteError *err)
{
	return exec_finish(conn, seq, command_tag, NULL, err);
}

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
	while (sock_recv(&conn->sock, conn->reply_cxt, &env, &why) == HD_RECV_OK)
	{
		int			i = req_index(conn, env->seq);

		if (i >= 0 && is_final_reply(env))
		{
			if (conn->reqs[i].stream != NULL)
				conn->reqs[i].stream->cancelled = true;
			req_remove(conn, i);
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
	scan_savepoint_forget(conn, min_level);
	for (int i = conn->nreqs - 1; i >= 0; i--)
		if (conn->reqs[i].level >= min_level)
			conn_cancel_request(conn, i);
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
	return conn_send_quietly(conn, &env, seq);
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
	(void) req_add(conn, seq, HD_REQ_CHECK, sql, level);
	return true;
}

void
hd_conn_subxact_commit(HdConn *conn, int level)
{
	scan_savepoint_forget(conn, level);
	for (int i = 0; i < conn->nreqs; i++)
		if (conn->reqs[i].level >= level)
			conn->reqs[i].level = level - 1;
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
	scan_savepoint_forget(conn, 0);
	if (conn->invalidated && conn_idle(conn) && conn->xact.state == HD_RXACT_NONE)
		conn_disconnect(conn);
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
	conn_disconnect(conn);
}
