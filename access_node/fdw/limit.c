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
 *
 * DISTINCT ON (k) ... ORDER BY k, <rest> with many rows per key (the
 * lastpoint query: the newest row of each host) is shipped as a skip scan:
 * a recursive walk of the distinct keys, one index descent each, and for
 * each key its first row by <rest> (deparse/query.c), so a node reads one
 * row per key rather than all of them.  It returns the rows DISTINCT ON
 * would, the NULL key's group included; the data node's planner chooses
 * the indexes, and without one the SQL is merely slower.  ANALYZE's
 * statistics decide: with few rows per key the plain DISTINCT ON is
 * cheaper (hyperdist.enable_skip_scan turns the walk off).
 *
 * Grouped, the data nodes' partial aggregation (fdw/grouping.c) can keep
 * its first n groups when ORDER BY orders groups totally: it is the
 * grouping keys, all of them.  A group among the global first n is then
 * among the first n of every node holding rows of it, as no group of that
 * node sorts before it that is not also before it globally, so each of its
 * partial states comes back whole.  Were ORDER BY an aggregate or a part of
 * the keys, a node could cut a group the access node needs.  Nothing may
 * stand between the grouping and the LIMIT: no HAVING, window function,
 * DISTINCT or set-returning function.
 *
 * The node still reads every row it aggregates, unless it knows where the
 * first groups end: grouped by date_bin(<constant>, <column>, <constant>)
 * alone (time_bucket without months is inlined as that), ordered
 * descending, over a NOT NULL column, the node's n newest buckets are its
 * rows from the start of the n-th newest one on, which a walk of n
 * descents of an index on the column finds (deparse/query.c), so a node
 * reads only its newest chunks.
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/transam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opclass.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/tlist.h"
#include "common/int.h"
#include "parser/parsetree.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "deparse/deparse.h"
#include "fdw/fdw.h"
#include "fdw/limit.h"
#include "guc.h"

/*
 * Rows per key from which DISTINCT ON walks the keys: each key costs the
 * walk a few index descents in each chunk of a node, each about as dear as
 * reading ten rows in order, where the plain DISTINCT ON reads them all.
 */
#define HD_SKIP_SCAN_ROWS_PER_KEY 100

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

/*
 * Whether ORDER BY is the grouping keys, all of them, each sorted as a data
 * node sorts it and grouped by an equality of the same order, so that it
 * orders groups totally.
 */
static bool
sorts_every_group(PlannerInfo *root, RelOptInfo *scanrel)
{
	Query	   *parse = root->parse;
	ListCell   *lc;

	foreach(lc, parse->sortClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		SortGroupClause *group = get_sortgroupref_clause_noerr(sgc->tleSortGroupRef,
															   parse->groupClause);
		Oid			opfamily;
		Oid			opcintype;
		int16		strategy;

		if (group == NULL ||
			!shippable_sort(scanrel, sgc,
							(Expr *) get_sortgroupclause_expr(sgc, parse->targetList)) ||
			!get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype,
										&strategy) ||
			!op_in_opfamily(group->eqop, opfamily))
			return false;
	}
	foreach(lc, parse->groupClause)
	{
		SortGroupClause *group = lfirst_node(SortGroupClause, lc);

		if (get_sortgroupref_clause_noerr(group->tleSortGroupRef,
										  parse->sortClause) == NULL)
			return false;
	}
	return true;
}

int64
hd_remote_group_limit(PlannerInfo *root, RelOptInfo *scanrel)
{
	Query	   *parse = root->parse;

	if (parse->groupClause == NIL || parse->havingQual != NULL ||
		parse->distinctClause != NIL || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || parse->setOperations != NULL ||
		!bms_equal(root->all_baserels, scanrel->relids) ||
		!sorts_every_group(root, scanrel))
		return -1;
	return limit_rows(parse);
}

/* Whether column attnum of relid is declared NOT NULL. */
static bool
column_not_null(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									  Int16GetDatum(attnum));
	bool		notnull;

	if (!HeapTupleIsValid(tup))
		return false;
	notnull = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
	ReleaseSysCache(tup);
	return notnull;
}

