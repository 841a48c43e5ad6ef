/* SPDX-License-Identifier: PostgreSQL */
/*
 * deparse/ddl.c — DDL replayed on data nodes, and the creation of chunks there.
 *
 * The statements the utility hook (ddl/utility.c) runs on a distributed
 * hypertable's data nodes besides the user's own statement text, the
 * catalog queries it asks a data node through data_node_query, the
 * statement creating a chunk's table (placement/chunk_create.c), and the
 * statements of a replica copy (placement/replica_copy.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/int.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "deparse/deparse.h"
#include "metadata/dimension.h"
#include "metadata/naming.h"

/* ---- statements replayed ----------------------------------------------- */

/*
 * sql run with the search_path given, so that names resolve on the data
 * node as they did here.
 */
char *
hd_deparse_with_search_path(const char *search_path, const char *sql)
{
	return psprintf("SET LOCAL search_path TO %s; %s; RESET search_path",
					search_path, sql);
}

char *
hd_deparse_drop_hypertable(const HdHypertable *ht)
{
	return psprintf("DROP TABLE IF EXISTS %s", hd_deparse_hypertable_name(ht));
}

char *
hd_deparse_truncate_hypertable(const HdHypertable *ht)
{
	return psprintf("TRUNCATE %s", hd_deparse_hypertable_name(ht));
}

/* A reference table's copy on a data node, emptied or dropped. */
char *
hd_deparse_truncate_reference(Oid relid)
{
	return psprintf("TRUNCATE %s", hd_deparse_local_table(relid));
}

char *
hd_deparse_drop_reference(const char *schema, const char *name, bool cascade)
{
	return psprintf("DROP TABLE IF EXISTS %s%s", quote_qualified_identifier(schema, name),
					cascade ? " CASCADE" : "");
}

/* DROP INDEX of index_name, in the schema of the table relid. */
char *
hd_deparse_drop_index(Oid relid, const char *index_name, bool cascade)
{
	return psprintf("DROP INDEX %s %s",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   index_name),
					cascade ? "CASCADE" : "");
}

/* ALTER ... SET SCHEMA (statement), after creating the schema if missing. */
char *
hd_deparse_set_schema(const char *schema, const char *statement)
{
	return psprintf("CREATE SCHEMA IF NOT EXISTS %s; %s",
					quote_identifier(schema), statement);
}

/*
 * On a data node ALTER TABLE ... OWNER TO does not recurse to partitions,
 * but the chunks belong to the hypertable's owner (see
 * placement/chunk_create.c), who must also be able to create them in the
 * associated schema.
 */
char *
hd_deparse_chunks_owner(const HdHypertable *ht, const char *owner)
{
	return psprintf("DO $hd$ DECLARE p regclass; BEGIN"
					" FOR p IN SELECT relid FROM pg_partition_tree(%s) WHERE level > 0 LOOP"
					"  EXECUTE format('ALTER TABLE %%s OWNER TO %%I', p, %s);"
					" END LOOP;"
					" IF NOT has_schema_privilege(%s, %s, 'CREATE') THEN"
					"  GRANT USAGE, CREATE ON SCHEMA %s TO %s;"
					" END IF; END $hd$",
					quote_literal_cstr(hd_deparse_hypertable_name(ht)),
					quote_literal_cstr(owner),
					quote_literal_cstr(owner), quote_literal_cstr(ht->assoc_schema),
					quote_identifier(ht->assoc_schema), quote_identifier(owner));
}

/*
 * Storage parameters in reloptions' form ("name=value") as a list for
 * WITH (...) or SET (...); NULL for none.
 */
