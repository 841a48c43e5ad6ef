/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/job_scheduler.h — the job scheduler, in the database's worker: it
 * starts a runner (bgw/job_runner.h) for each job that is due, at most
 * hyperdist.max_running_jobs at once, cancels runs that exceed their
 * max_runtime, and records the runs whose runner died as crashes.
 */
#ifndef HYPERDIST_BGW_JOB_SCHEDULER_H
#define HYPERDIST_BGW_JOB_SCHEDULER_H

#include "postgres.h"

/*
 * From the database's worker, in its pass.  Returns how long until the
 * scheduler has something to do again (ms; -1: nothing is planned).
 * Never raises; the runners are stopped when the calling worker exits.
 */
extern long hd_job_scheduler_pass(void);

#endif							/* HYPERDIST_BGW_JOB_SCHEDULER_H */
