/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/utility.h — DDL on distributed hypertables (ProcessUtility hook).
 */
#ifndef HYPERDIST_DDL_UTILITY_H
#define HYPERDIST_DDL_UTILITY_H

#include "tcop/utility.h"

/*
 * The ProcessUtility hook's part (init.c): distributes the statement, or
 * refuses it, or runs it through next (the hook before ours, or
 * standard_ProcessUtility).
 */
extern void hd_utility_process(PlannedStmt *pstmt, const char *query_string,
							   bool read_only_tree,
							   ProcessUtilityContext context,
							   ParamListInfo params,
							   QueryEnvironment *query_env,
							   DestReceiver *dest, QueryCompletion *qc,
							   ProcessUtility_hook_type next);

#endif							/* HYPERDIST_DDL_UTILITY_H */