static char *
storage_params(List *options)
{
	StringInfoData sql;
	ListCell   *lc;

	if (options == NIL)
		return NULL;
	initStringInfo(&sql);
	foreach(lc, options)
	{
		char	   *name = pstrdup(lfirst(lc));
		char	   *value = strchr(name, '=');

		if (value == NULL)
			elog(ERROR, "storage parameter \"%s\" has no value", name);
		*value++ = '\0';
		appendStringInfo(&sql, "%s%s = %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(name), quote_literal_cstr(value));
	}
	return sql.data;
}

/*
 * ALTER TABLE ... SET/RESET of storage parameters, on every chunk's table
 * of the hypertable (a partitioned table has none): the parameters named
 * in reset (String nodes) are reset, then those of set ("name=value") set.
 */
char *
hd_deparse_chunks_storage(const HdHypertable *ht, List *reset, List *set)
{
	StringInfoData actions;
	ListCell   *lc;
	char	   *params = storage_params(set);

	initStringInfo(&actions);
	foreach(lc, reset)
		appendStringInfo(&actions, "%s%s", foreach_current_index(lc) == 0 ? " RESET (" : ", ",
						 quote_identifier(strVal(lfirst(lc))));
	if (reset != NIL)
		appendStringInfoChar(&actions, ')');
	if (params != NULL)
		appendStringInfo(&actions, "%s SET (%s)", reset != NIL ? "," : "", params);
	return psprintf("DO %s",
					quote_literal_cstr(psprintf("DECLARE p regclass; BEGIN"
												" FOR p IN SELECT relid FROM pg_catalog.pg_partition_tree(%s)"
												"  WHERE isleaf LOOP"
												"  EXECUTE 'ALTER TABLE ' || p::text || %s;"
												" END LOOP; END",
												quote_literal_cstr(hd_deparse_hypertable_name(ht)),
												quote_literal_cstr(actions.data))));
}

/* "VACUUM (options) relation (columns)" of the table relid. */
char *
hd_deparse_vacuum(List *options, Oid relid, List *columns)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "VACUUM");
	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		appendStringInfo(&sql, "%s%s", foreach_current_index(lc) == 0 ? " (" : ", ",
						 quote_identifier(opt->defname));
		/* numbers as numbers (PARALLEL wants an integer), the rest quoted */
		if (opt->arg != NULL && IsA(opt->arg, Integer))
			appendStringInfo(&sql, " %d", intVal(opt->arg));
		else if (opt->arg != NULL)
			appendStringInfo(&sql, " %s", quote_literal_cstr(defGetString(opt)));
	}
	if (options != NIL)
		appendStringInfoChar(&sql, ')');
	appendStringInfo(&sql, " %s", hd_deparse_local_table(relid));
	foreach(lc, columns)
		appendStringInfo(&sql, "%s%s", foreach_current_index(lc) == 0 ? " (" : ", ",
						 quote_identifier(strVal(lfirst(lc))));
	if (columns != NIL)
		appendStringInfoChar(&sql, ')');
	return sql.data;
}

/*
 * ALTER TABLE ... ENABLE/DISABLE TRIGGER of the root table, one action per
 * subcommand of cmds (AlterTableCmds of those kinds).  On a partitioned
 * table the data node applies each to the chunks' clones too.
 */
char *
hd_deparse_alter_triggers(const HdHypertable *ht, List *cmds)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s", hd_deparse_hypertable_name(ht));
	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		const char *action;
		const char *which;

		switch (cmd->subtype)
		{
			case AT_EnableTrig:
			case AT_EnableTrigAll:
			case AT_EnableTrigUser:
				action = "ENABLE";
				break;
			case AT_DisableTrig:
			case AT_DisableTrigAll:
			case AT_DisableTrigUser:
				action = "DISABLE";
				break;
			default:
				elog(ERROR, "unexpected ALTER TABLE subcommand %d", (int) cmd->subtype);
		}
		if (cmd->subtype == AT_EnableTrigAll || cmd->subtype == AT_DisableTrigAll)
			which = "ALL";
		else if (cmd->subtype == AT_EnableTrigUser || cmd->subtype == AT_DisableTrigUser)
			which = "USER";
		else
			which = quote_identifier(cmd->name);
		appendStringInfo(&sql, "%s %s TRIGGER %s",
						 foreach_current_index(lc) > 0 ? "," : "", action, which);
	}
	return sql.data;
}

/* ---- catalog queries of a data node ------------------------------------ */

/*
 * Local SQL that runs remote_sql on data node $1 (through data_node_query)
 * and returns its rows typed by coldefs; remote_sql's %L is $2, the
 * table's qualified name there (hd_deparse_hypertable_name).  A constant
 * text for each caller: its plan is kept.
 */
static char *
on_data_node(const char *remote_sql, const char *coldefs)
{
	return psprintf("SELECT q.* FROM _hyperdist_functions.data_node_query($1,"
					" format(%s, $2)) AS q(%s)",
					quote_literal_cstr(remote_sql), coldefs);
}

