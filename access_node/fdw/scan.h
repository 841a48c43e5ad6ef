/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/scan.h — executing a foreign scan on one data node.
 */
#ifndef HYPERDIST_FDW_SCAN_H
#define HYPERDIST_FDW_SCAN_H

#include "postgres.h"

#include "commands/explain.h"
#include "nodes/execnodes.h"

/*
 * ForeignScan.fdw_private of a hyperdist scan, as built by fdw.c (a scan
 * of the table) or fdw/grouping.c (a scan returning partial aggregates):
 * the remote SQL in parts (a List of Strings, each but the last ending
 * with a WHERE clause that a chunk filter extends: the SQL up to its WHERE
 * clause and the rest, " GROUP BY ..." or "", or the parts of a skip scan),
 * the attribute numbers of the scan tuple its output columns fill, in
 * order (IntList; empty when the query needs no column), whether the first
 * part has a WHERE clause (Boolean), the codes of the chunk pruning quals
 * (IntList, fdw/prune.c), the foreign table's OID (Integer), the
 * hypertable's alias its chunk filter is qualified by (String; "" for a
 * query reading one table; fdw/join.c) and the relations a join reads, for
 * EXPLAIN (String; "" for one table).  fdw_exprs are the values
 * of the SQL's parameters $1, $2..., then the pruning quals' expressions.
 */
enum HdScanPrivateIndex
{
	HdScanPrivateSql,
	HdScanPrivateRetrievedAttrs,
	HdScanPrivateHasWhere,
	HdScanPrivatePruneCodes,
	HdScanPrivateRelid,
	HdScanPrivateAlias,
	HdScanPrivateRelations
};

extern List *hd_scan_private(List *sql_parts, List *retrieved_attrs,
							 bool has_where, List *prune_codes, Oid relid,
							 const char *alias, const char *relations);
extern void hd_begin_foreign_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *hd_iterate_foreign_scan(ForeignScanState *node);
extern void hd_rescan_foreign_scan(ForeignScanState *node);
extern void hd_end_foreign_scan(ForeignScanState *node);
extern void hd_explain_scan_queries(ForeignScanState *node, ExplainState *es);

#endif							/* HYPERDIST_FDW_SCAN_H */
