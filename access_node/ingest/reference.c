/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/reference.c — the copies of reference tables on the data nodes.
 *
 * A reference table is an ordinary table on the access node with a copy
 * of the same name on every data node.  Statement-level AFTER triggers
 * with transition tables (installed by create_reference_table) apply each
 * statement's changes to every copy, in the remote transactions, so the
 * copies commit or roll back with the local table (two-phase commit when
 * two or more nodes were written).  Per statement and node: the rows of
 * an INSERT or COPY go in one binary COPY; a DELETE deletes the old rows
 * by their replica identity in one DELETE (one array per key column); an
 * UPDATE updates the rows whose key stayed in one UPDATE (found by their
 * key, the other columns set from arrays), deletes those whose key changed
 * and copies their new versions; a TRUNCATE is a TRUNCATE.  Every
 * value is the access node's: defaults, sequences and now() were computed
 * here, and the copies' columns are plain.
 *
 * The trigger runs as the writer, whose own sessions reach the data nodes:
 * nothing is elevated.  A data node that cannot be reached fails the
 * statement, naming it, and the transaction rolls back everywhere.
 *
 * Values travel in binary (ingest/codec.c), so every column must be of a
 * built-in scalar type; create_reference_table checks it
 * (reference_column_types), and a write checks that the session's client
 * encoding is the database's, as binary text requires.
 */
#include "postgres.h"

#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "port/pg_bswap.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "deparse/deparse.h"
#include "ingest/codec.h"
#include "metadata/catalog_read.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/node.h"

/*
 * A statement is shipped at this size (a COPY's rows, a DELETE's or
 * UPDATE's arrays), well below the agent's frame limit, or at this many
 * rows.
 */
#define REF_MAX_BYTES (16 * 1024 * 1024)
#define REF_ARRAY_MAX_ROWS 100000

typedef struct RefWriter
{
	Relation	rel;
	List	   *conns;			/* HdConn, one per data node */
	int			ncolumns;
	HdColumnCodec *codecs;
	AttrNumber *attnums;
	char	   *copy_sql;
	StringInfoData copy;		/* binary COPY: header and rows */
	int			nrows;
} RefWriter;

/* Refuses a column that cannot travel in binary (see the file's comment). */
static void
check_binary(Relation rel, Form_pg_attribute att)
{
	if (!hd_codec_binary_ok(att->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of reference table \"%s\" cannot be sent to the data nodes",
						NameStr(att->attname), RelationGetRelationName(rel)),
				 errdetail("A reference table's columns must be of built-in scalar types, and the session's client_encoding must be the database's encoding."),
				 errhint("Use a built-in type, or SET client_encoding = '%s'.",
						 GetDatabaseEncodingName())));
}

/* The sessions of every data node, in this transaction. */
static List *
data_node_conns(List *servers)
{
	List	   *conns = NIL;
	ListCell   *lc;

	foreach(lc, servers)
		conns = lappend(conns, hd_conn_get(lfirst_oid(lc), true));
	return conns;
}

/* Starts writing rel's rows to the data nodes servers (none yet: NIL). */
static void
writer_begin(RefWriter *w, Relation rel, List *servers)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	w->rel = rel;
	w->codecs = palloc(sizeof(HdColumnCodec) * tupdesc->natts);
	w->attnums = palloc(sizeof(AttrNumber) * tupdesc->natts);
	w->ncolumns = 0;
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped)
			continue;
		check_binary(rel, att);
		hd_codec_init(&w->codecs[w->ncolumns], att);
		w->attnums[w->ncolumns++] = att->attnum;
	}
	w->conns = data_node_conns(servers);
	w->copy_sql = NULL;
	w->nrows = 0;
	initStringInfo(&w->copy);
}

/* Every data node, for a write of the table (once). */
static void
writer_connect(RefWriter *w)
{
	if (w->conns == NIL)
		w->conns = data_node_conns(hd_data_node_oids());
}

/* Runs sql with params on every node at once, then waits for them all. */
static void
exec_on_all(RefWriter *w, const char *sql, int nparams,
			const HdParamValue *params, const StringInfo copy)
{
	uint32	   *seqs = palloc(sizeof(uint32) * Max(list_length(w->conns), 1));
	ListCell   *lc;

	foreach(lc, w->conns)
	{
		if (copy != NULL)
			seqs[foreach_current_index(lc)] =
				hd_exec_send_copy(lfirst(lc), sql, copy->data, copy->len);
		else
			seqs[foreach_current_index(lc)] =
				hd_exec_send_params(lfirst(lc), sql, nparams, params);
	}
	foreach(lc, w->conns)
		hd_exec_wait(lfirst(lc), seqs[foreach_current_index(lc)], NULL);
	pfree(seqs);
}

