/* SPDX-License-Identifier: PostgreSQL */
/*
 * session.h — an access-node session: one libpq connection to the local
 * PostgreSQL, driven without blocking by the event loop.
 *
 * States:
 *   CONNECTING  Hello received; a connect thread sets up the connection
 *               (connect.c), or the Hello waits for one.  HelloOk or the
 *               connection's Error answers the Hello.
 *   READY       connected.  Requests (Exec, Query) run one at a time in
 *               arrival order from a FIFO queue (max_queued_requests,
 *               HD_MAX_QUEUED_BYTES).  After a
 *               request for which a cancel was sent, the next one starts
 *               only once that cancel's PQcancel has returned, so the
 *               cancel cannot hit it.
 *   BROKEN      the libpq connection died while the session was open; every
 *               request gets Error 08006 until the access node closes it.
 *   CLOSED      forgotten (Close, peer gone, failed Hello); freed at the end
 *               of the loop iteration, so no caller is left holding a
 *               dangling pointer.
 */
#ifndef HD_AGENT_SESSION_H
#define HD_AGENT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <zmq.h>

#include "connect.h"
#include "router.h"
#include "wire.h"

/*
 * Most bytes of request frames a session may have waiting behind the
 * running one (their number is max_queued_requests).  A request that
 * finds the queue empty is always taken: a frame is bounded anyway.
 */
#define HD_MAX_QUEUED_BYTES		((size_t) 256 * 1024 * 1024)

/*
 * Most credit a Query may hold, in bytes of batches (credit times its
 * batch size): what the agent may have in flight for it.  An access node
 * grants at most 64 batches of at most HD_MAX_BATCH_BYTES.
 */
#define HD_MAX_CREDIT_BYTES		((size_t) 64 * HD_MAX_BATCH_BYTES)

/* A session whose peer has been silent this long gets a probe. */
#define HD_PROBE_INTERVAL_MS	10000

/*
 * Notices relayed per request: a statement raising one per row must not
 * flood the access node.  (tools/fuzz defines it smaller.)
 */
#ifndef HD_MAX_NOTICES
#define HD_MAX_NOTICES			1000
#endif

typedef struct Session Session;

/* Base libpq conninfo (--pg); credential keywords are dropped with a warning. */
extern bool sessions_set_conninfo(const char *conninfo, char *err, size_t errlen);

/* Starts a session for a Hello (or answers it with an Error). */
extern void session_hello(const RoutingId *rid, const HdEnvelope *env,
						  const PeerInfo *peer);

/*
 * The session a request names, if it exists, belongs to this agent's
 * epoch and to the sending routing id; otherwise NULL and *why says which
 * check failed (for the 08003 detail).
 */
extern Session *session_lookup(const RoutingId *rid, const HdEnvelope *env,
							   const char **why);

/* Records that the peer spoke, on which connection (postpones idle probes). */
extern void session_touch(Session *s, const PeerInfo *peer);

/* Queues an Exec or Query (a frame of len bytes); takes ownership of env. */
extern void session_submit(Session *s, HdEnvelope *env, size_t len);

/* Cancel, Credit, Close: act at once, never queued. */
extern void session_cancel(Session *s, uint32_t seq);
extern void session_credit(Session *s, uint32_t seq, uint32_t batches);
extern void session_close(Session *s, const char *reason);

/* Open sessions (all states but CLOSED). */
extern int	sessions_count(void);

/*
 * Event-loop integration.  sessions_fill_poll writes one pollitem per
 * session that waits on its libpq socket and returns how many it wrote
 * (at most max); owners[i] is the session of items[i].
 */
extern int	sessions_fill_poll(zmq_pollitem_t *items, Session **owners, int max);
extern void session_handle_events(Session *s, short revents);

/*
 * A cancel thread's report that its PQcancel returned (cancel_collect's
 * callback): the session, if it still exists and still waits for that
 * cancel, may start its next request.
 */
extern void sessions_cancel_done(uint64_t id, uint64_t token);

/*
 * A connect thread's report (connect_collect's callback): the session, if
 * it still waits for that connect, takes conn or answers its Hello with
 * the error or refusal; otherwise conn is finished.
 */
extern void sessions_connect_done(uint64_t id, uint64_t token, ConnectOutcome outcome,
								  PGconn *conn, const char *error);

/* Peer callbacks from router.c. */
extern void sessions_peer_resumed(const RoutingId *rid);
extern void sessions_peer_gone(const RoutingId *rid);

/*
 * The monitor's callback: connection fd closed.  The peers whose sessions
 * last spoke on it are watched until they are found gone or back.
 */
extern void sessions_peer_disconnected(int fd);

/* Connect timeouts and liveness probes; call about once a second. */
extern void sessions_tick(int64_t now);

/* Frees sessions closed during this iteration. */
extern void sessions_reap(void);

/* True when no session has work queued or running or an open transaction. */
extern bool sessions_drained(void);

/* Shutdown begins: Hellos still connecting are answered with 57P01. */
extern void sessions_refuse_connecting(void);

/* Shutdown: cancel running work, answer it with 57P01, close everything. */
extern void sessions_shutdown(void);

#endif							/* HD_AGENT_SESSION_H */
