/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/replica_copy.h — copying a chunk replica from one data node to
 * another, through the agents, and making it current.
 *
 * The rows travel as binary COPY tuples from the source's agent to the
 * target's, forwarded as they come: the access node never decodes them.
 * The target's rows are written outside any remote transaction: nobody
 * reads the target before the catalog says it is current.  While writers
 * go on, rounds of
 * catch-up compare the replicas by time bucket (a row count and a checksum
 * of the rows' text per bucket, both nodes at once) and, within the
 * buckets that differ, by row hash, and replace the rows written since.
 * The final switch then takes the chunk's lock in ShareLock (its writers
 * hold it in RowExclusiveLock: the switch waits for those in flight and
 * keeps new ones out; other chunks' writers never meet it), makes the last
 * catch-up, checks the buckets it repaired, and changes the catalog.  What
 * a writer of the chunk may wait for is thus one scan of the chunk on each
 * node plus the rows written since the last round.
 *
 * Copies in progress are published in shared memory, for
 * hyperdist_information.chunk_replication_status.
 */
#ifndef HYPERDIST_PLACEMENT_REPLICA_COPY_H
#define HYPERDIST_PLACEMENT_REPLICA_COPY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/*
 * Copies chunk_id's current replica on the data node source over its stale
 * one on target, and marks that current, in the current transaction; the
 * caller commits.  Raises an error, naming the chunk and both nodes, when
 * the copy fails or the replicas changed meanwhile.  (A missing replica is
 * made by a copy operation, placement/chunk_move.h.)
 */
extern void hd_replica_copy(int32 chunk_id, const char *source, const char *target);

/* What a copy sent: rows and their bytes, the catch-up's included. */
typedef struct HdCopyStats
{
	uint64		rows;
	uint64		bytes;
	TimestampTz started;
} HdCopyStats;

/*
 * The stages of a chunk copy or move (placement/chunk_move.h), each in the
 * current transaction, which the caller commits.  create_target: the
 * chunk's table on target, created (or emptied), and its copying replica.
 * to_target: the rows of source's current replica copied into target's
 * copying one, caught up, and the switch: target current and, with
 * retire_source, source's replica retired; *stats says what it sent.
 */
extern void hd_replica_copy_create_target(int32 op_id, int32 chunk_id,
										  const char *source, const char *target);
extern void hd_replica_copy_to_target(int32 op_id, int32 chunk_id,
									  const char *source, const char *target,
									  bool retire_source, HdCopyStats *stats);

/* A copy in progress in this database. */
typedef struct HdReplicaCopyProgress
{
	int32		op_id;			/* its chunk_copy_operation, 0: a heal */
	char		phase[32];		/* what it does now, in words */
	int32		chunk_id;
	char		source[NAMEDATALEN];
	char		target[NAMEDATALEN];
	uint64		bytes;			/* of rows copied so far */
	uint64		rows;
	TimestampTz started;
} HdReplicaCopyProgress;

/* The copies in progress in this database (HdReplicaCopyProgress). */
extern List *hd_replica_copies(void);

/* Shared memory: its size, and attaching to it (shmem_startup_hook). */
extern Size hd_replica_copy_shmem_size(void);
extern void hd_replica_copy_shmem_init(void);

#endif							/* HYPERDIST_PLACEMENT_REPLICA_COPY_H */
