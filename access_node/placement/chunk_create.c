/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/chunk_create.c — the chunks a statement writes rows to: found
 * in the catalog, or created on the data nodes; each with the replicas
 * the rows go to.
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/chunk.h"
#include "metadata/dimension.h"
#include "placement/chunk_create.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/node.h"

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
	HdDownNodes down;			/* nodes down for this statement */
	List	   *reached;		/* servers with a session in the transaction */
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

/*
 * The slice holding time once chunk creation is locked: the one found
 * before may have gone with a drop_chunks whose lock the statement waited
 * for (drop_chunks holds the creation lock too).
 */
static HdSlice *
slice_still_there(HdChunkCache *cache, HdSlice *slice, int64 time)
{
	HdCatalogSlice row;

	if (hd_catalog_time_slice_at(cache->ht->id, time, &row) && row.id == slice->id)
		return slice;
	cache->slices = list_delete_ptr(cache->slices, slice);
	return slice_for_time(cache, time);
}

/* ---- the nodes rows go to ------------------------------------------------- */

/*
 * Whether the statement may write to serverid: its option "available" is
 * true, it is not down, and it has a session in the transaction, opened
 * now if needed.  A node that cannot be reached while opening is down for
 * the rest of the statement (and reported down for everyone).
 */
static bool
reach_node(HdChunkCache *cache, Oid serverid)
{
	MemoryContext old;
	HdServerOptions opts;
	bool		reached = false;

	if (list_member_oid(cache->reached, serverid))
		return true;
	hd_server_options_get(GetForeignServer(serverid), &opts);
	/* the statement's lists live as long as its cache */
	old = MemoryContextSwitchTo(cache->cxt);
	if (opts.available && !hd_node_down(&cache->down, serverid))
	{
		reached = hd_conn_try_get(serverid, true) != NULL;
		if (reached)
			cache->reached = lappend_oid(cache->reached, serverid);
		else
			hd_node_set_down(&cache->down, serverid);
	}
	MemoryContextSwitchTo(old);
	return reached;
}

/* The server of a replica's node, InvalidOid if it is no data node now. */
static Oid
replica_server(const char *node_name)
{
	Oid			serverid = get_foreign_server_oid(node_name, true);

	if (OidIsValid(serverid) && !hd_server_is_data_node(GetForeignServer(serverid)))
		return InvalidOid;
	return serverid;
}

/*
 * An existing chunk as the statement writes it: its usable replicas, each
 * reached.  The current ones that are not are marked stale (their rows
 * would be missing), stale ones are left out; without a usable one, an
 * error.
 */
static HdChunk *
chunk_from_row(HdChunkCache *cache, const HdCatalogChunk *row)
{
	HdChunk    *chunk = MemoryContextAllocZero(cache->cxt, sizeof(HdChunk));
	List	   *current_nodes = NIL;
	List	   *stale = NIL;
	ListCell   *lc;

	chunk->id = row->id;
	chunk->nodes = MemoryContextAlloc(cache->cxt,
									  sizeof(Oid) * Max(list_length(row->replicas), 1));
	foreach(lc, row->replicas)
	{
		HdCatalogReplica *replica = lfirst(lc);
		Oid			serverid;

		if (!replica->current)
			continue;
		serverid = replica_server(replica->node_name);
		if (!OidIsValid(serverid))
			continue;
		current_nodes = lappend(current_nodes, replica->node_name);
		if (reach_node(cache, serverid))
			chunk->nodes[chunk->nnodes++] = serverid;
		else
			stale = lappend(stale, replica->node_name);
	}
	if (chunk->nnodes == 0)
		hd_chunk_unavailable_error(row->name, current_nodes);
	foreach(lc, stale)
		hd_chunk_mark_stale(cache->ht->id, row->id, lfirst(lc));
	return chunk;
}

/*
 * Loads the chunk of (slice, partition) from the catalog, or NULL.  The
 * statement takes the chunk's lock for writers first (metadata/catalog.h),
 * then reads its replicas again if it had to take it now: a copy of the
 * chunk may have switched meanwhile.  A transaction whose snapshot is
 * older than such a switch cannot write the replicas it sees (they may be
 * gone, or miss the new one): a serialization failure.
 */
static HdChunk *
chunk_lookup(HdChunkCache *cache, HdSlice *slice, int partition)
{
	HdCatalogChunk row;

	if (!hd_catalog_chunk_at(slice->id, (int16) partition, &row))
		return NULL;
	if (hd_catalog_lock_chunk(row.id, RowExclusiveLock))
	{
		if (IsolationUsesXactSnapshot() && hd_catalog_replicas_changed(row.id))
			hd_chunk_moved_error(row.name);
		if (!hd_catalog_chunk_at(slice->id, (int16) partition, &row))
			return NULL;
	}
	return chunk_from_row(cache, &row);
}

