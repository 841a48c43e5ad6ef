/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/on_conflict.c — INSERT ... ON CONFLICT with an arbiter on distributed
 * hypertables.
 *
 * Unique indexes of a distributed hypertable exist only on the data nodes
 * (a foreign table cannot have one), so the planner's arbiter inference
 * would fail on the access node ("there is no unique or exclusion
 * constraint matching the ON CONFLICT specification").  A planner hook
 * therefore deparses the statement's ON CONFLICT clause (arbiter, SET and
 * WHERE, with EXCLUDED references) from the parse tree, checks that it can
 * run on a data node unchanged, removes the inference specification and
 * plans the rest.  PlanForeignModify (fdw/modify.c) then takes the clause
 * and ingest/insert.c appends it to every batch's INSERT, so the data node's own
 * unique index arbitrates.
 *
 * ON CONFLICT ON CONSTRAINT name is resolved in parse analysis, before any
 * hook runs, by looking name up among the target's constraints.  The
 * foreign table therefore carries, for each unique, primary key and
 * exclusion constraint of the data nodes, a constraint of the same name
 * that stands for it (see "constraint mirrors" in ddl/utility.c).  Parse
 * analysis finds that one; here it is deparsed by name like any arbiter
 * and then removed, since it has no index on the access node.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/transam.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "ingest/on_conflict.h"
#include "metadata/hypertable.h"

/* The clause deparsed for the statement being planned, for its relid. */
static char *pending_clause = NULL;
static char *pending_alias = NULL;
static Oid	pending_relid = InvalidOid;

static bool
not_builtin(Oid funcid, void *context)
{
	return funcid >= FirstGenbkiObjectId;
}

static bool
unshippable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	/* parameters and subqueries would not mean the same on a data node */
	if (IsA(node, Param) || IsA(node, SubLink) || IsA(node, SubPlan) ||
		IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, GroupingFunc))
		return true;
	if (check_functions_in_node(node, not_builtin, NULL))
		return true;
	return expression_tree_walker(node, unshippable_walker, context);
}

static void
check_shippable(Node *expr, const char *what, Oid relid)
{
	if (expr == NULL)
		return;
	if (unshippable_walker(expr, NULL) || contain_mutable_functions(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s of INSERT ... ON CONFLICT on distributed hypertable \"%s\" cannot be shipped to the data nodes",
						what, get_rel_name(relid)),
				 errdetail("Only column references, EXCLUDED columns, constants and built-in immutable functions and operators run on the data nodes."),
				 errhint("Compute the value in the inserted rows instead.")));
}

/*
 * A DO UPDATE that changed the time or space column would have to move the
 * row to another chunk, possibly on another node: refused as on a
 * partitioned table, but before anything is sent.
 */
static void
check_set_targets(Query *parse, Oid relid)
{
	HdHypertable *ht = hd_hypertable_load(relid);
	ListCell   *lc;

	foreach(lc, parse->onConflict->onConflictSet)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (tle->resno == ht->time.attnum ||
			(ht->has_space && tle->resno == ht->space.attnum))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ON CONFLICT DO UPDATE cannot set partitioning column \"%s\" of distributed hypertable \"%s\"",
							tle->resname, get_rel_name(relid)),
					 errdetail("The row would have to move to another chunk.")));
	}
}

/*
 * The SET list's additions for the stored generated columns it makes
 * stale, which the data nodes compute (deparse/query.c); the planner keeps
 * the list as it was.
 */
static List *
generated_set_list(Query *parse)
{
	RangeTblEntry *rte = rt_fetch(parse->resultRelation, parse->rtable);
	Relation	rel = table_open(rte->relid, NoLock);
	List	   *result = hd_generated_set_list(rel, parse->resultRelation, rte,
											   parse->onConflict->onConflictSet);
	ListCell   *lc;

	table_close(rel, NoLock);
	foreach(lc, result)
		check_shippable((Node *) lfirst_node(TargetEntry, lc)->expr,
						"the expression of a generated column", rte->relid);
	return result;
}

static bool
needs_clause(Query *parse)
{
	return parse->commandType == CMD_INSERT &&
		parse->onConflict != NULL &&
		(parse->onConflict->arbiterElems != NIL ||
		 OidIsValid(parse->onConflict->constraint)) &&
		hd_is_dist_hypertable(rt_fetch(parse->resultRelation, parse->rtable)->relid);
}

/*
 * Only the top-level statement's clause is carried to PlanForeignModify;
 * a data-modifying WITH would otherwise fail in arbiter inference with a
 * misleading message.
 */
static void
check_ctes(Query *parse)
{
	ListCell   *lc;

	foreach(lc, parse->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);

		if (IsA(cte->ctequery, Query) && needs_clause((Query *) cte->ctequery))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("INSERT ... ON CONFLICT with a conflict target on distributed hypertable \"%s\" is not supported in WITH",
							get_rel_name(rt_fetch(((Query *) cte->ctequery)->resultRelation,
												  ((Query *) cte->ctequery)->rtable)->relid)),
					 errhint("Run the INSERT as a statement of its own.")));
	}
}

static void
prepare_clause(Query *parse)
{
	OnConflictExpr *oc = parse->onConflict;
	RangeTblEntry *rte = rt_fetch(parse->resultRelation, parse->rtable);
	List	   *set;
	ListCell   *lc;

	if (oc->action == ONCONFLICT_UPDATE)
		check_set_targets(parse, rte->relid);
	check_shippable((Node *) oc->arbiterElems, "the conflict target", rte->relid);
	check_shippable(oc->arbiterWhere, "the conflict target's WHERE", rte->relid);
	foreach(lc, oc->onConflictSet)
		check_shippable((Node *) ((TargetEntry *) lfirst(lc))->expr,
						"the SET expression", rte->relid);
	check_shippable(oc->onConflictWhere, "the WHERE condition", rte->relid);

	set = oc->onConflictSet;
	if (oc->action == ONCONFLICT_UPDATE)
		oc->onConflictSet = list_concat_copy(set, generated_set_list(parse));
	pending_clause = hd_deparse_on_conflict(parse);
	oc->onConflictSet = set;
	pending_alias = rte->alias ? pstrdup(rte->alias->aliasname) : NULL;
	pending_relid = rte->relid;

	/* the data node's index arbitrates; nothing to infer here */
	oc->arbiterElems = NIL;
	oc->arbiterWhere = NULL;
	oc->constraint = InvalidOid;
}

PlannedStmt *
hd_conflict_planner(Query *parse, const char *query_string, int cursorOptions,
					ParamListInfo boundParams, planner_hook_type next)
{
	char	   *saved_clause = pending_clause;
	char	   *saved_alias = pending_alias;
	Oid			saved_relid = pending_relid;
	PlannedStmt *result;

	pending_clause = NULL;
	pending_alias = NULL;
	pending_relid = InvalidOid;
	PG_TRY();
	{
		check_ctes(parse);
		if (needs_clause(parse))
			prepare_clause(parse);
		result = next(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		pending_clause = saved_clause;
		pending_alias = saved_alias;
		pending_relid = saved_relid;
	}
	PG_END_TRY();
	return result;
}

const char *
hd_conflict_clause(Oid relid, const char **alias)
{
	if (pending_clause == NULL || pending_relid != relid)
		return NULL;
	*alias = pending_alias;
	return pending_clause;
}