/* The name of the table's newest index on the data node: (relname name). */
char *
hd_deparse_newest_index_query(void)
{
	return on_data_node("SELECT c.relname FROM pg_index i"
						" JOIN pg_class c ON c.oid = i.indexrelid"
						" WHERE i.indrelid = %L::regclass"
						" ORDER BY c.oid DESC LIMIT 1",
						"relname name");
}

/*
 * The table's unique, primary key and exclusion constraints on the data
 * node: (conname name, cols name[]).
 */
char *
hd_deparse_unique_constraints_query(void)
{
	return on_data_node("SELECT c.conname, array_agg(a.attname ORDER BY k.i)"
						" FROM pg_constraint c,"
						"  unnest(c.conkey) WITH ORDINALITY k(attnum, i),"
						"  pg_attribute a"
						" WHERE c.conrelid = %L::regclass"
						"  AND c.contype IN ('u', 'p', 'x')"
						"  AND a.attrelid = c.conrelid AND a.attnum = k.attnum"
						" GROUP BY c.conname",
						"conname name, cols name[]");
}

/* The names of the table's triggers on the data node: (tgname name). */
char *
hd_deparse_triggers_query(void)
{
	return on_data_node("SELECT t.tgname FROM pg_catalog.pg_trigger t"
						" WHERE t.tgrelid = %L::pg_catalog.regclass AND NOT t.tgisinternal",
						"tgname name");
}

/* ---- chunks ------------------------------------------------------------ */

static char *
quoted_timestamp(int64 pg_usecs, Oid typid)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		buf[MAXDATELEN + 1];

	if (typid == DATEOID)
	{
		/* days, rounded up: a date d is in [s, e) iff d >= ceil(s) and d < ceil(e) */
		int64		days = pg_usecs / USECS_PER_DAY +
			((pg_usecs % USECS_PER_DAY) > 0 ? 1 : 0);

		if (days < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE ||
			days >= DATE_END_JULIAN - POSTGRES_EPOCH_JDATE)
			return NULL;
		j2date((int) days + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		EncodeDateOnly(&tm, USE_ISO_DATES, buf);
		return psprintf("'%s'", buf);
	}

	if (!IS_VALID_TIMESTAMP(pg_usecs) ||
		timestamp2tm(pg_usecs, NULL, &tm, &fsec, NULL, NULL) != 0)
		return NULL;
	EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, buf);
	/* in UTC, whatever the data node session's TimeZone */
	return psprintf("'%s%s'", buf, typid == TIMESTAMPTZOID ? "+00" : "");
}

/*
 * A partition bound for a slice edge (internal time), as SQL for FOR
 * VALUES FROM/TO: a quoted literal of the column's type, or
 * MINVALUE/MAXVALUE beyond it.
 */
static char *
time_bound(int64 internal, Oid typid)
{
	int64		min = PG_INT64_MIN;
	int64		max = PG_INT64_MAX;
	char	   *literal;
	int64		pg_usecs;

	switch (typid)
	{
		case INT2OID:
			min = PG_INT16_MIN;
			max = PG_INT16_MAX;
			break;
		case INT4OID:
			min = PG_INT32_MIN;
			max = PG_INT32_MAX;
			break;
		case INT8OID:
			break;
		default:
			if (pg_sub_s64_overflow(internal, PG_EPOCH_UNIX_USECS, &pg_usecs))
				return pstrdup(internal < 0 ? "MINVALUE" : "MAXVALUE");
			literal = quoted_timestamp(pg_usecs, typid);
			if (literal != NULL)
				return literal;
			return pstrdup(internal < 0 ? "MINVALUE" : "MAXVALUE");
	}
	if (internal <= min)
		return pstrdup("MINVALUE");
	if (internal > max)
		return pstrdup("MAXVALUE");
	return psprintf(INT64_FORMAT, internal);
}

/*
 * A chunk's table hangs under the root for its time slice [start, end), or,
 * when the hypertable has a space dimension, under the slice's own table
 * (partitioned by hash) as partition of its nparts space partitions.
 */
