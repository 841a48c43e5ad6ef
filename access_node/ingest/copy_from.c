/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/copy_from.c — COPY FROM in text, CSV or binary into a distributed
 * hypertable.
 *
 * The access node splits each input line into its fields (COPY's own
 * reader, NextCopyFromRawFields, with every format option the user gave),
 * converts only the dimension columns with their input functions to find
 * the row's chunk, and forwards the fields, re-escaped as a line of COPY's
 * text format, to the chunk's data nodes.  Each data node's batch is
 *   SET LOCAL datestyle ...; SET LOCAL timezone ...;
 *   COPY root (c1, ..., cn) FROM STDIN (ENCODING '<the access node's>')
 * so the data nodes parse every column, in parallel, with the date order
 * and time zone the access node routed with.  Binary input is read by
 * ingest/copy_binary.c, which decodes only the dimension columns and keeps
 * each row's bytes; the data nodes get them, unchanged, in batches of
 *   COPY root (c1, ..., cn) FROM STDIN (FORMAT binary)
 * Routing, batching and shipping are those of INSERT (ingest/insert.c).
 *
 * Whatever the data node could not do as the access node would, falls
 * back to PostgreSQL's COPY through the foreign table (every column parsed
 * here, rows shipped in binary): a WHERE clause, FORCE_*
 * and FREEZE options, triggers on the hypertable, generated columns,
 * domain-typed columns, a column left out of the list that has a default
 * or is an identity (the access node evaluates it once per row, volatile
 * or not: the data nodes' columns have neither), a
 * dimension column left out, and columns whose input depends on settings
 * a data node session does not take from the access node (money on
 * lc_monetary, xml on xmloption, interval under IntervalStyle
 * sql_standard, arrays with array_nulls off).  Binary input also falls
 * back for a column whose binary form a data node may read otherwise
 * (hd_copy_binary_forwardable) and when the client encoding, in which
 * binary text arrives, is not the database's.
 *
 * Errors: a row whose dimension value is rejected fails on the access node
 * with COPY's context (the line, the column); a row a data node rejects
 * fails with the data node named, the line within its batch and the
 * input's line (ingest/insert.c).  Either
 * way the statement's transaction, and with it every data node's, rolls
 * back.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/defrem.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "pgtime.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "deparse/deparse.h"
#include "ingest/copy_binary.h"
#include "ingest/copy_from.h"
#include "ingest/insert.h"
#include "metadata/hypertable.h"

/* A dimension column: where it is in the input and how it is parsed. */
typedef struct DimensionInput
{
	int			field;			/* index among the fields of a line */
	Form_pg_attribute att;
	FmgrInfo	input;
	Oid			ioparam;
} DimensionInput;

typedef struct CopyForward
{
	Relation	rel;
	HdHypertable *ht;
	List	   *attnums;		/* the columns read, in input order */
	bool		binary;
	CopyFromState cstate;
	HdInsertState *insert;
	int			ndims;			/* text: the dimension columns */
	DimensionInput dims[2];
	HdBinaryReader *reader;		/* binary */
	Datum	   *values;			/* per attribute: only dimensions are set */
	bool	   *isnull;
	StringInfoData line;		/* text: the row in COPY text format */
	const char *row;			/* the row as the data nodes read it */
	int			rowlen;
	MemoryContext row_cxt;
} CopyForward;

/* As for PostgreSQL's COPY, reading a server file or program needs a role. */
static void
check_source_access(const CopyStmt *stmt)
{
	if (stmt->filename == NULL)
		return;
	if (stmt->is_program &&
		!has_privs_of_role(GetUserId(), ROLE_PG_EXECUTE_SERVER_PROGRAM))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to COPY from a program"),
				 errdetail("Only superusers and members of pg_execute_server_program may run programs on the server."),
				 errhint("psql's \\copy reads from a program on the client.")));
	if (!stmt->is_program &&
		!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to COPY from a file"),
				 errdetail("Only superusers and members of pg_read_server_files may read files on the server."),
				 errhint("psql's \\copy reads a file on the client.")));
}

