/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/direct_modify.c — UPDATE and DELETE of distributed hypertables, run
 * by the data nodes.
 *
 * The statement is shipped whole ("direct modify", as postgres_fdw does
 * it): each data node holding chunks the statement may touch runs one
 * UPDATE or DELETE on its root table, restricted to those chunks when it
 * holds others, on every usable replica of them, so that replicas stay
 * identical; the current replicas that are not usable (their node is
 * unavailable, down, or cannot be reached when the statement starts) are
 * marked stale in the transaction (metadata/chunk.h).
 * The chunks are those the quals on the dimension columns keep
 * (fdw/prune.c), chosen when the statement starts.  All nodes get their
 * statement before any answer is awaited, on the sessions of the local
 * transaction, so an error anywhere aborts it everywhere.
 *
 * Hence every WHERE qual and SET expression must be something the data
 * nodes compute as the access node would (deparse/expr.c, which also sends
 * parts that read no column and have one value for the statement, such as
 * now() or stable casts, as parameters computed here).  Anything else,
 * a join with another relation included, is refused: there is no
 * row-by-row UPDATE or DELETE.  So is a change of a dimension column,
 * which could move rows to another chunk, on other nodes.
 *
 * The statement's range of time, the chunks it may change as far as its
 * quals keep them, goes to the invalidation log of the hypertable's
 * continuous aggregates (metadata/invalidation.h): the rows themselves are
 * never seen here.
 *
 * A row changed on several replicas is one row: the row count and the
 * RETURNING rows come from each chunk's primary replica (the one scans
 * read), whose node returns only its primaries' rows.
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/plancat.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "deparse/deparse.h"
#include "fdw/direct_modify.h"
#include "fdw/params.h"
#include "fdw/prune.h"
#include "metadata/chunk.h"
#include "metadata/hypertable.h"
#include "metadata/invalidation.h"
#include "remote/connection.h"
#include "remote/fanout.h"

/*
 * ForeignScan.fdw_private of a direct modify: the statement up to its
 * WHERE clause included (String), whether it has one (Boolean), the
 * RETURNING column list (String, "" without RETURNING), the attribute
 * numbers those columns fill (IntList), the codes of the chunk pruning
 * quals (IntList), and whether the statement sets the command's row count
 * (Boolean).  fdw_exprs are the values of the parameters $1, $2..., then
 * the pruning quals' expressions.
 */
enum HdDirectModifyPrivateIndex
{
	HdDmPrivateSql,
	HdDmPrivateHasWhere,
	HdDmPrivateReturning,
	HdDmPrivateRetrievedAttrs,
	HdDmPrivatePruneCodes,
	HdDmPrivateSetProcessed
};

/* The statement of one data node. */
typedef struct HdNodeModify
{
	Oid			serverid;
	int			nchunks;
	char	   *sql;
	bool		counted;		/* primary of some chunks: its rows count */
	bool		returns_rows;	/* sent as a Query: RETURNING rows */
	HdConn	   *conn;
	HdStream   *stream;			/* with returns_rows */
} HdNodeModify;

typedef struct HdDirectModifyState
{
	Relation	rel;
	MemoryContext cxt;			/* lives as long as the statement */
	bool		set_processed;
	bool		executed;
	uint64		processed;		/* rows changed, without RETURNING */

	int			nnodes;
	HdNodeModify *nodes;
	int			cur;			/* node whose RETURNING rows are read */

	/* parameters, sent in text as fdw/scan.c sends them */
	HdRemoteParams params;

	/* RETURNING: remote columns in text, and the attributes they fill */
	int			ncolumns;		/* 1 for the placeholder of RETURNING 1 */
	int			nretrieved;
	AttrNumber *attnums;
	FmgrInfo   *in_funcs;
	Oid		   *typioparams;
	char	  **fields;
} HdDirectModifyState;

static const char *
command_name(CmdType operation)
{
	return operation == CMD_UPDATE ? "UPDATE" : "DELETE";
}

static void refuse(CmdType operation, Oid relid, const char *detail)
			pg_attribute_noreturn();

static void
refuse(CmdType operation, Oid relid, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s on distributed hypertable \"%s\" needs conditions the data nodes can evaluate",
					command_name(operation), get_rel_name(relid)),
			 errdetail("%s", detail),
			 errhint("Refer only to the hypertable's columns, constants and parameters, through built-in immutable functions and operators, or change the rows with distributed_exec().")));
}

