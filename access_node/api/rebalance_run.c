/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/rebalance_run.c — recording a rebalance's moves, cancelling them, and
 * drain_data_node.
 *
 * A rebalance (rebalance() or drain_data_node()) is a row of
 * _hyperdist_catalog.rebalance and its moves, each a chunk move operation
 * (placement/chunk_move.h) that the background worker's movers run, with
 * the bytes it was planned for (_hyperdist_catalog.rebalance_move).  One
 * rebalance at a time has moves under way: a second is refused until the
 * first has ended or was cancelled, so two never plan the same chunk.
 *
 * The catalog rows are written as the catalog's owner (metadata/catalog.c)
 * after the caller was checked: it owns every hypertable concerned (the
 * operations check their chunks' hypertables again), and moves are added
 * only to a rebalance begun in the same transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "bgw/bgw.h"
#include "metadata/catalog.h"
#include "placement/chunk_move.h"
#include "spi_plan.h"

/* how often drain_data_node looks at its moves */
#define DRAIN_POLL_MS 500

/* ---- waking the movers when the moves are committed ----------------------- */

static bool wake_at_commit = false;

static void
wake_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_at_commit)
		hd_bgw_wake(true);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
}

/* The background worker looks for planned moves once this transaction commits. */
static void
wake_movers_at_commit(void)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		registered = true;
	}
	wake_at_commit = true;
}

/* ---- beginning a rebalance ----------------------------------------------------- */

static Oid
rebalance_relid(void)
{
	return get_relname_relid("rebalance", get_namespace_oid("_hyperdist_catalog", false));
}

/*
 * The rebalance with moves under way, 0 if none, as committed now (not as
 * the transaction's snapshot saw it: the caller waited for the last
 * rebalance to commit).
 */
static int32
rebalance_under_way(void)
{
	static const char *sql =
		"SELECT rebalance_id FROM _hyperdist_catalog.chunk_copy_operation"
		" WHERE rebalance_id IS NOT NULL"
		"   AND completed_stage IN ('planned', 'copying', 'switched')"
		" ORDER BY rebalance_id LIMIT 1";
	int			nestlevel = hd_safe_search_path_begin();
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);
	int32		id = 0;

	if (plan == NULL ||
		SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the chunk copy operations: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_processed > 0)
		id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	SPI_freeplan(plan);
	hd_safe_search_path_end(nestlevel);
	return id;
}

PG_FUNCTION_INFO_V1(hyperdist_rebalance_begin);

/*
 * _hyperdist_functions.rebalance_begin(hypertables, drained_node): a new
 * rebalance of hypertables (all owned by the caller), or a drain of
 * drained_node; its id.  Until the transaction ends, no other rebalance
 * begins; none may have moves under way.
 */
Datum
hyperdist_rebalance_begin(PG_FUNCTION_ARGS)
{
	ArrayType  *hypertables;
	Datum	   *relids;
	bool	   *nulls;
	int			n;
	int32		running;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hypertables must not be NULL")));
	hypertables = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(hypertables, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT,
					  &relids, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a rebalance concerns at least one hypertable")));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("hypertables must not be NULL")));
		(void) hd_catalog_owned_hypertable(DatumGetObjectId(relids[i]));
	}

	LockRelationOid(rebalance_relid(), ExclusiveLock);
	hd_spi_connect();
	running = rebalance_under_way();
	hd_spi_finish();
	if (running != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rebalance %d has moves under way", running),
				 errhint("Wait until it ends (hyperdist_information.rebalance_progress), or stop it with cancel_rebalance().")));
	PG_RETURN_INT32(hd_catalog_add_rebalance(PG_ARGISNULL(1) ? NULL
											 : NameStr(*PG_GETARG_NAME(1))));
}

/* Whether rebalance id was begun by this transaction. */
static bool
rebalance_is_ours(int32 id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(id)};
	bool		ours;

	hd_spi_connect();
	hd_spi_execute("SELECT xmin FROM _hyperdist_catalog.rebalance WHERE id = $1",
				   1, types, values, NULL, true, 0);
	ours = SPI_processed == 1 &&
		TransactionIdIsCurrentTransactionId(DatumGetTransactionId(hd_spi_value(0, 1, XIDOID,
																				NULL)));
	hd_spi_finish();
	return ours;
}

