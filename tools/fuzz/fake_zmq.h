/* SPDX-License-Identifier: PostgreSQL */
/*
 * fake_zmq.h — an in-memory libzmq for fuzzing the agent (fake_zmq.c).
 *
 * The agent's router.c runs as it is on a ROUTER that this file plays,
 * with the libzmq functions it calls and their signatures (zmq.h), and
 * the harness plays the peers: it posts their messages and is handed
 * every reply the moment the ROUTER sends it.  A real inproc transport
 * costs a few system calls per message (libzmq's mailbox signals), which
 * were most of a run's time; here nothing leaves memory.
 *
 * The ROUTER keeps the contract router.c relies on:
 *   - ZMQ_ROUTER_MANDATORY: the routing id frame of a reply to a peer
 *     that is not connected fails with EHOSTUNREACH, and to a peer whose
 *     pipe is full (its unread replies reach its high-water mark) with
 *     EAGAIN; nothing is sent then.  Once the id frame went, the rest of
 *     the message cannot fail.  Without the option such replies vanish.
 *   - Messages are atomic: a received message's frames are all there.
 *   - A received message starts with the sender's routing id; its body
 *     frames carry the properties libzmq sets (Peer-Address, User-Id as
 *     the ZAP handler sets it under CURVE, ZMQ_SRCFD).
 *   - A successful send takes the message's content; a failed one leaves
 *     it to the caller.
 * Misuse that libzmq would punish with undefined behaviour (a message
 * used after zmq_msg_close, a routing id frame sent alone) aborts.
 */
#ifndef HD_FAKE_ZMQ_H
#define HD_FAKE_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_ZMQ_PEERS	4

/*
 * What becomes of a reply: delivered to peer (nframes: the body frames
 * after the routing id; the first one is data), or lost because the peer
 * was unreachable.
 */
typedef struct FakeZmqPeerCallbacks
{
	void		(*delivered) (int peer, const uint8_t *data, size_t len, int nframes);
	void		(*unreachable) (int peer);
} FakeZmqPeerCallbacks;

extern void fake_zmq_init(const FakeZmqPeerCallbacks *callbacks);

/*
 * Peer i's routing id, its CURVE key ("" for none, as without CURVE) and
 * address.  Peers start disconnected.
 */
extern void fake_zmq_peer(int peer, const char *routing_id, const char *key,
						  const char *address);

/* The peer (re)connects: a new connection, whose descriptor is returned. */
extern int	fake_zmq_connect(int peer);

/*
 * The peer's connection closes: its unread replies are dropped.  Returns
 * the connection's descriptor (what the ROUTER's monitor reports), -1 when
 * it was not connected.
 */
extern int	fake_zmq_disconnect(int peer);
extern bool fake_zmq_connected(int peer);

/* The descriptor of the peer's current (or last) connection. */
extern int	fake_zmq_fd(int peer);

/* The routing id peer i sends with, as the ROUTER reports it. */
extern const uint8_t *fake_zmq_routing_id(int peer, uint8_t *len);

/*
 * How many replies the peer may have unread before sends to it fail with
 * EAGAIN; -1 restores the ROUTER's ZMQ_SNDHWM.
 */
extern void fake_zmq_set_hwm(int peer, int hwm);

/* The peer reads every reply it was sent. */
extern void fake_zmq_read(int peer);

/* A message from the peer (nframes body frames) reaches the ROUTER. */
extern void fake_zmq_post(int peer, const uint8_t *const *frames, const size_t *lens,
						  int nframes);

/* Back to the state after fake_zmq_init, peers included (between inputs). */
extern void fake_zmq_reset(void);

#endif							/* HD_FAKE_ZMQ_H */
