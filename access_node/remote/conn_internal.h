/*
 * remote/conn_internal.h — what remote/connection.c shares with remote/txn.c.
 *
 * Not for the rest of the extension: everything else goes through
 * remote/connection.h.  A session's remote-transaction state lives in its
 * HdConn (like postgres_fdw's ConnCacheEntry), but only txn.c changes it,
 * except that connection.c marks the session lost.
 */
#ifndef HYPERDIST_REMOTE_CONN_INTERNAL_H
#define HYPERDIST_REMOTE_CONN_INTERNAL_H

#include "remote/connection.h"

/* The remote transaction of a session, as seen by the local transaction. */
typedef enum HdRemoteXactState
{
	HD_RXACT_NONE,				/* no remote transaction open */
	HD_RXACT_OPEN,				/* START TRANSACTION sent; commits with us */
	HD_RXACT_FAILED				/* a subtransaction that used it aborted */
} HdRemoteXactState;

/* How a pending request's replies are handled. */
typedef enum HdReqMode
{
	HD_REQ_AWAIT,				/* a caller waits for the reply */
	HD_REQ_CHECK,				/* pipelined: a Done is fine, an Error is
								 * raised by whichever wait meets it */
	HD_REQ_DRAIN				/* an abandoned stream inside a remote
								 * transaction: read to its end, giving credit */
} HdReqMode;

/* Remote-transaction state of conn (see txn.c). */
extern HdRemoteXactState hd_conn_xact_state(const HdConn *conn);
extern void hd_conn_set_xact_state(HdConn *conn, HdRemoteXactState state);
/* Deepest transaction nest level that sent work in the remote transaction. */
extern int	hd_conn_xact_level(const HdConn *conn);

/* True while the session exists on the agent. */
extern bool hd_conn_alive(const HdConn *conn);
/*
 * ERROR if an idle session's connection broke while a remote transaction
 * was open on it (reopens it when none was).
 */
extern void hd_conn_check(HdConn *conn);

/*
 * Sends START TRANSACTION... (sql) as a pipelined request and marks the
 * session's remote transaction open before the request can leave, so an
 * abort always rolls it back.
 */
extern void hd_conn_begin_xact(HdConn *conn, const char *sql);

/* Sends sql (no parameters) as a request that a caller will wait for. */
extern uint32 hd_conn_send_sql(HdConn *conn, const char *sql);

/*
 * For transaction callbacks, which must neither wait nor raise ERROR:
 * hd_conn_cancel_requests cancels every request sent at transaction nest
 * level min_level or deeper (its late replies are dropped; with min_level
 * 0, at top-level abort, replies already received are consumed first so
 * that finished requests are not cancelled);
 * hd_conn_send_nowait queues sql without waiting for room or for the
 * reply, and returns false when it could not be queued.
 */
extern void hd_conn_cancel_requests(HdConn *conn, int min_level);
extern bool hd_conn_send_nowait(HdConn *conn, const char *sql);

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

#endif							/* HYPERDIST_REMOTE_CONN_INTERNAL_H */
