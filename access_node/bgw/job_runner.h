/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/job_runner.h — running a job: one background worker per run,
 * connected as the job's owner (see job_runner.c), and when it runs next.
 */
#ifndef HYPERDIST_BGW_JOB_RUNNER_H
#define HYPERDIST_BGW_JOB_RUNNER_H

#include "postgres.h"

#include "postmaster/bgworker.h"

#include "metadata/job.h"

/*
 * "now" for jobs: hyperdist.debug_job_now when set (tests), else the clock.
 * The scheduler decides with it what is due, and a run records its start,
 * its finish and its next start with it.
 */
extern TimestampTz hd_job_now(void);

/* The first start of a fixed schedule after t (from initial_start on). */
extern TimestampTz hd_job_next_slot(const HdJob *job, TimestampTz t);

/*
 * The next start of job after a run that finished at finish: the schedule's
 * next start after a success (or a failure with no retry left), else a
 * retry after consecutive_failures (this run's included) * retry_period,
 * at most 5 * schedule_interval and for a fixed schedule not after its
 * next slot.
 */
extern TimestampTz hd_job_next_start(const HdJob *job, TimestampTz finish, bool success,
									 int32 consecutive_failures);

/*
 * The function or procedure schema.name(argtypes), found by exactly that
 * (no search_path takes part); InvalidOid when there is none.  Jobs name
 * theirs so, and find them again at each run.
 */
extern Oid	hd_job_lookup_proc(const char *schema, const char *name, int nargs,
							   const Oid *argtypes);

/*
 * Takes job id's lock (held by the process running it), without waiting;
 * false if another process holds it.  A session lock, released by
 * hd_job_unlock or at exit.
 */
extern bool hd_job_lock(int32 id);
extern void hd_job_unlock(int32 id);

/*
 * Starts a runner for job id (owned by owner) in this database; its handle
 * (in the current memory context), or NULL when no background worker slot
 * is free.  The runner's exit is reported to
 * the caller (bgw_notify_pid).
 */
extern BackgroundWorkerHandle *hd_job_runner_start(int32 id, Oid owner);

/*
 * Records as a crash the run of job id that its runner left unfinished,
 * unless a process still runs it.  In a transaction.
 */
extern void hd_job_reap_crash(int32 id);

/*
 * Why owner cannot run a job here (gone, no LOGIN, no CONNECT on the
 * database), or NULL when it can: a runner would fail to connect.
 */
extern char *hd_job_owner_refusal(Oid owner);

/*
 * Records a run of job that failed at once with 28000 and message (the
 * owner's refusal), in the caller's transaction.
 */
extern void hd_job_record_refusal(const HdJob *job, const char *message);

extern PGDLLEXPORT void hyperdist_job_runner_main(Datum arg);

#endif							/* HYPERDIST_BGW_JOB_RUNNER_H */
