/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/copy_operation.h — the rows of _hyperdist_catalog.chunk_copy_operation,
 * one per chunk copy or move (placement/chunk_move.h).
 *
 * Writes run as the catalog's owner, in the caller's transaction.
 */
#ifndef HYPERDIST_METADATA_COPY_OPERATION_H
#define HYPERDIST_METADATA_COPY_OPERATION_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef struct HdCopyOp
{
	int32		id;
	char	   *operation_id;
	char	   *stage;			/* completed_stage */
	int32		chunk_id;
	char	   *source;
	char	   *dest;
	bool		delete_source;
	int32		attempts;		/* failed so far */
	char	   *error_code;		/* the last failure's SQLSTATE, or NULL */
	char	   *error_message;
} HdCopyOp;

/* A new planned operation (operation_id NULL: hd_copy_<id>); its id. */
extern int32 hd_copy_op_insert(int32 chunk_id, const char *source, const char *dest,
							   bool delete_source, const char *operation_id,
							   int32 rebalance_id);

/*
 * Operation id as last committed (the latest snapshot, also in a
 * REPEATABLE READ transaction: others change it as it runs); false if
 * there is none.
 */
extern bool hd_copy_op_read(int32 id, HdCopyOp *op);

/* Its chunk's name, quoted "schema"."table", for messages. */
extern char *hd_copy_op_chunk_name(const HdCopyOp *op);

/* It has ended: complete, failed or cancelled. */
extern bool hd_copy_op_ended(const HdCopyOp *op);

/* The ids of the operations that have not ended, oldest first. */
extern List *hd_copy_op_unfinished(void);

/* The id of the operation named operation_id, or 0. */
extern int32 hd_copy_op_lookup(const char *operation_id);

/* The id of an operation on chunk_id that has not ended, or 0. */
extern int32 hd_copy_op_active_on(int32 chunk_id);

/*
 * Operation id reached stage; this process runs it (backend_pid), or for
 * complete, failed and cancelled, it ended (time_end).  False, and nothing
 * changed, when it was cancelled meanwhile (but failed and cancelled are
 * always recorded).
 */
extern bool hd_copy_op_set_stage(int32 id, const char *stage);

/* What operation id's copy sent, from started until now. */
extern void hd_copy_op_record_copy(int32 id, uint64 rows, uint64 bytes,
								   TimestampTz started);

/* Operation id failed (attempts + 1, the error kept); nobody runs it now. */
extern void hd_copy_op_record_error(int32 id, const char *sqlstate, const char *message);

/* The pids of the processes running operations other than id. */
extern List *hd_copy_op_other_pids(int32 id);

#endif							/* HYPERDIST_METADATA_COPY_OPERATION_H */
