/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/chunk.h — chunks of distributed hypertables: which replicas a
 * statement reads and writes, and show/drop_chunks.
 *
 * On a data node the hypertable's root table is partitioned by range on
 * the time column; a chunk is a partition holding one time slice (and,
 * with a space dimension, one hash partition of a per-slice table
 * partitioned by hash on the space column).  Each chunk has replicas on
 * one or more data nodes (metadata/replica.h); chunks are created on the
 * data nodes by placement/chunk_create.c.
 *
 * A replica is usable when it is current, its node's option "available"
 * is true and the node is not down (remote/node_health.h).  Reads take
 * each chunk from its first usable replica; writes go to every usable
 * replica and mark the current ones that are not usable stale.
 */
#ifndef HYPERDIST_METADATA_CHUNK_H
#define HYPERDIST_METADATA_CHUNK_H

#include "postgres.h"

#include "metadata/hypertable.h"

/*
 * The data nodes a statement treats as down: those the health table says
 * are down, each asked once per statement, and those the statement failed
 * to reach itself.  Zeroed, it knows nothing yet.
 */
typedef struct HdDownNodes
{
	List	   *checked;		/* servers looked up */
	List	   *down;			/* of those, the ones down */
} HdDownNodes;

extern bool hd_node_down(HdDownNodes *down, Oid serverid);

/* The statement could not reach serverid (already reported down). */
extern void hd_node_set_down(HdDownNodes *down, Oid serverid);

/*
 * Marks chunk_id's replica on node_name stale: a write of the chunk left
 * it out.  Marks of one hypertable are serialized with its chunk creation
 * (hd_catalog_lock_chunks), so that writers marking the same replicas in
 * different orders never deadlock.
 */
extern void hd_chunk_mark_stale(int32 ht_id, int32 chunk_id, const char *node_name);

/*
 * The error for chunk name (quoted "schema"."table") when none of its
 * replicas is usable: 08001, naming current_nodes, the nodes holding its
 * current replicas.
 */
extern void hd_chunk_unavailable_error(const char *name, List *current_nodes)
			pg_attribute_noreturn();

/*
 * The error (40001) for a write to chunk name by a transaction whose
 * snapshot predates a change of the chunk's replicas.
 */
extern void hd_chunk_moved_error(const char *name) pg_attribute_noreturn();

/*
 * What a statement reads (or writes) on one data node: chunks, the
 * quoted names of the chunks read there (deparse/ turns them into a
 * condition on tableoid), and chunk_ids their ids; restricted, whether
 * the node holds replicas of other chunks the statement's quals keep, so
 * that it must name its chunks; primaries, those of chunks whose replica
 * here is the one read.
 */
typedef struct HdNodeRead
{
	Oid			serverid;
	List	   *chunks;
	List	   *chunk_ids;
	bool		restricted;
	List	   *primaries;
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

/*
 * One HdNodeRead per data node that has chunks prune keeps, by node name:
 * each chunk from its first usable replica.  A chunk without one is an
 * error (hd_chunk_unavailable_error).  unreached: the servers the statement
 * already failed to reach, never read, whatever the health table says by
 * now (the monitor may have seen them answer since).
 */
extern List *hd_chunk_read_plan(HdHypertable *ht, const HdChunkPrune *prune,
								const List *unreached);

/*
 * The same for a statement that changes rows, which must reach every
 * usable replica: each node's entry covers all of its usable replicas of
 * those chunks (primaries as for a read).  down: the nodes the statement
 * knows to be down.  With mark_stale, the current replicas of those chunks
 * that are not usable are marked stale in the transaction.
 */
extern List *hd_chunk_write_plan(HdHypertable *ht, const HdChunkPrune *prune,
								 HdDownNodes *down, bool mark_stale);

#endif							/* HYPERDIST_METADATA_CHUNK_H */
