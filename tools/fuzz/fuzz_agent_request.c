/* SPDX-License-Identifier: PostgreSQL */
/*
 * fuzz_agent_request.c — libFuzzer target for hyperdist-agent's request
 * handling: every file of data_node/ but main, the event loop, the config
 * file, the ZAP handler and the socket monitor, linked as it is, with a
 * fake libpq (fake_libpq.c) playing the data node's PostgreSQL and a fake
 * libzmq (fake_zmq.c) playing the ROUTER's transport.
 *
 * The harness plays the agent's event loop (loop.c): it hands the ROUTER's
 * messages to request_handle, serves the sessions' libpq sockets, runs the
 * helper threads (helper_threads.h), moves a virtual clock, reports closed
 * connections as the monitor does, signals shutdown.  And it plays four
 * access-node backends: peers 0 to 2 are connected, peer 3 is a routing
 * id whose connection is gone; peers 0 and 1 share a CURVE key, 2 and 3
 * another.  The front of each input is a list of steps (fake_libpq.c
 * draws the server's behaviour from the back):
 *
 *   byte % 16   step
 *   0           the end of the steps (the rest is the fake server's)
 *   1 2 14 15   a frame: peer byte, length (byte; >= 0xF0: 12 bits), bytes
 *   3           the same as a two-frame message (protocol v1 forbids them)
 *   4 13        serve the sessions' libpq sockets: rounds byte
 *   5           helper threads (cancels, connects) run: count byte, 0 all
 *   6           the clock moves on: byte picks 1 ms to 30 s
 *   7           a peer's connection closes (the monitor reports it): peer
 *   8           SIGTERM: the agent begins its shutdown
 *   9           SIGHUP: byte picks a setting and its value
 *   10          a peer stops or resumes reading, or its HWM: byte
 *   11          a control frame above 16 kB: as 1, padded with a field
 *   12          a peer reconnects: peer byte
 *
 * A frame whose envelope names session 1..16 is sent with the id of the
 * n-th session the agent opened instead (ids are random), so inputs reach
 * open sessions; every other frame goes out as it is.  A peer 0-2 that
 * sends while disconnected reconnects first, as a DEALER does.  After the
 * steps the agent shuts down as on SIGTERM, and everything must be gone:
 * sessions, libpq connections, helper threads, parked replies, memory
 * (LeakSanitizer).
 *
 * Every reply is checked the moment the agent sends it: it decodes under
 * the access node's frame limit, is one frame, a reply (or a probe), has
 * the agent's epoch, and goes only to the peer owning its session.  No
 * query gets more RowBatch messages than credit granted; fragments go only
 * to access nodes of minor 3 or later, are non-empty, at most the batch
 * size, consecutive, and join to one row too large for a frame.  Done, and
 * the Error ending a request that ran, carry the transaction status, and
 * it is the session's when sent.  A bad frame gets one 08P01 and changes
 * nothing.  Every Hello is answered once.  Sessions of a peer that stays
 * reachable stay open; those of a peer whose connection closed are gone
 * 1 s after the close when watched, 10 s at most anyway.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cancel.h"
#include "connect.h"
#include "fake_libpq.h"
#include "fake_zmq.h"
#include "helper_threads.h"
#include "liveness.h"
#include "log.h"
#include "reply.h"
#include "request.h"
#include "router.h"
#include "session.h"
#include "sqlstate.h"
#include "util.h"
#include "zap.h"

#define NPEERS			FAKE_ZMQ_PEERS
#define GONE_PEER		3		/* never connected */
#define MAX_STEPS		96
#define MAX_ROUNDS		8
#define MAX_KNOWN		64		/* sessions remembered per input */
#define MAX_PENDING		32		/* requests remembered per session */
#define MAX_GRANTS		256
#define MAX_HELLOS		64
#define MAX_THREADS		256
#define EPOCH			1
#define CLOCK_START		INT64_C(1000000000)
#define TICK_MS			1000	/* loop.c's */

/* What agent.c defines; the harness is the agent's main. */
uint64_t	agent_epoch = EPOCH;
AgentConfig *agent_config;
bool		agent_shutting_down;

static AgentConfig config;
static bool trace;				/* HD_FUZZ_TRACE: print frames and replies */
static FuzzInput *input;
static int64_t clock_now;
static int64_t last_tick;

/* A request the harness saw a session accept, until its final reply. */
typedef struct Pending
{
	uint32_t	seq;
	bool		started;		/* sent to PostgreSQL */
	bool		ambiguous;		/* another one has the same seq */
} Pending;

/* A session the agent opened in this input. */
typedef struct Known
{
	uint64_t	id;
	int			peer;
	int			minor;			/* its Hello's; -1 unknown */
	int			last_fd;		/* the connection its peer last spoke on */
	bool		closed;			/* by a Close from its peer */
	bool		untracked;		/* requests no longer followed: too many,
								 * or replies parked when one started */
	Pending		pending[MAX_PENDING];
	int			npending;
	HdBuf		row;			/* fragments joined so far */
	uint32_t	row_seq;
	bool		in_row;
} Known;

static Known known[MAX_KNOWN];
static int	nknown;

/* Credit granted and RowBatch messages received, per peer, session, seq. */
typedef struct Grant
{
	int			peer;
	uint64_t	session;
	uint32_t	seq;
	uint64_t	granted;
	uint64_t	batches;
	size_t		batch_limit;	/* the Query's batch size; 0 unknown */
} Grant;

static Grant grants[MAX_GRANTS];
static int	ngrants;

