/* SPDX-License-Identifier: PostgreSQL */
/*
 * deparse/query.c — the statements that read and write a table's rows on data nodes.
 *
 * Scans (SELECT, with DISTINCT ON, ORDER BY ... LIMIT and partial
 * aggregates shipped), the per-node chunk filters, UPDATE and DELETE run
 * directly on the data nodes, INSERT and COPY of routed rows, ON CONFLICT,
 * remote EXPLAIN and ANALYZE's size and sample queries.  Expressions are
 * printed by deparse/expr.c; the callers decide when and where each
 * statement is sent.
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "deparse/deparse.h"

/* ---- names --------------------------------------------------------------- */

/* The value of option keyword in options, or NULL. */
static char *
find_option(List *options, const char *keyword)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, keyword) == 0)
			return defGetString(def);
	}
	return NULL;
}

void
hd_table_remote_name(Oid relid, char **nspname, char **relname)
{
	ForeignTable *table = GetForeignTable(relid);

	*nspname = find_option(table->options, "schema_name");
	if (*nspname == NULL)
		*nspname = get_namespace_name(get_rel_namespace(relid));

	*relname = find_option(table->options, "table_name");
	if (*relname == NULL)
		*relname = get_rel_name(relid);
}

char *
hd_column_remote_name(Oid relid, AttrNumber attnum)
{
	char	   *name;

	name = find_option(GetForeignColumnOptions(relid, attnum), "column_name");
	if (name == NULL)
		name = get_attname(relid, attnum, false);
	return name;
}

/* "schema"."table" of the hypertable, also its root table's name on data nodes. */
char *
hd_deparse_hypertable_name(const HdHypertable *ht)
{
	return quote_qualified_identifier(ht->schema_name, ht->table_name);
}

/* The quoted, qualified name of a foreign table's table on its data node. */
char *
hd_deparse_remote_table(Oid relid)
{
	char	   *nspname;
	char	   *relname;

	hd_table_remote_name(relid, &nspname, &relname);
	return quote_qualified_identifier(nspname, relname);
}

/* The quoted, qualified name of a local relation. */
char *
hd_deparse_local_table(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* ---- scans ------------------------------------------------------------- */

/* Appends " FROM <the table on the data node>". */
static void
deparse_from(StringInfo buf, Oid relid)
{
	appendStringInfo(buf, " FROM %s", hd_deparse_remote_table(relid));
}

/* DISTINCT or DISTINCT ON (...) for after SELECT, or nothing. */
static void
deparse_distinct_on(StringInfo buf, Oid relid, HdRemoteLimit *rl,
					List **params_list)
{
	if (rl != NULL && rl->distinct)
		appendStringInfoString(buf, "DISTINCT ");
	if (rl == NULL || rl->distinct_on == NIL)
		return;
	appendStringInfoString(buf, "DISTINCT ON (");
	hd_deparse_expr_list(buf, relid, rl->distinct_on, ", ", params_list);
	appendStringInfoString(buf, ") ");
}

/* Appends " WHERE <conds>" unless there is none. */
static void
deparse_where(StringInfo buf, Oid relid, List *conds, List **params_list)
{
	if (conds == NIL)
		return;
	appendStringInfoString(buf, " WHERE ");
	hd_deparse_conditions(buf, relid, conds, params_list);
}

/* The SQL of one expression. */
static char *
deparse_one(Oid relid, Expr *expr, List **params_list)
{
	StringInfoData buf;

	initStringInfo(&buf);
	hd_deparse_expr_list(&buf, relid, list_make1(expr), "", params_list);
	return buf.data;
}

/*
 * "SELECT [DISTINCT [ON (...)]] <columns> FROM <table> [WHERE <conds>]":
 * the columns of attrs_used (their numbers in *retrieved_attrs) and the
 * quals the data node evaluates (RestrictInfos or expressions).
 */
char *
hd_deparse_scan(Oid relid, Bitmapset *attrs_used, List *conds,
				HdRemoteLimit *rl, List **retrieved_attrs, List **params_list)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	deparse_distinct_on(&sql, relid, rl, params_list);
	hd_deparse_column_list(&sql, relid, attrs_used, retrieved_attrs);
	deparse_from(&sql, relid);
	deparse_where(&sql, relid, conds, params_list);
	return sql.data;
}

/* " ASC NULLS LAST" or the like: the direction of a sort clause. */
static void
deparse_direction(StringInfo buf, SortGroupClause *sgc)
{
	Oid			opfamily;
	Oid			opcintype;
	int16		strategy;

	(void) get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype,
									  &strategy);
	appendStringInfo(buf, "%s NULLS %s",
					 strategy == BTLessStrategyNumber ? " ASC" : " DESC",
					 sgc->nulls_first ? "FIRST" : "LAST");
}

/* " LIMIT n" unless limit < 0 (none) */
static void
deparse_limit(StringInfo buf, int64 limit)
{
	if (limit >= 0)
		appendStringInfo(buf, " LIMIT " INT64_FORMAT, limit);
}

