/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/insert.h — routing rows of a distributed hypertable to data nodes in
 * batches (INSERT and COPY share it).
 *
 * Each row goes to its chunk's usable replicas (placement/chunk_create.h);
 * rows are buffered per data node column by column and shipped as one
 * INSERT ... SELECT FROM unnest($1, ..., $n) per batch, each parameter an
 * array in binary format, into the node's root table (whose partitioning
 * routes them to the chunks).  A node has at most one batch in flight; the
 * next is built meanwhile.
 */
#ifndef HYPERDIST_INGEST_INSERT_H
#define HYPERDIST_INGEST_INSERT_H

#include "postgres.h"

#include "utils/rel.h"

#include "metadata/hypertable.h"
#include "placement/chunk_create.h"

typedef struct HdInsertState HdInsertState;

/*
 * Starts routing rows into rel.  on_conflict (may be NULL) is appended to
 * every batch's INSERT, whose target is named alias (may be NULL).  With count_rows, rows for read replicas and for
 * other replicas are kept in separate batches so that the rows inserted
 * can be counted exactly (ON CONFLICT DO NOTHING may skip some).
 */
extern HdInsertState *hd_insert_begin(Relation rel, HdHypertable *ht,
									  const char *alias, const char *on_conflict,
									  bool count_rows);

/* Routes one row (one value per attribute of rel); may ship a batch. */
extern void hd_insert_row(HdInsertState *state, Datum *values, bool *isnull);

/*
 * ON CONFLICT with RETURNING: inserts one row now, on every replica of its
 * chunk, and returns whether the first replica inserted or updated it; if
 * so, out/outnull (one per attribute of rel) get the row it stored.  The
 * values stay valid until the next call.
 */
extern bool hd_insert_row_returning(HdInsertState *state, Datum *values,
									bool *isnull, Datum *out, bool *outnull);

/*
 * Starts routing rows that come encoded as lines of COPY's text format or,
 * with binary, as tuples of its binary format (without the header and
 * trailer, which each batch gets): copy_sql is the data node's statement
 * that reads them from STDIN.
 */
extern HdInsertState *hd_insert_begin_copy(Relation rel, HdHypertable *ht,
										   const char *copy_sql, bool binary);

/*
 * The chunk a row goes to (created if missing); values and isnull, one per
 * attribute of rel, need only the dimension columns.
 */
extern HdChunk *hd_insert_route(HdInsertState *state, Datum *values, bool *isnull);

/*
 * Adds a row, encoded for copy_sql (a line ends in a newline), to the
 * batches of the chunk's replicas; a data node's error on it names lineno,
 * the row's line of the input.
 */
extern void hd_insert_copy_row(HdInsertState *state, HdChunk *chunk,
							   const char *row, int len, uint64 lineno);

/*
 * Ships every buffered row and waits for all batches; returns the rows
 * the data nodes inserted into read replicas since the last call (only
 * meaningful with count_rows).
 */
extern uint64 hd_insert_flush(HdInsertState *state);

#endif							/* HYPERDIST_INGEST_INSERT_H */
