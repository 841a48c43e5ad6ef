/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/bgw.c — hyperdist's background workers and the shared memory they share
 * with backends.
 *
 * The launcher is a static background worker (registered in _PG_init,
 * started once recovery has finished, restarted if it dies).  It connects
 * to no database.  At start it lists the databases that accept
 * connections and starts a worker in each, one after another as worker
 * slots allow; a worker that finds no hyperdist extension in its database
 * says so and exits, and is not started again until a backend of that
 * database asks for it (hd_bgw_wake, called by every two-phase commit), so
 * databases that create the extension later get their worker on first use.
 * A worker that dies otherwise is started again after HD_RESTART_DELAY_MS.
 *
 * Budget: the launcher, and per database with the extension its worker,
 * the health monitor the worker starts (bgw/health_monitor.c), while
 * replicas need copying the replica healer (bgw/replica_healer.c), and one
 * chunk mover per chunk copy or move running (bgw/chunk_mover.c, at most
 * hyperdist.max_concurrent_moves), take max_worker_processes slots
 * (parallel query shares that pool).  When none
 * is free the launcher retries, and warns once per database.
 *
 * The worker runs as the bootstrap superuser.  SIGTERM is the ordinary
 * die(): its waits on data nodes (WaitEventSet with the latch) and its
 * naps check for interrupts and postmaster death.
 *
 * A worker connected to a database keeps DROP DATABASE, ALTER DATABASE
 * RENAME / SET TABLESPACE and CREATE DATABASE ... TEMPLATE of it from
 * working.  The ProcessUtility hook (init.c) therefore pauses the
 * database's worker around those commands (it is terminated, and started
 * again afterwards if the database still exists).
 *
 * The worker is what remote/txn.c wakes after a two-phase commit, and
 * copy_chunk and move_chunk after recording an operation.
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bgw/bgw.h"
#include "bgw/chunk_mover.h"
#include "bgw/health_monitor.h"
#include "bgw/job_scheduler.h"
#include "bgw/replica_healer.h"
#include "guc.h"
#include "remote/txn_resolve.h"

/* Databases with a worker (or a pending start) at one time. */
#define HD_MAX_DB_WORKERS		64
/* Delay before a worker that died is started again. */
#define HD_RESTART_DELAY_MS		5000
/* Retry interval when no background worker slot was free. */
#define HD_NO_SLOT_RETRY_MS		1000
/* The launcher's nap when nothing is pending. */
#define HD_LAUNCHER_NAP_MS		60000
/* How long a command waits for a database's worker to exit. */
#define HD_PAUSE_WAIT_MS		10000

typedef struct HdDbSlot
{
	Oid			dboid;			/* InvalidOid: free */
	bool		wanted;			/* the database needs (or may need) a worker */
	bool		paused;			/* a command needs the database to itself */
	bool		urgent;			/* a backend handed work over */
	pid_t		pid;			/* the running worker, 0 if none */
	Latch	   *latch;			/* its latch */
} HdDbSlot;

typedef struct HdShared
{
	slock_t		mutex;			/* protects everything */
	Latch	   *launcher_latch;
	HdDbSlot	slots[HD_MAX_DB_WORKERS];
} HdShared;

static HdShared *shared = NULL;

/* ---- shared memory --------------------------------------------------------- */

Size
hd_bgw_shmem_size(void)
{
	return sizeof(HdShared);
}

/* Caller holds AddinShmemInitLock. */
void
hd_bgw_shmem_init(void)
{
	bool		found;

	shared = ShmemInitStruct("hyperdist", sizeof(HdShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(HdShared));
		SpinLockInit(&shared->mutex);
	}
}

/* ---- database slots ------------------------------------------------------------ */

/* Caller holds the mutex. */
static HdDbSlot *
slot_find(Oid dboid)
{
	for (int i = 0; i < HD_MAX_DB_WORKERS; i++)
		if (shared->slots[i].dboid == dboid)
			return &shared->slots[i];
	return NULL;
}

/* Caller holds the mutex.  NULL when every slot is taken. */
static HdDbSlot *
slot_add(Oid dboid)
{
	HdDbSlot   *slot = slot_find(InvalidOid);

	if (slot != NULL)
	{
		memset(slot, 0, sizeof(*slot));
		slot->dboid = dboid;
		slot->wanted = true;
	}
	return slot;
}

