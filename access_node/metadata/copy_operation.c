/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/copy_operation.c — reading and writing chunk copy operations
 * (see copy_operation.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/snapmgr.h"

#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/copy_operation.h"
#include "spi_plan.h"

int32
hd_copy_op_insert(int32 chunk_id, const char *source, const char *dest,
				  bool delete_source, const char *operation_id, int32 rebalance_id)
{
	Oid			types[6] = {INT4OID, NAMEOID, NAMEOID, BOOLOID, NAMEOID, INT4OID};
	Datum		values[6];
	char		nulls[7] = "      ";

	values[0] = Int32GetDatum(chunk_id);
	values[1] = hd_spi_name_arg(source);
	values[2] = hd_spi_name_arg(dest);
	values[3] = BoolGetDatum(delete_source);
	values[4] = operation_id != NULL ? hd_spi_name_arg(operation_id) : (Datum) 0;
	nulls[4] = operation_id != NULL ? ' ' : 'n';
	values[5] = Int32GetDatum(rebalance_id);
	nulls[5] = rebalance_id != 0 ? ' ' : 'n';
	return DatumGetInt32(hd_catalog_write("WITH id AS (SELECT pg_catalog.nextval("
										  "  '_hyperdist_catalog.chunk_copy_operation_id_seq') AS id)"
										  " INSERT INTO _hyperdist_catalog.chunk_copy_operation"
										  " (id, operation_id, chunk_id, source_node_name, dest_node_name,"
										  "  delete_on_source_node, rebalance_id)"
										  " SELECT id.id, coalesce($5, ('hd_copy_' || id.id)::name),"
										  "        $1, $2, $3, $4, $6 FROM id"
										  " RETURNING id",
										  6, types, values, nulls, INT4OID));
}

static char *
text_or_null(uint64 row, int col)
{
	bool		isnull;
	Datum		d = hd_spi_value(row, col, TEXTOID, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

bool
hd_copy_op_read(int32 id, HdCopyOp *op)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(id)};
	MemoryContext caller = hd_spi_connect();
	bool		found;

	PushActiveSnapshot(GetLatestSnapshot());
	hd_spi_execute("SELECT id, operation_id::text, completed_stage::text, chunk_id,"
				   "       source_node_name::text, dest_node_name::text,"
				   "       delete_on_source_node, error_code, attempts, error_message"
				   "  FROM _hyperdist_catalog.chunk_copy_operation WHERE id = $1",
				   1, types, values, NULL, true, 1);
	PopActiveSnapshot();
	found = SPI_processed == 1;
	if (found)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		op->id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
		op->operation_id = text_or_null(0, 2);
		op->stage = text_or_null(0, 3);
		op->chunk_id = DatumGetInt32(hd_spi_value(0, 4, INT4OID, NULL));
		op->source = text_or_null(0, 5);
		op->dest = text_or_null(0, 6);
		op->delete_source = DatumGetBool(hd_spi_value(0, 7, BOOLOID, NULL));
		op->error_code = text_or_null(0, 8);
		op->attempts = DatumGetInt32(hd_spi_value(0, 9, INT4OID, NULL));
		op->error_message = text_or_null(0, 10);
		MemoryContextSwitchTo(spi);
	}
	hd_spi_finish();
	return found;
}

char *
hd_copy_op_chunk_name(const HdCopyOp *op)
{
	HdCatalogChunkPlace place;

	if (!hd_catalog_chunk_place(op->chunk_id, &place))
		return psprintf("%d (dropped)", op->chunk_id);
	return quote_qualified_identifier(place.schema_name, place.table_name);
}

bool
hd_copy_op_ended(const HdCopyOp *op)
{
	return strcmp(op->stage, "complete") == 0 || strcmp(op->stage, "failed") == 0 ||
		strcmp(op->stage, "cancelled") == 0;
}

