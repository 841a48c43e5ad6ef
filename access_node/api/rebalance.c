/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/rebalance.c — planning chunk moves for rebalance and drain_data_node.
 *
 * A plan is made per distributed hypertable over its data nodes that take
 * new chunks (attached, not blocked, not unavailable): the nodes' loads are
 * the bytes of the chunk replicas they hold, as the data nodes report them
 * (data_node_sizes), and a chunk never goes to a node that holds a table of
 * it, whatever the replica's status.  A chunk is moved at most once per
 * plan, since a chunk has at most one operation under way, and a chunk with
 * an operation under way already is not moved at all.
 *
 * rebalance (by_size) is greedy: while some node is more than 10% away
 * from the mean, the most loaded node gives the chunk whose move to the
 * least loaded node without it lowers the sum of squared deviations the
 * most; it stops when no such move lowers it, which leaves the nodes within
 * about one chunk of each other.  drain_data_node moves every replica of the
 * drained node, largest first, each to the node with the least bytes that
 * does not hold the chunk.
 *
 * Planning reads only; the moves are recorded by api/rebalance_run.c.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/bitmapset.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "metadata/hypertable.h"
#include "spi_plan.h"

/* nodes are balanced when each is within this fraction of the mean */
#define BALANCE_TOLERANCE 0.10

typedef struct PlanChunk
{
	int32		id;
	char	   *name;			/* schema-qualified, quoted */
	Bitmapset  *holders;		/* nodes (indexes) with a table of it */
	bool		busy;			/* an operation is under way, or planned here */
} PlanChunk;

typedef struct PlanReplica
{
	int			chunk;			/* index in chunks */
	int			node;			/* index in nodes */
	int64		bytes;
	char		status;			/* c(urrent), s(tale), (c)o(pying), r(etired) */
} PlanReplica;

typedef struct MovePlan
{
	int			nnodes;			/* the nodes moves may go to */
	char	  **nodes;			/* their names, sorted; then the drained node */
	int64	   *load;
	int			nchunks;
	PlanChunk  *chunks;
	int			nreplicas;
	PlanReplica *replicas;
	List	   *moves;			/* of PlanMove */
} MovePlan;

typedef struct PlanMove
{
	int32		chunk_id;
	const char *source;
	const char *destination;
	int64		bytes;
} PlanMove;

/* The nodes of hypertable relid that take new chunks, sorted by name. */
static void
load_nodes(MovePlan *plan, Oid relid, const char *drained)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	hd_spi_execute("SELECT hdn.node_name"
				   " FROM _hyperdist_catalog.hypertable_data_node hdn"
				   " JOIN _hyperdist_catalog.hypertable h ON h.id = hdn.hypertable_id"
				   " JOIN hyperdist_information.data_nodes d ON d.node_name = hdn.node_name"
				   " WHERE h.relid = $1 AND NOT hdn.block_chunks"
				   "   AND d.status <> 'unavailable'"
				   " ORDER BY hdn.node_name", 1, types, values, NULL, true, 0);
	plan->nnodes = SPI_processed;
	plan->nodes = palloc((plan->nnodes + 1) * sizeof(char *));
	plan->load = palloc0((plan->nnodes + 1) * sizeof(int64));
	for (int i = 0; i < plan->nnodes; i++)
		plan->nodes[i] = pstrdup(NameStr(*DatumGetName(hd_spi_value(i, 1, NAMEOID, NULL))));
	plan->nodes[plan->nnodes] = (char *) drained;
}

/* Index of node in plan->nodes (the drained node last); -1 if none. */
static int
node_index(const MovePlan *plan, const char *node, bool with_drained)
{
	int			n = plan->nnodes + (with_drained && plan->nodes[plan->nnodes] ? 1 : 0);

	for (int i = 0; i < n; i++)
		if (strcmp(plan->nodes[i], node) == 0)
			return i;
	return -1;
}

/*
 * The replicas of relid's chunks on the plan's nodes (and the drained one),
 * with their sizes on those nodes; chunks with an operation under way are
 * busy.
 */
