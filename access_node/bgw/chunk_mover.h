/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/chunk_mover.h — the chunk movers: background workers that run the
 * chunk copy and move operations of _hyperdist_catalog.chunk_copy_operation
 * (placement/chunk_move.h), one process per operation.
 *
 * The database's worker (bgw/bgw.c) starts a mover for each unfinished
 * operation that nobody runs, oldest first, at most
 * hyperdist.max_concurrent_moves at once; an operation whose mover failed
 * waits 1 s, then 2 s, up to 60 s before it is tried again.  A mover that
 * fails records the error; after the third attempt, or at once for an
 * error that running again cannot cure, it undoes the operation.
 */
#ifndef HYPERDIST_BGW_CHUNK_MOVER_H
#define HYPERDIST_BGW_CHUNK_MOVER_H

#include "postgres.h"

/*
 * From the database's worker, in its pass: starts movers for the
 * operations waiting for one.  Returns how long until an operation's retry
 * delay ends (ms; -1: none waits).  Never raises; the movers are stopped
 * when the calling worker exits.
 */
extern long hd_chunk_movers_start(void);

/*
 * Interrupts the mover running op_id in this database, as a query cancel
 * would (the mover then undoes the operation); false when no mover runs it.
 */
extern bool hd_chunk_mover_cancel(int32 op_id);

/* Shared memory: its size, and attaching to it (shmem_startup_hook). */
extern Size hd_chunk_mover_shmem_size(void);
extern void hd_chunk_mover_shmem_init(void);

extern PGDLLEXPORT void hyperdist_chunk_mover_main(Datum arg);

#endif							/* HYPERDIST_BGW_CHUNK_MOVER_H */
