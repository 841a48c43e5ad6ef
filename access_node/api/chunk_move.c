/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/chunk_move.c — the C side of copy_chunk, move_chunk,
 * cleanup_copy_chunk_operation and cancel_copy_chunk_operation
 * (sql/elasticity.sql).
 *
 * copy_chunk and move_chunk record an operation here (in the caller's
 * transaction: its checks are placement/chunk_move.c's), commit, and wait
 * for the database's chunk mover (bgw/chunk_mover.c) to run it: the rows
 * never pass through the client's backend.  The wait commits every tenth
 * of a second, so that the caller holds no snapshot a stage of the
 * operation would wait for longer than that, and reads the operation as
 * last committed.
 *
 * Cancelling an operation (the waiting CALL was cancelled, or
 * cancel_copy_chunk_operation) goes in steps, each in a transaction the
 * procedure commits: if no process runs the operation, take its lock and
 * undo it here; if a mover runs it, interrupt the mover (which undoes it)
 * and look again.  The lock taken here is kept until the end of the
 * transaction, so that no mover starts the operation before the undo
 * commits.
 *
 * Whoever may record an operation (the owner of the chunk's hypertable) may
 * cancel and clean it up; every function here is callable by PUBLIC and
 * checks its caller.  Nothing here runs with raised privileges: the
 * catalog writes are the engine's (placement/chunk_move.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "api/chunk_move.h"
#include "bgw/bgw.h"
#include "bgw/chunk_mover.h"
#include "metadata/catalog_read.h"
#include "metadata/copy_operation.h"
#include "placement/chunk_move.h"

/*
 * How long one call of chunk_op_wait waits before its caller commits, and
 * a cancel before it looks again.  A mover's stage begins by waiting for
 * the snapshots taken before it, the waiting caller's included.
 */
#define HD_OP_POLL_MS			100

/* ---- the end of the transaction -------------------------------------------- */

static int32 locked_op = 0;		/* an operation's lock held until then */
static bool wake_at_commit = false; /* an operation was recorded */

/*
 * Cancels are held from a chunk_op_wait that returns false to the next
 * call: a cancel arriving while chunk_op_await commits would otherwise be
 * raised outside its exception block and end the CALL with the operation
 * still running.  An error in between zeroes the hold count (errfinish),
 * and the abort forgets the hold.
 */
static bool cancel_held = false;

/*
 * The worker is woken once the operation is committed (before, it would
 * not see it); the lock is let go whatever the outcome.
 */
void
hd_chunk_op_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (wake_at_commit)
				hd_bgw_wake(true);
			break;
		case XACT_EVENT_ABORT:
			cancel_held = false;
			break;
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}
	if (locked_op != 0)
		hd_chunk_op_unlock(locked_op);
	locked_op = 0;
	wake_at_commit = false;
}

/* Takes op_id's lock until the end of the transaction; false if taken. */
static bool
lock_until_end_of_xact(int32 op_id)
{
	Assert(locked_op == 0);
	if (!hd_chunk_op_lock(op_id))
		return false;
	locked_op = op_id;
	return true;
}

/* ---- reading operations ---------------------------------------------------- */

static const char *
op_verb(const HdCopyOp *op)
{
	return op->delete_source ? "move" : "copy";
}

/*
 * The caller may cancel or clean up op: it owns the chunk's hypertable
 * (a superuser, once the chunk is dropped).
 */
static void
check_op_owner(const HdCopyOp *op)
{
	HdCatalogChunkPlace place;

	if (hd_catalog_chunk_place(op->chunk_id, &place))
	{
		if (!pg_class_ownercheck(place.hypertable_relid, GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE,
						   get_rel_name(place.hypertable_relid));
	}
	else if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to cancel or clean up chunk copy operation \"%s\"",
						op->operation_id),
				 errdetail("Its chunk was dropped.")));
}

/* The operation named operation_id, which the caller may cancel. */
static void
owned_op(const char *operation_id, HdCopyOp *op)
{
	int32		op_id = hd_copy_op_lookup(operation_id);

	if (op_id == 0 || !hd_copy_op_read(op_id, op))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk copy operation \"%s\" does not exist", operation_id)));
	check_op_owner(op);
}

