/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/analyze.h — ANALYZE of a distributed hypertable or a foreign table,
 * from a sample of the data nodes' rows.
 */
#ifndef HYPERDIST_FDW_ANALYZE_H
#define HYPERDIST_FDW_ANALYZE_H

#include "postgres.h"

#include "foreign/fdwapi.h"

/* FdwRoutine.AnalyzeForeignTable */
extern bool hd_analyze_foreign_table(Relation rel, AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

#endif							/* HYPERDIST_FDW_ANALYZE_H */
