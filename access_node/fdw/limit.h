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

/*
 * The groups (LIMIT + OFFSET) each data node may keep of its partial
 * aggregation of scanrel, ordered by the query's ORDER BY; -1: all.
 */
extern int64 hd_remote_group_limit(PlannerInfo *root, RelOptInfo *scanrel);

/*
 * For a pushed-down ordered LIMIT of groups (hd_remote_group_limit) of
 * date_bin(...) over a NOT NULL column alone, newest first: the column,
 * whose lower bound the data nodes compute; NULL otherwise.
 */
extern Var *hd_newest_buckets_column(PlannerInfo *root, RelOptInfo *scanrel);

#endif							/* HYPERDIST_FDW_LIMIT_H */
