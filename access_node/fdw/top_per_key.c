/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/top_per_key.c — the first row per key of a distributed hypertable,
 * asked one key at a time through LATERAL, asked for all keys at once.
 *
 * TSBS's lastpoint in tags mode reads the newest row of each host as
 *		FROM tags t JOIN LATERAL (SELECT * FROM cpu c WHERE c.tags_id = t.id
 *								  ORDER BY time DESC LIMIT 1) b ON true
 * which PostgreSQL runs as a nested loop: one scan of the hypertable per
 * row of tags, each a query on every data node and a wait for it.  The
 * same rows come from one scan that takes the first row of every key,
 *		FROM tags t JOIN (SELECT DISTINCT ON (c.tags_id) * FROM cpu c
 *						  ORDER BY c.tags_id, time DESC) b ON b.tags_id = t.id
 * (a key's first row by the LIMIT's order, ties broken arbitrarily by
 * both), which the scan ships whole and which a data node answers one index
 * descent per key (the skip scan, fdw/limit.c).  The planner hook makes
 * that change before planning, when the LATERAL subquery reads one
 * distributed hypertable, is ordered and limited to one row, and reads the
 * outer query only in one condition `c.k = <outer expression>`, = being the
 * default equality of k's type (the one DISTINCT ON groups by): for an
 * outer row, the subquery's row is then its key's first row, and the
 * condition moves to the join (ON or WHERE), where it keeps the same
 * pairs, including for LEFT JOIN (no first row: the outer row with NULLs).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "fdw/top_per_key.h"
#include "metadata/hypertable.h"

/* The LIMIT 1 of an ordered single-relation subquery, as the pattern needs. */
static bool
is_ordered_first_row(Query *sub)
{
	Const	   *limit;
	RangeTblEntry *rte;

	/* LIMIT 1 is int8(1) until planning folds it */
	if (sub->limitCount == NULL)
		return false;
	limit = (Const *) eval_const_expressions(NULL, copyObject(sub->limitCount));
	if (sub->commandType != CMD_SELECT || sub->sortClause == NIL ||
		!IsA(limit, Const) || limit->constisnull ||
		limit->consttype != INT8OID || DatumGetInt64(limit->constvalue) != 1 ||
		sub->limitOffset != NULL || sub->limitOption != LIMIT_OPTION_COUNT ||
		sub->hasAggs || sub->hasWindowFuncs || sub->hasTargetSRFs ||
		sub->hasSubLinks || sub->hasDistinctOn || sub->distinctClause != NIL ||
		sub->groupClause != NIL || sub->groupingSets != NIL ||
		sub->havingQual != NULL || sub->setOperations != NULL ||
		sub->rowMarks != NIL || sub->cteList != NIL ||
		list_length(sub->rtable) != 1 ||
		list_length(sub->jointree->fromlist) != 1 ||
		!IsA(linitial(sub->jointree->fromlist), RangeTblRef))
		return false;
	rte = linitial_node(RangeTblEntry, sub->rtable);
	return rte->rtekind == RTE_RELATION && hd_is_dist_hypertable(rte->relid);
}

/*
 * Whether qual is `k = <outer expression>` (either side), = the default
 * equality of k's type: sets *key and *outer.
 */
static bool
is_key_condition(Node *qual, Var **key, Node **outer)
{
	OpExpr	   *op;
	int			i;

	if (!IsA(qual, OpExpr) || list_length(((OpExpr *) qual)->args) != 2)
		return false;
	op = (OpExpr *) qual;
	for (i = 0; i < 2; i++)
	{
		Node	   *k = list_nth(op->args, i);
		Node	   *o = list_nth(op->args, 1 - i);
		TypeCacheEntry *tc;

		if (!IsA(k, Var) || ((Var *) k)->varlevelsup != 0 ||
			((Var *) k)->varattno <= 0 ||
			exprType(o) != ((Var *) k)->vartype ||
			contain_vars_of_level(o, 0) || !contain_vars_of_level(o, 1) ||
			contain_volatile_functions(o))
			continue;
		tc = lookup_type_cache(((Var *) k)->vartype,
							   TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR);
		/* DISTINCT ON groups k by its own collation */
		if (op->opno != tc->eq_opr || !OidIsValid(tc->lt_opr) ||
			op->inputcollid != ((Var *) k)->varcollid)
			continue;
		*key = (Var *) k;
		*outer = o;
		return true;
	}
	return false;
}