typedef struct ChunkParent
{
	char	   *chunk;			/* the chunk's table, qualified and quoted */
	char	   *parent;			/* its parent's */
	char	   *bound;			/* its partition bound, after FOR VALUES */
	char	   *range;			/* the time slice's bound */
	char	   *make_slice;		/* statements creating the slice's table if
								 * missing, or "" */
} ChunkParent;

/*
 * A chunk's or a slice's table: a slice is partitioned (partition_by, a
 * clause or ""), a chunk has the hypertable's storage parameters
 * (options, NIL for a slice).  LIKE copies none.
 */
static char *
create_table(const char *table, const char *parent, const char *owner,
			 const char *partition_by, List *options)
{
	char	   *params = storage_params(options);

	return psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
					" INCLUDING STORAGE INCLUDING COMPRESSION)%s%s%s%s;"
					" ALTER TABLE %s OWNER TO %s",
					table, parent, partition_by,
					params ? " WITH (" : "", params ? params : "", params ? ")" : "",
					table, owner);
}

/*
 * A table under parent, for the partition bound bound (partitioned by
 * partition_by, a clause or ""): made on its own (LIKE its parent), then
 * attached.  Attaching takes SHARE UPDATE EXCLUSIVE on the parent, which
 * reads and writes of the other chunks do not wait for, where CREATE TABLE
 * ... PARTITION OF would take ACCESS EXCLUSIVE until the transaction ends;
 * the new table is empty, so the attach checks no row.
 */
static char *
create_partition(const char *table, const char *parent, const char *bound,
				 const char *owner, const char *partition_by, List *options)
{
	return psprintf("%s; ALTER TABLE %s ATTACH PARTITION %s FOR VALUES %s",
					create_table(table, parent, owner, partition_by, options),
					parent, table, bound);
}

/*
 * The slice's table is made only if missing: an ALTER TABLE ... OWNER of an
 * existing one would lock it for the transaction.  Both belong to owner
 * (NULL: the slice's table exists, make_slice is not wanted).
 */
static void
chunk_parent(const HdHypertable *ht, int32 slice_id, int64 start, int64 end,
			 int nparts, int partition, const char *table_name, const char *owner,
			 ChunkParent *cp)
{
	char	   *root = hd_deparse_hypertable_name(ht);

	cp->chunk = quote_qualified_identifier(ht->assoc_schema, table_name);
	cp->range = psprintf("FROM (%s) TO (%s)", time_bound(start, ht->time.type),
						 time_bound(end, ht->time.type));
	cp->make_slice = "";
	if (!ht->has_space)
	{
		cp->parent = root;
		cp->bound = cp->range;
		return;
	}
	cp->parent = quote_qualified_identifier(ht->assoc_schema,
											hd_slice_table_name(ht->assoc_prefix, ht->id,
																slice_id));
	cp->bound = psprintf("WITH (MODULUS %d, REMAINDER %d)", nparts, partition);
	if (owner == NULL)
		return;
	cp->make_slice =
		psprintf("DO %s; ",
				 quote_literal_cstr(psprintf("BEGIN IF pg_catalog.to_regclass(%s) IS NULL"
											 " THEN %s; END IF; END",
											 quote_literal_cstr(cp->parent),
											 create_partition(cp->parent, root, cp->range,
															  quote_identifier(owner),
															  psprintf(" PARTITION BY HASH (%s)",
																	   quote_identifier(ht->space.column_name)),
															  NIL))));
}

/*
 * The data node statement creating a chunk's table (table_name, in the
 * associated schema) for the time slice [start, end) and partition of
 * nparts, belonging to owner.
 */
char *
hd_deparse_create_chunk(const HdHypertable *ht, int32 slice_id, int64 start,
						int64 end, int nparts, int partition,
						const char *table_name, const char *owner)
{
	ChunkParent cp;

	chunk_parent(ht, slice_id, start, end, nparts, partition, table_name, owner, &cp);
	return psprintf("%s%s", cp.make_slice,
					create_partition(cp.chunk, cp.parent, cp.bound,
									 quote_identifier(owner), "", ht->chunk_options));
}

/*
 * The name of the constraint that makes an unattached copy's attach check
 * no row: its time range, which with the time column's NOT NULL implies
 * the partition constraint of a chunk under the root.
 */