List *
hd_copy_op_unfinished(void)
{
	List	   *ids = NIL;
	MemoryContext caller = hd_spi_connect();

	hd_spi_execute("SELECT id FROM _hyperdist_catalog.chunk_copy_operation"
				   " WHERE completed_stage NOT IN ('complete', 'failed', 'cancelled')"
				   " ORDER BY id",
				   0, NULL, NULL, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		ids = lappend_int(ids, DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL)));
		MemoryContextSwitchTo(spi);
	}
	hd_spi_finish();
	return ids;
}

/* The one int4 of a catalog query with one argument, or 0 without a row. */
static int32
lookup_id(const char *sql, Oid type, Datum value)
{
	int32		id = 0;

	hd_spi_connect();
	hd_spi_execute(sql, 1, &type, &value, NULL, false, 1);
	if (SPI_processed == 1)
		id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	hd_spi_finish();
	return id;
}

int32
hd_copy_op_lookup(const char *operation_id)
{
	return lookup_id("SELECT id FROM _hyperdist_catalog.chunk_copy_operation"
					 " WHERE operation_id = $1",
					 NAMEOID, hd_spi_name_arg(operation_id));
}

int32
hd_copy_op_active_on(int32 chunk_id)
{
	return lookup_id("SELECT id FROM _hyperdist_catalog.chunk_copy_operation"
					 " WHERE chunk_id = $1"
					 "   AND completed_stage NOT IN ('complete', 'failed', 'cancelled')",
					 INT4OID, Int32GetDatum(chunk_id));
}

bool
hd_copy_op_set_stage(int32 id, const char *stage)
{
	Oid			types[3] = {INT4OID, NAMEOID, INT4OID};
	Datum		values[3] = {Int32GetDatum(id), hd_spi_name_arg(stage),
	Int32GetDatum(MyProcPid)};

	return DatumGetInt64(hd_catalog_write("WITH u AS ("
										  " UPDATE _hyperdist_catalog.chunk_copy_operation"
										  "    SET completed_stage = $2,"
										  "        backend_pid = CASE WHEN $2 IN ('complete', 'failed', 'cancelled')"
										  "                           THEN NULL ELSE $3 END,"
										  "        time_end = CASE WHEN $2 IN ('complete', 'failed', 'cancelled')"
										  "                        THEN pg_catalog.now() END"
										  "  WHERE id = $1"
										  "    AND (completed_stage <> 'cancelled' OR $2 IN ('failed', 'cancelled'))"
										  "  RETURNING 1)"
										  " SELECT pg_catalog.count(*) FROM u",
										  3, types, values, NULL, INT8OID)) == 1;
}

void
hd_copy_op_record_copy(int32 id, uint64 rows, uint64 bytes, TimestampTz started)
{
	Oid			types[4] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[4] = {Int32GetDatum(id), Int64GetDatum((int64) rows),
	Int64GetDatum((int64) bytes), TimestampTzGetDatum(started)};

	(void) hd_catalog_write("UPDATE _hyperdist_catalog.chunk_copy_operation"
							"   SET rows_copied = $2, bytes_copied = $3,"
							"       copy_time = pg_catalog.clock_timestamp() - $4"
							" WHERE id = $1",
							4, types, values, NULL, InvalidOid);
}

void
hd_copy_op_record_error(int32 id, const char *sqlstate, const char *message)
{
	Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int32GetDatum(id), CStringGetTextDatum(sqlstate),
	CStringGetTextDatum(message)};

	(void) hd_catalog_write("UPDATE _hyperdist_catalog.chunk_copy_operation"
							"   SET attempts = attempts + 1, error_code = $2, error_message = $3,"
							"       backend_pid = NULL"
							" WHERE id = $1",
							3, types, values, NULL, InvalidOid);
}

List *
hd_copy_op_other_pids(int32 id)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(id);
	List	   *pids = NIL;
	MemoryContext caller = hd_spi_connect();

	hd_spi_execute("SELECT backend_pid FROM _hyperdist_catalog.chunk_copy_operation"
				   " WHERE id <> $1 AND backend_pid IS NOT NULL",
				   1, &type, &value, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		pids = lappend_int(pids, DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL)));
		MemoryContextSwitchTo(spi);
	}
	hd_spi_finish();
	return pids;
}