static bool
is_dimension(const HdHypertable *ht, AttrNumber attnum)
{
	return attnum == ht->time.attnum ||
		(ht->has_space && attnum == ht->space.attnum);
}

/*
 * exprs, the new values of the columns attnums, with those of the stored
 * generated columns that read any of them appended to both lists: the data
 * nodes must compute them again, as ExecUpdate would for a row updated
 * here (hd_generated_set_list).
 */
static List *
add_generated(PlannerInfo *root, Index rtindex, RelOptInfo *baserel,
			  Oid relid, List **attnums, List *exprs)
{
	Relation	rel = table_open(relid, NoLock);
	List	   *new_values = NIL;
	ListCell   *lc1,
			   *lc2;

	forboth(lc1, *attnums, lc2, exprs)
		new_values = lappend(new_values,
							 makeTargetEntry(lfirst(lc2), lfirst_int(lc1), NULL, false));
	foreach(lc1, hd_generated_set_list(rel, rtindex, planner_rt_fetch(rtindex, root),
									   new_values))
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc1);

		if (!hd_is_foreign_expr(baserel, tle->expr, false))
			refuse(CMD_UPDATE, relid,
				   psprintf("The new value of generated column \"%s\" cannot be computed on the data nodes.",
							tle->resname));
		*attnums = lappend_int(*attnums, tle->resno);
		exprs = lappend(exprs, tle->expr);
	}
	table_close(rel, NoLock);
	return exprs;
}

/*
 * The columns an UPDATE sets (*attnums) and their new values (returned),
 * which the data nodes must be able to compute.
 */
static List *
set_exprs(PlannerInfo *root, Index rtindex, const HdHypertable *ht,
		  RelOptInfo *baserel, List **attnums)
{
	Oid			relid = ht->relid;
	List	   *tlist;
	List	   *exprs = NIL;
	ListCell   *lc1,
			   *lc2;

	get_translated_update_targetlist(root, rtindex, &tlist, attnums);
	forboth(lc1, tlist, lc2, *attnums)
	{
		AttrNumber	attnum = lfirst_int(lc2);
		Expr	   *expr = lfirst_node(TargetEntry, lc1)->expr;

		if (is_dimension(ht, attnum))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot update partitioning column \"%s\" of distributed hypertable \"%s\"",
							get_attname(relid, attnum, false), get_rel_name(relid)),
					 errdetail("A row given another value could belong to another chunk, on other data nodes."),
					 errhint("Delete the rows and insert them again with the new values.")));
		if (!hd_is_foreign_expr(baserel, expr, false))
			refuse(CMD_UPDATE, relid,
				   psprintf("The new value of column \"%s\" cannot be computed on the data nodes.",
							get_attname(relid, attnum, false)));
		exprs = lappend(exprs, expr);
	}
	return add_generated(root, rtindex, baserel, relid, attnums, exprs);
}

/*
 * The scan's quals, which the data nodes must be able to evaluate.
 * Pseudoconstant quals are left to the Result above the scan.
 */
static List *
where_conds(RelOptInfo *baserel, CmdType operation, Oid relid)
{
	List	   *conds = NIL;
	ListCell   *lc;

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (ri->pseudoconstant)
			continue;
		if (!hd_is_foreign_expr(baserel, ri->clause, false))
			refuse(operation, relid,
				   "A condition of its WHERE clause cannot be evaluated on the data nodes.");
		conds = lappend(conds, ri->clause);
	}
	return conds;
}

/*
 * The RETURNING column list fetching the columns the local RETURNING list
 * reads (system columns are not fetched: tableoid is filled in here), and
 * their attribute numbers in *retrieved_attrs.
 */
static char *
deparse_returning(Oid relid, Index rtindex, List *returning_list,
				  List **retrieved_attrs)
{
	Bitmapset  *attrs_used = NULL;
	StringInfoData cols;

	pull_varattnos((Node *) returning_list, rtindex, &attrs_used);
	initStringInfo(&cols);
	hd_deparse_column_list(&cols, relid, attrs_used, retrieved_attrs);
	return cols.data;
}

/*
 * The scan under the ModifyTable, if it is a plain scan of the hypertable,
 * possibly under a Result checking the quals that read no column first;
 * with a join or a semi-join in between, rows would have to be chosen
 * here.
 */
