/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/prune.c — excluding chunks a distributed hypertable scan cannot need.
 *
 * At plan time, the quals of the form "dimension column <op> expression",
 * where op is a btree comparison of the column's type (equality for the
 * space column, also "= ANY (array)") and the expression has a single value
 * for the whole scan (no column, no volatile function, no parameter set by
 * another plan node but an InitPlan of the top query level), are kept with their expressions.  At executor start
 * the expressions are computed, so that now()-relative bounds and the
 * parameters of generic plans prune too, and the time range and space
 * values they allow select the chunks read (metadata/chunk.c): a data node left
 * without chunks gets no query.  The quals themselves still apply, on the
 * data node or here, so pruning only needs to keep every chunk that may
 * hold a matching row.
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "metadata/dimension.h"
#include "fdw/prune.h"

/* codes besides the time column's btree strategies (1..5) */
#define HD_PRUNE_SPACE_EQ	10
#define HD_PRUNE_SPACE_ANY	11

/*
 * Whether paramid is the value of an InitPlan of the top query level: one
 * value for the whole statement (no outer level can run this one again
 * with other values), known once the executor has set up the InitPlans.
 * fdw/reference_filter.c's arrays of reference keys are such values, as
 * are uncorrelated scalar subqueries (`time > (SELECT ...)`).  root is
 * NULL where pruning is computed before the InitPlans are set up.
 */
static bool
is_statement_initplan_param(PlannerInfo *root, int paramid)
{
	ListCell   *lc;

	if (root == NULL || root->parent_root != NULL)
		return false;
	foreach(lc, root->init_plans)
	{
		if (list_member_int(lfirst_node(SubPlan, lc)->setParam, paramid))
			return true;
	}
	return false;
}

static bool
contain_exec_param_walker(Node *node, PlannerInfo *root)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return !is_statement_initplan_param(root, ((Param *) node)->paramid);
	return expression_tree_walker(node, contain_exec_param_walker, root);
}

/* Whether expr has one value during a scan, known when the scan starts. */
static bool
is_scan_constant(PlannerInfo *root, Node *expr)
{
	return !contain_var_clause(expr) &&
		!contain_volatile_functions(expr) &&
		!contain_subplans(expr) &&
		!contain_exec_param_walker(expr, root);
}

static bool
is_dimension_var(Node *node, Index relid, const HdDimension *dim)
{
	if (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node != NULL && IsA(node, Var) &&
		((Var *) node)->varno == relid &&
		((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varattno == dim->attnum;
}

/*
 * The btree strategy of opno between two values of dim's type, in the
 * type's default btree operator family; 0 if it is none.  The space column
 * is hashed with its collation, so only an equality by it prunes there.
 */
static int
dimension_strategy(Oid opno, Oid inputcollid, const HdDimension *dim,
				   bool space)
{
	Oid			lefttype;
	Oid			righttype;

	if (!OidIsValid(dim->btree_opfamily))
		return 0;
	op_input_types(opno, &lefttype, &righttype);
	if (lefttype != dim->type || righttype != dim->type)
		return 0;
	if (space && inputcollid != dim->collation)
		return 0;
	return get_op_opfamily_strategy(opno, dim->btree_opfamily);
}

/*
 * The code of clause as a pruning qual, with its expression in *expr;
 * 0 if it is none.
 */
static int
prune_code(PlannerInfo *root, Expr *clause, Index relid, const HdHypertable *ht,
		   Expr **expr)
{
	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left = linitial(op->args);
		Node	   *right = lsecond(op->args);
		Oid			opno = op->opno;

		/* "expression <op> column" is "column <commutator> expression" */
		if (!is_dimension_var(left, relid, &ht->time) &&
			!(ht->has_space && is_dimension_var(left, relid, &ht->space)))
		{
			Node	   *tmp = left;

			left = right;
			right = tmp;
			opno = get_commutator(opno);
			if (!OidIsValid(opno))
				return 0;
		}
		if (!is_scan_constant(root, right))
			return 0;
		*expr = (Expr *) right;
		if (is_dimension_var(left, relid, &ht->time))
			return dimension_strategy(opno, op->inputcollid, &ht->time, false);
		if (ht->has_space && is_dimension_var(left, relid, &ht->space) &&
			dimension_strategy(opno, op->inputcollid, &ht->space, true) ==
			BTEqualStrategyNumber)
			return HD_PRUNE_SPACE_EQ;
	}
	else if (IsA(clause, ScalarArrayOpExpr) && ht->has_space)
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) clause;

		if (op->useOr &&
			is_dimension_var(linitial(op->args), relid, &ht->space) &&
			is_scan_constant(root, lsecond(op->args)) &&
			dimension_strategy(op->opno, op->inputcollid, &ht->space, true) ==
			BTEqualStrategyNumber)
		{
			*expr = lsecond(op->args);
			return HD_PRUNE_SPACE_ANY;
		}
	}
	return 0;
}

