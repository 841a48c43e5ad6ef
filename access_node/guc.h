/* SPDX-License-Identifier: PostgreSQL */
/*
 * guc.h — hyperdist configuration parameters (all named hyperdist.*).
 */
#ifndef HYPERDIST_GUC_H
#define HYPERDIST_GUC_H

#include <stdbool.h>

/* Seconds to wait for an agent to answer a session opening (Hello). */
extern int	hd_connect_timeout;
/* libpq-style passfile for data node passwords; NULL: $PGDATA/passfile. */
extern char *hd_passfile;
/* Directory of CurveZMQ keys; NULL: $PGDATA/hyperdist. */
extern char *hd_keys_dir;
/* Allow data nodes whose agent runs without CurveZMQ (--insecure). */
extern bool hd_allow_insecure;
/* Row batches an access node lets an agent have in flight per query. */
extern int	hd_stream_window;
/* Size in bytes at which agents flush a row batch. */
extern int	hd_batch_bytes;

/* Rows buffered per data node before an insert batch is shipped. */
extern int	hd_max_insert_batch_size;

/* Distributed transactions: two-phase commit on the data nodes written to. */
extern bool hd_enable_2pc;
extern bool hd_enable_one_phase_commit;
extern bool hd_enable_remote_explain;
extern bool hd_enable_skip_scan;
/* Seconds between the background worker's resolution passes. */
extern int	hd_resolve_interval;
/* Milliseconds between the health monitor's checks of the data nodes. */
extern int	hd_health_check_interval;
/* Milliseconds of failed checks after which a data node is down. */
extern int	hd_node_failure_timeout;
/* Chunk copies and moves running at once per database (bgw/chunk_mover.c). */
extern int	hd_max_concurrent_moves;
extern bool hd_enable_replica_healing;
/* Jobs running at once per database (bgw/job_scheduler.c). */
extern int	hd_max_running_jobs;
/* The time jobs take as now (a timestamptz; empty: the clock), superuser only. */
extern char *hd_debug_job_now;
/* Fault injection in the commit protocol (remote/fault.h), superuser only. */
extern int	hd_inject_fault;
extern int	hd_inject_fault_action;

extern void hd_guc_init(void);

/* Resolved paths (defaults applied); palloc'd in the current context. */
extern char *hd_keys_dir_path(void);
extern char *hd_passfile_path(void);

#endif							/* HYPERDIST_GUC_H */
