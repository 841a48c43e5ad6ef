/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/analyze.c — ANALYZE of a distributed hypertable or a foreign table.
 *
 * The access node holds no rows, so its statistics are computed from a
 * sample of the data nodes' rows, which PostgreSQL's ANALYZE then treats as
 * it would a local table's sample.  Each data node that holds primary
 * replicas of chunks (one replica of each chunk, so that replicated rows
 * count once) is asked, all of them at once:
 *
 *   1. how many rows and pages those chunks hold: pg_class's row density
 *      times the chunk's current size, as the planner estimates a table.
 *      Chunks never analyzed (or analyzed empty and grown since) have no
 *      density: the node ANALYZEs them first, which its own planner needs
 *      anyway.
 *   2. for a BERNOULLI sample of those chunks' rows, at the rate that gives
 *      the sample size ANALYZE asks for from all nodes together, with a
 *      margin; the surplus is dropped here at random.
 *
 * Rows travel in text format, as few as ANALYZE keeps (30,000 at the
 * default statistics target).  A foreign table of one data node is
 * analyzed the same way, as the one relation it names there.
 *
 * approximate_row_count() reports step 1's estimate.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "common/pg_prng.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "metadata/chunk.h"
#include "metadata/hypertable.h"
#include "fdw/analyze.h"
#include "deparse/deparse.h"
#include "remote/node.h"
#include "fdw/prune.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "spi_plan.h"

/* Sampled rows asked for beyond ANALYZE's target, so that few fall short. */
#define SAMPLE_MARGIN 1.1

/* What one data node holds of the relation, and how to read it there. */
typedef struct NodeSample
{
	Oid			serverid;
	char	   *relation;		/* quoted, qualified name on the node */
	char	   *chunk_filter;	/* NULL: all of it; else "tableoid IN (...)" */
	HdConn	   *conn;
	double		rows;			/* estimated rows in the chunks read */
	double		pages;
} NodeSample;

/*
 * The data nodes to sample, with their sessions: those with primary
 * replicas of chunks.  A node that cannot be reached is down from then on
 * (hd_conn_try_get), and the plan made again reads its chunks from other
 * replicas, if they have any: the plan leaves out the nodes that failed,
 * whatever the health table says of them by now.
 */
static List *
sample_nodes(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	HdHypertable *ht = hd_hypertable_load(relid);
	char	   *relation = hd_deparse_remote_table(relid);
	bool		transactional = IsTransactionBlock();
	List	   *failed = NIL;
	HdChunkPrune everything;
	List	   *nodes;
	ListCell   *lc;

	if (ht == NULL)
	{
		NodeSample *node = palloc0(sizeof(NodeSample));

		node->serverid = GetForeignTable(relid)->serverid;
		node->relation = relation;
		node->conn = hd_conn_get(node->serverid, transactional);
		return list_make1(node);
	}

	hd_prune_compute(&everything, ht, NIL, NIL, NULL);
	do
	{
		nodes = NIL;
		foreach(lc, hd_chunk_read_plan(ht, &everything, failed))
		{
			HdNodeRead *read = lfirst(lc);
			NodeSample *node = palloc0(sizeof(NodeSample));

			node->serverid = read->serverid;
			node->relation = relation;
			node->chunk_filter = hd_deparse_read_filter(read, NULL);
			node->conn = hd_conn_try_get(read->serverid, transactional);
			if (node->conn == NULL)
			{
				failed = lappend_oid(failed, read->serverid);
				break;
			}
			nodes = lappend(nodes, node);
		}
	} while (lc != NULL);
	return nodes;
}

/*
 * Sends each node its size query: estimated rows, pages, and the tables
 * without a known row density.  The set's streams are in the order of nodes.
 */
static HdRequestSet *
start_size_queries(List *nodes)
{
	HdRequestSet *set = hd_reqset_create();
	ListCell   *lc;

	foreach(lc, nodes)
	{
		NodeSample *node = lfirst(lc);

		(void) hd_reqset_query(set, node->conn,
							   hd_deparse_leaf_sizes(node->relation, node->chunk_filter),
							   0, NULL, NULL, HD_ROWS_TEXT);
	}
	return set;
}

/* Reads a size query's row; returns the tables to ANALYZE first, or NULL. */
static char *
finish_size_query(NodeSample *node, HdStream *stream)
{
	char	   *fields[3];
	char	   *unknown;

	/* An aggregate without GROUP BY: exactly one row. */
	if (!hd_stream_next_text_row(stream, fields, 3))
		elog(ERROR, "size query on data node \"%s\" returned no row",
			 hd_conn_node_name(node->conn));
	node->rows = float8in_internal(fields[0], NULL, "double precision", fields[0]);
	node->pages = float8in_internal(fields[1], NULL, "double precision", fields[1]);
	unknown = fields[2] ? pstrdup(fields[2]) : NULL;
	if (hd_stream_next_text_row(stream, fields, 3))
		elog(ERROR, "size query on data node \"%s\" returned more than one row",
			 hd_conn_node_name(node->conn));
	hd_stream_close(stream);
	return unknown;
}

