/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/grouping.c — aggregating a distributed hypertable on its data nodes.
 *
 * A grouped query over one distributed hypertable is planned as PostgreSQL
 * plans a parallel aggregate, with the data nodes as the workers: each
 * node groups its rows and returns one row per group holding the group's
 * keys and each aggregate's transition state (agg/partial_agg.c); an Agg node
 * here (AGGSPLIT_FINAL_DESERIAL) combines the rows of all nodes per group
 * and computes the final values and HAVING.  The scan below it is a
 * foreign scan of an upper relation: "SELECT <keys>, <partial aggregates>
 * FROM <root table> WHERE <quals> GROUP BY <keys>", one query per data
 * node as for any scan (fdw/scan.c), chunks pruned alike.  The same holds
 * for the hypertable's join with reference tables that the data nodes run
 * (fdw/join.c): each node groups the joined rows of its chunks, with its
 * full copy of the reference tables, "... FROM <root table> r1 JOIN <ref>
 * r2 ON (...) ... GROUP BY ...".
 *
 * This is always correct, wherever a group's rows are, so it needs no
 * knowledge of placement; when groups cannot span nodes (grouping by the
 * space column) the combine step finds one row per group and costs little.
 *
 * With ORDER BY the grouping keys and LIMIT, each node keeps only its
 * first groups (fdw/limit.c): "... GROUP BY 1 ORDER BY 1 DESC LIMIT n", so
 * it reads only the newest chunks of "ORDER BY time_bucket(...) DESC".
 *
 * Not pushed down: grouping sets, aggregates with DISTINCT or ORDER BY or
 * without a combine function (the planner's GROUPING_CAN_PARTIAL_AGG),
 * aggregates data nodes cannot return a state for, expressions or quals a
 * data node cannot evaluate, pseudoconstant quals (their gating Result
 * belongs to the scan this path replaces), and target columns that are neither grouping
 * expressions nor computed from them and aggregates.
 */
#include "postgres.h"

#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/planner.h"
#include "optimizer/prep.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"

#include "deparse/deparse.h"
#include "fdw/fdw.h"
#include "fdw/grouping.h"
#include "fdw/limit.h"
#include "fdw/prune.h"
#include "fdw/scan.h"
#include "metadata/hypertable.h"

/* fdw_private of the upper relation of partial aggregates */
typedef struct HdGroupingInfo
{
	RelOptInfo *scanrel;		/* the distributed hypertable, or its join */
	Oid			relid;
	int64		limit;			/* groups each node keeps (fdw/limit.c), or
								 * -1: all */
	Var		   *bucket_column;	/* the column of the newest buckets each
								 * node reads, or NULL: all rows */
} HdGroupingInfo;

static bool
is_grouping_column(PlannerInfo *root, PathTarget *target, int i)
{
	Index		sgref = get_pathtarget_sortgroupref(target, i);

	return sgref != 0 &&
		get_sortgroupref_clause_noerr(sgref, root->parse->groupClause) != NULL;
}

/*
 * The target of the data nodes' queries: the grouping expressions of the
 * final target, then the aggregates the final target and HAVING use, in
 * partial form; NULL when the data nodes cannot compute it.  A column
 * read outside aggregates must itself be grouped by (any other would not
 * be grouped on the data node; "time_bucket(...) + 1" grouped by
 * time_bucket(...) is not pushed down).
 */
static PathTarget *
partial_target(PlannerInfo *root, RelOptInfo *scanrel, PathTarget *final,
			   Node *having)
{
	PathTarget *target = create_empty_pathtarget();
	List	   *others = NIL;
	ListCell   *lc;

	foreach(lc, final->exprs)
	{
		Expr	   *expr = lfirst(lc);
		int			i = foreach_current_index(lc);

		if (!is_grouping_column(root, final, i))
			others = lappend(others, expr);
		else if (hd_is_foreign_expr(scanrel, expr, false))
			add_column_to_pathtarget(target, expr,
									 get_pathtarget_sortgroupref(final, i));
		else
			return NULL;
	}
	if (having != NULL)
		others = lappend(others, having);

	foreach(lc, pull_var_clause((Node *) others, PVC_INCLUDE_AGGREGATES |
								PVC_RECURSE_WINDOWFUNCS |
								PVC_INCLUDE_PLACEHOLDERS))
	{
		Expr	   *expr = lfirst(lc);
		Aggref	   *partial;

		if (!IsA(expr, Aggref))
		{
			/* a column: only as part of a grouping expression */
			if (!list_member(target->exprs, expr))
				return NULL;
			continue;
		}
		if (!hd_is_foreign_expr(scanrel, expr, true))
			return NULL;
		partial = copyObject((Aggref *) expr);
		mark_partial_aggref(partial, AGGSPLIT_INITIAL_SERIAL);
		if (!list_member(target->exprs, partial))
			add_column_to_pathtarget(target, (Expr *) partial, 0);
	}
	return target->exprs != NIL ? set_pathtarget_cost_width(root, target) : NULL;
}

/*
 * The scan returning partial aggregates: one row per group per node at
 * most, never more than the rows themselves, each shipped.
 */
static Path *
partial_scan_path(PlannerInfo *root, RelOptInfo *scanrel, PathTarget *target,
				  double ngroups, int64 limit)
{
	HdGroupingInfo *info = palloc(sizeof(HdGroupingInfo));
	HdFdwRelInfo *scaninfo = scanrel->fdw_private;
	RelOptInfo *rel = fetch_upper_rel(root, UPPERREL_PARTIAL_GROUP_AGG,
									  scanrel->relids);
	Oid			relid = planner_rt_fetch(scaninfo->htrel->relid, root)->relid;
	HdHypertable *ht = hd_hypertable_load(relid);
	int			nnodes = Max(list_length(ht->data_nodes), 1);
	double		rows = Min(ngroups * nnodes, scanrel->rows);

	if (limit >= 0)
		rows = Min(rows, (double) limit * nnodes);
	info->scanrel = scanrel;
	info->relid = relid;
	info->limit = limit;
	info->bucket_column = limit >= 0 ?
		hd_newest_buckets_column(root, scanrel) : NULL;
	rel->fdw_private = info;
	rel->serverid = scanrel->serverid;
	rel->userid = scanrel->userid;
	rel->useridiscurrent = scanrel->useridiscurrent;
	rel->fdwroutine = scanrel->fdwroutine;
	rel->reltarget = target;
	rel->rows = rows;

	return (Path *) create_foreign_upper_path(root, rel, target, rows,
											  HD_FDW_STARTUP_COST,
											  HD_FDW_STARTUP_COST +
											  rows * (cpu_tuple_cost +
													  HD_FDW_TUPLE_COST),
											  NIL, NULL, NIL);
}

/*
 * GetForeignUpperPaths: for UPPERREL_GROUP_AGG over a distributed
 * hypertable whose quals all ship, or its join with reference tables
 * (whose fdwroutine fdw/join.c set so that PostgreSQL calls this), an Agg
 * combining the data nodes' partial aggregates.
 */
void
hd_get_foreign_upper_paths(PlannerInfo *root, UpperRelationKind stage,
						   RelOptInfo *input_rel, RelOptInfo *output_rel,
						   void *extra_arg)
{
	GroupPathExtraData *extra = extra_arg;
	Query	   *parse = root->parse;
	HdFdwRelInfo *scaninfo = input_rel->fdw_private;
	PathTarget *target;
	AggClauseCosts costs;
	Path	   *path;
	double		ngroups = 1;
	AggStrategy strategy = AGG_PLAIN;

	/*
	 * A relation proven empty was never sized: it has no fdw_private, nor
	 * has a join of tables of this wrapper that fdw/join.c did not plan.
	 */
	if (stage != UPPERREL_GROUP_AGG || scaninfo == NULL ||
		(input_rel->reloptkind != RELOPT_BASEREL && scaninfo->joins == NIL) ||
		!hd_is_dist_hypertable(planner_rt_fetch(scaninfo->htrel->relid,
												root)->relid) ||
		scaninfo->local_conds != NIL ||
		root->hasPseudoConstantQuals ||
		parse->groupingSets != NIL ||
		!(extra->flags & GROUPING_CAN_PARTIAL_AGG))
		return;

	if (parse->groupClause != NIL)
	{
		if (grouping_is_hashable(parse->groupClause))
			strategy = AGG_HASHED;
		else if (grouping_is_sortable(parse->groupClause))
			strategy = AGG_SORTED;
		else
			return;
		ngroups = estimate_num_groups(root,
									  get_sortgrouplist_exprs(parse->groupClause,
															  extra->targetList),
									  input_rel->rows, NULL, NULL);
	}

	target = partial_target(root, input_rel, output_rel->reltarget,
							extra->havingQual);
	if (target == NULL)
		return;

	/* ORDER BY ... LIMIT of groups is not shipped with a join */
	path = partial_scan_path(root, input_rel, target, ngroups,
							 scaninfo->joins != NIL ? -1 :
							 hd_remote_group_limit(root, input_rel));
	if (strategy == AGG_SORTED)
		path = (Path *) create_sort_path(root, path->parent, path,
										 root->group_pathkeys, -1.0);

	/*
	 * Aggregating on the data nodes never ships more rows than the plain
	 * scan, and combining them here is no more work than aggregating the
	 * rows would be, so the paths aggregating here are dropped rather
	 * than compared by costs that rest on guessed row counts (foreign
	 * tables have no statistics).
	 */
	output_rel->pathlist = NIL;
	MemSet(&costs, 0, sizeof(costs));
	get_agg_clause_costs(root, AGGSPLIT_FINAL_DESERIAL, &costs);
	add_path(output_rel, (Path *)
			 create_agg_path(root, output_rel, path, output_rel->reltarget,
							 strategy, AGGSPLIT_FINAL_DESERIAL,
							 parse->groupClause, (List *) extra->havingQual,
							 &costs, ngroups));
}

/*
 * GetForeignPlan for the upper relation: the data nodes' query selects
 * the partial target (tlist) and groups by its grouping columns, named by
 * position as postgres_fdw does, which also covers constant keys.
 */
ForeignScan *
hd_get_grouping_plan(PlannerInfo *root, RelOptInfo *rel, List *tlist,
					 Plan *outer_plan)
{
	HdGroupingInfo *info = rel->fdw_private;
	HdFdwRelInfo *scaninfo = info->scanrel->fdw_private;
	HdHypertable *ht = hd_hypertable_load(info->relid);
	List	   *params_list = NIL;
	List	   *prune_exprs = NIL;
	List	   *prune_codes;
	List	   *retrieved_attrs = NIL;
	List	   *group_by = NIL;
	List	   *order_by = NIL;
	List	   *sql_parts;
	char	   *suffix;
	bool		has_where;
	char	   *alias = "";
	char	   *relations = "";
	Expr	   *bucket = NULL;
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		retrieved_attrs = lappend_int(retrieved_attrs, tle->resno);
		if (tle->ressortgroupref != 0 &&
			get_sortgroupref_clause_noerr(tle->ressortgroupref,
										  root->parse->groupClause) != NULL)
			group_by = lappend_int(group_by, tle->resno);
	}
	if (info->limit >= 0)
	{
		foreach(lc, root->parse->sortClause)
		{
			SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);

			order_by = lappend_int(order_by,
								   get_sortgroupref_tle(sgc->tleSortGroupRef,
														tlist)->resno);
		}
	}
	/* the one grouping column, when each node reads its newest buckets */
	if (info->bucket_column != NULL)
		bucket = list_nth_node(TargetEntry, tlist,
							   linitial_int(group_by) - 1)->expr;

	suffix = psprintf("%s%s", hd_deparse_group_by(group_by),
					  hd_deparse_order_positions(order_by,
												 root->parse->sortClause,
												 info->limit));
	if (scaninfo->joins != NIL)
	{
		sql_parts = hd_deparse_join(scaninfo->joins, tlist,
									scaninfo->remote_conds, suffix,
									&params_list, &has_where);
		alias = hd_deparse_join_alias(scaninfo->joins);
		relations = hd_deparse_join_relations(scaninfo->joins, true);
	}
	else
	{
		sql_parts = hd_deparse_grouping(info->relid, tlist,
										scaninfo->remote_conds, bucket,
										info->bucket_column, info->limit,
										suffix, &params_list);
		has_where = scaninfo->remote_conds != NIL || bucket != NULL;
	}
	prune_codes = hd_prune_quals(root, scaninfo->htrel, ht,
								 scaninfo->htrel->baserestrictinfo,
								 &prune_exprs);

	return make_foreignscan(tlist, NIL, 0,
							list_concat(params_list, prune_exprs),
							hd_scan_private(sql_parts, retrieved_attrs,
											has_where, prune_codes,
											info->relid, alias, relations),
							tlist, NIL, outer_plan);
}