/* INSERT on the columns read, as the executor would check it. */
static void
check_insert_privilege(ParseState *pstate, Relation rel, List *attnums)
{
	ParseNamespaceItem *nsitem;
	RangeTblEntry *rte;
	ListCell   *lc;

	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										   NULL, false, false);
	rte = nsitem->p_rte;
	rte->requiredPerms = ACL_INSERT;
	foreach(lc, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);
}

/* Options the access node applies itself while splitting lines. */
static bool
option_applied_here(const DefElem *opt)
{
	static const char *const names[] = {
		"delimiter", "null", "header", "quote", "escape", "encoding"
	};

	if (strcmp(opt->defname, "format") == 0)
		return true;
	for (int i = 0; i < lengthof(names); i++)
	{
		if (strcmp(opt->defname, names[i]) == 0)
			return true;
	}
	return false;
}

/*
 * Types whose text input depends on settings a data node session may not
 * share (arrays through their elements' input, and array_nulls).
 */
static bool
input_depends_on_settings(Oid type)
{
	Oid			elem = get_element_type(type);

	if (OidIsValid(elem))
	{
		if (!Array_nulls)
			return true;
		type = elem;
	}
	return type == MONEYOID || type == XMLOID ||
		(type == INTERVALOID && IntervalStyle == INTSTYLE_SQL_STANDARD);
}

static bool
is_dimension(const HdHypertable *ht, AttrNumber attnum)
{
	return attnum == ht->time.attnum ||
		(ht->has_space && attnum == ht->space.attnum);
}

/* Whether a column read can be forwarded in the input's format. */
static bool
forwardable(Oid type, bool binary)
{
	return binary ? hd_copy_binary_forwardable(type) :
		!input_depends_on_settings(type);
}

/* Why rows cannot be forwarded unparsed, or NULL if they can. */
static const char *
fallback_reason(Relation rel, const HdHypertable *ht, const CopyStmt *stmt,
				List *attnums, bool binary)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	ListCell   *lc;

	if (stmt->whereClause != NULL)
		return "a WHERE clause";
	foreach(lc, stmt->options)
	{
		if (!option_applied_here(lfirst(lc)))
			return psprintf("option %s", ((DefElem *) lfirst(lc))->defname);
	}
	if (rel->trigdesc != NULL)
		return "triggers";
	if (binary && pg_get_client_encoding() != GetDatabaseEncoding())
		return "binary text in a client encoding not the database's";
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		bool		read = list_member_int(attnums, att->attnum);

		if (att->attisdropped)
			continue;
		if (att->attgenerated)
			return "a generated column";
		if (get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			return "a column of a domain type";
		if (read && !forwardable(att->atttypid, binary))
			return binary ? "a column whose binary form a data node may read otherwise" :
				"a column whose input depends on settings";
		if (!read && (att->atthasdef || att->attidentity))
			return "a column with a default not read";
		if (!read && is_dimension(ht, att->attnum))
			return "a dimension column not read";
	}
	return NULL;
}

/*
 * The data nodes' statement.  Binary: COPY in binary format.  Text: the
 * date order and time zone this session parsed the dimension columns with
 * (the output format stays ISO), then COPY in text format from this
 * database's encoding.  The settings last until the data node's
 * transaction ends; values sent in binary or ISO text do not depend on
 * them.
 */
static char *
data_node_sql(CopyForward *cf)
{
	static const char *const orders[] = {"YMD", "DMY", "MDY"};
	int			n = list_length(cf->attnums);
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * n);
	ListCell   *lc;
	char	   *copy;

	foreach(lc, cf->attnums)
		attnums[foreach_current_index(lc)] = lfirst_int(lc);
	copy = hd_deparse_copy_from(cf->ht, RelationGetDescr(cf->rel), n, attnums,
								cf->binary ? "FORMAT binary" :
								psprintf("ENCODING %s",
										 quote_literal_cstr(GetDatabaseEncodingName())));
	if (cf->binary)
		return copy;
	return psprintf("SET LOCAL datestyle = 'ISO, %s'; SET LOCAL timezone = %s; %s",
					orders[DateOrder],
					quote_literal_cstr(pg_get_timezone_name(session_timezone)),
					copy);
}