static ForeignScan *
find_scan(ModifyTable *plan, Index rtindex)
{
	Plan	   *subplan = outerPlan(plan);

	if (IsA(subplan, Result) && outerPlan(subplan) != NULL)
		subplan = outerPlan(subplan);
	if (IsA(subplan, ForeignScan) &&
		((ForeignScan *) subplan)->scan.scanrelid == rtindex)
		return (ForeignScan *) subplan;
	return NULL;
}

/*
 * tlist with its expressions replaced by NULLs.  Nothing reads the output
 * of a direct modify's scan (RETURNING reads the row IterateDirectModify
 * stores), but the scan would still compute its target list, the new
 * values, on each row returned: on the new values, where 10 / (v - 5) can
 * fail once v is 5.
 */
static List *
null_targetlist(List *tlist)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = flatCopyTargetEntry(lfirst_node(TargetEntry, lc));
		Node	   *expr = (Node *) tle->expr;

		tle->expr = (Expr *) makeNullConst(exprType(expr), exprTypmod(expr),
										   exprCollation(expr));
		result = lappend(result, tle);
	}
	return result;
}

static bool
hd_plan_direct_modify(PlannerInfo *root, ModifyTable *plan,
					  Index resultRelation, int subplan_index)
{
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	CmdType		operation = plan->operation;
	HdHypertable *ht;
	ForeignScan *fscan;
	RelOptInfo *baserel;
	List	   *params_list = NIL;
	List	   *prune_exprs = NIL;
	List	   *prune_codes;
	List	   *retrieved_attrs = NIL;
	char	   *returning = "";
	List	   *attnums = NIL;
	List	   *exprs = NIL;
	List	   *conds;
	char	   *sql;

	if (operation != CMD_UPDATE && operation != CMD_DELETE)
		return false;
	/* foreign tables of data nodes: PlanForeignModify refuses them */
	ht = hd_hypertable_load(rte->relid);
	if (ht == NULL)
		return false;
	/* the planner proved no row can match: nothing to run anywhere */
	if (IsA(outerPlan(plan), Result) && outerPlan(outerPlan(plan)) == NULL)
		return true;

	fscan = find_scan(plan, resultRelation);
	if (fscan == NULL)
		refuse(operation, rte->relid,
			   "Its rows would have to be chosen on the access node: the statement joins other relations or has conditions that do not read its rows.");
	baserel = find_base_rel(root, resultRelation);

	if (operation == CMD_UPDATE)
		exprs = set_exprs(root, resultRelation, ht, baserel, &attnums);
	conds = where_conds(baserel, operation, rte->relid);
	sql = hd_deparse_direct_modify(operation, rte->relid, attnums, exprs,
								   conds, &params_list);
	/* computed when the modify begins, before InitPlans can be read */
	prune_codes = hd_prune_quals(NULL, baserel, ht, baserel->baserestrictinfo,
								 &prune_exprs);

	if (plan->returningLists != NIL)
		returning = deparse_returning(rte->relid, resultRelation,
									  list_nth(plan->returningLists, subplan_index),
									  &retrieved_attrs);

	/* the scan becomes the statement; its local quals were shipped too */
	fscan->operation = operation;
	fscan->resultRelation = resultRelation;
	fscan->scan.plan.qual = NIL;
	fscan->scan.plan.targetlist = null_targetlist(fscan->scan.plan.targetlist);
	if (IsA(outerPlan(plan), Result))
		outerPlan(plan)->targetlist = null_targetlist(outerPlan(plan)->targetlist);
	fscan->fdw_exprs = list_concat(params_list, prune_exprs);
	fscan->fdw_private = lappend(list_make5(makeString(sql),
											makeBoolean(conds != NIL),
											makeString(returning),
											retrieved_attrs,
											prune_codes),
								 makeBoolean(plan->canSetTag));
	return true;
}

/*
 * PostgreSQL 15 plans a direct modify only of a relation without stored
 * generated columns (make_modifytable), as it would compute them row by
 * row; here the data nodes compute them (add_generated).  So an UPDATE or
 * DELETE of a hypertable with such columns reaches PlanForeignModify, which
 * plans it as a direct modify all the same (true if it did), and once
 * planning is over hd_mark_direct_modifies tells the ModifyTable so.
 */
