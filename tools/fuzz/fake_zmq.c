/* SPDX-License-Identifier: PostgreSQL */
/*
 * fake_zmq.c — the libzmq functions hyperdist-agent's router.c calls,
 * played in memory (see fake_zmq.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "fake_zmq.h"

/* The one socket there is: the agent's ROUTER. */
#define ROUTER_TAG		((void *) &router)
#define MAX_FRAMES		8
/* Connection descriptors: peer i's n-th connection is FD_BASE + 16 i + n % 16. */
#define FD_BASE			100

/* What a zmq_msg_t holds here; the magic tells live messages from others. */
typedef struct FakeMsg
{
	uint64_t	magic;
	uint8_t    *data;			/* NULL when empty */
	size_t		size;
	int			more;
	int			peer;			/* the sender of a received body frame; -1 */
	int			fd;				/* ... and the connection it came on */
} FakeMsg;

_Static_assert(sizeof(FakeMsg) <= sizeof(zmq_msg_t), "a FakeMsg fits a zmq_msg_t");

#define MSG_LIVE		UINT64_C(0x7a6d716d73676c76)
#define MSG_CLOSED		UINT64_C(0x7a6d716d7367636c)

/* A message posted by a peer and not yet received by the ROUTER. */
typedef struct Inbound
{
	struct Inbound *next;
	int			peer;
	int			fd;
	int			nframes;
	int			next_frame;		/* -1: the routing id comes next */
	uint8_t    *frames[MAX_FRAMES];
	size_t		lens[MAX_FRAMES];
} Inbound;

typedef struct Peer
{
	uint8_t		id[255];
	uint8_t		idlen;
	char		key[41];
	char		address[64];
	bool		connected;
	int			connections;	/* made so far (the descriptor's number) */
	int			unread;
	int			hwm;			/* -1: the ROUTER's ZMQ_SNDHWM */
} Peer;

static struct
{
	bool		open;
	bool		mandatory;
	int			sndhwm;
	/* the outgoing message: -1 idle, -2 dropping it, else its peer */
	int			out_peer;
	int			out_nframes;
	size_t		out_len;
	uint8_t    *out_body;
	Inbound    *in_head;
	Inbound    *in_tail;
}			router;

static Peer peers[FAKE_ZMQ_PEERS];
static FakeZmqPeerCallbacks callbacks;

static void
misuse(const char *what)
{
	fprintf(stderr, "fake libzmq: the agent %s\n", what);
	abort();
}

static FakeMsg *
live(const zmq_msg_t *msg, const char *what)
{
	FakeMsg    *m = (FakeMsg *) msg;

	if (m->magic != MSG_LIVE)
		misuse(what);
	return m;
}

static void *
fmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

int
fake_zmq_fd(int peer)
{
	return FD_BASE + 16 * peer + peers[peer].connections % 16;
}

/* ---- the harness's side --------------------------------------------------- */

void
fake_zmq_init(const FakeZmqPeerCallbacks *cb)
{
	callbacks = *cb;
	fake_zmq_reset();
}

void
fake_zmq_peer(int peer, const char *routing_id, const char *key, const char *address)
{
	Peer	   *p = &peers[peer];

	p->idlen = (uint8_t) strlen(routing_id);
	memcpy(p->id, routing_id, p->idlen);
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->address, sizeof(p->address), "%s", address);
}

int
fake_zmq_connect(int peer)
{
	Peer	   *p = &peers[peer];

	if (!p->connected)
	{
		p->connected = true;
		p->connections++;
		p->unread = 0;
	}
	return fake_zmq_fd(peer);
}

int
fake_zmq_disconnect(int peer)
{
	Peer	   *p = &peers[peer];

	if (!p->connected)
		return -1;
	p->connected = false;
	p->unread = 0;
	return fake_zmq_fd(peer);
}

bool
fake_zmq_connected(int peer)
{
	return peers[peer].connected;
}

const uint8_t *
fake_zmq_routing_id(int peer, uint8_t *len)
{
	*len = peers[peer].idlen;
	return peers[peer].id;
}

void
fake_zmq_set_hwm(int peer, int hwm)
{
	peers[peer].hwm = hwm;
}

void
fake_zmq_read(int peer)
{
	peers[peer].unread = 0;
}

void
fake_zmq_post(int peer, const uint8_t *const *frames, const size_t *lens, int nframes)
{
	Inbound    *in = calloc(1, sizeof(Inbound));

	if (in == NULL || nframes < 1 || nframes > MAX_FRAMES)
		abort();
	in->peer = peer;
	/* a peer not connected: a message queued before its connection closed */
	in->fd = fake_zmq_fd(peer);
	in->nframes = nframes;
	in->next_frame = -1;
	for (int i = 0; i < nframes; i++)
	{
		in->frames[i] = fmalloc(lens[i]);
		if (lens[i] > 0)
			memcpy(in->frames[i], frames[i], lens[i]);
		in->lens[i] = lens[i];
	}
	if (router.in_tail)
		router.in_tail->next = in;
	else
		router.in_head = in;
	router.in_tail = in;
}