/* " ORDER BY ..." of the sort clauses from the first'th on, if any. */
static void
deparse_order_by(StringInfo buf, Oid relid, HdRemoteLimit *rl, int first,
				 List **params_list)
{
	ListCell   *lc1;
	ListCell   *lc2;

	forboth(lc1, rl->sort_clauses, lc2, rl->sort_exprs)
	{
		int			i = foreach_current_index(lc1);

		if (i < first)
			continue;
		appendStringInfoString(buf, i == first ? " ORDER BY " : ", ");
		hd_deparse_expr_list(buf, relid, list_make1(lfirst(lc2)), "",
							 params_list);
		deparse_direction(buf, lfirst_node(SortGroupClause, lc1));
	}
}

/* " ORDER BY ... LIMIT n" for after the WHERE clause. */
char *
hd_deparse_order_limit(Oid relid, HdRemoteLimit *rl, List **params_list)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (rl == NULL)
		return buf.data;
	deparse_order_by(&buf, relid, rl, 0, params_list);
	deparse_limit(&buf, rl->limit);
	return buf.data;
}

/*
 * DISTINCT ON (k) ... ORDER BY k, <rest>, k a column, as a walk of the
 * distinct keys, each a descent of an index on k if the data node has
 * one, then for each key its first row by the rest of the order, which an
 * index on (k, <rest>) finds at once, and the NULL key's first row, a group
 * of DISTINCT ON too:
 *
 *   WITH RECURSIVE s(k) AS (
 *     (SELECT r.k FROM <table> r WHERE r.k IS NOT NULL AND <conds>
 *      ORDER BY r.k LIMIT 1)
 *     UNION ALL
 *     SELECT (SELECT r.k FROM <table> r WHERE r.k > s.k AND <conds>
 *             ORDER BY r.k LIMIT 1)
 *     FROM s WHERE s.k IS NOT NULL)
 *   SELECT q.* FROM s, LATERAL (SELECT <columns> FROM <table> r
 *     WHERE r.k = s.k AND <conds> ORDER BY <rest> LIMIT 1) q
 *   UNION ALL
 *   (SELECT <columns> FROM <table> r WHERE r.k IS NULL AND <conds>
 *    ORDER BY <rest> LIMIT 1)
 *
 * then the query's ORDER BY ... LIMIT, on the UNION's output columns,
 * which the sort clauses are (fdw/limit.c).  The conditions name columns
 * unqualified, which is r's in each subquery.  The statement in parts,
 * each but the last ending with a WHERE clause that a chunk filter
 * extends (hd_deparse_node_scan).
 */
List *
hd_deparse_skip_scan(Oid relid, Bitmapset *attrs_used, List *conds,
					 HdRemoteLimit *rl, List **retrieved_attrs,
					 List **params_list)
{
	char	   *table = hd_deparse_remote_table(relid);
	StringInfoData key;
	StringInfoData cols;
	StringInfoData where;
	StringInfoData rest;
	List	   *parts = NIL;

	initStringInfo(&key);
	appendStringInfo(&key, "r.%s",
					 deparse_one(relid, linitial(rl->distinct_on), params_list));
	initStringInfo(&cols);
	hd_deparse_column_list(&cols, relid, attrs_used, retrieved_attrs);
	initStringInfo(&where);
	if (conds != NIL)
	{
		appendStringInfoString(&where, " AND ");
		hd_deparse_conditions(&where, relid, conds, params_list);
	}
	initStringInfo(&rest);
	deparse_order_by(&rest, relid, rl, 1, params_list);

	parts = lappend(parts, makeString(psprintf("WITH RECURSIVE s(k) AS ("
											   "(SELECT %s FROM %s r WHERE %s IS NOT NULL%s",
											   key.data, table, key.data,
											   where.data)));
	parts = lappend(parts, makeString(psprintf(" ORDER BY %s LIMIT 1) UNION ALL"
											   " SELECT (SELECT %s FROM %s r WHERE %s > s.k%s",
											   key.data, key.data, table,
											   key.data, where.data)));
	parts = lappend(parts, makeString(psprintf(" ORDER BY %s LIMIT 1) FROM s WHERE s.k IS NOT NULL)"
											   " SELECT q.* FROM s, LATERAL (SELECT %s FROM %s r WHERE %s = s.k%s",
											   key.data, cols.data, table,
											   key.data, where.data)));
	parts = lappend(parts, makeString(psprintf("%s LIMIT 1) q UNION ALL"
											   " (SELECT %s FROM %s r WHERE %s IS NULL%s",
											   rest.data, cols.data, table,
											   key.data, where.data)));
	return lappend(parts, makeString(psprintf("%s LIMIT 1)%s", rest.data,
											  hd_deparse_order_limit(relid, rl,
																	 params_list))));
}

/*
 * " ORDER BY 1 DESC NULLS FIRST, ... LIMIT n": the sort clauses by the
 * positions of their columns, in step; "" without a limit.
 */