/* Hellos sent, per peer and seq, and how often they were answered. */
typedef struct Hello
{
	int			peer;
	uint32_t	seq;
	int			minor;			/* -1: several Hellos with other minors */
	int			fd;
	int			sent;
	int			answered;
} Hello;

static Hello hellos[MAX_HELLOS];
static int	nhellos;

typedef struct PeerState
{
	bool		reading;		/* reads its replies at every turn */
	bool		untracked;		/* a reply to it was lost or cannot be told apart */
	bool		ever_disconnected;
	bool		watched;		/* disconnected with sessions on that connection */
	int64_t		disconnected_at;	/* since when, while disconnected */
} PeerState;

static PeerState peer_state[NPEERS];

/* Helper threads started and not run yet, in order. */
typedef struct Thread
{
	void	   *(*start) (void *);
	void	   *arg;
} Thread;

static Thread threads[MAX_THREADS];
static int	nthreads;

/*
 * While a frame the agent must refuse is handed over: its sender, the
 * Error it gets (none for a Close), the session and seq that Error echoes,
 * and the replies seen meanwhile.
 */
static struct
{
	bool		active;
	int			peer;
	const char *sqlstate;		/* NULL: no reply */
	uint64_t	session;
	uint32_t	seq;
	int			replies;
}			refusal;

static bool exiting;			/* the agent's exit: sessions close */

/* The request being handed over, pending at the end of its session's list. */
static Known *delivering;

static void
fail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "fuzz_agent_request: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * A small quarantine: freed memory is reused sooner, which halves the time
 * ASan spends faulting in fresh pages; an input's lifetime is far shorter.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16:malloc_context_size=8";
}

/* ---- the harness's own decoding --------------------------------------------- */

/*
 * The harness decodes every frame and reply once more.  That memory is
 * the harness's and needs no checks, so it comes from an arena, released
 * after each use: ASan's malloc costs more than the decoding.
 */
#define ARENA_SIZE		((size_t) 4 * 1024 * 1024)

static struct
{
	uint8_t    *base;
	size_t		used;
}			arena;

static void *
arena_alloc(void *data, size_t size)
{
	void	   *p;

	size = (size + 15) & ~(size_t) 15;
	if (size > ARENA_SIZE - arena.used)
		return xmalloc(size);
	p = arena.base + arena.used;
	arena.used += size;
	return p;
}

static void
arena_free(void *data, void *p)
{
	if ((uint8_t *) p < arena.base || (uint8_t *) p >= arena.base + ARENA_SIZE)
		free(p);
}

static ProtobufCAllocator arena_allocator = {arena_alloc, arena_free, NULL};

/* hd_wire_decode into the arena; release with decoded_free. */
static HdWireStatus
decode(const void *data, size_t len, size_t max_len, HdEnvelope **env, const char **why)
{
	return hd_wire_decode(data, len, max_len, &arena_allocator, env, why);
}

static void
decoded_free(HdEnvelope *env)
{
	hd_wire_free(env, &arena_allocator);
	arena.used = 0;
}

/* ---- what the harness plays: clock, threads, key labels ------------------ */

/* The agent's clock (util.c's is renamed away, Makefile). */
int64_t
now_ms(void)
{
	return clock_now;
}

/* zap.c's: the harness's keys have no labels. */
const char *
zap_key_name(const char *z85)
{
	return z85;
}

int
fuzz_thread_create(pthread_t *tid, const pthread_attr_t *attr,
				   void *(*start) (void *), void *arg)
{
	/* Now and then the system has no thread to give. */
	if (nthreads == MAX_THREADS || (input && fuzz_back_below(input, 32) == 31))
		return EAGAIN;
	threads[nthreads].start = start;
	threads[nthreads++].arg = arg;
	return 0;
}

/* ---- the sessions the agent opened ---------------------------------------- */

static Known *
find_known(uint64_t id)
{
	for (int i = 0; i < nknown; i++)
		if (known[i].id == id)
			return &known[i];
	return NULL;
}

static const RoutingId *
peer_rid(int peer)
{
	static RoutingId rids[NPEERS];
	RoutingId  *rid = &rids[peer];
	const uint8_t *id = fake_zmq_routing_id(peer, &rid->len);

	memcpy(rid->data, id, rid->len);
	return rid;
}

/* Whether the agent would find session id for a request from peer. */
static bool
session_open(uint64_t id, int peer)
{
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	const char *why;

	env.has_epoch = env.has_session = true;
	env.epoch = EPOCH;
	env.session = id;
	return session_lookup(peer_rid(peer), &env, &why) != NULL;
}

/* Whether request env from peer names a session the agent would find. */
static bool
request_finds_session(int peer, const HdEnvelope *env)
{
	const char *why;

	return session_lookup(peer_rid(peer), env, &why) != NULL;
}

/* Adds a request k accepted; false when k has too many to follow. */
static bool
add_pending(Known *k, uint32_t seq)
{
	Pending    *p;

	if (k->npending == MAX_PENDING)
	{
		k->untracked = true;
		return false;
	}
	p = &k->pending[k->npending++];
	p->seq = seq;
	p->started = false;
	p->ambiguous = false;
	for (int i = 0; i < k->npending - 1; i++)
		if (k->pending[i].seq == seq)
			p->ambiguous = k->pending[i].ambiguous = true;
	return true;
}

