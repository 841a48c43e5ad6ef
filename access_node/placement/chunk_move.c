/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/chunk_move.c — chunk copy and move operations (see
 * chunk_move.h): checking and recording them, running their stages, and
 * cleaning up after those that fail.
 *
 * What an operation has done is read from the catalog, not remembered:
 * a copying replica on the destination means its table exists there, a
 * retired one on the source that the switch committed.  Running an
 * operation again, or cleaning up after it, therefore needs nothing but
 * its row.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/copy_operation.h"
#include "metadata/hypertable.h"
#include "metadata/replica.h"
#include "placement/chunk_move.h"
#include "placement/replica_copy.h"
#include "remote/connection.h"
#include "remote/fault.h"
#include "remote/node.h"

/*
 * A retired or abandoned table is detached and dropped waiting at most
 * this for locks (and for the transactions that use its parent); the
 * operation is run again later.
 */
#define HD_DROP_LOCK_TIMEOUT_MS	10000
/* Detaches of a hypertable's chunks: (MyDatabaseId, this, its relid). */
#define HD_CHUNK_DETACH_LOCK_KEY	0x68646474

/* ---- the operation's lock ------------------------------------------------------ */

static void
op_locktag(LOCKTAG *tag, int32 op_id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, HD_CHUNK_OP_LOCK_KEY, (uint32) op_id, 2);
}

bool
hd_chunk_op_lock(int32 op_id)
{
	LOCKTAG		tag;

	op_locktag(&tag, op_id);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

void
hd_chunk_op_unlock(int32 op_id)
{
	LOCKTAG		tag;

	op_locktag(&tag, op_id);
	LockRelease(&tag, ExclusiveLock, true);
}

/* ---- recording an operation ---------------------------------------------------- */

/* The server of data node name, or an error (42704). */
static Oid
data_node_server(const char *name)
{
	Oid			serverid = get_foreign_server_oid(name, true);

	if (!OidIsValid(serverid) || !hd_server_is_data_node(GetForeignServer(serverid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" does not exist", name)));
	return serverid;
}

static void
check_replicas(int32 chunk_id, int32 ht_id, const char *chunk_name,
			   const char *source, const char *dest)
{
	char	   *status = hd_catalog_replica_status(chunk_id, source);

	if (status == NULL || strcmp(status, hd_replica_status_name(HD_REPLICA_CURRENT)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk %s has no current replica on data node \"%s\"",
						chunk_name, source)));
	if (!hd_catalog_node_attached(ht_id, dest))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("data node \"%s\" is not attached to the hypertable of chunk %s",
						dest, chunk_name),
				 errhint("Attach it with attach_data_node() first.")));
	status = hd_catalog_replica_status(chunk_id, dest);
	if (status != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("data node \"%s\" already holds chunk %s", dest, chunk_name),
				 errdetail("Its replica there is %s.", status)));
}

int32
hd_chunk_op_create(int32 chunk_id, const char *source, const char *dest,
				   bool delete_source, const char *operation_id, int32 rebalance_id)
{
	HdCatalogChunkPlace place;
	HdHypertable *ht;
	char	   *chunk_name;
	int32		other;

	if (!hd_catalog_chunk_place(chunk_id, &place) ||
		(ht = hd_hypertable_load(place.hypertable_relid)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk %d does not exist", chunk_id)));
	chunk_name = quote_qualified_identifier(place.schema_name, place.table_name);
	if (!pg_class_ownercheck(place.hypertable_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(place.hypertable_relid));
	(void) data_node_server(source);
	(void) data_node_server(dest);
	if (strcmp(source, dest) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source and destination data nodes are the same: \"%s\"", dest)));

	/* one operation per chunk at a time, decided under the chunk's lock */
	(void) hd_catalog_lock_chunk(chunk_id, ShareUpdateExclusiveLock);
	other = hd_copy_op_active_on(chunk_id);
	if (other != 0)
	{
		HdCopyOp op;

		(void) hd_copy_op_read(other, &op);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("chunk %s is already being copied by operation \"%s\"",
						chunk_name, op.operation_id)));
	}
	check_replicas(chunk_id, ht->id, chunk_name, source, dest);
	if (operation_id != NULL && hd_copy_op_lookup(operation_id) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("chunk copy operation \"%s\" already exists", operation_id)));
	return hd_copy_op_insert(chunk_id, source, dest, delete_source, operation_id,
							 rebalance_id);
}

