/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/health_monitor.c — the health monitor: is each data node usable?
 *
 * A background worker per database with hyperdist, started by that
 * database's worker (bgw/bgw.c) and stopped with it.  It has a process of
 * its own rather than a turn in the worker's loop because the resolver's
 * passes can wait up to 30 s on a node that died, while the monitor must
 * look at every node every hyperdist.health_check_interval.  Started by the
 * worker rather than the launcher because the worker already knows that
 * its database has the extension, and stopping it with the worker keeps
 * DROP DATABASE's pause of the worker (bgw.c) stopping both.  If it stops
 * (an error it could not handle), the worker starts it again after
 * HD_MONITOR_RESTART_MS.
 *
 * Every interval it checks every data node at once (remote/probe.c): the
 * agent answers a Ping, and the data node's PostgreSQL runs a query in a
 * session, each step waiting at most the interval, but at least
 * HD_MIN_CHECK_WAIT_MS (a loaded machine's handshake is not a failure),
 * and at most hyperdist.connect_timeout.  Each result goes to shared
 * memory (hd_health_record_check): a node whose checks have failed for
 * hyperdist.node_failure_timeout is down, a success brings it back.
 * Backends that cannot reach a node mark it down at once themselves.
 *
 * Transitions, its own and the backends', are written to the catalog
 * (metadata/node_status.c) when it sees them, so the table changes only
 * when a node goes down or comes back.  At start the monitor reads the
 * table back: a node that was down when the access node stopped stays
 * down until its first successful check.
 *
 * It connects as the bootstrap superuser, like the resolver, and reaches
 * the data nodes in that role's sessions (user mapping or passfile).
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "bgw/bgw.h"
#include "bgw/health_monitor.h"
#include "guc.h"
#include "metadata/node_status.h"
#include "remote/node.h"
#include "remote/node_health.h"
#include "remote/probe.h"

/* Delay before a monitor that stopped is started again. */
#define HD_MONITOR_RESTART_MS	1000
/* Retry interval when no background worker slot was free. */
#define HD_MONITOR_NO_SLOT_MS	1000
/* The least a check waits for a node's answer. */
#define HD_MIN_CHECK_WAIT_MS	1000

/* ---- in the database's worker: starting and stopping the monitor -------- */

static BackgroundWorkerHandle *monitor = NULL;
static TimestampTz monitor_next_start = 0;
static bool monitor_warned = false;
static bool monitor_exit_hook = false;

/* The worker exits: its monitor goes with it. */
static void
monitor_stop(int code, Datum arg)
{
	if (monitor != NULL)
		TerminateBackgroundWorker(monitor);
}

static bool
monitor_start(Oid dboid)
{
	BackgroundWorker w;
	MemoryContext old;
	bool		ok;

	/* the worker restarts it; after a crash, the new worker does */
	hd_bgw_dynamic_worker(&w, "hyperdist health monitor", "hyperdist_health_monitor_main",
						  ObjectIdGetDatum(dboid));
	snprintf(w.bgw_name, BGW_MAXLEN, "hyperdist health monitor for database %u", dboid);

	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&w, &monitor);
	MemoryContextSwitchTo(old);
	if (!ok && !monitor_warned)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start the hyperdist health monitor for database %u", dboid),
				 errdetail("No background worker slot is free; data nodes are not checked until one is."),
				 errhint("Raise max_worker_processes: hyperdist needs one slot for its launcher and two per database with the extension.")));
	monitor_warned = !ok;
	return ok;
}

long
hd_health_monitor_supervise(Oid dboid)
{
	TimestampTz now = GetCurrentTimestamp();
	pid_t		pid;

	if (monitor != NULL && GetBackgroundWorkerPid(monitor, &pid) != BGWH_STOPPED)
		return -1;
	if (monitor != NULL)
	{
		pfree(monitor);
		monitor = NULL;
		monitor_next_start = TimestampTzPlusMilliseconds(now, HD_MONITOR_RESTART_MS);
	}
	if (now < monitor_next_start)
		return TimestampDifferenceMilliseconds(now, monitor_next_start) + 1;
	if (!monitor_exit_hook)
	{
		before_shmem_exit(monitor_stop, (Datum) 0);
		monitor_exit_hook = true;
	}
	if (monitor_start(dboid))
		return -1;
	monitor_next_start = TimestampTzPlusMilliseconds(now, HD_MONITOR_NO_SLOT_MS);
	return HD_MONITOR_NO_SLOT_MS;
}

/* ---- the monitor ------------------------------------------------------------- */

/* What the catalog says of a node, as this monitor last wrote or read it. */
typedef struct SavedStatus
{
	Oid			serverid;		/* hash key */
	bool		down;
} SavedStatus;

static HTAB *saved = NULL;