char *
hd_deparse_order_positions(List *positions, List *sort_clauses, int64 limit)
{
	StringInfoData buf;
	ListCell   *lc1;
	ListCell   *lc2;

	initStringInfo(&buf);
	if (limit < 0)
		return buf.data;
	forboth(lc1, positions, lc2, sort_clauses)
	{
		appendStringInfo(&buf, "%s%d",
						 foreach_current_index(lc1) == 0 ? " ORDER BY " : ", ",
						 lfirst_int(lc1));
		deparse_direction(&buf, lfirst_node(SortGroupClause, lc2));
	}
	deparse_limit(&buf, limit);
	return buf.data;
}

/*
 * The partial aggregation's query in parts (hd_deparse_node_scan): "SELECT
 * <tlist> FROM <table> [WHERE <conds>]", then suffix (GROUP BY ...).
 *
 * With a bucket, the query's one grouping expression, date_bin(...) over
 * column, NOT NULL, the rows are only those of the newest `buckets` buckets
 * (fdw/limit.c): column >= the start of the buckets'th newest bucket, which
 * a walk of the buckets newest first finds, one step per bucket, each the
 * newest row older than the bucket before:
 *
 *   column >= (WITH RECURSIVE w(b, i) AS (
 *     (SELECT <bucket>, 1 FROM <table> r WHERE column IS NOT NULL AND <conds>
 *      ORDER BY column DESC LIMIT 1)
 *     UNION ALL
 *     SELECT (SELECT <bucket> FROM <table> r WHERE column < w.b AND <conds>
 *             ORDER BY column DESC LIMIT 1), w.i + 1
 *     FROM w WHERE w.i < <buckets> AND w.b IS NOT NULL)
 *   SELECT min(w.b) FROM w)
 *
 * A bucket holds the rows from its start to the next one's, so the rows
 * older than a bucket's start are those of older buckets.
 */
List *
hd_deparse_grouping(Oid relid, List *tlist, List *conds, Expr *bucket,
					Var *column, int64 buckets, const char *suffix,
					List **params_list)
{
	StringInfoData sql;
	StringInfoData where;
	char	   *table = hd_deparse_remote_table(relid);
	char	   *expr;
	char	   *col;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	hd_deparse_expr_list(&sql, relid, tlist, ", ", params_list);
	deparse_from(&sql, relid);
	deparse_where(&sql, relid, conds, params_list);
	if (bucket == NULL)
		return list_make2(makeString(sql.data), makeString(pstrdup(suffix)));

	initStringInfo(&where);
	if (conds != NIL)
	{
		appendStringInfoString(&where, " AND ");
		hd_deparse_conditions(&where, relid, conds, params_list);
	}
	expr = deparse_one(relid, bucket, params_list);
	col = deparse_one(relid, (Expr *) column, params_list);
	appendStringInfo(&sql, " %s %s >= (WITH RECURSIVE w(b, i) AS ("
					 "(SELECT %s, 1 FROM %s r WHERE %s IS NOT NULL%s",
					 conds != NIL ? "AND" : "WHERE", col, expr, table, col,
					 where.data);
	return list_make4(makeString(sql.data),
					  makeString(psprintf(" ORDER BY %s DESC LIMIT 1) UNION ALL"
										  " SELECT (SELECT %s FROM %s r WHERE %s < w.b%s",
										  col, expr, table, col, where.data)),
					  makeString(psprintf(" ORDER BY %s DESC LIMIT 1), w.i + 1"
										  " FROM w WHERE w.i < " INT64_FORMAT
										  " AND w.b IS NOT NULL) SELECT min(w.b) FROM w)",
										  col, buckets)),
					  makeString(pstrdup(suffix)));
}

/* The SQL keyword of a join type of HdJoinRel. */
static const char *
join_keyword(JoinType jointype)
{
	switch (jointype)
	{
		case JOIN_LEFT:
			return "LEFT";
		case JOIN_SEMI:
			return "SEMI";
		case JOIN_ANTI:
			return "ANTI";
		default:
			return "INNER";
	}
}

/* " WHERE " before a query's first condition, " AND " before the others */
static void
append_conjunct(StringInfo buf, bool *has_where)
{
	appendStringInfoString(buf, *has_where ? " AND " : " WHERE ");
	*has_where = true;
}

/*
 * " [NOT] EXISTS (SELECT NULL FROM <reference table> r<varno> WHERE
 * <conds>)": a semi- or anti-join, as a filter of the rows of the
 * relations before it in rels, which its conds may read.
 */
static void
deparse_exists(StringInfo buf, List *rels, HdJoinRel *rel,
			   List **params_list)
{
	appendStringInfo(buf, "%sEXISTS (SELECT NULL FROM %s r%u",
					 rel->jointype == JOIN_ANTI ? "NOT " : "",
					 hd_deparse_local_table(rel->relid), rel->varno);
	if (rel->conds != NIL)
	{
		appendStringInfoString(buf, " WHERE ");
		hd_deparse_join_expr_list(buf, rels, rel->conds, " AND ", params_list);
	}
	appendStringInfoChar(buf, ')');
}

