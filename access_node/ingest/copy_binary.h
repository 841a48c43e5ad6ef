/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/copy_binary.h — reading COPY's binary format with only the
 * dimension columns decoded, each row kept as it came.
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
 * Reads the rows of cstate, a binary COPY FROM begun by BeginCopyFrom (which
 * has read the header): the columns read whose decode[attnum - 1] is set are
 * decoded with cstate's receive functions, the others are only checked
 * for their length.
 */
extern HdBinaryReader *hd_copy_binary_begin(CopyFromState cstate,
											const bool *decode);

/*
 * Reads a row: the decoded columns into values and isnull (one per
 * attribute), the row as it came (a tuple of binary COPY) into *row and
 * *len, valid until the next call; false at the end of the input.  Errors
 * come with COPY's context if the caller has set it up.
 */
extern bool hd_copy_binary_next(HdBinaryReader *reader, Datum *values,
								bool *isnull, const char **row, int *len);

#endif							/* HYPERDIST_INGEST_COPY_BINARY_H */
