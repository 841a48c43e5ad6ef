/* SPDX-License-Identifier: PostgreSQL */
/*
 * router.h — the agent's ROUTER socket: binding, receiving, and sending
 * replies without ever blocking.
 *
 * Sends use ZMQ_DONTWAIT under ZMQ_ROUTER_MANDATORY, so the two failure
 * modes are explicit instead of silent drops:
 *   EAGAIN        the peer's pipe is at SNDHWM: the reply is parked in a
 *                 per-peer FIFO (later replies to that peer queue behind it,
 *                 keeping per-session order) and retried on a short timer;
 *   EHOSTUNREACH  the peer is gone: it is recorded, and the loop closes its
 *                 sessions after the current iteration (never from inside a
 *                 send, so callers need not expect their session to vanish).
 */
#ifndef HD_AGENT_ROUTER_H
#define HD_AGENT_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <zmq.h>

#include "keys.h"
#include "wire.h"

/* A ZeroMQ routing id (at most 255 bytes, never empty). */
typedef struct RoutingId
{
	uint8_t		len;
	uint8_t		data[255];
} RoutingId;

/* What the ROUTER tells about the sender of a message. */
typedef struct PeerInfo
{
	char		address[64];	/* the TCP peer's address, for logs */
	char		key[HD_Z85_KEY_LEN + 1];	/* its CURVE public key; "" without CURVE */
	int			fd;				/* the connection's descriptor; -1 unknown */
} PeerInfo;

extern bool routing_id_equal(const RoutingId *a, const RoutingId *b);
/* Hex rendering for logs (first 16 bytes at most). */
extern const char *routing_id_str(const RoutingId *rid, char *buf, size_t len);

/*
 * Creates and binds the ROUTER.  keys NULL means --insecure (no CURVE).
 * With CURVE the ZAP handler must already be bound (zap.c).
 */
extern void *router_open(void *ctx, const char *endpoint, const HdKeyPair *keys,
						 char *err, size_t errlen);
extern void router_close(int linger_ms);

/*
 * Receives one message without blocking.  Returns 1 and fills rid, body
 * (the caller closes it) and peer; returns 0 when nothing is pending.  A
 * message with extra frames is drained and reported with *multipart set.
 */
extern int	router_recv(RoutingId *rid, zmq_msg_t *body, PeerInfo *peer, bool *multipart);

/* Encodes env and sends or parks it. */
extern void router_send(const RoutingId *rid, const HdEnvelope *env);

/*
 * The same, but EHOSTUNREACH only makes it return false: the caller
 * decides whether the peer is gone (liveness.c).
 */
extern bool router_try_send(const RoutingId *rid, const HdEnvelope *env);

/* Records the peer as gone: router_reap_gone hands it over. */
extern void router_mark_gone(const RoutingId *rid);

/* True while replies to this peer are parked (its session should pause). */
extern bool router_peer_blocked(const RoutingId *rid);
extern bool router_has_parked(void);

/* Retries parked replies; calls resumed() for every peer fully drained. */
extern void router_retry_parked(void (*resumed) (const RoutingId *rid));

/*
 * Hands the peers found gone since the last call to gone(), then forgets
 * them.
 */
extern void router_reap_gone(void (*gone) (const RoutingId *rid));

#endif							/* HD_AGENT_ROUTER_H */