/* PostgreSQL was sent a request of session tag (fake_libpq's hook). */
static void
query_started(uint64_t tag)
{
	Known	   *k = find_known(tag);

	if (k == NULL || k->untracked || peer_state[k->peer].untracked)
		return;
	/*
	 * Replies parked for the peer may answer requests still pending here
	 * (a queued one cancelled, say): which one runs is unknown then.
	 */
	if (router_peer_blocked(peer_rid(k->peer)))
	{
		k->untracked = true;
		return;
	}
	for (int i = 0; i < k->npending; i++)
	{
		if (!k->pending[i].started)
		{
			k->pending[i].started = true;
			return;
		}
	}
	fail("session %016" PRIx64 " sent PostgreSQL a request it never accepted", tag);
}

/* The connect threads' report, as the loop hands it over (loop.c). */
static void
connect_done(uint64_t id, uint64_t token, ConnectOutcome outcome, PGconn *conn,
			 const char *error)
{
	if (conn)
		fake_pq_tag(conn, id);
	sessions_connect_done(id, token, outcome, conn, error);
}

/* ---- checking replies ------------------------------------------------------ */

/*
 * Whether peer may get a reply of session: its own.  A probe may also
 * name a session still connecting (the liveness watch probes those too),
 * which the harness does not know yet.
 */
static bool
owns(int peer, uint64_t session, Hyperdist__Envelope__BodyCase body)
{
	Known	   *k = find_known(session);

	if (k)
		return k->peer == peer;
	return body == HYPERDIST__ENVELOPE__BODY_PING || nknown == MAX_KNOWN;
}

static Grant *
grant_slot(int peer, uint64_t session, uint32_t seq)
{
	Grant	   *g;

	for (int i = 0; i < ngrants; i++)
		if (grants[i].peer == peer && grants[i].session == session &&
			grants[i].seq == seq)
			return &grants[i];
	if (ngrants == MAX_GRANTS)
		return NULL;
	g = &grants[ngrants++];
	memset(g, 0, sizeof(*g));
	g->peer = peer;
	g->session = session;
	g->seq = seq;
	return g;
}

static Hello *
find_hello(int peer, uint32_t seq)
{
	for (int i = 0; i < nhellos; i++)
		if (hellos[i].peer == peer && hellos[i].seq == seq)
			return &hellos[i];
	return NULL;
}

static void
hello_answered(int peer, uint32_t seq)
{
	Hello	   *h = find_hello(peer, seq);

	if (h && ++h->answered > h->sent && !peer_state[peer].untracked)
		fail("peer %d's Hello seq %u was answered %d times", peer, seq, h->answered);
}

static void
opened(int peer, const HdEnvelope *env)
{
	Hello	   *h = find_hello(peer, env->seq);
	Known	   *k;
	HdBuf		row;

	if (find_known(env->hello_ok->session))
		fail("session %016" PRIx64 " was opened twice", env->hello_ok->session);
	if (env->session != env->hello_ok->session)
		fail("a HelloOk names two sessions");
	hello_answered(peer, env->seq);
	if (nknown == MAX_KNOWN)
		return;
	k = &known[nknown++];
	row = k->row;				/* kept from input to input: fresh memory is slow */
	memset(k, 0, sizeof(*k));
	k->id = env->hello_ok->session;
	k->peer = peer;
	k->minor = h ? h->minor : -1;
	k->last_fd = h ? h->fd : -1;
	k->row = row;
	hd_buf_reset(&k->row);
}

/* The expected txn_status of a reply sent now for session k. */
static HdTxnStatus
expected_txn(const Known *k)
{
	PGconn	   *conn = fake_pq_find(k->id);

	switch (conn ? PQtransactionStatus(conn) : PQTRANS_UNKNOWN)
	{
		case PQTRANS_IDLE:
			return HYPERDIST__TXN_STATUS__TXN_IDLE;
		case PQTRANS_INTRANS:
			return HYPERDIST__TXN_STATUS__TXN_IN_TRANSACTION;
		case PQTRANS_INERROR:
			return HYPERDIST__TXN_STATUS__TXN_IN_ERROR;
		case PQTRANS_ACTIVE:
			fail("session %016" PRIx64 " sent a final reply while its query was active",
				 k->id);
			break;
		default:
			break;
	}
	return HYPERDIST__TXN_STATUS__TXN_UNKNOWN;
}

/*
 * Which pending request of k a final reply answers: the first one with its
 * seq, but when several have it, the first that ran for a reply that only
 * a request that ran gets (Done, an Error with txn_status, the shutdown's
 * 57P01, which answers the running one before the queued ones), else the
 * first that did not.  -1 for none.
 */
static int
answered(const Known *k, const HdEnvelope *env)
{
	bool		ran = env->body_case == HYPERDIST__ENVELOPE__BODY_DONE ||
		env->has_txn_status ||
		strcmp(env->error->sqlstate, HD_SQLSTATE_ADMIN_SHUTDOWN) == 0;
	int			first = -1;

	/* A request refused as it arrives (a full queue) is the one arriving. */
	if (!ran && k == delivering && k->pending[k->npending - 1].seq == env->seq)
		return k->npending - 1;

	for (int i = 0; i < k->npending; i++)
	{
		if (k->pending[i].seq != env->seq)
			continue;
		if (k->pending[i].started == ran)
			return i;
		if (first < 0)
			first = i;
	}
	return first;
}

/*
 * A Done or Error for session k: the final reply of a request it
 * accepted.  One that ran carries the transaction status (but for the
 * agent's own 57P01 at shutdown), the session's status at the time when
 * the reply goes out at once.
 */
