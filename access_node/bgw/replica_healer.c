/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/replica_healer.c — the replica healer (see replica_healer.h).
 *
 * Each pass reads the work (hd_replica_work: every stale replica, and every
 * replica an under-replicated chunk lacks) and does the first item it can:
 * a stale replica whose node is usable again is copied from a current
 * replica on a usable node; a missing one goes to a usable node of the
 * hypertable that does not hold the chunk, the one with the fewest
 * replicas first.  Each copy is a transaction of its own.  After a copy the
 * work is read again (the catalog changed); when nothing could be done the
 * healer naps HD_HEAL_NAP_MS.  A copy that fails is logged with the chunk
 * and the nodes, and that item is retried after a delay doubling from 1 s
 * to 60 s, so a broken item neither stops the others nor makes the worker
 * loop on errors.  With hyperdist.enable_replica_healing off the healer
 * exits after the copy under way, and the worker starts none.
 *
 * Only one healer runs per database: it holds a session advisory lock, and
 * a second one exits at once.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/extension.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "bgw/bgw.h"
#include "bgw/replica_healer.h"
#include "guc.h"
#include "metadata/catalog_read.h"
#include "metadata/replica.h"
#include "placement/chunk_move.h"
#include "placement/replica_copy.h"
#include "remote/node.h"
#include "remote/node_health.h"

/* The nap when no item could be done. */
#define HD_HEAL_NAP_MS			1000
/* The delays before a failed item is tried again. */
#define HD_HEAL_BACKOFF_MIN_MS	1000
#define HD_HEAL_BACKOFF_MAX_MS	60000
/* The healer's advisory lock: (database, this key, 0), session level. */
#define HD_HEALER_LOCK_KEY		0x68646865

/* ---- starting and stopping it (in the database's worker) ------------------- */

static BackgroundWorkerHandle *healer = NULL;

/* The worker exits: its healer goes with it (DROP DATABASE waits for both). */
static void
stop_healer(int code, Datum arg)
{
	if (healer != NULL)
		TerminateBackgroundWorker(healer);
}

static bool
healer_running(void)
{
	pid_t		pid;

	if (healer == NULL)
		return false;
	if (GetBackgroundWorkerPid(healer, &pid) != BGWH_STOPPED)
		return true;
	pfree(healer);
	healer = NULL;
	return false;
}

static bool
work_pending(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool pending = false;

	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pending = hd_replica_work() != NIL;
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = hd_catch_abort_xact(cxt);
		ereport(LOG,
				(errmsg("hyperdist: could not read the chunk replicas to heal: %s",
						edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return pending;
}

void
hd_healer_start_if_needed(void)
{
	static bool callback_set = false;
	BackgroundWorker w;
	MemoryContext old;

	if (!hd_enable_replica_healing || healer_running() || !work_pending())
		return;
	if (!callback_set)
	{
		before_shmem_exit(stop_healer, (Datum) 0);
		callback_set = true;
	}

	/* the worker starts it again */
	hd_bgw_dynamic_worker(&w, "hyperdist replica healer", "hyperdist_healer_main",
						  ObjectIdGetDatum(MyDatabaseId));
	snprintf(w.bgw_name, BGW_MAXLEN, "hyperdist replica healer for database %u",
			 MyDatabaseId);

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&w, &healer))
	{
		healer = NULL;
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("hyperdist: could not start the replica healer: no background worker slot is free"),
				 errhint("Raise max_worker_processes.")));
	}
	MemoryContextSwitchTo(old);
}

/* ---- the healer ------------------------------------------------------------------ */

/* A failed item, and when to try it again. */
typedef struct HealRetry
{
	int32		chunk_id;
	char		node[NAMEDATALEN];	/* the stale replica's, "" for a new one */
	int			delay_ms;
	TimestampTz next;
} HealRetry;

static List *retries = NIL;		/* in TopMemoryContext */

static HealRetry *
retry_entry(const HdReplicaWork *w, bool create)
{
	const char *node = w->node_name != NULL ? w->node_name : "";
	ListCell   *lc;
	HealRetry  *r;
	MemoryContext old;

	foreach(lc, retries)
	{
		r = lfirst(lc);
		if (r->chunk_id == w->chunk_id && strcmp(r->node, node) == 0)
			return r;
	}
	if (!create)
		return NULL;
	old = MemoryContextSwitchTo(TopMemoryContext);
	r = palloc0(sizeof(HealRetry));
	r->chunk_id = w->chunk_id;
	strlcpy(r->node, node, NAMEDATALEN);
	retries = lappend(retries, r);
	MemoryContextSwitchTo(old);
	return r;
}

static void
forget_retry(const HdReplicaWork *w)
{
	HealRetry  *r = retry_entry(w, false);

	if (r != NULL)
	{
		retries = list_delete_ptr(retries, r);
		pfree(r);
	}
}

/*
 * A replica on node may be read and written: the node is a data node,
 * available (the manual switch), and not known to be down.
 */