/* ---- new rows: binary COPY -------------------------------------------------- */

static void
copy_reset(RefWriter *w)
{
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

	resetStringInfo(&w->copy);
	appendBinaryStringInfo(&w->copy, header, sizeof(header));
	w->nrows = 0;
}

/* Ships the rows buffered, with COPY's trailer (a field count of -1). */
static void
copy_flush(RefWriter *w)
{
	int16		trailer = -1;

	if (w->nrows == 0)
		return;
	appendBinaryStringInfo(&w->copy, (char *) &trailer, 2);
	exec_on_all(w, w->copy_sql, 0, NULL, &w->copy);
	copy_reset(w);
}

static void
copy_row(RefWriter *w, TupleTableSlot *slot)
{
	uint16		nfields = pg_hton16((uint16) w->ncolumns);

	slot_getallattrs(slot);
	appendBinaryStringInfo(&w->copy, (char *) &nfields, 2);
	for (int i = 0; i < w->ncolumns; i++)
	{
		int			k = w->attnums[i] - 1;

		if (slot->tts_isnull[k])
			hd_codec_encode_null(&w->copy);
		else
			hd_codec_encode(&w->codecs[i], &w->copy, slot->tts_values[k]);
	}
	w->nrows++;
	if (w->copy.len >= REF_MAX_BYTES)
		copy_flush(w);
}

static void
copy_begin(RefWriter *w)
{
	w->copy_sql = hd_deparse_reference_copy(RelationGetRelid(w->rel),
											RelationGetDescr(w->rel),
											w->ncolumns, w->attnums);
	copy_reset(w);
}

/* Copies the rows of a transition table. */
static void
copy_tuplestore(RefWriter *w, Tuplestorestate *rows)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel),
													&TTSOpsMinimalTuple);

	copy_begin(w);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
		copy_row(w, slot);
	copy_flush(w);
	ExecDropSingleTupleTableSlot(slot);
}

/* ---- old rows: DELETE and UPDATE by replica identity ------------------------ */

/*
 * The replica identity's columns (the primary key, or REPLICA IDENTITY
 * USING INDEX), as logical replication needs them to update or delete;
 * without one the statement is refused as logical replication refuses it.
 */
static int
identity_columns(Relation rel, const char *command, AttrNumber **keys)
{
	Bitmapset  *attrs = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_IDENTITY_KEY);
	int			n = 0;
	int			k = -1;

	if (bms_is_empty(attrs))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s table \"%s\" because it does not have a replica identity",
						command, RelationGetRelationName(rel)),
				 errdetail("A reference table's changed and deleted rows are found on the data nodes by their replica identity."),
				 errhint("To enable this, add a primary key or set REPLICA IDENTITY USING INDEX with ALTER TABLE.")));
	*keys = palloc(sizeof(AttrNumber) * bms_num_members(attrs));
	while ((k = bms_next_member(attrs, k)) >= 0)
		(*keys)[n++] = k + FirstLowInvalidHeapAttributeNumber;
	return n;
}

/*
 * Values of some columns of many rows, one array per column, for a
 * statement that reads them with unnest: attnums[0..n) of each row (an
 * UPDATE's keys from the old row, the rest from the new one).
 */
typedef struct ColumnArrays
{
	char	   *sql;
	int			n;
	AttrNumber *attnums;
	ArrayBuildState **arrays;
	int			nrows;
	size_t		bytes;			/* of the values gathered */
} ColumnArrays;

static void
arrays_init(ColumnArrays *a, char *sql, int n, AttrNumber *attnums)
{
	a->sql = sql;
	a->n = n;
	a->attnums = attnums;
	a->arrays = palloc0(sizeof(ArrayBuildState *) * Max(n, 1));
	a->nrows = 0;
	a->bytes = 0;
}