static void
final_reply(int peer, Known *k, const HdEnvelope *env)
{
	bool		error = env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR;
	int			i;

	if (k->in_row && k->row_seq == env->seq)
	{
		if (!error)
			fail("seq %u of session %016" PRIx64 " got Done before its row's last fragment",
				 env->seq, k->id);
		k->in_row = false;
		hd_buf_reset(&k->row);
	}
	if (env->has_txn_status && !router_peer_blocked(peer_rid(peer)) &&
		env->txn_status != expected_txn(k))
		fail("seq %u of session %016" PRIx64 " ended with txn_status %d, the session's is %d",
			 env->seq, k->id, env->txn_status, expected_txn(k));
	if (k->untracked || peer_state[peer].untracked || (i = answered(k, env)) < 0)
		return;
	if (k->pending[i].started && !k->pending[i].ambiguous && !env->has_txn_status &&
		!(error && strcmp(env->error->sqlstate, HD_SQLSTATE_ADMIN_SHUTDOWN) == 0))
		fail("seq %u of session %016" PRIx64 " ran, but its %s has no txn_status",
			 env->seq, k->id, hd_wire_body_name(env->body_case));
	memmove(&k->pending[i], &k->pending[i + 1], (k->npending - i - 1) * sizeof(Pending));
	k->npending--;
}

/* Credit, and the rules for fragments of a row too large for a frame. */
static void
row_batch(int peer, Known *k, const HdEnvelope *env)
{
	const Hyperdist__RowBatch *b = env->row_batch;
	Grant	   *g = grant_slot(peer, env->session, env->seq);
	const char *why;

	if (g && ++g->batches > g->granted)
		fail("seq %u of session %016" PRIx64 " got %" PRIu64 " row batches for a credit of %"
			 PRIu64, env->seq, env->session, g->batches, g->granted);
	if (!(b->has_fragment && b->fragment))
	{
		if (k->in_row)
			fail("session %016" PRIx64 " sent a batch between the fragments of a row",
				 k->id);
		return;
	}
	if (k->minor >= 0 && k->minor < HD_PROTO_MINOR_FRAGMENTS)
		fail("session %016" PRIx64 " of protocol minor %d got a fragment", k->id, k->minor);
	if (k->in_row && k->row_seq != env->seq)
		fail("fragments of seq %u and %u interleave", k->row_seq, env->seq);
	if (g && g->batch_limit > 0 && b->data.len > g->batch_limit)
		fail("a fragment of %zu bytes exceeds its batch size of %zu",
			 b->data.len, g->batch_limit);
	k->in_row = true;
	k->row_seq = env->seq;
	if (!hd_buf_append(&k->row, b->data.data, b->data.len))
		fail("out of memory");
	if (b->nrows == 0)
		return;
	if ((why = hd_batch_check(k->row.data, k->row.len, 1, 0)) != NULL)
		fail("a row joined from fragments is broken: %s", why);
	if (k->row.len <= (size_t) HD_MAX_REPLY_FRAME - HD_ROW_BATCH_OVERHEAD ||
		k->row.len > HD_MAX_ROW_BYTES)
		fail("a row of %zu bytes came in fragments", k->row.len);
	k->in_row = false;
	hd_buf_reset(&k->row);
}

static void
check_refusal(int peer, const HdEnvelope *env)
{
	if (++refusal.replies > 1 || peer != refusal.peer || refusal.sqlstate == NULL)
		fail("a refused frame got more than its Error");
	if (env->body_case != HYPERDIST__ENVELOPE__BODY_ERROR ||
		strcmp(env->error->sqlstate, refusal.sqlstate) != 0)
		fail("a refused frame got a %s, not Error %s", hd_wire_body_name(env->body_case),
			 refusal.sqlstate);
	if (env->session != refusal.session || env->seq != refusal.seq)
		fail("a refused frame's Error names session %016" PRIx64 " seq %u, not %016"
			 PRIx64 " seq %u", env->session, env->seq, refusal.session, refusal.seq);
}

/* fake_zmq's callback: a reply reached peer. */
static void
delivered(int peer, const uint8_t *data, size_t len, int nframes)
{
	HdEnvelope *env;
	const char *why;
	Hyperdist__Envelope__BodyCase body;
	Known	   *k;

	if (decode(data, len, HD_MAX_REPLY_FRAME, &env, &why) != HD_WIRE_OK)
		fail("the agent sent peer %d an invalid frame (%zu bytes): %s", peer, len, why);
	body = env->body_case;
	if (trace)
		fprintf(stderr, "reply to peer %d: %s session %016" PRIx64 " seq %u%s%.80s\n",
				peer, hd_wire_body_name(body), env->session, env->seq,
				body == HYPERDIST__ENVELOPE__BODY_ERROR ? " " : "",
				body == HYPERDIST__ENVELOPE__BODY_ERROR ? env->error->message : "");
	if (nframes != 1)
		fail("the agent sent a message of %d frames", nframes + 1);
	if (!env->has_epoch || env->epoch != agent_epoch)
		fail("a %s without the agent's epoch", hd_wire_body_name(body));
	if (hd_wire_is_request(body) &&
		!(body == HYPERDIST__ENVELOPE__BODY_PING && env->seq == 0 && env->session != 0))
		fail("the agent sent a request: %s", hd_wire_body_name(body));
	if (body == HYPERDIST__ENVELOPE__BODY_DONE && !env->has_txn_status)
		fail("a Done without txn_status");

	if (refusal.active)
		check_refusal(peer, env);
	else if (body == HYPERDIST__ENVELOPE__BODY_HELLO_OK)
		opened(peer, env);
	else if (body == HYPERDIST__ENVELOPE__BODY_ERROR && env->session == 0)
		hello_answered(peer, env->seq);
	else if (env->session != 0 && body != HYPERDIST__ENVELOPE__BODY_ERROR &&
			 !owns(peer, env->session, body))
		fail("peer %d got a %s of session %016" PRIx64 ", which is not its own",
			 peer, hd_wire_body_name(body), env->session);
	k = refusal.active ? NULL : find_known(env->session);
	if (k && body == HYPERDIST__ENVELOPE__BODY_ROW_BATCH)
		row_batch(peer, k, env);
	else if (k && (body == HYPERDIST__ENVELOPE__BODY_DONE ||
				   body == HYPERDIST__ENVELOPE__BODY_ERROR))
		final_reply(peer, k, env);
	else if (k && k->in_row && k->row_seq == env->seq &&
			 (body == HYPERDIST__ENVELOPE__BODY_NOTICE ||
			  body == HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION))
		fail("a %s came between the fragments of a row", hd_wire_body_name(body));
	decoded_free(env);
}

