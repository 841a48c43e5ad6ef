/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/chunk.c — finding, creating and listing chunks of distributed hypertables.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/cache.h"
#include "metadata/chunk.h"
#include "remote/node.h"
#include "remote/node_health.h"
#include "spi_plan.h"
#include "metadata/dimension.h"
#include "remote/connection.h"
#include "remote/fanout.h"

typedef struct HdSlice
{
	int32		id;
	int64		start;
	int64		end;
	int			nparts;
	HdChunk   **chunks;			/* by space partition; NULL until met */
} HdSlice;

struct HdChunkCache
{
	HdHypertable *ht;
	MemoryContext cxt;
	List	   *slices;			/* HdSlice, most recently used first */
	void		(*before_create) (void *arg);
	void	   *arg;
	bool		locked;			/* holds the hypertable's chunk-creation lock */
};

HdChunkCache *
hd_chunk_cache_create(HdHypertable *ht, MemoryContext cxt,
					  void (*before_create) (void *arg), void *arg)
{
	HdChunkCache *cache = MemoryContextAllocZero(cxt, sizeof(HdChunkCache));

	cache->ht = ht;
	cache->cxt = cxt;
	cache->before_create = before_create;
	cache->arg = arg;
	return cache;
}

/*
 * A data node lets only the root table's owner (or a member of its role)
 * add a partition, and the chunk is created in the inserting role's own
 * session; refuse other roles here, before anything is sent.
 */
static void
check_may_create_chunk(const HdHypertable *ht)
{
	if (!pg_class_ownercheck(ht->relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to create a chunk of distributed hypertable \"%s\"",
						ht->table_name),
				 errdetail("A row needs a new chunk, and chunks are created by the inserting role, which must be the hypertable's owner or a member of its role."),
				 errhint("Insert rows that need new chunks as the owner.")));
}

/*
 * Serializes chunk creation for the hypertable until the end of the
 * transaction: the lock is an object lock on the hypertable's catalog row,
 * so writers of other hypertables and readers are not blocked.  Whoever
 * waited then finds the other's chunk by looking again (READ COMMITTED
 * takes a new snapshot per catalog query).
 */
static void
lock_chunk_creation(HdChunkCache *cache)
{
	if (cache->locked)
		return;
	check_may_create_chunk(cache->ht);
	hd_catalog_lock_chunks(cache->ht->id);
	cache->locked = true;
}

/* ---- slices --------------------------------------------------------------- */

/* Puts slice first in the cache (rows tend to come in time order). */
static void
remember_slice(HdChunkCache *cache, HdSlice *slice)
{
	MemoryContext old = MemoryContextSwitchTo(cache->cxt);

	cache->slices = lcons(slice, list_delete_ptr(cache->slices, slice));
	MemoryContextSwitchTo(old);
}

static HdSlice *
slice_from_row(HdChunkCache *cache, const HdCatalogSlice *row)
{
	HdSlice    *slice = MemoryContextAllocZero(cache->cxt, sizeof(HdSlice));

	slice->id = row->id;
	slice->start = row->start;
	slice->end = row->end;
	slice->nparts = row->num_partitions;
	slice->chunks = MemoryContextAllocZero(cache->cxt, sizeof(HdChunk *) * slice->nparts);
	remember_slice(cache, slice);
	return slice;
}

static HdSlice *
slice_lookup(HdChunkCache *cache, int64 time)
{
	HdCatalogSlice row;

	if (!hd_catalog_time_slice_at(cache->ht->id, time, &row))
		return NULL;
	return slice_from_row(cache, &row);
}

/*
 * A new slice: the aligned interval around time, cut where it would
 * overlap existing slices (which the interval may not align with after
 * set_chunk_time_interval).
 */
static HdSlice *
slice_create(HdChunkCache *cache, int64 time)
{
	HdHypertable *ht = cache->ht;
	int64		start;
	int64		end;
	HdCatalogSlice row;

	hd_time_slice_align(time, ht->time.interval_length, &start, &end);
	hd_catalog_add_time_slice(ht->id, time, start, end,
							  ht->has_space ? ht->space.num_partitions : 1, &row);
	return slice_from_row(cache, &row);
}

