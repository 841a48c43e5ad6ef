/* SPDX-License-Identifier: PostgreSQL */
/*
 * deparse/expr.c — which quals a data node can evaluate, and their SQL.
 *
 * As postgres_fdw's deparse.c: a qual is shipped when the data node is
 * sure to compute the same result, that is when it reads only columns of
 * the scanned table, constants and parameters, through built-in immutable
 * operators and functions of built-in types (which have the same OIDs and
 * meaning on every node), and every collation it sorts or compares by comes
 * from a column, whose collation the data node's table has too.  Everything
 * else is evaluated here, on the rows fetched.
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "deparse/deparse.h"
#include "agg/partial_agg.h"
#include "remote/typeio.h"

/*
 * Where an expression's collation comes from, from best to worst: none
 * (noncollatable, or the default collation not derived from a column), a
 * column of the scanned table (safe), or anything else (unsafe: the data
 * node could not know it, or would resolve it differently).
 */
typedef enum
{
	HD_COLLATE_NONE,
	HD_COLLATE_SAFE,
	HD_COLLATE_UNSAFE
} HdCollateState;

typedef struct
{
	Oid			collation;
	HdCollateState state;
} HdCollateCxt;

typedef struct
{
	RelOptInfo *baserel;		/* NULL: the expression reads no column */
	bool		aggs_ok;		/* Aggrefs may appear (a grouping target) */
	bool		values_ok;		/* computed values may ship as parameters */
} HdWalkerCxt;

typedef struct
{
	StringInfo	buf;
	Oid			relid;			/* the one table read, when rels is NIL */
	List	   *rels;			/* or the HdJoinRels of a joined query */
	List	  **params_list;
} HdDeparseCxt;

static bool foreign_expr_walker(Node *node, HdWalkerCxt *glob,
								HdCollateCxt *outer);
static void deparse_expr(Expr *node, HdDeparseCxt *cxt);

/* Built-in objects have the same OID and definition on every node. */
static bool
is_builtin(Oid objectid)
{
	return objectid < FirstGenbkiObjectId;
}

static bool
shippable_function(Oid funcid)
{
	return is_builtin(funcid) && func_volatile(funcid) == PROVOLATILE_IMMUTABLE;
}

/* Walks a list of arguments, all of which must be shippable. */
static bool
walk_args(List *args, HdWalkerCxt *glob, HdCollateCxt *inner)
{
	ListCell   *lc;

	foreach(lc, args)
	{
		if (!foreign_expr_walker(lfirst(lc), glob, inner))
			return false;
	}
	return true;
}

/*
 * A function or operator may compare by inputcollid only when that
 * collation comes from a column, or when it is the database's default and
 * no column's is involved (date_trunc('month', ...) has a default-collated
 * literal): a data node's database has the access node's default
 * collation, as add_data_node creates or checks it.  The result collation
 * then is the column's too, or, if not, must be the default or none.
 */
static bool
check_collations(Oid inputcollid, Oid resultcollid, HdCollateCxt *inner,
				 Oid *collation, HdCollateState *state)
{
	if (OidIsValid(inputcollid) &&
		!(inner->state == HD_COLLATE_SAFE && inputcollid == inner->collation) &&
		!(inner->state == HD_COLLATE_NONE && inputcollid == DEFAULT_COLLATION_OID))
		return false;

	*collation = resultcollid;
	if (!OidIsValid(resultcollid))
		*state = HD_COLLATE_NONE;
	else if (inner->state == HD_COLLATE_SAFE &&
			 resultcollid == inner->collation)
		*state = HD_COLLATE_SAFE;
	else if (resultcollid == DEFAULT_COLLATION_OID)
		*state = HD_COLLATE_NONE;
	else
		*state = HD_COLLATE_UNSAFE;
	return true;
}

/* A constant's or parameter's collation, which no column vouches for. */
static void
literal_collation(Oid collid, Oid *collation, HdCollateState *state)
{
	*collation = collid;
	*state = (!OidIsValid(collid) || collid == DEFAULT_COLLATION_OID) ?
		HD_COLLATE_NONE : HD_COLLATE_UNSAFE;
}

/*
 * Whether a cast through text (CoerceViaIO) from or to typid means the same
 * on every node: its output and input do not depend on settings such as
 * DateStyle, IntervalStyle, TimeZone or extra_float_digits.
 */
static bool
io_cast_is_stable(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case UUIDOID:
			return true;
		default:
			return false;
	}
}