static void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be NULL", name)));
}

/* An SQLSTATE recorded as text, or XX000 if it is not one. */
static int
sqlstate_of(const char *code)
{
	if (code == NULL || strlen(code) != 5 ||
		strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		return ERRCODE_INTERNAL_ERROR;
	return MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
}

/* ---- copy_chunk, move_chunk ------------------------------------------------ */

/*
 * _hyperdist_functions.chunk_op_create(chunk, source_node, destination_node,
 * operation_id, move): records the operation, to commit at once; its id.
 */
PG_FUNCTION_INFO_V1(hyperdist_chunk_op_create);
Datum
hyperdist_chunk_op_create(PG_FUNCTION_ARGS)
{
	bool		move = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	const char *what = move ? "move_chunk" : "copy_chunk";
	Oid			relid;
	int32		chunk_id;
	int32		op_id;

	PreventInTransactionBlock(true, what);
	require_arg(fcinfo, 0, "chunk");
	require_arg(fcinfo, 1, "source_node");
	require_arg(fcinfo, 2, "destination_node");
	relid = PG_GETARG_OID(0);
	chunk_id = hd_catalog_chunk_of_relation(relid);
	if (chunk_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a chunk of a distributed hypertable",
						DatumGetCString(DirectFunctionCall1(regclassout,
															ObjectIdGetDatum(relid))))));

	op_id = hd_chunk_op_create(chunk_id,
							   NameStr(*PG_GETARG_NAME(1)),
							   NameStr(*PG_GETARG_NAME(2)),
							   move,
							   PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)),
							   0);
	wake_at_commit = true;
	PG_RETURN_INT32(op_id);
}

/*
 * _hyperdist_functions.chunk_op_wait(op): true once op has ended, false
 * after HD_OP_POLL_MS, with cancels held until the caller, having
 * committed, calls again.  A cancel interrupts it as any wait.
 */