/*
 * Each node's estimated rows and pages, after analyzing there the tables
 * without a known row density.
 */
static void
measure_nodes(List *nodes)
{
	HdRequestSet *sizes = start_size_queries(nodes);
	HdRequestSet *analyses = hd_reqset_create();
	char	  **unknown = palloc0(sizeof(char *) * Max(list_length(nodes), 1));
	ListCell   *lc;

	foreach(lc, nodes)
		unknown[foreach_current_index(lc)] =
			finish_size_query(lfirst(lc),
							  hd_reqset_stream(sizes, foreach_current_index(lc)));

	foreach(lc, nodes)
	{
		char	   *tables = unknown[foreach_current_index(lc)];

		if (tables != NULL)
			(void) hd_reqset_exec(analyses, ((NodeSample *) lfirst(lc))->conn,
								  hd_deparse_analyze(tables), 0, NULL, NULL);
	}
	if (hd_reqset_size(analyses) == 0)
		return;
	hd_reqset_wait(analyses);

	/* Tables the role may not analyze stay unknown and count as empty. */
	sizes = start_size_queries(nodes);
	foreach(lc, nodes)
		(void) finish_size_query(lfirst(lc),
								 hd_reqset_stream(sizes, foreach_current_index(lc)));
}

/* A row of text fields as a tuple of rel (dropped columns NULL). */
static HeapTuple
row_tuple(Relation rel, List *attnums, char **fields, FmgrInfo *infuncs,
		  Oid *ioparams, Datum *values, bool *nulls)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	ListCell   *lc;

	memset(nulls, true, sizeof(bool) * tupdesc->natts);
	foreach(lc, attnums)
	{
		int			a = lfirst_int(lc) - 1;
		char	   *field = fields[foreach_current_index(lc)];

		values[a] = InputFunctionCall(&infuncs[a], field, ioparams[a],
									  TupleDescAttr(tupdesc, a)->atttypmod);
		nulls[a] = field == NULL;
	}
	return heap_form_tuple(tupdesc, values, nulls);
}

/*
 * Reads every node's sample rows (the streams of samples, in the order of
 * nodes) into rows[] (growing it); returns how many.
 */
static int
read_samples(Relation rel, List *nodes, HdRequestSet *samples, List *attnums,
			 HeapTuple **rows, int *cap, int elevel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			natts = tupdesc->natts;
	int			ncols = list_length(attnums);
	FmgrInfo   *infuncs = palloc0(sizeof(FmgrInfo) * natts);
	Oid		   *ioparams = palloc0(sizeof(Oid) * natts);
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *nulls = palloc(sizeof(bool) * natts);
	char	  **fields = palloc(sizeof(char *) * Max(ncols, 1));
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "hyperdist analyze row",
												 ALLOCSET_DEFAULT_SIZES);
	int			n = 0;
	ListCell   *lc;

	foreach(lc, attnums)
	{
		int			a = lfirst_int(lc) - 1;
		Oid			infunc;

		getTypeInputInfo(TupleDescAttr(tupdesc, a)->atttypid, &infunc, &ioparams[a]);
		fmgr_info(infunc, &infuncs[a]);
	}
	foreach(lc, nodes)
	{
		NodeSample *node = lfirst(lc);
		HdStream   *stream = hd_reqset_stream(samples, foreach_current_index(lc));
		int			first = n;

		for (;;)
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);
			bool		more = hd_stream_next_text_row(stream, fields, ncols);
			HeapTuple	tuple = NULL;

			if (more)
				tuple = row_tuple(rel, attnums, fields, infuncs, ioparams,
								  values, nulls);
			MemoryContextSwitchTo(old);
			if (!more)
				break;
			if (n == *cap)
			{
				*cap *= 2;
				*rows = repalloc_huge(*rows, sizeof(HeapTuple) * *cap);
			}
			(*rows)[n++] = heap_copytuple(tuple);
			MemoryContextReset(rowcxt);
		}
		hd_stream_close(stream);
		ereport(elevel,
				(errmsg("\"%s\": data node \"%s\" holds about %.0f rows in %.0f pages, %d rows in sample",
						RelationGetRelationName(rel), hd_conn_node_name(node->conn),
						node->rows, node->pages, n - first)));
	}
	MemoryContextDelete(rowcxt);
	return n;
}

