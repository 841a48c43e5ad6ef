/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/node_health.c — the data nodes' health in shared memory (see node_health.h).
 *
 * A small array under one LWLock: lookups are a linear scan of a few
 * entries, done once per statement that chooses replicas, and updates
 * come from failures and from the monitor's checks (a few per second).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "remote/node_health.h"

typedef struct HealthEntry
{
	Oid			dboid;			/* InvalidOid: free */
	Oid			serverid;
	HdNodeHealth health;
} HealthEntry;

typedef struct HealthShared
{
	LWLock	   *lock;
	HealthEntry entries[HD_HEALTH_MAX_NODES];
} HealthShared;

static HealthShared *shared = NULL;

Size
hd_health_shmem_size(void)
{
	return sizeof(HealthShared);
}

/* Caller holds AddinShmemInitLock. */
void
hd_health_shmem_init(void)
{
	bool		found;

	shared = ShmemInitStruct("hyperdist node health", sizeof(HealthShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(HealthShared));
		shared->lock = &(GetNamedLWLockTranche("hyperdist node health"))->lock;
	}
}

/* The entry of serverid in this database, or NULL; caller holds the lock. */
static HealthEntry *
entry_find(Oid serverid)
{
	for (int i = 0; i < HD_HEALTH_MAX_NODES; i++)
	{
		HealthEntry *e = &shared->entries[i];

		if (e->dboid == MyDatabaseId && e->serverid == serverid)
			return e;
	}
	return NULL;
}

/* The entry of serverid, made if missing; NULL if the table is full. */
static HealthEntry *
entry_get(Oid serverid)
{
	HealthEntry *e = entry_find(serverid);

	if (e != NULL)
		return e;
	for (int i = 0; i < HD_HEALTH_MAX_NODES; i++)
	{
		e = &shared->entries[i];
		if (e->dboid == InvalidOid)
		{
			memset(e, 0, sizeof(HealthEntry));
			e->dboid = MyDatabaseId;
			e->serverid = serverid;
			return e;
		}
	}
	return NULL;
}

static void
set_error(HdNodeHealth *h, const char *error)
{
	strlcpy(h->error, error != NULL ? error : "", HD_HEALTH_ERROR_LEN);
}

bool
hd_health_node_down(Oid serverid)
{
	HealthEntry *e;
	bool		down;

	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	e = entry_find(serverid);
	down = e != NULL && e->health.down;
	LWLockRelease(shared->lock);
	return down;
}

bool
hd_health_report_failure(Oid serverid, const char *error)
{
	HealthEntry *e;
	TimestampTz now = GetCurrentTimestamp();
	bool		went_down = false;

	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = entry_get(serverid);
	if (e != NULL)
	{
		went_down = !e->health.down;
		if (went_down)
			e->health.since = now;
		if (e->health.first_failure == 0)
			e->health.first_failure = now;
		e->health.down = true;
		set_error(&e->health, error);
	}
	LWLockRelease(shared->lock);
	if (e == NULL)
		ereport(WARNING,
				(errmsg("too many data nodes to track their health"),
				 errdetail("At most %d data nodes are tracked.", HD_HEALTH_MAX_NODES)));
	return went_down;
}

void
hd_health_record_check(Oid serverid, bool ok, const char *error,
					   int failure_timeout_ms)
{
	HealthEntry *e;
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = entry_get(serverid);
	if (e != NULL && ok)
	{
		if (e->health.down)
			e->health.since = now;
		e->health.down = false;
		e->health.first_failure = 0;
		e->health.last_ok = now;
	}
	else if (e != NULL)
	{
		if (e->health.first_failure == 0)
			e->health.first_failure = now;
		set_error(&e->health, error);
		if (!e->health.down &&
			TimestampDifferenceExceeds(e->health.first_failure, now,
									   failure_timeout_ms))
		{
			e->health.down = true;
			e->health.since = now;
		}
	}
	LWLockRelease(shared->lock);
}

void
hd_health_clear(Oid serverid)
{
	HealthEntry *e;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = entry_find(serverid);
	if (e != NULL)
	{
		if (e->health.down)
			e->health.since = GetCurrentTimestamp();
		e->health.down = false;
		e->health.first_failure = 0;
	}
	LWLockRelease(shared->lock);
}

void
hd_health_restore_down(Oid serverid, TimestampTz since, const char *error)
{
	HealthEntry *e;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (entry_find(serverid) == NULL && (e = entry_get(serverid)) != NULL)
	{
		e->health.down = true;
		e->health.since = since;
		e->health.first_failure = since;
		set_error(&e->health, error);
	}
	LWLockRelease(shared->lock);
}

bool
hd_health_get(Oid serverid, HdNodeHealth *out)
{
	HealthEntry *e;

	memset(out, 0, sizeof(HdNodeHealth));
	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	e = entry_find(serverid);
	if (e != NULL)
		*out = e->health;
	LWLockRelease(shared->lock);
	return e != NULL;
}

void
hd_health_forget(Oid serverid)
{
	HealthEntry *e;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = entry_find(serverid);
	if (e != NULL)
		e->dboid = InvalidOid;
	LWLockRelease(shared->lock);
}
