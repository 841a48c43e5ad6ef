/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/fdw.c — the hyperdist foreign data wrapper: handler and planning.
 *
 * A foreign table of this wrapper is a table on one data node, or a
 * distributed hypertable (server hyperdist_hypertables), whose scan reads
 * every data node holding chunks.  The scan ships "SELECT <needed columns>
 * FROM schema.table WHERE <quals the data node can evaluate>" (deparse/)
 * and applies the other quals locally; a distributed hypertable's quals on
 * its dimension columns also choose the chunks read (fdw/prune.c).  Its
 * joins with reference tables (fdw/join.c) and its aggregates
 * (fdw/grouping.c) are planned as scans of a join or upper relation.  Only
 * distributed hypertables take INSERT and COPY (fdw/modify.c).
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/rel.h"

#include "fdw/analyze.h"
#include "deparse/deparse.h"
#include "fdw/direct_modify.h"
#include "fdw/fdw.h"
#include "fdw/grouping.h"
#include "fdw/join.h"
#include "fdw/limit.h"
#include "fdw/modify.h"
#include "fdw/prune.h"
#include "fdw/scan.h"
#include "metadata/hypertable.h"

PG_FUNCTION_INFO_V1(hyperdist_fdw_handler);

static void
hd_get_foreign_rel_size(PlannerInfo *root, RelOptInfo *baserel,
						Oid foreigntableid)
{
	HdFdwRelInfo *info = palloc0(sizeof(HdFdwRelInfo));

	hd_classify_conditions(baserel, baserel->baserestrictinfo,
						   &info->remote_conds, &info->local_conds);
	info->htrel = baserel;
	baserel->fdw_private = info;
	if (hd_is_dist_hypertable(foreigntableid))
		info->remote_limit = hd_remote_limit(root, baserel);

	/*
	 * Until ANALYZE samples the data nodes (fdw/analyze.c), the size is
	 * unknown (reltuples < 0): assume 10 pages, as plancat.c does for
	 * never-vacuumed tables.
	 */
	if (baserel->tuples < 0)
	{
		baserel->pages = 10;
		baserel->tuples = (10 * BLCKSZ) /
			(baserel->reltarget->width + MAXALIGN(SizeofHeapTupleHeader));
	}

	set_baserel_size_estimates(root, baserel);
}

static void
hd_get_foreign_paths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	HdFdwRelInfo *info = baserel->fdw_private;
	QualCost	local_quals;
	Cost		startup_cost;
	Cost		total_cost;
	double		fetched;

	/* the rows passing the remote quals are fetched, then filtered here */
	fetched = clamp_row_est(baserel->tuples *
							clauselist_selectivity(root, info->remote_conds,
												   baserel->relid,
												   JOIN_INNER, NULL));
	cost_qual_eval(&local_quals, info->local_conds, root);
	startup_cost = HD_FDW_STARTUP_COST + local_quals.startup +
		baserel->reltarget->cost.startup;
	total_cost = startup_cost +
		fetched * (cpu_tuple_cost + HD_FDW_TUPLE_COST +
				   local_quals.per_tuple) +
		baserel->rows * baserel->reltarget->cost.per_tuple;

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost,
									 NIL, NULL, NULL, NIL));
}

static ForeignScan *
hd_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	HdFdwRelInfo *info = baserel->fdw_private;
	List	   *local_quals = NIL;
	List	   *remote_conds = NIL;
	List	   *params_list = NIL;
	List	   *prune_codes = NIL;
	List	   *prune_exprs = NIL;
	HdHypertable *ht;
	Bitmapset  *attrs_used = NULL;
	List	   *retrieved_attrs;
	List	   *sql_parts;
	bool		skip_scan;
	ListCell   *lc;

	if (IS_UPPER_REL(baserel))
		return hd_get_grouping_plan(root, baserel, tlist, outer_plan);
	if (IS_JOIN_REL(baserel))
		return hd_get_join_plan(root, baserel, tlist, outer_plan);
	ht = hd_hypertable_load(foreigntableid);

	/*
	 * scan_clauses are baserestrictinfo, classified when sizing the rel;
	 * pseudoconstant quals went to a gating Result node instead.
	 */
	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (ri->pseudoconstant)
			continue;
		if (list_member_ptr(info->remote_conds, ri))
			remote_conds = lappend(remote_conds, ri);
		else
			local_quals = lappend(local_quals, ri->clause);
	}

	/* the columns the plan above needs, and those the local quals read */
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &attrs_used);
	pull_varattnos((Node *) local_quals, baserel->relid, &attrs_used);

	/* every part of a skip scan has a WHERE clause */
	skip_scan = info->remote_limit != NULL && info->remote_limit->skip_scan;
	if (skip_scan)
		sql_parts = hd_deparse_skip_scan(foreigntableid, attrs_used,
										 remote_conds, info->remote_limit,
										 &retrieved_attrs, &params_list);
	else
	{
		char	   *sql = hd_deparse_scan(foreigntableid, attrs_used,
										  remote_conds, info->remote_limit,
										  &retrieved_attrs, &params_list);

		sql_parts = list_make2(makeString(sql),
							   makeString(hd_deparse_order_limit(foreigntableid,
																 info->remote_limit,
																 &params_list)));
	}

	/* local quals prune chunks as well as those shipped */
	if (ht != NULL)
		prune_codes = hd_prune_quals(root, baserel, ht, scan_clauses, &prune_exprs);

	/* the Params' and pruning expressions' values are computed at execution */
	return make_foreignscan(tlist, local_quals, baserel->relid,
							list_concat(params_list, prune_exprs),
							hd_scan_private(sql_parts, retrieved_attrs,
											remote_conds != NIL || skip_scan,
											prune_codes, foreigntableid, "", ""),
							NIL, NIL, outer_plan);
}


/*
 * Rows of one data node arrive on one agent session, in order; parallel
 * workers would each need their own session and a way to split the rows.
 */
static bool
hd_is_foreign_scan_parallel_safe(PlannerInfo *root, RelOptInfo *rel,
								 RangeTblEntry *rte)
{
	return false;
}

Datum
hyperdist_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = hd_get_foreign_rel_size;
	routine->GetForeignPaths = hd_get_foreign_paths;
	routine->GetForeignPlan = hd_get_foreign_plan;
	routine->BeginForeignScan = hd_begin_foreign_scan;
	routine->IterateForeignScan = hd_iterate_foreign_scan;
	routine->ReScanForeignScan = hd_rescan_foreign_scan;
	routine->EndForeignScan = hd_end_foreign_scan;
	routine->ExplainForeignScan = hd_explain_scan_queries;
	routine->GetForeignUpperPaths = hd_get_foreign_upper_paths;
	routine->IsForeignScanParallelSafe = hd_is_foreign_scan_parallel_safe;
	routine->AnalyzeForeignTable = hd_analyze_foreign_table;
	hd_fdw_set_modify_routines(routine);
	hd_fdw_set_direct_modify_routines(routine);

	PG_RETURN_POINTER(routine);
}