/* Runs the statement on every node with the arrays gathered, in binary. */
static void
arrays_flush(RefWriter *w, ColumnArrays *a)
{
	HdParamValue *params;

	if (a->nrows == 0)
		return;
	params = palloc(sizeof(HdParamValue) * a->n);
	for (int i = 0; i < a->n; i++)
	{
		Oid			type = TupleDescAttr(RelationGetDescr(w->rel), a->attnums[i] - 1)->atttypid;
		Datum		array = makeArrayResult(a->arrays[i], CurrentMemoryContext);
		bytea	   *bytes = OidSendFunctionCall(F_ARRAY_SEND, array);

		params[i].type = get_array_type(getBaseType(type));
		params[i].data = VARDATA(bytes);
		params[i].len = VARSIZE(bytes) - VARHDRSZ;
		params[i].binary = true;
		a->arrays[i] = NULL;
	}
	exec_on_all(w, a->sql, a->n, params, NULL);
	a->nrows = 0;
	a->bytes = 0;
}

/* Adds the values of columns first..first+count of a row from slot. */
static void
arrays_add_columns(RefWriter *w, ColumnArrays *a, TupleTableSlot *slot,
				   int first, int count)
{
	for (int i = first; i < first + count; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(w->rel), a->attnums[i] - 1);
		bool		isnull;
		Datum		value = slot_getattr(slot, a->attnums[i], &isnull);

		a->arrays[i] = accumArrayResult(a->arrays[i], value, isnull,
										getBaseType(att->atttypid), CurrentMemoryContext);
		if (!isnull)
			a->bytes += datumGetSize(value, att->attbyval, att->attlen);
	}
}

/* After a row: ships the statement when it has its most rows. */
static void
arrays_row_added(RefWriter *w, ColumnArrays *a)
{
	if (++a->nrows == REF_ARRAY_MAX_ROWS || a->bytes >= REF_MAX_BYTES)
		arrays_flush(w, a);
}

/* Deletes the rows of a transition table from the copies, by their keys. */
static void
delete_tuplestore(RefWriter *w, Tuplestorestate *rows, int nkeys,
				  AttrNumber *keys)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel),
													&TTSOpsMinimalTuple);
	ColumnArrays del;

	arrays_init(&del, hd_deparse_reference_delete(RelationGetRelid(w->rel),
												  RelationGetDescr(w->rel),
												  nkeys, keys),
				nkeys, keys);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		arrays_add_columns(w, &del, slot, 0, nkeys);
		arrays_row_added(w, &del);
	}
	arrays_flush(w, &del);
	ExecDropSingleTupleTableSlot(slot);
}

/* Whether the old and the new row have the same replica identity. */
static bool
same_key(Relation rel, TupleTableSlot *old, TupleTableSlot *new,
		 int nkeys, const AttrNumber *keys)
{
	for (int i = 0; i < nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), keys[i] - 1);
		bool		null1;
		bool		null2;
		Datum		v1 = slot_getattr(old, keys[i], &null1);
		Datum		v2 = slot_getattr(new, keys[i], &null2);

		if (null1 != null2 ||
			(!null1 && !datum_image_eq(v1, v2, att->attbyval, att->attlen)))
			return false;
	}
	return true;
}

/*
 * The rows an UPDATE changed.  Those whose key stayed are updated in place
 * on the copies, one UPDATE per node (a DELETE and INSERT would break
 * foreign keys referencing them there); those whose key changed are
 * deleted by their old key, then copied.  PostgreSQL fills the old and
 * new transition tables row by row, so the nth rows of both are the same
 * row's versions.
 */
