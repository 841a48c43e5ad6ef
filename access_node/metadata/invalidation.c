/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/invalidation.c — the invalidation logs of continuous aggregates.
 *
 * Writers.  The transaction keeps, per hypertable with continuous
 * aggregates, the lowest and greatest internal time it changed (ingest/
 * widens it row by row, fdw/direct_modify.c by the chunks an UPDATE or
 * DELETE may touch, drop_chunks by the chunks it drops, TRUNCATE to
 * everything) and logs them in one row per hypertable at PRE_COMMIT, as
 * the catalog's owner.  This callback runs before remote/txn.c's (init.c
 * registers it later): the row gives the transaction an xid here, so its
 * data nodes commit with two-phase commit, after the row is written.  A
 * subtransaction that aborts keeps what it recorded: logging too much
 * costs a refresh some buckets, logging too little loses changes.
 *
 * A refresh moves the hypertable's committed rows to its aggregates'
 * logs, then waits for their writers to finish: each committed here, but
 * its data nodes commit after that (remote/txn.c's COMMIT PREPARED at
 * XACT_EVENT_COMMIT), before it releases its locks.  Waiting for the lock
 * on each row's xmin, the writer's xid, so waits for its data nodes: the
 * data the refresh then reads includes every change its moved rows
 * announce.  Writers still running are not waited for: their rows are
 * not moved, and stay for the next refresh.  A branch whose COMMIT
 * PREPARED fails is left to the background worker, and a refresh may read
 * before it commits: its change then shows only after a later change of
 * the same buckets.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "metadata/cache.h"
#include "metadata/catalog.h"
#include "metadata/invalidation.h"
#include "spi_plan.h"

/* The transaction's ranges, by hypertable id; NULL when it has none. */
static HTAB *xact_ranges = NULL;

static Oid
hypertable_log_relid(void)
{
	return get_relname_relid("continuous_aggs_hypertable_invalidation_log",
							 get_namespace_oid("_hyperdist_catalog", false));
}

