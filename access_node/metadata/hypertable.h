/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/hypertable.h — distributed hypertables as the access node sees them.
 *
 * A distributed hypertable is a foreign table on the server
 * hyperdist_hypertables plus rows in _hyperdist_catalog (hypertable,
 * dimension, hypertable_data_node, ...).  Management functions
 * (create_distributed_hypertable, attach/detach, set_*) are in the SQL
 * script; this is what the C paths (insert, COPY, scan, DDL) need.
 */
#ifndef HYPERDIST_METADATA_HYPERTABLE_H
#define HYPERDIST_METADATA_HYPERTABLE_H

#include "postgres.h"

#include "access/attnum.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

typedef struct HdDimension
{
	int32		id;
	AttrNumber	attnum;			/* in the access node's foreign table */
	Oid			type;
	char	   *column_name;
	int64		interval_length;	/* time dimension */
	int16		num_partitions; /* space dimension */
	FmgrInfo	hash_proc;		/* space: the type's extended hash function */
	Oid			collation;
	Oid			btree_opfamily; /* the type's default btree family, if any */
} HdDimension;

typedef struct HdHypertable
{
	int32		id;
	Oid			relid;
	char	   *schema_name;
	char	   *table_name;
	char	   *assoc_schema;
	char	   *assoc_prefix;
	int16		replication_factor;
	HdDimension time;
	bool		has_space;
	HdDimension space;
	List	   *data_nodes;		/* server OIDs of its data nodes, by name */
	List	   *chunk_options;	/* its chunks' storage parameters, "name=value" */
	bool		has_caggs;		/* continuous aggregates read it */
} HdHypertable;

/* True when relid is a distributed hypertable (no catalog query). */
extern bool hd_is_dist_hypertable(Oid relid);

/*
 * The same, and its catalog rows exist: a role may make a foreign table on
 * hyperdist_hypertables itself, which is then an ordinary foreign table.
 */
extern bool hd_hypertable_registered(Oid relid);

/*
 * The distributed hypertable relid, NULL if relid is none; from the
 * backend's catalog cache (metadata/cache.c), valid until the end of the
 * transaction at least.  Do not modify it.
 */
extern HdHypertable *hd_hypertable_load(Oid relid);

/* Reads it from the catalog into cxt (for the cache). */
extern HdHypertable *hd_hypertable_read(Oid relid, MemoryContext cxt);

/*
 * The distributed hypertable relid whose foreign table, schema.name, the
 * running statement dropped, NULL if relid was none: its catalog row and
 * data nodes, without dimensions (their columns are gone).
 */
extern HdHypertable *hd_hypertable_dropped(Oid relid, const char *schema,
										   const char *name);

/* Data nodes (server OIDs) the hypertable is attached to, by name. */
extern List *hd_hypertable_data_nodes(const HdHypertable *ht);

/* _hyperdist_catalog.hypertable, whose owner owns the whole catalog. */
extern Oid	hd_catalog_relid(void);

extern Oid	hd_rel_owner(Oid relid);

#endif							/* HYPERDIST_METADATA_HYPERTABLE_H */
