/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/invalidation.h — the invalidation logs of continuous aggregates.
 *
 * A statement changing rows of a distributed hypertable that has continuous
 * aggregates widens its transaction's range of changed time values (in
 * internal time); the transaction logs one row per such hypertable when it
 * commits.  A refresh moves those rows to its aggregates' logs and reads
 * and cuts its aggregate's.  docs/ARCHITECTURE.md, "Continuous aggregates".
 */
#ifndef HYPERDIST_METADATA_INVALIDATION_H
#define HYPERDIST_METADATA_INVALIDATION_H

#include "postgres.h"

#include "access/xact.h"
#include "nodes/pg_list.h"

#include "metadata/chunk.h"
#include "metadata/hypertable.h"

/* Changed internal times of one hypertable, lowest and greatest included. */
typedef struct HdInvalRange
{
	int32		hypertable_id;
	int64		lowest;
	int64		greatest;
} HdInvalRange;

/*
 * The transaction's range of ht, which the caller widens with
 * hd_inval_add; NULL when ht has no continuous aggregate.
 */
extern HdInvalRange *hd_inval_range(const HdHypertable *ht);

static inline void
hd_inval_add(HdInvalRange *range, int64 lowest, int64 greatest)
{
	if (lowest < range->lowest)
		range->lowest = lowest;
	if (greatest > range->greatest)
		range->greatest = greatest;
}

/* [lowest, greatest] of ht changed (nothing if it has no aggregate). */
extern void hd_inval_record(const HdHypertable *ht, int64 lowest, int64 greatest);

/*
 * An UPDATE or DELETE the data nodes run: what the pruning quals keep of
 * the chunks that exist now.
 */
extern void hd_inval_record_pruned(HdHypertable *ht, const HdChunkPrune *prune);

/* drop_chunks: the time slices of the chunks (int4[]) go. */
extern void hd_inval_record_chunks(const HdHypertable *ht, Datum chunk_ids);

/* Logs the transaction's ranges (registered by init.c). */
extern void hd_inval_xact_callback(XactEvent event, void *arg);

/*
 * Refresh: moves the hypertable's log to the logs of its continuous
 * aggregates, then waits until every writer whose row was moved has
 * ended, its data nodes' commit included.
 */
extern void hd_inval_move(int32 ht_id);

/*
 * The entries of cagg's log meeting [lowest, greatest], clipped to it, in
 * order of lowest (HdInvalRange, hypertable_id unset).
 */
extern List *hd_inval_pending(int32 cagg_id, int64 lowest, int64 greatest);

/* Takes [lowest, greatest] out of cagg's log. */
extern void hd_inval_cut(int32 cagg_id, int64 lowest, int64 greatest);

/* Sets a new aggregate's log to everything: nothing is materialized. */
extern void hd_inval_cagg_created(int32 cagg_id);

#endif							/* HYPERDIST_METADATA_INVALIDATION_H */