PG_FUNCTION_INFO_V1(hyperdist_rebalance_add_move);

/*
 * _hyperdist_functions.rebalance_add_move(rebalance_id, chunk_id, source,
 * destination, bytes): a planned move of the chunk's replica on source to
 * destination, part of rebalance rebalance_id (begun in this transaction);
 * the operation's id.  The movers start once the transaction commits.
 */
Datum
hyperdist_rebalance_add_move(PG_FUNCTION_ARGS)
{
	int32		rebalance_id;
	int32		op_id;

	for (int i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of rebalance_add_move must not be NULL", i + 1)));
	rebalance_id = PG_GETARG_INT32(0);
	if (!rebalance_is_ours(rebalance_id))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rebalance %d was not begun in this transaction", rebalance_id)));
	op_id = hd_chunk_op_create(PG_GETARG_INT32(1), NameStr(*PG_GETARG_NAME(2)),
							   NameStr(*PG_GETARG_NAME(3)), true, NULL, rebalance_id);
	hd_catalog_add_rebalance_move(op_id, PG_GETARG_INT64(4));
	wake_movers_at_commit();
	PG_RETURN_INT32(op_id);
}

/* ---- cancel_rebalance -------------------------------------------------------- */

PG_FUNCTION_INFO_V1(hyperdist_cancel_rebalance);

/*
 * cancel_rebalance(): every move of a rebalance or drain that has not
 * switched, of the hypertables the caller owns, is cancelled as
 * cancel_copy_chunk_operation cancels one (api/chunk_move.c): undone here
 * when no mover runs it, else its mover is interrupted and undoes it.
 * Moves that switched already finish.  Returns how many moves it stopped.
 */
Datum
hyperdist_cancel_rebalance(PG_FUNCTION_ARGS)
{
	List	   *ops = NIL;
	int64		skipped = 0;
	ListCell   *lc;

	hd_spi_connect();
	hd_spi_execute("SELECT o.id, h.relid"
				   " FROM _hyperdist_catalog.chunk_copy_operation o"
				   " JOIN _hyperdist_catalog.chunk c ON c.id = o.chunk_id"
				   " JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id"
				   " WHERE o.rebalance_id IS NOT NULL"
				   "   AND o.completed_stage IN ('planned', 'copying')"
				   " ORDER BY o.id", 0, NULL, NULL, NULL, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		if (pg_class_ownercheck(DatumGetObjectId(hd_spi_value(i, 2, OIDOID, NULL)),
								GetUserId()))
			ops = lappend_int(ops, DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL)));
		else
			skipped++;
	}
	foreach(lc, ops)
	{
		Oid			type = INT4OID;
		Datum		value = Int32GetDatum(lfirst_int(lc));

		hd_spi_execute("SELECT _hyperdist_functions.chunk_op_cancel($1)",
					   1, &type, &value, NULL, false, 0);
	}
	hd_spi_finish();
	if (skipped > 0)
		ereport(NOTICE,
				(errmsg("%lld moves of hypertables owned by other roles go on",
						(long long) skipped)));
	PG_RETURN_INT32(list_length(ops));
}

/* ---- drain_data_node ---------------------------------------------------------- */

/* The drain's state, as committed now. */
typedef struct DrainStatus
{
	int64		replicas;		/* left on the node */
	int64		open;			/* moves not ended */
	int64		cancelled;
	char	   *failed_chunk;	/* the first failed move's, or NULL */
	char	   *error_code;
	char	   *error_message;
} DrainStatus;