Var *
hd_newest_buckets_column(PlannerInfo *root, RelOptInfo *scanrel)
{
	Query	   *parse = root->parse;
	SortGroupClause *sgc;
	FuncExpr   *bucket;
	Var		   *column;
	Oid			opfamily;
	Oid			opcintype;
	int16		strategy;

	if (list_length(parse->groupClause) != 1)
		return NULL;
	sgc = linitial(parse->sortClause);
	bucket = (FuncExpr *) get_sortgroupclause_expr(sgc, parse->targetList);
	if (!IsA(bucket, FuncExpr) ||
		(bucket->funcid != F_DATE_BIN_INTERVAL_TIMESTAMPTZ_TIMESTAMPTZ &&
		 bucket->funcid != F_DATE_BIN_INTERVAL_TIMESTAMP_TIMESTAMP) ||
		!IsA(linitial(bucket->args), Const) ||
		!IsA(lthird(bucket->args), Const) ||
		!get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype,
									&strategy) ||
		strategy != BTGreaterStrategyNumber)
		return NULL;
	column = lsecond(bucket->args);
	if (!IsA(column, Var) ||
		!column_not_null(planner_rt_fetch(scanrel->relid, root)->relid,
						 column->varattno))
		return NULL;
	return column;
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

/*
 * Whether a data node can walk the keys of column key in the order of its
 * type's default btree operator class with the built-in operators "<",
 * "=" and ">" the SQL of the skip scan names.
 */
static bool
walkable_key(Var *key)
{
	static const struct
	{
		int16		strategy;
		const char *name;
	}			ops[] = {
		{BTLessStrategyNumber, "<"},
		{BTEqualStrategyNumber, "="},
		{BTGreaterStrategyNumber, ">"},
	};
	Oid			opclass = GetDefaultOpClass(key->vartype, BTREE_AM_OID);
	Oid			opfamily;
	Oid			opcintype;

	if (!OidIsValid(opclass))
		return false;
	opfamily = get_opclass_family(opclass);
	opcintype = get_opclass_input_type(opclass);
	for (int i = 0; i < lengthof(ops); i++)
	{
		Oid			op = get_opfamily_member(opfamily, opcintype, opcintype,
											 ops[i].strategy);

		if (!OidIsValid(op) || op >= FirstGenbkiObjectId ||
			strcmp(get_opname(op), ops[i].name) != 0)
			return false;
	}
	return true;
}

/*
 * Whether the statistics of key (ANALYZE, fdw/analyze.c) show at least
 * HD_SKIP_SCAN_ROWS_PER_KEY rows per distinct value.
 */
static bool
few_keys(PlannerInfo *root, RelOptInfo *baserel, Var *key)
{
	VariableStatData vardata;
	double		ndistinct;
	bool		isdefault;

	if (baserel->tuples <= 0)
		return false;
	examine_variable(root, (Node *) key, 0, &vardata);
	ndistinct = get_variable_numdistinct(&vardata, &isdefault);
	ReleaseVariableStats(vardata);
	return !isdefault &&
		ndistinct * HD_SKIP_SCAN_ROWS_PER_KEY <= baserel->tuples;
}

/*
 * Whether DISTINCT ON (k) ... ORDER BY k, <columns> is better run as a walk
 * of the keys (hd_deparse_skip_scan): k a column with few distinct values,
 * the ORDER BY plain columns, which the walk's UNION returns.
 */
static bool
skip_scan_wins(PlannerInfo *root, RelOptInfo *baserel, HdRemoteLimit *rl)
{
	Var		   *key = linitial(rl->distinct_on);
	ListCell   *lc;

	if (!hd_enable_skip_scan || list_length(rl->distinct_on) != 1 ||
		!IsA(key, Var))
		return false;
	foreach(lc, rl->sort_exprs)
	{
		if (!IsA(lfirst(lc), Var))
			return false;
	}
	return walkable_key(key) && few_keys(root, baserel, key);
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
	rl->skip_scan = rl->distinct_on != NIL &&
		skip_scan_wins(root, baserel, rl);
	return rl;
}