HdInvalRange *
hd_inval_range(const HdHypertable *ht)
{
	HdInvalRange *range;
	bool		found;

	if (!ht->has_caggs)
		return NULL;
	if (xact_ranges == NULL)
	{
		HASHCTL		ctl = {
			.keysize = sizeof(int32),
			.entrysize = sizeof(HdInvalRange),
			.hcxt = TopTransactionContext
		};

		xact_ranges = hash_create("hyperdist invalidations", 8, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	range = hash_search(xact_ranges, &ht->id, HASH_ENTER, &found);
	if (!found)
	{
		range->lowest = PG_INT64_MAX;
		range->greatest = PG_INT64_MIN;
	}
	return range;
}

void
hd_inval_record(const HdHypertable *ht, int64 lowest, int64 greatest)
{
	HdInvalRange *range = hd_inval_range(ht);

	if (range != NULL)
		hd_inval_add(range, lowest, greatest);
}

void
hd_inval_record_pruned(HdHypertable *ht, const HdChunkPrune *prune)
{
	const HdChunkSet *set;
	int64		lowest = PG_INT64_MAX;
	int64		greatest = PG_INT64_MIN;

	if (!ht->has_caggs || prune->none)
		return;
	set = hd_catalog_cache_chunks(ht);
	for (int i = 0; i < set->nchunks; i++)
	{
		const HdCachedChunk *c = &set->chunks[i];

		if (c->range_start > prune->time_hi || c->range_end <= prune->time_lo)
			continue;
		lowest = Min(lowest, Max(c->range_start, prune->time_lo));
		greatest = Max(greatest, Min(c->range_end - 1, prune->time_hi));
	}
	if (lowest <= greatest)
		hd_inval_record(ht, lowest, greatest);
}

void
hd_inval_record_chunks(const HdHypertable *ht, Datum chunk_ids)
{
	Oid			types[2] = {INT4OID, INT4ARRAYOID};
	Datum		values[2] = {Int32GetDatum(ht->id), chunk_ids};
	bool		isnull;
	int64		lowest;
	int64		greatest;

	if (!ht->has_caggs)
		return;
	hd_spi_connect();
	hd_spi_execute("SELECT pg_catalog.min(s.range_start),"
				   "       pg_catalog.max(s.range_end) OPERATOR(pg_catalog.-) 1"
				   "  FROM _hyperdist_catalog.chunk c"
				   "  JOIN _hyperdist_catalog.time_slice s"
				   "    ON s.id OPERATOR(pg_catalog.=) c.time_slice_id"
				   " WHERE c.hypertable_id OPERATOR(pg_catalog.=) $1"
				   "   AND c.id OPERATOR(pg_catalog.=) ANY ($2)",
				   2, types, values, NULL, false, 0);
	lowest = DatumGetInt64(hd_spi_value(0, 1, INT8OID, &isnull));
	greatest = isnull ? 0 : DatumGetInt64(hd_spi_value(0, 2, INT8OID, NULL));
	hd_spi_finish();
	if (!isnull)
		hd_inval_record(ht, lowest, greatest);
}

/* One row per hypertable the transaction changed (and did not drop). */
static void
log_ranges(void)
{
	HASH_SEQ_STATUS seq;
	HdInvalRange *range;
	Oid			types[3] = {INT4OID, INT8OID, INT8OID};

	hash_seq_init(&seq, xact_ranges);
	while ((range = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[3] = {Int32GetDatum(range->hypertable_id),
		Int64GetDatum(range->lowest), Int64GetDatum(range->greatest)};

		if (range->lowest > range->greatest)
			continue;
		hd_catalog_write("INSERT INTO _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log"
						 " SELECT h.id, $2, $3 FROM _hyperdist_catalog.hypertable h"
						 " WHERE h.id OPERATOR(pg_catalog.=) $1",
						 3, types, values, NULL, InvalidOid);
	}
}

void
hd_inval_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (xact_ranges != NULL)
			{
				/* no statement runs: give SPI a snapshot */
				PushActiveSnapshot(GetTransactionSnapshot());
				log_ranges();
				PopActiveSnapshot();
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* the table was in TopTransactionContext */
			xact_ranges = NULL;
			break;
		default:
			break;
	}
}

/* ---- refresh (cagg/refresh.c) ---------------------------------------------- */

/*
 * Moves the hypertable's rows (SPI connected, as the catalog's owner) to
 * the logs of its aggregates whose view exists (DROP SCHEMA ... CASCADE
 * drops a view without its catalog row); returns their writers' xids, in
 * the caller's context (the count in *n).
 */
static TransactionId *
move_rows(int32 ht_id, MemoryContext caller, uint64 *n)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ht_id)};
	TransactionId *xids;

	hd_spi_execute("WITH moved AS ("
				   "  DELETE FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log"
				   "   WHERE hypertable_id OPERATOR(pg_catalog.=) $1"
				   "  RETURNING xmin, lowest_modified_value, greatest_modified_value),"
				   " copied AS ("
				   "  INSERT INTO _hyperdist_catalog.continuous_aggs_materialization_invalidation_log"
				   "  SELECT ca.id, m.lowest_modified_value, m.greatest_modified_value"
				   "    FROM moved m, _hyperdist_catalog.continuous_agg ca"
				   "   WHERE ca.hypertable_id OPERATOR(pg_catalog.=) $1"
				   "     AND EXISTS (SELECT FROM pg_catalog.pg_class c"
				   "                  WHERE c.oid OPERATOR(pg_catalog.=) ca.view_relid))"
				   " SELECT xmin FROM moved", 1, types, values, NULL, false, 0);
	*n = SPI_processed;
	xids = MemoryContextAlloc(caller, sizeof(TransactionId) * Max(*n, 1));
	for (uint64 i = 0; i < *n; i++)
		xids[i] = DatumGetTransactionId(hd_spi_value(i, 1, XIDOID, NULL));
	return xids;
}