static void
drain_status(const char *node, int32 rebalance_id, DrainStatus *st)
{
	Oid			types[2] = {NAMEOID, INT4OID};
	Datum		values[2] = {hd_spi_name_arg(node), Int32GetDatum(rebalance_id)};
	bool		isnull;
	Datum		d;

	/* not read_only: the statement takes a snapshot of its own */
	hd_spi_execute("SELECT * FROM _hyperdist_functions.drain_status($1, $2)",
				   2, types, values, NULL, false, 0);
	st->replicas = DatumGetInt64(hd_spi_value(0, 1, INT8OID, NULL));
	st->open = DatumGetInt64(hd_spi_value(0, 2, INT8OID, NULL));
	st->cancelled = DatumGetInt64(hd_spi_value(0, 3, INT8OID, NULL));
	d = hd_spi_value(0, 4, TEXTOID, &isnull);
	st->failed_chunk = isnull ? NULL : TextDatumGetCString(d);
	d = hd_spi_value(0, 5, TEXTOID, &isnull);
	st->error_code = isnull ? NULL : TextDatumGetCString(d);
	d = hd_spi_value(0, 6, TEXTOID, &isnull);
	st->error_message = isnull ? NULL : TextDatumGetCString(d);
}

/* Whether the drain is over; an error if it cannot end well. */
static bool
drain_done(const char *node, const DrainStatus *st)
{
	if (st->failed_chunk != NULL)
	{
		const char *code = st->error_code;
		bool		valid = code != NULL && strlen(code) == 5 &&
			strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5;

		ereport(ERROR,
				(errcode(valid ? MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4])
						 : ERRCODE_INTERNAL_ERROR),
				 errmsg("moving chunk %s off data node \"%s\" failed: %s",
						st->failed_chunk, node,
						st->error_message ? st->error_message : "no error recorded"),
				 errhint("The other moves go on, and the node takes no new chunks.  Once the cause is removed, drain the node again.")));
	}
	if (st->replicas == 0)
		return true;
	if (st->open > 0)
		return false;
	if (st->cancelled > 0)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("the drain of data node \"%s\" was cancelled", node)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("data node \"%s\" still holds %lld chunk replicas after its drain",
					node, (long long) st->replicas),
			 errhint("Drain it again.")));
	return false;
}

/*
 * Waits, a transaction per look so that no snapshot of its own holds up
 * the movers, until no replica is left on node or a move failed.
 */
static void
drain_wait(const char *node, int32 rebalance_id)
{
	for (;;)
	{
		DrainStatus st;

		SPI_commit();
		drain_status(node, rebalance_id, &st);
		if (drain_done(node, &st))
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 DRAIN_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

PG_FUNCTION_INFO_V1(hyperdist_drain_data_node);

/*
 * CALL drain_data_node(node, wait, moves): no new chunks go to node, and
 * each chunk replica it holds is moved to another data node of its
 * hypertable (_hyperdist_functions.drain_start plans and records the
 * moves); with wait, returns once none is left.  moves (INOUT) is the
 * number of moves.  Waiting commits, so it is refused in a transaction
 * block.
 */
Datum
hyperdist_drain_data_node(PG_FUNCTION_ARGS)
{
	CallContext *call = (CallContext *) fcinfo->context;
	bool		atomic = call == NULL || !IsA(call, CallContext) || call->atomic;
	char		node[NAMEDATALEN];
	bool		wait;
	Oid			types[1] = {NAMEOID};
	Datum		values[1];
	int32		rebalance_id;
	bool		isnull;
	int32		moves;
	TupleDesc	desc;
	Datum		result[1];
	bool		result_null[1] = {false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("node and wait must not be NULL")));
	strlcpy(node, NameStr(*PG_GETARG_NAME(0)), sizeof(node));
	wait = PG_GETARG_BOOL(1);
	if (wait && atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("drain_data_node with wait => true cannot run inside a transaction block"),
				 errhint("Call it outside a transaction block, or with wait => false.")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "drain_data_node must return its moves");

	if (SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = hd_spi_name_arg(node);
	hd_spi_execute("SELECT * FROM _hyperdist_functions.drain_start($1)",
				   1, types, values, NULL, false, 0);
	rebalance_id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, &isnull));
	moves = DatumGetInt32(hd_spi_value(0, 2, INT4OID, NULL));
	if (wait && !isnull)
		drain_wait(node, rebalance_id);
	hd_spi_finish();

	result[0] = Int32GetDatum(moves);
	desc = BlessTupleDesc(desc);
	return HeapTupleGetDatum(heap_form_tuple(desc, result, result_null));
}
