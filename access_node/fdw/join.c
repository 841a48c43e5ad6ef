/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/join.c — a distributed hypertable's joins with reference tables, run
 * by the data nodes.
 *
 * Every data node has a full copy of each reference table, consistent with
 * the access node's table (ingest/reference.c), so a node can join the
 * rows of the chunks it reads with it: "SELECT ... FROM <root table> r1
 * JOIN <reference table> r2 ON (...) WHERE ..." returns the joined rows of
 * those chunks, and as each chunk is read from one replica, the union over
 * the nodes is the join.  This is offered as a foreign scan of the join
 * relation (set_join_pathlist_hook, init.c) for an inner join, or a LEFT
 * JOIN with the hypertable on the preserved side, of the hypertable's scan
 * (or of such a join) with one reference table; a join of several is built
 * one reference table at a time, so the remote FROM clause is a chain in
 * the planner's join order, each reference table with its own quals in its
 * ON clause (they filter its rows before a LEFT JOIN) and the quals that
 * apply after an outer join in WHERE, with the hypertable's (filtering
 * rows of the preserved side before or after the join is the same).
 *
 * A semi- or anti-join of the hypertable's side with a reference table
 * (EXISTS, NOT EXISTS, LEFT JOIN ... WHERE ref.k IS NULL) is decided by
 * each node for each row it reads, having the whole reference table:
 * "... WHERE [NOT] EXISTS (SELECT NULL FROM <ref> r3 WHERE <join clauses>
 * AND <ref's quals>)", returning the hypertable side's columns only.
 *
 * The join relation gets this wrapper's FdwRoutine and server, as
 * PostgreSQL gives a join of two foreign tables of one server: it plans a
 * foreign path of a relation with the relation's GetForeignPlan, and a
 * grouping over it then calls its GetForeignUpperPaths, so fdw/grouping.c
 * aggregates the joined rows on the data nodes as a scan's, from what this
 * file left in fdw_private.  A create_upper_paths_hook would have had to
 * recognize the join and redo grouping.c's checks outside the wrapper.
 *
 * Not pushed down, the join then running here: FULL and RIGHT joins, and
 * a LEFT JOIN, semi- or anti-join with the reference table on the left,
 * whose rows every node would return; an anti-join returning the reference
 * table's columns or with quals on its result; a reference table with row
 * level security (even for a role that bypasses it) or security quals
 * (views with security_barrier), inheritance children or TABLESAMPLE, or
 * read as another user than the hypertable (a view's owner); any qual or
 * join clause a data node cannot evaluate (the rules of deparse/expr.c);
 * system and whole-row columns, and expressions computed below the join
 * (PlaceHolderVars); a hypertable with quals evaluated here; statements
 * other than SELECT, row locks, LATERAL references and pseudoconstant
 * quals.  Privileges on the reference table are checked here, by the
 * executor, as for any table of the query.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "foreign/fdwapi.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/rel.h"

#include "deparse/deparse.h"
#include "fdw/fdw.h"
#include "fdw/grouping.h"
#include "fdw/join.h"
#include "fdw/prune.h"
#include "fdw/scan.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"

/*
 * Whether the columns rel returns are all user columns: no system or
 * whole-row column (a data node's rows have no tableoid of the access
 * node's), no expression computed below the join (PlaceHolderVar).
 */
static bool
user_columns_only(RelOptInfo *rel)
{
	ListCell   *lc;

	foreach(lc, rel->reltarget->exprs)
	{
		Var		   *var = lfirst(lc);

		if (!IsA(var, Var) || var->varattno <= 0)
			return false;
	}
	return true;
}

/*
 * The hypertable's side of a join: the scan of a distributed hypertable
 * whose quals all ship, or a join planned here.  Returns its fdw_private,
 * or NULL when rel is neither.
 */
static HdFdwRelInfo *
hypertable_side(PlannerInfo *root, RelOptInfo *rel)
{
	HdFdwRelInfo *info = rel->fdw_private;

	/* not sized (proven empty), or another wrapper's */
	if (info == NULL || rel->fdwroutine == NULL ||
		rel->fdwroutine->GetForeignUpperPaths != hd_get_foreign_upper_paths)
		return NULL;
	if (rel->reloptkind == RELOPT_JOINREL)
		return info->joins != NIL ? info : NULL;
	if (rel->reloptkind != RELOPT_BASEREL ||
		!hd_is_dist_hypertable(planner_rt_fetch(rel->relid, root)->relid) ||
		info->local_conds != NIL || info->remote_limit != NULL)
		return NULL;
	return info;
}

/* Whether the table has row level security enabled, forced or not. */
static bool
has_row_security(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);
	bool		rls = rel->rd_rel->relrowsecurity;

	table_close(rel, NoLock);
	return rls;
}

