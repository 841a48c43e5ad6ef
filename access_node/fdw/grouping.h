/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/grouping.h — aggregating a distributed hypertable on its data nodes.
 */
#ifndef HYPERDIST_FDW_GROUPING_H
#define HYPERDIST_FDW_GROUPING_H

#include "postgres.h"

#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"

extern void hd_get_foreign_upper_paths(PlannerInfo *root,
									   UpperRelationKind stage,
									   RelOptInfo *input_rel,
									   RelOptInfo *output_rel,
									   void *extra);
extern ForeignScan *hd_get_grouping_plan(PlannerInfo *root, RelOptInfo *rel,
										 List *tlist, Plan *outer_plan);

#endif							/* HYPERDIST_FDW_GROUPING_H */
