/*
 * agg/partial_agg.c — aggregates a data node can compute partially.
 *
 * A query grouping a distributed hypertable is split as a parallel query
 * is: each data node runs the aggregates' transition functions over its
 * rows and returns, per group, the transition state; the access node
 * combines the states of all nodes (combinefn) and finishes (finalfn), in
 * an Agg node of PostgreSQL's own (AGGSPLIT_FINAL_DESERIAL).  Data nodes
 * have no extension, so the state must come out of plain SQL:
 *
 * - when the aggregate's result is its state (no final function, result
 *   type = state type: count, sum of integers and floats, min, max,
 *   bool_and...), the built-in aggregate itself returns it;
 * - otherwise (avg, stddev, sum(numeric)...) add_data_node creates, in
 *   schema _hyperdist_partial on the data node, an aggregate of the same
 *   name and argument types with the same transition function, state type
 *   and initial value, whose final function is the state itself or, for
 *   an "internal" state, the built-in serialization function.  Its result
 *   is what the access node's deserialization function reads.
 *
 * - this extension's first() and last(), whose state is the value at the
 *   smallest (largest) time and that time, serialized with the types'
 *   send functions (agg/first_last.c): the data node computes both with
 *   built-in aggregates and writes the same bytes (deparse/expr.c).
 *
 * Both sides run the same major version of PostgreSQL (add_data_node
 * checks), so built-in aggregates have the same OIDs and definitions.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "agg/partial_agg.h"

/* The schema of the helper aggregates on every data node. */
#define HD_PARTIAL_SCHEMA "_hyperdist_partial"

static bool
is_polymorphic_or_pseudo(Oid typid)
{
	return IsPolymorphicType(typid) || get_typtype(typid) == TYPTYPE_PSEUDO;
}

/* Whether the aggregate's arguments are all ordinary, non-variadic types. */
static bool
plain_arguments(Form_pg_proc proc)
{
	if (proc->provariadic != InvalidOid)
		return false;
	for (int i = 0; i < proc->pronargs; i++)
	{
		if (is_polymorphic_or_pseudo(proc->proargtypes.values[i]))
			return false;
	}
	return true;
}

static HdPartialAggKind
classify(Form_pg_aggregate agg, Form_pg_proc proc)
{
	if (agg->aggkind != AGGKIND_NORMAL || !OidIsValid(agg->aggcombinefn))
		return HD_PARTIAL_NONE;
	if (agg->aggtranstype == INTERNALOID)
		return OidIsValid(agg->aggserialfn) && OidIsValid(agg->aggdeserialfn) &&
			plain_arguments(proc) ? HD_PARTIAL_HELPER : HD_PARTIAL_NONE;
	if (is_polymorphic_or_pseudo(agg->aggtranstype))
		return HD_PARTIAL_NONE;
	if (!OidIsValid(agg->aggfinalfn) && agg->aggtranstype == proc->prorettype)
		return HD_PARTIAL_BUILTIN;
	return plain_arguments(proc) ? HD_PARTIAL_HELPER : HD_PARTIAL_NONE;
}

/* HD_PARTIAL_FIRST or _LAST for this extension's first() and last(). */
static HdPartialAggKind
bookend_kind(Oid aggfnoid)
{
	HeapTuple	aggtup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	HdPartialAggKind kind = HD_PARTIAL_NONE;
	Oid			transfn;
	char	   *nspname;

	if (!HeapTupleIsValid(aggtup))
		return HD_PARTIAL_NONE;
	transfn = ((Form_pg_aggregate) GETSTRUCT(aggtup))->aggtransfn;
	ReleaseSysCache(aggtup);
	nspname = get_namespace_name(get_func_namespace(transfn));
	if (nspname == NULL || strcmp(nspname, "_hyperdist_functions") != 0)
		return HD_PARTIAL_NONE;
	if (strcmp(get_func_name(transfn), "first_transfn") == 0)
		kind = HD_PARTIAL_FIRST;
	else if (strcmp(get_func_name(transfn), "last_transfn") == 0)
		kind = HD_PARTIAL_LAST;
	return kind;
}

