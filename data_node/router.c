/* SPDX-License-Identifier: PostgreSQL */
/*
 * router.c — the agent's ROUTER socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "log.h"
#include "router.h"
#include "util.h"

/*
 * ZMQ_ZAP_ENFORCE_DOMAIN is only #defined under ZMQ_BUILD_DRAFT_API in
 * libzmq 4.3.4, but the option is implemented unconditionally.  Without it
 * a CURVE server with no reachable ZAP handler accepts every client.
 */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

/* ZAP domain the ROUTER authenticates in (any fixed string would do). */
#define HD_ZAP_DOMAIN "hyperdist"

/*
 * High-water marks far above what credit allows in flight, so the credit
 * window (not the HWM) bounds memory; the HWM counts messages, not bytes.
 */
#define ROUTER_HWM				10000

/*
 * A peer with this many parked replies, or bytes of them, is not reading at
 * all (batches are not sent while its replies are parked, so what parks is
 * one batch and short replies): it is treated as gone rather than letting
 * it grow the agent without bound.
 */
#define MAX_PARKED_PER_PEER		20000
#define MAX_PARKED_BYTES_PER_PEER ((size_t) 256 * 1024 * 1024)

typedef struct Parked
{
	struct Parked *next;
	zmq_msg_t	body;
} Parked;

/* A peer whose pipe was full at the last send; usually there are none. */
typedef struct BlockedPeer
{
	struct BlockedPeer *next;
	RoutingId	rid;
	Parked	   *head;
	Parked	   *tail;
	int			count;
	size_t		bytes;
} BlockedPeer;

static void *router;
static BlockedPeer *blocked_peers;

/* Peers that answered EHOSTUNREACH since the loop last reaped. */
static RoutingId *gone_peers;
static int	ngone;
static int	gone_cap;