#define COPY_BOUND_CONSTRAINT "hd_copy_bound"

/*
 * The same chunk's table, made but not attached: the table a copy fills
 * before it has indexes (hd_deparse_chunk_parent_indexes) and joins its
 * parent (hd_deparse_attach_chunk).  Nobody reads or writes it meanwhile.
 */
char *
hd_deparse_create_chunk_unattached(const HdHypertable *ht, int32 slice_id, int64 start,
								   int64 end, int nparts, int partition,
								   const char *table_name, const char *owner)
{
	ChunkParent cp;
	const char *column = quote_identifier(ht->time.column_name);
	char	   *from = time_bound(start, ht->time.type);
	char	   *to = time_bound(end, ht->time.type);
	StringInfoData sql;

	chunk_parent(ht, slice_id, start, end, nparts, partition, table_name, owner, &cp);
	initStringInfo(&sql);
	appendStringInfo(&sql, "%s%s", cp.make_slice,
					 create_table(cp.chunk, cp.parent, quote_identifier(owner), "",
								  ht->chunk_options));
	if (ht->has_space)
		return sql.data;
	/* a bound of MINVALUE or MAXVALUE constrains nothing */
	if (strcmp(from, "MINVALUE") == 0)
		from = NULL;
	if (strcmp(to, "MAXVALUE") == 0)
		to = NULL;
	if (from != NULL || to != NULL)
		appendStringInfo(&sql, "; ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s%s%s%s%s%s%s)",
						 cp.chunk, COPY_BOUND_CONSTRAINT,
						 from ? column : "", from ? " >= " : "", from ? from : "",
						 from && to ? " AND " : "",
						 to ? column : "", to ? " < " : "", to ? to : "");
	return sql.data;
}

/*
 * Whether the chunk's table is a partition: one row, "t", "f", or NULL when
 * there is no such table.
 */
char *
hd_deparse_chunk_attached(const char *schema, const char *table)
{
	return psprintf("SELECT (SELECT c.relispartition FROM pg_catalog.pg_class c"
					" WHERE c.oid = pg_catalog.to_regclass(%s))",
					quote_literal_cstr(quote_qualified_identifier(schema, table)));
}

/*
 * The indexes of an unattached chunk's parent that attaching it would
 * build, as (definition, prefix, unique): pg_get_indexdef's text and what
 * it begins with up to the access method's name (the parent's name is
 * qualified there whatever the search_path).  The indexes of
 * constraints are left to the attach, which makes the constraint too.
 */
char *
hd_deparse_chunk_parent_indexes(const HdHypertable *ht, int32 slice_id)
{
	char	   *parent = ht->has_space ?
		quote_qualified_identifier(ht->assoc_schema,
								   hd_slice_table_name(ht->assoc_prefix, ht->id, slice_id)) :
		hd_deparse_hypertable_name(ht);

	return psprintf("SELECT pg_catalog.pg_get_indexdef(i.indexrelid),"
					" pg_catalog.format('CREATE %%sINDEX %%I ON ONLY %%I.%%I USING ',"
					"  CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,"
					"  c.relname, n.nspname, t.relname),"
					" i.indisunique"
					" FROM pg_catalog.pg_index i"
					" JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
					" JOIN pg_catalog.pg_class t ON t.oid = i.indrelid"
					" JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace"
					" WHERE i.indrelid = %s::pg_catalog.regclass"
					"  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k"
					"   WHERE k.conindid = i.indexrelid)"
					" ORDER BY c.oid",
					quote_literal_cstr(parent));
}

/*
 * The index of definition (from hd_deparse_chunk_parent_indexes), on the
 * chunk's table; NULL when the definition does not begin with prefix.
 */
char *
hd_deparse_chunk_index(const char *schema, const char *table, const char *definition,
					   const char *prefix, bool unique)
{
	size_t		len = strlen(prefix);

	if (strncmp(definition, prefix, len) != 0)
		return NULL;
	return psprintf("CREATE %sINDEX ON %s USING %s", unique ? "UNIQUE " : "",
					quote_qualified_identifier(schema, table), definition + len);
}

/*
 * An unattached chunk's table attached to its parent, which then no longer
 * needs the copy's constraint.  The attach finds the indexes built like
 * the parent's and attaches them; it builds those missing.
 */
