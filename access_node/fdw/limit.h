/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/limit.h — DISTINCT ON and ORDER BY ... LIMIT shipped with a scan.
 */
#ifndef HYPERDIST_FDW_LIMIT_H
#define HYPERDIST_FDW_LIMIT_H

#include "postgres.h"

#include "nodes/pathnodes.h"

#include "fdw/fdw.h"

/* What the data nodes can apply to a scan of baserel; NULL: nothing. */
extern HdRemoteLimit *hd_remote_limit(PlannerInfo *root, RelOptInfo *baserel);

#endif							/* HYPERDIST_FDW_LIMIT_H */
