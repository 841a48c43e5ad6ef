/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/chunk_move.h — copy_chunk, move_chunk and the procedures that clean
 * up and cancel their operations (sql/elasticity.sql).
 */
#ifndef HYPERDIST_API_CHUNK_MOVE_H
#define HYPERDIST_API_CHUNK_MOVE_H

#include "postgres.h"

#include "access/xact.h"

/*
 * The transaction callback (registered by init.c): at COMMIT the database's
 * worker is woken for an operation recorded in the transaction, and the
 * lock of an operation undone in it is let go whatever the outcome.
 */
extern void hd_chunk_op_xact_callback(XactEvent event, void *arg);

#endif							/* HYPERDIST_API_CHUNK_MOVE_H */
