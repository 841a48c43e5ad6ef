/*
 * fuzz_agent_request.c — libFuzzer target for hyperdist-agent's request
 * handling: request.c, session.c, execute.c, reply.c, router.c and
 * cancel.c, linked as they are, with a fake libpq (fake_libpq.c) playing
 * the data node's PostgreSQL and in-process ZeroMQ for the ROUTER.
 *
 * The harness plays the agent's event loop (loop.c) and its access nodes:
 * three DEALER peers connected to the agent's ROUTER over inproc, and a
 * fourth routing id that is not connected (replies to it fail with
 * EHOSTUNREACH, so the agent must drop its sessions).  The front of each
 * input is a list of steps (fake_libpq.c draws the server's behaviour from
 * the back):
 *
 *   byte % 10   step
 *   0           the end of the steps (the rest is the fake server's)
 *   1, 2        a frame: peer byte, length (byte; >= 0xF0: 12 bits), bytes
 *   3           the same as a two-frame message (protocol v1 forbids them)
 *   4           serve the sessions' libpq sockets: rounds byte
 *   5           wait for the cancel threads and report them done
 *   6           the clock jumps: connect timeouts, liveness probes
 *   7           a peer's connection is gone: peer byte
 *   8           SIGTERM: the agent is shutting down
 *   9           max_sessions becomes byte % 4
 *
 * A frame whose envelope names session 1..16 is sent with the id of the
 * n-th session the agent opened instead (ids are random), so inputs reach
 * open sessions; every other frame goes out as it is.  After the steps the
 * agent shuts down as on SIGTERM, and everything must be gone: sessions,
 * libpq connections, cancel threads, memory (LeakSanitizer).
 *
 * Every reply the agent sends is checked: it decodes under the access
 * node's frame limit, is a reply (or a probe), carries the agent's epoch,
 * goes only to the peer that owns its session, and no query gets more
 * RowBatch messages than credit was granted for it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "agent.h"
#include "cancel.h"
#include "fake_libpq.h"
#include "log.h"
#include "request.h"
#include "router.h"
#include "session.h"
#include "util.h"

#define ENDPOINT		"inproc://hyperdist-fuzz-agent"
#define NPEERS			3		/* connected; one more routing id is not */
#define MAX_STEPS		64
#define MAX_ROUNDS		8
#define MAX_KNOWN		64		/* sessions remembered per input */
#define MAX_GRANTS		256
#define EPOCH			1

/* What agent.c defines; the harness is the agent's main. */
uint64_t	agent_epoch = EPOCH;
AgentConfig *agent_config;
bool		agent_shutting_down;

static AgentConfig config;
static bool trace;				/* HD_FUZZ_TRACE: print every reply */
static void *dealers[NPEERS];
static RoutingId peers[NPEERS + 1];

/* Sessions the agent opened in this input, in order, and their peers. */
static struct
{
	uint64_t	id;
	int			peer;
}			known[MAX_KNOWN];
static int	nknown;

/* Credit granted and RowBatch messages received, per peer, session, seq. */
static struct
{
	int			peer;
	uint64_t	session;
	uint32_t	seq;
	uint64_t	granted;
	uint64_t	batches;
}			grants[MAX_GRANTS];
static int	ngrants;

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

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *level = getenv("HD_FUZZ_LOG_LEVEL");
	HdLogLevel	lvl = HD_LOG_ERROR;
	char		err[256];
	void	   *ctx;
	int			linger = 0;

	if (level && !hd_log_parse_level(level, &lvl))
		fail("HD_FUZZ_LOG_LEVEL: unknown level \"%s\"", level);
	hd_log_set_level(lvl);
	trace = getenv("HD_FUZZ_TRACE") != NULL;
	config.max_sessions = HD_DEFAULT_MAX_SESSIONS;
	agent_config = &config;
	if (!cancel_init(err, sizeof(err)))
		fail("%s", err);

	ctx = zmq_ctx_new();
	if (ctx == NULL || router_open(ctx, ENDPOINT, NULL, err, sizeof(err)) == NULL)
		fail("cannot open the ROUTER: %s", ctx ? err : "no context");
	for (int i = 0; i <= NPEERS; i++)
		peers[i].len = (uint8_t) snprintf((char *) peers[i].data,
										  sizeof(peers[i].data), "peer-%d", i);
	for (int i = 0; i < NPEERS; i++)
	{
		dealers[i] = zmq_socket(ctx, ZMQ_DEALER);
		if (dealers[i] == NULL ||
			zmq_setsockopt(dealers[i], ZMQ_ROUTING_ID, peers[i].data, peers[i].len) != 0 ||
			zmq_setsockopt(dealers[i], ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
			zmq_connect(dealers[i], ENDPOINT) != 0)
			fail("cannot connect peer %d: %s", i, zmq_strerror(zmq_errno()));
	}
	return 0;
}

/* ---- replies ------------------------------------------------------------- */

