/* SPDX-License-Identifier: PostgreSQL */
/*
 * loop.c — the event loop: poll, dispatch, timers, signals.
 */
#include <errno.h>
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
#include "farewell.h"
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
/* The end of the drain, then of the wait at exit. */
static int64_t deadline;
/* How long the agent waits at exit: HD_EXIT_WAIT_MS or the test knob. */
static int	exit_wait_ms = HD_EXIT_WAIT_MS;

bool
loop_init(char *err, size_t errlen)
{
	sigset_t	mask;
	int			test_wait_ms;

	if (!test_delay_from_env(HD_TEST_EXIT_WAIT_ENV, &test_wait_ms, err, errlen))
		return false;
	if (test_wait_ms > 0)
		exit_wait_ms = test_wait_ms;

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
		log_info("received %s again: ending the wait", strsignal(signo));
		deadline = now_ms();
		return;
	}
	agent_shutting_down = true;
	deadline = now_ms() + HD_DRAIN_MS;
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

/* The time until due (a now_ms() time; -1: none), if before timeout. */
static long
sooner(long timeout, int64_t due, int64_t now)
{
	if (due < 0 || due - now >= timeout)
		return timeout;
	return due > now ? (long) (due - now) : 0;
}

static long
poll_timeout(int64_t now)
{
	long		timeout = router_has_parked() ? PARK_RETRY_MS : TICK_MS;

	timeout = sooner(timeout, liveness_next_due(), now);
	timeout = sooner(timeout, farewell_next_due(), now);
	if (agent_shutting_down)
		timeout = sooner(timeout, deadline, now);
	return timeout;
}

static void
peer_disconnected(int fd)
{
	sessions_peer_disconnected(fd);
	farewell_disconnected(now_ms());
}

static void
peer_gone(const RoutingId *rid)
{
	sessions_peer_gone(rid);
	farewell_forget(rid);
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
			monitor_handle(peer_disconnected);
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
	farewell_run(now, exit_wait_ms);
	if (now - *last_tick >= TICK_MS)
	{
		sessions_tick(now);
		connect_dispatch();		/* after a failed thread start */
		*last_tick = now;
	}
	router_reap_gone(peer_gone);
	sessions_reap();
}

/* What the agent still waits for at exit. */
static bool
exit_waits(void)
{
	return cancel_in_flight() > 0 || connect_in_flight() > 0 || farewell_pending() > 0;
}

static void
log_exit_wait(const char *what, int n, const char *singular, const char *plural)
{
	if (n > 0)
		log_info("%s %d %s", what, n, n == 1 ? singular : plural);
}

/*
 * After the sessions are closed, the loop serves on (a Hello gets 57P01, a
 * request 08003) for up to exit_wait_ms: until the peers replied to since
 * the shutdown began have taken their replies (farewell.h), cancels of
 * closed sessions' queries have reached the server, and aborted connects
 * are finished, so no thread runs during exit().
 */
static void
wait_before_exit(PollSet *ps, const LoopSockets *ls, int64_t *last_tick)
{
	int64_t		now = now_ms();

	deadline = now + exit_wait_ms;
	/* a first round of probes, so the log counts only peers still there */
	farewell_start(now);
	farewell_run(now, exit_wait_ms);
	cancel_collect(sessions_cancel_done);
	connect_collect(sessions_connect_done);
	log_exit_wait("waiting for", cancel_in_flight(), "cancel request in flight",
				  "cancel requests in flight");
	log_exit_wait("waiting for", connect_in_flight(), "connect thread to give up",
				  "connect threads to give up");
	log_exit_wait("waiting for", farewell_pending(),
				  "access-node backend to take its last replies",
				  "access-node backends to take their last replies");
	while (exit_waits() && now_ms() < deadline)
		loop_iteration(ps, ls, last_tick);
	if (cancel_in_flight() > 0 || connect_in_flight() > 0)
		log_warning("exiting with %d cancel request%s and %d connect thread%s still running",
					cancel_in_flight(), cancel_in_flight() == 1 ? "" : "s",
					connect_in_flight(), connect_in_flight() == 1 ? "" : "s");
	log_exit_wait("exiting while still connected to", farewell_pending(),
				  "access-node backend that got a reply during shutdown",
				  "access-node backends that got replies during shutdown");
}

void
loop_run(void *router, void *zap, void *monitor)
{
	LoopSockets ls = {router, zap, monitor};
	PollSet		ps = {0};
	int64_t		last_tick = now_ms();

	while (!agent_shutting_down || (!sessions_drained() && now_ms() < deadline))
		loop_iteration(&ps, &ls, &last_tick);
	sessions_shutdown();
	liveness_clear();
	wait_before_exit(&ps, &ls, &last_tick);
	farewell_clear();
	free(ps.items);
	free(ps.owners);
	close(signal_fd);
	signal_fd = -1;
}
