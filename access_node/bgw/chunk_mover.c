/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/chunk_mover.c — the chunk movers (see chunk_mover.h).
 *
 * The scheduler runs in the database's worker.  An operation that is
 * planned, copying or switched needs a mover unless one runs it: a process
 * running an operation holds its advisory lock (hd_chunk_op_lock), so an
 * operation whose lock is free is waiting to start or was left by a mover
 * that died (with the access node, or on a FATAL error), and its next
 * mover resumes it from its last committed stage.  The scheduler keeps,
 * per operation, the handle of its mover and the delay before the next
 * one: when a mover stops and its operation is still unfinished, that
 * attempt failed and the delay doubles.
 *
 * A mover takes its operation's lock (another process holds it: it exits)
 * and runs it.  On an error it records the failure (hd_chunk_op_failed,
 * attempts + 1); when the operation is not to be tried again it undoes it
 * at once (hd_chunk_op_cleanup).  Not tried again: after
 * HD_MOVE_MAX_ATTEMPTS attempts, an error of class 42 (a privilege, an
 * object that does not exist) or 55000 (the catalog forbids the operation
 * now), and a cancel.  SIGINT cancels a mover as it cancels a query: the
 * copy and the waits on data nodes check for interrupts.  Movers publish
 * their operation and pid in shared memory so that cancel_copy_chunk_operation
 * can find the one to signal.
 *
 * Each mover is a background worker of its own (max_worker_processes);
 * when no slot is free the operation waits for the next pass.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "bgw/bgw.h"
#include "bgw/chunk_mover.h"
#include "guc.h"
#include "metadata/catalog_read.h"
#include "metadata/copy_operation.h"
#include "placement/chunk_move.h"

/* Attempts after which an operation is undone rather than tried again. */
#define HD_MOVE_MAX_ATTEMPTS		3
/* The delays before an operation whose mover failed gets another one. */
#define HD_MOVE_BACKOFF_MIN_MS		1000
#define HD_MOVE_BACKOFF_MAX_MS		60000

/* ---- who runs what, in shared memory ----------------------------------------- */

typedef struct MoverSlot
{
	Oid			dboid;			/* InvalidOid: free */
	int32		op_id;
	pid_t		pid;
} MoverSlot;

typedef struct MoverShared
{
	slock_t		mutex;
	int			nslots;
	MoverSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} MoverShared;

static MoverShared *mover_shared = NULL;

/* One slot per background worker: every mover is one. */
Size
hd_chunk_mover_shmem_size(void)
{
	return add_size(offsetof(MoverShared, slots),
					mul_size(max_worker_processes, sizeof(MoverSlot)));
}

/* Caller holds AddinShmemInitLock. */
void
hd_chunk_mover_shmem_init(void)
{
	bool		found;

	mover_shared = ShmemInitStruct("hyperdist chunk movers",
								   hd_chunk_mover_shmem_size(), &found);
	if (!found)
	{
		memset(mover_shared, 0, hd_chunk_mover_shmem_size());
		SpinLockInit(&mover_shared->mutex);
		mover_shared->nslots = max_worker_processes;
	}
}

static int	my_mover_slot = -1;

/* The mover exits: its slot is free, and the scheduler may start the next. */
static void
mover_unpublish(int code, Datum arg)
{
	SpinLockAcquire(&mover_shared->mutex);
	mover_shared->slots[my_mover_slot].dboid = InvalidOid;
	SpinLockRelease(&mover_shared->mutex);
	hd_bgw_wake(true);
}

static void
mover_publish(int32 op_id)
{
	SpinLockAcquire(&mover_shared->mutex);
	for (int i = 0; i < mover_shared->nslots && my_mover_slot < 0; i++)
	{
		MoverSlot  *s = &mover_shared->slots[i];

		if (OidIsValid(s->dboid))
			continue;
		s->dboid = MyDatabaseId;
		s->op_id = op_id;
		s->pid = MyProcPid;
		my_mover_slot = i;
	}
	SpinLockRelease(&mover_shared->mutex);
	if (my_mover_slot < 0)
		elog(ERROR, "no chunk mover slot is free");
	before_shmem_exit(mover_unpublish, (Datum) 0);
}

/*
 * The slot is cleared before its mover exits, so the pid cannot belong to
 * another process yet.
 */
bool
hd_chunk_mover_cancel(int32 op_id)
{
	pid_t		pid = 0;

	SpinLockAcquire(&mover_shared->mutex);
	for (int i = 0; i < mover_shared->nslots && pid == 0; i++)
	{
		MoverSlot  *s = &mover_shared->slots[i];

		if (s->dboid == MyDatabaseId && s->op_id == op_id)
			pid = s->pid;
	}
	SpinLockRelease(&mover_shared->mutex);
	if (pid == 0)
		return false;
	(void) kill(pid, SIGINT);
	return true;
}