/* Strips the implicit casts the parser put around an expression. */
static Node *
strip_implicit_casts(Node *node)
{
	for (;;)
	{
		if (IsA(node, RelabelType) &&
			((RelabelType *) node)->relabelformat == COERCE_IMPLICIT_CAST)
			node = (Node *) ((RelabelType *) node)->arg;
		else if (IsA(node, FuncExpr) &&
				 ((FuncExpr *) node)->funcformat == COERCE_IMPLICIT_CAST)
			node = linitial(((FuncExpr *) node)->args);
		else
			return node;
	}
}

/*
 * A simple CASE ("CASE x WHEN v ...") has WHEN clauses "CaseTestExpr = v",
 * written back as "WHEN v"; any other shape could not be.
 */
static bool
case_is_shippable(CaseExpr *ce, HdWalkerCxt *glob, HdCollateCxt *inner)
{
	ListCell   *lc;

	if (!foreign_expr_walker((Node *) ce->arg, glob, inner))
		return false;
	foreach(lc, ce->args)
	{
		CaseWhen   *w = lfirst_node(CaseWhen, lc);

		if (ce->arg != NULL &&
			!(IsA(w->expr, OpExpr) &&
			  list_length(((OpExpr *) w->expr)->args) == 2 &&
			  IsA(strip_implicit_casts(linitial(((OpExpr *) w->expr)->args)),
				  CaseTestExpr)))
			return false;
		if (!foreign_expr_walker((Node *) w->expr, glob, inner) ||
			!foreign_expr_walker((Node *) w->result, glob, inner))
			return false;
	}
	return foreign_expr_walker((Node *) ce->defresult, glob, inner);
}

/*
 * An aggregate ships when a data node can return its partial state
 * (agg/partial_agg.c): no DISTINCT or ORDER BY, which need all rows at once.
 */
/*
 * Whether a data node can write a value of typid as agg/first_last.c's
 * serialization does (its send function), and the access node read it
 * back whatever its client encoding: built-in types whose binary format
 * converts no text.
 */
static bool
bookend_type_ok(Oid typid)
{
	return hd_fixed_binary_len(typid) > 0 || typid == NUMERICOID ||
		typid == INTERVALOID || typid == UUIDOID;
}

static bool
aggref_is_shippable(Aggref *agg, HdWalkerCxt *glob, HdCollateCxt *inner)
{
	HdPartialAggKind kind;
	ListCell   *lc;

	if (!glob->aggs_ok || agg->agglevelsup != 0 ||
		agg->aggkind != AGGKIND_NORMAL || agg->aggvariadic ||
		agg->aggorder != NIL || agg->aggdistinct != NIL)
		return false;
	kind = hd_partial_agg_kind(agg->aggfnoid);
	if (kind == HD_PARTIAL_NONE)
		return false;
	if ((kind == HD_PARTIAL_FIRST || kind == HD_PARTIAL_LAST) &&
		!(bookend_type_ok(exprType((Node *) linitial_node(TargetEntry, agg->args)->expr)) &&
		  bookend_type_ok(exprType((Node *) lsecond_node(TargetEntry, agg->args)->expr))))
		return false;
	foreach(lc, agg->args)
	{
		if (!foreign_expr_walker((Node *) lfirst_node(TargetEntry, lc)->expr,
								 glob, inner))
			return false;
	}
	return foreign_expr_walker((Node *) agg->aggfilter, glob, inner);
}

/* Whether node uses a simple CASE's operand, which has a value only there. */
static bool
contains_case_test(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CaseTestExpr))
		return true;
	return expression_tree_walker(node, contains_case_test, context);
}

/*
 * Whether node, which the data node cannot evaluate itself, has one value
 * for the whole scan that the access node can compute when the scan
 * starts and send as a parameter: it reads no column, calls nothing
 * volatile (now() and other stable functions are fine), runs no subquery
 * or aggregate, and its type is built in.  "time > now() - interval '1
 * day'" so ships whole, and the data node prunes its partitions too.
 */
static bool
is_scan_value(Node *node)
{
	return !contains_case_test(node, NULL) &&
		!contain_var_clause(node) &&
		!contain_volatile_functions(node) &&
		!contain_subplans(node) &&
		!contain_agg_clause(node) &&
		!contain_window_function(node) &&
		!expression_returns_set(node) &&
		is_builtin(exprType(node));
}

/* Merges a shippable node's collation into its parent's. */
static void
merge_collation(HdCollateCxt *outer, Oid collation, HdCollateState state)
{
	if (state > outer->state)
	{
		outer->collation = collation;
		outer->state = state;
	}
	else if (state == HD_COLLATE_SAFE && collation != outer->collation)
	{
		/* two columns' collations: the default gives way, else conflict */
		if (outer->collation == DEFAULT_COLLATION_OID)
			outer->collation = collation;
		else if (collation != DEFAULT_COLLATION_OID)
			outer->state = HD_COLLATE_UNSAFE;
	}
}

