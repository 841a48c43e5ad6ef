/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/job_scheduler.c — the job scheduler (see job_scheduler.h).
 *
 * What is due is read from bgw_job_stat at each pass: a scheduled job whose
 * next_start has come and that no process runs (runner_pid unset).  The
 * worker's pass comes when a runner exits (it wakes the worker), when a
 * backend adds, alters or runs a job, and at the earliest next_start; the
 * catalog, not the scheduler's memory, says what runs next, so a restarted
 * access node goes on where it stopped.  A run left unfinished by a runner
 * that died is recorded as a crash (a failure) at the next pass, and the
 * job is retried as after any failure.
 *
 * The scheduler keeps the handles of the runners it started, to count them
 * and to cancel (SIGINT) a run that exceeds its job's max_runtime; the run
 * then fails with 57014 and is retried as any failure.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "bgw/job_runner.h"
#include "bgw/job_scheduler.h"
#include "guc.h"
#include "metadata/job.h"

/* How soon a job is tried again when no background worker slot was free. */
#define HD_JOB_NO_SLOT_RETRY_MS	1000

/* A run this scheduler started. */
typedef struct Runner
{
	int32		job_id;
	BackgroundWorkerHandle *handle;
	TimestampTz started;		/* by the clock, for max_runtime */
	int64		max_runtime_us; /* 0: none */
	bool		cancelled;
} Runner;

static List *runners = NIL;		/* in TopMemoryContext */
static bool warned_no_slot = false;

/* The worker exits: its runs end with it (each is recorded as a crash). */
static void
stop_runners(int code, Datum arg)
{
	ListCell   *lc;

	foreach(lc, runners)
		TerminateBackgroundWorker(((Runner *) lfirst(lc))->handle);
}

/*
 * Forgets the runners that exited and cancels those past their
 * max_runtime; returns how long until the next one is (ms; -1: none).
 */
static long
watch_runners(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		wait = -1;
	ListCell   *lc;

	foreach(lc, runners)
	{
		Runner	   *r = lfirst(lc);
		pid_t		pid;
		TimestampTz deadline;

		if (GetBackgroundWorkerPid(r->handle, &pid) == BGWH_STOPPED)
		{
			pfree(r->handle);
			runners = foreach_delete_current(runners, lc);
			pfree(r);
			continue;
		}
		if (r->max_runtime_us == 0 || r->cancelled)
			continue;
		deadline = r->started + r->max_runtime_us;
		if (now >= deadline)
		{
			ereport(LOG,
					(errmsg("hyperdist: job %d exceeded its max_runtime and is cancelled",
							r->job_id)));
			(void) kill(pid, SIGINT);
			r->cancelled = true;
			continue;
		}
		deadline = TimestampDifferenceMilliseconds(now, deadline) + 1;
		wait = wait < 0 ? (long) deadline : Min(wait, (long) deadline);
	}
	return wait;
}

static bool
runs(int32 job_id)
{
	ListCell   *lc;

	foreach(lc, runners)
	{
		if (((Runner *) lfirst(lc))->job_id == job_id)
			return true;
	}
	return false;
}

/* Starts job_id's run; false when no background worker slot is free. */
static bool
runner_start(int32 job_id)
{
	HdJob		job;
	BackgroundWorkerHandle *handle;
	Runner	   *r;
	char	   *refusal;
	MemoryContext old;

	if (!hd_job_read(job_id, &job))
		return true;
	refusal = hd_job_owner_refusal(job.owner);
	if (refusal != NULL)
	{
		hd_job_record_refusal(&job, refusal);
		return true;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	handle = hd_job_runner_start(job_id, job.owner);
	if (handle != NULL)
	{
		r = palloc0(sizeof(Runner));
		r->job_id = job_id;
		r->handle = handle;
		r->started = GetCurrentTimestamp();
		r->max_runtime_us = job.max_runtime.time +
			(job.max_runtime.day + (int64) job.max_runtime.month * DAYS_PER_MONTH) *
			USECS_PER_DAY;
		runners = lappend(runners, r);
	}
	MemoryContextSwitchTo(old);
	if (handle == NULL)
	{
		if (!warned_no_slot)
			ereport(LOG,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("hyperdist: could not start job %d: no background worker slot is free",
							job_id),
					 errhint("Raise max_worker_processes: each running job takes a slot (hyperdist.max_running_jobs per database).")));
		warned_no_slot = true;
		return false;
	}
	warned_no_slot = false;
	return true;
}

/* In a transaction: one pass; returns as hd_job_scheduler_pass. */
static long
schedule(void)
{
	long		wait = watch_runners();
	TimestampTz now = hd_job_now();
	TimestampTz next_due;
	List	   *due;
	ListCell   *lc;

	foreach(lc, hd_job_claimed())
	{
		if (!runs(lfirst_int(lc)))
			hd_job_reap_crash(lfirst_int(lc));
	}

	due = hd_job_due(now, &next_due);
	foreach(lc, due)
	{
		int32		job_id = lfirst_int(lc);

		if (list_length(runners) >= hd_max_running_jobs)
			break;
		if (runs(job_id))
			continue;
		if (!runner_start(job_id))
		{
			wait = wait < 0 ? HD_JOB_NO_SLOT_RETRY_MS : Min(wait, HD_JOB_NO_SLOT_RETRY_MS);
			break;
		}
	}
	if (next_due != 0)
	{
		long		ms = TimestampDifferenceMilliseconds(now, next_due) + 1;

		wait = wait < 0 ? ms : Min(wait, ms);
	}
	return wait;
}

long
hd_job_scheduler_pass(void)
{
	static bool callback_set = false;

	if (!callback_set)
	{
		before_shmem_exit(stop_runners, (Datum) 0);
		callback_set = true;
	}
	return hd_catch_xact_step(schedule, "could not schedule jobs");
}