List *
hd_prune_quals(PlannerInfo *root, RelOptInfo *baserel, const HdHypertable *ht,
			   List *quals, List **exprs)
{
	List	   *codes = NIL;
	ListCell   *lc;

	foreach(lc, quals)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		Expr	   *expr = NULL;
		int			code = prune_code(root, ri->clause, baserel->relid, ht, &expr);

		if (code == 0)
			continue;
		codes = lappend_int(codes, code);
		*exprs = lappend(*exprs, expr);
	}
	return codes;
}

static bool
time_is_finite(Datum value, Oid typid)
{
	if (typid == TIMESTAMPOID || typid == TIMESTAMPTZOID)
		return !TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value));
	if (typid == DATEOID)
		return !DATE_NOT_FINITE(DatumGetDateADT(value));
	return true;
}

/* Narrows [time_lo, time_hi] by "time <strategy> value". */
static void
restrict_time(HdChunkPrune *prune, const HdDimension *dim, int strategy,
			  Datum value)
{
	int64		t;

	/* an infinite bound excludes no slice */
	if (!time_is_finite(value, dim->type))
		return;
	t = hd_time_to_internal(value, dim->type);

	if (strategy == BTLessStrategyNumber && t == PG_INT64_MIN)
		prune->none = true;
	else if (strategy == BTLessStrategyNumber)
		prune->time_hi = Min(prune->time_hi, t - 1);
	else if (strategy == BTLessEqualStrategyNumber)
		prune->time_hi = Min(prune->time_hi, t);
	else if (strategy == BTGreaterStrategyNumber && t == PG_INT64_MAX)
		prune->none = true;
	else if (strategy == BTGreaterStrategyNumber)
		prune->time_lo = Max(prune->time_lo, t + 1);
	else if (strategy == BTGreaterEqualStrategyNumber)
		prune->time_lo = Max(prune->time_lo, t);
	else
	{
		prune->time_lo = Max(prune->time_lo, t);
		prune->time_hi = Min(prune->time_hi, t);
	}
}

/*
 * Keeps the smaller set of space values: each space qual alone bounds
 * the partitions read, and comparing values across quals is not needed.
 */
static void
restrict_space(HdChunkPrune *prune, int code, Datum value)
{
	Datum	   *values;
	bool	   *nulls;
	int			n;
	int			kept = 0;

	if (code == HD_PRUNE_SPACE_EQ)
	{
		values = palloc(sizeof(Datum));
		values[0] = value;
		n = 1;
	}
	else
	{
		ArrayType  *array = DatumGetArrayTypeP(value);
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(ARR_ELEMTYPE(array), &typlen, &typbyval, &typalign);
		deconstruct_array(array, ARR_ELEMTYPE(array), typlen, typbyval,
						  typalign, &values, &nulls, &n);
		/* a NULL element equals no value */
		for (int i = 0; i < n; i++)
		{
			if (!nulls[i])
				values[kept++] = values[i];
		}
		n = kept;
	}

	if (prune->space_nvalues < 0 || n < prune->space_nvalues)
	{
		prune->space_nvalues = n;
		prune->space_values = values;
	}
	if (n == 0)
		prune->none = true;
}

void
hd_prune_compute(HdChunkPrune *prune, HdHypertable *ht, List *codes,
				 List *expr_states, ExprContext *econtext)
{
	ListCell   *lc1,
			   *lc2;

	prune->none = false;
	prune->time_lo = PG_INT64_MIN;
	prune->time_hi = PG_INT64_MAX;
	prune->space_nvalues = -1;
	prune->space_values = NULL;

	forboth(lc1, codes, lc2, expr_states)
	{
		int			code = lfirst_int(lc1);
		bool		isnull;
		Datum		value = ExecEvalExpr(lfirst(lc2), econtext, &isnull);

		/* the operators are strict: NULL matches no row */
		if (isnull)
			prune->none = true;
		else if (code < HD_PRUNE_SPACE_EQ)
			restrict_time(prune, &ht->time, code, value);
		else
			restrict_space(prune, code, value);
	}
	if (prune->time_lo > prune->time_hi)
		prune->none = true;
}