void
hd_inval_move(int32 ht_id)
{
	MemoryContext caller;
	HdCatalogWriter writer;
	TransactionId *xids;
	uint64		n;

	/* refreshes of one hypertable move its rows in turn */
	LockDatabaseObject(hypertable_log_relid(), (Oid) ht_id, 0, ExclusiveLock);
	caller = hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	xids = move_rows(ht_id, caller, &n);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();

	/*
	 * A row's writer committed here, but its data nodes commit after
	 * that, at XACT_EVENT_COMMIT, which ends before the writer releases
	 * its locks, the lock on its xid included: waiting for that lock
	 * waits for its data nodes.  (WaitForLockers would not do: it skips
	 * the transactions already ended in the proc array.)
	 */
	for (uint64 i = 0; i < n; i++)
	{
		if (!TransactionIdIsCurrentTransactionId(xids[i]))
			XactLockTableWait(xids[i], NULL, NULL, XLTW_None);
	}
}

static void
pending_row(uint64 row, List **ranges)
{
	HdInvalRange *range = palloc0(sizeof(HdInvalRange));

	range->lowest = DatumGetInt64(hd_spi_value(row, 1, INT8OID, NULL));
	range->greatest = DatumGetInt64(hd_spi_value(row, 2, INT8OID, NULL));
	*ranges = lappend(*ranges, range);
}

List *
hd_inval_pending(int32 cagg_id, int64 lowest, int64 greatest)
{
	Oid			types[3] = {INT4OID, INT8OID, INT8OID};
	Datum		values[3] = {Int32GetDatum(cagg_id), Int64GetDatum(lowest),
	Int64GetDatum(greatest)};
	MemoryContext caller = hd_spi_connect();
	List	   *ranges = NIL;

	hd_spi_execute("SELECT GREATEST(lowest_modified_value, $2),"
				   "       LEAST(greatest_modified_value, $3)"
				   "  FROM _hyperdist_catalog.continuous_aggs_materialization_invalidation_log"
				   " WHERE materialization_id OPERATOR(pg_catalog.=) $1"
				   "   AND lowest_modified_value OPERATOR(pg_catalog.<=) $3"
				   "   AND greatest_modified_value OPERATOR(pg_catalog.>=) $2"
				   " ORDER BY 1, 2", 3, types, values, NULL, false, 0);
	MemoryContextSwitchTo(caller);
	for (uint64 i = 0; i < SPI_processed; i++)
		pending_row(i, &ranges);
	hd_spi_finish();
	return ranges;
}

void
hd_inval_cut(int32 cagg_id, int64 lowest, int64 greatest)
{
	Oid			types[3] = {INT4OID, INT8OID, INT8OID};
	Datum		values[3] = {Int32GetDatum(cagg_id), Int64GetDatum(lowest),
	Int64GetDatum(greatest)};

	/* the parts outside [lowest, greatest] stay: [l, lowest - 1], [greatest + 1, g] */
	hd_catalog_write("WITH cut AS ("
					 "  DELETE FROM _hyperdist_catalog.continuous_aggs_materialization_invalidation_log"
					 "   WHERE materialization_id OPERATOR(pg_catalog.=) $1"
					 "     AND lowest_modified_value OPERATOR(pg_catalog.<=) $3"
					 "     AND greatest_modified_value OPERATOR(pg_catalog.>=) $2"
					 "  RETURNING lowest_modified_value, greatest_modified_value)"
					 " INSERT INTO _hyperdist_catalog.continuous_aggs_materialization_invalidation_log"
					 " SELECT $1, lowest_modified_value, $2 OPERATOR(pg_catalog.-) 1 FROM cut"
					 "  WHERE lowest_modified_value OPERATOR(pg_catalog.<) $2"
					 " UNION ALL"
					 " SELECT $1, $3 OPERATOR(pg_catalog.+) 1, greatest_modified_value FROM cut"
					 "  WHERE greatest_modified_value OPERATOR(pg_catalog.>) $3",
					 3, types, values, NULL, InvalidOid);
}

void
hd_inval_cagg_created(int32 cagg_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(cagg_id)};

	hd_catalog_write("INSERT INTO _hyperdist_catalog.continuous_aggs_materialization_invalidation_log"
					 " VALUES ($1, -9223372036854775808, 9223372036854775807)",
					 1, types, values, NULL, InvalidOid);
}
