/* SPDX-License-Identifier: PostgreSQL */
/*
 * farewell.h — at exit, letting access-node backends take their last
 * replies.
 *
 * A reply that has reached a backend's DEALER is still lost if the
 * connection closes before the backend reads it: access nodes set
 * ZMQ_IMMEDIATE, and with it libzmq terminates a dropped connection's pipe
 * at once, messages received but not yet read included.  ZMQ_LINGER does
 * not help: it holds zmq_ctx_term only until the messages are written to
 * the TCP connection.  So an agent that answered running work with 57P01
 * and exited at once lost those answers whenever the backend was slower
 * to read than the agent to exit.
 *
 * Hence every peer replied to after the shutdown began is noted, and once
 * the sessions are closed the agent serves on, without them, until each
 * one has disconnected or had HD_EXIT_WAIT_MS since its last reply.  An access node closes its
 * session's socket after an error that ends the session (57P01 does), so
 * the wait usually ends as soon as the backends have read.  Whether a peer
 * is still connected shows by a probe (Envelope{0, seq 0, Ping}, which
 * access nodes ignore): under ROUTER_MANDATORY it fails with EHOSTUNREACH
 * once the ROUTER has dropped the peer's pipe, which happens a moment
 * after the monitor reports the disconnect.  So probes go out
 * FAREWELL_SETTLE_MS after every disconnect, and every FAREWELL_PROBE_MS.
 */
#ifndef HD_AGENT_FAREWELL_H
#define HD_AGENT_FAREWELL_H

#include <stdint.h>

#include "router.h"

#define FAREWELL_PROBE_MS	100
#define FAREWELL_SETTLE_MS	10

/* Notes a reply to rid at now (while shutting down). */
extern void farewell_note(const RoutingId *rid, int64_t now);

/* Forgets rid: it is gone (router_reap_gone). */
extern void farewell_forget(const RoutingId *rid);

/* The sessions are closed: probing starts, at once. */
extern void farewell_start(int64_t now);

/* A connection closed at now: probe soon. */
extern void farewell_disconnected(int64_t now);

/*
 * Once started, probes the noted peers when due; forgets those gone, and
 * those whose last reply is wait_ms old.
 */
extern void farewell_run(int64_t now, int wait_ms);

/* When farewell_run is next due (now_ms() clock), or -1 when nobody waits. */
extern int64_t farewell_next_due(void);

/* Peers still waited for. */
extern int	farewell_pending(void);

/* Forgets every peer (at exit). */
extern void farewell_clear(void);

#endif							/* HD_AGENT_FAREWELL_H */