void
hd_bgw_wake(bool urgent)
{
	HdDbSlot   *slot;
	Latch	   *latch = NULL;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	slot = slot_find(MyDatabaseId);
	if (slot == NULL && (slot = slot_add(MyDatabaseId)) != NULL)
		latch = shared->launcher_latch;
	else if (slot != NULL && slot->pid == 0 && !slot->wanted)
	{
		slot->wanted = true;
		latch = shared->launcher_latch;
	}
	if (slot != NULL)
	{
		slot->urgent |= urgent;
		if (urgent && slot->pid != 0)
			latch = slot->latch;
	}
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
}

/* ---- the launcher ------------------------------------------------------------------ */

/* Launcher-local, parallel to shared->slots. */
static BackgroundWorkerHandle *handles[HD_MAX_DB_WORKERS];
static TimestampTz next_start[HD_MAX_DB_WORKERS];
static bool warned_no_slot[HD_MAX_DB_WORKERS];
/* Databases found at start that did not fit in a slot yet. */
static List *pending_dbs = NIL;

/* Databases that accept connections (not templates), in cxt. */
static List *
connectable_databases(MemoryContext cxt)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		if (db->datallowconn && !db->datistemplate)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			result = lappend_oid(result, db->oid);
			MemoryContextSwitchTo(old);
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/* Moves databases from pending_dbs into free slots. */
static void
fill_slots(void)
{
	while (pending_dbs != NIL)
	{
		Oid			dboid = linitial_oid(pending_dbs);
		bool		added;

		SpinLockAcquire(&shared->mutex);
		added = slot_find(dboid) != NULL || slot_add(dboid) != NULL;
		SpinLockRelease(&shared->mutex);
		if (!added)
			return;
		pending_dbs = list_delete_first(pending_dbs);
	}
}

static bool
start_worker(int i, Oid dboid)
{
	BackgroundWorker w;
	MemoryContext old;
	bool		ok;

	hd_bgw_dynamic_worker(&w, "hyperdist worker", "hyperdist_worker_main", Int32GetDatum(i));
	snprintf(w.bgw_name, BGW_MAXLEN, "hyperdist worker for database %u", dboid);
	memcpy(w.bgw_extra, &dboid, sizeof(dboid));

	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&w, &handles[i]);
	MemoryContextSwitchTo(old);
	if (!ok && !warned_no_slot[i])
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start the hyperdist worker for database %u", dboid),
				 errdetail("No background worker slot is free; in-doubt distributed transactions of that database are not resolved until one is."),
				 errhint("Raise max_worker_processes: hyperdist needs one slot for its launcher and two per database with the extension.")));
	warned_no_slot[i] = !ok;
	return ok;
}

/* Frees slot i unless someone wants it again; caller holds no lock. */
static void
slot_release(int i)
{
	SpinLockAcquire(&shared->mutex);
	if (!shared->slots[i].wanted && shared->slots[i].pid == 0)
		shared->slots[i].dboid = InvalidOid;
	SpinLockRelease(&shared->mutex);
}

/*
 * One round of supervision: reaps stopped workers, starts wanted ones,
 * stops paused ones.  Returns how long the launcher may sleep.
 */
static long
supervise(MemoryContext cxt)
{
	TimestampTz now = GetCurrentTimestamp();
	long		nap = HD_LAUNCHER_NAP_MS;
	List	   *databases = NIL;
	bool		listed = false;

	fill_slots();
	for (int i = 0; i < HD_MAX_DB_WORKERS; i++)
	{
		HdDbSlot	s;
		pid_t		pid;

		SpinLockAcquire(&shared->mutex);
		s = shared->slots[i];
		SpinLockRelease(&shared->mutex);
		if (!OidIsValid(s.dboid))
			continue;

		if (handles[i] != NULL)
		{
			if (GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			{
				if (s.paused)
					TerminateBackgroundWorker(handles[i]);
				continue;
			}
			pfree(handles[i]);
			handles[i] = NULL;
			next_start[i] = TimestampTzPlusMilliseconds(now, HD_RESTART_DELAY_MS);
		}
		if (!s.wanted)
		{
			slot_release(i);
			continue;
		}
		/* paused, or served by a worker of an earlier launcher */
		if (s.paused || s.pid != 0)
			continue;
		if (now < next_start[i])
		{
			nap = Min(nap, TimestampDifferenceMilliseconds(now, next_start[i]) + 1);
			continue;
		}
		if (!listed)
		{
			databases = connectable_databases(cxt);
			listed = true;
		}
		if (!list_member_oid(databases, s.dboid))
		{
			SpinLockAcquire(&shared->mutex);
			shared->slots[i].wanted = false;
			SpinLockRelease(&shared->mutex);
			slot_release(i);
			continue;
		}
		if (!start_worker(i, s.dboid))
		{
			next_start[i] = TimestampTzPlusMilliseconds(now, HD_NO_SLOT_RETRY_MS);
			nap = Min(nap, HD_NO_SLOT_RETRY_MS);
		}
	}
	if (pending_dbs != NIL)
		nap = Min(nap, HD_NO_SLOT_RETRY_MS);
	return nap;
}

static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&shared->mutex);
	shared->launcher_latch = NULL;
	SpinLockRelease(&shared->mutex);
}

