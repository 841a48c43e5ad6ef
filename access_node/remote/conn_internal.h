/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/conn_internal.h — what the session layer (remote/session.c,
 * request.c, exec.c) offers the remote transaction code (remote/txn.c,
 * remote/txn_resolve.c).
 *
 * Not for the rest of the extension: everything else goes through
 * remote/connection.h.  A session's remote-transaction state lives in its
 * HdConn (like postgres_fdw's ConnCacheEntry), but only txn.c changes it,
 * except that the session layer opens it (START TRANSACTION), notes
 * writes, and marks the session lost.
 */
#ifndef HYPERDIST_REMOTE_CONN_INTERNAL_H
#define HYPERDIST_REMOTE_CONN_INTERNAL_H

#include "access/xact.h"
#include "utils/timestamp.h"

#include "remote/connection.h"

/* The remote transaction of a session, as seen by the local transaction. */
typedef enum HdRemoteXactState
{
	HD_RXACT_NONE,				/* no remote transaction */
	HD_RXACT_OPEN,				/* START TRANSACTION sent; commits with us */
	HD_RXACT_FAILED,			/* its state is unknown: it cannot commit */
	HD_RXACT_PREPARED			/* PREPARE TRANSACTION sent (gid) */
} HdRemoteXactState;

typedef struct HdRemoteXact
{
	HdRemoteXactState state;
	/*
	 * Local transaction nest level the remote savepoints reach: 1 when
	 * none is open, n when savepoints for levels 2..n are.
	 */
	int			depth;
	bool		wrote;			/* a request that may write was sent */
	bool		read_only;		/* started READ ONLY, so it cannot write */
	bool		ran_sql;		/* a Query of caller-given SQL ran: it may
								 * have written, though not counted as a
								 * write (see hd_conn_mark_caller_sql) */
	char		gid[GIDSIZE];	/* with HD_RXACT_PREPARED */
} HdRemoteXact;

/* How a pending request's replies are handled. */
typedef enum HdReqMode
{
	HD_REQ_AWAIT,				/* a caller waits for the reply */
	HD_REQ_CHECK,				/* pipelined: a Done is fine, an Error is
								 * raised by whichever wait meets it */
	HD_REQ_DRAIN				/* an abandoned stream inside a remote
								 * transaction: read to its end, giving credit */
} HdReqMode;

/* The remote transaction of conn (see txn.c). */
extern HdRemoteXact *hd_conn_xact(HdConn *conn);
/* True when no request of conn awaits a reply and no stream is open. */
extern bool hd_conn_idle(const HdConn *conn);
/* The data node's foreign server (InvalidOid for hd_conn_open sessions). */
extern Oid	hd_conn_server(const HdConn *conn);

/* True while the session exists on the agent. */
extern bool hd_conn_alive(const HdConn *conn);
/*
 * ERROR if an idle session's connection broke while a remote transaction
 * was open on it (reopens it when none was).
 */
extern void hd_conn_check(HdConn *conn);

/*
 * Sends START TRANSACTION... (sql) as a pipelined request and marks the
 * session's remote transaction open (depth 1, nothing written) before the
 * request can leave, so an abort always rolls it back.
 */
extern void hd_conn_begin_xact(HdConn *conn, const char *sql, bool read_only);

/*
 * Sends transaction-control sql (SAVEPOINT, PREPARE TRANSACTION, COMMIT
 * PREPARED...; no parameters).  It never counts as a write and never
 * creates remote savepoints itself.  It is registered at transaction nest
 * level `level`, so a subtransaction abort at a deeper level never cancels
 * it.  Returns the request's seq (for hd_exec_wait with HD_REQ_AWAIT).
 */
extern uint32 hd_conn_send_txn_sql(HdConn *conn, const char *sql,
								   HdReqMode mode, int level);

/*
 * Bounds every wait of this backend on data nodes (sending, replies,
 * opening sessions) by deadline; 0 removes the bound.  Returns the previous
 * deadline.  A wait that passes it raises an error and drops the session.
 * For transaction callbacks, where interrupts are held, the resolver and
 * the health monitor's probe.
 */
extern TimestampTz hd_conn_set_deadline(TimestampTz deadline);

/*
 * Adds transaction-control sql to a request set (remote/fanout.c), sent
 * like hd_conn_send_txn_sql at level 0 and awaited by hd_reqset_wait:
 * success is an answer tagged expect_tag.  Any other tag (a COMMIT or
 * PREPARE answered ROLLBACK: the remote transaction had failed without us
 * noticing) is an error, never reported as success.
 */
struct HdRequestSet;
extern int	hd_reqset_txn_sql(struct HdRequestSet *set, HdConn *conn,
							  const char *sql, const char *expect_tag);

/*
 * For transaction callbacks, which must neither wait nor raise ERROR:
 * hd_conn_cancel_requests cancels every request sent at transaction nest
 * level min_level or deeper (its late replies are dropped; with min_level
 * 0, at top-level abort, replies already received are consumed first so
 * that finished requests are not cancelled);
 * hd_conn_send_nowait queues sql without waiting for room or for the
 * reply, and returns false when it could not be queued;
 * hd_conn_queue_checked does the same, but registers the request at nest
 * level `level` so that an error it gets is raised by a later wait.
 */
extern void hd_conn_cancel_requests(HdConn *conn, int min_level);
extern bool hd_conn_send_nowait(HdConn *conn, const char *sql);
extern bool hd_conn_queue_checked(HdConn *conn, const char *sql, int level);

/* Subtransaction at nest level `level` committed: its work moves up. */
extern void hd_conn_subxact_commit(HdConn *conn, int level);

/* Calls fn for every cached session. */
typedef void (*HdConnVisitor) (HdConn *conn, void *arg);
extern void hd_conn_visit(HdConnVisitor fn, void *arg);

/*
 * End of the local transaction: closes sessions from hd_conn_open that
 * were not closed, and invalidated cached sessions.
 */
extern void hd_conn_end_xact(void);

/* Forgets a session that could not be rolled back, so it is reopened. */
extern void hd_conn_discard_session(HdConn *conn);

/*
 * If conn's session is lost (closed, or its connection broke while idle)
 * and its remote transaction only read, at READ COMMITTED, that remote
 * transaction is given up (it had nothing to commit) and true returned:
 * the local one goes on, and commits, without it.
 */
extern bool hd_conn_drop_lost_reader(HdConn *conn);

#endif							/* HYPERDIST_REMOTE_CONN_INTERNAL_H */
