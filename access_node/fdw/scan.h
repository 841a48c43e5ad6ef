/*
 * fdw/scan.h — executing a foreign scan on one data node.
 */
#ifndef HYPERDIST_FDW_SCAN_H
#define HYPERDIST_FDW_SCAN_H

#include "postgres.h"

#include "commands/explain.h"
#include "nodes/execnodes.h"

/*
 * ForeignScan.fdw_private of a hyperdist scan, as built by fdw.c:
 * the remote SQL (String), the attribute numbers its output columns
 * fill, in order (IntList; empty when the query needs no column), and
 * whether the SQL has a WHERE clause (Boolean), and the codes of the
 * chunk pruning quals (IntList, fdw/prune.c).  fdw_exprs are the values of
 * the SQL's parameters $1, $2..., then the pruning quals' expressions.
 */
enum HdScanPrivateIndex
{
	HdScanPrivateSql,
	HdScanPrivateRetrievedAttrs,
	HdScanPrivateHasWhere,
	HdScanPrivatePruneCodes
};

extern void hd_begin_foreign_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *hd_iterate_foreign_scan(ForeignScanState *node);
extern void hd_rescan_foreign_scan(ForeignScanState *node);
extern void hd_end_foreign_scan(ForeignScanState *node);
extern void hd_explain_scan_queries(ForeignScanState *node, bool dist,
									ExplainState *es);

#endif							/* HYPERDIST_FDW_SCAN_H */