void
hd_bgw_dynamic_worker(BackgroundWorker *w, const char *type, const char *function, Datum arg)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->bgw_type, BGW_MAXLEN, "%s", type);
	snprintf(w->bgw_name, BGW_MAXLEN, "%s", type);
	w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w->bgw_library_name, BGW_MAXLEN, "hyperdist");
	snprintf(w->bgw_function_name, BGW_MAXLEN, "%s", function);
	w->bgw_main_arg = arg;
	w->bgw_notify_pid = MyProcPid;
}

/*
 * Every hyperdist process starts the same way: SIGTERM is die(), SIGHUP
 * asks for a reload, then it connects to dboid (to no database if
 * InvalidOid) as the bootstrap superuser, under its name in
 * pg_stat_activity.
 */
void
hd_bgw_begin(Oid dboid, const char *name)
{
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	if (OidIsValid(dboid))
		BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	else
		BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname(name);
}

/* The top of each turn of a process's loop: interrupts, a pending reload. */
void
hd_bgw_loop_top(void)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

void
hyperdist_launcher_main(Datum arg)
{
	MemoryContext cxt;

	hd_bgw_begin(InvalidOid, "hyperdist launcher");

	SpinLockAcquire(&shared->mutex);
	shared->launcher_latch = MyLatch;
	SpinLockRelease(&shared->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);

	cxt = AllocSetContextCreate(TopMemoryContext, "hyperdist launcher",
								ALLOCSET_DEFAULT_SIZES);
	pending_dbs = connectable_databases(TopMemoryContext);
	for (;;)
	{
		long		nap;

		hd_bgw_loop_top();
		MemoryContextReset(cxt);
		nap = supervise(cxt);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---- the per-database worker ------------------------------------------------------ */

static int	my_slot = -1;

static bool
extension_present(void)
{
	bool		present;

	StartTransactionCommand();
	present = OidIsValid(get_extension_oid("hyperdist", true));
	CommitTransactionCommand();
	return present;
}

/* The extension is not (or no longer) here: leave for good. */
static void
worker_leave(void)
{
	SpinLockAcquire(&shared->mutex);
	shared->slots[my_slot].wanted = false;
	SpinLockRelease(&shared->mutex);
	proc_exit(0);
}

/*
 * Takes the slot; false if it was given to another database meanwhile, or
 * another worker (started by an earlier launcher) serves it.
 */
static bool
worker_attach(Oid dboid)
{
	HdDbSlot   *slot = &shared->slots[my_slot];
	bool		ok;

	SpinLockAcquire(&shared->mutex);
	ok = slot->dboid == dboid && slot->pid == 0 && !slot->paused;
	if (ok)
	{
		slot->pid = MyProcPid;
		slot->latch = MyLatch;
	}
	SpinLockRelease(&shared->mutex);
	return ok;
}

static void
worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&shared->mutex);
	shared->slots[my_slot].pid = 0;
	shared->slots[my_slot].latch = NULL;
	SpinLockRelease(&shared->mutex);
}

static bool
worker_take_urgent(void)
{
	bool		urgent;

	SpinLockAcquire(&shared->mutex);
	urgent = shared->slots[my_slot].urgent;
	shared->slots[my_slot].urgent = false;
	SpinLockRelease(&shared->mutex);
	return urgent;
}