/*
 * A distributed hypertable joined with reference tables (fdw/join.c), in
 * parts (hd_deparse_node_scan): "SELECT <tlist> FROM <hypertable> r1 JOIN
 * <reference table> r2 ON (...) LEFT JOIN ... [WHERE <conds> AND [NOT]
 * EXISTS (...)]", then suffix (GROUP BY ...).  rels are the HdJoinRels,
 * the hypertable first; a reference table's copy on a data node has its
 * name.  Semi- and anti-joins filter the rows of the others in WHERE: they
 * read only columns of rels before them, which the joins after them keep
 * as they are (inner joins, and LEFT JOINs preserving them), so the filter
 * can as well apply after those.  A query needing no column selects NULL,
 * one value per row.  *has_where tells whether the first part ends with
 * a WHERE clause.
 */
List *
hd_deparse_join(List *rels, List *tlist, List *conds, const char *suffix,
				List **params_list, bool *has_where)
{
	StringInfoData sql;
	HdJoinRel  *first = linitial(rels);
	ListCell   *lc;

	*has_where = false;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	if (tlist == NIL)
		appendStringInfoString(&sql, "NULL");
	hd_deparse_join_expr_list(&sql, rels, tlist, ", ", params_list);
	appendStringInfo(&sql, " FROM %s r%u",
					 hd_deparse_remote_table(first->relid), first->varno);
	for_each_from(lc, rels, 1)
	{
		HdJoinRel  *rel = lfirst(lc);

		if (rel->jointype == JOIN_SEMI || rel->jointype == JOIN_ANTI)
			continue;
		appendStringInfo(&sql, " %s JOIN %s r%u ON (",
						 join_keyword(rel->jointype),
						 hd_deparse_local_table(rel->relid), rel->varno);
		if (rel->conds == NIL)
			appendStringInfoString(&sql, "true");
		hd_deparse_join_expr_list(&sql, rels, rel->conds, " AND ",
								  params_list);
		appendStringInfoChar(&sql, ')');
	}
	if (conds != NIL)
	{
		append_conjunct(&sql, has_where);
		hd_deparse_join_expr_list(&sql, rels, conds, " AND ", params_list);
	}
	for_each_from(lc, rels, 1)
	{
		HdJoinRel  *rel = lfirst(lc);

		if (rel->jointype != JOIN_SEMI && rel->jointype != JOIN_ANTI)
			continue;
		append_conjunct(&sql, has_where);
		deparse_exists(&sql, rels, rel, params_list);
	}
	return list_make2(makeString(sql.data), makeString(pstrdup(suffix)));
}

/* The alias of the hypertable in hd_deparse_join's query, for its chunk filter. */
char *
hd_deparse_join_alias(List *rels)
{
	return psprintf("r%u", ((HdJoinRel *) linitial(rels))->varno);
}

/*
 * The relations of hd_deparse_join's query for EXPLAIN, in the planner's
 * join order, as postgres_fdw shows a join it pushes down:
 * "((public.cpu r1) INNER JOIN (public.tags r2)) SEMI JOIN (public.regions
 * r3)", within "Aggregate on (...)" when the data nodes group the rows.
 */
char *
hd_deparse_join_relations(List *rels, bool grouped)
{
	char	   *joined = NULL;
	ListCell   *lc;

	foreach(lc, rels)
	{
		HdJoinRel  *rel = lfirst(lc);
		char	   *table = psprintf("(%s r%u)",
									 hd_deparse_local_table(rel->relid),
									 rel->varno);

		if (joined == NULL)
			joined = table;
		else if (foreach_current_index(lc) == 1)
			joined = psprintf("%s %s JOIN %s", joined,
							  join_keyword(rel->jointype), table);
		else
			joined = psprintf("(%s) %s JOIN %s", joined,
							  join_keyword(rel->jointype), table);
	}
	return grouped ? psprintf("Aggregate on (%s)", joined) : joined;
}

/* " GROUP BY 1, 2": the grouping columns by their positions; "" if none. */
char *
hd_deparse_group_by(List *positions)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, positions)
		appendStringInfo(&buf, "%s%d",
						 foreach_current_index(lc) == 0 ? " GROUP BY " : ", ",
						 lfirst_int(lc));
	return buf.data;
}

/*
 * "tableoid IN ('name'::regclass, ...)" of chunks' qualified names; the
 * column qualified by alias unless it is NULL.
 */
static char *
chunk_filter(List *chunk_names, const char *alias)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (alias != NULL)
		appendStringInfo(&buf, "%s.", alias);
	appendStringInfoString(&buf, "tableoid IN (");
	foreach(lc, chunk_names)
		appendStringInfo(&buf, "%s%s::regclass",
						 foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(lfirst(lc)));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * The condition restricting a statement on a data node to the chunks of
 * its plan, or NULL when the node needs none.  alias, when not NULL, is the
 * hypertable's in a joined query, whose other tables have a tableoid too.
 */