/* Keeps targrows of the n rows, chosen at random (partial Fisher-Yates). */
static int
trim_sample(HeapTuple *rows, int n, int targrows)
{
	if (n <= targrows)
		return n;
	for (int i = 0; i < targrows; i++)
	{
		int			j = i + (int) pg_prng_uint64_range(&pg_global_prng_state, 0,
													   (uint64) (n - 1 - i));
		HeapTuple	t = rows[i];

		rows[i] = rows[j];
		rows[j] = t;
	}
	for (int i = targrows; i < n; i++)
		heap_freetuple(rows[i]);
	return targrows;
}

/* AcquireSampleRowsFunc: see the file header. */
static int
acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows, int targrows,
					double *totalrows, double *totaldeadrows)
{
	List	   *nodes = sample_nodes(rel);
	HdRequestSet *samples = hd_reqset_create();
	StringInfoData columns;
	List	   *attnums;
	double		estimate = 0;
	double		percent;
	int			cap = Max(targrows, 1);
	HeapTuple  *all = palloc(sizeof(HeapTuple) * cap);
	int			n;
	ListCell   *lc;

	measure_nodes(nodes);
	foreach(lc, nodes)
		estimate += ((NodeSample *) lfirst(lc))->rows;
	percent = estimate > 0 ? Min(100.0, 100.0 * targrows * SAMPLE_MARGIN / estimate) : 0;

	initStringInfo(&columns);
	hd_deparse_column_list(&columns, RelationGetRelid(rel),
						   bms_make_singleton(0 - FirstLowInvalidHeapAttributeNumber),
						   &attnums);
	foreach(lc, nodes)
	{
		NodeSample *node = lfirst(lc);

		(void) hd_reqset_query(samples, node->conn,
							   hd_deparse_sample(node->relation, columns.data,
												 node->chunk_filter, percent,
												 targrows),
							   0, NULL, NULL, HD_ROWS_TEXT);
	}
	n = read_samples(rel, nodes, samples, attnums, &all, &cap, elevel);

	/* Without an estimate, what was read is all there is, up to targrows. */
	*totalrows = estimate > 0 ? estimate : n;
	*totaldeadrows = 0;
	n = trim_sample(all, n, targrows);
	memcpy(rows, all, sizeof(HeapTuple) * n);
	return n;
}

bool
hd_analyze_foreign_table(Relation rel, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	List	   *nodes = sample_nodes(rel);
	double		pages = 0;
	ListCell   *lc;

	measure_nodes(nodes);
	foreach(lc, nodes)
		pages += ((NodeSample *) lfirst(lc))->pages;
	*totalpages = (BlockNumber) Min(pages, (double) MaxBlockNumber);
	*func = acquire_sample_rows;
	return true;
}

/*
 * Whether relid's rows are on data nodes: a distributed hypertable, or a
 * foreign table of a data node (a chunk's relation, say).
 */
static bool
is_remote(Oid relid)
{
	if (hd_is_dist_hypertable(relid))
		return true;
	return get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE &&
		hd_server_is_data_node(GetForeignServer(GetForeignTable(relid)->serverid));
}

/*
 * The planner's estimate of a local table's rows (of its leaves, for a
 * partitioned one).
 */
static double
local_row_estimate(Oid relid)
{
	double		rows;

	hd_spi_connect();
	if (hd_spi_execute_once(hd_deparse_leaf_rows(hd_deparse_local_table(relid)),
							0, NULL, NULL, NULL, true, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not estimate the rows of \"%s\"", get_rel_name(relid));
	rows = DatumGetFloat8(hd_spi_value(0, 1, FLOAT8OID, NULL));
	hd_spi_finish();
	return rows;
}

/*
 * approximate_row_count(relation): its rows without counting them.  For a
 * distributed hypertable (or a data node's foreign table) the data nodes'
 * estimate, made as for ANALYZE (replicated chunks counted once; chunks
 * never analyzed are analyzed there first); for a local table the
 * planner's.
 */
PG_FUNCTION_INFO_V1(hyperdist_approximate_row_count);

Datum
hyperdist_approximate_row_count(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	double		rows = 0;
	ListCell   *lc;
	List	   *nodes;

	rel = relation_open(relid, AccessShareLock);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	if (!is_remote(relid))
		rows = local_row_estimate(relid);
	else
	{
		nodes = sample_nodes(rel);
		measure_nodes(nodes);
		foreach(lc, nodes)
			rows += ((NodeSample *) lfirst(lc))->rows;
	}
	relation_close(rel, AccessShareLock);
	PG_RETURN_INT64((int64) rint(rows));
}
