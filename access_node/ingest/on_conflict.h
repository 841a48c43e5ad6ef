/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/on_conflict.h — ON CONFLICT with an arbiter on distributed hypertables: the
 * clause is deparsed before planning and shipped with every batch.
 */
#ifndef HYPERDIST_INGEST_ON_CONFLICT_H
#define HYPERDIST_INGEST_ON_CONFLICT_H

#include "postgres.h"

#include "optimizer/planner.h"

/*
 * The planner hook's part (init.c): prepares the clause of an INSERT ... ON
 * CONFLICT into a distributed hypertable, then plans with next.
 */
extern PlannedStmt *hd_conflict_planner(Query *parse, const char *query_string,
										int cursorOptions,
										ParamListInfo boundParams,
										planner_hook_type next);

/*
 * The ON CONFLICT clause ("ON CONFLICT (...) DO ...") deparsed for the
 * INSERT into relid being planned, or NULL if it has no arbiter.  *alias is
 * set to the target's alias (NULL if none), which the clause may use.
 */
extern const char *hd_conflict_clause(Oid relid, const char **alias);

#endif							/* HYPERDIST_INGEST_ON_CONFLICT_H */