PG_FUNCTION_INFO_V1(hyperdist_chunk_op_wait);
Datum
hyperdist_chunk_op_wait(PG_FUNCTION_ARGS)
{
	int32		op_id = PG_GETARG_INT32(0);
	bool		waited = false;

	if (cancel_held)
	{
		cancel_held = false;
		RESUME_CANCEL_INTERRUPTS();
	}
	for (;;)
	{
		HdCopyOp	op;

		CHECK_FOR_INTERRUPTS();
		if (!hd_copy_op_read(op_id, &op) || hd_copy_op_ended(&op))
			PG_RETURN_BOOL(true);
		if (waited)
		{
			HOLD_CANCEL_INTERRUPTS();
			cancel_held = true;
			PG_RETURN_BOOL(false);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 HD_OP_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		waited = true;
	}
}

/*
 * _hyperdist_functions.chunk_op_check(op): raises op's outcome unless the
 * chunk is in place (complete, or switched with the source's copy still to
 * drop): the error it failed with, or a cancel.
 */
PG_FUNCTION_INFO_V1(hyperdist_chunk_op_check);
Datum
hyperdist_chunk_op_check(PG_FUNCTION_ARGS)
{
	int32		op_id = PG_GETARG_INT32(0);
	HdCopyOp	op;
	char	   *chunk_name;

	if (!hd_copy_op_read(op_id, &op))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk copy operation %d does not exist", op_id)));
	if (strcmp(op.stage, "complete") == 0)
		PG_RETURN_VOID();
	chunk_name = hd_copy_op_chunk_name(&op);
	if (strcmp(op.stage, "switched") == 0)
		ereport(NOTICE,
				(errmsg("chunk %s is moved to data node \"%s\"; its replica on data node \"%s\" is dropped in the background",
						chunk_name, op.dest, op.source)));
	else if (strcmp(op.stage, "failed") == 0)
		ereport(ERROR,
				(errcode(sqlstate_of(op.error_code)),
				 errmsg("could not %s chunk %s from data node \"%s\" to data node \"%s\": %s",
						op_verb(&op), chunk_name, op.source, op.dest,
						op.error_message != NULL ? op.error_message : "unknown error"),
				 errdetail("Chunk copy operation \"%s\" failed after %d attempts and was undone.",
						   op.operation_id, op.attempts)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("%s of chunk %s from data node \"%s\" to data node \"%s\" was cancelled",
						op_verb(&op), chunk_name, op.source, op.dest),
				 errdetail("Chunk copy operation \"%s\" is %s.", op.operation_id, op.stage)));
	PG_RETURN_VOID();
}

/* ---- cancel and clean up ------------------------------------------------------- */

/*
 * _hyperdist_functions.chunk_op_find(operation_id, procedure): the id of
 * the operation the caller may cancel, for a procedure that commits.
 */
PG_FUNCTION_INFO_V1(hyperdist_chunk_op_find);
Datum
hyperdist_chunk_op_find(PG_FUNCTION_ARGS)
{
	HdCopyOp	op;

	PreventInTransactionBlock(true, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	require_arg(fcinfo, 0, "operation_id");
	owned_op(NameStr(*PG_GETARG_NAME(0)), &op);
	PG_RETURN_INT32(op.id);
}

/*
 * Undoes op_id if it has not ended and nobody runs it (its lock then held
 * until the end of the transaction).  False when a process runs it.
 */
static bool
cleanup_unless_running(int32 op_id)
{
	HdCopyOp	op;
	bool		pushed = false;

	if (!lock_until_end_of_xact(op_id))
		return false;
	/* read again: it may have ended while its mover held the lock */
	if (!hd_copy_op_read(op_id, &op) || hd_copy_op_ended(&op))
		return true;
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	hd_chunk_op_cleanup(op_id);
	if (pushed)
		PopActiveSnapshot();
	return true;
}

/*
 * _hyperdist_functions.chunk_op_cancel(op): one step of cancelling op.
 * True when there is nothing (more) to do here: it has ended, it was undone
 * in this transaction (the caller commits), or it has switched (its chunk
 * is in place; the mover finishes it).  False when a mover runs it: the
 * mover was interrupted, and the caller commits and calls again.
 */
PG_FUNCTION_INFO_V1(hyperdist_chunk_op_cancel);
Datum
hyperdist_chunk_op_cancel(PG_FUNCTION_ARGS)
{
	int32		op_id = PG_GETARG_INT32(0);
	HdCopyOp	op;

	if (!hd_copy_op_read(op_id, &op) || hd_copy_op_ended(&op) ||
		strcmp(op.stage, "switched") == 0)
		PG_RETURN_BOOL(true);
	check_op_owner(&op);
	if (cleanup_unless_running(op_id))
	{
		/* undone by the caller: cancelled, not failed */
		if (hd_copy_op_read(op_id, &op) && strcmp(op.stage, "failed") == 0)
			(void) hd_copy_op_set_stage(op_id, "cancelled");
		PG_RETURN_BOOL(true);
	}
	/* a mover runs it, or is about to start or to exit: look again soon */
	(void) hd_chunk_mover_cancel(op_id);
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 HD_OP_POLL_MS, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	PG_RETURN_BOOL(false);
}

/*
 * cleanup_copy_chunk_operation(operation_id): undoes an operation that
 * has not switched, finishes one that has; refuses one a mover runs.
 */
PG_FUNCTION_INFO_V1(hyperdist_cleanup_copy_chunk_operation);
Datum
hyperdist_cleanup_copy_chunk_operation(PG_FUNCTION_ARGS)
{
	HdCopyOp	op;

	PreventInTransactionBlock(true, "cleanup_copy_chunk_operation");
	require_arg(fcinfo, 0, "operation_id");
	owned_op(NameStr(*PG_GETARG_NAME(0)), &op);
	if (hd_copy_op_ended(&op))
		ereport(NOTICE,
				(errmsg("chunk copy operation \"%s\" is %s: nothing to clean up",
						op.operation_id, op.stage)));
	else if (!cleanup_unless_running(op.id))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("chunk copy operation \"%s\" is running", op.operation_id),
				 errhint("Cancel it with cancel_copy_chunk_operation().")));
	PG_RETURN_VOID();
}
