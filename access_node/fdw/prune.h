/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/prune.h — excluding chunks a distributed hypertable scan cannot need.
 */
#ifndef HYPERDIST_FDW_PRUNE_H
#define HYPERDIST_FDW_PRUNE_H

#include "postgres.h"

#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"

#include "metadata/chunk.h"
#include "metadata/hypertable.h"

/*
 * Plan time: the quals comparing a dimension column with an expression
 * computable at executor start.  Returns one code per expression appended
 * to *exprs (the expressions' values bound the dimension at execution).
 */
extern List *hd_prune_quals(PlannerInfo *root, RelOptInfo *baserel,
							const HdHypertable *ht, List *quals, List **exprs);

/* Execution: the bounds those expressions set now (expr_states: ExprStates). */
extern void hd_prune_compute(HdChunkPrune *prune, HdHypertable *ht,
							 List *codes, List *expr_states,
							 ExprContext *econtext);

#endif							/* HYPERDIST_FDW_PRUNE_H */
