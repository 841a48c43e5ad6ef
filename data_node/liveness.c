/* SPDX-License-Identifier: PostgreSQL */
/*
 * liveness.c — watching the peers whose connection closed (see liveness.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "liveness.h"
#include "log.h"
#include "reply.h"
#include "util.h"

typedef struct Watched
{
	struct Watched *next;
	RoutingId	rid;
	uint64_t	session;
	int64_t		started;		/* the disconnect */
	int64_t		next_probe;
	bool		unreachable;	/* the last probe found no pipe, ... */
	int64_t		unreachable_since;	/* ... nor did every probe since then */
} Watched;

static Watched *watched;

void
liveness_watch(const RoutingId *rid, uint64_t session, int64_t now)
{
	Watched    *w;

	for (w = watched; w; w = w->next)
		if (routing_id_equal(&w->rid, rid))
			break;
	if (w == NULL)
	{
		w = xcalloc(1, sizeof(Watched));
		w->rid = *rid;
		w->next = watched;
		watched = w;
	}
	w->session = session;
	w->started = now;
	w->next_probe = now;
}

/* One probe of w; false when the peer's watch is over. */
static bool
probe(Watched *w, int64_t now)
{
	char		idbuf[64];

	/* Parked replies are retried anyway, and those retries find a gone peer. */
	if (router_peer_blocked(&w->rid))
		return false;
	if (probe_reachable(&w->rid, w->session))
	{
		w->unreachable = false;
		return now - w->started < LIVENESS_WATCH_MS;
	}
	if (!w->unreachable)
	{
		w->unreachable = true;
		w->unreachable_since = now;
	}
	if (now - w->unreachable_since < LIVENESS_GRACE_MS)
		return true;
	log_info("access node backend %s is gone: its connection closed and it did not come back",
			 routing_id_str(&w->rid, idbuf, sizeof(idbuf)));
	router_mark_gone(&w->rid);
	return false;
}

void
liveness_run(int64_t now)
{
	Watched   **link = &watched;

	while (*link)
	{
		Watched    *w = *link;

		if (now < w->next_probe)
			link = &w->next;
		else if (probe(w, now))
		{
			w->next_probe = now + LIVENESS_PROBE_MS;
			link = &w->next;
		}
		else
		{
			*link = w->next;
			free(w);
		}
	}
}

int64_t
liveness_next_due(void)
{
	int64_t		due = -1;

	for (Watched *w = watched; w; w = w->next)
		if (due < 0 || w->next_probe < due)
			due = w->next_probe;
	return due;
}

void
liveness_clear(void)
{
	while (watched)
	{
		Watched    *w = watched;

		watched = w->next;
		free(w);
	}
}