bool
hd_plan_generated_direct_modify(PlannerInfo *root, ModifyTable *plan,
								Index resultRelation, int subplan_index)
{
	if (plan->operation != CMD_UPDATE && plan->operation != CMD_DELETE)
		return false;
	if (plan->withCheckOptionLists != NIL ||
		has_row_triggers(root, resultRelation, plan->operation) ||
		!has_stored_generated_columns(root, resultRelation))
		return false;
	return hd_plan_direct_modify(root, plan, resultRelation, subplan_index);
}

/*
 * Marks plan's hypertables that hd_plan_direct_modify planned as direct
 * modifies: it made the scan the statement, or found nothing to run (the
 * scan is then a Result without input).
 */
static void
mark_direct_modify(Plan *plan, List *rtable)
{
	ModifyTable *mt = (ModifyTable *) plan;
	ListCell   *lc;

	if (!IsA(plan, ModifyTable) ||
		(mt->operation != CMD_UPDATE && mt->operation != CMD_DELETE))
		return;
	foreach(lc, mt->resultRelations)
	{
		Index		rti = lfirst_int(lc);
		ForeignScan *fscan = find_scan(mt, rti);
		Plan	   *subplan = outerPlan(plan);

		if (!hd_is_dist_hypertable(rt_fetch(rti, rtable)->relid))
			continue;
		if ((fscan != NULL && fscan->operation == mt->operation) ||
			(IsA(subplan, Result) && outerPlan(subplan) == NULL))
			mt->fdwDirectModifyPlans = bms_add_member(mt->fdwDirectModifyPlans,
													  foreach_current_index(lc));
	}
}

/* A ModifyTable is the top of the plan or of a data-modifying CTE's. */
void
hd_mark_direct_modifies(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (stmt->planTree != NULL)
		mark_direct_modify(stmt->planTree, stmt->rtable);
	foreach(lc, stmt->subplans)
	{
		if (lfirst(lc) != NULL)
			mark_direct_modify(lfirst(lc), stmt->rtable);
	}
}

/* The nodes' statements, one per entry of the write plan writes. */
static void
plan_statements(HdDirectModifyState *state, List *fdw_private, List *writes)
{
	char	   *returning = strVal(list_nth(fdw_private, HdDmPrivateReturning));
	ListCell   *lc;

	state->nnodes = list_length(writes);
	state->nodes = palloc0(sizeof(HdNodeModify) * Max(state->nnodes, 1));
	foreach(lc, writes)
	{
		HdNodeRead *write = lfirst(lc);
		HdNodeModify *n = &state->nodes[foreach_current_index(lc)];

		n->serverid = write->serverid;
		n->nchunks = list_length(write->chunks);
		n->sql = hd_deparse_node_modify(strVal(list_nth(fdw_private, HdDmPrivateSql)),
										boolVal(list_nth(fdw_private, HdDmPrivateHasWhere)),
										returning, write);
		n->counted = write->primaries != NIL;
		n->returns_rows = n->counted && returning[0] != '\0';
	}
}

/*
 * Opens the nodes' sessions in the transaction; false if a node cannot be
 * reached, which is then down for the statement.
 */
static bool
connect_nodes(HdDirectModifyState *state, HdDownNodes *down)
{
	bool		reached = true;

	for (int i = 0; i < state->nnodes; i++)
	{
		HdNodeModify *n = &state->nodes[i];

		n->conn = hd_conn_try_get(n->serverid, true);
		if (n->conn == NULL)
		{
			hd_node_set_down(down, n->serverid);
			reached = false;
		}
	}
	return reached;
}

/*
 * The nodes' statements, for the chunks that exist now and the pruning
 * quals' values of this execution (prune_exprs: ExprStates).  Every usable
 * replica of the chunks the statement may change gets it; current
 * replicas that are not usable are marked stale.  A node that
 * cannot be reached when its session opens is not usable either: the plan
 * is made again without it.  Plain EXPLAIN shows the statements, and
 * neither marks replicas nor opens sessions.
 */