/*
 * Splits sub's WHERE into the one conjunct reading the outer query, which
 * must be a key condition, and the others (*rest); false if it does not fit.
 */
static bool
split_key_condition(Query *sub, Var **key, Node **outer, List **rest)
{
	bool		found = false;
	ListCell   *lc;

	*rest = NIL;
	foreach(lc, make_ands_implicit((Expr *) sub->jointree->quals))
	{
		Node	   *qual = lfirst(lc);

		if (!contain_vars_of_level(qual, 1))
			*rest = lappend(*rest, qual);
		else if (found || !is_key_condition(qual, key, outer))
			return false;
		else
			found = true;
	}
	return found;
}

typedef struct WholeRowSearch
{
	int			rti;
	int			depth;			/* query levels below the one searched */
} WholeRowSearch;

static bool
whole_row_walker(Node *node, WholeRowSearch *search)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varno == search->rti &&
			((Var *) node)->varattno == 0 &&
			((Var *) node)->varlevelsup == search->depth;
	if (IsA(node, Query))
	{
		bool		found;

		search->depth++;
		found = query_tree_walker((Query *) node, whole_row_walker, search, 0);
		search->depth--;
		return found;
	}
	return expression_tree_walker(node, whole_row_walker, search);
}

/* Does q read rti's rows whole (a column added to them would show)? */
static bool
reads_whole_row(Query *q, int rti)
{
	WholeRowSearch search = {rti, 0};

	return query_tree_walker(q, whole_row_walker, &search, 0);
}

/* sub's visible column that is key, or NULL */
static TargetEntry *
visible_key_entry(Query *sub, Var *key)
{
	ListCell   *lc;

	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk && equal(tle->expr, key))
			return tle;
	}
	return NULL;
}

/*
 * The output column of sub that is key, added after the visible ones
 * (the outer query's Vars name those by number) when there is none.
 */
static TargetEntry *
key_column(Query *sub, RangeTblEntry *rte, Var *key)
{
	TargetEntry *tle = visible_key_entry(sub, key);
	int			nvisible = 0;
	ListCell   *lc;

	if (tle != NULL)
		return tle;
	/* resjunk entries (of ORDER BY) come after the visible ones */
	foreach(lc, sub->targetList)
		nvisible += !lfirst_node(TargetEntry, lc)->resjunk;
	for_each_from(lc, sub->targetList, nvisible)
		lfirst_node(TargetEntry, lc)->resno++;
	tle = makeTargetEntry((Expr *) copyObject(key), nvisible + 1,
						  pstrdup("hyperdist_key"), false);
	sub->targetList = list_insert_nth(sub->targetList, nvisible, tle);
	rte->eref->colnames = lappend(rte->eref->colnames,
								  makeString(pstrdup("hyperdist_key")));
	return tle;
}

/* DISTINCT ON (key) and ORDER BY key, <the LIMIT's order>, in sub. */
static void
distinct_on_key(Query *sub, TargetEntry *tle, Var *key)
{
	SortGroupClause *sgc = makeNode(SortGroupClause);
	TypeCacheEntry *tc = lookup_type_cache(key->vartype,
										   TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR);
	Index		ref = 0;
	ListCell   *lc;

	if (tle->ressortgroupref == 0)
	{
		foreach(lc, sub->targetList)
			ref = Max(ref, lfirst_node(TargetEntry, lc)->ressortgroupref);
		tle->ressortgroupref = ref + 1;
	}
	sgc->tleSortGroupRef = tle->ressortgroupref;
	sgc->eqop = tc->eq_opr;
	sgc->sortop = tc->lt_opr;
	sgc->nulls_first = false;
	sgc->hashable = op_hashjoinable(tc->eq_opr, key->vartype);
	sub->distinctClause = list_make1(sgc);
	sub->hasDistinctOn = true;
	sub->sortClause = lcons(copyObject(sgc), sub->sortClause);
	sub->limitCount = NULL;
	sub->limitOption = LIMIT_OPTION_DEFAULT;
}