char *
hd_deparse_attach_chunk(const HdHypertable *ht, int32 slice_id, int64 start,
						int64 end, int nparts, int partition, const char *table_name)
{
	ChunkParent cp;

	chunk_parent(ht, slice_id, start, end, nparts, partition, table_name, NULL, &cp);
	return psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES %s;"
					" ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
					cp.parent, cp.chunk, cp.bound, cp.chunk, COPY_BOUND_CONSTRAINT);
}

/* ---- replica copies ------------------------------------------------------ */

/* Whether the chunk's table exists on the node: one boolean. */
char *
hd_deparse_chunk_exists(const char *schema, const char *table)
{
	return psprintf("SELECT pg_catalog.to_regclass(%s) IS NOT NULL",
					quote_literal_cstr(quote_qualified_identifier(schema, table)));
}

/*
 * A copy's sessions wait for no lock longer than ms: a copy holds locks on
 * two data nodes at once, in an order DDL does not follow, and no node
 * alone can see such a deadlock.
 */
char *
hd_deparse_lock_timeout(int ms)
{
	return psprintf("SET lock_timeout = %d", ms);
}

/*
 * A copy's target session writes as a replica: the rows it copies, and
 * the rows its catch-up deletes, are not new, so the row triggers of the
 * chunk's table (clones of the root table's) must not fire for them.  Only
 * triggers enabled ALWAYS or REPLICA would, and distributed hypertables
 * refuse those.  Copies run as the bootstrap superuser, who may set it.
 */
char *
hd_deparse_replica_role(void)
{
	return pstrdup("SET session_replication_role = replica");
}

char *
hd_deparse_truncate_chunk(const char *schema, const char *table)
{
	return psprintf("TRUNCATE %s", quote_qualified_identifier(schema, table));
}

/*
 * The chunk's rows, for a stream in HD_ROWS_COPY (the agent runs it as COPY
 * (...) TO STDOUT (FORMAT binary)), and their way into the copy: every
 * replica's table is a partition of a root table made from the same
 * definition, so both list the same columns in the same order.
 */
char *
hd_deparse_chunk_rows(const char *schema, const char *table)
{
	return psprintf("SELECT * FROM %s", quote_qualified_identifier(schema, table));
}

char *
hd_deparse_chunk_copy_in(const char *schema, const char *table)
{
	return psprintf("COPY %s FROM STDIN (FORMAT binary)",
					quote_qualified_identifier(schema, table));
}

/*
 * The chunk's row count and a checksum of its rows (the sum of a 64-bit
 * hash of each row's text; the session settings make that text the same on
 * every node), both as numbers in text.
 */
char *
hd_deparse_chunk_checksum(const char *schema, const char *table)
{
	return psprintf("SELECT pg_catalog.count(*),"
					" pg_catalog.sum(pg_catalog.hashtextextended(c::pg_catalog.text, 0))"
					" FROM %s c", quote_qualified_identifier(schema, table));
}

/*
 * A copy's catch-up compares a chunk's replicas by time bucket
 * (placement/replica_copy.c): thresholds cut the time span [start, end)
 * into nbuckets equal buckets (fewer, of one unit each, when the span is
 * narrower), as literals of the time column's type in ascending order; a
 * row is in bucket b when b thresholds are at or below its time
 * (width_bucket's rule).  NIL, one bucket, when the span is open or a
 * single unit.
 */
List *
hd_deparse_time_thresholds(const HdHypertable *ht, int64 start, int64 end,
						   int nbuckets)
{
	List	   *thresholds = NIL;
	int64		width;

	if (start == PG_INT64_MIN || end == PG_INT64_MAX ||
		pg_sub_s64_overflow(end, start, &width) || width < 2)
		return NIL;
	if (width < nbuckets)
		nbuckets = (int) width;
	for (int b = 1; b < nbuckets; b++)
	{
		char	   *literal = time_bound(start + width / nbuckets * b, ht->time.type);

		if (strcmp(literal, "MINVALUE") == 0 || strcmp(literal, "MAXVALUE") == 0)
			return NIL;
		thresholds = lappend(thresholds, literal);
	}
	return thresholds;
}