static void
free_inbound(Inbound *in)
{
	for (int i = 0; i < in->nframes; i++)
		free(in->frames[i]);
	free(in);
}

void
fake_zmq_reset(void)
{
	while (router.in_head)
	{
		Inbound    *in = router.in_head;

		router.in_head = in->next;
		free_inbound(in);
	}
	router.in_tail = NULL;
	free(router.out_body);
	router.out_body = NULL;
	router.out_peer = -1;
	for (int i = 0; i < FAKE_ZMQ_PEERS; i++)
	{
		peers[i].connected = false;
		peers[i].connections = 0;
		peers[i].unread = 0;
		peers[i].hwm = -1;
	}
}

/* ---- messages ------------------------------------------------------------- */

int
zmq_msg_init(zmq_msg_t *msg)
{
	FakeMsg    *m = (FakeMsg *) msg;

	memset(msg, 0, sizeof(*msg));
	m->magic = MSG_LIVE;
	m->peer = -1;
	return 0;
}

int
zmq_msg_init_size(zmq_msg_t *msg, size_t size)
{
	zmq_msg_init(msg);
	((FakeMsg *) msg)->data = fmalloc(size);
	((FakeMsg *) msg)->size = size;
	return 0;
}

int
zmq_msg_close(zmq_msg_t *msg)
{
	FakeMsg    *m = (FakeMsg *) msg;

	/* libzmq refuses a second close (EFAULT) rather than failing. */
	if (m->magic != MSG_LIVE)
	{
		if (m->magic != MSG_CLOSED)
			misuse("closed a message it never initialised");
		errno = EFAULT;
		return -1;
	}
	free(m->data);
	m->data = NULL;
	m->magic = MSG_CLOSED;
	return 0;
}

int
zmq_msg_move(zmq_msg_t *dest, zmq_msg_t *src)
{
	FakeMsg    *s = live(src, "moved a message it had closed");

	if (((FakeMsg *) dest)->magic == MSG_LIVE)
		zmq_msg_close(dest);
	memcpy(dest, src, sizeof(FakeMsg));
	zmq_msg_init(src);
	(void) s;
	return 0;
}

void *
zmq_msg_data(zmq_msg_t *msg)
{
	FakeMsg    *m = live(msg, "read a closed message");
	static uint8_t empty[1];

	return m->data ? m->data : empty;
}

size_t
zmq_msg_size(const zmq_msg_t *msg)
{
	return live(msg, "asked a closed message's size")->size;
}

int
zmq_msg_more(const zmq_msg_t *msg)
{
	return live(msg, "asked a closed message for more")->more;
}

int
zmq_msg_get(const zmq_msg_t *msg, int property)
{
	const FakeMsg *m = live(msg, "asked a closed message for a property");

	if (property == ZMQ_MORE)
		return m->more;
	if (property == ZMQ_SRCFD)
		return m->peer >= 0 ? m->fd : -1;
	errno = EINVAL;
	return -1;
}

const char *
zmq_msg_gets(const zmq_msg_t *msg, const char *property)
{
	const FakeMsg *m = live(msg, "asked a closed message for a property");

	if (m->peer >= 0 && strcmp(property, "Peer-Address") == 0)
		return peers[m->peer].address;
	if (m->peer >= 0 && strcmp(property, "User-Id") == 0 && peers[m->peer].key[0])
		return peers[m->peer].key;
	errno = EINVAL;
	return NULL;
}

/* ---- the ROUTER ----------------------------------------------------------- */

void *
zmq_socket(void *ctx, int type)
{
	if (type != ZMQ_ROUTER || router.open)
	{
		errno = EINVAL;
		return NULL;
	}
	router.open = true;
	router.sndhwm = 1000;		/* libzmq's default */
	return ROUTER_TAG;
}

int
zmq_close(void *s)
{
	if (s != ROUTER_TAG)
		misuse("closed a socket that is not its ROUTER");
	router.open = false;
	return 0;
}

int
zmq_setsockopt(void *s, int option, const void *value, size_t len)
{
	if (s != ROUTER_TAG)
		misuse("set an option of a socket that is not its ROUTER");
	if (option == ZMQ_ROUTER_MANDATORY && len == sizeof(int))
		router.mandatory = *(const int *) value != 0;
	else if (option == ZMQ_SNDHWM && len == sizeof(int))
		router.sndhwm = *(const int *) value;
	return 0;
}