static void
plan_nodes(HdDirectModifyState *state, ForeignScanState *node,
		   List *prune_exprs, bool explain_only)
{
	ForeignScan *fsplan = castNode(ForeignScan, node->ss.ps.plan);
	List	   *fdw_private = fsplan->fdw_private;
	HdHypertable *ht = hd_hypertable_load(RelationGetRelid(state->rel));
	HdChunkPrune prune;
	HdDownNodes down = {0};

	hd_prune_compute(&prune, ht, list_nth(fdw_private, HdDmPrivatePruneCodes),
					 prune_exprs, node->ss.ps.ps_ExprContext);
	if (!explain_only)
		hd_inval_record_pruned(ht, &prune);
	do
		plan_statements(state, fdw_private,
						hd_chunk_write_plan(ht, &prune, &down, !explain_only));
	while (!explain_only && !connect_nodes(state, &down));
}

/* RETURNING rows come in text, read with the columns' input functions. */
static void
prepare_returning(HdDirectModifyState *state, List *retrieved_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(state->rel);
	int			n = list_length(retrieved_attrs);
	ListCell   *lc;

	state->nretrieved = n;
	state->ncolumns = Max(n, 1);
	state->attnums = palloc(sizeof(AttrNumber) * Max(n, 1));
	state->in_funcs = palloc(sizeof(FmgrInfo) * Max(n, 1));
	state->typioparams = palloc(sizeof(Oid) * Max(n, 1));
	state->fields = palloc(sizeof(char *) * state->ncolumns);
	foreach(lc, retrieved_attrs)
	{
		int			i = foreach_current_index(lc);
		Oid			func;

		state->attnums[i] = lfirst_int(lc);
		getTypeInputInfo(TupleDescAttr(tupdesc, state->attnums[i] - 1)->atttypid,
						 &func, &state->typioparams[i]);
		fmgr_info(func, &state->in_funcs[i]);
	}
}

static void
hd_begin_direct_modify(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = castNode(ForeignScan, node->ss.ps.plan);
	List	   *fdw_private = fsplan->fdw_private;
	int			nprune = list_length(list_nth(fdw_private, HdDmPrivatePruneCodes));
	int			nparams = list_length(fsplan->fdw_exprs) - nprune;
	HdDirectModifyState *state = palloc0(sizeof(HdDirectModifyState));

	state->rel = node->ss.ss_currentRelation;
	state->cxt = CurrentMemoryContext;
	state->set_processed = boolVal(list_nth(fdw_private, HdDmPrivateSetProcessed));
	hd_params_init(&state->params, list_copy_head(fsplan->fdw_exprs, nparams),
				   (PlanState *) node);
	prepare_returning(state, list_nth(fdw_private, HdDmPrivateRetrievedAttrs));
	plan_nodes(state, node,
			   ExecInitExprList(list_copy_tail(fsplan->fdw_exprs, nparams),
								(PlanState *) node),
			   (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0);
	node->fdw_state = state;
}

/*
 * Sends every node its statement, so that all work at once, then waits
 * for those that return no rows and counts theirs.  A statement returning
 * rows goes as a Query, which is marked as a write: the node then commits
 * with two-phase commit.
 */
static void
execute(HdDirectModifyState *state, ExprContext *econtext)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(state->cxt);
	HdRequestSet *set = hd_reqset_create();

	hd_params_compute(&state->params, econtext);
	for (int i = 0; i < state->nnodes; i++)
	{
		HdNodeModify *n = &state->nodes[i];

		if (!n->returns_rows)
		{
			(void) hd_reqset_exec(set, n->conn, n->sql, state->params.n,
								  state->params.types, state->params.values);
			continue;
		}
		n->stream = hd_reqset_stream(set,
									 hd_reqset_query(set, n->conn, n->sql,
													 state->params.n,
													 state->params.types,
													 state->params.values,
													 HD_ROWS_TEXT));
		hd_conn_mark_written(n->conn);
	}
	hd_reqset_wait(set);
	/* one request per node, in the order of nodes */
	for (int i = 0; i < state->nnodes; i++)
	{
		if (!state->nodes[i].returns_rows && state->nodes[i].counted)
			state->processed += hd_reqset_rows(set, i);
	}
	state->executed = true;
	MemoryContextSwitchTo(oldcxt);
}