static void
update_tuplestores(RefWriter *w, Tuplestorestate *oldrows,
				   Tuplestorestate *newrows, int nkeys, AttrNumber *keys)
{
	TupleDesc	tupdesc = RelationGetDescr(w->rel);
	TupleTableSlot *old = MakeSingleTupleTableSlot(tupdesc, &TTSOpsMinimalTuple);
	TupleTableSlot *new = MakeSingleTupleTableSlot(tupdesc, &TTSOpsMinimalTuple);
	AttrNumber *cols = palloc(sizeof(AttrNumber) * (nkeys + w->ncolumns));
	int			nset = 0;
	ColumnArrays del;
	ColumnArrays upd;

	memcpy(cols, keys, sizeof(AttrNumber) * nkeys);
	/* the keys, then the other columns, which the UPDATE sets */
	for (int i = 0; i < w->ncolumns; i++)
	{
		bool		is_key = false;

		for (int k = 0; k < nkeys; k++)
			is_key |= keys[k] == w->attnums[i];
		if (!is_key)
			cols[nkeys + nset++] = w->attnums[i];
	}
	arrays_init(&del, hd_deparse_reference_delete(RelationGetRelid(w->rel), tupdesc,
												  nkeys, keys), nkeys, keys);
	arrays_init(&upd, nset == 0 ? NULL :
				hd_deparse_reference_update(RelationGetRelid(w->rel), tupdesc,
											nkeys, cols, nset, cols + nkeys),
				nkeys + nset, cols);
	copy_begin(w);
	tuplestore_rescan(oldrows);
	tuplestore_rescan(newrows);
	while (tuplestore_gettupleslot(oldrows, true, false, old) &&
		   tuplestore_gettupleslot(newrows, true, false, new))
	{
		if (!same_key(w->rel, old, new, nkeys, keys))
		{
			arrays_add_columns(w, &del, old, 0, nkeys);
			arrays_row_added(w, &del);
			copy_row(w, new);
		}
		else if (nset > 0)
		{
			arrays_add_columns(w, &upd, old, 0, nkeys);
			arrays_add_columns(w, &upd, new, nkeys, nset);
			arrays_row_added(w, &upd);
		}
	}
	arrays_flush(w, &del);
	arrays_flush(w, &upd);
	copy_flush(w);
	ExecDropSingleTupleTableSlot(old);
	ExecDropSingleTupleTableSlot(new);
}

/* ---- the trigger ------------------------------------------------------------ */

static bool
is_empty(Tuplestorestate *rows)
{
	return rows == NULL || tuplestore_tuple_count(rows) == 0;
}

/*
 * _hyperdist_functions.reference_table_sync(): AFTER ... FOR EACH STATEMENT
 * on a reference table, with its transition tables (one trigger per event:
 * PostgreSQL gives transition tables to single-event triggers only).
 */
PG_FUNCTION_INFO_V1(hyperdist_reference_table_sync);
Datum
hyperdist_reference_table_sync(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	RefWriter	w;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		elog(ERROR, "reference_table_sync must be an AFTER ... FOR EACH STATEMENT trigger");
	rel = td->tg_relation;
	if (!hd_catalog_is_reference_table(RelationGetRelid(rel)))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is not a reference table",
						RelationGetRelationName(rel))));

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		hd_exec_on_servers(hd_data_node_oids(),
						   hd_deparse_truncate_reference(RelationGetRelid(rel)));
		return PointerGetDatum(NULL);
	}
	writer_begin(&w, rel, NIL);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		AttrNumber *keys;

		/* refused even when no row changed, as logical replication does */
		int			nkeys = identity_columns(rel,
											 TRIGGER_FIRED_BY_UPDATE(td->tg_event) ?
											 "update" : "delete from", &keys);

		if (is_empty(td->tg_oldtable))
			return PointerGetDatum(NULL);
		writer_connect(&w);
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			update_tuplestores(&w, td->tg_oldtable, td->tg_newtable, nkeys, keys);
		else
			delete_tuplestore(&w, td->tg_oldtable, nkeys, keys);
	}
	else if (!is_empty(td->tg_newtable))
	{
		writer_connect(&w);
		copy_tuplestore(&w, td->tg_newtable);
	}
	return PointerGetDatum(NULL);
}

/* ---- a table's rows, copied to data nodes ------------------------------------- */

/*
 * _hyperdist_functions.reference_table_copy_rows(rel, nodes): every row
 * of rel, a reference table (without row-level security, which a direct
 * read of the heap would bypass) that the caller may read, into its copies
 * on the data nodes named, in one binary COPY each (create_reference_table,
 * add_data_node).  The caller has locked rel against writes; its rows are
 * read with a new snapshot, taken after the lock.
 */
PG_FUNCTION_INFO_V1(hyperdist_reference_table_copy_rows);
Datum
hyperdist_reference_table_copy_rows(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *names = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *servers = NIL;
	Relation	rel;
	RefWriter	w;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	AclResult	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
	deconstruct_array(names, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			servers = lappend_oid(servers,
								  get_foreign_server_oid(NameStr(*DatumGetName(elems[i])), false));

	rel = table_open(relid, AccessShareLock);
	/* the heap is read directly: no row-level security may hide a row */
	if (!hd_catalog_is_reference_table(relid) || rel->rd_rel->relrowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is not a reference table",
						RelationGetRelationName(rel))));
	writer_begin(&w, rel, servers);
	copy_begin(&w);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		copy_row(&w, slot);
	copy_flush(&w);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}