char *
hd_deparse_read_filter(const HdNodeRead *read, const char *alias)
{
	return read->restricted ? chunk_filter(read->chunks, alias) : NULL;
}

/*
 * A data node's scan: the query's parts (Strings), with the chunk filter if
 * any after each but the last.  Only the first part may lack a WHERE clause
 * (has_where).
 */
char *
hd_deparse_node_scan(List *parts, bool has_where, const char *chunk_filter)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, parts)
	{
		appendStringInfoString(&buf, strVal(lfirst(lc)));
		if (chunk_filter != NULL && lnext(parts, lc) != NULL)
			appendStringInfo(&buf, " %s %s",
							 has_where || foreach_current_index(lc) > 0 ?
							 "AND" : "WHERE", chunk_filter);
	}
	return buf.data;
}

/* The data node's plan of sql, as EXPLAIN VERBOSE shows it. */
char *
hd_deparse_explain(const char *sql, bool costs)
{
	return psprintf("EXPLAIN (VERBOSE, COSTS %s) %s", costs ? "ON" : "OFF", sql);
}

/* ---- UPDATE and DELETE ------------------------------------------------- */

/*
 * "UPDATE <table> SET col = expr, ... [WHERE <conds>]" (set_attnums and
 * set_exprs in step), or "DELETE FROM <table> [WHERE <conds>]".
 */
char *
hd_deparse_direct_modify(CmdType operation, Oid relid, List *set_attnums,
						 List *set_exprs, List *conds, List **params_list)
{
	StringInfoData sql;
	ListCell   *lc1,
			   *lc2;

	initStringInfo(&sql);
	appendStringInfo(&sql, "%s %s",
					 operation == CMD_UPDATE ? "UPDATE" : "DELETE FROM",
					 hd_deparse_remote_table(relid));
	if (operation == CMD_UPDATE)
		appendStringInfoString(&sql, " SET ");
	forboth(lc1, set_attnums, lc2, set_exprs)
	{
		if (foreach_current_index(lc1) > 0)
			appendStringInfoString(&sql, ", ");
		appendStringInfo(&sql, "%s = ",
						 quote_identifier(hd_column_remote_name(relid, lfirst_int(lc1))));
		/* one expression is a list of one condition */
		hd_deparse_conditions(&sql, relid, list_make1(lfirst(lc2)), params_list);
	}
	deparse_where(&sql, relid, conds, params_list);
	return sql.data;
}

/*
 * The statement a node runs.  Only the primary replica's rows of a chunk
 * count and come back; a node holding primaries and other replicas
 * changes them all in one statement and keeps the primaries' rows:
 * WITH m AS (<statement> RETURNING tableoid, ...) SELECT ... FROM m WHERE
 * <its primaries>.  Exec's row count is then the SELECT's.
 */
char *
hd_deparse_node_modify(const char *sql, bool has_where, const char *returning,
					   const HdNodeRead *write)
{
	int			nprimary = list_length(write->primaries);
	bool		mixed = nprimary > 0 && nprimary < list_length(write->chunks);
	char	   *filter = hd_deparse_read_filter(write, NULL);
	StringInfoData buf;

	initStringInfo(&buf);
	if (mixed)
		appendStringInfoString(&buf, "WITH m AS (");
	appendStringInfoString(&buf, sql);
	if (filter != NULL)
		appendStringInfo(&buf, " %s %s", has_where ? "AND" : "WHERE", filter);
	if (mixed)
		appendStringInfo(&buf, " RETURNING tableoid%s%s) SELECT%s%s FROM m WHERE %s",
						 returning[0] != '\0' ? ", " : "", returning,
						 returning[0] != '\0' ? " " : "", returning,
						 chunk_filter(write->primaries, NULL));
	else if (returning[0] != '\0' && nprimary > 0)
		appendStringInfo(&buf, " RETURNING %s", returning);
	return buf.data;
}

/* ---- INSERT and COPY --------------------------------------------------- */

/* "c1, c2, ...": the columns attnums[0..n) of tupdesc. */
static char *
column_names(TupleDesc tupdesc, int n, const AttrNumber *attnums)
{
	StringInfoData cols;

	initStringInfo(&cols);
	for (int i = 0; i < n; i++)
		appendStringInfo(&cols, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(NameStr(TupleDescAttr(tupdesc, attnums[i] - 1)->attname)));
	return cols.data;
}

/* The column's type, qualified, with its typmod. */
static char *
column_type(TupleDesc tupdesc, AttrNumber attnum)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, attnum - 1);

	return format_type_extended(att->atttypid, att->atttypmod,
								FORMAT_TYPE_TYPEMOD_GIVEN |
								FORMAT_TYPE_FORCE_QUALIFY);
}

