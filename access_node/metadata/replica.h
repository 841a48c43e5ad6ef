/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/replica.h — the state of each chunk replica in the catalog
 * (_hyperdist_catalog.chunk_data_node.status): which copies of a chunk may
 * be read and must be written.
 *
 * A replica is current when it holds every committed row of its chunk.
 * Copying and retired replicas belong to chunk moves (placement/chunk_move.h).  A
 * write that cannot reach a replica's data node marks that replica stale in
 * the same transaction, so no row commits without the catalog saying which
 * replicas lack it.  A stale replica is neither read nor written; the
 * background worker copies it up to date from a current one, then marks it
 * current.  A chunk with fewer replicas than its hypertable's replication
 * factor is under-replicated, and gets new replicas the same way.
 *
 * The writes run as the catalog's owner (metadata/catalog.c's writer),
 * within the caller's transaction.
 */
#ifndef HYPERDIST_METADATA_REPLICA_H
#define HYPERDIST_METADATA_REPLICA_H

#include "postgres.h"

#include "nodes/pg_list.h"

typedef enum HdReplicaStatus
{
	HD_REPLICA_CURRENT,
	HD_REPLICA_STALE,
	HD_REPLICA_COPYING,			/* the destination of a copy or move */
	HD_REPLICA_RETIRED			/* the source of a finished move */
} HdReplicaStatus;

/* The catalog's word for status, and back (NULL/ERROR if unknown). */
extern const char *hd_replica_status_name(HdReplicaStatus status);
extern HdReplicaStatus hd_replica_status_parse(const char *name);

/* chunk_id's replica on node_name is stale (a write could not reach it). */
extern void hd_replica_mark_stale(int32 chunk_id, const char *node_name);

/* ... is current again (it was copied up to date). */
extern void hd_replica_mark_current(int32 chunk_id, const char *node_name);

/* A new replica of chunk_id on node_name, last in replica order. */
extern void hd_replica_add(int32 chunk_id, const char *node_name,
						   HdReplicaStatus status);

/* Forgets chunk_id's replica on node_name. */
extern void hd_replica_remove(int32 chunk_id, const char *node_name);

/*
 * The switch of a copy or move: chunk_id's copying replica on dest becomes
 * current; with source not NULL (a move), it takes the place of source's
 * replica in replica order, and source's is retired, last.
 */
extern void hd_replica_switch(int32 chunk_id, const char *dest, const char *source);

/*
 * A replica that needs copying: a stale one, or one missing from an
 * under-replicated chunk (node_name NULL: on a node to choose).
 */
typedef struct HdReplicaWork
{
	int32		chunk_id;
	int32		hypertable_id;
	Oid			hypertable_relid;
	char	   *chunk_schema;
	char	   *chunk_table;
	char	   *node_name;		/* the stale replica's node, or NULL */
	List	   *current_nodes;	/* names of the nodes with a current replica */
	List	   *other_nodes;	/* names of the nodes with a stale replica */
	int16		desired;		/* the hypertable's replication factor */
} HdReplicaWork;

/* Every replica that needs copying now, by chunk id, in CurrentMemoryContext. */
extern List *hd_replica_work(void);

#endif							/* HYPERDIST_METADATA_REPLICA_H */