/*
 * fake_zmq's callback: a reply to peer was lost.  What it was is unknown,
 * so the peer's Hellos and requests are no longer followed.
 */
static void
unreachable(int peer)
{
	peer_state[peer].untracked = true;
}

/* A gone peer's sessions close (router.c's callback, as the loop passes it). */
static void
peer_gone(const RoutingId *rid)
{
	for (int i = 0; i < NPEERS; i++)
		if (routing_id_equal(rid, peer_rid(i)))
			peer_state[i].untracked = true;
	sessions_peer_gone(rid);
}

/* ---- invariants of the sessions -------------------------------------------- */

/*
 * Sessions live as long as their peer: one that stays reachable keeps
 * its sessions until it closes them; one whose connection closed loses
 * them LIVENESS_GRACE_MS after the close when the watch found it (its
 * sessions had spoken on that connection), HD_PROBE_INTERVAL_MS after at
 * most (an idle probe, at a tick).
 */
static void
check_sessions(bool ticked)
{
	if (exiting)
		return;
	for (int i = 0; i < nknown; i++)
	{
		Known	   *k = &known[i];
		PeerState  *p = &peer_state[k->peer];

		if (k->closed || !p->ever_disconnected || fake_zmq_connected(k->peer) ||
			!session_open(k->id, k->peer))
			continue;
		if (p->watched && clock_now - p->disconnected_at >= LIVENESS_GRACE_MS)
			fail("peer %d's connection closed %" PRId64 " ms ago, but its session %016"
				 PRIx64 " is open", k->peer, clock_now - p->disconnected_at, k->id);
		if (ticked && clock_now - p->disconnected_at >= HD_PROBE_INTERVAL_MS)
			fail("peer %d has been gone for %" PRId64 " ms, but its session %016" PRIx64
				 " is open", k->peer, clock_now - p->disconnected_at, k->id);
	}
	for (int i = 0; i < nknown; i++)
	{
		Known	   *k = &known[i];
		PeerState  *p = &peer_state[k->peer];

		if (!k->closed && !p->ever_disconnected && !p->untracked &&
			!session_open(k->id, k->peer))
			fail("session %016" PRIx64 " of peer %d, which never went away, was closed",
				 k->id, k->peer);
	}
}

/* ---- the loop -------------------------------------------------------------- */

/* What the loop does with the ROUTER's messages (loop.c, drain_router). */
static void
drain_router(void)
{
	RoutingId	rid;
	zmq_msg_t	body;
	PeerInfo	peer;
	bool		multipart;

	while (router_recv(&rid, &body, &peer, &multipart))
	{
		request_handle(&rid, zmq_msg_data(&body), zmq_msg_size(&body),
					   multipart, &peer);
		zmq_msg_close(&body);
	}
}

/*
 * The end of a loop iteration: peers read their replies, parked ones are
 * retried, the liveness watch and the tick run, gone peers' sessions and
 * closed sessions go.
 */
static void
settle(void)
{
	bool		ticked = false;

	for (int i = 0; i < NPEERS; i++)
		if (peer_state[i].reading)
			fake_zmq_read(i);
	if (router_has_parked())
		router_retry_parked(sessions_peer_resumed);
	liveness_run(clock_now);
	if (clock_now - last_tick >= TICK_MS)
	{
		sessions_tick(clock_now);
		connect_dispatch();		/* after a failed thread start */
		last_tick = clock_now;
		ticked = true;
	}
	router_reap_gone(peer_gone);
	sessions_reap();
	check_sessions(ticked);
}

/* Runs the first n helper threads waiting (all when n is 0), then collects. */
static void
run_threads(int n)
{
	if (nthreads == 0)
		return;					/* nothing can have reported */
	if (n <= 0 || n > nthreads)
		n = nthreads;
	for (int i = 0; i < n; i++)
		threads[i].start(threads[i].arg);
	memmove(threads, threads + n, (nthreads - n) * sizeof(Thread));
	nthreads -= n;
	/* Cancels first, as the loop polls them (loop.c). */
	cancel_collect(sessions_cancel_done);
	connect_collect(connect_done);
}

/* loop.c's begin_shutdown. */
static void
begin_shutdown(void)
{
	if (agent_shutting_down)
		return;
	agent_shutting_down = true;
	sessions_refuse_connecting();
	connect_abort_all();
}

/* What the loop does when sessions' libpq sockets are ready. */
static void
serve_sessions(int rounds)
{
	static zmq_pollitem_t *items;
	static Session **owners;
	static int	cap;

	for (int r = 0; r < rounds; r++)
	{
		int			n;

		if (sessions_count() + 1 > cap)
		{
			cap = 2 * (sessions_count() + 1);
			free(items);
			free(owners);
			items = xcalloc(cap, sizeof(zmq_pollitem_t));
			owners = xcalloc(cap, sizeof(Session *));
		}
		n = sessions_fill_poll(items, owners, cap);
		for (int i = 0; i < n; i++)
			session_handle_events(owners[i], items[i].events);
		settle();
		if (n == 0)
			break;
	}
}

