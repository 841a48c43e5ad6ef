/* SPDX-License-Identifier: PostgreSQL */
/*
 * guc.c — hyperdist configuration parameters.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "remote/fault.h"
#include "guc.h"
#include "protocol.h"

int			hd_connect_timeout = 10;
char	   *hd_passfile = NULL;
char	   *hd_keys_dir = NULL;
bool		hd_allow_insecure = false;
int			hd_stream_window = 4;
int			hd_batch_bytes = HD_DEFAULT_BATCH_BYTES;
int			hd_max_insert_batch_size = 1000;
bool		hd_enable_2pc = true;
bool		hd_enable_one_phase_commit = true;
bool		hd_enable_remote_explain = false;
bool		hd_enable_skip_scan = true;
int			hd_resolve_interval = 5;
int			hd_health_check_interval = 1000;
int			hd_node_failure_timeout = 5000;
int			hd_max_concurrent_moves = 2;
bool		hd_enable_replica_healing = true;
int			hd_max_running_jobs = 4;
char	   *hd_debug_job_now = NULL;
int			hd_inject_fault = HD_FAULT_NONE;
int			hd_inject_fault_action = HD_FAULT_ACTION_CRASH;

/* Read by create_hypertable (sql/hypertables.sql) only. */
static int	hypertable_distributed_default = 0;
static const struct config_enum_entry distributed_default_options[] = {
	{"auto", 0, false},
	{"local", 1, false},
	{"distributed", 2, false},
	{NULL, 0, false}
};

void
hd_guc_init(void)
{
	DefineCustomIntVariable("hyperdist.connect_timeout",
							"Seconds to wait for a data node's agent to open a session.",
							NULL,
							&hd_connect_timeout,
							10, 1, 3600,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("hyperdist.passfile",
							   "Password file for data node connections (libpq passfile format).",
							   "Empty means $PGDATA/passfile.",
							   &hd_passfile,
							   NULL,
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("hyperdist.keys_dir",
							   "Directory holding the access node's CurveZMQ key pair and agents' public keys.",
							   "Empty means $PGDATA/hyperdist.",
							   &hd_keys_dir,
							   NULL,
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("hyperdist.allow_insecure",
							 "Allow adding data nodes whose agent runs without encryption.",
							 NULL,
							 &hd_allow_insecure,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.stream_window",
							"Row batches a data node may send ahead of the access node (credit window).",
							NULL,
							&hd_stream_window,
							4, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.batch_bytes",
							"Size at which a data node's agent ships a batch of result rows.",
							NULL,
							&hd_batch_bytes,
							HD_DEFAULT_BATCH_BYTES, 4096, HD_MAX_BATCH_BYTES,
							PGC_USERSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("hyperdist.enable_remote_explain",
							 "EXPLAIN VERBOSE shows each data node's plan of its query.",
							 "The data nodes are asked, which costs a round trip per node.",
							 &hd_enable_remote_explain,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("hyperdist.enable_skip_scan",
							 "DISTINCT ON over a distributed hypertable reads one row per key on each data node.",
							 "Applies when statistics show many rows per key; off, the data nodes run the DISTINCT ON as written.",
							 &hd_enable_skip_scan,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.max_insert_batch_size",
							"Rows of INSERT or COPY buffered per data node before they are shipped as one batch.",
							NULL,
							&hd_max_insert_batch_size,
							1000, 1, 1000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("hyperdist.enable_2pc",
							 "Commit transactions that wrote on data nodes with two-phase commit.",
							 "Off: one-phase commit, where a failure between two data nodes' commits leaves them disagreeing.",
							 &hd_enable_2pc,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("hyperdist.enable_one_phase_commit",
							 "Commit a transaction that wrote on a single data node, and nothing on the access node, with a plain COMMIT there.",
							 "Off: such a transaction commits with two-phase commit too.",
							 &hd_enable_one_phase_commit,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.resolve_interval",
							"Time between the background worker's passes over in-doubt distributed transactions.",
							NULL,
							&hd_resolve_interval,
							5, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.health_check_interval",
							"Time between the background worker's checks of every data node.",
							"Each check pings the node's agent and runs a query in a session on its PostgreSQL.",
							&hd_health_check_interval,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.node_failure_timeout",
							"How long a data node's checks must fail before it is marked unavailable.",
							"0: at the first failed check.",
							&hd_node_failure_timeout,
							5000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.max_concurrent_moves",
							"Chunk copies and moves the background worker runs at once in each database.",
							"Each takes a background worker slot (max_worker_processes).",
							&hd_max_concurrent_moves,
							2, 1, 64,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("hyperdist.enable_replica_healing",
							 "Whether the background worker brings stale and missing chunk replicas up to date.",
							 "Off stops the replica healer after its copy under way.",
							 &hd_enable_replica_healing,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("hyperdist.max_running_jobs",
							"Jobs the background worker runs at once in each database.",
							"Each running job takes a background worker slot (max_worker_processes); run_job takes one more.",
							&hd_max_running_jobs,
							4, 1, 64,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("hyperdist.debug_job_now",
							   "The time jobs take as now, instead of the clock (tests only).",
							   "Empty: the clock.",
							   &hd_debug_job_now,
							   "",
							   PGC_SUSET, GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("hyperdist.inject_fault",
							 "Point of the distributed commit protocol where the backend fails (tests only).",
							 NULL,
							 &hd_inject_fault,
							 HD_FAULT_NONE, hd_fault_point_options,
							 PGC_SUSET, GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("hyperdist.inject_fault_action",
							 "What the backend does at hyperdist.inject_fault: crash (SIGKILL itself) or pause.",
							 "A paused backend continues when pg_cancel_backend() is called for it.",
							 &hd_inject_fault_action,
							 HD_FAULT_ACTION_CRASH, hd_fault_action_options,
							 PGC_SUSET, GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("hyperdist.hypertable_distributed_default",
							 "What create_hypertable makes when it is given neither distributed nor replication_factor.",
							 "auto and local: a local hypertable, which hyperdist does not have, so it refuses; distributed: a distributed hypertable.",
							 &hypertable_distributed_default,
							 0, distributed_default_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("hyperdist");
}

static char *
path_or_default(const char *value, const char *dflt)
{
	if (value != NULL && value[0] != '\0')
		return pstrdup(value);
	return psprintf("%s/%s", DataDir, dflt);
}

char *
hd_keys_dir_path(void)
{
	return path_or_default(hd_keys_dir, "hyperdist");
}

char *
hd_passfile_path(void)
{
	return path_or_default(hd_passfile, "passfile");
}