/*
 * Whether rel is a reference table whose copies on the data nodes have
 * exactly the rows the access node reads: the whole table (no security
 * quals, row level security, children or sample), read as the hypertable
 * is (the data nodes' sessions are that user's), its quals all shippable.
 */
static bool
reference_side(PlannerInfo *root, RelOptInfo *rel, RelOptInfo *htrel)
{
	RangeTblEntry *rte;
	ListCell   *lc;

	if (rel->reloptkind != RELOPT_BASEREL || rel->rtekind != RTE_RELATION ||
		rel->userid != htrel->userid || !bms_is_empty(rel->lateral_relids))
		return false;
	rte = planner_rt_fetch(rel->relid, root);
	if (rte->relkind != RELKIND_RELATION || rte->inh ||
		rte->tablesample != NULL || rte->securityQuals != NIL ||
		!hd_catalog_is_reference_table(rte->relid) ||
		has_row_security(rte->relid))
		return false;
	foreach(lc, rel->baserestrictinfo)
	{
		if (!hd_is_foreign_expr(rel, lfirst_node(RestrictInfo, lc)->clause,
								false))
			return false;
	}
	return true;
}

/* The hypertable as the first relation of a joined query. */
static HdJoinRel *
first_rel(PlannerInfo *root, RelOptInfo *htrel)
{
	HdJoinRel  *first = palloc0(sizeof(HdJoinRel));

	first->varno = htrel->relid;
	first->relid = planner_rt_fetch(htrel->relid, root)->relid;
	first->jointype = JOIN_INNER;
	return first;
}

/*
 * Whether the relation's columns are among rel's: a semi- or anti-join
 * returns only its left side's (an anti-join could return the right
 * side's as NULLs, which the data nodes' query does not select).
 */
static bool
returns_columns_of(PlannerInfo *root, RelOptInfo *rel, RelOptInfo *of)
{
	return bms_overlap(pull_varnos(root, (Node *) rel->reltarget->exprs),
					   of->relids);
}

/*
 * set_join_pathlist_hook: when joinrel joins the hypertable's side with a
 * reference table as the header describes, makes it a relation of this
 * wrapper and offers the data nodes' join.  PostgreSQL calls this for each
 * pair of relations that makes joinrel; the first that qualifies plans it.
 * A semi-join comes as JOIN_SEMI, and as an inner join with its right
 * side made unique (JOIN_UNIQUE_INNER, or JOIN_UNIQUE_OUTER with the sides
 * swapped): all three are the same semi-join of the hypertable's side.
 */