static HdSlice *
slice_for_time(HdChunkCache *cache, int64 time)
{
	ListCell   *lc;
	HdSlice    *slice;

	foreach(lc, cache->slices)
	{
		slice = lfirst(lc);
		if (slice->start <= time && time < slice->end)
		{
			if (foreach_current_index(lc) > 0)
				remember_slice(cache, slice);
			return slice;
		}
	}

	slice = slice_lookup(cache, time);
	if (slice != NULL)
		return slice;
	if (cache->before_create)
		cache->before_create(cache->arg);
	lock_chunk_creation(cache);
	slice = slice_lookup(cache, time);
	return slice != NULL ? slice : slice_create(cache, time);
}

/* ---- chunks ---------------------------------------------------------------- */

/* A chunk for the cache: nodes are its replicas' node names, in the order read. */
static HdChunk *
chunk_from_row(HdChunkCache *cache, int32 id, List *nodes)
{
	HdChunk    *chunk = MemoryContextAllocZero(cache->cxt, sizeof(HdChunk));
	ListCell   *lc;

	chunk->id = id;
	chunk->nnodes = list_length(nodes);
	chunk->nodes = MemoryContextAlloc(cache->cxt, sizeof(Oid) * Max(chunk->nnodes, 1));
	foreach(lc, nodes)
		chunk->nodes[foreach_current_index(lc)] = get_foreign_server_oid(lfirst(lc), false);
	return chunk;
}

/* Loads the chunk of (slice, partition) from the catalog, or NULL. */
static HdChunk *
chunk_lookup(HdChunkCache *cache, HdSlice *slice, int partition)
{
	int32		id;
	List	   *nodes;

	if (!hd_catalog_chunk_at(slice->id, (int16) partition, &id, &nodes))
		return NULL;
	return chunk_from_row(cache, id, nodes);
}

/*
 * The placement map's key of a new chunk (see recreate_placement in
 * sql/catalog.sql): its space partition, or for time-only hypertables the
 * slice's ordinal plus the hypertable id.
 */
static int64
placement_key(const HdHypertable *ht, HdSlice *slice, int partition)
{
	int64		key;

	if (ht->has_space)
		return partition;
	key = slice->start / ht->time.interval_length + ht->id;
	return key < 0 ? -key : key;
}

/*
 * The data node statement creating the chunk's table (deparse/ddl.c).  As
 * in TimescaleDB the chunk belongs to the hypertable's owner whoever
 * inserts, so that the owner's later ALTER TABLE, which recurses to the
 * chunks, is allowed; the inserting role may hand it over since it is the
 * owner or a member of its role (check_may_create_chunk).
 */
static char *
chunk_create_sql(const HdHypertable *ht, const HdSlice *slice, int partition,
				 const char *table_name)
{
	return hd_deparse_create_chunk(ht, slice->id, slice->start, slice->end,
								   slice->nparts, partition, table_name,
								   GetUserNameFromId(hd_rel_owner(ht->relid), false));
}

static HdChunk *
chunk_create(HdChunkCache *cache, HdSlice *slice, int partition)
{
	HdHypertable *ht = cache->ht;
	List	   *nodes = hd_catalog_new_chunk_nodes(ht->id, placement_key(ht, slice, partition));
	int32		chunk_id;
	char	   *table_name;
	char	   *sql;
	int			nnodes;
	HdRequestSet *set;
	HdChunk    *chunk;

	if (nodes == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("insufficient number of data nodes for hypertable \"%s\"",
						ht->table_name),
				 errdetail("No available data node accepts new chunks."),
				 errhint("Attach a data node or allow new chunks on one.")));
	chunk_id = hd_catalog_add_chunk(ht, slice->id, (int16) partition, nodes, &table_name);

	/* every replica at once, in the remote transactions */
	chunk = chunk_from_row(cache, chunk_id, nodes);
	nnodes = chunk->nnodes;
	sql = chunk_create_sql(ht, slice, partition, table_name);
	set = hd_reqset_create();
	for (int i = 0; i < nnodes; i++)
		(void) hd_reqset_exec(set, hd_conn_get(chunk->nodes[i], true), sql,
							  0, NULL, NULL);
	hd_reqset_wait(set);
	return chunk;
}