bool
routing_id_equal(const RoutingId *a, const RoutingId *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

const char *
routing_id_str(const RoutingId *rid, char *buf, size_t len)
{
	size_t		pos = 0;

	buf[0] = '\0';
	for (int i = 0; i < rid->len && i < 16 && pos + 3 < len; i++)
		pos += snprintf(buf + pos, len - pos, "%02x", rid->data[i]);
	if (rid->len > 16 && pos + 4 < len)
		snprintf(buf + pos, len - pos, "...");
	return buf;
}

static bool
set_int(void *s, int option, int value, const char *name, char *err, size_t errlen)
{
	if (zmq_setsockopt(s, option, &value, sizeof(value)) != 0)
	{
		snprintf(err, errlen, "could not set %s on the ROUTER: %s",
				 name, zmq_strerror(zmq_errno()));
		return false;
	}
	return true;
}

static bool
router_set_options(void *s, char *err, size_t errlen)
{
	int64_t		maxmsg = HD_MAX_REQUEST_FRAME;

	if (!set_int(s, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY", err, errlen) ||
		/*
		 * A backend that reconnects (same unique routing id) after a
		 * half-open TCP connection must get its sessions back at once,
		 * not be refused until heartbeats notice the old connection.
		 */
		!set_int(s, ZMQ_ROUTER_HANDOVER, 1, "ZMQ_ROUTER_HANDOVER", err, errlen) ||
		!set_int(s, ZMQ_SNDHWM, ROUTER_HWM, "ZMQ_SNDHWM", err, errlen) ||
		!set_int(s, ZMQ_RCVHWM, ROUTER_HWM, "ZMQ_RCVHWM", err, errlen) ||
		!set_int(s, ZMQ_HEARTBEAT_IVL, 5000, "ZMQ_HEARTBEAT_IVL", err, errlen) ||
		!set_int(s, ZMQ_HEARTBEAT_TIMEOUT, 15000, "ZMQ_HEARTBEAT_TIMEOUT", err, errlen) ||
		!set_int(s, ZMQ_LINGER, 0, "ZMQ_LINGER", err, errlen))
		return false;

	/* Checked per frame before allocation: oversized peers are disconnected. */
	if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0)
	{
		snprintf(err, errlen, "could not set ZMQ_MAXMSGSIZE: %s",
				 zmq_strerror(zmq_errno()));
		return false;
	}
	return true;
}

static bool
router_set_curve(void *s, const HdKeyPair *keys, char *err, size_t errlen)
{
	if (!set_int(s, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER", err, errlen))
		return false;
	/* Z85 form: 40 characters plus the NUL, hence length 41. */
	if (zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, keys->secret_key, HD_Z85_KEY_LEN + 1) != 0)
	{
		snprintf(err, errlen, "could not set the CURVE secret key: %s",
				 zmq_strerror(zmq_errno()));
		return false;
	}
	if (zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, HD_ZAP_DOMAIN, strlen(HD_ZAP_DOMAIN)) != 0)
	{
		snprintf(err, errlen, "could not set ZMQ_ZAP_DOMAIN: %s",
				 zmq_strerror(zmq_errno()));
		return false;
	}
	/* Fail closed: no ZAP handler means no client gets in. */
	return set_int(s, ZMQ_ZAP_ENFORCE_DOMAIN, 1, "ZMQ_ZAP_ENFORCE_DOMAIN (93)",
				   err, errlen);
}

void *
router_open(void *ctx, const char *endpoint, const HdKeyPair *keys,
			char *err, size_t errlen)
{
	void	   *s = zmq_socket(ctx, ZMQ_ROUTER);

	if (s == NULL)
	{
		snprintf(err, errlen, "could not create the ROUTER socket: %s",
				 zmq_strerror(zmq_errno()));
		return NULL;
	}
	if (!router_set_options(s, err, errlen) ||
		(keys != NULL && !router_set_curve(s, keys, err, errlen)))
	{
		zmq_close(s);
		return NULL;
	}
	if (zmq_bind(s, endpoint) != 0)
	{
		snprintf(err, errlen, "could not listen on \"%s\": %s",
				 endpoint, zmq_strerror(zmq_errno()));
		zmq_close(s);
		return NULL;
	}
	router = s;
	return s;
}

static void
free_parked(BlockedPeer *peer)
{
	Parked	   *p = peer->head;

	while (p)
	{
		Parked	   *next = p->next;

		zmq_msg_close(&p->body);
		free(p);
		p = next;
	}
	peer->head = peer->tail = NULL;
	peer->count = 0;
	peer->bytes = 0;
}

void
router_close(int linger_ms)
{
	while (blocked_peers)
	{
		BlockedPeer *next = blocked_peers->next;

		free_parked(blocked_peers);
		free(blocked_peers);
		blocked_peers = next;
	}
	if (router)
	{
		zmq_setsockopt(router, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
		zmq_close(router);
		router = NULL;
	}
	free(gone_peers);
	gone_peers = NULL;
	ngone = gone_cap = 0;
}

/* Drops the remaining frames of a message. */
static void
drain_frames(void)
{
	int			more = 1;

	while (more)
	{
		zmq_msg_t	m;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, router, ZMQ_DONTWAIT) < 0)
		{
			zmq_msg_close(&m);
			return;
		}
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
}

static void
copy_property(zmq_msg_t *m, const char *name, char *out, size_t outlen,
			  const char *missing)
{
	const char *v = zmq_msg_gets(m, name);

	snprintf(out, outlen, "%s", v ? v : missing);
}

int
router_recv(RoutingId *rid, zmq_msg_t *body, PeerInfo *peer, bool *multipart)
{
	zmq_msg_t	idmsg;

	*multipart = false;
	for (;;)
	{
		zmq_msg_init(&idmsg);
		if (zmq_msg_recv(&idmsg, router, ZMQ_DONTWAIT) >= 0)
			break;
		zmq_msg_close(&idmsg);
		if (zmq_errno() == EINTR)
			continue;
		if (zmq_errno() != EAGAIN)
			log_warning("receiving from the ROUTER failed: %s", zmq_strerror(zmq_errno()));
		return 0;
	}

	/* The ROUTER always prepends a non-empty id of at most 255 bytes. */
	rid->len = (uint8_t) zmq_msg_size(&idmsg);
	memcpy(rid->data, zmq_msg_data(&idmsg), rid->len);
	zmq_msg_close(&idmsg);

	/* Multipart messages are atomic: the body frame is already here. */
	zmq_msg_init(body);
	if (zmq_msg_recv(body, router, ZMQ_DONTWAIT) < 0)
	{
		zmq_msg_close(body);
		zmq_msg_init(body);		/* caller sees an empty frame: 08P01 */
	}
	copy_property(body, "Peer-Address", peer->address, sizeof(peer->address), "?");
	/*
	 * The descriptor the message came on, which the monitor names when the
	 * connection closes (liveness.c).  ZMQ_SRCFD is deprecated in favour of
	 * Peer-Address, which cannot tell two connections from one host apart.
	 */
	peer->fd = zmq_msg_get(body, ZMQ_SRCFD);
	/* ZAP's User-Id is the key (zap.c); absent without CURVE */
	copy_property(body, "User-Id", peer->key, sizeof(peer->key), "");
	if (zmq_msg_more(body))
	{
		*multipart = true;
		drain_frames();
	}
	return 1;
}

static BlockedPeer *
find_blocked(const RoutingId *rid)
{
	for (BlockedPeer *p = blocked_peers; p; p = p->next)
		if (routing_id_equal(&p->rid, rid))
			return p;
	return NULL;
}

bool
router_peer_blocked(const RoutingId *rid)
{
	return blocked_peers != NULL && find_blocked(rid) != NULL;
}

bool
router_has_parked(void)
{
	return blocked_peers != NULL;
}

void
router_mark_gone(const RoutingId *rid)
{
	for (int i = 0; i < ngone; i++)
		if (routing_id_equal(&gone_peers[i], rid))
			return;
	if (ngone == gone_cap)
	{
		gone_cap = gone_cap ? gone_cap * 2 : 8;
		gone_peers = realloc(gone_peers, gone_cap * sizeof(RoutingId));
		if (gone_peers == NULL)
		{
			log_error("out of memory");
			exit(1);
		}
	}
	gone_peers[ngone++] = *rid;
}

/*
 * One send attempt: 0 on success (body consumed), else the errno
 * (EAGAIN, EHOSTUNREACH, ...), body untouched.
 */
static int
send_raw(const RoutingId *rid, zmq_msg_t *body)
{
	/*
	 * With ROUTER_MANDATORY the routing decision happens on the id frame,
	 * so EAGAIN/EHOSTUNREACH come from this call and the body frame, part
	 * of an atomic multipart message, cannot fail afterwards.
	 */
	while (zmq_send(router, rid->data, rid->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
	{
		if (zmq_errno() != EINTR)
			return zmq_errno();
	}
	while (zmq_msg_send(body, router, ZMQ_DONTWAIT) < 0)
	{
		if (zmq_errno() != EINTR)
		{
			log_warning("sending a reply body failed: %s", zmq_strerror(zmq_errno()));
			zmq_msg_close(body);
			return 0;
		}
	}
	return 0;
}

static void
park(const RoutingId *rid, zmq_msg_t *body)
{
	BlockedPeer *peer = find_blocked(rid);
	Parked	   *p;

	if (peer == NULL)
	{
		peer = xcalloc(1, sizeof(BlockedPeer));
		peer->rid = *rid;
		peer->next = blocked_peers;
		blocked_peers = peer;
	}
	if (peer->count >= MAX_PARKED_PER_PEER ||
		peer->bytes + zmq_msg_size(body) > MAX_PARKED_BYTES_PER_PEER)
	{
		char		idbuf[64];

		log_warning("peer %s has %d unread replies (%zu bytes); dropping its sessions",
					routing_id_str(rid, idbuf, sizeof(idbuf)), peer->count, peer->bytes);
		zmq_msg_close(body);
		router_mark_gone(rid);
		return;
	}
	p = xmalloc(sizeof(Parked));
	p->next = NULL;
	zmq_msg_init(&p->body);
	zmq_msg_move(&p->body, body);
	zmq_msg_close(body);
	if (peer->tail)
		peer->tail->next = p;
	else
		peer->head = p;
	peer->tail = p;
	peer->count++;
	peer->bytes += zmq_msg_size(&p->body);
}

bool
router_try_send(const RoutingId *rid, const HdEnvelope *env)
{
	zmq_msg_t	body;
	size_t		size = hd_wire_size(env);
	int			rc;

	if (zmq_msg_init_size(&body, size) != 0)
	{
		log_error("out of memory encoding a %zu-byte reply", size);
		exit(1);
	}
	hd_wire_encode(env, zmq_msg_data(&body));

	/* Behind parked replies to the same peer, to keep their order. */
	if (blocked_peers != NULL && find_blocked(rid) != NULL)
	{
		park(rid, &body);
		return true;
	}

	rc = send_raw(rid, &body);
	if (rc == 0)
		return true;
	if (rc == EAGAIN)
	{
		char		idbuf[64];

		log_debug("peer %s is at its high-water mark; parking replies",
				  routing_id_str(rid, idbuf, sizeof(idbuf)));
		park(rid, &body);
		return true;
	}
	zmq_msg_close(&body);
	if (rc == EHOSTUNREACH)
		return false;
	log_warning("sending a reply failed: %s", zmq_strerror(rc));
	return true;
}

void
router_send(const RoutingId *rid, const HdEnvelope *env)
{
	if (!router_try_send(rid, env))
		router_mark_gone(rid);
}

/* Sends what it can of one peer's parked replies; true when all went. */
static bool
retry_peer(BlockedPeer *peer)
{
	while (peer->head)
	{
		Parked	   *p = peer->head;
		size_t		size = zmq_msg_size(&p->body);
		int			rc = send_raw(&peer->rid, &p->body);

		if (rc == EAGAIN)
			return false;
		if (rc == EHOSTUNREACH)
		{
			router_mark_gone(&peer->rid);
			free_parked(peer);
			return true;
		}
		if (rc != 0)
			zmq_msg_close(&p->body);
		peer->head = p->next;
		if (peer->head == NULL)
			peer->tail = NULL;
		peer->count--;
		peer->bytes -= size;
		free(p);
	}
	return true;
}

void
router_retry_parked(void (*resumed) (const RoutingId *rid))
{
	BlockedPeer **link = &blocked_peers;

	while (*link)
	{
		BlockedPeer *peer = *link;

		if (retry_peer(peer))
		{
			RoutingId	rid = peer->rid;

			*link = peer->next;
			free(peer);
			resumed(&rid);
		}
		else
			link = &peer->next;
	}
}

void
router_reap_gone(void (*gone) (const RoutingId *rid))
{
	/* gone() may send (and so find more gone peers): take the list first. */
	while (ngone > 0)
	{
		RoutingId	rid = gone_peers[--ngone];
		BlockedPeer **link = &blocked_peers;

		while (*link)
		{
			if (routing_id_equal(&(*link)->rid, &rid))
			{
				BlockedPeer *peer = *link;

				*link = peer->next;
				free_parked(peer);
				free(peer);
				break;
			}
			link = &(*link)->next;
		}
		gone(&rid);
	}
}