int
zmq_bind(void *s, const char *endpoint)
{
	return s == ROUTER_TAG ? 0 : -1;
}

int
zmq_errno(void)
{
	return errno;
}

const char *
zmq_strerror(int errnum)
{
	return strerror(errnum);
}

static int
peer_by_id(const void *id, size_t len)
{
	for (int i = 0; i < FAKE_ZMQ_PEERS; i++)
		if (peers[i].idlen == len && memcmp(peers[i].id, id, len) == 0)
			return i;
	return -1;
}

/* The routing id frame: routes the message, or fails as libzmq does. */
static int
route(const void *id, size_t len, int flags)
{
	int			peer = peer_by_id(id, len);

	if (!(flags & ZMQ_SNDMORE))
		misuse("sent a routing id without a body");
	if (peer < 0 || !peers[peer].connected)
	{
		if (peer >= 0 && callbacks.unreachable)
			callbacks.unreachable(peer);
		if (router.mandatory)
		{
			errno = EHOSTUNREACH;
			return -1;
		}
		router.out_peer = -2;	/* dropped silently */
		return 0;
	}
	if (peers[peer].unread >= (peers[peer].hwm >= 0 ? peers[peer].hwm : router.sndhwm))
	{
		if (router.mandatory)
		{
			errno = EAGAIN;
			return -1;
		}
		router.out_peer = -2;
		return 0;
	}
	router.out_peer = peer;
	router.out_nframes = 0;
	return 0;
}

/* A body frame of the outgoing message (data is taken over). */
static void
add_body(uint8_t *data, size_t len, int flags)
{
	int			peer = router.out_peer;

	if (peer >= 0)
	{
		if (router.out_nframes++ == 0)
		{
			router.out_body = data;
			router.out_len = len;
			data = NULL;
		}
	}
	free(data);
	if (flags & ZMQ_SNDMORE)
		return;
	router.out_peer = -1;
	if (peer >= 0)
	{
		peers[peer].unread++;
		callbacks.delivered(peer, router.out_body, router.out_len, router.out_nframes);
	}
	free(router.out_body);
	router.out_body = NULL;
}

int
zmq_send(void *s, const void *buf, size_t len, int flags)
{
	uint8_t    *copy;

	if (s != ROUTER_TAG)
		misuse("sent on a socket that is not its ROUTER");
	if (!(flags & ZMQ_DONTWAIT))
		misuse("sent without ZMQ_DONTWAIT (the loop would block)");
	if (router.out_peer == -1)
		return route(buf, len, flags) == 0 ? (int) len : -1;
	copy = fmalloc(len);
	if (len > 0)
		memcpy(copy, buf, len);
	add_body(copy, len, flags);
	return (int) len;
}

int
zmq_msg_send(zmq_msg_t *msg, void *s, int flags)
{
	FakeMsg    *m = live(msg, "sent a closed message");
	size_t		len = m->size;

	if (s != ROUTER_TAG)
		misuse("sent on a socket that is not its ROUTER");
	if (!(flags & ZMQ_DONTWAIT))
		misuse("sent without ZMQ_DONTWAIT (the loop would block)");
	if (router.out_peer == -1)
	{
		if (route(m->data, m->size, flags) != 0)
			return -1;
		free(m->data);
	}
	else
		add_body(m->data, m->size, flags);
	/* A sent message is empty again, as libzmq leaves it. */
	zmq_msg_init(msg);
	return (int) len;
}

int
zmq_msg_recv(zmq_msg_t *msg, void *s, int flags)
{
	Inbound    *in = router.in_head;
	FakeMsg    *m;

	if (s != ROUTER_TAG)
		misuse("received on a socket that is not its ROUTER");
	if (!(flags & ZMQ_DONTWAIT))
		misuse("received without ZMQ_DONTWAIT (the loop would block)");
	m = live(msg, "received into a closed message");
	if (in == NULL)
	{
		errno = EAGAIN;
		return -1;
	}
	free(m->data);
	if (in->next_frame < 0)
	{
		m->size = peers[in->peer].idlen;
		m->data = fmalloc(m->size);
		memcpy(m->data, peers[in->peer].id, m->size);
		m->more = 1;
		m->peer = -1;
	}
	else
	{
		m->size = in->lens[in->next_frame];
		m->data = in->frames[in->next_frame];
		in->frames[in->next_frame] = NULL;
		m->more = in->next_frame + 1 < in->nframes;
		m->peer = in->peer;
		m->fd = in->fd;
	}
	if (++in->next_frame == in->nframes)
	{
		router.in_head = in->next;
		if (router.in_head == NULL)
			router.in_tail = NULL;
		free_inbound(in);
	}
	return (int) m->size;
}