HdChunk *
hd_chunk_for_point(HdChunkCache *cache, int64 time, Datum space_value,
				   bool space_isnull)
{
	HdSlice    *slice;
	int			partition = 0;
	HdChunk    *chunk;

	/* slices are [start, end), and an end saturates at the largest bigint */
	if (time == PG_INT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("invalid time value: " INT64_FORMAT, time),
				 errdetail("The largest bigint is the open end of the last time range; no chunk can hold it.")));
	slice = slice_for_time(cache, time);

	if (cache->ht->has_space)
		partition = hd_space_partition(&cache->ht->space, space_value,
									   space_isnull, slice->nparts);
	if (slice->chunks[partition] != NULL)
		return slice->chunks[partition];

	chunk = chunk_lookup(cache, slice, partition);
	if (chunk == NULL)
	{
		if (cache->before_create)
			cache->before_create(cache->arg);
		lock_chunk_creation(cache);
		chunk = chunk_lookup(cache, slice, partition);
		if (chunk == NULL)
			chunk = chunk_create(cache, slice, partition);
	}
	slice->chunks[partition] = chunk;
	return chunk;
}

/* ---- reads and writes ------------------------------------------------------ */

/*
 * The hypertable's chunks with their replicas and the data nodes'
 * availability, for the catalog cache, allocated in cxt.
 */