/*
 * The quals of the join that brings in RangeTblRef rti: the ON of the
 * JoinExpr whose right side it is (INNER or LEFT), or the WHERE of the
 * FROM list holding it; NULL when it is elsewhere.
 */
static Node **
join_quals_of(Node *node, int rti)
{
	ListCell   *lc;

	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
		{
			Node	   *item = lfirst(lc);
			Node	  **quals;

			if (IsA(item, RangeTblRef) && ((RangeTblRef *) item)->rtindex == rti)
				return &((FromExpr *) node)->quals;
			if ((quals = join_quals_of(item, rti)) != NULL)
				return quals;
		}
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		if (IsA(j->rarg, RangeTblRef) && ((RangeTblRef *) j->rarg)->rtindex == rti)
			return (j->jointype == JOIN_INNER || j->jointype == JOIN_LEFT) ?
				&j->quals : NULL;
		if (IsA(j->larg, RangeTblRef) && ((RangeTblRef *) j->larg)->rtindex == rti)
			return NULL;
		else
		{
			Node	  **quals = join_quals_of(j->larg, rti);

			return quals != NULL ? quals : join_quals_of(j->rarg, rti);
		}
	}
	return NULL;
}

/* One LATERAL subquery rti of q, made a subquery of first rows if it fits. */
static void
rewrite_lateral(Query *q, int rti)
{
	RangeTblEntry *rte = rt_fetch(rti, q->rtable);
	Query	   *sub = rte->subquery;
	Var		   *key = NULL;
	Node	   *outer = NULL;
	List	   *rest;
	Node	  **quals;
	TargetEntry *tle;
	Var		   *result;
	Expr	   *cond;
	Node	   *where = sub->jointree->quals;

	if (!is_ordered_first_row(sub) ||
		!split_key_condition(sub, &key, &outer, &rest) ||
		(quals = join_quals_of((Node *) q->jointree, rti)) == NULL ||
		(visible_key_entry(sub, key) == NULL && reads_whole_row(q, rti)))
		return;
	/* nothing else of the subquery may read the outer query */
	sub->jointree->quals = rest != NIL ? (Node *) make_ands_explicit(rest) : NULL;
	if (contain_vars_of_level((Node *) sub, 1))
	{
		sub->jointree->quals = where;
		return;
	}

	tle = key_column(sub, rte, key);
	distinct_on_key(sub, tle, key);
	rte->lateral = false;

	result = makeVar(rti, tle->resno, key->vartype, key->vartypmod,
					 key->varcollid, 0);
	outer = copyObject(outer);
	IncrementVarSublevelsUp(outer, -1, 1);
	cond = make_opclause(lookup_type_cache(key->vartype, TYPECACHE_EQ_OPR)->eq_opr,
						 BOOLOID, false, (Expr *) result, (Expr *) outer,
						 InvalidOid, key->varcollid);
	set_opfuncid((OpExpr *) cond);
	*quals = (Node *) make_ands_explicit(lappend(make_ands_implicit((Expr *) *quals),
												 cond));
}

static bool
rewrite_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		int			rti = 0;
		ListCell   *lc;

		foreach(lc, q->commandType == CMD_MERGE ? NIL : q->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			rti++;
			if (rte->rtekind == RTE_SUBQUERY && rte->lateral)
				rewrite_lateral(q, rti);
		}
		return query_tree_walker(q, rewrite_walker, context, 0);
	}
	return expression_tree_walker(node, rewrite_walker, context);
}

void
hd_rewrite_top_per_key(Query *parse)
{
	(void) rewrite_walker((Node *) parse, NULL);
}