static void
load_replicas(MovePlan *plan, Oid relid)
{
	int			nall = plan->nnodes + (plan->nodes[plan->nnodes] ? 1 : 0);
	Datum	   *names = palloc(nall * sizeof(Datum));
	Oid			types[2] = {OIDOID, NAMEARRAYOID};
	Datum		values[2];
	int32		last = -1;

	for (int i = 0; i < nall; i++)
		names[i] = hd_spi_name_arg(plan->nodes[i]);
	values[0] = ObjectIdGetDatum(relid);
	values[1] = PointerGetDatum(construct_array(names, nall, NAMEOID, NAMEDATALEN,
												false, TYPALIGN_CHAR));
	hd_spi_execute("WITH ht AS (SELECT id FROM _hyperdist_catalog.hypertable WHERE relid = $1),"
				   " sizes AS ("
				   "  SELECT c.id AS chunk_id, s.node_name, s.total_bytes"
				   "    FROM _hyperdist_functions.data_node_sizes($1, true, $2) s"
				   "    JOIN _hyperdist_catalog.chunk c ON c.schema_name = s.chunk_schema"
				   "     AND c.table_name = s.chunk_name AND c.hypertable_id = (SELECT id FROM ht))"
				   " SELECT cdn.chunk_id, pg_catalog.format('%I.%I', c.schema_name, c.table_name),"
				   "        cdn.node_name, cdn.status,"
				   "        coalesce(s.total_bytes, 0)::int8,"
				   "        EXISTS (SELECT FROM _hyperdist_catalog.chunk_copy_operation o"
				   "                 WHERE o.chunk_id = cdn.chunk_id"
				   "                   AND o.completed_stage IN ('planned', 'copying', 'switched'))"
				   "   FROM _hyperdist_catalog.chunk_data_node cdn"
				   "   JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id"
				   "   LEFT JOIN sizes s ON s.chunk_id = cdn.chunk_id AND s.node_name = cdn.node_name"
				   "  WHERE c.hypertable_id = (SELECT id FROM ht) AND cdn.node_name = ANY ($2)"
				   "  ORDER BY cdn.chunk_id, cdn.node_name", 2, types, values, NULL, false, 0);

	plan->nreplicas = SPI_processed;
	plan->replicas = palloc(plan->nreplicas * sizeof(PlanReplica));
	plan->chunks = palloc(plan->nreplicas * sizeof(PlanChunk));
	plan->nchunks = 0;
	for (int i = 0; i < plan->nreplicas; i++)
	{
		PlanReplica *r = &plan->replicas[i];
		int32		chunk_id = DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL));
		PlanChunk  *c;
		char	   *status = TextDatumGetCString(hd_spi_value(i, 4, TEXTOID, NULL));

		if (chunk_id != last)
		{
			c = &plan->chunks[plan->nchunks++];
			c->id = chunk_id;
			c->name = TextDatumGetCString(hd_spi_value(i, 2, TEXTOID, NULL));
			c->holders = NULL;
			c->busy = DatumGetBool(hd_spi_value(i, 6, BOOLOID, NULL));
			last = chunk_id;
		}
		c = &plan->chunks[plan->nchunks - 1];
		r->chunk = plan->nchunks - 1;
		r->node = node_index(plan, NameStr(*DatumGetName(hd_spi_value(i, 3, NAMEOID, NULL))),
							 true);
		r->bytes = DatumGetInt64(hd_spi_value(i, 5, INT8OID, NULL));
		r->status = strcmp(status, "copying") == 0 ? 'o' : status[0];
		c->holders = bms_add_member(c->holders, r->node);
		/* a retired replica's table is about to go */
		if (r->status != 'r')
			plan->load[r->node] += r->bytes;
	}
}

/* The least loaded of the plan's nodes without a table of chunk c; -1: none. */
static int
least_loaded_without(const MovePlan *plan, const PlanChunk *c)
{
	int			best = -1;

	for (int i = 0; i < plan->nnodes; i++)
		if (!bms_is_member(i, c->holders) &&
			(best < 0 || plan->load[i] < plan->load[best]))
			best = i;
	return best;
}

static void
add_move(MovePlan *plan, PlanReplica *r, int dest)
{
	PlanChunk  *c = &plan->chunks[r->chunk];
	PlanMove   *m = palloc(sizeof(PlanMove));

	m->chunk_id = c->id;
	m->source = plan->nodes[r->node];
	m->destination = plan->nodes[dest];
	m->bytes = r->bytes;
	plan->moves = lappend(plan->moves, m);
	plan->load[r->node] -= r->bytes;
	plan->load[dest] += r->bytes;
	c->holders = bms_del_member(c->holders, r->node);
	c->holders = bms_add_member(c->holders, dest);
	c->busy = true;
	r->node = dest;
}

static bool
balanced(const MovePlan *plan)
{
	double		mean = 0;

	for (int i = 0; i < plan->nnodes; i++)
		mean += plan->load[i];
	mean /= plan->nnodes;
	for (int i = 0; i < plan->nnodes; i++)
		if (fabs(plan->load[i] - mean) > mean * BALANCE_TOLERANCE)
			return false;
	return true;
}

/*
 * The best move off node src: moving b bytes from src to d lowers the sum
 * of squared deviations by 2b(load[src] - load[d] - b), so the chunk whose
 * b(gap - b) is largest, if positive.  NULL when none lowers it.
 */
