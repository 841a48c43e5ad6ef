/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/storage_params.h — ALTER TABLE ... SET/RESET (storage parameters) of
 * distributed hypertables.
 */
#ifndef HYPERDIST_DDL_STORAGE_PARAMS_H
#define HYPERDIST_DDL_STORAGE_PARAMS_H

#include "nodes/parsenodes.h"

/*
 * Whether stmt, on the distributed hypertable relid, sets or resets storage
 * parameters; refuses it when it also does anything else.
 */
extern bool hd_storage_params_stmt(Oid relid, AlterTableStmt *stmt);

/*
 * Checks the parameters, records the chunks' new ones in the catalog, and
 * returns the data nodes' statement applying them to every chunk.  The
 * caller owns the hypertable and holds its lock.
 */
extern char *hd_storage_params_apply(Oid relid, AlterTableStmt *stmt);

#endif							/* HYPERDIST_DDL_STORAGE_PARAMS_H */
