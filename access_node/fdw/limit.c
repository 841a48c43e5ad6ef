/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/limit.c — DISTINCT [ON] and ORDER BY ... LIMIT shipped with a scan.
 *
 * When a query reads only a distributed hypertable, every qual ships and
 * nothing is computed between the scan and the DISTINCT [ON] or LIMIT (no
 * grouping, window, set operation, set-returning function or row lock),
 * each data node can apply them to its own rows first: the node's first
 * n rows in the query's order include every row of the global first n
 * that lives there, its first row of each DISTINCT ON group is the global
 * first or loses to another node's, and removing its duplicate rows loses
 * no distinct value.  The access node still sorts, de-duplicates and
 * limits what comes back, which is now at most n rows (or one per group)
 * per node.  LIMIT n OFFSET m ships as LIMIT n + m.
 */
#include "postgres.h"

#include "catalog/pg_am.h"
#include "catalog/pg_opclass.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/tlist.h"
#include "common/int.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "fdw/fdw.h"
#include "fdw/limit.h"

/* Whether nothing but a scan of baserel stands below DISTINCT and LIMIT. */
static bool
plain_scan_query(PlannerInfo *root, RelOptInfo *baserel)
{
	Query	   *parse = root->parse;
	HdFdwRelInfo *info = baserel->fdw_private;

	return parse->commandType == CMD_SELECT &&
		bms_equal(root->all_baserels, baserel->relids) &&
		info->local_conds == NIL &&
		!parse->hasAggs && parse->groupClause == NIL &&
		parse->groupingSets == NIL && parse->havingQual == NULL &&
		!parse->hasWindowFuncs && !parse->hasTargetSRFs &&
		parse->setOperations == NULL && parse->rowMarks == NIL;
}

/*
 * The count of rows the LIMIT keeps plus those OFFSET skips, or -1 when
 * there is no LIMIT, it is not a constant, or it keeps ties.
 */
static int64
limit_rows(Query *parse)
{
	Const	   *count = (Const *) parse->limitCount;
	Const	   *offset = (Const *) parse->limitOffset;
	int64		n;

	if (count == NULL || !IsA(count, Const) || count->constisnull ||
		parse->limitOption != LIMIT_OPTION_COUNT)
		return -1;
	n = DatumGetInt64(count->constvalue);
	if (offset != NULL)
	{
		if (!IsA(offset, Const))
			return -1;
		if (!offset->constisnull &&
			pg_add_s64_overflow(n, DatumGetInt64(offset->constvalue), &n))
			return -1;
	}
	return Max(n, 0);
}

/*
 * Whether a data node sorts by sgc as the access node does: a shippable
 * expression, ordered by its type's default btree operator class (the
 * collation is the expression's, which hd_is_foreign_expr vouches for).
 */
static bool
shippable_sort(RelOptInfo *baserel, SortGroupClause *sgc, Expr *expr)
{
	Oid			opfamily;
	Oid			opcintype;
	int16		strategy;
	Oid			opclass;

	if (!hd_is_foreign_expr(baserel, expr, false) ||
		!get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype,
									&strategy))
		return false;
	opclass = GetDefaultOpClass(exprType((Node *) expr), BTREE_AM_OID);
	return OidIsValid(opclass) && get_opclass_family(opclass) == opfamily;
}

/* The expressions of clauses, NIL when one cannot be shipped. */
static List *
shippable_exprs(PlannerInfo *root, RelOptInfo *baserel, List *clauses,
				bool sorting)
{
	List	   *exprs = NIL;
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		Expr	   *expr = (Expr *) get_sortgroupclause_expr(sgc,
															 root->parse->targetList);

		if (sorting ? !shippable_sort(baserel, sgc, expr) :
			!hd_is_foreign_expr(baserel, expr, false))
			return NIL;
		exprs = lappend(exprs, expr);
	}
	return exprs;
}

/* Whether the DISTINCT list is the scan's columns, each a plain column. */
static bool
distinct_on_columns_sent(PlannerInfo *root, RelOptInfo *baserel)
{
	List	   *exprs = get_sortgrouplist_exprs(root->parse->distinctClause,
												root->parse->targetList);
	ListCell   *lc;

	foreach(lc, exprs)
	{
		if (!IsA(lfirst(lc), Var))
			return false;
	}
	foreach(lc, baserel->reltarget->exprs)
	{
		if (!list_member(exprs, lfirst(lc)))
			return false;
	}
	return true;
}

HdRemoteLimit *
hd_remote_limit(PlannerInfo *root, RelOptInfo *baserel)
{
	Query	   *parse = root->parse;
	HdRemoteLimit *rl;

	if (!plain_scan_query(root, baserel))
		return NULL;

	rl = palloc0(sizeof(HdRemoteLimit));
	rl->limit = limit_rows(parse);
	if (parse->hasDistinctOn)
	{
		rl->distinct_on = shippable_exprs(root, baserel, parse->distinctClause,
										  false);
		if (rl->distinct_on == NIL)
			return NULL;
	}
	else if (parse->distinctClause != NIL)
	{
		/*
		 * Plain DISTINCT: the data node de-duplicates the rows of the columns
		 * it sends, from which the access node computes the DISTINCT
		 * expressions, so no distinct value is lost.  Its LIMIT would count
		 * those rows, not distinct values, unless they are the same thing:
		 * the DISTINCT list is exactly the columns sent.
		 */
		rl->distinct = true;
		if (!distinct_on_columns_sent(root, baserel))
			rl->limit = -1;
	}
	if (rl->limit < 0 && rl->distinct_on == NIL && !rl->distinct)
		return NULL;

	/* the order matters to a LIMIT or DISTINCT ON only */
	if (rl->limit < 0 && rl->distinct_on == NIL)
		return rl;
	rl->sort_clauses = parse->sortClause;
	rl->sort_exprs = shippable_exprs(root, baserel, parse->sortClause, true);
	if (parse->sortClause != NIL && rl->sort_exprs == NIL)
		return NULL;
	return rl;
}
