/* SPDX-License-Identifier: PostgreSQL */
/*
 * init.c — extension entry point: every hook and callback hyperdist
 * installs, in one place.
 *
 * _PG_init runs in the postmaster (shared_preload_libraries), whose memory
 * every backend inherits through fork.  So it only defines parameters and
 * installs hooks and callbacks; ZeroMQ contexts are created lazily in the
 * process that uses them (remote/transport.c).  The modules export plain
 * functions; only this file knows PostgreSQL's hook variables and the
 * hooks installed before ours, and each hook below dispatches to the
 * modules in the order written there.
 *
 * Installed here, in this order:
 *	 1. parameters (guc.c), which the rest reads;
 *	 2. shared memory: the background workers' slots (bgw/), the array
 *		where committing backends publish their transaction
 *		(remote/committing.c), and the replica copies in progress
 *		(placement/replica_copy.c);
 *	 3. the launcher background worker (bgw/), and the wake-up that
 *		remote/committing.c calls after a two-phase commit;
 *	 4. planner_hook: filters through reference tables given to the scans
 *		of distributed hypertables (fdw/reference_filter.c), LATERAL first
 *		rows per key made one scan (fdw/top_per_key.c), ON CONFLICT on
 *		distributed hypertables (ingest/), and UPDATE and DELETE of those
 *		with generated columns marked direct modifies (fdw/direct_modify.c);
 *	 5. set_join_pathlist_hook: joins of distributed hypertables with
 *		reference tables run by the data nodes (fdw/join.c);
 *	 6. ProcessUtility_hook, the one utility dispatch: database commands
 *		pause their database's worker (bgw/), then DDL on distributed
 *		hypertables is distributed or refused (ddl/);
 *	 7. transaction callbacks: remote transactions (remote/txn.c), the
 *		catalog writer (metadata/catalog.c), which forgets an elevated
 *		section an error ended, and chunk copy operations (api/chunk_move.c:
 *		the worker woken, an operation's lock let go), and last the
 *		invalidation logs of continuous aggregates (metadata/
 *		invalidation.c).  PostgreSQL calls the last registered first: the
 *		logs' rows are written at PRE_COMMIT before remote/txn.c chooses
 *		between one- and two-phase commit, which a local xid decides; the
 *		others do not depend on one another's order;
 *	 8. invalidation callbacks: the catalog cache (metadata/cache.c) and the
 *		session cache (remote/session.c).
 *
 * Registered where they are needed, because they belong to one process:
 * ZeroMQ's teardown at process exit (remote/transport.c) and the workers'
 * detach from shared memory (bgw/bgw.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "api/chunk_move.h"
#include "bgw/bgw.h"
#include "bgw/chunk_mover.h"
#include "ddl/utility.h"
#include "fdw/direct_modify.h"
#include "fdw/join.h"
#include "fdw/reference_filter.h"
#include "fdw/top_per_key.h"
#include "guc.h"
#include "ingest/on_conflict.h"
#include "metadata/cache.h"
#include "metadata/catalog.h"
#include "metadata/invalidation.h"
#include "placement/replica_copy.h"
#include "remote/committing.h"
#include "remote/node_health.h"
#include "remote/connection.h"
#include "remote/txn.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;
static planner_hook_type prev_planner = NULL;
static set_join_pathlist_hook_type prev_join_pathlist = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

static void
hd_shmem_request(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	RequestAddinShmemSpace(hd_bgw_shmem_size());
	RequestAddinShmemSpace(hd_committing_shmem_size());
	RequestAddinShmemSpace(hd_health_shmem_size());
	RequestAddinShmemSpace(hd_replica_copy_shmem_size());
	RequestAddinShmemSpace(hd_chunk_mover_shmem_size());
	RequestNamedLWLockTranche("hyperdist node health", 1);
}

static void
hd_shmem_startup(void)
{
	if (prev_shmem_startup)
		prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	hd_bgw_shmem_init();
	hd_committing_shmem_init();
	hd_health_shmem_init();
	hd_replica_copy_shmem_init();
	hd_chunk_mover_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

static PlannedStmt *
hd_planner(Query *parse, const char *query_string, int cursor_options,
		   ParamListInfo bound_params)
{
	PlannedStmt *stmt;

	hd_add_reference_filters(parse);
	hd_rewrite_top_per_key(parse);
	stmt = hd_conflict_planner(parse, query_string, cursor_options,
											bound_params,
											prev_planner ? prev_planner : standard_planner);

	hd_mark_direct_modifies(stmt);
	return stmt;
}

static void
hd_join_pathlist(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
				 RelOptInfo *innerrel, JoinType jointype,
				 JoinPathExtraData *extra)
{
	if (prev_join_pathlist)
		prev_join_pathlist(root, joinrel, outerrel, innerrel, jointype, extra);
	hd_add_join_paths(root, joinrel, outerrel, innerrel, jointype, extra);
}

static void
hd_process_utility(PlannedStmt *pstmt, const char *query_string,
				   bool read_only_tree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *query_env,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Oid			paused = hd_bgw_pause_for(pstmt->utilityStmt);

	PG_TRY();
	{
		hd_utility_process(pstmt, query_string, read_only_tree, context,
						   params, query_env, dest, qc,
						   prev_process_utility ? prev_process_utility
						   : standard_ProcessUtility);
	}
	PG_FINALLY();
	{
		hd_bgw_resume(paused);
	}
	PG_END_TRY();
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("hyperdist must be loaded via shared_preload_libraries"),
				 errhint("Add hyperdist to shared_preload_libraries in postgresql.conf and restart the server.")));

	hd_guc_init();

	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = hd_shmem_request;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = hd_shmem_startup;

	hd_bgw_register();
	hd_committing_set_wake(hd_bgw_wake);

	prev_planner = planner_hook;
	planner_hook = hd_planner;
	prev_join_pathlist = set_join_pathlist_hook;
	set_join_pathlist_hook = hd_join_pathlist;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = hd_process_utility;

	RegisterXactCallback(hd_txn_xact_callback, NULL);
	RegisterSubXactCallback(hd_txn_subxact_callback, NULL);
	RegisterXactCallback(hd_catalog_writer_xact_callback, NULL);
	RegisterXactCallback(hd_chunk_op_xact_callback, NULL);
	RegisterSubXactCallback(hd_catalog_writer_subxact_callback, NULL);
	RegisterXactCallback(hd_inval_xact_callback, NULL);

	CacheRegisterRelcacheCallback(hd_catalog_cache_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, hd_catalog_cache_server_callback,
								  (Datum) 0);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, hd_conn_inval_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, hd_conn_inval_callback, (Datum) 0);
}
