/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/job_runner.c — a job's run, in a background worker of its own.
 *
 * The runner connects to the database as the job's owner, as a session of
 * that role would (its settings, its privileges, CONNECT and LOGIN
 * required): the job's function or procedure runs with nothing of the
 * extension's around it.  It is found by the job's schema-qualified name
 * and its argument types (integer, jsonb) when the run begins, and called
 * by OID; a procedure may COMMIT, as under CALL.
 *
 * A run holds the job's lock (an advisory lock of the session) from its
 * start to its exit, so a job runs once at a time: the scheduler and
 * run_job start a runner only for a job whose lock is free, and a runner
 * that finds it taken exits without running.  The run is recorded in
 * bgw_job_stat when it starts (runner_pid) and when it ends (its outcome,
 * the next start, the error in job_errors); a runner that exits between
 * the two (killed, FATAL, the access node stopped) leaves runner_pid set
 * with its lock free, which the scheduler and run_job record as a crash
 * (hd_job_reap_crash).  SIGINT cancels a run as it cancels a query: it
 * fails with 57014.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "commands/dbcommands.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "bgw/bgw.h"
#include "bgw/job_runner.h"
#include "guc.h"
#include "metadata/job.h"

/* The advisory lock key of jobs ("hdjb"); the job id is the second key. */
#define HD_JOB_LOCK_KEY			0x68646a62
/* Consecutive failures beyond which the retry delay grows no more. */
#define HD_JOB_MAX_FAILURES_FACTOR	20
/* The longest retry delay, in schedule intervals. */
#define HD_JOB_MAX_RETRY_INTERVALS	5

/* What a runner is given (bgw_extra). */
typedef struct RunnerArgs
{
	Oid			dboid;
	Oid			owner;
	bool		has_now;		/* the starter's hyperdist.debug_job_now */
	TimestampTz now;
} RunnerArgs;

/* ---- time ---------------------------------------------------------------- */

/* In a runner: the starter's hyperdist.debug_job_now. */
static bool has_now_override = false;
static TimestampTz now_override;

static bool
debug_now(TimestampTz *now)
{
	if (has_now_override)
	{
		*now = now_override;
		return true;
	}
	if (hd_debug_job_now == NULL || hd_debug_job_now[0] == '\0')
		return false;
	*now = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(hd_debug_job_now),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
	return true;
}

TimestampTz
hd_job_now(void)
{
	TimestampTz now;

	return debug_now(&now) ? now : GetCurrentTimestamp();
}

PG_FUNCTION_INFO_V1(hyperdist_job_now);

Datum
hyperdist_job_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(hd_job_now());
}

/* t + k * iv; with a time zone, on the local calendar and clock of tz. */
static TimestampTz
time_add(TimestampTz t, const Interval *iv, int64 k, const char *tz)
{
	Datum		step = DirectFunctionCall2(interval_mul, IntervalPGetDatum(iv),
										   Float8GetDatum((float8) k));

	if (tz == NULL)
		return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													   TimestampTzGetDatum(t), step));
	return DatumGetTimestampTz(
							   DirectFunctionCall2(timestamp_zone, CStringGetTextDatum(tz),
												   DirectFunctionCall2(timestamp_pl_interval,
																	   DirectFunctionCall2(timestamptz_zone,
																						   CStringGetTextDatum(tz),
																						   TimestampTzGetDatum(t)),
																	   step)));
}

/* An interval's length in microseconds, a month taken as 30 days. */
static int64
interval_usecs(const Interval *iv)
{
	return iv->time + (iv->day + (int64) iv->month * DAYS_PER_MONTH) * USECS_PER_DAY;
}

TimestampTz
hd_job_next_slot(const HdJob *job, TimestampTz t)
{
	const Interval *iv = &job->schedule_interval;
	int64		k;

	if (!job->has_initial_start || t < job->initial_start)
		return job->has_initial_start ? job->initial_start : t;
	/* a guess, then exact steps: months and local days vary in length */
	k = (t - job->initial_start) / Max(interval_usecs(iv), 1);
	while (time_add(job->initial_start, iv, k, job->timezone) <= t)
		k++;
	while (k > 0 && time_add(job->initial_start, iv, k - 1, job->timezone) > t)
		k--;
	return time_add(job->initial_start, iv, k, job->timezone);
}

TimestampTz
hd_job_next_start(const HdJob *job, TimestampTz finish, bool success,
				  int32 consecutive_failures)
{
	TimestampTz regular;
	TimestampTz retry;
	TimestampTz longest;

	regular = job->fixed_schedule ? hd_job_next_slot(job, finish) :
		time_add(finish, &job->schedule_interval, 1, NULL);
	if (success ||
		(job->max_retries >= 0 && consecutive_failures > job->max_retries))
		return regular;
	retry = time_add(finish, &job->retry_period,
					 Min(consecutive_failures, HD_JOB_MAX_FAILURES_FACTOR), NULL);
	longest = time_add(finish, &job->schedule_interval, HD_JOB_MAX_RETRY_INTERVALS, NULL);
	retry = Min(retry, longest);
	return job->fixed_schedule ? Min(retry, regular) : retry;
}

