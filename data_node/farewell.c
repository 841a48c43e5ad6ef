/* SPDX-License-Identifier: PostgreSQL */
/*
 * farewell.c — the peers the agent waits for before it exits (see
 * farewell.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "farewell.h"
#include "reply.h"
#include "util.h"

/* Every reply of a shutdown looks its peer up: a hash set. */
#define FAREWELL_BUCKETS 1024

typedef struct Farewell
{
	struct Farewell *next;
	RoutingId	rid;
	int64_t		last_reply;
} Farewell;

static Farewell *buckets[FAREWELL_BUCKETS];
static int	npending;
static bool probing;			/* farewell_start was called */
static int64_t next_due;

static Farewell **
bucket_of(const RoutingId *rid)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < rid->len; i++)
		h = (h ^ rid->data[i]) * 16777619u;
	return &buckets[h % FAREWELL_BUCKETS];
}

void
farewell_note(const RoutingId *rid, int64_t now)
{
	Farewell  **bucket = bucket_of(rid);
	Farewell   *f;

	for (f = *bucket; f; f = f->next)
		if (routing_id_equal(&f->rid, rid))
			break;
	if (f == NULL)
	{
		f = xcalloc(1, sizeof(Farewell));
		f->rid = *rid;
		f->next = *bucket;
		*bucket = f;
		npending++;
	}
	f->last_reply = now;
}

/* Unlinks and frees *link. */
static void
drop(Farewell **link)
{
	Farewell   *f = *link;

	*link = f->next;
	free(f);
	npending--;
}

void
farewell_forget(const RoutingId *rid)
{
	for (Farewell **link = bucket_of(rid); *link; link = &(*link)->next)
		if (routing_id_equal(&(*link)->rid, rid))
		{
			drop(link);
			return;
		}
}

void
farewell_start(int64_t now)
{
	probing = true;
	next_due = now;
}

void
farewell_disconnected(int64_t now)
{
	if (next_due > now + FAREWELL_SETTLE_MS)
		next_due = now + FAREWELL_SETTLE_MS;
}

/* Whether f is still waited for. */
static bool
still_waited_for(const Farewell *f, int64_t now, int wait_ms)
{
	if (now - f->last_reply >= wait_ms)
		return false;
	/* Parked replies are retried anyway, and those retries find a gone peer. */
	if (router_peer_blocked(&f->rid))
		return true;
	return probe_reachable(&f->rid, 0);
}

void
farewell_run(int64_t now, int wait_ms)
{
	if (!probing || npending == 0 || now < next_due)
		return;
	for (int i = 0; i < FAREWELL_BUCKETS; i++)
	{
		Farewell  **link = &buckets[i];

		while (*link)
		{
			if (still_waited_for(*link, now, wait_ms))
				link = &(*link)->next;
			else
				drop(link);
		}
	}
	next_due = now + FAREWELL_PROBE_MS;
}

int64_t
farewell_next_due(void)
{
	return probing && npending > 0 ? next_due : -1;
}

int
farewell_pending(void)
{
	return npending;
}

void
farewell_clear(void)
{
	for (int i = 0; i < FAREWELL_BUCKETS; i++)
		while (buckets[i])
			drop(&buckets[i]);
}