/* "INSERT INTO <hypertable> [AS alias]" */
static void
deparse_insert_into(StringInfo sql, const HdHypertable *ht, const char *alias)
{
	appendStringInfo(sql, "INSERT INTO %s", hd_deparse_hypertable_name(ht));
	/* ON CONFLICT DO UPDATE expressions may name the target by its alias */
	if (alias != NULL)
		appendStringInfo(sql, " AS %s", quote_identifier(alias));
}

/*
 * A batch of rows as arrays, one parameter per column: "INSERT INTO ...
 * (c1, ...) SELECT u.c1, ... FROM unnest($1::t1[], ...) AS u(c1, ...)
 * [on_conflict]".  Column i's array has elements of elemtypes[i]; text
 * ones (as_text[i]) are cast to the column's type.
 */
char *
hd_deparse_insert_batch(const HdHypertable *ht, const char *alias,
						TupleDesc tupdesc, int n, const AttrNumber *attnums,
						const Oid *elemtypes, const bool *as_text,
						const char *on_conflict)
{
	StringInfoData sql;
	StringInfoData select;
	StringInfoData from;

	initStringInfo(&sql);
	initStringInfo(&select);
	initStringInfo(&from);
	deparse_insert_into(&sql, ht, alias);
	for (int i = 0; i < n; i++)
	{
		const char *sep = i > 0 ? ", " : "";

		if (!as_text[i])
			appendStringInfo(&select, "%su.c%d", sep, i + 1);
		else
			appendStringInfo(&select, "%su.c%d::%s", sep, i + 1,
							 column_type(tupdesc, attnums[i]));
		appendStringInfo(&from, "%s$%d::%s[]", sep, i + 1, format_type_be(elemtypes[i]));
	}
	appendStringInfo(&sql, " (%s) SELECT %s FROM unnest(%s) AS u(",
					 column_names(tupdesc, n, attnums), select.data, from.data);
	for (int i = 1; i <= n; i++)
		appendStringInfo(&sql, "%sc%d", i > 1 ? ", " : "", i);
	appendStringInfoChar(&sql, ')');
	if (on_conflict != NULL)
		appendStringInfo(&sql, " %s", on_conflict);
	return sql.data;
}

/* "COPY <hypertable> (c1, ...) FROM STDIN (<options>)" */
char *
hd_deparse_copy_from(const HdHypertable *ht, TupleDesc tupdesc, int n,
					 const AttrNumber *attnums, const char *options)
{
	return psprintf("COPY %s (%s) FROM STDIN (%s)",
					hd_deparse_hypertable_name(ht),
					column_names(tupdesc, n, attnums), options);
}

/* ---- reference tables ------------------------------------------------- */

/*
 * A reference table's rows in binary COPY: "COPY <table> (c1, ...) FROM
 * STDIN (FORMAT binary)"; the copy on a data node has the table's name.
 */
char *
hd_deparse_reference_copy(Oid relid, TupleDesc tupdesc, int n,
						  const AttrNumber *attnums)
{
	return psprintf("COPY %s (%s) FROM STDIN (FORMAT binary)",
					hd_deparse_local_table(relid),
					column_names(tupdesc, n, attnums));
}

/* "unnest($1::t1[], ...) AS k(c1, ...)": columns cols[0..n) as arrays. */
static void
deparse_key_arrays(StringInfo sql, TupleDesc tupdesc, int n,
				   const AttrNumber *cols)
{
	appendStringInfoString(sql, "unnest(");
	for (int i = 0; i < n; i++)
		appendStringInfo(sql, "%s$%d::%s[]", i > 0 ? ", " : "", i + 1,
						 column_type(tupdesc, cols[i]));
	appendStringInfoString(sql, ") AS k(");
	for (int i = 0; i < n; i++)
		appendStringInfo(sql, "%sc%d", i > 0 ? ", " : "", i + 1);
	appendStringInfoChar(sql, ')');
}

/*
 * "r.a1 = k.c1 AND ...": the table's row r whose key columns keys[0..n)
 * equal the arrays' (identity columns are NOT NULL, so = finds every row).
 */
static void
deparse_key_match(StringInfo sql, TupleDesc tupdesc, int n,
				  const AttrNumber *keys)
{
	for (int i = 0; i < n; i++)
		appendStringInfo(sql, "%sr.%s OPERATOR(pg_catalog.=) k.c%d",
						 i > 0 ? " AND " : "",
						 quote_identifier(NameStr(TupleDescAttr(tupdesc, keys[i] - 1)->attname)),
						 i + 1);
}

/*
 * Deletes a reference table's rows by their replica identity, the key
 * columns keys[0..n) given as one array per column: "DELETE FROM <table>
 * r USING unnest($1::t1[], ...) AS k(c1, ...) WHERE r.a1 = k.c1 AND ...".
 */
char *
hd_deparse_reference_delete(Oid relid, TupleDesc tupdesc, int n,
							const AttrNumber *keys)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s r USING ", hd_deparse_local_table(relid));
	deparse_key_arrays(&sql, tupdesc, n, keys);
	appendStringInfoString(&sql, " WHERE ");
	deparse_key_match(&sql, tupdesc, n, keys);
	return sql.data;
}

