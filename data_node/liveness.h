/* SPDX-License-Identifier: PostgreSQL */
/*
 * liveness.h — finding an access-node backend that is gone as soon as its
 * TCP connection closes, not only when a probe of an idle session or a
 * heartbeat times out.
 *
 * A killed backend's connection closes at once, but its sessions may sit
 * idle in a transaction, holding locks on the data node.  The ROUTER's
 * monitor reports the disconnect with the connection's file descriptor
 * (not the routing id), and every session remembers the descriptor its
 * peer's last message came on; so the peers of the sessions on that
 * descriptor are watched.  A watched peer gets a probe (Envelope{session,
 * seq 0, Ping}, which access nodes ignore) every LIVENESS_PROBE_MS without
 * consequences for its sessions: with ROUTER_MANDATORY a probe fails with
 * EHOSTUNREACH once the ROUTER has dropped the peer's pipe, which happens
 * a moment after the monitor event.  Only a peer unreachable for
 * LIVENESS_GRACE_MS is gone: a live backend whose connection dropped
 * (ROUTER_HANDOVER, or libzmq closing a connection over an oversized
 * frame) reconnects within its reconnect interval (100 ms) and keeps its
 * sessions.  A peer reachable LIVENESS_WATCH_MS after the disconnect is no
 * longer watched.
 */
#ifndef HD_AGENT_LIVENESS_H
#define HD_AGENT_LIVENESS_H

#include <stdint.h>

#include "router.h"

#define LIVENESS_PROBE_MS	100
#define LIVENESS_GRACE_MS	1000
#define LIVENESS_WATCH_MS	3000

/* Starts (or restarts) watching the peer rid; session names it in probes. */
extern void liveness_watch(const RoutingId *rid, uint64_t session, int64_t now);

/* Probes the watched peers that are due; marks gone ones (router.c). */
extern void liveness_run(int64_t now);

/* When the next probe is due (now_ms() clock), or -1 when nothing is watched. */
extern int64_t liveness_next_due(void);

/* Forgets every watched peer (at exit). */
extern void liveness_clear(void);

#endif							/* HD_AGENT_LIVENESS_H */
