/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/job.h — the jobs of _hyperdist_catalog.bgw_job, their runs
 * (bgw_job_stat) and their errors (job_errors).
 *
 * The readers return rows copied into the caller's memory context; the
 * writers write as the catalog's owner (metadata/catalog.h), after their
 * callers checked the caller's right to (api/jobs.c) or run the job
 * (bgw/job_runner.c).
 */
#ifndef HYPERDIST_METADATA_JOB_H
#define HYPERDIST_METADATA_JOB_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* A row of bgw_job with its next_start. */
typedef struct HdJob
{
	int32		id;
	char	   *application_name;
	Interval	schedule_interval;
	Interval	max_runtime;
	int32		max_retries;	/* -1: without end */
	Interval	retry_period;
	char	   *proc_schema;
	char	   *proc_name;
	Oid			owner;
	bool		scheduled;
	bool		fixed_schedule;
	bool		has_initial_start;
	TimestampTz initial_start;
	int32		hypertable_id;	/* 0: none */
	Jsonb	   *config;			/* NULL: none */
	char	   *check_schema;	/* NULL: no check */
	char	   *check_name;
	char	   *timezone;		/* NULL: none */
	TimestampTz next_start;
} HdJob;

/* A job's runs, as bgw_job_stat keeps them. */
typedef struct HdJobStat
{
	TimestampTz last_start;		/* 0 if it never ran */
	int32		runner_pid;		/* 0: no run goes on */
	int32		last_runner_pid;
	int32		consecutive_failures;
	bool		has_last_success;
	bool		last_run_success;
} HdJobStat;

extern bool hd_job_read(int32 id, HdJob *job);
extern bool hd_job_stat_read(int32 id, HdJobStat *stat);

/* The job of this proc on hypertable ht_id (a policy), or 0. */
extern int32 hd_job_find(int32 ht_id, const char *proc_schema, const char *proc_name);

/* The refresh policy of continuous aggregate cagg_id (0: none). */
extern int32 hd_job_find_cagg_policy(int32 cagg_id);

/* Inserts job (its id ignored) with its stat row; returns the id. */
extern int32 hd_job_insert(const HdJob *job);

/* Writes every column of job, and next_start. */
extern void hd_job_update(const HdJob *job);
extern void hd_job_delete(int32 id);

/*
 * For the scheduler: the jobs due at now (scheduled, next_start reached, no
 * run going on), and the jobs a run is recorded for (runner_pid set);
 * *next_due is the earliest next_start after now (0: none).
 */
extern List *hd_job_due(TimestampTz now, TimestampTz *next_due);
extern List *hd_job_claimed(void);

/* A run of job id began at start in process pid. */
extern void hd_job_run_started(int32 id, TimestampTz start, int32 pid);

/*
 * The run of job id that began at start ended at finish: success, or an
 * error (sqlstate, message) kept in job_errors; crashed: its runner
 * exited without finishing it.  next_start is the job's next start.
 */
extern void hd_job_run_finished(int32 id, TimestampTz start, TimestampTz finish,
								bool success, bool crashed, const char *sqlstate,
								const char *message, TimestampTz next_start);

/* The SQLSTATE and message of job id's last error (false: none kept). */
extern bool hd_job_last_error(int32 id, char **sqlstate, char **message);

#endif							/* HYPERDIST_METADATA_JOB_H */
