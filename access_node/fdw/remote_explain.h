/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/remote_explain.h — a data node's own plan of a remote query.
 */
#ifndef HYPERDIST_FDW_REMOTE_EXPLAIN_H
#define HYPERDIST_FDW_REMOTE_EXPLAIN_H

#include "postgres.h"

#include "commands/explain.h"

#include "remote/connection.h"

extern void hd_explain_remote_plan(HdConn *conn, const char *sql, int nparams,
								   const Oid *types, const char *const *values,
								   ExplainState *es);

#endif							/* HYPERDIST_FDW_REMOTE_EXPLAIN_H */
