/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/join.h — a distributed hypertable's joins with reference tables, run
 * by the data nodes.
 */
#ifndef HYPERDIST_FDW_JOIN_H
#define HYPERDIST_FDW_JOIN_H

#include "postgres.h"

#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"

extern void hd_add_join_paths(PlannerInfo *root, RelOptInfo *joinrel,
							  RelOptInfo *outerrel, RelOptInfo *innerrel,
							  JoinType jointype, JoinPathExtraData *extra);
extern ForeignScan *hd_get_join_plan(PlannerInfo *root, RelOptInfo *joinrel,
									 List *tlist, Plan *outer_plan);

#endif							/* HYPERDIST_FDW_JOIN_H */