void
hd_add_join_paths(PlannerInfo *root, RelOptInfo *joinrel,
				  RelOptInfo *outerrel, RelOptInfo *innerrel,
				  JoinType jointype, JoinPathExtraData *extra)
{
	RelOptInfo *htside = outerrel;
	RelOptInfo *refrel = innerrel;
	HdFdwRelInfo *htinfo;
	HdFdwRelInfo *info;
	HdJoinRel  *ref;
	List	   *on = NIL;
	List	   *where = NIL;
	ListCell   *lc;
	Cost		total_cost;

	/* a wrapper already: planned here, or tables of one server */
	if (joinrel->reloptkind != RELOPT_JOINREL || joinrel->fdwroutine != NULL ||
		root->parse->commandType != CMD_SELECT ||
		root->parse->rowMarks != NIL || root->hasPseudoConstantQuals ||
		!bms_is_empty(joinrel->lateral_relids) ||
		!user_columns_only(joinrel))
		return;
	if (jointype == JOIN_UNIQUE_OUTER ||
		(jointype == JOIN_INNER && hypertable_side(root, innerrel) != NULL))
	{
		htside = innerrel;
		refrel = outerrel;
	}
	if (jointype == JOIN_UNIQUE_INNER || jointype == JOIN_UNIQUE_OUTER)
		jointype = JOIN_SEMI;
	else if (jointype == JOIN_FULL || jointype == JOIN_RIGHT)
		return;
	htinfo = hypertable_side(root, htside);
	if (htinfo == NULL || !reference_side(root, refrel, htinfo->htrel))
		return;
	if ((jointype == JOIN_SEMI || jointype == JOIN_ANTI) &&
		returns_columns_of(root, joinrel, refrel))
		return;

	/*
	 * The join's condition, and the quals that filter an outer join's
	 * result.  PostgreSQL evaluates every clause of an inner or semi-join
	 * as its condition; those of an outer join that are pushed down filter
	 * its result: a LEFT JOIN's go to WHERE, an anti-join's (its right
	 * side's columns NULL) NOT EXISTS cannot express, so it stays here.
	 */
	foreach(lc, extra->restrictlist)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (!hd_is_foreign_expr(joinrel, ri->clause, false))
			return;
		if (!IS_OUTER_JOIN(jointype) ||
			!RINFO_IS_PUSHED_DOWN(ri, joinrel->relids))
			on = lappend(on, ri);
		else if (jointype == JOIN_LEFT)
			where = lappend(where, ri);
		else
			return;
	}

	ref = palloc(sizeof(HdJoinRel));
	ref->varno = refrel->relid;
	ref->relid = planner_rt_fetch(refrel->relid, root)->relid;
	ref->jointype = jointype;
	ref->conds = list_concat(on, refrel->baserestrictinfo);

	info = palloc0(sizeof(HdFdwRelInfo));
	info->joins = lappend(htinfo->joins != NIL ? list_copy(htinfo->joins) :
						  list_make1(first_rel(root, htside)), ref);
	info->remote_conds = list_concat(list_copy(htinfo->remote_conds), where);
	info->htrel = htinfo->htrel;
	joinrel->fdw_private = info;
	joinrel->fdwroutine = htside->fdwroutine;
	joinrel->serverid = htside->serverid;
	joinrel->userid = htside->userid;
	joinrel->useridiscurrent = htside->useridiscurrent;

	/*
	 * The data nodes ship the joined rows, each costing what a scanned row
	 * does; their work is not counted, as a scan's is not.  So the join
	 * wins over joining here when it ships no more rows than the
	 * hypertable's scan would (the local join costs that scan and more):
	 * an inner join on a key of the reference table ships at most the
	 * scan's rows, a LEFT JOIN on a key exactly them, while a join that
	 * multiplies rows may lose.  The estimate rests on the reference
	 * table's statistics, which the access node has.
	 */
	total_cost = HD_FDW_STARTUP_COST +
		joinrel->rows * (cpu_tuple_cost + HD_FDW_TUPLE_COST);
	add_path(joinrel, (Path *)
			 create_foreign_join_path(root, joinrel, NULL, joinrel->rows,
									  HD_FDW_STARTUP_COST, total_cost,
									  NIL, NULL, NULL, NIL));
}

/*
 * GetForeignPlan for a join relation: the data nodes' query selects the
 * join relation's columns, which make the scan tuple (fdw_scan_tlist; the
 * plan's tlist, built from them, may be replaced by a projection's),
 * chunks pruned by the hypertable's quals as for its scan; the chunk
 * filter is qualified by the hypertable's alias.
 */
ForeignScan *
hd_get_join_plan(PlannerInfo *root, RelOptInfo *joinrel, List *tlist,
				 Plan *outer_plan)
{
	HdFdwRelInfo *info = joinrel->fdw_private;
	RelOptInfo *htrel = info->htrel;
	Oid			relid = planner_rt_fetch(htrel->relid, root)->relid;
	List	   *scan_tlist = add_to_flat_tlist(NIL, joinrel->reltarget->exprs);
	List	   *params_list = NIL;
	List	   *prune_exprs = NIL;
	List	   *retrieved_attrs = NIL;
	List	   *prune_codes;
	List	   *sql_parts;
	bool		has_where;

	for (int i = 1; i <= list_length(scan_tlist); i++)
		retrieved_attrs = lappend_int(retrieved_attrs, i);
	sql_parts = hd_deparse_join(info->joins, scan_tlist, info->remote_conds,
								"", &params_list, &has_where);
	prune_codes = hd_prune_quals(root, htrel, hd_hypertable_load(relid),
								 htrel->baserestrictinfo, &prune_exprs);

	return make_foreignscan(tlist, NIL, 0,
							list_concat(params_list, prune_exprs),
							hd_scan_private(sql_parts, retrieved_attrs,
											has_where, prune_codes, relid,
											hd_deparse_join_alias(info->joins),
											hd_deparse_join_relations(info->joins,
																	  false)),
							scan_tlist, NIL, outer_plan);
}
