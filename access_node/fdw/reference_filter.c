/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/reference_filter.c — filters through reference tables, shipped to
 * the data nodes.
 *
 * A query of a distributed hypertable often chooses its rows through a
 * small table: TSBS's tags mode writes
 *		WHERE tags_id IN (SELECT id FROM tags WHERE hostname IN (...))
 * or joins `tags` and filters it.  PostgreSQL plans either as a join on
 * the access node, so the scan of the hypertable ships no condition on
 * tags_id and every row of the time range crosses the network.  When the
 * small table is a reference table (create_reference_table), each such
 * filter is given to the scan in a form it can ship: the reference
 * table's matching keys, read here once per statement as an InitPlan, in
 * an array parameter:
 *
 *	 1. `x op ANY (SELECT k FROM ref ...)` (IN), a conjunct of WHERE, is
 *		replaced by `x op ANY (ARRAY(SELECT k FROM ref ...))`: the same
 *		rows, since in WHERE a NULL result rejects the row as false does
 *		(a semi-join returns each row of the left side once, as a filter);
 *	 2. an inner join `x op ref.k` with conditions on ref alone, Q(ref),
 *		gains the conjunct `x op ANY (ARRAY(SELECT ref.k FROM ref WHERE
 *		Q(ref)))`: every row the join keeps satisfies it (its ref row is
 *		in the array), so it only drops rows the join would drop.  The
 *		join itself still runs here, on the rows the data nodes kept.
 *
 * x reads only distributed hypertables' columns, so the scan ships the
 * condition with the array as a parameter (fdw/scan.c computes the
 * InitPlan's value when the scan starts).  Only subqueries over reference
 * tables alone qualify: they are declared small, and read here, on the
 * access node's copy, so the array stays small and costs one local scan.
 * Subqueries with volatile functions or reading the outer query are left
 * alone (the array must have one value for the statement).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "fdw/reference_filter.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"

static bool
has_outer_var(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup != 0;
	return expression_tree_walker(node, has_outer_var, context);
}

/* Does expr read columns of this query level's distributed hypertables only? */
static bool
reads_only_hypertables(Query *q, Node *expr)
{
	List	   *vars;
	ListCell   *lc;

	/* pull_var_clause takes neither subqueries nor outer columns */
	if (checkExprHasSubLink(expr) || has_outer_var(expr, NULL) ||
		contain_volatile_functions(expr))
		return false;
	vars = pull_var_clause(expr, PVC_RECURSE_AGGREGATES |
						   PVC_RECURSE_WINDOWFUNCS |
						   PVC_RECURSE_PLACEHOLDERS);
	if (vars == NIL)
		return false;
	foreach(lc, vars)
	{
		Var		   *var = lfirst_node(Var, lc);
		RangeTblEntry *rte = rt_fetch(var->varno, q->rtable);

		if (rte->rtekind != RTE_RELATION || !hd_is_dist_hypertable(rte->relid))
			return false;
	}
	return true;
}

/*
 * A subquery whose value is the same for the whole statement and that
 * reads reference tables only.
 */
static bool
over_reference_tables(Query *sub)
{
	ListCell   *lc;

	if (sub->commandType != CMD_SELECT || sub->rtable == NIL ||
		sub->hasModifyingCTE || sub->rowMarks != NIL ||
		contain_vars_of_level((Node *) sub, 1) ||
		contain_volatile_functions((Node *) sub))
		return false;
	foreach(lc, sub->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION ||
			!hd_catalog_is_reference_table(rte->relid))
			return false;
	}
	return true;
}

/*
 * `x op ANY (ARRAY(sub))`, sub's one column of op's right input type;
 * NULL when that type has no array type.
 */
static Expr *
any_of_array(Oid opno, Oid inputcollid, Node *x, Query *sub)
{
	Node	   *key = (Node *) linitial_node(TargetEntry, sub->targetList)->expr;
	SubLink    *array;
	ScalarArrayOpExpr *saop;

	if (!OidIsValid(get_array_type(exprType(key))))
		return NULL;
	array = makeNode(SubLink);
	array->subLinkType = ARRAY_SUBLINK;
	array->subselect = (Node *) sub;
	array->location = -1;

	saop = makeNode(ScalarArrayOpExpr);
	saop->opno = opno;
	saop->opfuncid = get_opcode(opno);
	saop->useOr = true;
	saop->inputcollid = inputcollid;
	saop->args = list_make2(x, array);
	saop->location = -1;
	return (Expr *) saop;
}

/* A strict comparison `a op b` returning boolean: what ANY needs. */
static bool
usable_comparison(Node *node)
{
	OpExpr	   *op;

	if (!IsA(node, OpExpr))
		return false;
	op = (OpExpr *) node;
	return list_length(op->args) == 2 && !op->opretset &&
		op->opresulttype == BOOLOID && func_strict(op->opfuncid);
}

/* Case 1: `x op ANY (SELECT ...)` over reference tables, or NULL. */
static Expr *
filter_of_in_sublink(Query *q, Node *conjunct)
{
	SubLink    *sublink;
	OpExpr	   *op;
	Param	   *param;
	Query	   *sub;

	if (!IsA(conjunct, SubLink))
		return NULL;
	sublink = (SubLink *) conjunct;
	if (sublink->subLinkType != ANY_SUBLINK ||
		sublink->testexpr == NULL ||
		!usable_comparison(sublink->testexpr))
		return NULL;
	op = (OpExpr *) sublink->testexpr;
	param = (Param *) lsecond(op->args);
	sub = (Query *) sublink->subselect;
	if (!IsA(param, Param) || param->paramkind != PARAM_SUBLINK ||
		param->paramid != 1 ||
		list_length(sub->targetList) != 1 ||
		!reads_only_hypertables(q, linitial(op->args)) ||
		!over_reference_tables(sub))
		return NULL;
	return any_of_array(op->opno, op->inputcollid, linitial(op->args), sub);
}