static void
init_dimension(CopyForward *cf, const HdDimension *dim)
{
	DimensionInput *in = &cf->dims[cf->ndims++];
	Oid			func;

	ListCell   *lc;

	/* fallback_reason has made sure that the column is read */
	foreach(lc, cf->attnums)
	{
		if (lfirst_int(lc) == dim->attnum)
			in->field = foreach_current_index(lc);
	}
	in->att = TupleDescAttr(RelationGetDescr(cf->rel), dim->attnum - 1);
	getTypeInputInfo(in->att->atttypid, &func, &in->ioparam);
	fmgr_info(func, &in->input);
}

/* The line's field count must be the columns'. */
static void
check_field_count(CopyForward *cf, int nfields)
{
	int			ncolumns = list_length(cf->attnums);
	Form_pg_attribute att;

	if (nfields > ncolumns)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("extra data after last expected column")));
	if (nfields == ncolumns)
		return;
	att = TupleDescAttr(RelationGetDescr(cf->rel),
						list_nth_int(cf->attnums, nfields) - 1);
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("missing data for column \"%s\"", NameStr(att->attname))));
}

/* Parses the dimension columns of a line; COPY's context names the column. */
static void
parse_dimensions(CopyForward *cf, char **fields)
{
	for (int i = 0; i < cf->ndims; i++)
	{
		DimensionInput *in = &cf->dims[i];
		char	   *s = fields[in->field];
		int			k = in->att->attnum - 1;

		cf->cstate->cur_attname = NameStr(in->att->attname);
		cf->cstate->cur_attval = s;
		cf->values[k] = InputFunctionCall(&in->input, s, in->ioparam,
										  in->att->atttypmod);
		cf->isnull[k] = s == NULL;
	}
	cf->cstate->cur_attname = NULL;
	cf->cstate->cur_attval = NULL;
}

/*
 * A field in COPY's text format: backslash and the characters that end a
 * field or a line are escaped.  Every server encoding keeps ASCII bytes out
 * of multibyte characters, so a byte-wise scan is safe.
 */
static void
append_text_field(StringInfo buf, const char *s)
{
	const char *start = s;

	for (; *s; s++)
	{
		char		escaped;

		switch (*s)
		{
			case '\\':
				escaped = '\\';
				break;
			case '\t':
				escaped = 't';
				break;
			case '\n':
				escaped = 'n';
				break;
			case '\r':
				escaped = 'r';
				break;
			default:
				continue;
		}
		appendBinaryStringInfo(buf, start, s - start);
		appendStringInfoCharMacro(buf, '\\');
		appendStringInfoCharMacro(buf, escaped);
		start = s + 1;
	}
	appendBinaryStringInfo(buf, start, s - start);
}

static void
encode_line(StringInfo line, char **fields, int nfields)
{
	resetStringInfo(line);
	for (int i = 0; i < nfields; i++)
	{
		if (i > 0)
			appendStringInfoCharMacro(line, '\t');
		if (fields[i] == NULL)
			appendBinaryStringInfo(line, "\\N", 2);
		else
			append_text_field(line, fields[i]);
	}
	appendStringInfoCharMacro(line, '\n');
}

/* Reads a line into cf->row, its dimension columns into cf->values. */
static bool
read_text_row(CopyForward *cf)
{
	char	  **fields;
	int			nfields;
	MemoryContext old;

	if (!NextCopyFromRawFields(cf->cstate, &fields, &nfields))
		return false;
	check_field_count(cf, nfields);
	old = MemoryContextSwitchTo(cf->row_cxt);
	parse_dimensions(cf, fields);
	MemoryContextSwitchTo(old);
	encode_line(&cf->line, fields, nfields);
	cf->row = cf->line.data;
	cf->rowlen = cf->line.len;
	return true;
}

/*
 * Reads a row and routes it, with COPY's error context (the line number);
 * NULL at the end of the input.
 */
static HdChunk *
read_row(CopyForward *cf)
{
	ErrorContextCallback errcallback;
	HdChunk    *chunk = NULL;
	MemoryContext old;
	bool		found;

	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = cf->cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	if (cf->binary)
	{
		old = MemoryContextSwitchTo(cf->row_cxt);
		found = hd_copy_binary_next(cf->reader, cf->values, cf->isnull,
									&cf->row, &cf->rowlen);
		MemoryContextSwitchTo(old);
	}
	else
		found = read_text_row(cf);
	if (found)
	{
		old = MemoryContextSwitchTo(cf->row_cxt);
		chunk = hd_insert_route(cf->insert, cf->values, cf->isnull);
		MemoryContextSwitchTo(old);
	}
	error_context_stack = errcallback.previous;
	return chunk;
}