void
hyperdist_worker_main(Datum arg)
{
	Oid			dboid;
	MemoryContext cxt;
	TimestampTz next_pass = 0;

	my_slot = DatumGetInt32(arg);
	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(dboid));
	hd_bgw_begin(dboid, "hyperdist worker");

	if (!extension_present())
		worker_leave();
	if (!worker_attach(dboid))
		proc_exit(0);
	before_shmem_exit(worker_detach, (Datum) 0);

	cxt = AllocSetContextCreate(TopMemoryContext, "hyperdist worker",
								ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		bool		urgent;
		long		monitor_ms;

		hd_bgw_loop_top();
		monitor_ms = hd_health_monitor_supervise(dboid);
		urgent = worker_take_urgent();
		now = GetCurrentTimestamp();
		if (urgent || now >= next_pass)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);
			long		retry_ms;
			long		move_ms;
			long		job_ms;

			if (!extension_present())
				worker_leave();
			retry_ms = hd_resolver_pass(urgent);
			hd_healer_start_if_needed();
			move_ms = hd_chunk_movers_start();
			job_ms = hd_job_scheduler_pass();
			MemoryContextSwitchTo(old);
			MemoryContextReset(cxt);
			now = GetCurrentTimestamp();
			next_pass = TimestampTzPlusMilliseconds(now, hd_resolve_interval * 1000L);
			if (retry_ms >= 0)
				next_pass = Min(next_pass, TimestampTzPlusMilliseconds(now, retry_ms));
			if (move_ms >= 0)
				next_pass = Min(next_pass, TimestampTzPlusMilliseconds(now, move_ms));
			if (job_ms >= 0)
				next_pass = Min(next_pass, TimestampTzPlusMilliseconds(now, job_ms));
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(Min(TimestampDifferenceMilliseconds(now, next_pass),
								 monitor_ms < 0 ? LONG_MAX : monitor_ms), 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---- commands that need a database to themselves --------------------------------- */

/* The database the statement needs without other sessions, if any. */
static Oid
exclusive_database(Node *stmt)
{
	const char *name = NULL;
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			name = ((DropdbStmt *) stmt)->dbname;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				name = ((RenameStmt *) stmt)->subname;
			break;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
				if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
					name = ((AlterDatabaseStmt *) stmt)->dbname;
			break;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) stmt)->options)
				if (strcmp(lfirst_node(DefElem, lc)->defname, "template") == 0)
					name = defGetString(lfirst_node(DefElem, lc));
			break;
		default:
			break;
	}
	return name != NULL ? get_database_oid(name, true) : InvalidOid;
}

/* Sets the pause of dboid's worker; returns the worker's pid (0: none). */
static pid_t
set_paused(Oid dboid, bool paused)
{
	HdDbSlot   *slot;
	pid_t		pid = 0;

	SpinLockAcquire(&shared->mutex);
	slot = slot_find(dboid);
	if (slot != NULL)
	{
		slot->paused = paused;
		pid = slot->pid;
	}
	SpinLockRelease(&shared->mutex);
	return pid;
}

static pid_t
worker_pid(Oid dboid)
{
	HdDbSlot   *slot;
	pid_t		pid = 0;

	SpinLockAcquire(&shared->mutex);
	slot = slot_find(dboid);
	if (slot != NULL)
		pid = slot->pid;
	SpinLockRelease(&shared->mutex);
	return pid;
}

/*
 * Stops dboid's worker and keeps the launcher from starting it again.  The
 * worker is signalled from here rather than through the launcher, which
 * may be busy: the command waits for it.
 */
static void
pause_worker(Oid dboid)
{
	pid_t		pid = set_paused(dboid, true);
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  HD_PAUSE_WAIT_MS);

	if (pid == 0)
		return;
	(void) kill(pid, SIGTERM);
	while (worker_pid(dboid) != 0 && GetCurrentTimestamp() < end)
	{
		CHECK_FOR_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 50L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

static void
resume_worker(Oid dboid)
{
	Latch	   *latch;

	(void) set_paused(dboid, false);
	SpinLockAcquire(&shared->mutex);
	latch = shared->launcher_latch;
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
}

Oid
hd_bgw_pause_for(Node *stmt)
{
	Oid			dboid = exclusive_database(stmt);

	if (OidIsValid(dboid))
		pause_worker(dboid);
	return dboid;
}

void
hd_bgw_resume(Oid dboid)
{
	if (OidIsValid(dboid))
		resume_worker(dboid);
}

/* ---- registration ------------------------------------------------------------------- */

void
hd_bgw_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "hyperdist launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "hyperdist launcher");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = HD_RESTART_DELAY_MS / 1000;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "hyperdist");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "hyperdist_launcher_main");
	RegisterBackgroundWorker(&w);
}
