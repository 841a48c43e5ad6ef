/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/copy_from.h — COPY FROM in text, CSV or binary into a distributed
 * hypertable, forwarding the rows' fields to the data nodes unparsed.
 */
#ifndef HYPERDIST_INGEST_COPY_FROM_H
#define HYPERDIST_INGEST_COPY_FROM_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "parser/parse_node.h"

/*
 * Runs "COPY relid FROM ..." (relid a distributed hypertable) and sets
 * *processed to the rows read; false, with nothing done, when the statement
 * needs every column parsed on the access node (PostgreSQL's COPY then runs
 * it through the foreign table's insert path).
 */
extern bool hd_copy_from(ParseState *pstate, const CopyStmt *stmt, Oid relid,
						 uint64 *processed);

#endif							/* HYPERDIST_INGEST_COPY_FROM_H */
