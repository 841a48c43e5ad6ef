/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/modify.c — INSERT and COPY FROM into distributed hypertables.
 *
 * Rows are handed to the batching router (ingest/insert.c) and the slot is
 * returned at once, so the executor computes RETURNING and the row count
 * on the access node without waiting: the data node stores exactly the
 * row sent (every column, defaults computed here), and any error while
 * shipping a batch fails the statement.  Batches still buffered are
 * shipped when the statement ends.  COPY FROM goes the same way
 * (BeginForeignInsert) in binary, and in text or CSV when the access node
 * must parse every column (ingest/copy_from.c forwards the others):
 * PostgreSQL 15 calls the FDW once per row, but rows are only buffered
 * here, never sent one by one.
 *
 * ON CONFLICT may skip rows (DO NOTHING, DO UPDATE ... WHERE) and its
 * arbiter is a unique index of the data nodes (see ingest/on_conflict.c), so the
 * clause is shipped with every batch and the row count must come from the
 * data nodes (rows inserted plus rows updated, as PostgreSQL counts them):
 * the executor's batch insert API hands over max_insert_batch_size rows at
 * a time, they are shipped at once and the rows inserted into (or updated
 * in) read replicas are reported.  With RETURNING as well, the rows must
 * come back as the data node stored them: each row is inserted on its own
 * with RETURNING (ingest/insert.c), which costs a round trip per row.
 *
 * UPDATE and DELETE on distributed hypertables run as one statement per
 * data node (fdw/direct_modify.c, which plans them here too when the
 * hypertable has stored generated columns); what would need them row by
 * row here is refused.  Foreign tables of data nodes stay read-only.
 */
#include "postgres.h"

#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "ingest/on_conflict.h"
#include "fdw/direct_modify.h"
#include "fdw/modify.h"
#include "guc.h"
#include "metadata/hypertable.h"
#include "ingest/insert.h"

/*
 * ModifyTable.fdw_private: the ON CONFLICT clause (String, "" if none) and
 * the target's alias, which the clause may use (String, "" if none), and
 * whether rows must come back from the data node.
 */
enum HdModifyPrivateIndex
{
	HdModifyPrivateOnConflict,
	HdModifyPrivateAlias,
	HdModifyPrivateReturning	/* Integer: ON CONFLICT with RETURNING */
};

typedef struct HdModifyState
{
	HdInsertState *insert;
	bool		count_rows;		/* ON CONFLICT: rows may be skipped */
	bool		returning;		/* ON CONFLICT with RETURNING */
	Datum	   *values;			/* the row the data node returned */
	bool	   *isnull;
} HdModifyState;

static const char *
command_name(CmdType operation)
{
	switch (operation)
	{
		case CMD_INSERT:
			return "INSERT";
		case CMD_UPDATE:
			return "UPDATE";
		case CMD_DELETE:
			return "DELETE";
		default:
			return "MERGE";
	}
}

static List *
hd_plan_foreign_modify(PlannerInfo *root, ModifyTable *plan,
					   Index resultRelation, int subplan_index)
{
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	const char *on_conflict;
	const char *alias = NULL;

	if (!hd_is_dist_hypertable(rte->relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s foreign table \"%s\"",
						plan->operation == CMD_INSERT ? "insert into" :
						plan->operation == CMD_UPDATE ? "update" : "delete from",
						get_rel_name(rte->relid)),
				 errdetail("Foreign tables of data nodes are read-only.")));
	if (hd_plan_generated_direct_modify(root, plan, resultRelation, subplan_index))
		return NIL;
	if (plan->operation != CMD_INSERT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s on distributed hypertable \"%s\" cannot run row by row",
						command_name(plan->operation), get_rel_name(rte->relid)),
				 errdetail("UPDATE and DELETE run as one statement on the data nodes; this one needs the rows on the access node."),
				 errhint("Update the hypertable itself, with conditions the data nodes can evaluate.")));

	if (plan->onConflictAction == ONCONFLICT_NONE)
		return list_make3(makeString(""), makeString(""), makeInteger(0));

	/* with an arbiter, the planner hook (ingest/on_conflict.c) deparsed the clause */
	on_conflict = hd_conflict_clause(rte->relid, &alias);
	if (on_conflict == NULL && plan->onConflictAction == ONCONFLICT_NOTHING)
		on_conflict = "ON CONFLICT DO NOTHING";
	if (on_conflict == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT ... ON CONFLICT DO UPDATE on distributed hypertable \"%s\" is only supported as a statement of its own",
						get_rel_name(rte->relid)),
				 errdetail("Its clause could not be shipped to the data nodes.")));

	return list_make3(makeString(pstrdup(on_conflict)),
					  makeString(pstrdup(alias ? alias : "")),
					  makeInteger(plan->returningLists != NIL));
}