/* The next RETURNING row into slot; false after the last one. */
static bool
next_returned_row(HdDirectModifyState *state, TupleTableSlot *slot)
{
	TupleDesc	tupdesc = slot->tts_tupleDescriptor;

	for (; state->cur < state->nnodes; state->cur++)
	{
		HdNodeModify *n = &state->nodes[state->cur];

		if (n->stream == NULL)
			continue;
		if (hd_stream_next_text_row(n->stream, state->fields, state->ncolumns))
			break;
		hd_stream_close(n->stream);
		n->stream = NULL;
	}
	if (state->cur == state->nnodes)
		return false;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * tupdesc->natts);
	for (int i = 0; i < state->nretrieved; i++)
	{
		AttrNumber	attnum = state->attnums[i];

		slot->tts_values[attnum - 1] =
			InputFunctionCall(&state->in_funcs[i], state->fields[i],
							  state->typioparams[i],
							  TupleDescAttr(tupdesc, attnum - 1)->atttypmod);
		slot->tts_isnull[attnum - 1] = state->fields[i] == NULL;
	}
	ExecStoreVirtualTuple(slot);
	slot->tts_tableOid = RelationGetRelid(state->rel);
	return true;
}

static TupleTableSlot *
hd_iterate_direct_modify(ForeignScanState *node)
{
	HdDirectModifyState *state = node->fdw_state;
	EState	   *estate = node->ss.ps.state;
	ResultRelInfo *rinfo = node->resultRelInfo;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!state->executed)
		execute(state, node->ss.ps.ps_ExprContext);

	if (rinfo->ri_projectReturning == NULL)
	{
		if (state->set_processed)
			estate->es_processed += state->processed;
		if (node->ss.ps.instrument != NULL)
			node->ss.ps.instrument->tuplecount += state->processed;
		return ExecClearTuple(slot);
	}

	if (!next_returned_row(state, slot))
		return ExecClearTuple(slot);
	if (state->set_processed)
		estate->es_processed++;
	/* the row RETURNING reads */
	rinfo->ri_projectReturning->pi_exprContext->ecxt_scantuple = slot;
	return slot;
}

static void
hd_end_direct_modify(ForeignScanState *node)
{
	HdDirectModifyState *state = node->fdw_state;

	if (state == NULL)
		return;
	for (int i = 0; i < state->nnodes; i++)
	{
		if (state->nodes[i].stream != NULL)
			hd_stream_close(state->nodes[i].stream);
		state->nodes[i].stream = NULL;
	}
}

/* EXPLAIN: each data node, its number of chunks, with VERBOSE its SQL. */
static void
hd_explain_direct_modify(ForeignScanState *node, ExplainState *es)
{
	HdDirectModifyState *state = node->fdw_state;

	if (state->nnodes == 0)
	{
		ExplainPropertyText("Data nodes", "none", es);
		return;
	}
	for (int i = 0; i < state->nnodes; i++)
	{
		HdNodeModify *n = &state->nodes[i];

		ExplainOpenGroup("Data Node", NULL, true, es);
		ExplainPropertyText("Data node",
							GetForeignServer(n->serverid)->servername, es);
		if (es->format == EXPLAIN_FORMAT_TEXT)
			es->indent++;
		ExplainPropertyInteger("Chunks", NULL, n->nchunks, es);
		if (es->verbose)
			ExplainPropertyText("Remote SQL", n->sql, es);
		if (es->format == EXPLAIN_FORMAT_TEXT)
			es->indent--;
		ExplainCloseGroup("Data Node", NULL, true, es);
	}
}

/*
 * The executor takes UPDATE and DELETE only from wrappers that have these
 * (CheckValidResultRel), even when the data nodes do the work; a plan that
 * would call them is refused when it is made.
 */
static TupleTableSlot *
hd_exec_foreign_update_delete(EState *estate, ResultRelInfo *rinfo,
							  TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	elog(ERROR, "distributed hypertables are updated only by the data nodes");
	return NULL;				/* keep compiler quiet */
}

void
hd_fdw_set_direct_modify_routines(FdwRoutine *routine)
{
	routine->PlanDirectModify = hd_plan_direct_modify;
	routine->BeginDirectModify = hd_begin_direct_modify;
	routine->IterateDirectModify = hd_iterate_direct_modify;
	routine->EndDirectModify = hd_end_direct_modify;
	routine->ExplainDirectModify = hd_explain_direct_modify;
	routine->ExecForeignUpdate = hd_exec_foreign_update_delete;
	routine->ExecForeignDelete = hd_exec_foreign_update_delete;
}
