/*
 * ingest/on_conflict.h — ON CONFLICT with an arbiter on distributed hypertables: the
 * clause is deparsed before planning and shipped with every batch.
 */
#ifndef HYPERDIST_INGEST_ON_CONFLICT_H
#define HYPERDIST_INGEST_ON_CONFLICT_H

#include "postgres.h"

/* Installs the planner hook (from _PG_init). */
extern void hd_conflict_init(void);

/*
 * The ON CONFLICT clause ("ON CONFLICT (...) DO ...") deparsed for the
 * INSERT into relid being planned, or NULL if it has no arbiter.  *alias is
 * set to the target's alias (NULL if none), which the clause may use.
 */
extern const char *hd_conflict_clause(Oid relid, const char **alias);

#endif							/* HYPERDIST_INGEST_ON_CONFLICT_H */
