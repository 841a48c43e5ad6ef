/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/catalog_read.h — reading _hyperdist_catalog: typed rows for C.
 *
 * Every query of the catalog the C code runs is here (the writes are in
 * metadata/catalog.c): each returns what it read copied into the caller's
 * memory context.  Most callers go through the catalog cache
 * (metadata/cache.c) instead; these read the rows it is made of, and
 * what chunk creation and DDL must see as committed now.
 */
#ifndef HYPERDIST_METADATA_CATALOG_READ_H
#define HYPERDIST_METADATA_CATALOG_READ_H

#include "postgres.h"

#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "utils/array.h"

/* A row of _hyperdist_catalog.hypertable. */
typedef struct HdCatalogHypertable
{
	int32		id;
	char	   *assoc_schema;
	char	   *assoc_prefix;
	int16		replication_factor;
	List	   *chunk_options;	/* "name=value" strings */
	bool		has_caggs;		/* continuous aggregates read it */
} HdCatalogHypertable;

/* A row of _hyperdist_catalog.dimension. */
typedef struct HdCatalogDimension
{
	int32		id;
	AttrNumber	attnum;
	Oid			type;
	bool		is_time;		/* else the space dimension */
	int64		interval_length;	/* time */
	int16		num_partitions; /* space */
} HdCatalogDimension;

/* A row of _hyperdist_catalog.time_slice. */
typedef struct HdCatalogSlice
{
	int32		id;
	int64		start;
	int64		end;
	int16		num_partitions;
} HdCatalogSlice;

/* A row of _hyperdist_catalog.chunk_data_node: a chunk's replica. */
typedef struct HdCatalogReplica
{
	char	   *node_name;
	bool		current;		/* else stale */
} HdCatalogReplica;

/* A chunk with its time slice and its replicas. */
typedef struct HdCatalogChunk
{
	int32		id;
	int64		range_start;
	int64		range_end;
	int16		num_partitions;
	int16		space_partition;
	char	   *name;			/* quoted "schema"."table" */
	List	   *replicas;		/* HdCatalogReplica, in replica order */
} HdCatalogChunk;

/* A row of _hyperdist_catalog.continuous_agg. */
typedef struct HdCatalogCagg
{
	int32		id;
	Oid			view_relid;
	Oid			mat_relid;
	int32		hypertable_id;
	char	   *bucket_column;
	char	   *bucket_sql;
	char	   *bucket_width_sql;
	char	   *refresh_sql;
	char	   *realtime_sql;
	char	   *definition;
	bool		materialized_only;
} HdCatalogCagg;

/*
 * Hypertables.  The row of the distributed hypertable relid into *row
 * (unless NULL); false when it has none.
 */
extern bool hd_catalog_hypertable(Oid relid, HdCatalogHypertable *row);
extern List *hd_catalog_dimensions(int32 ht_id);	/* of HdCatalogDimension */
extern List *hd_catalog_hypertable_data_nodes(int32 ht_id); /* names, by name */
extern bool hd_catalog_has_integer_now_func(int32 ht_id);
extern bool hd_catalog_node_attached(int32 ht_id, const char *node);
extern bool hd_catalog_is_reference_table(Oid relid);

/*
 * relids of the reference tables, hypertables and continuous aggregates'
 * views in schema nspid and owned by role owner (InvalidOid: any schema,
 * any owner), by id.
 */
extern List *hd_catalog_reference_tables_in(Oid nspid, Oid owner);
extern List *hd_catalog_hypertables_in(Oid nspid, Oid owner);
extern List *hd_catalog_caggs_in(Oid nspid, Oid owner);

/*
 * Of relids (an oid[]), those the catalog holds: distributed hypertables,
 * reference tables and continuous aggregates' views.
 */
typedef struct HdCatalogKnown
{
	List	   *hypertables;
	List	   *reference_tables;
	List	   *caggs;
} HdCatalogKnown;

extern void hd_catalog_known_among(ArrayType *relids, HdCatalogKnown *known);

/* The hypertable with a data node index index_name in nspid, or InvalidOid. */
extern Oid	hd_catalog_hypertable_of_index(Oid nspid, const char *index_name);

/*
 * Chunks.  Those of hypertable relid: their relations here (RangeVars, by
 * chunk id), their ids (int4[]); or, for the catalog cache, ht_id's with
 * their slices and replicas (HdCatalogChunks, by id).
 */
extern List *hd_catalog_chunk_relations(Oid relid);
extern ArrayType *hd_catalog_chunk_ids(Oid relid);
extern List *hd_catalog_chunks(int32 ht_id);

/*
 * For chunk creation, each with a snapshot of its own (so that a writer
 * that waited for another's chunk creation sees it): the time slice holding
 * time; the chunk of (slice, partition), its id, name and replicas (the
 * slice's fields left 0); the nodes a new chunk of the placement map's
 * partition key goes to, none of them in down (node names): at most the
 * replication factor, fewer when fewer nodes can take it (NIL: none).
 */
extern bool hd_catalog_time_slice_at(int32 ht_id, int64 time, HdCatalogSlice *slice);
extern bool hd_catalog_chunk_at(int32 slice_id, int16 partition, HdCatalogChunk *chunk);

/*
 * Whether chunk_id's current and stale replicas, as the latest snapshot
 * sees them, differ from what the transaction's snapshot sees (a writer
 * under REPEATABLE READ that locked the chunk after a copy of it switched).
 */
extern bool hd_catalog_replicas_changed(int32 chunk_id);
extern List *hd_catalog_new_chunk_nodes(int32 ht_id, int64 key, List *down);

/*
 * For replica copies (placement/replica_copy.c), each with a new snapshot.
 * A chunk's table and where it lies: false when the chunk is gone.
 */
typedef struct HdCatalogChunkPlace
{
	Oid			hypertable_relid;
	char	   *schema_name;
	char	   *table_name;
	int32		slice_id;
	int64		range_start;
	int64		range_end;
	int16		num_partitions;
	int16		space_partition;
} HdCatalogChunkPlace;

extern bool hd_catalog_chunk_place(int32 chunk_id, HdCatalogChunkPlace *place);

/* The status of chunk_id's replica on node (replica.h's names), or NULL. */
extern char *hd_catalog_replica_status(int32 chunk_id, const char *node);

/*
 * The data nodes that could take a new replica of chunk_id: attached to its
 * hypertable, not blocked for new chunks, holding no replica of it; those
 * with the fewest replicas of any chunk first, then by name.
 */
extern List *hd_catalog_replica_candidates(int32 chunk_id);

/*
 * The chunks whose only current replicas are on node (for
 * delete_data_node): each with its other nodes' stale replicas, by id.
 */
typedef struct HdCatalogOrphan
{
	int32		chunk_id;
	char	   *name;			/* quoted "schema"."table" */
	List	   *stale_nodes;	/* names; NIL: no replica elsewhere */
} HdCatalogOrphan;

extern List *hd_catalog_chunks_current_only_on(const char *node);

/* The chunk whose relation here is relid (copy_chunk's argument), or 0. */
extern int32 hd_catalog_chunk_of_relation(Oid relid);

/*
 * Continuous aggregates.  The row of the one whose view is view_relid into
 * *row; false when it is none.
 */
extern bool hd_catalog_cagg(Oid view_relid, HdCatalogCagg *row);

#endif							/* HYPERDIST_METADATA_CATALOG_READ_H */