/*
 * The earliest and latest time of a chunk's rows as int8 in the unit of
 * hd_time_to_internal (microseconds since the Unix epoch for timestamps
 * and dates), both NULL when it has none; its time index answers.
 */
char *
hd_deparse_chunk_time_span(const HdHypertable *ht, const char *schema, const char *table)
{
	const char *col = quote_identifier(ht->time.column_name);
	const char *fmt;

	switch (ht->time.type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			fmt = "pg_catalog.%1$s(c.%2$s)::pg_catalog.int8";
			break;
		default:
			fmt = "CASE WHEN pg_catalog.isfinite(pg_catalog.%1$s(c.%2$s))"
				" THEN (pg_catalog.extract('epoch', pg_catalog.%1$s(c.%2$s))"
				" OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8 END";
			break;
	}
	return psprintf("SELECT %s, %s FROM %s c", psprintf(fmt, "min", col),
					psprintf(fmt, "max", col), quote_qualified_identifier(schema, table));
}

static char *buckets_condition(const HdHypertable *ht, List *thresholds, List *buckets);

/*
 * Each bucket's row count and checksum (as hd_deparse_chunk_checksum's),
 * of only those buckets (NIL: all; the time index finds their rows).  With
 * physical, a third column sums a hash of each row's place and inserting
 * transaction (ctid, xmin): it changes whenever a row of the bucket is
 * written, and costs no conversion to text (the hash of the record of
 * both, from their types' own hash functions, is several times cheaper
 * than one of their text); without rows, it replaces the checksum.
 */
char *
hd_deparse_chunk_bucket_sums(const HdHypertable *ht, const char *schema,
							 const char *table, List *thresholds, List *only,
							 bool rows, bool physical)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	if (thresholds == NIL)
		appendStringInfoString(&sql, "SELECT 0");
	else
	{
		appendStringInfo(&sql, "SELECT pg_catalog.width_bucket(c.%s, ARRAY[",
						 quote_identifier(ht->time.column_name));
		foreach(lc, thresholds)
			appendStringInfo(&sql, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
							 (char *) lfirst(lc));
		appendStringInfo(&sql, "]::%s[])", format_type_be_qualified(ht->time.type));
	}
	appendStringInfoString(&sql, ", pg_catalog.count(*)");
	if (rows)
		appendStringInfoString(&sql, ", pg_catalog.sum(pg_catalog.hashtextextended("
							   "c::pg_catalog.text, 0))");
	if (physical)
		appendStringInfoString(&sql, ", pg_catalog.sum(pg_catalog.hash_record_extended("
							   "ROW(c.ctid, c.xmin), 0))");
	appendStringInfo(&sql, " FROM %s c", quote_qualified_identifier(schema, table));
	if (only != NIL)
		appendStringInfo(&sql, " WHERE %s", buckets_condition(ht, thresholds, only));
	appendStringInfoString(&sql, " GROUP BY 1");
	return sql.data;
}

/*
 * The condition on alias c that keeps the rows of buckets (an int list in
 * ascending order): one range per run of consecutive buckets.
 */
static char *
buckets_condition(const HdHypertable *ht, List *thresholds, List *buckets)
{
	const char *col = quote_identifier(ht->time.column_name);
	int			n = list_length(thresholds);
	StringInfoData cond;
	int			i = 0;

	if (n == 0)
		return "true";
	initStringInfo(&cond);
	appendStringInfoChar(&cond, '(');
	while (i < list_length(buckets))
	{
		int			first = list_nth_int(buckets, i);
		int			last = first;

		while (++i < list_length(buckets) && list_nth_int(buckets, i) == last + 1)
			last++;
		if (cond.len > 1)
			appendStringInfoString(&cond, " OR ");
		if (first == 0 && last == n)
			appendStringInfoString(&cond, "true");
		else if (first == 0)
			appendStringInfo(&cond, "c.%s < %s", col, (char *) list_nth(thresholds, last));
		else if (last == n)
			appendStringInfo(&cond, "c.%s >= %s", col, (char *) list_nth(thresholds, first - 1));
		else
			appendStringInfo(&cond, "(c.%s >= %s AND c.%s < %s)",
							 col, (char *) list_nth(thresholds, first - 1),
							 col, (char *) list_nth(thresholds, last));
	}
	appendStringInfoChar(&cond, ')');
	return cond.data;
}