/* The range table index of the one relation expr reads, or 0. */
static int
single_relation(Node *expr)
{
	Bitmapset  *relids = pull_varnos(NULL, expr);
	int			rti;

	if (!bms_get_singleton_member(relids, &rti))
		return 0;
	return rti;
}

/*
 * The ON conditions of the inner joins at the top of a FROM item: like
 * WHERE's, every row of the query satisfies them.
 */
static List *
inner_join_conditions(Node *node)
{
	JoinExpr   *j;

	if (!IsA(node, JoinExpr) || ((JoinExpr *) node)->jointype != JOIN_INNER)
		return NIL;
	j = (JoinExpr *) node;
	return list_concat(list_concat(make_ands_implicit((Expr *) j->quals),
								   inner_join_conditions(j->larg)),
					   inner_join_conditions(j->rarg));
}

/*
 * The conditions among `conds` (all holding for every row of the query)
 * that read reference table rti alone: a new query's WHERE (rti renumbered
 * to 1).
 */
static List *
reference_conditions(List *conds, int rti)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, conds)
	{
		Node	   *qual = lfirst(lc);

		/* copied one level down: no outer column to renumber */
		if (single_relation(qual) == rti &&
			!checkExprHasSubLink(qual) && !has_outer_var(qual, NULL) &&
			!contain_volatile_functions(qual))
		{
			qual = copyObject(qual);
			ChangeVarNodes(qual, rti, 1, 0);
			result = lappend(result, qual);
		}
	}
	return result;
}

/* `SELECT key FROM ref WHERE conds`, ref being rti of q */
static Query *
keys_query(Query *q, int rti, Node *key, List *conds)
{
	Query	   *sub = makeNode(Query);
	RangeTblRef *ref = makeNode(RangeTblRef);

	key = copyObject(key);
	ChangeVarNodes(key, rti, 1, 0);
	ref->rtindex = 1;
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = list_make1(copyObject(rt_fetch(rti, q->rtable)));
	sub->jointree = makeFromExpr(list_make1(ref),
								 (Node *) make_ands_explicit(conds));
	sub->targetList = list_make1(makeTargetEntry((Expr *) key, 1, "key",
												 false));
	return sub;
}

/*
 * Case 2: for a join condition `x op ref.k` (or `ref.k op x`, with op's
 * commutator) among conds, the filter it implies, or NULL.
 */
static Expr *
filter_of_join(Query *q, Node *conjunct, List *conds)
{
	OpExpr	   *op;
	Oid			opno;
	Node	   *x;
	Node	   *key;
	int			rti;
	RangeTblEntry *rte;
	List	   *ref_conds;

	if (!usable_comparison(conjunct))
		return NULL;
	op = (OpExpr *) conjunct;
	opno = op->opno;
	x = linitial(op->args);
	key = lsecond(op->args);
	if (!reads_only_hypertables(q, x))
	{
		opno = get_commutator(op->opno);
		x = lsecond(op->args);
		key = linitial(op->args);
		if (!OidIsValid(opno) || !reads_only_hypertables(q, x))
			return NULL;
	}
	rti = single_relation(key);
	if (rti == 0 || checkExprHasSubLink(key) || has_outer_var(key, NULL) ||
		contain_volatile_functions(key))
		return NULL;
	rte = rt_fetch(rti, q->rtable);
	if (rte->rtekind != RTE_RELATION ||
		!hd_catalog_is_reference_table(rte->relid))
		return NULL;
	ref_conds = reference_conditions(conds, rti);
	if (ref_conds == NIL)
		return NULL;			/* every key: nothing filtered */
	return any_of_array(opno, op->inputcollid, x,
						keys_query(q, rti, key, ref_conds));
}

/* Cases 1 and 2 for one query level. */
static void
add_filters(Query *q)
{
	List	   *where;
	List	   *conds;
	List	   *added = NIL;
	bool		changed = false;
	ListCell   *lc;

	/* neither a subquery nor a second relation: nothing to do */
	if (q->jointree == NULL || q->commandType == CMD_MERGE ||
		(!q->hasSubLinks && list_length(q->rtable) < 2))
		return;
	where = make_ands_implicit((Expr *) q->jointree->quals);
	foreach(lc, where)
	{
		Expr	   *filter = filter_of_in_sublink(q, lfirst(lc));

		if (filter != NULL)
		{
			lfirst(lc) = filter;
			changed = true;
		}
	}
	conds = list_copy(where);
	foreach(lc, q->jointree->fromlist)
		conds = list_concat(conds, inner_join_conditions(lfirst(lc)));
	foreach(lc, conds)
	{
		Expr	   *filter = filter_of_join(q, lfirst(lc), conds);

		if (filter != NULL)
			added = lappend(added, filter);
	}
	if (!changed && added == NIL)
		return;
	q->jointree->quals = (Node *) make_ands_explicit(list_concat(where, added));
	q->hasSubLinks = true;
}

static bool
add_filters_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		add_filters((Query *) node);
		return query_tree_walker((Query *) node, add_filters_walker,
								 context, 0);
	}
	return expression_tree_walker(node, add_filters_walker, context);
}

void
hd_add_reference_filters(Query *parse)
{
	(void) add_filters_walker((Node *) parse, NULL);
}