/* ---- new chunks -------------------------------------------------------------- */

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
 * The names of the nodes down for the statement, the hypertable's looked
 * up; one whose server was dropped since has no name to exclude.
 */
static List *
down_node_names(HdChunkCache *cache)
{
	List	   *names = NIL;
	MemoryContext old = MemoryContextSwitchTo(cache->cxt);
	ListCell   *lc;

	foreach(lc, cache->ht->data_nodes)
		(void) hd_node_down(&cache->down, lfirst_oid(lc));
	MemoryContextSwitchTo(old);
	foreach(lc, cache->down.down)
	{
		ForeignServer *server = GetForeignServerExtended(lfirst_oid(lc), FSV_MISSING_OK);

		if (server != NULL)
			names = lappend(names, server->servername);
	}
	return names;
}

/*
 * The nodes (names) a new chunk goes to: placement's choice among the nodes
 * that take new chunks and are not down, each reached.  One that cannot be
 * reached is down from then on, and placement chooses again without it.  So
 * does a node deleted since the statement's snapshot: the catalog still
 * names it, its server is gone.
 */
static List *
placement_nodes(HdChunkCache *cache, int64 key)
{
	List	   *deleted = NIL;

	for (;;)
	{
		List	   *nodes = hd_catalog_new_chunk_nodes(cache->ht->id, key,
													   list_concat(down_node_names(cache),
																   deleted));
		bool		reached = true;
		ListCell   *lc;

		if (nodes == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("insufficient number of data nodes for hypertable \"%s\"",
							cache->ht->table_name),
					 errdetail("No available data node accepts new chunks."),
					 errhint("Attach a data node or allow new chunks on one.")));
		foreach(lc, nodes)
		{
			Oid			serverid = get_foreign_server_oid(lfirst(lc), true);

			if (!OidIsValid(serverid))
			{
				deleted = lappend(deleted, lfirst(lc));
				reached = false;
			}
			else
				reached &= reach_node(cache, serverid);
		}
		if (reached)
			return nodes;
	}
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

/*
 * A chunk with fewer replicas than the replication factor is
 * under-replicated (metadata/replica.h): the catalog remembers it by its
 * missing rows, and it gets its other replicas later.
 */
static void
warn_under_replicated(const HdHypertable *ht, const char *table_name, int nnodes)
{
	ereport(WARNING,
			(errmsg("chunk \"%s\" created with %d of %d replicas",
					quote_qualified_identifier(ht->assoc_schema, table_name),
					nnodes, ht->replication_factor),
			 errdetail("Too few data nodes of distributed hypertable \"%s\" are available to take new chunks.",
					   ht->table_name),
			 errhint("The chunk gets its missing replicas once data nodes are available.")));
}

static HdChunk *
chunk_create(HdChunkCache *cache, HdSlice *slice, int partition)
{
	HdHypertable *ht = cache->ht;
	List	   *nodes = placement_nodes(cache, placement_key(ht, slice, partition));
	HdChunk    *chunk = MemoryContextAllocZero(cache->cxt, sizeof(HdChunk));
	char	   *table_name;
	char	   *sql;
	HdRequestSet *set;
	ListCell   *lc;

	chunk->id = hd_catalog_add_chunk(ht, slice->id, (int16) partition, nodes, &table_name);
	if (list_length(nodes) < ht->replication_factor)
		warn_under_replicated(ht, table_name, list_length(nodes));

	/* every replica at once, in the remote transactions */
	chunk->nodes = MemoryContextAlloc(cache->cxt, sizeof(Oid) * list_length(nodes));
	sql = chunk_create_sql(ht, slice, partition, table_name);
	set = hd_reqset_create();
	foreach(lc, nodes)
	{
		chunk->nodes[chunk->nnodes] = get_foreign_server_oid(lfirst(lc), false);
		(void) hd_reqset_exec(set, hd_conn_get(chunk->nodes[chunk->nnodes++], true),
							  sql, 0, NULL, NULL);
	}
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
		if (slice != slice_still_there(cache, slice, time))
			return hd_chunk_for_point(cache, time, space_value, space_isnull);
		chunk = chunk_lookup(cache, slice, partition);
		if (chunk == NULL)
			chunk = chunk_create(cache, slice, partition);
	}
	slice->chunks[partition] = chunk;
	return chunk;
}