/* ---- peers ----------------------------------------------------------------- */

static void
peer_connect(int peer)
{
	if (peer == GONE_PEER || fake_zmq_connected(peer))
		return;
	fake_zmq_connect(peer);
	peer_state[peer].watched = false;
}

/* The peer's connection closes, and the ROUTER's monitor says so. */
static void
peer_disconnect(int peer)
{
	int			fd = fake_zmq_disconnect(peer);
	PeerState  *p = &peer_state[peer];

	if (fd < 0)
		return;
	p->ever_disconnected = true;
	p->untracked = true;		/* its unread replies are lost */
	p->disconnected_at = clock_now;
	p->watched = false;
	for (int i = 0; i < nknown; i++)
		if (known[i].peer == peer && known[i].last_fd == fd &&
			session_open(known[i].id, peer))
			p->watched = true;
	sessions_peer_disconnected(fd);
}

/* ---- frames ---------------------------------------------------------------- */

/*
 * The frame with session n (1..16) replaced by the n-th opened session's id;
 * NULL when there is nothing to replace.
 */
static uint8_t *
patch_session(const uint8_t *frame, size_t len, size_t *outlen)
{
	HdEnvelope *env;
	HdWirePeek	peek;
	uint8_t    *out = NULL;

	if (!hd_wire_peek(frame, len, &peek) || peek.session < 1 || peek.session > 16 ||
		peek.session > (uint64_t) nknown ||
		(env = hyperdist__envelope__unpack(&arena_allocator, len, frame)) == NULL)
		return NULL;
	if (env->has_session && env->session >= 1 && env->session <= 16 &&
		env->session <= (uint64_t) nknown)
	{
		env->session = known[env->session - 1].id;
		*outlen = hd_wire_size(env);
		out = xmalloc(*outlen);
		hd_wire_encode(env, out);
	}
	decoded_free(env);
	return out;
}

/*
 * The frame with a field the protocol does not define (9) appended, which
 * takes it above HD_MAX_CONTROL_FRAME (protobuf keeps unknown fields).
 */
static uint8_t *
pad_frame(const uint8_t *frame, size_t len, size_t *outlen)
{
	size_t		pad = HD_MAX_CONTROL_FRAME + 1;
	uint8_t    *out = xmalloc(len + 4 + pad);
	uint8_t    *p = out + len;

	memcpy(out, frame, len);
	*p++ = (9 << 3) | 2;		/* field 9, length-delimited */
	*p++ = (uint8_t) (0x80 | (pad & 0x7f));
	*p++ = (uint8_t) (0x80 | ((pad >> 7) & 0x7f));
	*p++ = (uint8_t) (pad >> 14);
	memset(p, 'x', pad);
	*outlen = len + 4 + pad;
	return out;
}

/* Remembers what the frame asks for, before the agent sees it. */
static void
note_request(int peer, const HdEnvelope *env)
{
	Grant	   *g;
	Hello	   *h;
	Known	   *k;

	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_HELLO:
			if ((h = find_hello(peer, env->seq)) == NULL && nhellos < MAX_HELLOS)
			{
				h = &hellos[nhellos++];
				memset(h, 0, sizeof(*h));
				h->peer = peer;
				h->seq = env->seq;
				h->minor = env->hello->has_minor ? (int) env->hello->minor : 0;
				h->fd = fake_zmq_fd(peer);
			}
			if (h == NULL)
				return;
			if (h->sent++ == 0)
				h->fd = fake_zmq_fd(peer);
			if (h->minor != (env->hello->has_minor ? (int) env->hello->minor : 0))
				h->minor = -1;
			if (h->fd != fake_zmq_fd(peer))
				h->fd = -1;
			return;
		case HYPERDIST__ENVELOPE__BODY_QUERY:
		case HYPERDIST__ENVELOPE__BODY_CREDIT:
			if ((g = grant_slot(peer, env->session, env->seq)) == NULL)
				break;
			if (env->body_case == HYPERDIST__ENVELOPE__BODY_CREDIT)
			{
				g->granted += env->credit->has_batches ? env->credit->batches : 0;
				break;
			}
			g->granted += env->query->has_credit ? env->query->credit : 0;
			/* execute.c's batch_limit; a second Query with this seq: unknown */
			if (g->batch_limit == 0 && (!env->query->has_batch_bytes || env->query->batch_bytes == 0))
				g->batch_limit = HD_DEFAULT_BATCH_BYTES;
			else if (g->batch_limit == 0)
				g->batch_limit = env->query->batch_bytes < HD_MAX_BATCH_BYTES
					? env->query->batch_bytes : HD_MAX_BATCH_BYTES;
			else
				g->batch_limit = SIZE_MAX;
			break;
		default:
			break;
	}
	if ((k = find_known(env->session)) == NULL || !request_finds_session(peer, env))
		return;
	k->last_fd = fake_zmq_fd(peer);
	if ((env->body_case == HYPERDIST__ENVELOPE__BODY_EXEC ||
		 env->body_case == HYPERDIST__ENVELOPE__BODY_QUERY) && add_pending(k, env->seq))
		delivering = k;
	else if (env->body_case == HYPERDIST__ENVELOPE__BODY_CLOSE)
		k->closed = true;
}

/*
 * Whether the agent must refuse the frame with one Error and do nothing
 * else (request.c), and which Error: 08P01 for a frame that does not
 * decode, a control frame above HD_MAX_CONTROL_FRAME, several frames or a
 * reply; 08003 for a request whose session it would not find (none for a
 * Close).  *env is the decoded frame, when it decodes.
 */
