/*
 * fdw/scan.h — executing a foreign scan on one data node.
 */
#ifndef HYPERDIST_FDW_SCAN_H
#define HYPERDIST_FDW_SCAN_H

#include "postgres.h"

#include "nodes/execnodes.h"

/*
 * ForeignScan.fdw_private of a hyperdist scan, as built by fdw.c:
 * the remote SQL (String) and the attribute numbers its output columns
 * fill, in order (IntList; empty when the query needs no column).
 */
enum HdScanPrivateIndex
{
	HdScanPrivateSql,
	HdScanPrivateRetrievedAttrs
};

extern void hd_begin_foreign_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *hd_iterate_foreign_scan(ForeignScanState *node);
extern void hd_rescan_foreign_scan(ForeignScanState *node);
extern void hd_end_foreign_scan(ForeignScanState *node);

#endif							/* HYPERDIST_FDW_SCAN_H */
