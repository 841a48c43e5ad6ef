/* SPDX-License-Identifier: PostgreSQL */
/*
 * deparse/admin.c — node management, sizes and health on data nodes.
 *
 * What add_data_node and delete_data_node run on a data node (its
 * settings, its database, the schemas and helper aggregates it needs),
 * the size query of hypertable_size() and friends, and health()'s
 * question.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "agg/partial_agg.h"
#include "deparse/deparse.h"
#include "metadata/catalog.h"

/* ---- node management --------------------------------------------------- */

/*
 * The data node's version and settings distributed commits need, and the
 * encoding and locale of database $1 there (NULLs if it does not exist).
 */
const char *
hd_deparse_node_settings_query(void)
{
	return "SELECT pg_catalog.current_setting('server_version_num'),"
		" pg_catalog.current_setting('max_prepared_transactions'),"
		" pg_catalog.current_setting('max_connections'),"
		" pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype"
		" FROM (SELECT) s LEFT JOIN pg_catalog.pg_database d ON d.datname = $1";
}

/* CREATE DATABASE dbname with an encoding and locale (icu_locale: ICU's). */
char *
hd_deparse_create_database(const char *dbname, const char *encoding,
						   const char *collate, const char *ctype,
						   const char *icu_locale)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE DATABASE %s TEMPLATE template0 ENCODING %s"
					 " LOCALE_PROVIDER %s LC_COLLATE %s LC_CTYPE %s",
					 quote_identifier(dbname),
					 quote_literal_cstr(encoding),
					 icu_locale != NULL ? "icu" : "libc",
					 quote_literal_cstr(collate),
					 quote_literal_cstr(ctype));
	if (icu_locale != NULL)
		appendStringInfo(&sql, " ICU_LOCALE %s", quote_literal_cstr(icu_locale));
	return sql.data;
}

char *
hd_deparse_drop_database(const char *dbname)
{
	return psprintf("DROP DATABASE IF EXISTS %s", quote_identifier(dbname));
}

/*
 * The schema chunks go to unless a hypertable names another; a query names
 * chunks, so every role needs USAGE (not CREATE: the owners that create
 * chunks are granted it).
 */
const char *
hd_deparse_internal_schema(void)
{
	return "CREATE SCHEMA IF NOT EXISTS " HD_INTERNAL_SCHEMA ";"
		" GRANT USAGE ON SCHEMA " HD_INTERNAL_SCHEMA " TO PUBLIC";
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
 * data node, one for each of the built-in aggregates aggfnoids
 * (agg/partial_agg.c).
 */
char *
hd_deparse_partial_aggs(List *aggfnoids)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "CREATE SCHEMA IF NOT EXISTS " HD_PARTIAL_SCHEMA ";\n");
	foreach(lc, aggfnoids)
	{
		Oid			aggfnoid = lfirst_oid(lc);
		HeapTuple	aggtup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
		HeapTuple	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));

		if (!HeapTupleIsValid(aggtup) || !HeapTupleIsValid(proctup))
			elog(ERROR, "cache lookup failed for aggregate %u", aggfnoid);
		append_helper(&sql, (Form_pg_aggregate) GETSTRUCT(aggtup),
					  (Form_pg_proc) GETSTRUCT(proctup), aggtup);
		ReleaseSysCache(proctup);
		ReleaseSysCache(aggtup);
	}
	return sql.data;
}

/* ---- sizes and health -------------------------------------------------- */

/*
 * Sizes of the hypertable's partitions on a data node, summed or
 * (per_chunk) one row per leaf: schema, name, table, index, toast and
 * total bytes.
 */
char *
hd_deparse_sizes(const HdHypertable *ht, bool per_chunk)
{
	const char *table = "pg_catalog.pg_relation_size(c.oid, 'main')"
		" + pg_catalog.pg_relation_size(c.oid, 'fsm')"
		" + pg_catalog.pg_relation_size(c.oid, 'vm')"
		" + pg_catalog.pg_relation_size(c.oid, 'init')";
	const char *toast = "CASE WHEN c.reltoastrelid <> 0"
		" THEN pg_catalog.pg_total_relation_size(c.reltoastrelid) ELSE 0 END";
	char	   *root = quote_literal_cstr(hd_deparse_hypertable_name(ht));

	if (per_chunk)
		return psprintf("SELECT n.nspname, c.relname, (%s)::int8,"
						" pg_catalog.pg_indexes_size(c.oid)::int8, (%s)::int8,"
						" pg_catalog.pg_total_relation_size(c.oid)::int8"
						" FROM pg_catalog.pg_partition_tree(%s::pg_catalog.regclass) t"
						" JOIN pg_catalog.pg_class c ON c.oid = t.relid"
						" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
						" WHERE t.isleaf",
						table, toast, root);
	return psprintf("SELECT NULL, NULL, coalesce(pg_catalog.sum(%s), 0)::int8,"
					" coalesce(pg_catalog.sum(pg_catalog.pg_indexes_size(c.oid)), 0)::int8,"
					" coalesce(pg_catalog.sum(%s), 0)::int8,"
					" coalesce(pg_catalog.sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::int8"
					" FROM pg_catalog.pg_partition_tree(%s::pg_catalog.regclass) t"
					" JOIN pg_catalog.pg_class c ON c.oid = t.relid",
					table, toast, root);
}

/* health(): whether the data node is a standby. */
const char *
hd_deparse_in_recovery_query(void)
{
	return "SELECT pg_catalog.pg_is_in_recovery()";
}
