/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/chunk_create.h — the chunks rows are written to: found, or
 * created on the data nodes, for the rows of one statement.
 *
 * A chunk is created on demand by the writing transaction, on the data
 * nodes that can take it (placement map, sql/catalog.sql), inside the
 * remote transactions; creation is serialized per hypertable on the access
 * node.  A row goes to each usable replica of its chunk (metadata/chunk.h);
 * the current replicas that are not usable, or whose node cannot be reached
 * when the statement first needs it, are marked stale once per chunk and
 * transaction, and left out.
 */
#ifndef HYPERDIST_PLACEMENT_CHUNK_CREATE_H
#define HYPERDIST_PLACEMENT_CHUNK_CREATE_H

#include "postgres.h"

#include "metadata/hypertable.h"

typedef struct HdChunk
{
	int32		id;
	int			nnodes;
	Oid		   *nodes;			/* the usable replicas' servers, in replica
								 * order, each with a session in the
								 * transaction; [0] is the one read */
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

/*
 * The chunk for a row's dimension values, created if missing.  An error
 * (08001) if none of its replicas is usable.
 */
extern HdChunk *hd_chunk_for_point(HdChunkCache *cache, int64 time,
								   Datum space_value, bool space_isnull);

#endif							/* HYPERDIST_PLACEMENT_CHUNK_CREATE_H */