/*
 * Updates a reference table's rows in place, found by their replica
 * identity: cols[0..nkeys) are the key columns, set[0..nset) the columns
 * set, each given as an array: "UPDATE <table> r SET a = k.c3, ... FROM
 * unnest($1::t1[], ...) AS k(c1, ...) WHERE r.key = k.c1 AND ...".
 */
char *
hd_deparse_reference_update(Oid relid, TupleDesc tupdesc, int nkeys,
							const AttrNumber *cols, int nset,
							const AttrNumber *set)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s r SET ", hd_deparse_local_table(relid));
	for (int i = 0; i < nset; i++)
		appendStringInfo(&sql, "%s%s = k.c%d", i > 0 ? ", " : "",
						 quote_identifier(NameStr(TupleDescAttr(tupdesc, set[i] - 1)->attname)),
						 nkeys + i + 1);
	appendStringInfoString(&sql, " FROM ");
	deparse_key_arrays(&sql, tupdesc, nkeys + nset, cols);
	appendStringInfoString(&sql, " WHERE ");
	deparse_key_match(&sql, tupdesc, nkeys, cols);
	return sql.data;
}

/*
 * One row in text parameters, returned: "INSERT INTO ... [AS alias] (c1,
 * ...) VALUES ($1::t1, ...) [on_conflict] RETURNING c1, ...".
 */
char *
hd_deparse_insert_returning(const HdHypertable *ht, const char *alias,
							TupleDesc tupdesc, int n, const AttrNumber *attnums,
							const char *on_conflict)
{
	StringInfoData sql;
	StringInfoData vals;
	char	   *cols = column_names(tupdesc, n, attnums);

	initStringInfo(&sql);
	initStringInfo(&vals);
	for (int i = 0; i < n; i++)
		appendStringInfo(&vals, "%s$%d::%s", i > 0 ? ", " : "", i + 1,
						 column_type(tupdesc, attnums[i]));
	deparse_insert_into(&sql, ht, alias);
	appendStringInfo(&sql, " (%s) VALUES (%s) %s RETURNING %s", cols, vals.data,
					 on_conflict ? on_conflict : "", cols);
	return sql.data;
}

/*
 * The stored generated columns of rel that read a column set_tlist sets
 * (target entries by attribute number, for the relation whose Vars are
 * varno, rte), as target entries setting each to its generation expression
 * over the new values.  An UPDATE or ON CONFLICT DO UPDATE shipped to the
 * data nodes must set them, their columns being plain there, and its SET
 * list reads the old values.
 */
List *
hd_generated_set_list(Relation rel, Index varno, RangeTblEntry *rte, List *set_tlist)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Bitmapset  *set_cols = NULL;
	List	   *result = NIL;
	ListCell   *lc;

	if (tupdesc->constr == NULL || !tupdesc->constr->has_generated_stored)
		return NIL;
	foreach(lc, set_tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk)
			set_cols = bms_add_member(set_cols,
									  tle->resno - FirstLowInvalidHeapAttributeNumber);
	}
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Node	   *expr;
		Bitmapset  *reads = NULL;

		if (att->attgenerated != ATTRIBUTE_GENERATED_STORED)
			continue;
		expr = build_column_default(rel, att->attnum);
		ChangeVarNodes(expr, 1, varno, 0);
		pull_varattnos(expr, varno, &reads);
		if (!bms_overlap(reads, set_cols))
			continue;
		expr = ReplaceVarsFromTargetList(expr, varno, 0, rte, set_tlist,
										 REPLACEVARS_CHANGE_VARNO, varno, NULL);
		result = lappend(result, makeTargetEntry((Expr *) expr, att->attnum,
												 pstrdup(NameStr(att->attname)), false));
	}
	return result;
}

/*
 * "ON CONFLICT ..." of an INSERT, through ruleutils: a copy of the
 * statement without its source, target list, RETURNING and WITH prints as
 * "INSERT INTO t [AS a] DEFAULT VALUES ON CONFLICT ...".
 */
char *
hd_deparse_on_conflict(Query *parse)
{
	Query	   *q = copyObject(parse);
	ListCell   *lc;
	char	   *sql;
	char	   *start;

	q->targetList = NIL;
	q->returningList = NIL;
	q->cteList = NIL;
	q->jointree->fromlist = NIL;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_VALUES)
		{
			rte->rtekind = RTE_RESULT;
			rte->subquery = NULL;
			rte->values_lists = NIL;
		}
	}
	sql = pg_get_querydef(q, false);
	start = strstr(sql, "DEFAULT VALUES ON CONFLICT");
	if (start == NULL)
		elog(ERROR, "could not deparse ON CONFLICT clause: %s", sql);
	return pstrdup(start + strlen("DEFAULT VALUES "));
}