/* ---- running it ---------------------------------------------------------------- */

static bool
stage_is(const HdCopyOp *op, const char *stage)
{
	return strcmp(op->stage, stage) == 0;
}

/*
 * Starts a stage's transaction and reads the operation: at READ COMMITTED
 * whatever the default, since every catalog read must see what committed
 * before it (the chunk's lock waits for writers, then the replicas are
 * read again).
 */
static void
stage_begin(int32 op_id, HdCopyOp *op)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactIsoLevel = XACT_READ_COMMITTED;
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!hd_copy_op_read(op_id, op))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk copy operation %d no longer exists", op_id)));
}

static void
stage_commit(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * The stage reached, recorded before the stage's transaction commits; an
 * operation cancelled meanwhile is not advanced, and its stage's work is
 * rolled back.
 */
static void
stage_end(HdCopyOp *op, const char *stage)
{
	if (!hd_copy_op_set_stage(op->id, stage))
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("chunk copy operation \"%s\" was cancelled", op->operation_id)));
	stage_commit();
}

/*
 * Waits until every transaction that may have read the catalog before the
 * switch has ended: those with a snapshot now.  Other operations' workers
 * read no chunk through the catalog, and their copies may last long: they
 * are not waited for.
 */
static void
wait_for_older_snapshots(int32 op_id)
{
	List	   *movers = hd_copy_op_other_pids(op_id);
	VirtualTransactionId *vxids;
	int			n;

	vxids = GetCurrentVirtualXIDs(ReadNextTransactionId(), true, false,
								  PROC_IS_AUTOVACUUM | PROC_IN_VACUUM, &n);
	for (int i = 0; i < n; i++)
	{
		PGPROC	   *proc = BackendIdGetProc(vxids[i].backendId);

		if (proc != NULL && list_member_int(movers, proc->pid))
			continue;
		CHECK_FOR_INTERRUPTS();
		(void) VirtualXactLock(vxids[i], true);
	}
}

/*
 * Detaches a chunk's table from its parent on a data node, then drops it,
 * each statement a transaction of its own on the session outside any
 * remote transaction.  Dropping a partition would take ACCESS EXCLUSIVE on
 * its parent, and every reader and writer of the hypertable on that node
 * would queue behind the drop, itself queued behind their longest; the
 * concurrent detach only waits for them, and then the drop locks nothing
 * but the table.  Any step may have been done by an interrupted run: a
 * detach left pending is finalized, a table that is no longer a partition
 * (or is gone, with its parent) is only dropped if it is there.
 */
static void
drop_chunk_table(HdConn *conn, const HdCatalogChunkPlace *place)
{
	HdStream   *stream = hd_query_start(conn,
										hd_deparse_chunk_parent(place->schema_name,
																place->table_name),
										0, NULL, NULL, HD_ROWS_TEXT);
	char	   *parent[3];
	char	   *extra[3];
	bool		attached = hd_stream_next_text_row(stream, parent, 3);

	if (attached && hd_stream_next_text_row(stream, extra, 3))
		elog(ERROR, "data node returned more than one parent of chunk table %s.%s",
			 place->schema_name, place->table_name);
	hd_stream_close(stream);
	if (attached)
		hd_exec(conn, hd_deparse_detach_chunk(parent[0], parent[1], place->schema_name,
											  place->table_name, strcmp(parent[2], "t") == 0),
				0, NULL, NULL, NULL);
	hd_fault(HD_FAULT_MOVE_DETACHED);
	hd_exec(conn, hd_deparse_drop_chunk_table(place->schema_name, place->table_name),
			0, NULL, NULL, NULL);
}

/*
 * A data node lets one partition of a table be pending detach at a time:
 * the detaches of a hypertable's chunks wait for each other here, until
 * the end of the transaction.
 */
static void
lock_detaches(Oid hypertable_relid)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, HD_CHUNK_DETACH_LOCK_KEY,
						 (uint32) hypertable_relid, 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * Drops chunk_id's table on node (if it is still a data node), then
 * forgets its replica there in the current transaction: should that
 * transaction not commit, dropping it again finds nothing to do.
 */
