/* SPDX-License-Identifier: PostgreSQL */
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
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "agg/partial_agg.h"

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

/* The built-in aggregates a data node computes with a helper aggregate. */
List *
hd_partial_agg_helpers(void)
{
	List	   *helpers = NIL;

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
			helpers = lappend_oid(helpers, aggfnoid);
		ReleaseSysCache(proctup);
		ReleaseSysCache(aggtup);
	}
	return helpers;
}