static int
owner_of(uint64_t session)
{
	for (int i = 0; i < nknown; i++)
		if (known[i].id == session)
			return known[i].peer;
	return -1;
}

static int
grant_slot(int peer, uint64_t session, uint32_t seq)
{
	for (int i = 0; i < ngrants; i++)
		if (grants[i].peer == peer && grants[i].session == session &&
			grants[i].seq == seq)
			return i;
	if (ngrants == MAX_GRANTS)
		return -1;
	grants[ngrants].peer = peer;
	grants[ngrants].session = session;
	grants[ngrants].seq = seq;
	grants[ngrants].granted = 0;
	grants[ngrants].batches = 0;
	return ngrants++;
}

static void
check_reply(int peer, const void *data, size_t len)
{
	HdEnvelope *env;
	const char *why;
	Hyperdist__Envelope__BodyCase body;
	int			slot;

	if (hd_wire_decode(data, len, HD_MAX_REPLY_FRAME, NULL, &env, &why) != HD_WIRE_OK)
		fail("the agent sent peer %d an invalid frame (%zu bytes): %s", peer, len, why);
	body = env->body_case;
	if (trace)
		fprintf(stderr, "reply to peer %d: %s session %016" PRIx64 " seq %u%s%s\n",
				peer, hd_wire_body_name(body), env->session, env->seq,
				body == HYPERDIST__ENVELOPE__BODY_ERROR ? " " : "",
				body == HYPERDIST__ENVELOPE__BODY_ERROR ? env->error->message : "");
	if (!env->has_epoch || env->epoch != agent_epoch)
		fail("a %s without the agent's epoch", hd_wire_body_name(body));
	if (hd_wire_is_request(body) &&
		!(body == HYPERDIST__ENVELOPE__BODY_PING && env->seq == 0 && env->session != 0))
		fail("the agent sent a request: %s", hd_wire_body_name(body));

	switch (body)
	{
		case HYPERDIST__ENVELOPE__BODY_HELLO_OK:
			if (owner_of(env->hello_ok->session) >= 0)
				fail("session %016" PRIx64 " was opened twice", env->hello_ok->session);
			if (env->session != env->hello_ok->session)
				fail("a HelloOk names two sessions");
			if (nknown < MAX_KNOWN)
			{
				known[nknown].id = env->hello_ok->session;
				known[nknown++].peer = peer;
			}
			break;
		case HYPERDIST__ENVELOPE__BODY_ERROR:
			break;				/* may echo a session the peer made up */
		default:
			if (env->session != 0 && owner_of(env->session) != peer)
				fail("peer %d got a %s of session %016" PRIx64 ", which is not its own",
					 peer, hd_wire_body_name(body), env->session);
			break;
	}
	if (body == HYPERDIST__ENVELOPE__BODY_ROW_BATCH)
	{
		slot = grant_slot(peer, env->session, env->seq);
		if (slot >= 0 && ++grants[slot].batches > grants[slot].granted)
			fail("seq %u of session %016" PRIx64 " got %" PRIu64
				 " row batches for a credit of %" PRIu64, env->seq, env->session,
				 grants[slot].batches, grants[slot].granted);
	}
	hd_wire_free(env, NULL);
}

/* Takes every reply the peers have been sent and checks it. */
static void
collect_replies(void)
{
	for (int i = 0; i < NPEERS; i++)
	{
		for (;;)
		{
			zmq_msg_t	msg;

			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, dealers[i], ZMQ_DONTWAIT) < 0)
			{
				zmq_msg_close(&msg);
				break;
			}
			if (zmq_msg_more(&msg))
				fail("the agent sent a multipart message");
			check_reply(i, zmq_msg_data(&msg), zmq_msg_size(&msg));
			zmq_msg_close(&msg);
		}
	}
}

/*
 * The end of a loop iteration: parked replies, gone peers, closed sessions;
 * then the replies.  (Each look at a peer's socket costs system calls.)
 */
static void
settle(void)
{
	for (int i = 0; i < 4 && router_has_parked(); i++)
	{
		collect_replies();
		router_retry_parked(sessions_peer_resumed);
	}
	router_reap_gone(sessions_peer_gone);
	sessions_reap();
	collect_replies();
}

/* ---- steps --------------------------------------------------------------- */

/* Credit the frame grants, as the agent will see it. */
static void
note_credit(int peer, const uint8_t *frame, size_t len)
{
	HdEnvelope *env;
	int			slot;
	uint32_t	credit = 0;

	if (hd_wire_decode(frame, len, HD_MAX_REQUEST_FRAME, NULL, &env, NULL) != HD_WIRE_OK)
		return;
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_QUERY && env->query->has_credit)
		credit = env->query->credit;
	else if (env->body_case == HYPERDIST__ENVELOPE__BODY_CREDIT)
		credit = env->credit->batches;
	if (credit > 0 && (slot = grant_slot(peer, env->session, env->seq)) >= 0)
		grants[slot].granted += credit;
	hd_wire_free(env, NULL);
}

