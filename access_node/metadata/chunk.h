/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/chunk.h — chunks of distributed hypertables: finding and creating them,
 * and choosing which replicas a scan reads.
 *
 * On a data node the hypertable's root table is partitioned by range on
 * the time column; a chunk is a partition holding one time slice (and,
 * with a space dimension, one hash partition of a per-slice table
 * partitioned by hash on the space column).  Chunks are created on demand
 * by the writing transaction, on every replica node, inside the remote
 * transactions; creation is serialized per hypertable on the access node.
 */
#ifndef HYPERDIST_METADATA_CHUNK_H
#define HYPERDIST_METADATA_CHUNK_H

#include "postgres.h"

#include "metadata/hypertable.h"

typedef struct HdChunk
{
	int32		id;
	int			nnodes;
	Oid		   *nodes;			/* replica servers; [0] is read by scans */
} HdChunk;

/* Chunks a statement has met, by time slice and space partition. */
typedef struct HdChunkCache HdChunkCache;

/*
 * before_create runs before a chunk is created, so that the caller can
 * finish requests it has pending on data node sessions.
 */
extern HdChunkCache *hd_chunk_cache_create(HdHypertable *ht, MemoryContext cxt,
										   void (*before_create) (void *arg),
										   void *arg);

/* The chunk for a row's dimension values, created if missing. */
extern HdChunk *hd_chunk_for_point(HdChunkCache *cache, int64 time,
								   Datum space_value, bool space_isnull);

/* What a statement reads (or writes) on one data node. */
typedef struct HdNodeRead
{
	Oid			serverid;
	char	   *chunk_filter;	/* NULL: all of the node's chunks; else a
								 * "tableoid IN (...)" condition */
	int			nchunks;		/* chunks read from the node */
	char	   *primary_filter; /* "tableoid IN (...)" of those chunks whose
								 * replica here is the one read; NULL if
								 * none */
	int			nprimary;		/* how many */
} HdNodeRead;

/*
 * Which chunks a scan needs: those overlapping [time_lo, time_hi] in
 * internal time, and, if space_nvalues >= 0, in the space partition of
 * one of space_values (not NULL: an equality with NULL matches no row).
 */
typedef struct HdChunkPrune
{
	bool		none;			/* no row can match */
	int64		time_lo;
	int64		time_hi;
	int			space_nvalues;	/* -1: any space partition */
	Datum	   *space_values;
} HdChunkPrune;

/* Reads the hypertable's chunks from the catalog into cxt (for the cache). */
struct HdChunkSet;
extern struct HdChunkSet *hd_chunk_set_read(HdHypertable *ht, MemoryContext cxt);

/* One HdNodeRead per data node that has chunks prune keeps, by node name. */
extern List *hd_chunk_read_plan(HdHypertable *ht, const HdChunkPrune *prune);

/*
 * The same for a statement that changes rows, which must reach every
 * replica: each node's entry covers all of its replicas of those chunks.
 */
extern List *hd_chunk_write_plan(HdHypertable *ht, const HdChunkPrune *prune);

#endif							/* HYPERDIST_METADATA_CHUNK_H */