static bool
must_refuse(int peer, const uint8_t *frame, size_t len, bool multipart, HdEnvelope **env)
{
	HdWireStatus status;
	HdWirePeek	peek;
	bool		peeked = hd_wire_peek(frame, len, &peek);
	Hyperdist__Envelope__BodyCase body;

	*env = NULL;
	refusal.sqlstate = HD_SQLSTATE_PROTOCOL_VIOLATION;
	refusal.session = 0;
	refusal.seq = 0;
	if (len > HD_MAX_CONTROL_FRAME && peeked &&
		peek.body != HYPERDIST__ENVELOPE__BODY_EXEC &&
		peek.body != HYPERDIST__ENVELOPE__BODY_QUERY)
		status = HD_WIRE_TOO_LARGE;
	else if (multipart)
		status = HD_WIRE_INVALID;
	else
		status = decode(frame, len, HD_MAX_REQUEST_FRAME, env, NULL);
	if (status != HD_WIRE_OK)
	{
		if ((status == HD_WIRE_INVALID || status == HD_WIRE_TOO_LARGE) && peeked)
		{
			refusal.session = peek.session;
			refusal.seq = peek.seq;
		}
		return true;
	}
	body = (*env)->body_case;
	refusal.session = (*env)->session;
	refusal.seq = (*env)->seq;
	if (!hd_wire_is_request(body))
		return true;
	if (body == HYPERDIST__ENVELOPE__BODY_HELLO ||
		(body == HYPERDIST__ENVELOPE__BODY_PING && (*env)->session == 0) ||
		request_finds_session(peer, *env))
		return false;
	refusal.sqlstate = body == HYPERDIST__ENVELOPE__BODY_CLOSE
		? NULL : HD_SQLSTATE_CONNECTION_DOES_NOT_EXIST;
	return true;
}

static void
send_frame(int peer, const uint8_t *frame, size_t len, bool multipart)
{
	static const uint8_t empty[1];
	const uint8_t *frames[2] = {frame, empty};
	size_t		lens[2] = {len, 0};
	HdEnvelope *env;
	int			threads_before = nthreads;
	int			sessions_before = sessions_count();

	if (peer != GONE_PEER)
		peer_connect(peer);
	refusal.active = must_refuse(peer, frame, len, multipart, &env);
	refusal.peer = peer;
	refusal.replies = 0;
	if (trace)
		fprintf(stderr, "frame from peer %d: %s session %016" PRIx64 " seq %u%s\n", peer,
				env ? hd_wire_body_name(env->body_case) : "(bad)",
				env ? env->session : 0, env ? env->seq : 0,
				refusal.active ? " (refused)" : "");
	if (env)
	{
		if (!refusal.active)
			note_request(peer, env);
		decoded_free(env);
	}
	fake_zmq_post(peer, frames, lens, multipart ? 2 : 1);
	drain_router();
	delivering = NULL;
	if (refusal.active && (nthreads != threads_before || sessions_count() != sessions_before))
		fail("a refused frame started something");
	/* A refusal parked for later cannot be told from other replies then. */
	if (refusal.active && router_peer_blocked(peer_rid(peer)))
		peer_state[peer].untracked = true;
	refusal.active = false;
}

static void
frame_step(FuzzInput *in, bool multipart, bool oversized)
{
	int			peer = fuzz_front_byte(in) % NPEERS;
	size_t		len = fuzz_front_byte(in);
	const uint8_t *frame;
	uint8_t    *patched;
	uint8_t    *padded = NULL;
	size_t		plen = 0;

	if (len >= 0xF0)
		len = ((len - 0xF0) << 8) | fuzz_front_byte(in);
	frame = fuzz_front_bytes(in, &len);
	patched = patch_session(frame, len, &plen);
	if (patched)
	{
		frame = patched;
		len = plen;
	}
	if (oversized)
	{
		padded = pad_frame(frame, len, &plen);
		frame = padded;
		len = plen;
	}
	send_frame(peer, frame, len, multipart);
	free(patched);
	free(padded);
}

/* ---- steps ----------------------------------------------------------------- */

static void
clock_step(uint8_t arg)
{
	static const int64_t steps[] = {1, 50, LIVENESS_PROBE_MS, 500, LIVENESS_GRACE_MS,
	LIVENESS_WATCH_MS, HD_PROBE_INTERVAL_MS, HD_CONNECT_TIMEOUT_MS};

	clock_now += steps[arg % 8];
}

/* SIGHUP with a setting changed (agent.c's reload applies it at once). */
static void
setting_step(uint8_t arg)
{
	int			value = (arg >> 2) % 4;

	switch (arg % 4)
	{
		case 0:
			config.max_sessions = value;
			break;
		case 1:
			config.max_sessions_per_key = 1 + value;
			break;
		case 2:
			config.max_queued_requests = 1 + value;
			break;
		case 3:
			config.connect_threads = 1 + value;
			connect_dispatch();
			break;
	}
}

static void
reading_step(uint8_t arg)
{
	int			peer = arg % NPEERS;

	switch ((arg >> 2) % 4)
	{
		case 0:
			peer_state[peer].reading = false;
			break;
		case 1:
			peer_state[peer].reading = true;
			break;
		case 2:
			fake_zmq_set_hwm(peer, (arg >> 4) % 4);
			break;
		case 3:
			fake_zmq_set_hwm(peer, -1);
			break;
	}
}