/*
 * The frame with session n (1..16) replaced by the n-th opened session's id;
 * NULL when there is nothing to replace.
 */
static uint8_t *
patch_session(const uint8_t *frame, size_t len, size_t *outlen)
{
	HdEnvelope *env = hyperdist__envelope__unpack(NULL, len, frame);
	uint8_t    *out = NULL;

	if (env == NULL)
		return NULL;
	if (env->has_session && env->session >= 1 && env->session <= 16 &&
		env->session <= (uint64_t) nknown)
	{
		env->session = known[env->session - 1].id;
		*outlen = hd_wire_size(env);
		out = xmalloc(*outlen);
		hd_wire_encode(env, out);
	}
	hyperdist__envelope__free_unpacked(env, NULL);
	return out;
}

/* What the loop does with the ROUTER's messages (loop.c, drain_router). */
static void
drain_router(void)
{
	RoutingId	rid;
	zmq_msg_t	body;
	char		peer[64];
	char		user_id[256];
	bool		multipart;

	while (router_recv(&rid, &body, peer, sizeof(peer), user_id, sizeof(user_id),
					   &multipart))
	{
		request_handle(&rid, zmq_msg_data(&body), zmq_msg_size(&body),
					   multipart, peer, user_id);
		zmq_msg_close(&body);
	}
}

static void
send_frame(FuzzInput *in, bool multipart)
{
	int			peer = fuzz_front_byte(in) % (NPEERS + 1);
	size_t		len = fuzz_front_byte(in);
	const uint8_t *frame;
	uint8_t    *patched;
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
	if (!multipart)
		note_credit(peer, frame, len);

	if (peer == NPEERS)
	{
		/* a routing id the ROUTER does not know: replies cannot reach it */
		request_handle(&peers[peer], frame, len, multipart, "gone", "gone");
	}
	else
	{
		if (zmq_send(dealers[peer], frame, len, multipart ? ZMQ_SNDMORE : 0) < 0 ||
			(multipart && zmq_send(dealers[peer], "", 0, 0) < 0))
			fail("peer %d cannot send: %s", peer, zmq_strerror(zmq_errno()));
		drain_router();
	}
	free(patched);
}

/* What the loop does when sessions' libpq sockets are ready. */
static void
serve_sessions(int rounds)
{
	for (int r = 0; r < rounds; r++)
	{
		int			cap = sessions_count() + 1;
		zmq_pollitem_t *items = xcalloc(cap, sizeof(zmq_pollitem_t));
		Session   **owners = xcalloc(cap, sizeof(Session *));
		int			n = sessions_fill_poll(items, owners, cap);

		for (int i = 0; i < n; i++)
			session_handle_events(owners[i], items[i].events);
		free(items);
		free(owners);
		settle();
		if (n == 0)
			break;
	}
}

/* One step; false at the end of the steps. */
static bool
step(FuzzInput *in)
{
	uint8_t		op = fuzz_front_byte(in);

	switch (op % 10)
	{
		case 0:
			return false;
		case 1:
		case 2:
			send_frame(in, false);
			break;
		case 3:
			send_frame(in, true);
			break;
		case 4:
			serve_sessions(1 + fuzz_front_byte(in) % MAX_ROUNDS);
			break;
		case 5:
			cancel_wait_all(60000, sessions_cancel_done);
			break;
		case 6:
			sessions_tick(now_ms() + HD_CONNECT_TIMEOUT_MS + HD_PROBE_INTERVAL_MS);
			break;
		case 7:
			sessions_peer_gone(&peers[fuzz_front_byte(in) % (NPEERS + 1)]);
			break;
		case 8:
			agent_shutting_down = true;
			break;
		case 9:
			config.max_sessions = fuzz_front_byte(in) % 4;
			break;
	}
	settle();
	return true;
}

/* The agent's exit (loop_run after the drain), then a clean slate. */
static void
teardown(void)
{
	sessions_shutdown();
	router_reap_gone(sessions_peer_gone);
	cancel_wait_all(60000, NULL);
	settle();
	if (sessions_count() != 0)
		fail("%d sessions outlived the shutdown", sessions_count());
	if (fake_pq_open_connections() != 0)
		fail("%d libpq connections were never closed", fake_pq_open_connections());
	if (cancel_in_flight() != 0)
		fail("%d cancel threads are still running", cancel_in_flight());
	if (router_has_parked())
		fail("replies are still parked after the shutdown");

	nknown = 0;
	ngrants = 0;
	agent_shutting_down = false;
	config.max_sessions = HD_DEFAULT_MAX_SESSIONS;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in;
	char		err[256];

	fuzz_input_init(&in, data, size);
	fake_pq_attach(&in);
	/* "user" is dropped with a warning, as from a real --pg */
	if (!sessions_set_conninfo("host=127.0.0.1 port=5432 user=nobody", err, sizeof(err)))
		fail("%s", err);
	for (int i = 0; i < MAX_STEPS; i++)
		if (!step(&in))
			break;
	teardown();
	fake_pq_attach(NULL);
	return 0;
}