static PlanReplica *
best_move_off(const MovePlan *plan, int src, int *dest)
{
	PlanReplica *best = NULL;
	double		best_gain = 0;

	for (int i = 0; i < plan->nreplicas; i++)
	{
		PlanReplica *r = &plan->replicas[i];
		const PlanChunk *c = &plan->chunks[r->chunk];
		int			d;
		double		gain;

		if (r->node != src || r->status != 'c' || c->busy || r->bytes <= 0)
			continue;
		d = least_loaded_without(plan, c);
		if (d < 0)
			continue;
		gain = (double) r->bytes * (double) (plan->load[src] - plan->load[d] - r->bytes);
		if (gain > best_gain)
		{
			best = r;
			best_gain = gain;
			*dest = d;
		}
	}
	return best;
}

static void
plan_rebalance(MovePlan *plan)
{
	if (plan->nnodes < 2)
		return;
	/* each move lowers a positive sum and moves a chunk once: it ends */
	while (!balanced(plan))
	{
		int			src = 0;
		int			dest;
		PlanReplica *r;

		for (int i = 1; i < plan->nnodes; i++)
			if (plan->load[i] > plan->load[src])
				src = i;
		r = best_move_off(plan, src, &dest);
		if (r == NULL)
			break;
		add_move(plan, r, dest);
	}
}

static int
replica_bytes_desc(const ListCell *a, const ListCell *b)
{
	const PlanReplica *ra = lfirst(a);
	const PlanReplica *rb = lfirst(b);

	if (ra->bytes != rb->bytes)
		return ra->bytes > rb->bytes ? -1 : 1;
	return ra->chunk - rb->chunk;
}

/* Every replica on the drained node, largest first, where it fits best. */
static void
plan_drain(MovePlan *plan, const char *relname)
{
	int			drained = plan->nnodes;
	List	   *todo = NIL;
	ListCell   *lc;

	for (int i = 0; i < plan->nreplicas; i++)
	{
		PlanReplica *r = &plan->replicas[i];
		PlanChunk  *c = &plan->chunks[r->chunk];

		if (r->node != drained || r->status == 'r')
			continue;
		if (r->status == 's')
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("data node \"%s\" holds a stale replica of chunk %s",
							plan->nodes[drained], c->name),
					 errdetail("A stale replica is moved only once it is up to date."),
					 errhint("Wait until the background worker has brought the node's replicas up to date (hyperdist_information.data_nodes shows it available rather than syncing), then drain it.")));
		if (r->status == 'o' || c->busy)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("chunk %s has a copy or move under way", c->name),
					 errhint("Wait until it ends (hyperdist_information.chunk_copy_operations), then drain data node \"%s\".",
							 plan->nodes[drained])));
		todo = lappend(todo, r);
	}
	list_sort(todo, replica_bytes_desc);
	foreach(lc, todo)
	{
		PlanReplica *r = lfirst(lc);
		int			dest = least_loaded_without(plan, &plan->chunks[r->chunk]);

		if (dest < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no data node can take chunk %s of hypertable \"%s\" from data node \"%s\"",
							plan->chunks[r->chunk].name, relname, plan->nodes[drained]),
					 errdetail("Every other data node of the hypertable that takes new chunks and is available holds the chunk already."),
					 errhint("Attach another data node to the hypertable first.")));
		add_move(plan, r, dest);
	}
}

PG_FUNCTION_INFO_V1(hyperdist_plan_moves);

/*
 * _hyperdist_functions.plan_moves(hypertable, drained): the moves that
 * balance hypertable's data nodes (drained NULL), or that take every
 * replica off data node drained.  One row per move: chunk id, source,
 * destination, bytes.  Reads the sizes in the caller's sessions.
 */
Datum
hyperdist_plan_moves(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	const char *drained = PG_ARGISNULL(1) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(1)));
	MovePlan		plan = {0};
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hypertable must not be NULL")));
	relid = PG_GETARG_OID(0);
	if (!hd_hypertable_registered(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is not a distributed hypertable",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	hd_spi_connect();
	load_nodes(&plan, relid, drained);
	if (drained != NULL && node_index(&plan, drained, false) >= 0)
		elog(ERROR, "data node \"%s\" still takes new chunks", drained);
	load_replicas(&plan, relid);
	if (drained != NULL)
		plan_drain(&plan, get_rel_name(relid));
	else
		plan_rebalance(&plan);

	foreach(lc, plan.moves)
	{
		PlanMove   *m = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false};

		values[0] = Int32GetDatum(m->chunk_id);
		values[1] = hd_spi_name_arg(m->source);
		values[2] = hd_spi_name_arg(m->destination);
		values[3] = Int64GetDatum(m->bytes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	hd_spi_finish();
	return (Datum) 0;
}