/* ---- the job's lock ------------------------------------------------------- */

static void
job_locktag(LOCKTAG *tag, int32 id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, HD_JOB_LOCK_KEY, (uint32) id, 2);
}

bool
hd_job_lock(int32 id)
{
	LOCKTAG		tag;

	job_locktag(&tag, id);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

void
hd_job_unlock(int32 id)
{
	LOCKTAG		tag;

	job_locktag(&tag, id);
	LockRelease(&tag, ExclusiveLock, true);
}

void
hd_job_reap_crash(int32 id)
{
	HdJobStat	stat;
	HdJob		job;
	TimestampTz now;

	if (!hd_job_lock(id))
		return;
	/* read again under the lock: the run may have ended meanwhile */
	if (hd_job_stat_read(id, &stat) && stat.runner_pid != 0 && hd_job_read(id, &job))
	{
		now = hd_job_now();
		hd_job_run_finished(id, stat.last_start, now, false, true, NULL, NULL,
							hd_job_next_start(&job, now, false,
											  stat.consecutive_failures + 1));
		ereport(LOG,
				(errmsg("hyperdist: job %d ended without finishing its run (process %d)",
						id, stat.runner_pid)));
	}
	hd_job_unlock(id);
}

/* ---- starting a runner ------------------------------------------------------ */

char *
hd_job_owner_refusal(Oid owner)
{
	HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(owner));
	char	   *why = NULL;
	Form_pg_authid role;

	if (!HeapTupleIsValid(tup))
		return psprintf("the job's owner (role %u) does not exist", owner);
	role = (Form_pg_authid) GETSTRUCT(tup);
	if (!role->rolcanlogin)
		why = psprintf("role \"%s\" is not permitted to log in", NameStr(role->rolname));
	else if (!role->rolsuper &&
			 pg_database_aclcheck(MyDatabaseId, owner, ACL_CONNECT) != ACLCHECK_OK)
		why = psprintf("role \"%s\" may not connect to database \"%s\"",
					   NameStr(role->rolname), get_database_name(MyDatabaseId));
	ReleaseSysCache(tup);
	return why;
}

void
hd_job_record_refusal(const HdJob *job, const char *message)
{
	TimestampTz now = hd_job_now();
	HdJobStat	stat;

	if (!hd_job_stat_read(job->id, &stat))
		return;
	hd_job_run_started(job->id, now, MyProcPid);
	hd_job_run_finished(job->id, now, now, false, false,
						unpack_sql_state(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
						message,
						hd_job_next_start(job, now, false, stat.consecutive_failures + 1));
}

BackgroundWorkerHandle *
hd_job_runner_start(int32 id, Oid owner)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	RunnerArgs	args = {0};

	args.dboid = MyDatabaseId;
	args.owner = owner;
	args.has_now = debug_now(&args.now);
	StaticAssertStmt(sizeof(RunnerArgs) <= BGW_EXTRALEN, "RunnerArgs does not fit bgw_extra");

	hd_bgw_dynamic_worker(&w, "hyperdist job runner", "hyperdist_job_runner_main",
						  Int32GetDatum(id));
	snprintf(w.bgw_name, BGW_MAXLEN, "hyperdist job runner for job %d", id);
	memcpy(w.bgw_extra, &args, sizeof(args));
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		return NULL;
	return handle;
}

/* ---- a run ----------------------------------------------------------------- */

Oid
hd_job_lookup_proc(const char *schema, const char *name, int nargs, const Oid *argtypes)
{
	Oid			nsp = get_namespace_oid(schema, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
						   PointerGetDatum(buildoidvector(argtypes, nargs)),
						   ObjectIdGetDatum(nsp));
}

static Oid
job_proc(const HdJob *job)
{
	Oid			argtypes[2] = {INT4OID, JSONBOID};
	Oid			proc = hd_job_lookup_proc(job->proc_schema, job->proc_name, 2, argtypes);

	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function or procedure %s.%s(integer, jsonb) of job %d does not exist",
						quote_identifier(job->proc_schema),
						quote_identifier(job->proc_name), job->id)));
	if (pg_proc_aclcheck(proc, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(proc));
	return proc;
}

static FuncExpr *
job_call_expr(const HdJob *job, Oid proc)
{
	List	   *args;

	args = list_make2(makeConst(INT4OID, -1, InvalidOid, 4, Int32GetDatum(job->id),
								false, true),
					  makeConst(JSONBOID, -1, InvalidOid, -1,
								job->config != NULL ? JsonbPGetDatum(job->config) : (Datum) 0,
								job->config == NULL, false));
	return makeFuncExpr(proc, get_func_rettype(proc), args, InvalidOid, InvalidOid,
						COERCE_EXPLICIT_CALL);
}

/*
 * A procedure runs as under CALL at the top level, in a portal of its own,
 * so that it may commit: its transactions' snapshots are the portal's.
 */