/* ---- the scheduler (in the database's worker) ------------------------------ */

/* An unfinished operation the scheduler has started a mover for. */
typedef struct Mover
{
	int32		op_id;
	BackgroundWorkerHandle *handle; /* NULL: none runs */
	int			delay_ms;		/* after the last mover that stopped */
	TimestampTz next;			/* no new mover before */
} Mover;

static List *movers = NIL;		/* in TopMemoryContext */
static bool warned_no_slot = false;

/* The worker exits: its movers go with it (they resume under the next). */
static void
stop_movers(int code, Datum arg)
{
	ListCell   *lc;

	foreach(lc, movers)
	{
		Mover	   *m = lfirst(lc);

		if (m->handle != NULL)
			TerminateBackgroundWorker(m->handle);
	}
}

static Mover *
mover_entry(int32 op_id)
{
	ListCell   *lc;
	Mover	   *m;
	MemoryContext old;

	foreach(lc, movers)
	{
		m = lfirst(lc);
		if (m->op_id == op_id)
			return m;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	m = palloc0(sizeof(Mover));
	m->op_id = op_id;
	movers = lappend(movers, m);
	MemoryContextSwitchTo(old);
	return m;
}

/*
 * Notes the movers that stopped (their operation, if still unfinished,
 * waits its delay) and returns how many still run.
 */
static int
reap_movers(void)
{
	TimestampTz now = GetCurrentTimestamp();
	int			running = 0;
	ListCell   *lc;

	foreach(lc, movers)
	{
		Mover	   *m = lfirst(lc);
		pid_t		pid;

		if (m->handle == NULL)
			continue;
		if (GetBackgroundWorkerPid(m->handle, &pid) != BGWH_STOPPED)
		{
			running++;
			continue;
		}
		pfree(m->handle);
		m->handle = NULL;
		m->delay_ms = m->delay_ms == 0 ? HD_MOVE_BACKOFF_MIN_MS :
			Min(m->delay_ms * 2, HD_MOVE_BACKOFF_MAX_MS);
		m->next = TimestampTzPlusMilliseconds(now, m->delay_ms);
	}
	return running;
}

/* Forgets the operations that ended and have no mover. */
static void
forget_finished(List *unfinished)
{
	ListCell   *lc;

	foreach(lc, movers)
	{
		Mover	   *m = lfirst(lc);

		if (m->handle == NULL && !list_member_int(unfinished, m->op_id))
		{
			movers = foreach_delete_current(movers, lc);
			pfree(m);
		}
	}
}

/* Nobody runs op_id: its lock is free. */
static bool
op_unclaimed(int32 op_id)
{
	if (!hd_chunk_op_lock(op_id))
		return false;
	hd_chunk_op_unlock(op_id);
	return true;
}

static bool
mover_start(Mover *m)
{
	BackgroundWorker w;
	MemoryContext old;
	bool		ok;

	hd_bgw_dynamic_worker(&w, "hyperdist chunk mover", "hyperdist_chunk_mover_main",
						  Int32GetDatum(m->op_id));
	snprintf(w.bgw_name, BGW_MAXLEN, "hyperdist chunk mover for operation %d", m->op_id);
	memcpy(w.bgw_extra, &MyDatabaseId, sizeof(Oid));

	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&w, &m->handle);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		m->handle = NULL;
		if (!warned_no_slot)
			ereport(LOG,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("hyperdist: could not start a chunk mover: no background worker slot is free"),
					 errdetail("Chunk copy operation %d waits until one is.", m->op_id),
					 errhint("Raise max_worker_processes: each running chunk copy or move takes a slot (hyperdist.max_concurrent_moves per database).")));
	}
	warned_no_slot = !ok;
	return ok;
}

/* In a transaction: starts the movers due; returns as hd_chunk_movers_start. */
static long
schedule(void)
{
	int			running = reap_movers();
	List	   *unfinished = hd_copy_op_unfinished();
	TimestampTz now = GetCurrentTimestamp();
	long		wait = -1;
	ListCell   *lc;

	forget_finished(unfinished);
	foreach(lc, unfinished)
	{
		Mover	   *m = mover_entry(lfirst_int(lc));

		if (m->handle != NULL)
			continue;
		if (m->next > now)
		{
			long		ms = TimestampDifferenceMilliseconds(now, m->next) + 1;

			wait = wait < 0 ? ms : Min(wait, ms);
			continue;
		}
		if (running >= hd_max_concurrent_moves)
			break;
		if (!op_unclaimed(m->op_id))
			continue;
		if (!mover_start(m))
			break;
		running++;
	}
	return wait;
}

long
hd_chunk_movers_start(void)
{
	static bool callback_set = false;

	if (!callback_set)
	{
		before_shmem_exit(stop_movers, (Datum) 0);
		callback_set = true;
	}
	return hd_catch_xact_step(schedule, "could not read the chunk copy operations to run");
}

