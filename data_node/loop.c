/*
 * loop.c — the event loop: poll, dispatch, timers, signals.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <zmq.h>

#include "agent.h"
#include "cancel.h"
#include "connect.h"
#include "liveness.h"
#include "log.h"
#include "loop.h"
#include "monitor.h"
#include "request.h"
#include "router.h"
#include "session.h"
#include "util.h"
#include "zap.h"

/* Retry interval for replies parked at a peer's high-water mark. */
#define PARK_RETRY_MS	5
/* Longest sleep: the resolution of connect timeouts and probes. */
#define TICK_MS			1000
/* Messages taken from the ROUTER per iteration, so sessions get turns. */
#define MAX_MSGS_PER_ITERATION 512

static int	signal_fd = -1;
static int64_t drain_deadline;

bool
loop_init_signals(char *err, size_t errlen)
{
	sigset_t	mask;

	/* zmq uses MSG_NOSIGNAL and libpq handles SIGPIPE, but be certain. */
	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
	{
		snprintf(err, errlen, "could not block signals: %s", strerror(errno));
		return false;
	}
	signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd < 0)
	{
		snprintf(err, errlen, "could not create a signalfd: %s", strerror(errno));
		return false;
	}
	return true;
}

static void
begin_shutdown(int signo)
{
	if (agent_shutting_down)
	{
		log_info("received %s again: exiting without waiting", strsignal(signo));
		drain_deadline = now_ms();
		return;
	}
	agent_shutting_down = true;
	drain_deadline = now_ms() + HD_DRAIN_MS;
	log_info("received %s: refusing new sessions, draining for up to %d ms",
			 strsignal(signo), HD_DRAIN_MS);
	/* Connections not ready yet are refused like new Hellos; threads give up. */
	sessions_refuse_connecting();
	connect_abort_all();
}

