/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/chunk.c — which replicas of which chunks a statement reads and
 * writes; show_chunks and drop_chunks.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "metadata/cache.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/chunk.h"
#include "metadata/dimension.h"
#include "metadata/replica.h"
#include "remote/node.h"
#include "remote/node_health.h"
#include "spi_plan.h"

/* ---- usable replicas ------------------------------------------------------- */

bool
hd_node_down(HdDownNodes *down, Oid serverid)
{
	if (!list_member_oid(down->checked, serverid))
	{
		down->checked = lappend_oid(down->checked, serverid);
		if (hd_health_node_down(serverid))
			down->down = lappend_oid(down->down, serverid);
	}
	return list_member_oid(down->down, serverid);
}

void
hd_node_set_down(HdDownNodes *down, Oid serverid)
{
	if (!list_member_oid(down->checked, serverid))
		down->checked = lappend_oid(down->checked, serverid);
	if (!list_member_oid(down->down, serverid))
		down->down = lappend_oid(down->down, serverid);
}

void
hd_chunk_mark_stale(int32 ht_id, int32 chunk_id, const char *node_name)
{
	hd_catalog_lock_chunks(ht_id);
	hd_replica_mark_stale(chunk_id, node_name);
}

void
hd_chunk_unavailable_error(const char *name, List *current_nodes)
{
	StringInfoData nodes;
	ListCell   *lc;

	initStringInfo(&nodes);
	foreach(lc, current_nodes)
		appendStringInfo(&nodes, "%s\"%s\"", foreach_current_index(lc) > 0 ? ", " : "",
						 (char *) lfirst(lc));
	if (current_nodes == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("chunk \"%s\" has no current replica on an available data node", name),
				 errdetail("None of its replicas is current.")));
	ereport(ERROR,
			(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
			 errmsg("chunk \"%s\" has no current replica on an available data node", name),
			 errdetail_plural("Its current replica is on data node %s, which is unavailable.",
							  "Its current replicas are on data nodes %s, which are unavailable.",
							  list_length(current_nodes), nodes.data)));
}

void
hd_chunk_moved_error(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access due to a concurrent copy of chunk \"%s\"",
					name),
			 errdetail("Its replicas changed after the transaction's snapshot was taken."),
			 errhint("The transaction might succeed if retried.")));
}

/* ---- reads and writes ------------------------------------------------------ */

/*
 * The hypertable's chunks with their replicas, their status and the data
 * nodes' availability, for the catalog cache, allocated in cxt.
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
		int			nreplicas = Max(list_length(r->replicas), 1);
		ListCell   *lc;
		int			m;

		c->id = r->id;
		c->range_start = r->range_start;
		c->range_end = r->range_end;
		c->num_partitions = r->num_partitions;
		c->space_partition = r->space_partition;
		c->name = MemoryContextStrdup(cxt, r->name);
		c->servers = MemoryContextAlloc(cxt, sizeof(Oid) * nreplicas);
		c->nodes = MemoryContextAlloc(cxt, sizeof(char *) * nreplicas);
		c->current = MemoryContextAlloc(cxt, sizeof(bool) * nreplicas);
		c->available = MemoryContextAlloc(cxt, sizeof(bool) * nreplicas);
		foreach(lc, r->replicas)
		{
			HdCatalogReplica *replica = lfirst(lc);
			Oid			serverid = get_foreign_server_oid(replica->node_name, true);
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
			c->nodes[c->nreplicas] = MemoryContextStrdup(cxt, server->servername);
			c->current[c->nreplicas] = replica->current;
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

/* Whether replica r of chunk c is usable. */
static bool
replica_usable(const HdCachedChunk *c, int r, HdDownNodes *down)
{
	return c->current[r] && c->available[r] && !hd_node_down(down, c->servers[r]);
}

/*
 * The replica read of chunk c: its first usable one.  Without one, the
 * chunk cannot be read or written: an error naming the nodes of its
 * current replicas.
 */
static int
primary_replica(const HdCachedChunk *c, HdDownNodes *down)
{
	List	   *current_nodes = NIL;

	for (int r = 0; r < c->nreplicas; r++)
	{
		if (replica_usable(c, r, down))
			return r;
		if (c->current[r])
			current_nodes = lappend(current_nodes,
									c->nodes[r]);
	}
	hd_chunk_unavailable_error(c->name, current_nodes);
}

/* One data node's share of a plan as it is built. */
typedef struct NodePlan
{
	Oid			serverid;
	const char *node;			/* its name, as the chunks were read */
	int			nkept;			/* replicas there of chunks prune keeps */
	List	   *chunks;			/* of those, the names of those in the plan */
	List	   *chunk_ids;		/* and their ids */
	List	   *primaries;		/* and of the primary replicas among them */
} NodePlan;

static NodePlan *
node_plan(List **nodes, Oid serverid, const char *node)
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
	np->node = node;
	*nodes = lappend(*nodes, np);
	return np;
}

static int
node_plan_cmp(const ListCell *a, const ListCell *b)
{
	const NodePlan *x = lfirst(a);
	const NodePlan *y = lfirst(b);

	return strcmp(x->node, y->node);
}

/* A replica to mark stale once the plan is made. */
typedef struct StaleReplica
{
	int32		chunk_id;
	char	   *node_name;
} StaleReplica;