static bool
node_usable(const char *node)
{
	ForeignServer *server = GetForeignServerByName(node, true);
	HdServerOptions opts;

	if (server == NULL || !hd_server_is_data_node(server))
		return false;
	hd_server_options_get(server, &opts);
	return opts.available && !hd_health_node_down(server->serverid);
}

static const char *
first_usable(List *nodes)
{
	ListCell   *lc;

	foreach(lc, nodes)
	{
		if (node_usable(lfirst(lc)))
			return lfirst(lc);
	}
	return NULL;
}

typedef enum HealResult
{
	HEAL_DONE,
	HEAL_NOT_NOW,				/* no usable source or target */
	HEAL_FAILED
} HealResult;

/* Copies one item in a transaction of its own; errors are logged. */
static HealResult
heal_item(const HdReplicaWork *w, MemoryContext cxt)
{
	volatile HealResult result = HEAL_NOT_NOW;
	char	   *volatile source = NULL;
	char	   *volatile target = NULL;

	PG_TRY();
	{
		const char *s;
		const char *t;

		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		s = first_usable(w->current_nodes);
		t = w->node_name != NULL ? (node_usable(w->node_name) ? w->node_name : NULL)
			: first_usable(hd_catalog_replica_candidates(w->chunk_id));
		if (s != NULL && t != NULL)
		{
			source = MemoryContextStrdup(cxt, s);
			target = MemoryContextStrdup(cxt, t);
			if (w->node_name != NULL)
				hd_replica_copy(w->chunk_id, source, target);
			else
			{
				/* a new replica: a copy operation, which the movers run */
				(void) hd_chunk_op_create(w->chunk_id, source, target, false, NULL, 0);
				hd_bgw_wake(true);
			}
			result = HEAL_DONE;
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		HealRetry  *r;

		edata = hd_catch_abort_xact(cxt);

		r = retry_entry(w, true);
		r->delay_ms = r->delay_ms == 0 ? HD_HEAL_BACKOFF_MIN_MS :
			Min(r->delay_ms * 2, HD_HEAL_BACKOFF_MAX_MS);
		r->next = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), r->delay_ms);
		ereport(LOG,
				(errmsg("hyperdist: could not copy chunk \"%s\".\"%s\" from data node \"%s\" to data node \"%s\": %s",
						w->chunk_schema, w->chunk_table,
						source != NULL ? source : "?", target != NULL ? target : "?",
						edata->message),
				 errdetail("Retrying in %d ms.", r->delay_ms)));
		FreeErrorData(edata);
		result = HEAL_FAILED;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);

	if (result == HEAL_DONE)
	{
		forget_retry(w);
		ereport(LOG,
				(errmsg("hyperdist: chunk \"%s\".\"%s\" copied from data node \"%s\" to data node \"%s\"; the replica is current",
						w->chunk_schema, w->chunk_table, source, target)));
	}
	return result;
}

/*
 * The work now, in cxt; NIL when there is none, and also when the
 * extension is gone (*gone).
 */
static List *
read_work(MemoryContext cxt, bool *gone)
{
	List	   *work = NIL;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	*gone = !OidIsValid(get_extension_oid("hyperdist", true));
	MemoryContextSwitchTo(cxt);
	if (!*gone)
		work = hd_replica_work();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return work;
}

/*
 * One pass: does the first item that can be done.  Returns how long to nap
 * before the next pass (0: at once), or -1 when no work is left.
 */
static long
heal_pass(MemoryContext cxt)
{
	bool		gone;
	List	   *work = read_work(cxt, &gone);
	long		nap = HD_HEAL_NAP_MS;
	ListCell   *lc;

	if (work == NIL)
		return -1;
	foreach(lc, work)
	{
		HdReplicaWork *w = lfirst(lc);
		HealRetry  *r = retry_entry(w, false);
		TimestampTz now = GetCurrentTimestamp();

		if (r != NULL && r->next > now)
		{
			nap = Min(nap, TimestampDifferenceMilliseconds(now, r->next) + 1);
			continue;
		}
		if (heal_item(w, cxt) == HEAL_DONE)
			return 0;
	}
	return nap;
}

/* Takes the database's healer lock; false if another healer holds it. */
static bool
healer_lock(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, HD_HEALER_LOCK_KEY, 0, 1);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

void
hyperdist_healer_main(Datum arg)
{
	MemoryContext cxt;

	hd_bgw_begin(DatumGetObjectId(arg), "hyperdist replica healer");

	StartTransactionCommand();
	if (!healer_lock())
		proc_exit(0);
	CommitTransactionCommand();

	cxt = AllocSetContextCreate(TopMemoryContext, "hyperdist replica healer",
								ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		nap;

		hd_bgw_loop_top();
		if (!hd_enable_replica_healing)
			proc_exit(0);
		MemoryContextSwitchTo(cxt);
		nap = heal_pass(cxt);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(cxt);
		if (nap < 0)
			proc_exit(0);
		if (nap > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 nap, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