/* One step; false at the end of the steps. */
static bool
step(FuzzInput *in)
{
	uint8_t		op = fuzz_front_byte(in);

	switch (op % 16)
	{
		case 0:
			return false;
		case 1:
		case 2:
		case 14:
		case 15:
			frame_step(in, false, false);
			break;
		case 3:
			frame_step(in, true, false);
			break;
		case 4:
		case 13:
			serve_sessions(1 + fuzz_front_byte(in) % MAX_ROUNDS);
			break;
		case 5:
			run_threads(fuzz_front_byte(in) % 4);
			break;
		case 6:
			clock_step(fuzz_front_byte(in));
			break;
		case 7:
			peer_disconnect(fuzz_front_byte(in) % NPEERS);
			break;
		case 8:
			begin_shutdown();
			break;
		case 9:
			setting_step(fuzz_front_byte(in));
			break;
		case 10:
			reading_step(fuzz_front_byte(in));
			break;
		case 11:
			frame_step(in, false, true);
			break;
		case 12:
			peer_connect(fuzz_front_byte(in) % NPEERS);
			break;
	}
	settle();
	return true;
}

/* ---- one input ------------------------------------------------------------- */

static void
reset_config(void)
{
	config.max_sessions = HD_DEFAULT_MAX_SESSIONS;
	config.max_sessions_per_key = HD_DEFAULT_MAX_SESSIONS_PER_KEY;
	config.max_queued_requests = HD_DEFAULT_MAX_QUEUED_REQUESTS;
	config.connect_threads = HD_DEFAULT_CONNECT_THREADS;
}

/* The agent's exit (loop_run after the drain): nothing may be left. */
static void
shut_down(void)
{
	exiting = true;
	begin_shutdown();
	sessions_shutdown();
	router_reap_gone(peer_gone);
	liveness_clear();
	run_threads(0);				/* wait_for_helpers */
	/* Every peer reads what the agent sent it. */
	for (int i = 0; i < NPEERS; i++)
	{
		peer_state[i].reading = true;
		fake_zmq_set_hwm(i, -1);
	}
	for (int i = 0; i < 2 && router_has_parked(); i++)
		settle();
	router_reap_gone(peer_gone);
	sessions_reap();

	if (sessions_count() != 0)
		fail("%d sessions outlived the shutdown", sessions_count());
	if (fake_pq_open_connections() != 0 || fake_pq_buffers_in_use() != 0)
		fail("%d libpq connections were never closed, %d COPY buffers never freed",
			 fake_pq_open_connections(), fake_pq_buffers_in_use());
	if (cancel_in_flight() != 0 || connect_in_flight() != 0 || nthreads != 0)
		fail("helper threads are left: %d cancels, %d connects", cancel_in_flight(),
			 connect_in_flight());
	if (router_has_parked())
		fail("replies are still parked after the shutdown");
	for (int i = 0; i < nhellos; i++)
		if (!peer_state[hellos[i].peer].untracked && hellos[i].answered != hellos[i].sent)
			fail("peer %d's Hello seq %u was answered %d times, sent %d times",
				 hellos[i].peer, hellos[i].seq, hellos[i].answered, hellos[i].sent);
}

/* A clean slate for the next input. */
static void
reset(void)
{
	nknown = ngrants = nhellos = 0;
	fuzz_connect_reset();
	fake_zmq_reset();
	memset(peer_state, 0, sizeof(peer_state));
	for (int i = 0; i < NPEERS; i++)
	{
		peer_state[i].reading = true;
		if (i != GONE_PEER)
			fake_zmq_connect(i);
	}
	agent_shutting_down = false;
	exiting = false;
	reset_config();
	clock_now = last_tick = CLOCK_START;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const FakeZmqPeerCallbacks callbacks = {delivered, unreachable};
	const char *level = getenv("HD_FUZZ_LOG_LEVEL");
	HdLogLevel	lvl = HD_LOG_ERROR;
	char		err[256];

	if (level && !hd_log_parse_level(level, &lvl))
		fail("HD_FUZZ_LOG_LEVEL: unknown level \"%s\"", level);
	hd_log_set_level(lvl);
	trace = getenv("HD_FUZZ_TRACE") != NULL;
	agent_config = &config;
	arena.base = xmalloc(ARENA_SIZE);
	if (!cancel_init(err, sizeof(err)) || !connect_init(err, sizeof(err)))
		fail("%s", err);
	fake_pq_on_query(query_started);
	fake_zmq_init(&callbacks);
	for (int i = 0; i < NPEERS; i++)
	{
		char		id[16];
		char		address[32];

		snprintf(id, sizeof(id), "peer-%d", i);
		snprintf(address, sizeof(address), "10.0.0.%d:4%04d", i / 2 + 1, i);
		/* two access nodes: their CURVE keys (Z85, 40 characters) */
		fake_zmq_peer(i, id, i / 2 ? "rq:rhbpVHs+ixDcn5oE^l=AjLNt7WGBq(TH!I{1>"
					  : "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", address);
	}
	if (router_open(NULL, "inproc://hyperdist-fuzz-agent", NULL, err, sizeof(err)) == NULL)
		fail("cannot open the ROUTER: %s", err);
	reset();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in;
	char		err[256];

	fuzz_input_init(&in, data, size);
	input = &in;
	fake_pq_attach(&in);
	/* "user" is dropped with a warning, as from a real --pg */
	if (!sessions_set_conninfo("host=127.0.0.1 port=5432 user=nobody", err, sizeof(err)))
		fail("%s", err);
	for (int i = 0; i < MAX_STEPS; i++)
		if (!step(&in))
			break;
	shut_down();
	fake_pq_attach(NULL);
	input = NULL;
	reset();
	return 0;
}