/*
 * Each chunk is read from one replica, its primary: the first usable one
 * in replica order.  The plan has the chunks prune keeps on each node: for
 * a write every usable replica of them, else only their primaries.  A node
 * that has every one of its replicas of chunks prune keeps in the plan is
 * not restricted: its other chunks' rows cannot pass the quals that pruned
 * them, which the statement evaluates (shipped, or here on the rows); a
 * node holding a replica left out (stale, or not the primary of a read)
 * is.  A node with none gets no entry.  Nodes come in name order, chunks
 * in id order.  A write's current replicas that are not usable go to
 * *stale (with stale not NULL).
 */
static List *
chunk_plan(HdHypertable *ht, const HdChunkPrune *prune, bool write,
		   HdDownNodes *down, List **stale)
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
		int			primary;

		if (!chunk_kept(c, set, prune, parts))
			continue;
		primary = primary_replica(c, down);
		for (int r = 0; r < c->nreplicas; r++)
		{
			NodePlan   *np = node_plan(&nodes, c->servers[r], c->nodes[r]);
			bool		usable = replica_usable(c, r, down);

			np->nkept++;
			if (r == primary)
				np->primaries = lappend(np->primaries, c->name);
			if (r == primary || (write && usable))
			{
				np->chunks = lappend(np->chunks, c->name);
				np->chunk_ids = lappend_int(np->chunk_ids, c->id);
			}
			if (stale != NULL && c->current[r] && !usable)
			{
				StaleReplica *s = palloc(sizeof(StaleReplica));

				s->chunk_id = c->id;
				s->node_name = c->nodes[r];
				*stale = lappend(*stale, s);
			}
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
		read->chunks = np->chunks;
		read->chunk_ids = np->chunk_ids;
		read->restricted = list_length(np->chunks) < np->nkept;
		read->primaries = np->primaries;
		plan = lappend(plan, read);
	}
	return plan;
}

/*
 * Takes the lock of every chunk a restricted read names (AccessShareLock,
 * to the transaction's end); true if one was not held yet.  Its remote
 * statement names those chunks ('name'::regclass), which fails if a chunk
 * went from the data node after the plan was made: drop_chunks takes the
 * lock in AccessExclusiveLock before it drops anything, so a named chunk
 * stays until the reader's transaction ends.  A lock just taken may have
 * waited for a drop, whose catalog change retired the cached chunks.
 */
static bool
lock_chunks_named(List *plan)
{
	bool		newly = false;
	ListCell   *lc;
	ListCell   *id;

	foreach(lc, plan)
	{
		HdNodeRead *read = lfirst(lc);

		if (read->restricted)
			foreach(id, read->chunk_ids)
				newly |= hd_catalog_lock_chunk(lfirst_int(id), AccessShareLock);
	}
	return newly;
}

/*
 * The plan is made again only if a lock taken now let a catalog change in:
 * the cached chunks it was made from were retired (their memory stays
 * until the transaction ends, so a new set never has the same address).
 */
List *
hd_chunk_read_plan(HdHypertable *ht, const HdChunkPrune *prune,
				   const List *unreached)
{
	HdDownNodes down = {0};
	const HdChunkSet *set;
	List	   *plan;
	ListCell   *lc;

	foreach(lc, unreached)
		hd_node_set_down(&down, lfirst_oid(lc));
	do
	{
		set = hd_catalog_cache_chunks(ht);
		plan = chunk_plan(ht, prune, false, &down, NULL);
	} while (lock_chunks_named(plan) && hd_catalog_cache_chunks(ht) != set);
	return plan;
}

/*
 * The replicas are marked stale after the plan is made: marking changes
 * the catalog, which retires the cached chunks the plan reads.
 */
/*
 * Takes the writers' lock of every chunk prune keeps (metadata/catalog.h).
 * A lock taken now may have waited for a copy's switch, whose catalog
 * change then retired the cached chunks: they are read again, until every
 * chunk kept was locked before the chunks were read.
 */
static void
lock_chunks_written(HdHypertable *ht, const HdChunkPrune *prune)
{
	bool		waited;

	if (prune->none)
		return;
	do
	{
		const HdChunkSet *set = hd_catalog_cache_chunks(ht);
		int16	  **parts = prune->space_nvalues >= 0 ? space_partitions(ht, set, prune) : NULL;
		int			nkept = 0;
		int32	   *kept = palloc(sizeof(int32) * Max(set->nchunks, 1));
		char	  **names = palloc(sizeof(char *) * Max(set->nchunks, 1));

		/* the ids first: a lock may free the set */
		for (int i = 0; i < set->nchunks; i++)
			if (chunk_kept(&set->chunks[i], set, prune, parts))
			{
				names[nkept] = pstrdup(set->chunks[i].name);
				kept[nkept++] = set->chunks[i].id;
			}
		waited = false;
		for (int i = 0; i < nkept; i++)
		{
			if (!hd_catalog_lock_chunk(kept[i], RowExclusiveLock))
				continue;
			waited = true;
			if (IsolationUsesXactSnapshot() && hd_catalog_replicas_changed(kept[i]))
				hd_chunk_moved_error(names[i]);
		}
	} while (waited);
}

List *
hd_chunk_write_plan(HdHypertable *ht, const HdChunkPrune *prune,
					HdDownNodes *down, bool mark_stale)
{
	List	   *stale = NIL;
	List	   *plan;
	ListCell   *lc;

	lock_chunks_written(ht, prune);
	plan = chunk_plan(ht, prune, true, down, mark_stale ? &stale : NULL);

	foreach(lc, stale)
	{
		StaleReplica *s = lfirst(lc);

		hd_chunk_mark_stale(ht->id, s->chunk_id, s->node_name);
	}
	return plan;
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
