/* SPDX-License-Identifier: PostgreSQL */
/*
 * agg/partial_agg.h — aggregates a data node can compute partially.
 */
#ifndef HYPERDIST_AGG_PARTIAL_AGG_H
#define HYPERDIST_AGG_PARTIAL_AGG_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* The schema of the helper aggregates on every data node. */
#define HD_PARTIAL_SCHEMA "_hyperdist_partial"

typedef enum HdPartialAggKind
{
	HD_PARTIAL_NONE,			/* only computed on the access node */
	HD_PARTIAL_BUILTIN,			/* the aggregate's result is its state */
	HD_PARTIAL_HELPER,			/* _hyperdist_partial.<name> returns the state */
	HD_PARTIAL_FIRST,			/* this extension's first(): its serialized */
	HD_PARTIAL_LAST				/* or last()'s state, built in SQL */
} HdPartialAggKind;

extern HdPartialAggKind hd_partial_agg_kind(Oid aggfnoid);
extern List *hd_partial_agg_helpers(void);

#endif							/* HYPERDIST_AGG_PARTIAL_AGG_H */
