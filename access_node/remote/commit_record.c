/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/commit_record.c — two-phase commit identifiers and the durable
 * commit records.
 *
 * The committing backend inserts its records from the PRE_COMMIT callback,
 * where running SQL would come after the executor's end-of-transaction
 * work (deferred triggers have fired, portals are closed): so the rows are
 * formed and inserted directly, as PostgreSQL inserts catalog rows.  The
 * resolver reads and deletes them with SPI under the latest snapshot,
 * never the transaction's: a record committed a moment ago must be seen,
 * whatever the caller's isolation level.
 */
#include "postgres.h"

#include <inttypes.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "remote/commit_record.h"
#include "spi_plan.h"

#define HD_CATALOG_SCHEMA	"_hyperdist_catalog"
#define HD_RECORD_TABLE		"commit_record"
#define HD_RECORD_NATTS		4

void
hd_gid_format(char gid[GIDSIZE], FullTransactionId fxid, Oid serverid)
{
	snprintf(gid, GIDSIZE, "hd_%" PRIu64 "_%u_%" PRIu64 "_%u",
			 GetSystemIdentifier(), MyDatabaseId,
			 U64FromFullTransactionId(fxid), serverid);
}

char *
hd_gid_prefix(void)
{
	return psprintf("hd_%" PRIu64 "_%u_", GetSystemIdentifier(), MyDatabaseId);
}

bool
hd_gid_parse(const char *gid, FullTransactionId *fxid, Oid *serverid)
{
	uint64		sysid;
	uint64		xid;
	unsigned int dboid;
	unsigned int server;
	char		again[GIDSIZE];

	if (sscanf(gid, "hd_%" SCNu64 "_%u_%" SCNu64 "_%u",
			   &sysid, &dboid, &xid, &server) != 4 ||
		sysid != GetSystemIdentifier() || dboid != MyDatabaseId)
		return false;
	*fxid = FullTransactionIdFromU64(xid);
	*serverid = server;
	/* exactly our format: no sign, leading zeros or trailing text */
	hd_gid_format(again, *fxid, *serverid);
	return strcmp(again, gid) == 0;
}

static Oid
record_relid(void)
{
	Oid			nsp = get_namespace_oid(HD_CATALOG_SCHEMA, false);
	Oid			relid = get_relname_relid(HD_RECORD_TABLE, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						HD_CATALOG_SCHEMA, HD_RECORD_TABLE),
				 errhint("The hyperdist extension is damaged; reinstall it.")));
	return relid;
}

void
hd_record_insert(int n, char *const *gids, const Oid *servers,
				 FullTransactionId fxid)
{
	Relation	rel = table_open(record_relid(), RowExclusiveLock);
	TimestampTz now = GetCurrentTimestamp();

	for (int i = 0; i < n; i++)
	{
		Datum		values[HD_RECORD_NATTS];
		bool		nulls[HD_RECORD_NATTS] = {false};
		HeapTuple	tuple;

		values[0] = CStringGetTextDatum(gids[i]);
		values[1] = ObjectIdGetDatum(servers[i]);
		values[2] = FullTransactionIdGetDatum(fxid);
		values[3] = TimestampTzGetDatum(now);
		tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		CatalogTupleInsert(rel, tuple);
		heap_freetuple(tuple);
	}
	table_close(rel, NoLock);
}

static Datum
text_array(List *strings)
{
	int			n = list_length(strings);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[i++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * Runs sql with nargs (0 or 1) parameters under the latest snapshot.  For
 * a query, returns its first column's values as strings in the caller's
 * context; otherwise NIL, and *processed gets the row count.
 */
static List *
record_sql(const char *sql, int nargs, Oid argtype, Datum arg, uint64 *processed)
{
	MemoryContext caller = CurrentMemoryContext;
	SPIPlanPtr	plan;
	List	   *result = NIL;
	int			ret;
	int			nestlevel;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = hd_safe_search_path_begin();
	plan = SPI_prepare(sql, nargs, &argtype);
	hd_safe_search_path_end(nestlevel);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	nestlevel = hd_safe_search_path_begin();
	ret = SPI_execute_snapshot(plan, &arg, NULL, GetLatestSnapshot(),
							   InvalidSnapshot, false, false, 0);
	hd_safe_search_path_end(nestlevel);
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
	if (processed != NULL)
		*processed = SPI_processed;
	if (ret == SPI_OK_SELECT)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		for (uint64 i = 0; i < SPI_processed; i++)
			result = lappend(result, SPI_getvalue(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return result;
}

List *
hd_record_gids(Oid serverid)
{
	return record_sql("SELECT gid FROM " HD_CATALOG_SCHEMA "." HD_RECORD_TABLE
					  " WHERE node = $1",
					  1, OIDOID, ObjectIdGetDatum(serverid), NULL);
}

List *
hd_record_filter(List *gids)
{
	if (gids == NIL)
		return NIL;
	return record_sql("SELECT gid FROM " HD_CATALOG_SCHEMA "." HD_RECORD_TABLE
					  " WHERE gid = ANY ($1)",
					  1, TEXTARRAYOID, text_array(gids), NULL);
}

void
hd_record_delete(List *gids)
{
	if (gids == NIL)
		return;
	(void) record_sql("DELETE FROM " HD_CATALOG_SCHEMA "." HD_RECORD_TABLE
					  " WHERE gid = ANY ($1)",
					  1, TEXTARRAYOID, text_array(gids), NULL);
}

uint64
hd_record_prune_orphans(void)
{
	uint64		n = 0;

	(void) record_sql("DELETE FROM " HD_CATALOG_SCHEMA "." HD_RECORD_TABLE " r"
					  " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_foreign_server s"
					  " WHERE s.oid = r.node)",
					  0, InvalidOid, (Datum) 0, &n);
	return n;
}