HdPartialAggKind
hd_partial_agg_kind(Oid aggfnoid)
{
	HeapTuple	aggtup;
	HeapTuple	proctup;
	HdPartialAggKind kind;

	if (aggfnoid >= FirstGenbkiObjectId)
		return bookend_kind(aggfnoid);
	aggtup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(aggtup))
		return HD_PARTIAL_NONE;
	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", aggfnoid);
	kind = classify((Form_pg_aggregate) GETSTRUCT(aggtup),
					(Form_pg_proc) GETSTRUCT(proctup));
	ReleaseSysCache(proctup);
	ReleaseSysCache(aggtup);
	return kind;
}

/* The schema-qualified name under which a data node computes the state. */
char *
hd_partial_agg_name(Oid aggfnoid, HdPartialAggKind kind)
{
	return psprintf("%s.%s",
					kind == HD_PARTIAL_HELPER ? HD_PARTIAL_SCHEMA : "pg_catalog",
					quote_identifier(get_func_name(aggfnoid)));
}

static void
append_support_func(StringInfo sql, const char *option, Oid func)
{
	if (OidIsValid(func))
		appendStringInfo(sql, ", %s = pg_catalog.%s", option,
						 quote_identifier(get_func_name(func)));
}

/*
 * CREATE OR REPLACE AGGREGATE for one helper aggregate.  It has the
 * built-in's combine (and serialization) functions, so that a data node
 * can compute the state with a parallel plan.
 */
static void
append_helper(StringInfo sql, Form_pg_aggregate agg, Form_pg_proc proc,
			  HeapTuple aggtup)
{
	bool		isnull;
	Datum		initval;

	appendStringInfo(sql, "CREATE OR REPLACE AGGREGATE %s.%s(",
					 HD_PARTIAL_SCHEMA, quote_identifier(NameStr(proc->proname)));
	for (int i = 0; i < proc->pronargs; i++)
		appendStringInfo(sql, "%s%s", i > 0 ? ", " : "",
						 format_type_be_qualified(proc->proargtypes.values[i]));
	appendStringInfo(sql, ") (SFUNC = pg_catalog.%s, STYPE = %s",
					 quote_identifier(get_func_name(agg->aggtransfn)),
					 format_type_be_qualified(agg->aggtranstype));
	if (agg->aggtranstype == INTERNALOID)
		appendStringInfo(sql, ", FINALFUNC = pg_catalog.%s",
						 quote_identifier(get_func_name(agg->aggserialfn)));
	initval = SysCacheGetAttr(AGGFNOID, aggtup, Anum_pg_aggregate_agginitval,
							  &isnull);
	if (!isnull)
		appendStringInfo(sql, ", INITCOND = %s",
						 quote_literal_cstr(TextDatumGetCString(initval)));
	/* the built-in's own partial-aggregation support: parallel plans */
	append_support_func(sql, "COMBINEFUNC", agg->aggcombinefn);
	if (agg->aggtranstype == INTERNALOID)
	{
		append_support_func(sql, "SERIALFUNC", agg->aggserialfn);
		append_support_func(sql, "DESERIALFUNC", agg->aggdeserialfn);
	}
	appendStringInfoString(sql, ", PARALLEL = SAFE);\n");
}

/*
 * The SQL that creates (or brings up to date) the helper aggregates on a
 * data node: one per built-in aggregate of kind HD_PARTIAL_HELPER.
 */
char *
hd_partial_agg_objects_sql(void)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "CREATE SCHEMA IF NOT EXISTS " HD_PARTIAL_SCHEMA ";\n");
	for (Oid aggfnoid = 1; aggfnoid < FirstGenbkiObjectId; aggfnoid++)
	{
		HeapTuple	aggtup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
		HeapTuple	proctup;

		if (!HeapTupleIsValid(aggtup))
			continue;
		proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
		if (!HeapTupleIsValid(proctup))
			elog(ERROR, "cache lookup failed for function %u", aggfnoid);
		if (classify((Form_pg_aggregate) GETSTRUCT(aggtup),
					 (Form_pg_proc) GETSTRUCT(proctup)) == HD_PARTIAL_HELPER)
			append_helper(&sql, (Form_pg_aggregate) GETSTRUCT(aggtup),
						  (Form_pg_proc) GETSTRUCT(proctup), aggtup);
		ReleaseSysCache(proctup);
		ReleaseSysCache(aggtup);
	}
	return sql.data;
}
