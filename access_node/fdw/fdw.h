/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/fdw.h — what the planning files of the wrapper share.
 */
#ifndef HYPERDIST_FDW_FDW_H
#define HYPERDIST_FDW_FDW_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "deparse/deparse.h"

/*
 * Costs as postgres_fdw's defaults: a remote query costs a round trip
 * before the first row, and each row crosses the network.
 */
#define HD_FDW_STARTUP_COST 100.0
#define HD_FDW_TUPLE_COST 0.01

/*
 * RelOptInfo.fdw_private of a hyperdist scan, or of a distributed
 * hypertable's join with reference tables that the data nodes run
 * (fdw/join.c): then remote_conds are its WHERE clause.
 */
typedef struct HdFdwRelInfo
{
	List	   *remote_conds;	/* RestrictInfos the data nodes evaluate */
	List	   *local_conds;	/* RestrictInfos evaluated here */
	HdRemoteLimit *remote_limit;	/* NULL: none shipped */
	List	   *joins;			/* a join's HdJoinRels; NIL for a scan */
	RelOptInfo *htrel;			/* the table scanned, or the join's
								 * hypertable: its quals prune chunks */
} HdFdwRelInfo;

#endif							/* HYPERDIST_FDW_FDW_H */