/* Binary: the reader decodes the dimension columns, keeps the others. */
static void
init_binary_reader(CopyForward *cf)
{
	int			natts = RelationGetDescr(cf->rel)->natts;
	bool	   *decode = palloc0(sizeof(bool) * natts);

	for (int i = 0; i < natts; i++)
		decode[i] = is_dimension(cf->ht, i + 1);
	cf->reader = hd_copy_binary_begin(cf->cstate, decode);
}

static uint64
forward_rows(ParseState *pstate, CopyForward *cf, const CopyStmt *stmt)
{
	int			natts = RelationGetDescr(cf->rel)->natts;
	uint64		rows = 0;
	HdChunk    *chunk;

	cf->cstate = BeginCopyFrom(pstate, cf->rel, NULL, stmt->filename,
							   stmt->is_program, NULL, stmt->attlist,
							   stmt->options);
	cf->insert = hd_insert_begin_copy(cf->rel, cf->ht, data_node_sql(cf),
									  cf->binary);
	if (cf->binary)
		init_binary_reader(cf);
	else
	{
		initStringInfo(&cf->line);
		init_dimension(cf, &cf->ht->time);
		if (cf->ht->has_space)
			init_dimension(cf, &cf->ht->space);
	}
	cf->values = palloc0(sizeof(Datum) * natts);
	cf->isnull = palloc(sizeof(bool) * natts);
	memset(cf->isnull, true, sizeof(bool) * natts);
	cf->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										"hyperdist copy row",
										ALLOCSET_DEFAULT_SIZES);

	/*
	 * A data node's error names the node, and the line in its batch and
	 * input.  pg_stat_progress_copy counts the rows read, as PostgreSQL's
	 * COPY counts those it inserted (BeginCopyFrom started the report and
	 * counts the bytes).
	 */
	while ((chunk = read_row(cf)) != NULL)
	{
		hd_insert_copy_row(cf->insert, chunk, cf->row, cf->rowlen,
						   cf->cstate->cur_lineno);
		MemoryContextReset(cf->row_cxt);
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ++rows);
	}
	hd_insert_flush(cf->insert);
	EndCopyFrom(cf->cstate);
	return rows;
}

/* Whether the statement reads COPY's binary format. */
static bool
binary_format(const CopyStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		if (strcmp(opt->defname, "format") == 0)
			return strcmp(defGetString(opt), "binary") == 0;
	}
	return false;
}

bool
hd_copy_from(ParseState *pstate, const CopyStmt *stmt, Oid relid,
			 uint64 *processed)
{
	CopyForward cf = {0};
	const char *why;

	check_source_access(stmt);
	cf.rel = table_open(relid, RowExclusiveLock);
	cf.ht = hd_hypertable_load(relid);
	cf.attnums = CopyGetAttnums(RelationGetDescr(cf.rel), cf.rel, stmt->attlist);
	check_insert_privilege(pstate, cf.rel, cf.attnums);
	cf.binary = binary_format(stmt);
	why = cf.ht == NULL ? "not a distributed hypertable" :
		fallback_reason(cf.rel, cf.ht, stmt, cf.attnums, cf.binary);
	if (why != NULL)
	{
		ereport(DEBUG1,
				(errmsg_internal("COPY into \"%s\" parses every column on the access node: %s",
								 RelationGetRelationName(cf.rel), why)));
		table_close(cf.rel, NoLock);
		return false;
	}

	PreventCommandIfReadOnly("COPY FROM");
	PreventCommandIfParallelMode("COPY FROM");
	ereport(DEBUG1,
			(errmsg_internal("COPY into \"%s\" forwards %s rows to the data nodes",
							 RelationGetRelationName(cf.rel),
							 cf.binary ? "binary" : "text")));
	*processed = forward_rows(pstate, &cf, stmt);
	table_close(cf.rel, NoLock);
	return true;
}
