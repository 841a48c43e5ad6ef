/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/cache.h — the backend's copy of the catalog every statement on a
 * distributed hypertable reads: the hypertable and its chunks' placement.
 */
#ifndef HYPERDIST_METADATA_CACHE_H
#define HYPERDIST_METADATA_CACHE_H

#include "postgres.h"

#include "metadata/hypertable.h"

/* A chunk, with its replicas in replica order. */
typedef struct HdCachedChunk
{
	int32		id;
	int64		range_start;	/* its time slice, in internal time */
	int64		range_end;
	int16		num_partitions; /* the slice's space partitions */
	int16		space_partition;
	char	   *name;			/* quoted "schema"."table" */
	int			nreplicas;
	Oid		   *servers;		/* the data nodes holding them */
	char	  **nodes;			/* and their names when the chunks were
								 * read: a plan names nodes without looking
								 * up servers that a concurrent
								 * delete_data_node may have dropped */
	bool	   *current;		/* each replica's status: current, else stale */
	bool	   *available;		/* each node's "available" option */
} HdCachedChunk;

/* A hypertable's chunks, by id. */
typedef struct HdChunkSet
{
	int			nchunks;
	HdCachedChunk *chunks;
	int			nmoduli;		/* the slices' distinct num_partitions */
	int16	   *moduli;
} HdChunkSet;

/*
 * The distributed hypertable relid (known to be one), from the cache or
 * loaded into it.  Valid until the end of the transaction at least.
 */
extern HdHypertable *hd_catalog_cache_hypertable(Oid relid);

/* The chunks of ht (from hd_catalog_cache_hypertable), the same way. */
extern const HdChunkSet *hd_catalog_cache_chunks(HdHypertable *ht);

/*
 * The invalidation callbacks (registered by init.c): a changed relation
 * forgets its entry, the catalog or any foreign server everything.
 */
extern void hd_catalog_cache_relcache_callback(Datum arg, Oid relid);
extern void hd_catalog_cache_server_callback(Datum arg, int cacheid,
											 uint32 hashvalue);

#endif							/* HYPERDIST_METADATA_CACHE_H */