static bool walk_node(Node *node, HdWalkerCxt *glob, HdCollateCxt *outer);

/*
 * Whether node can be evaluated by the data node (or, with values_ok,
 * computed here as a parameter); on success, merges its collation into
 * *outer, as postgres_fdw's foreign_expr_walker.
 */
static bool
foreign_expr_walker(Node *node, HdWalkerCxt *glob, HdCollateCxt *outer)
{
	Oid			collation;
	HdCollateState state;

	if (walk_node(node, glob, outer))
		return true;
	if (!glob->values_ok || !is_scan_value(node))
		return false;
	/* a parameter's collation, which no column vouches for */
	literal_collation(exprCollation(node), &collation, &state);
	merge_collation(outer, collation, state);
	return true;
}

/* foreign_expr_walker for one node, the value route aside */
static bool
walk_node(Node *node, HdWalkerCxt *glob, HdCollateCxt *outer)
{
	HdCollateCxt inner = {InvalidOid, HD_COLLATE_NONE};
	Oid			collation = InvalidOid;
	HdCollateState state = HD_COLLATE_NONE;

	if (node == NULL)
		return true;

	switch (nodeTag(node))
	{
		case T_Var:
			{
				Var		   *var = (Var *) node;

				/*
				 * a column of the scanned relation, or of one the joined query
				 * reads (fdw/join.c); system and whole-row columns are not
				 * fetched remotely
				 */
				if (glob->baserel == NULL ||
					!bms_is_member(var->varno, glob->baserel->relids) ||
					var->varlevelsup != 0 || var->varattno <= 0)
					return false;
				collation = var->varcollid;
				state = OidIsValid(collation) ?
					HD_COLLATE_SAFE : HD_COLLATE_NONE;
			}
			break;
		case T_Const:
			literal_collation(((Const *) node)->constcollid,
							  &collation, &state);
			break;
		case T_Param:
			{
				Param	   *p = (Param *) node;

				if (p->paramkind != PARAM_EXTERN && p->paramkind != PARAM_EXEC)
					return false;
				literal_collation(p->paramcollid, &collation, &state);
			}
			break;
		case T_FuncExpr:
			{
				FuncExpr   *fe = (FuncExpr *) node;

				/* a VARIADIC call would need its array spelled out */
				if (fe->funcvariadic || !shippable_function(fe->funcid) ||
					!walk_args(fe->args, glob, &inner) ||
					!check_collations(fe->inputcollid, fe->funccollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_OpExpr:
		case T_DistinctExpr:	/* same struct as OpExpr */
			{
				OpExpr	   *oe = (OpExpr *) node;

				if (!is_builtin(oe->opno) ||
					!shippable_function(get_opcode(oe->opno)) ||
					!walk_args(oe->args, glob, &inner) ||
					!check_collations(oe->inputcollid, oe->opcollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *oe = (ScalarArrayOpExpr *) node;

				if (!is_builtin(oe->opno) ||
					!shippable_function(get_opcode(oe->opno)) ||
					!walk_args(oe->args, glob, &inner) ||
					!check_collations(oe->inputcollid, InvalidOid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_RelabelType:
			{
				RelabelType *r = (RelabelType *) node;

				if (!foreign_expr_walker((Node *) r->arg, glob, &inner) ||
					!check_collations(InvalidOid, r->resultcollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_BoolExpr:
			/* boolean results have no collation */
			if (!walk_args(((BoolExpr *) node)->args, glob, &inner))
				return false;
			break;
		case T_NullTest:
			{
				NullTest   *nt = (NullTest *) node;

				/* IS NULL of a row is not a test of one value */
				if (nt->argisrow ||
					!foreign_expr_walker((Node *) nt->arg, glob, &inner))
					return false;
			}
			break;
		case T_ArrayExpr:
			{
				ArrayExpr  *a = (ArrayExpr *) node;

				if (a->multidims ||
					!walk_args(a->elements, glob, &inner) ||
					!check_collations(InvalidOid, a->array_collid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_NullIfExpr:		/* same struct as OpExpr */
			{
				NullIfExpr *ne = (NullIfExpr *) node;

				if (!is_builtin(ne->opno) ||
					!shippable_function(get_opcode(ne->opno)) ||
					!walk_args(ne->args, glob, &inner) ||
					!check_collations(ne->inputcollid, ne->opcollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_CaseExpr:
			if (!case_is_shippable((CaseExpr *) node, glob, &inner) ||
				!check_collations(InvalidOid, ((CaseExpr *) node)->casecollid,
								  &inner, &collation, &state))
				return false;
			break;
		case T_CaseTestExpr:
			/* the value of a simple CASE's operand, checked with the CASE */
			literal_collation(((CaseTestExpr *) node)->collation,
							  &collation, &state);
			break;
		case T_CoalesceExpr:
			{
				CoalesceExpr *ce = (CoalesceExpr *) node;

				if (!walk_args(ce->args, glob, &inner) ||
					!check_collations(InvalidOid, ce->coalescecollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_MinMaxExpr:
			{
				MinMaxExpr *mm = (MinMaxExpr *) node;

				if (!walk_args(mm->args, glob, &inner) ||
					!check_collations(mm->inputcollid, mm->minmaxcollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_BooleanTest:
			if (!foreign_expr_walker((Node *) ((BooleanTest *) node)->arg,
									 glob, &inner))
				return false;
			break;
		case T_CoerceViaIO:
			{
				CoerceViaIO *cio = (CoerceViaIO *) node;

				if (!io_cast_is_stable(exprType((Node *) cio->arg)) ||
					!io_cast_is_stable(cio->resulttype) ||
					!foreign_expr_walker((Node *) cio->arg, glob, &inner) ||
					!check_collations(InvalidOid, cio->resultcollid,
									  &inner, &collation, &state))
					return false;
			}
			break;
		case T_Aggref:
			if (!aggref_is_shippable((Aggref *) node, glob, &inner) ||
				!check_collations(((Aggref *) node)->inputcollid,
								  ((Aggref *) node)->aggcollid,
								  &inner, &collation, &state))
				return false;
			break;
		default:
			return false;
	}

	/* the data node must know the result type by this OID */
	if (!is_builtin(exprType(node)))
		return false;

	merge_collation(outer, collation, state);
	return true;
}

/*
 * Whether a data node can evaluate expr on the rows of baserel; with
 * aggs_ok, expr may contain aggregates to be computed partially there.
 */
bool
hd_is_foreign_expr(RelOptInfo *baserel, Expr *expr, bool aggs_ok)
{
	HdWalkerCxt glob = {baserel, aggs_ok, true};
	HdCollateCxt outer = {InvalidOid, HD_COLLATE_NONE};

	if (!foreign_expr_walker((Node *) expr, &glob, &outer))
		return false;

	/* a result collation no column vouches for would be the remote's guess */
	return outer.state != HD_COLLATE_UNSAFE;
}

/* Splits RestrictInfos into those the data node evaluates and the rest. */
void
hd_classify_conditions(RelOptInfo *baserel, List *input_conds,
					   List **remote_conds, List **local_conds)
{
	ListCell   *lc;

	*remote_conds = NIL;
	*local_conds = NIL;
	foreach(lc, input_conds)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (hd_is_foreign_expr(baserel, ri->clause, false))
			*remote_conds = lappend(*remote_conds, ri);
		else
			*local_conds = lappend(*local_conds, ri);
	}
}

/*
 * A column: unqualified when one table is read, else qualified by its
 * relation's alias, "r<range table index>" (hd_deparse_join).
 */
static void
deparse_var(Var *var, HdDeparseCxt *cxt)
{
	ListCell   *lc;

	if (cxt->rels == NIL)
	{
		appendStringInfoString(cxt->buf,
							   quote_identifier(hd_column_remote_name(cxt->relid,
																	  var->varattno)));
		return;
	}
	foreach(lc, cxt->rels)
	{
		HdJoinRel  *rel = lfirst(lc);

		if (rel->varno == var->varno)
		{
			appendStringInfo(cxt->buf, "r%u.%s", rel->varno,
							 quote_identifier(hd_column_remote_name(rel->relid,
																	var->varattno)));
			return;
		}
	}
	elog(ERROR, "column of relation %u outside the joined query", var->varno);
}

static void
deparse_type(StringInfo buf, Oid typid, int32 typmod)
{
	appendStringInfoString(buf, format_type_with_typemod(typid, typmod));
}

static void
deparse_const(Const *c, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;
	Oid			typoutput;
	bool		typisvarlena;
	char	   *s;

	if (c->constisnull)
	{
		appendStringInfoString(buf, "NULL::");
		deparse_type(buf, c->consttype, c->consttypmod);
		return;
	}

	getTypeOutputInfo(c->consttype, &typoutput, &typisvarlena);
	s = OidOutputFunctionCall(typoutput, c->constvalue);

	/* the types a bare literal denotes, so remote SQL stays readable */
	if (c->consttype == INT4OID)
		appendStringInfoString(buf, s[0] == '-' ? psprintf("(%s)", s) : s);
	else if (c->consttype == BOOLOID)
		appendStringInfoString(buf, strcmp(s, "t") == 0 ? "true" : "false");
	else
	{
		appendStringInfoString(buf, quote_literal_cstr(s));
		appendStringInfoString(buf, "::");
		deparse_type(buf, c->consttype, c->consttypmod);
	}
}

/*
 * A parameter, or a value computed for the scan, becomes a remote
 * parameter, numbered by its place in params_list; its value is computed
 * and sent when the scan starts (fdw/scan.c).
 */
static void
deparse_param(Expr *p, HdDeparseCxt *cxt)
{
	int			index = 0;
	ListCell   *lc;

	foreach(lc, *cxt->params_list)
	{
		index++;
		if (equal(p, lfirst(lc)))
			break;
	}
	if (lc == NULL)
	{
		*cxt->params_list = lappend(*cxt->params_list, p);
		index = list_length(*cxt->params_list);
	}
	appendStringInfo(cxt->buf, "$%d::", index);
	deparse_type(cxt->buf, exprType((Node *) p), exprTypmod((Node *) p));
}

static void
deparse_args(List *args, HdDeparseCxt *cxt)
{
	ListCell   *lc;

	foreach(lc, args)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(cxt->buf, ", ");
		deparse_expr(lfirst(lc), cxt);
	}
}

/*
 * Implicit casts are left to the data node, which makes the same ones;
 * explicit ones are written as casts, the rest as qualified calls.
 */
static void
deparse_func(FuncExpr *fe, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;
	int32		typmod;

	if (fe->funcformat == COERCE_IMPLICIT_CAST)
	{
		deparse_expr(linitial(fe->args), cxt);
		return;
	}
	if (fe->funcformat == COERCE_EXPLICIT_CAST)
	{
		if (!exprIsLengthCoercion((Node *) fe, &typmod))
			typmod = -1;
		appendStringInfoChar(buf, '(');
		deparse_expr(linitial(fe->args), cxt);
		appendStringInfoString(buf, ")::");
		deparse_type(buf, fe->funcresulttype, typmod);
		return;
	}
	appendStringInfo(buf, "pg_catalog.%s(",
					 quote_identifier(get_func_name(fe->funcid)));
	deparse_args(fe->args, cxt);
	appendStringInfoChar(buf, ')');
}

static char *
operator_name(Oid opno)
{
	HeapTuple	tup;
	char	   *name;

	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	/* built-in operators live in pg_catalog */
	name = psprintf("OPERATOR(pg_catalog.%s)",
					NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return name;
}

static void
deparse_op(OpExpr *oe, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;

	appendStringInfoChar(buf, '(');
	if (list_length(oe->args) == 2)
	{
		deparse_expr(linitial(oe->args), cxt);
		appendStringInfoChar(buf, ' ');
	}
	appendStringInfoString(buf, operator_name(oe->opno));
	appendStringInfoChar(buf, ' ');
	deparse_expr(llast(oe->args), cxt);
	appendStringInfoChar(buf, ')');
}

static void
deparse_distinct(DistinctExpr *de, HdDeparseCxt *cxt)
{
	appendStringInfoChar(cxt->buf, '(');
	deparse_expr(linitial(de->args), cxt);
	appendStringInfoString(cxt->buf, " IS DISTINCT FROM ");
	deparse_expr(lsecond(de->args), cxt);
	appendStringInfoChar(cxt->buf, ')');
}

static void
deparse_scalar_array_op(ScalarArrayOpExpr *oe, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;

	appendStringInfoChar(buf, '(');
	deparse_expr(linitial(oe->args), cxt);
	appendStringInfo(buf, " %s %s (", operator_name(oe->opno),
					 oe->useOr ? "ANY" : "ALL");
	deparse_expr(lsecond(oe->args), cxt);
	appendStringInfoString(buf, "))");
}

static void
deparse_bool(BoolExpr *be, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;
	const char *op = be->boolop == AND_EXPR ? " AND " : " OR ";
	ListCell   *lc;

	if (be->boolop == NOT_EXPR)
	{
		appendStringInfoString(buf, "(NOT ");
		deparse_expr(linitial(be->args), cxt);
		appendStringInfoChar(buf, ')');
		return;
	}
	appendStringInfoChar(buf, '(');
	foreach(lc, be->args)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, op);
		deparse_expr(lfirst(lc), cxt);
	}
	appendStringInfoChar(buf, ')');
}

static void
deparse_case(CaseExpr *ce, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;
	ListCell   *lc;

	appendStringInfoString(buf, "(CASE");
	if (ce->arg != NULL)
	{
		appendStringInfoChar(buf, ' ');
		deparse_expr(ce->arg, cxt);
	}
	foreach(lc, ce->args)
	{
		CaseWhen   *w = lfirst_node(CaseWhen, lc);

		appendStringInfoString(buf, " WHEN ");
		/* a simple CASE's "CaseTestExpr = v" is written "v" */
		deparse_expr(ce->arg != NULL ? lsecond(((OpExpr *) w->expr)->args) :
					 w->expr, cxt);
		appendStringInfoString(buf, " THEN ");
		deparse_expr(w->result, cxt);
	}
	if (ce->defresult != NULL)
	{
		appendStringInfoString(buf, " ELSE ");
		deparse_expr(ce->defresult, cxt);
	}
	appendStringInfoString(buf, " END)");
}

/* name(args), as COALESCE, GREATEST, LEAST and NULLIF are written */
static void
deparse_construct(const char *name, List *args, HdDeparseCxt *cxt)
{
	appendStringInfo(cxt->buf, "%s(", name);
	deparse_args(args, cxt);
	appendStringInfoChar(cxt->buf, ')');
}

static void
deparse_boolean_test(BooleanTest *bt, HdDeparseCxt *cxt)
{
	static const char *const tests[] = {
		[IS_TRUE] = " IS TRUE)",
		[IS_NOT_TRUE] = " IS NOT TRUE)",
		[IS_FALSE] = " IS FALSE)",
		[IS_NOT_FALSE] = " IS NOT FALSE)",
		[IS_UNKNOWN] = " IS UNKNOWN)",
		[IS_NOT_UNKNOWN] = " IS NOT UNKNOWN)",
	};

	appendStringInfoChar(cxt->buf, '(');
	deparse_expr(bt->arg, cxt);
	appendStringInfoString(cxt->buf, tests[bt->booltesttype]);
}

/* expr's SQL, as a string (with cxt's parameters). */
static char *
deparse_to_string(Expr *expr, HdDeparseCxt *cxt)
{
	StringInfo	saved = cxt->buf;
	StringInfoData buf;

	initStringInfo(&buf);
	cxt->buf = &buf;
	deparse_expr(expr, cxt);
	cxt->buf = saved;
	return buf.data;
}

/* The name of typid's send function (built in, in pg_catalog). */
static char *
send_function_name(Oid typid)
{
	Oid			send;
	bool		isvarlena;

	getTypeBinaryOutputInfo(typid, &send, &isvarlena);
	return get_func_name(send);
}

/*
 * first(value, time) or last(value, time) of this extension, partially:
 * the bytes its serialization function writes for its state (agg/first_last.c:
 * the two type OIDs, then the value's and the time's lengths and send
 * forms, -1 for a NULL value), computed from built-in aggregates: the
 * smallest (largest) time and the value of a row with that time, among
 * rows whose time is not NULL.  No such row: NULL, as no state.
 */
static void
deparse_bookend(Aggref *agg, HdDeparseCxt *cxt, bool last)
{
	Expr	   *value = linitial_node(TargetEntry, agg->args)->expr;
	Expr	   *time = lsecond_node(TargetEntry, agg->args)->expr;
	char	   *t = deparse_to_string(time, cxt);
	char	   *filter;
	char	   *tbound;
	char	   *vsend;
	char	   *tsend;

	filter = psprintf(" FILTER (WHERE (%s IS NOT NULL)%s%s%s)", t,
					  agg->aggfilter ? " AND (" : "",
					  agg->aggfilter ? deparse_to_string(agg->aggfilter, cxt) : "",
					  agg->aggfilter ? ")" : "");
	tbound = psprintf("pg_catalog.%s(%s)%s", last ? "max" : "min", t, filter);
	vsend = psprintf("pg_catalog.%s((pg_catalog.array_agg(%s ORDER BY %s%s)%s)[1])",
					 send_function_name(exprType((Node *) value)),
					 deparse_to_string(value, cxt), t, last ? " DESC" : "",
					 filter);
	tsend = psprintf("pg_catalog.%s(%s)",
					 send_function_name(exprType((Node *) time)),
					 tbound);
	appendStringInfo(cxt->buf,
					 "(CASE WHEN %s IS NULL THEN NULL::bytea ELSE '\\x%08x%08x'::bytea"
					 " OPERATOR(pg_catalog.||) COALESCE(pg_catalog.int4send(pg_catalog.octet_length(%s))"
					 " OPERATOR(pg_catalog.||) %s, '\\xffffffff'::bytea)"
					 " OPERATOR(pg_catalog.||) pg_catalog.int4send(pg_catalog.octet_length(%s))"
					 " OPERATOR(pg_catalog.||) %s END)",
					 tbound, exprType((Node *) value), exprType((Node *) time),
					 vsend, vsend, tsend, tsend);
}

/* The schema-qualified name under which a data node computes the state. */
static char *
partial_agg_name(Oid aggfnoid, HdPartialAggKind kind)
{
	return psprintf("%s.%s",
					kind == HD_PARTIAL_HELPER ? HD_PARTIAL_SCHEMA : "pg_catalog",
					quote_identifier(get_func_name(aggfnoid)));
}

/*
 * An aggregate in a grouping target is computed partially on the data
 * node: the call returns its transition state (agg/partial_agg.c).  Implicit
 * casts of arguments become explicit, so that the data node resolves
 * the same overload among fewer candidates.
 */
static void
deparse_aggref(Aggref *agg, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;
	HdPartialAggKind kind = hd_partial_agg_kind(agg->aggfnoid);
	ListCell   *lc;

	if (kind == HD_PARTIAL_FIRST || kind == HD_PARTIAL_LAST)
	{
		deparse_bookend(agg, cxt, kind == HD_PARTIAL_LAST);
		return;
	}
	appendStringInfo(buf, "%s(", partial_agg_name(agg->aggfnoid, kind));
	if (agg->aggstar)
		appendStringInfoChar(buf, '*');
	foreach(lc, agg->args)
	{
		Expr	   *arg = lfirst_node(TargetEntry, lc)->expr;

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		if (strip_implicit_casts((Node *) arg) == (Node *) arg)
			deparse_expr(arg, cxt);
		else
		{
			appendStringInfoChar(buf, '(');
			deparse_expr(arg, cxt);
			appendStringInfoString(buf, ")::");
			deparse_type(buf, exprType((Node *) arg), exprTypmod((Node *) arg));
		}
	}
	appendStringInfoChar(buf, ')');
	if (agg->aggfilter != NULL)
	{
		appendStringInfoString(buf, " FILTER (WHERE ");
		deparse_expr(agg->aggfilter, cxt);
		appendStringInfoChar(buf, ')');
	}
}

/*
 * Whether node, reading no column, is a value computed here for the scan
 * (is_scan_value) rather than an expression the data node evaluates: the
 * walker took it as a value when it could not ship it as it is.
 */
static bool
is_computed_value(Expr *node)
{
	HdWalkerCxt strict = {NULL, false, false};
	HdCollateCxt outer = {InvalidOid, HD_COLLATE_NONE};

	return !IsA(node, Const) && !IsA(node, Param) &&
		is_scan_value((Node *) node) &&
		!foreign_expr_walker((Node *) node, &strict, &outer);
}

static void
deparse_expr(Expr *node, HdDeparseCxt *cxt)
{
	StringInfo	buf = cxt->buf;

	if (is_computed_value(node))
	{
		deparse_param(node, cxt);
		return;
	}
	switch (nodeTag(node))
	{
		case T_Var:
			deparse_var((Var *) node, cxt);
			break;
		case T_Const:
			deparse_const((Const *) node, cxt);
			break;
		case T_Param:
			deparse_param(node, cxt);
			break;
		case T_FuncExpr:
			deparse_func((FuncExpr *) node, cxt);
			break;
		case T_OpExpr:
			deparse_op((OpExpr *) node, cxt);
			break;
		case T_DistinctExpr:
			deparse_distinct((DistinctExpr *) node, cxt);
			break;
		case T_ScalarArrayOpExpr:
			deparse_scalar_array_op((ScalarArrayOpExpr *) node, cxt);
			break;
		case T_RelabelType:
			{
				RelabelType *r = (RelabelType *) node;

				deparse_expr(r->arg, cxt);
				if (r->relabelformat != COERCE_IMPLICIT_CAST)
				{
					appendStringInfoString(buf, "::");
					deparse_type(buf, r->resulttype, r->resulttypmod);
				}
			}
			break;
		case T_BoolExpr:
			deparse_bool((BoolExpr *) node, cxt);
			break;
		case T_NullTest:
			{
				NullTest   *nt = (NullTest *) node;

				appendStringInfoChar(buf, '(');
				deparse_expr(nt->arg, cxt);
				appendStringInfoString(buf, nt->nulltesttype == IS_NULL ?
									   " IS NULL)" : " IS NOT NULL)");
			}
			break;
		case T_ArrayExpr:
			appendStringInfoString(buf, "ARRAY[");
			deparse_args(((ArrayExpr *) node)->elements, cxt);
			appendStringInfoString(buf, "]::");
			deparse_type(buf, ((ArrayExpr *) node)->array_typeid, -1);
			break;
		case T_NullIfExpr:
			deparse_construct("NULLIF", ((NullIfExpr *) node)->args, cxt);
			break;
		case T_CaseExpr:
			deparse_case((CaseExpr *) node, cxt);
			break;
		case T_CoalesceExpr:
			deparse_construct("COALESCE", ((CoalesceExpr *) node)->args, cxt);
			break;
		case T_MinMaxExpr:
			deparse_construct(((MinMaxExpr *) node)->op == IS_GREATEST ?
							  "GREATEST" : "LEAST",
							  ((MinMaxExpr *) node)->args, cxt);
			break;
		case T_BooleanTest:
			deparse_boolean_test((BooleanTest *) node, cxt);
			break;
		case T_Aggref:
			deparse_aggref((Aggref *) node, cxt);
			break;
		case T_CoerceViaIO:
			{
				CoerceViaIO *cio = (CoerceViaIO *) node;

				appendStringInfoChar(buf, '(');
				deparse_expr(cio->arg, cxt);
				appendStringInfoString(buf, ")::");
				deparse_type(buf, cio->resulttype, -1);
			}
			break;
		default:
			elog(ERROR, "unsupported expression type for deparse: %d",
				 (int) nodeTag(node));
	}
}

/*
 * Sets the output styles every data node reads the same way (DateStyle
 * ISO, IntervalStyle postgres, full float precision) for constants and
 * parameter values sent as text.  Returns the GUC nest level to pass to
 * AtEOXact_GUC(true, level) when done.
 */
int
hd_set_transmission_styles(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("datestyle", "ISO", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * Appends the table's columns whose attribute numbers (offset by
 * FirstLowInvalidHeapAttributeNumber) are in attrs_used, all of them for a
 * whole-row reference, and returns their attribute numbers in
 * *retrieved_attrs.  System columns are not fetched (tableoid is filled in
 * locally).  With no column needed (count(*), RETURNING 1) the list is
 * "NULL": still one value per row.
 */
void
hd_deparse_column_list(StringInfo buf, Oid relid, Bitmapset *attrs_used,
					   List **retrieved_attrs)
{
	Relation	rel = table_open(relid, NoLock);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
										  attrs_used);

	*retrieved_attrs = NIL;
	for (int i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped ||
			(!whole_row &&
			 !bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs_used)))
			continue;
		if (*retrieved_attrs != NIL)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf,
							   quote_identifier(hd_column_remote_name(relid, i)));
		*retrieved_attrs = lappend_int(*retrieved_attrs, i);
	}
	if (*retrieved_attrs == NIL)
		appendStringInfoString(buf, "NULL");
	table_close(rel, NoLock);
}

/* Appends the clauses of exprs, ANDed (see hd_deparse_expr_list). */
void
hd_deparse_conditions(StringInfo buf, Oid relid, List *exprs,
					  List **params_list)
{
	hd_deparse_expr_list(buf, relid, exprs, " AND ", params_list);
}

/* The expressions of hd_deparse_expr_list, in cxt. */
static void
deparse_list(HdDeparseCxt *cxt, List *exprs, const char *sep)
{
	StringInfo	buf = cxt->buf;
	int			nestlevel = hd_set_transmission_styles();
	ListCell   *lc;

	foreach(lc, exprs)
	{
		Expr	   *expr = lfirst(lc);

		if (IsA(expr, RestrictInfo))
			expr = ((RestrictInfo *) expr)->clause;
		else if (IsA(expr, TargetEntry))
			expr = ((TargetEntry *) expr)->expr;
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, sep);
		deparse_expr(expr, cxt);
	}

	AtEOXact_GUC(true, nestlevel);
}

/*
 * Appends exprs (RestrictInfos, TargetEntries or bare expressions), each
 * after the first preceded by sep, and adds the Params they use to
 * *params_list.  Constants are printed as postgres_fdw prints them, in
 * formats every data node reads the same whatever its DateStyle,
 * IntervalStyle or float settings.
 */
void
hd_deparse_expr_list(StringInfo buf, Oid relid, List *exprs, const char *sep,
					 List **params_list)
{
	HdDeparseCxt cxt = {buf, relid, NIL, params_list};

	deparse_list(&cxt, exprs, sep);
}

/* hd_deparse_expr_list for a joined query: columns qualified (HdJoinRel) */
void
hd_deparse_join_expr_list(StringInfo buf, List *rels, List *exprs,
						  const char *sep, List **params_list)
{
	HdDeparseCxt cxt = {buf, InvalidOid, rels, params_list};

	deparse_list(&cxt, exprs, sep);
}
