/*
 * fdw/fdw.h — what the planning files of the wrapper share.
 */
#ifndef HYPERDIST_FDW_FDW_H
#define HYPERDIST_FDW_FDW_H

#include "postgres.h"

#include "nodes/pg_list.h"

/*
 * Costs as postgres_fdw's defaults: a remote query costs a round trip
 * before the first row, and each row crosses the network.
 */
#define HD_FDW_STARTUP_COST 100.0
#define HD_FDW_TUPLE_COST 0.01

/*
 * DISTINCT [ON] and ORDER BY ... LIMIT the data nodes apply to a scan's rows
 * (fdw/limit.c).
 */
typedef struct HdRemoteLimit
{
	bool		distinct;		/* plain DISTINCT */
	List	   *distinct_on;	/* DISTINCT ON expressions, or NIL */
	List	   *sort_clauses;	/* the query's ORDER BY (SortGroupClauses) */
	List	   *sort_exprs;		/* and their expressions */
	int64		limit;			/* LIMIT + OFFSET, or -1 for none */
} HdRemoteLimit;

/* RelOptInfo.fdw_private of a hyperdist scan */
typedef struct HdFdwRelInfo
{
	List	   *remote_conds;	/* RestrictInfos the data nodes evaluate */
	List	   *local_conds;	/* RestrictInfos evaluated here */
	HdRemoteLimit *remote_limit;	/* NULL: none shipped */
} HdFdwRelInfo;

#endif							/* HYPERDIST_FDW_FDW_H */