/*
 * The condition on alias c that keeps the rows of buckets and, with hashes
 * (text of int8 values), those whose row hash is one of them.
 */
static char *
rows_condition(const HdHypertable *ht, List *thresholds, List *buckets, List *hashes)
{
	StringInfoData cond;
	ListCell   *lc;

	initStringInfo(&cond);
	appendStringInfoString(&cond, buckets_condition(ht, thresholds, buckets));
	if (hashes == NIL)
		return cond.data;
	appendStringInfoString(&cond, " AND pg_catalog.hashtextextended(c::pg_catalog.text, 0)"
						   " = ANY ('{");
	foreach(lc, hashes)
		appendStringInfo(&cond, "%s%s", foreach_current_index(lc) > 0 ? "," : "",
						 (char *) lfirst(lc));
	appendStringInfoString(&cond, "}'::pg_catalog.int8[])");
	return cond.data;
}

/*
 * The rows of buckets (with hashes: of those row hashes only), for a
 * stream in HD_ROWS_COPY (as hd_deparse_chunk_rows).
 */
char *
hd_deparse_chunk_bucket_rows(const HdHypertable *ht, const char *schema,
							 const char *table, List *thresholds, List *buckets,
							 List *hashes)
{
	return psprintf("SELECT * FROM %s c WHERE %s",
					quote_qualified_identifier(schema, table),
					rows_condition(ht, thresholds, buckets, hashes));
}

char *
hd_deparse_chunk_bucket_delete(const HdHypertable *ht, const char *schema,
							   const char *table, List *thresholds, List *buckets,
							   List *hashes)
{
	return psprintf("DELETE FROM %s c WHERE %s",
					quote_qualified_identifier(schema, table),
					rows_condition(ht, thresholds, buckets, hashes));
}

/* The row hashes of buckets, in ascending order: one int8 per row. */
char *
hd_deparse_chunk_bucket_hashes(const HdHypertable *ht, const char *schema,
							   const char *table, List *thresholds, List *buckets)
{
	return psprintf("SELECT pg_catalog.hashtextextended(c::pg_catalog.text, 0) AS h"
					" FROM %s c WHERE %s ORDER BY 1",
					quote_qualified_identifier(schema, table),
					buckets_condition(ht, thresholds, buckets));
}

/*
 * The parent of the chunk's table on the node (the hypertable's root table
 * or a space slice's) and whether a concurrent detach from it is pending:
 * one row of schema, table and a boolean, or none when the chunk's table
 * is missing or no longer a partition.
 */
char *
hd_deparse_chunk_parent(const char *schema, const char *table)
{
	return psprintf("SELECT n.nspname, p.relname, i.inhdetachpending"
					" FROM pg_catalog.pg_inherits i"
					" JOIN pg_catalog.pg_class p ON p.oid = i.inhparent"
					" JOIN pg_catalog.pg_namespace n ON n.oid = p.relnamespace"
					" WHERE i.inhrelid = pg_catalog.to_regclass(%s)",
					quote_literal_cstr(quote_qualified_identifier(schema, table)));
}

/*
 * Detaches the chunk's table from its parent without locking the parent
 * against its readers and writers: CONCURRENTLY takes SHARE UPDATE
 * EXCLUSIVE on the parent, commits the partition as pending detach, then
 * waits for the transactions that use the parent.  A detach interrupted
 * in that wait stays pending, and only FINALIZE (finalize) completes it.
 * Neither may run in a transaction block, nor in a string of several
 * statements.
 */
char *
hd_deparse_detach_chunk(const char *parent_schema, const char *parent_table,
						const char *schema, const char *table, bool finalize)
{
	return psprintf("ALTER TABLE %s DETACH PARTITION %s %s",
					quote_qualified_identifier(parent_schema, parent_table),
					quote_qualified_identifier(schema, table),
					finalize ? "FINALIZE" : "CONCURRENTLY");
}

/*
 * A chunk's table, once detached (hd_deparse_detach_chunk): then the drop
 * locks nothing but the table.
 */
char *
hd_deparse_drop_chunk_table(const char *schema, const char *table)
{
	return psprintf("DROP TABLE IF EXISTS %s", quote_qualified_identifier(schema, table));
}