/* ---- parameters written in place --------------------------------------- */

/* Copies the quoted string or identifier at sql[i] to buf; returns its end. */
static int
copy_quoted(StringInfo buf, const char *sql, int i)
{
	char		quote = sql[i];
	/* quote_literal_cstr writes E'...' when it doubles backslashes */
	bool		escapes = quote == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
	int			start = i++;

	for (; sql[i] != '\0'; i++)
	{
		if (escapes && sql[i] == '\\' && sql[i + 1] != '\0')
			i++;
		else if (sql[i] == quote)
		{
			if (sql[i + 1] != quote)
				break;
			i++;				/* a doubled quote */
		}
	}
	if (sql[i] == quote)
		i++;
	appendBinaryStringInfo(buf, sql + start, i - start);
	return i;
}

/*
 * sql with values (text, NULL for NULL) written in place of its parameters
 * $1..$nparams, for statements that take none (COPY): each $n outside
 * quotes becomes the value as a literal, or NULL (expr.c follows every
 * parameter with a cast to its type).  Quoted strings and identifiers are
 * copied as they are; expr.c quotes every identifier holding a '$'.
 */
char *
hd_deparse_inline_params(const char *sql, int nparams, const char *const *values)
{
	StringInfoData buf;
	int			i = 0;

	initStringInfo(&buf);
	while (sql[i] != '\0')
	{
		char		c = sql[i];

		if (c == '\'' || c == '"')
			i = copy_quoted(&buf, sql, i);
		else if (c == '$' && isdigit((unsigned char) sql[i + 1]))
		{
			char	   *end;
			long		n = strtol(sql + i + 1, &end, 10);

			if (n < 1 || n > nparams)
				elog(ERROR, "remote statement refers to parameter $%ld of %d", n, nparams);
			appendStringInfoString(&buf, values[n - 1] == NULL ? "NULL" :
								   quote_literal_cstr(values[n - 1]));
			i = end - sql;
		}
		else
			appendStringInfoChar(&buf, sql[i++]);
	}
	return buf.data;
}

/* ---- ANALYZE ----------------------------------------------------------- */

/*
 * The rows of leaf tables as the planner estimates them: row density (from
 * the last ANALYZE or VACUUM) times the current size.
 */
#define ESTIMATED_ROWS \
	"coalesce(sum(CASE WHEN relpages > 0 THEN reltuples / relpages * curpages END), 0)"

/*
 * A query over the tables that hold relation's rows (its leaf partitions,
 * or the table itself), one row each with its oid named tableoid, so that
 * a chunk filter applies as it does to the rows.
 */
static char *
leaves_sql(const char *relation, const char *chunk_filter, const char *columns)
{
	char	   *rel = quote_literal_cstr(relation);

	return psprintf("SELECT %s FROM ("
					"SELECT c.oid AS tableoid, c.relkind, c.reltuples, c.relpages,"
					" pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int AS curpages"
					" FROM pg_catalog.pg_class c"
					" WHERE c.oid IN (SELECT relid FROM pg_catalog.pg_partition_tree(%s)"
					"                  WHERE isleaf)"
					"    OR (c.oid = %s::regclass AND c.relkind <> 'p')) leaf%s%s",
					columns, rel, rel,
					chunk_filter ? " WHERE " : "",
					chunk_filter ? chunk_filter : "");
}

/*
 * A data node's size query over relation (quoted) and the chunks of
 * chunk_filter: estimated rows, pages, and the tables without a known row
 * density.
 */
char *
hd_deparse_leaf_sizes(const char *relation, const char *chunk_filter)
{
	return leaves_sql(relation, chunk_filter,
					  ESTIMATED_ROWS ", coalesce(sum(curpages), 0),"
					  " string_agg(tableoid::regclass::text, ', ')"
					  "  FILTER (WHERE relkind IN ('r', 'm')"
					  "           AND (reltuples < 0 OR (relpages = 0 AND curpages > 0)))");
}

/* The estimated rows of relation (quoted), a local table. */
char *
hd_deparse_leaf_rows(const char *relation)
{
	return leaves_sql(relation, NULL, ESTIMATED_ROWS);
}

/* ANALYZE of tables, a list the data node wrote (hd_deparse_leaf_sizes). */
char *
hd_deparse_analyze(const char *tables)
{
	return psprintf("ANALYZE %s", tables);
}

/*
 * The sample query: rows at the rate given, or with no estimate (a view,
 * say), the first limit rows.
 */
char *
hd_deparse_sample(const char *relation, const char *columns,
				  const char *chunk_filter, double percent, int limit)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s FROM %s", columns, relation);
	if (percent > 0 && percent < 100)
		appendStringInfo(&sql, " TABLESAMPLE BERNOULLI (%.9f)", percent);
	if (chunk_filter)
		appendStringInfo(&sql, " WHERE %s", chunk_filter);
	if (percent <= 0)
		appendStringInfo(&sql, " LIMIT %d", limit);
	return sql.data;
}