/* ---- a mover ----------------------------------------------------------------- */

/* The operation a mover runs, read when it took it, in the mover's memory. */
typedef struct MoverOp
{
	HdCopyOp	op;
	char	   *chunk_name;
} MoverOp;

/*
 * Starts a transaction of the mover's, at READ COMMITTED (as the stages'):
 * each read sees what committed before it.
 */
static void
mover_xact_begin(MemoryContext cxt)
{
	StartTransactionCommand();
	XactIsoLevel = XACT_READ_COMMITTED;
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
}

static void
mover_xact_commit(MemoryContext cxt)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
}

/*
 * Takes op_id's lock and reads the operation into *m; false (the lock not
 * kept) when another process runs it or it has ended meanwhile.
 */
static bool
op_take(int32 op_id, MoverOp *m, MemoryContext cxt)
{
	bool		ok;

	mover_xact_begin(cxt);
	ok = hd_chunk_op_lock(op_id);
	if (ok && hd_copy_op_read(op_id, &m->op) && !hd_copy_op_ended(&m->op))
		m->chunk_name = hd_copy_op_chunk_name(&m->op);
	else if (ok)
	{
		hd_chunk_op_unlock(op_id);
		ok = false;
	}
	mover_xact_commit(cxt);
	return ok;
}

/*
 * A switched operation only has its retired source left to drop, after a
 * wait for older snapshots that its cleanup would skip: it is always run
 * again.
 */
static bool
retryable(const HdCopyOp *op, const ErrorData *edata, bool cancelled)
{
	if (strcmp(op->stage, "switched") == 0)
		return true;
	return !cancelled && op->attempts < HD_MOVE_MAX_ATTEMPTS &&
		ERRCODE_TO_CATEGORY(edata->sqlerrcode) !=
		ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
		edata->sqlerrcode != ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
}

/*
 * After op's run failed with edata (its transaction aborted): records the
 * failure and, unless it is tried again, undoes the operation.  A cancel
 * that comes meanwhile is held, and counts.
 */
static void
op_failed(const MoverOp *m, ErrorData *edata, MemoryContext cxt)
{
	bool		cancelled = edata->sqlerrcode == ERRCODE_QUERY_CANCELED;
	HdCopyOp	now;
	bool		unfinished;
	bool		retry;

	hd_chunk_op_failed(m->op.id, edata);

	mover_xact_begin(cxt);
	if (QueryCancelPending)
	{
		QueryCancelPending = false;
		cancelled = true;
	}
	if (!hd_copy_op_read(m->op.id, &now))
		unfinished = false;
	else if (strcmp(now.stage, "cancelled") == 0)
	{
		/* cancelled by a mark on its row: undone here all the same */
		unfinished = true;
		cancelled = true;
	}
	else
		unfinished = !hd_copy_op_ended(&now);
	retry = unfinished && retryable(&now, edata, cancelled);
	ereport(LOG,
			(errmsg("hyperdist: chunk copy operation \"%s\" (chunk %s from data node \"%s\" to data node \"%s\") failed: %s",
					m->op.operation_id, m->chunk_name, m->op.source, m->op.dest,
					edata->message),
			 retry ? errdetail("It is run again later.") :
			 unfinished ? errdetail("It is undone.") : 0));
	if (!retry && unfinished)
		hd_chunk_op_cleanup(m->op.id);
	mover_xact_commit(cxt);
}

void
hyperdist_chunk_mover_main(Datum arg)
{
	int32		op_id = DatumGetInt32(arg);
	Oid			dboid;
	MemoryContext cxt;
	MoverOp		m;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(dboid));
	pqsignal(SIGINT, StatementCancelHandler);
	hd_bgw_begin(dboid, "hyperdist chunk mover");
	mover_publish(op_id);

	cxt = AllocSetContextCreate(TopMemoryContext, "hyperdist chunk mover",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	if (!op_take(op_id, &m, cxt))
		proc_exit(0);

	PG_TRY();
	{
		hd_chunk_op_run(op_id);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* from here on a cancel has nothing left to stop: op_failed counts it */
		HOLD_CANCEL_INTERRUPTS();
		edata = hd_catch_abort_xact(cxt);
		op_failed(&m, edata, cxt);
		proc_exit(0);
	}
	PG_END_TRY();
	HOLD_CANCEL_INTERRUPTS();

	ereport(LOG,
			(errmsg("hyperdist: chunk copy operation \"%s\" complete: chunk %s %s from data node \"%s\" to data node \"%s\"",
					m.op.operation_id, m.chunk_name,
					m.op.delete_source ? "moved" : "copied", m.op.source, m.op.dest)));
	proc_exit(0);
}