static SavedStatus *
saved_status(Oid serverid)
{
	bool		found;
	SavedStatus *s = hash_search(saved, &serverid, HASH_ENTER, &found);

	if (!found)
		s->down = false;
	return s;
}

/* In a transaction: exits for good if the extension is not (or no longer) here. */
static void
leave_without_extension(void)
{
	if (OidIsValid(get_extension_oid("hyperdist", true)))
		return;
	CommitTransactionCommand();
	proc_exit(0);
}

/*
 * Loads the catalog's transitions: its nodes that were down are down in
 * shared memory, unless something fresher is there already.
 */
static void
monitor_restore(void)
{
	HASHCTL		ctl;
	ListCell   *lc;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(SavedStatus);
	saved = hash_create("hyperdist saved node status", 64, &ctl,
						HASH_ELEM | HASH_BLOBS);

	StartTransactionCommand();
	leave_without_extension();
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, hd_node_status_load())
	{
		HdNodeStatus *st = lfirst(lc);
		ForeignServer *server = GetForeignServerByName(st->node_name, true);

		if (server == NULL || !hd_server_is_data_node(server))
			continue;
		saved_status(server->serverid)->down = st->down;
		if (st->down)
			hd_health_restore_down(server->serverid, st->since, st->last_error);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* How long each step of a check waits for the nodes' answers. */
static int
check_wait_ms(void)
{
	return Min(Max(hd_health_check_interval, HD_MIN_CHECK_WAIT_MS),
			   hd_connect_timeout * 1000);
}

/* A node whose shared-memory state differs from the catalog's. */
typedef struct Transition
{
	Oid			serverid;
	char	   *node_name;
	HdNodeHealth health;
} Transition;

/*
 * Checks every data node and records the results; returns the nodes whose
 * state now differs from the catalog's.  Leaves for good if the extension
 * was dropped.
 */
static List *
check_nodes(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *servers;
	List	   *transitions = NIL;
	Oid		   *oids;
	char	  **errors;
	int			n;

	StartTransactionCommand();
	MemoryContextSwitchTo(cxt);
	leave_without_extension();
	servers = hd_data_node_oids();
	n = list_length(servers);
	oids = palloc(sizeof(Oid) * Max(n, 1));
	errors = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		oids[i] = list_nth_oid(servers, i);

	hd_probe_nodes(n, oids, check_wait_ms(), errors);

	for (int i = 0; i < n; i++)
	{
		HdNodeHealth health;
		Transition *t;

		hd_health_record_check(oids[i], errors[i] == NULL, errors[i],
							   hd_node_failure_timeout);
		(void) hd_health_get(oids[i], &health);
		if (health.down == saved_status(oids[i])->down)
			continue;
		t = palloc(sizeof(Transition));
		t->serverid = oids[i];
		t->node_name = pstrdup(GetForeignServer(oids[i])->servername);
		t->health = health;
		if (t->health.since == 0)
			t->health.since = GetCurrentTimestamp();
		transitions = lappend(transitions, t);
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return transitions;
}

/* Writes the transitions to the catalog, then remembers them as written. */
static void
save_transitions(List *transitions)
{
	MemoryContext cxt = CurrentMemoryContext;
	ListCell   *lc;

	if (transitions == NIL)
		return;
	StartTransactionCommand();
	MemoryContextSwitchTo(cxt);
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, transitions)
	{
		Transition *t = lfirst(lc);

		hd_node_status_save(t->node_name, t->health.down, t->health.since,
							t->health.error[0] != '\0' ? t->health.error : NULL);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	foreach(lc, transitions)
	{
		Transition *t = lfirst(lc);

		saved_status(t->serverid)->down = t->health.down;
		if (t->health.down)
			ereport(LOG,
					(errmsg("hyperdist: data node \"%s\" is unavailable", t->node_name),
					 errdetail_internal("%s", t->health.error)));
		else
			ereport(LOG,
					(errmsg("hyperdist: data node \"%s\" is available again", t->node_name)));
	}
}

/* One round; an error is logged, and the next round tries again. */
static void
monitor_pass(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);

	PG_TRY();
	{
		save_transitions(check_nodes());
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = hd_catch_abort_xact(cxt);
		ereport(LOG,
				(errmsg("hyperdist: the health check of the data nodes failed: %s",
						edata->message)));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextReset(cxt);
}

void
hyperdist_health_monitor_main(Datum arg)
{
	MemoryContext cxt;

	hd_bgw_begin(DatumGetObjectId(arg), "hyperdist health monitor");

	monitor_restore();
	cxt = AllocSetContextCreate(TopMemoryContext, "hyperdist health monitor",
								ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz next;

		hd_bgw_loop_top();
		next = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   hd_health_check_interval);
		monitor_pass(cxt);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next), 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
