/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/direct_modify.h — UPDATE and DELETE of distributed hypertables,
 * run by the data nodes.
 */
#ifndef HYPERDIST_FDW_DIRECT_MODIFY_H
#define HYPERDIST_FDW_DIRECT_MODIFY_H

#include "postgres.h"

#include "foreign/fdwapi.h"

extern void hd_fdw_set_direct_modify_routines(FdwRoutine *routine);
extern bool hd_plan_generated_direct_modify(PlannerInfo *root, ModifyTable *plan,
											Index resultRelation, int subplan_index);
extern void hd_mark_direct_modifies(PlannedStmt *stmt);

#endif							/* HYPERDIST_FDW_DIRECT_MODIFY_H */