static void
handle_signals(void)
{
	struct signalfd_siginfo si;

	while (read(signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
	{
		switch (si.ssi_signo)
		{
			case SIGHUP:
				log_info("received SIGHUP: reloading configuration");
				agent_reload();
				break;
			case SIGTERM:
			case SIGINT:
				begin_shutdown((int) si.ssi_signo);
				break;
		}
	}
}

static void
drain_router(void)
{
	for (int i = 0; i < MAX_MSGS_PER_ITERATION; i++)
	{
		RoutingId	rid;
		zmq_msg_t	body;
		PeerInfo	peer;
		bool		multipart;

		if (router_recv(&rid, &body, &peer, &multipart) == 0)
			return;
		request_handle(&rid, zmq_msg_data(&body), zmq_msg_size(&body),
					   multipart, &peer);
		zmq_msg_close(&body);
	}
}

/* The sockets the loop serves besides sessions; zap and monitor may be NULL. */
typedef struct LoopSockets
{
	void	   *router;
	void	   *zap;
	void	   *monitor;
} LoopSockets;

/* Poll arrays, grown as sessions are added. */
typedef struct PollSet
{
	zmq_pollitem_t *items;
	Session   **owners;
	int			cap;
	int			n;
	int			nfixed;
	int			zap_idx;		/* -1 when absent */
	int			monitor_idx;
	int			cancel_idx;		/* the cancel threads' completion pipe */
	int			connect_idx;	/* the connect threads' completion pipe */
} PollSet;

static int
add_fixed(PollSet *ps, void *socket, int fd)
{
	ps->items[ps->n] = (zmq_pollitem_t) {.socket = socket, .fd = fd, .events = ZMQ_POLLIN};
	return ps->n++;
}

static void
pollset_build(PollSet *ps, const LoopSockets *ls)
{
	int			need = sessions_count() + 6;	/* + the fixed items */

	if (need > ps->cap)
	{
		ps->cap = need * 2;
		free(ps->items);
		free(ps->owners);
		ps->items = xcalloc(ps->cap, sizeof(zmq_pollitem_t));
		ps->owners = xcalloc(ps->cap, sizeof(Session *));
	}
	ps->n = 0;
	add_fixed(ps, ls->router, -1);	/* index 0 */
	add_fixed(ps, NULL, signal_fd); /* index 1 */
	ps->zap_idx = ls->zap ? add_fixed(ps, ls->zap, -1) : -1;
	ps->monitor_idx = ls->monitor ? add_fixed(ps, ls->monitor, -1) : -1;
	ps->cancel_idx = add_fixed(ps, NULL, cancel_fd());
	ps->connect_idx = add_fixed(ps, NULL, connect_fd());
	ps->nfixed = ps->n;
	ps->n += sessions_fill_poll(ps->items + ps->n, ps->owners + ps->n, ps->cap - ps->n);
}

static bool
ready(const PollSet *ps, int idx)
{
	return idx >= 0 && ps->items[idx].revents != 0;
}

static long
poll_timeout(int64_t now)
{
	long		timeout = router_has_parked() ? PARK_RETRY_MS : TICK_MS;
	int64_t		probe = liveness_next_due();

	if (probe >= 0 && probe - now < timeout)
		timeout = probe > now ? (long) (probe - now) : 0;

	if (agent_shutting_down && drain_deadline - now < timeout)
		timeout = drain_deadline > now ? (long) (drain_deadline - now) : 0;
	return timeout;
}

/* One round: wait, then serve whatever is ready. */
static void
loop_iteration(PollSet *ps, const LoopSockets *ls, int64_t *last_tick)
{
	int64_t		now = now_ms();
	int			rc;

	pollset_build(ps, ls);
	rc = zmq_poll(ps->items, ps->n, poll_timeout(now));
	if (rc < 0 && zmq_errno() != EINTR)
	{
		log_error("zmq_poll failed: %s", zmq_strerror(zmq_errno()));
		sleep(1);				/* do not spin on a persistent failure */
	}
	if (rc > 0)
	{
		if (ready(ps, 1))
			handle_signals();
		/* ZAP first: a pending handshake blocks that client's I/O thread. */
		if (ready(ps, ps->zap_idx))
			zap_handle();
		if (ready(ps, ps->monitor_idx))
			monitor_handle(sessions_peer_disconnected);
		/* Before requests: a session may start its next one now. */
		if (ready(ps, ps->cancel_idx))
			cancel_collect(sessions_cancel_done);
		if (ready(ps, ps->connect_idx))
			connect_collect(sessions_connect_done);
		if (ready(ps, 0))
			drain_router();
		for (int i = ps->nfixed; i < ps->n; i++)
			if (ps->items[i].revents)
				session_handle_events(ps->owners[i], ps->items[i].revents);
	}

	if (router_has_parked())
		router_retry_parked(sessions_peer_resumed);
	now = now_ms();
	liveness_run(now);
	if (now - *last_tick >= TICK_MS)
	{
		sessions_tick(now);
		connect_dispatch();		/* after a failed thread start */
		*last_tick = now;
	}
	router_reap_gone(sessions_peer_gone);
	sessions_reap();
}

/*
 * At exit: waits up to HD_HELPER_EXIT_WAIT_MS for the helper threads still
 * running, so cancels of closed sessions' queries reach the server, aborted
 * connects are finished, and no thread runs during exit().
 */
static void
wait_for_helpers(void)
{
	int64_t		deadline = now_ms() + HD_HELPER_EXIT_WAIT_MS;

	cancel_collect(NULL);
	connect_collect(sessions_connect_done);
	if (cancel_in_flight() > 0)
		log_info("waiting for %d cancel request%s in flight", cancel_in_flight(),
				 cancel_in_flight() == 1 ? "" : "s");
	if (connect_in_flight() > 0)
		log_info("waiting for %d connect thread%s to give up", connect_in_flight(),
				 connect_in_flight() == 1 ? "" : "s");
	while (cancel_in_flight() > 0 || connect_in_flight() > 0)
	{
		struct pollfd pfd[2] = {
			{.fd = cancel_fd(), .events = POLLIN},
			{.fd = connect_fd(), .events = POLLIN}
		};
		int64_t		left = deadline - now_ms();

		if (left <= 0)
		{
			log_warning("exiting with %d cancel request%s and %d connect thread%s still running",
						cancel_in_flight(), cancel_in_flight() == 1 ? "" : "s",
						connect_in_flight(), connect_in_flight() == 1 ? "" : "s");
			return;
		}
		if (poll(pfd, 2, (int) left) < 0 && errno != EINTR)
			return;
		cancel_collect(NULL);
		connect_collect(sessions_connect_done);
	}
}

void
loop_run(void *router, void *zap, void *monitor)
{
	LoopSockets ls = {router, zap, monitor};
	PollSet		ps = {0};
	int64_t		last_tick = now_ms();

	for (;;)
	{
		if (agent_shutting_down &&
			(sessions_drained() || now_ms() >= drain_deadline))
			break;
		loop_iteration(&ps, &ls, &last_tick);
	}
	sessions_shutdown();
	router_reap_gone(sessions_peer_gone);
	liveness_clear();
	wait_for_helpers();
	free(ps.items);
	free(ps.owners);
	close(signal_fd);
	signal_fd = -1;
}