static void
drop_replica(int32 chunk_id, const char *node)
{
	HdCatalogChunkPlace place;
	Oid			serverid = get_foreign_server_oid(node, true);

	if (hd_catalog_chunk_place(chunk_id, &place) && OidIsValid(serverid) &&
		hd_server_is_data_node(GetForeignServer(serverid)))
	{
		HdConn	   *conn = hd_conn_get(serverid, false);

		lock_detaches(place.hypertable_relid);
		hd_exec(conn, hd_deparse_lock_timeout(HD_DROP_LOCK_TIMEOUT_MS), 0, NULL, NULL, NULL);
		drop_chunk_table(conn, &place);
	}
	hd_replica_remove(chunk_id, node);
}

/* Whether chunk_id's replica on node has status. */
static bool
replica_is(int32 chunk_id, const char *node, HdReplicaStatus status)
{
	char	   *s = hd_catalog_replica_status(chunk_id, node);

	return s != NULL && strcmp(s, hd_replica_status_name(status)) == 0;
}

/* Runs the operation's next stage; false when it has ended. */
static bool
run_stage(int32 op_id)
{
	HdCopyOp	op;
	HdCopyStats stats;

	stage_begin(op_id, &op);
	if (hd_copy_op_ended(&op))
	{
		stage_commit();
		return false;
	}
	if (stage_is(&op, "planned"))
	{
		hd_replica_copy_create_target(op.id, op.chunk_id, op.source, op.dest);
		stage_end(&op, "copying");
		hd_fault(HD_FAULT_MOVE_CREATED);
	}
	else if (stage_is(&op, "copying"))
	{
		/*
		 * Rows committed on the destination must not meet a scan planned
		 * before its copying replica was in the catalog, which would read
		 * the destination's tables without naming its chunks.
		 */
		wait_for_older_snapshots(op.id);
		hd_replica_copy_to_target(op.id, op.chunk_id, op.source, op.dest, op.delete_source,
								  &stats);
		hd_copy_op_record_copy(op.id, stats.rows, stats.bytes, stats.started);
		stage_end(&op, op.delete_source ? "switched" : "complete");
		hd_fault(HD_FAULT_MOVE_SWITCHED);
	}
	else
	{
		wait_for_older_snapshots(op.id);
		if (replica_is(op.chunk_id, op.source, HD_REPLICA_RETIRED))
			drop_replica(op.chunk_id, op.source);
		stage_end(&op, "complete");
	}
	return true;
}

void
hd_chunk_op_run(int32 op_id)
{
	HdCopyOp	op;

	/* the worker's pid in the row, for the progress view and cancellation */
	stage_begin(op_id, &op);
	if (!hd_copy_op_ended(&op))
		stage_end(&op, op.stage);
	else
		stage_commit();
	while (run_stage(op_id))
		;
}

void
hd_chunk_op_failed(int32 op_id, ErrorData *edata)
{
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	hd_copy_op_record_error(op_id, unpack_sql_state(edata->sqlerrcode), edata->message);
	stage_commit();
}

/* ---- cleaning up --------------------------------------------------------------- */

void
hd_chunk_op_cleanup(int32 op_id)
{
	HdCopyOp	op;
	bool		cancelled;

	if (!hd_copy_op_read(op_id, &op))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk copy operation %d does not exist", op_id)));
	if (stage_is(&op, "complete"))
		return;

	/* switched: only the retired source is left to drop, once nobody reads it */
	if (replica_is(op.chunk_id, op.source, HD_REPLICA_RETIRED))
	{
		wait_for_older_snapshots(op.id);
		drop_replica(op.chunk_id, op.source);
		(void) hd_copy_op_set_stage(op.id, "complete");
		return;
	}
	if (replica_is(op.chunk_id, op.dest, HD_REPLICA_COPYING))
		drop_replica(op.chunk_id, op.dest);
	cancelled = stage_is(&op, "cancelled") ||
		(op.error_code != NULL && strcmp(op.error_code, "57014") == 0);
	(void) hd_copy_op_set_stage(op.id, cancelled ? "cancelled" : "failed");
}
