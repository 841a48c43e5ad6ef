/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/catalog.h — writing the catalog (_hyperdist_catalog) on behalf of roles.
 *
 * Only the catalog's owner may write _hyperdist_catalog.  Operations any
 * table owner may run (create_distributed_hypertable, set_*, attach and
 * detach, drop_chunks, chunk creation, DDL that names indexes) check the
 * caller first, then write as the catalog's owner between
 * hd_catalog_writer_begin and _end, as PostgreSQL's own maintenance
 * commands run as a table's owner: with SECURITY_RESTRICTED_OPERATION and
 * search_path = pg_catalog, pg_temp, evaluating nothing the caller wrote.
 * docs/SECURITY.md lists every such path.
 */
#ifndef HYPERDIST_METADATA_CATALOG_H
#define HYPERDIST_METADATA_CATALOG_H

#include "postgres.h"

#include "access/xact.h"
#include "storage/lockdefs.h"

#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"

/* The schema chunks go to unless a hypertable names another. */
#define HD_INTERNAL_SCHEMA "_hyperdist_internal"

typedef struct HdCatalogWriter
{
	Oid			saved_user;
	int			saved_sec;
	int			nestlevel;		/* GUC nest level of the fixed search_path */
} HdCatalogWriter;

extern void hd_catalog_writer_begin(HdCatalogWriter *w);
extern void hd_catalog_writer_end(HdCatalogWriter *w);

/*
 * Runs one catalog statement (a constant text: its plan is kept) as the
 * catalog's owner; returns its one row's first value, copied into the
 * caller's context, when result_type is valid.  For writes the caller has
 * checked.
 */
extern Datum hd_catalog_write(const char *sql, int nargs, Oid *types, Datum *values,
							  const char *nulls, Oid result_type);

/*
 * Serializes chunk creation and removal for hypertable ht_id until the end
 * of the transaction (an object lock on its catalog row; readers and other
 * hypertables' writers are not blocked).
 */
extern void hd_catalog_lock_chunks(int32 ht_id);

/*
 * The lock of one chunk's placement, until the end of the transaction: a
 * statement writing rows of the chunk holds it in RowExclusiveLock, the
 * final switch of a copy of it (placement/replica_copy.c) in ShareLock, so
 * that the switch waits for the writers in flight and the writers after it
 * see its replicas.  Other chunks' writers never meet it.  True when the
 * lock was taken now (not held already): the caller's view of the chunk's
 * replicas may then be out of date, and it reads them again.
 */
extern bool hd_catalog_lock_chunk(int32 chunk_id, LOCKMODE mode);

/*
 * Chunk creation's rows (placement/chunk_create.c, which checked that the
 * caller may create chunks and holds the hypertable's chunk-creation lock).
 */
extern void hd_catalog_add_time_slice(int32 ht_id, int64 time, int64 start, int64 end,
									  int16 nparts, HdCatalogSlice *slice);
extern int32 hd_catalog_add_chunk(const HdHypertable *ht, int32 slice_id, int16 partition,
								  List *nodes, char **table_name);

/*
 * The id of distributed hypertable relid; an error unless the caller owns
 * it (or is a member of its owner's role).
 */
extern int32 hd_catalog_owned_hypertable(Oid relid);

/*
 * Rebalance rows (api/rebalance_run.c, which checked that the caller owns
 * the hypertables concerned).
 */
extern int32 hd_catalog_add_rebalance(const char *drained_node);
extern void hd_catalog_add_rebalance_move(int32 op_id, int64 bytes);

/* Catalog rows DDL on a distributed hypertable changes (ddl/utility.c). */
extern void hd_catalog_add_index(Oid relid, const char *index_name);

/* ALTER TABLE ... SET/RESET (...): the chunks' storage parameters, a text[] or 0. */
extern void hd_catalog_set_chunk_options(Oid relid, Datum options);
extern void hd_catalog_forget_index(Oid relid, const char *index_name);
extern void hd_catalog_delete_hypertable(Oid relid);
extern void hd_catalog_delete_reference_table(Oid relid);

/*
 * Continuous aggregates (cagg/, which checked that the caller owns the
 * hypertable, or the view).  The next id comes first: it names the
 * objects the row refers to.
 */
extern int32 hd_catalog_next_cagg_id(void);
extern void hd_catalog_add_cagg(const HdCatalogCagg *cagg);
extern void hd_catalog_delete_cagg(int32 id);
extern void hd_catalog_set_cagg_materialized_only(int32 id, bool materialized_only);

/*
 * The transaction callbacks (registered by init.c): an error between
 * hd_catalog_writer_begin and _end is forgotten with its (sub)transaction.
 */
extern void hd_catalog_writer_xact_callback(XactEvent event, void *arg);
extern void hd_catalog_writer_subxact_callback(SubXactEvent event,
											   SubTransactionId mySubid,
											   SubTransactionId parentSubid,
											   void *arg);

#endif							/* HYPERDIST_METADATA_CATALOG_H */