HdChunkSet *
hd_chunk_set_read(HdHypertable *ht, MemoryContext cxt)
{
	HdChunkSet *set = MemoryContextAllocZero(cxt, sizeof(HdChunkSet));
	MemoryContext rows_cxt = AllocSetContextCreate(CurrentMemoryContext,
												   "hyperdist catalog chunks",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(rows_cxt);
	List	   *rows = hd_catalog_chunks(ht->id);
	ListCell   *row;

	MemoryContextSwitchTo(old);
	set->chunks = MemoryContextAllocZero(cxt, sizeof(HdCachedChunk) * Max(list_length(rows), 1));
	set->moduli = MemoryContextAlloc(cxt, sizeof(int16) * Max(list_length(rows), 1));
	foreach(row, rows)
	{
		HdCatalogChunk *r = lfirst(row);
		HdCachedChunk *c = &set->chunks[set->nchunks++];
		int			nnodes = list_length(r->nodes);
		ListCell   *lc;
		int			m;

		c->id = r->id;
		c->range_start = r->range_start;
		c->range_end = r->range_end;
		c->num_partitions = r->num_partitions;
		c->space_partition = r->space_partition;
		c->name = MemoryContextStrdup(cxt, r->name);
		c->servers = MemoryContextAlloc(cxt, sizeof(Oid) * Max(nnodes, 1));
		c->available = MemoryContextAlloc(cxt, sizeof(bool) * Max(nnodes, 1));
		foreach(lc, r->nodes)
		{
			Oid			serverid = get_foreign_server_oid(lfirst(lc), true);
			ForeignServer *server;
			HdServerOptions opts;

			/* a replica on a node no longer a data node is not read */
			if (!OidIsValid(serverid))
				continue;
			server = GetForeignServer(serverid);
			if (!hd_server_is_data_node(server))
				continue;
			hd_server_options_get(server, &opts);
			c->servers[c->nreplicas] = serverid;
			c->available[c->nreplicas++] = opts.available;
		}
		for (m = 0; m < set->nmoduli && set->moduli[m] != c->num_partitions; m++)
			;
		if (m == set->nmoduli)
			set->moduli[set->nmoduli++] = c->num_partitions;
	}
	MemoryContextDelete(rows_cxt);
	return set;
}

/*
 * For each of set's moduli, the space partitions of prune's values (a
 * value's partition depends on the slice's number of partitions).
 */
static int16 **
space_partitions(HdHypertable *ht, const HdChunkSet *set, const HdChunkPrune *prune)
{
	int16	  **parts = palloc(sizeof(int16 *) * Max(set->nmoduli, 1));

	for (int m = 0; m < set->nmoduli; m++)
	{
		parts[m] = palloc(sizeof(int16) * Max(prune->space_nvalues, 1));
		for (int j = 0; j < prune->space_nvalues; j++)
			parts[m][j] = (int16) hd_space_partition(&ht->space, prune->space_values[j],
													 false, set->moduli[m]);
	}
	return parts;
}

/* Whether prune keeps chunk c (parts: from space_partitions, or NULL). */
static bool
chunk_kept(const HdCachedChunk *c, const HdChunkSet *set, const HdChunkPrune *prune,
		   int16 **parts)
{
	int			m;

	if (c->range_start > prune->time_hi || c->range_end <= prune->time_lo)
		return false;
	if (parts == NULL)
		return true;
	for (m = 0; set->moduli[m] != c->num_partitions; m++)
		;
	for (int j = 0; j < prune->space_nvalues; j++)
		if (parts[m][j] == c->space_partition)
			return true;
	return false;
}

/*
 * The replica read of chunk c: the first usable one, on an available node
 * not known to be down.  A chunk with replicas but none usable cannot be
 * read: an error, rather than rows missing.
 */
static int
primary_replica(const HdCachedChunk *c)
{
	StringInfoData nodes;

	for (int r = 0; r < c->nreplicas; r++)
		if (c->available[r] && !hd_health_node_down(c->servers[r]))
			return r;
	if (c->nreplicas == 0)
		return 0;
	initStringInfo(&nodes);
	for (int r = 0; r < c->nreplicas; r++)
		appendStringInfo(&nodes, "%s\"%s\"", r > 0 ? ", " : "",
						 GetForeignServer(c->servers[r])->servername);
	ereport(ERROR,
			(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
			 errmsg("chunk %s has no current replica on an available data node",
					c->name),
			 errdetail("Its replicas are on data node(s) %s, which are unavailable.",
					   nodes.data)));
}

/* One data node's share of a plan as it is built. */
typedef struct NodePlan
{
	Oid			serverid;
	int			nkept;			/* replicas there of chunks prune keeps */
	List	   *chunks;			/* of those, the names of those in the plan */
	List	   *primaries;		/* and of the primary replicas among them */
} NodePlan;

static NodePlan *
node_plan(List **nodes, Oid serverid)
{
	ListCell   *lc;
	NodePlan   *np;

	foreach(lc, *nodes)
	{
		np = lfirst(lc);
		if (np->serverid == serverid)
			return np;
	}
	np = palloc0(sizeof(NodePlan));
	np->serverid = serverid;
	*nodes = lappend(*nodes, np);
	return np;
}

static int
node_plan_cmp(const ListCell *a, const ListCell *b)
{
	const NodePlan *x = lfirst(a);
	const NodePlan *y = lfirst(b);

	return strcmp(GetForeignServer(x->serverid)->servername,
				  GetForeignServer(y->serverid)->servername);
}

/*
 * Each chunk is read from one replica, its primary: the first available one
 * in replica order.  The plan has the chunks prune keeps on each node: with
 * all_replicas every replica of them, else only their primaries.  A node
 * that has every one of its chunks prune keeps in the plan needs no filter:
 * its other chunks' rows cannot pass the quals that pruned them, which the
 * statement evaluates (shipped, or here on the rows); one with none gets no
 * entry.  Nodes come in name order, chunks in id order.
 */
static List *
chunk_plan(HdHypertable *ht, const HdChunkPrune *prune, bool all_replicas)
{
	const HdChunkSet *set;
	int16	  **parts = NULL;
	List	   *nodes = NIL;
	List	   *plan = NIL;
	ListCell   *lc;

	if (prune->none)
		return NIL;
	set = hd_catalog_cache_chunks(ht);
	if (prune->space_nvalues >= 0)
		parts = space_partitions(ht, set, prune);

	for (int i = 0; i < set->nchunks; i++)
	{
		const HdCachedChunk *c = &set->chunks[i];
		int			primary = primary_replica(c);

		if (!chunk_kept(c, set, prune, parts))
			continue;
		for (int r = 0; r < c->nreplicas; r++)
		{
			NodePlan   *np = node_plan(&nodes, c->servers[r]);

			np->nkept++;
			if (r == primary)
				np->primaries = lappend(np->primaries, c->name);
			if (r == primary || all_replicas)
				np->chunks = lappend(np->chunks, c->name);
		}
	}

	list_sort(nodes, node_plan_cmp);
	foreach(lc, nodes)
	{
		NodePlan   *np = lfirst(lc);
		HdNodeRead *read;

		if (np->chunks == NIL)
			continue;
		read = palloc(sizeof(HdNodeRead));
		read->serverid = np->serverid;
		read->nchunks = list_length(np->chunks);
		read->chunk_filter = read->nchunks < np->nkept ?
			hd_deparse_chunk_filter(np->chunks) : NULL;
		read->nprimary = list_length(np->primaries);
		read->primary_filter = np->primaries != NIL ?
			hd_deparse_chunk_filter(np->primaries) : NULL;
		plan = lappend(plan, read);
	}
	return plan;
}

List *
hd_chunk_read_plan(HdHypertable *ht, const HdChunkPrune *prune)
{
	return chunk_plan(ht, prune, false);
}

List *
hd_chunk_write_plan(HdHypertable *ht, const HdChunkPrune *prune)
{
	return chunk_plan(ht, prune, true);
}

/* ---- show_chunks and drop_chunks ------------------------------------------- */

PG_FUNCTION_INFO_V1(hyperdist_show_chunks);
PG_FUNCTION_INFO_V1(hyperdist_drop_chunks);

static Datum
time_arg(FunctionCallInfo fcinfo, int argno, const HdHypertable *ht,
		 const char *argname, bool *isnull)
{
	*isnull = PG_ARGISNULL(argno);
	if (*isnull)
		return (Datum) 0;
	return Int64GetDatum(hd_time_arg_to_internal(PG_GETARG_DATUM(argno),
												 get_fn_expr_argtype(fcinfo->flinfo, argno),
												 ht, argname));
}

static Datum
creation_time_arg(FunctionCallInfo fcinfo, int argno, const char *argname, bool *isnull)
{
	*isnull = PG_ARGISNULL(argno);
	if (*isnull)
		return (Datum) 0;
	return TimestampTzGetDatum(hd_creation_time_arg(PG_GETARG_DATUM(argno),
													get_fn_expr_argtype(fcinfo->flinfo, argno),
													argname));
}

/*
 * Runs func(ht, older_than, newer_than, created_before, created_after) and
 * returns its rows; created_argno is the position of created_before (the
 * two functions' signatures differ there, as TimescaleDB's).
 */
static Datum
chunk_api_call(FunctionCallInfo fcinfo, const char *func, int created_argno)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HdHypertable *ht;
	Oid			types[5] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[5];
	char		nulls[5];
	bool		isnull[5];
	char	   *sql;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("invalid hypertable: NULL")));
	ht = hd_hypertable_load(PG_GETARG_OID(0));
	if (ht == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is not a distributed hypertable",
						get_rel_name(PG_GETARG_OID(0)))));

	args[0] = Int32GetDatum(ht->id);
	isnull[0] = false;
	args[1] = time_arg(fcinfo, 1, ht, "older_than", &isnull[1]);
	args[2] = time_arg(fcinfo, 2, ht, "newer_than", &isnull[2]);
	args[3] = creation_time_arg(fcinfo, created_argno, "created_before", &isnull[3]);
	args[4] = creation_time_arg(fcinfo, created_argno + 1, "created_after", &isnull[4]);
	if (!(isnull[1] && isnull[2]) && !(isnull[3] && isnull[4]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot specify \"older_than\" or \"newer_than\" together with \"created_before\" or \"created_after\""),
				 errhint("The former select chunks by their time range, the latter by their creation time; use one kind.")));
	for (int i = 0; i < 5; i++)
		nulls[i] = isnull[i] ? 'n' : ' ';

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	/* one of two texts: kept plans */
	sql = psprintf("SELECT _hyperdist_functions.%s($1, $2, $3, $4, $5)", func);
	hd_spi_connect();
	hd_spi_execute(sql, 5, types, args, nulls, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		null;
		Datum		value = hd_spi_value(i, 1, TupleDescAttr(rsinfo->setDesc, 0)->atttypid,
										 &null);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &null);
	}
	hd_spi_finish();
	return (Datum) 0;
}

Datum
hyperdist_show_chunks(PG_FUNCTION_ARGS)
{
	return chunk_api_call(fcinfo, "show_chunks", 3);
}

Datum
hyperdist_drop_chunks(PG_FUNCTION_ARGS)
{
	/* as DROP TABLE: the chunks are the owner's */
	if (!PG_ARGISNULL(0) && !pg_class_ownercheck(PG_GETARG_OID(0), GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(PG_GETARG_OID(0)));
	return chunk_api_call(fcinfo, "drop_chunks", 4);
}