static void
call_procedure(FuncExpr *fexpr)
{
	Portal		portal = CreatePortal("hyperdist job", true, true);
	MemoryContext old;
	CallStmt   *call;

	portal->visible = false;
	/* it has no query to define or start: ready as soon as created */
	portal->status = PORTAL_READY;
	MarkPortalActive(portal);
	ActivePortal = portal;
	PortalContext = portal->portalContext;
	old = MemoryContextSwitchTo(portal->portalContext);
	EnsurePortalSnapshotExists();
	call = makeNode(CallStmt);
	call->funcexpr = fexpr;
	ExecuteCallStmt(call, NULL, false, None_Receiver);
	if (portal->portalSnapshot != NULL && ActiveSnapshotSet() &&
		portal->portalSnapshot == GetActiveSnapshot())
		PopActiveSnapshot();
	portal->portalSnapshot = NULL;
	MemoryContextSwitchTo(old);
	MarkPortalDone(portal);
	PortalDrop(portal, false);
	ActivePortal = NULL;
	PortalContext = NULL;
}

/* A function runs in one transaction; its result is ignored. */
static void
call_function(FuncExpr *fexpr, bool strict)
{
	LOCAL_FCINFO(fcinfo, 2);
	FmgrInfo	flinfo;
	Const	   *config = lsecond_node(Const, fexpr->args);

	if (strict && config->constisnull)
		return;
	fmgr_info(fexpr->funcid, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = linitial_node(Const, fexpr->args)->constvalue;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = config->constvalue;
	fcinfo->args[1].isnull = config->constisnull;
	PushActiveSnapshot(GetTransactionSnapshot());
	(void) FunctionCallInvoke(fcinfo);
	PopActiveSnapshot();
}

static void
job_execute(const HdJob *job)
{
	Oid			proc;
	HeapTuple	tup;
	char		kind;
	bool		strict;

	StartTransactionCommand();
	proc = job_proc(job);
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(proc));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", proc);
	kind = ((Form_pg_proc) GETSTRUCT(tup))->prokind;
	strict = ((Form_pg_proc) GETSTRUCT(tup))->proisstrict;
	ReleaseSysCache(tup);
	pgstat_report_activity(STATE_RUNNING, job->proc_name);
	if (kind == PROKIND_PROCEDURE)
		call_procedure(job_call_expr(job, proc));
	else
		call_function(job_call_expr(job, proc), strict);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Takes the job's lock and records the run's start; false (nothing
 * recorded) when the job is gone, is not owner's any more, or runs in
 * another process.
 */
static bool
run_begin(int32 id, Oid owner, HdJob *job, TimestampTz *start, MemoryContext cxt)
{
	bool		ok;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
	ok = hd_job_lock(id);
	if (ok && (!hd_job_read(id, job) || job->owner != owner))
	{
		hd_job_unlock(id);
		ok = false;
	}
	if (ok)
	{
		*start = hd_job_now();
		hd_job_run_started(id, *start, MyProcPid);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return ok;
}

/* Records the run's end; edata is its error, NULL after a success. */
static void
run_end(const HdJob *job, TimestampTz start, ErrorData *edata, MemoryContext cxt)
{
	HdJobStat	stat;
	TimestampTz finish;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
	finish = hd_job_now();
	if (!hd_job_stat_read(job->id, &stat))
		stat.consecutive_failures = 0;	/* deleted: nothing is recorded */
	hd_job_run_finished(job->id, start, finish, edata == NULL, false,
						edata != NULL ? unpack_sql_state(edata->sqlerrcode) : NULL,
						edata != NULL ? edata->message : NULL,
						hd_job_next_start(job, finish, edata == NULL,
										  edata == NULL ? 0 : stat.consecutive_failures + 1));
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
}

/* The scheduler reads what the run recorded, and may start the next. */
static void
runner_exit(int code, Datum arg)
{
	hd_bgw_wake(true);
}

void
hyperdist_job_runner_main(Datum arg)
{
	int32		id = DatumGetInt32(arg);
	RunnerArgs	args;
	MemoryContext cxt;
	HdJob		job;
	TimestampTz start;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	has_now_override = args.has_now;
	now_override = args.now;
	pqsignal(SIGTERM, die);
	pqsignal(SIGINT, StatementCancelHandler);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.owner, 0);
	pgstat_report_appname("hyperdist job runner");
	before_shmem_exit(runner_exit, (Datum) 0);

	cxt = AllocSetContextCreate(TopMemoryContext, "hyperdist job runner",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	if (!run_begin(id, args.owner, &job, &start, cxt))
		proc_exit(0);

	PG_TRY();
	{
		job_execute(&job);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_CANCEL_INTERRUPTS();
		ActivePortal = NULL;
		PortalContext = NULL;
		edata = hd_catch_abort_xact(cxt);
		ereport(LOG,
				(errmsg("hyperdist: job %d (%s.%s) failed: %s", id,
						job.proc_schema, job.proc_name, edata->message)));
		run_end(&job, start, edata, cxt);
		proc_exit(0);
	}
	PG_END_TRY();
	HOLD_CANCEL_INTERRUPTS();
	run_end(&job, start, NULL, cxt);
	proc_exit(0);
}
