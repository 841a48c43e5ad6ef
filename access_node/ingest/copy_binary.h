/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/copy_binary.h — reading COPY's binary format with only the
 * dimension columns decoded, every field kept as it came.
 */
#ifndef HYPERDIST_INGEST_COPY_BINARY_H
#define HYPERDIST_INGEST_COPY_BINARY_H

#include "postgres.h"

#include "commands/copy.h"
#include "lib/stringinfo.h"

typedef struct HdBinaryReader HdBinaryReader;

/*
 * Whether a column of this type can reach a data node in the binary form
 * the client sent: the data node's receive function must read it as the
 * access node's would.
 */
extern bool hd_copy_binary_forwardable(Oid type);

/*
 * Takes over cstate, a binary COPY FROM begun by BeginCopyFrom: the
 * columns read whose decode[attnum - 1] is set are decoded, every other one
 * is only kept.  Each row read is written to tuple (reset first) as a tuple
 * of COPY's binary format.
 */
extern HdBinaryReader *hd_copy_binary_begin(CopyFromState cstate,
											const bool *decode,
											StringInfo tuple);

/*
 * Reads a row: the decoded columns into values and isnull (one per
 * attribute), the row into the reader's tuple; false at the end of the
 * input.  Allocates in the current memory context.
 */
extern bool hd_copy_binary_next(HdBinaryReader *reader, Datum *values,
								bool *isnull);

#endif							/* HYPERDIST_INGEST_COPY_BINARY_H */
