/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/chunk_move.h — copying and moving a chunk replica to another
 * data node online: the operations of copy_chunk, move_chunk, rebalance and
 * drain_data_node, recorded in _hyperdist_catalog.chunk_copy_operation.
 *
 * An operation runs in three stages, each committed before the next:
 *
 *   planned -> copying   the destination's table is created, empty, and
 *                        the catalog holds it as a copying replica;
 *   copying -> switched  the rows are copied (binary COPY, forwarded from
 *                        the source's agent to the destination's), caught
 *                        up, and under the chunk's lock the destination
 *                        becomes current and, for a move, the source
 *                        retired;
 *   switched -> complete once no snapshot older than the switch is left,
 *                        the retired table is detached from its parent
 *                        concurrently, then dropped.
 *
 * A crash rolls an operation back to its last committed stage, and running
 * it again resumes from there.  Operations run in the background worker's
 * mover processes (bgw/chunk_mover.c), never in a client backend.
 */
#ifndef HYPERDIST_PLACEMENT_CHUNK_MOVE_H
#define HYPERDIST_PLACEMENT_CHUNK_MOVE_H

#include "postgres.h"

/*
 * The session advisory lock a process running operation op_id holds:
 * (MyDatabaseId, HD_CHUNK_OP_LOCK_KEY, op_id).  Whoever can take it knows
 * nobody runs the operation.
 */
#define HD_CHUNK_OP_LOCK_KEY	0x68646d76

/* Takes op_id's lock without waiting; false when another process holds it. */
extern bool hd_chunk_op_lock(int32 op_id);
extern void hd_chunk_op_unlock(int32 op_id);

/*
 * Checks and records, in the caller's transaction, a copy (delete_source
 * false) or move of chunk_id's replica on source to dest, as a planned
 * operation named operation_id (NULL: hd_copy_<id>), part of rebalance
 * rebalance_id (0: none).  Returns its id.  The caller must own the
 * chunk's hypertable; source must hold a current replica, dest be a data
 * node of the hypertable holding none, and no other operation may be under
 * way on the chunk.
 */
extern int32 hd_chunk_op_create(int32 chunk_id, const char *source,
								const char *dest, bool delete_source,
								const char *operation_id, int32 rebalance_id);

/*
 * Runs operation op_id from its recorded stage to its end, in transactions
 * of its own: the caller is outside any transaction and holds the
 * operation's lock.  Raises the error that stops it.
 */
extern void hd_chunk_op_run(int32 op_id);

/* Records, in a transaction of its own, that op_id failed with edata. */
extern void hd_chunk_op_failed(int32 op_id, ErrorData *edata);

/*
 * In the caller's transaction: undoes op_id if it has not switched (drops
 * its destination's table and replica; stage cancelled, or failed if it
 * failed), or finishes it if it has (drops the retired source once no
 * older snapshot is left; complete).  An operation already failed or
 * cancelled is undone again if anything of it is left.  The caller holds
 * the operation's lock.
 */
extern void hd_chunk_op_cleanup(int32 op_id);

#endif							/* HYPERDIST_PLACEMENT_CHUNK_MOVE_H */