static HdModifyState *
begin_insert(Relation rel, const char *on_conflict, const char *alias)
{
	HdModifyState *state = palloc0(sizeof(HdModifyState));
	HdHypertable *ht = hd_hypertable_load(RelationGetRelid(rel));

	if (ht == NULL)
		elog(ERROR, "\"%s\" is not a distributed hypertable", RelationGetRelationName(rel));
	state->count_rows = on_conflict[0] != '\0';
	state->insert = hd_insert_begin(rel, ht, alias[0] ? alias : NULL,
									state->count_rows ? on_conflict : NULL,
									state->count_rows);
	return state;
}

static void
hd_begin_foreign_modify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						List *fdw_private, int subplan_index, int eflags)
{
	HdModifyState *state;
	int			natts = RelationGetDescr(rinfo->ri_RelationDesc)->natts;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	state = begin_insert(rinfo->ri_RelationDesc,
						 strVal(list_nth(fdw_private, HdModifyPrivateOnConflict)),
						 strVal(list_nth(fdw_private, HdModifyPrivateAlias)));
	state->returning = intVal(list_nth(fdw_private, HdModifyPrivateReturning)) != 0;
	state->values = palloc(sizeof(Datum) * natts);
	state->isnull = palloc(sizeof(bool) * natts);
	rinfo->ri_FdwState = state;
}

static int
hd_get_foreign_modify_batch_size(ResultRelInfo *rinfo)
{
	HdModifyState *state = rinfo->ri_FdwState;

	/*
	 * Without ON CONFLICT every row is buffered by ingest/insert.c itself; the
	 * executor computes no RETURNING for batches.
	 */
	if (state == NULL || !state->count_rows || state->returning)
		return 1;
	return hd_max_insert_batch_size;
}

/*
 * ON CONFLICT with RETURNING: RETURNING must see the row as the data node
 * stored it (DO UPDATE), so the row is inserted now and the slot gets the
 * row returned; NULL when the row was skipped.
 */
static TupleTableSlot *
insert_returning(HdModifyState *state, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;

	if (!hd_insert_row_returning(state->insert, slot->tts_values, slot->tts_isnull,
								 state->values, state->isnull))
		return NULL;
	ExecClearTuple(slot);
	memcpy(slot->tts_values, state->values, sizeof(Datum) * natts);
	memcpy(slot->tts_isnull, state->isnull, sizeof(bool) * natts);
	return ExecStoreVirtualTuple(slot);
}

static TupleTableSlot *
hd_exec_foreign_insert(EState *estate, ResultRelInfo *rinfo,
					   TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	HdModifyState *state = rinfo->ri_FdwState;

	slot_getallattrs(slot);
	if (state->returning)
		return insert_returning(state, slot);
	hd_insert_row(state->insert, slot->tts_values, slot->tts_isnull);
	/* max_insert_batch_size 1 with ON CONFLICT: the row's fate is needed now */
	if (state->count_rows && hd_insert_flush(state->insert) == 0)
		return NULL;
	return slot;
}

static TupleTableSlot **
hd_exec_foreign_batch_insert(EState *estate, ResultRelInfo *rinfo,
							 TupleTableSlot **slots, TupleTableSlot **planSlots,
							 int *numSlots)
{
	HdModifyState *state = rinfo->ri_FdwState;

	for (int i = 0; i < *numSlots; i++)
	{
		slot_getallattrs(slots[i]);
		hd_insert_row(state->insert, slots[i]->tts_values, slots[i]->tts_isnull);
	}
	/* only the count matters: there is no RETURNING with ON CONFLICT */
	*numSlots = (int) hd_insert_flush(state->insert);
	return slots;
}

static void
hd_end_foreign_modify(EState *estate, ResultRelInfo *rinfo)
{
	HdModifyState *state = rinfo->ri_FdwState;

	if (state != NULL)
		hd_insert_flush(state->insert);
}

static void
hd_begin_foreign_insert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	if (!hd_is_dist_hypertable(RelationGetRelid(rinfo->ri_RelationDesc)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot insert into foreign table \"%s\"",
						RelationGetRelationName(rinfo->ri_RelationDesc)),
				 errdetail("Foreign tables of data nodes are read-only.")));
	rinfo->ri_FdwState = begin_insert(rinfo->ri_RelationDesc, "", "");
}

void
hd_fdw_set_modify_routines(FdwRoutine *routine)
{
	routine->PlanForeignModify = hd_plan_foreign_modify;
	routine->BeginForeignModify = hd_begin_foreign_modify;
	routine->GetForeignModifyBatchSize = hd_get_foreign_modify_batch_size;
	routine->ExecForeignInsert = hd_exec_foreign_insert;
	routine->ExecForeignBatchInsert = hd_exec_foreign_batch_insert;
	routine->EndForeignModify = hd_end_foreign_modify;
	routine->BeginForeignInsert = hd_begin_foreign_insert;
	routine->EndForeignInsert = hd_end_foreign_modify;
}
