/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/replica.c — reading and writing the state of chunk replicas
 * (see replica.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "metadata/catalog.h"
#include "metadata/replica.h"
#include "spi_plan.h"

const char *
hd_replica_status_name(HdReplicaStatus status)
{
	switch (status)
	{
		case HD_REPLICA_CURRENT:
			return "current";
		case HD_REPLICA_STALE:
			return "stale";
		case HD_REPLICA_COPYING:
			return "copying";
		case HD_REPLICA_RETIRED:
			return "retired";
	}
	return NULL;
}

HdReplicaStatus
hd_replica_status_parse(const char *name)
{
	if (strcmp(name, "current") == 0)
		return HD_REPLICA_CURRENT;
	if (strcmp(name, "stale") == 0)
		return HD_REPLICA_STALE;
	if (strcmp(name, "copying") == 0)
		return HD_REPLICA_COPYING;
	if (strcmp(name, "retired") == 0)
		return HD_REPLICA_RETIRED;
	elog(ERROR, "unknown chunk replica status \"%s\"", name);
	return HD_REPLICA_STALE;	/* keep compiler quiet */
}

/* Runs one statement on (chunk_id, node_name[, text]) as the catalog's owner. */
static void
write_replica(const char *sql, int32 chunk_id, const char *node_name,
			  const char *text)
{
	Oid			types[3] = {INT4OID, NAMEOID, TEXTOID};
	Datum		values[3];
	HdCatalogWriter writer;

	hd_spi_connect();
	values[0] = Int32GetDatum(chunk_id);
	values[1] = hd_spi_name_arg(node_name);
	values[2] = text != NULL ? CStringGetTextDatum(text) : (Datum) 0;
	hd_catalog_writer_begin(&writer);
	hd_spi_execute(sql, text != NULL ? 3 : 2, types, values, NULL, false, 0);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
}

void
hd_replica_mark_stale(int32 chunk_id, const char *node_name)
{
	write_replica("UPDATE _hyperdist_catalog.chunk_data_node SET status = 'stale'"
				  " WHERE chunk_id = $1 AND node_name = $2 AND status <> 'stale'",
				  chunk_id, node_name, NULL);
}

void
hd_replica_mark_current(int32 chunk_id, const char *node_name)
{
	write_replica("UPDATE _hyperdist_catalog.chunk_data_node SET status = 'current'"
				  " WHERE chunk_id = $1 AND node_name = $2",
				  chunk_id, node_name, NULL);
}

void
hd_replica_add(int32 chunk_id, const char *node_name, HdReplicaStatus status)
{
	write_replica("INSERT INTO _hyperdist_catalog.chunk_data_node"
				  " (chunk_id, node_name, replica, status)"
				  " SELECT $1, $2, coalesce(max(replica) + 1, 0), $3"
				  " FROM _hyperdist_catalog.chunk_data_node WHERE chunk_id = $1",
				  chunk_id, node_name, hd_replica_status_name(status));
}

void
hd_replica_remove(int32 chunk_id, const char *node_name)
{
	write_replica("DELETE FROM _hyperdist_catalog.chunk_data_node"
				  " WHERE chunk_id = $1 AND node_name = $2",
				  chunk_id, node_name, NULL);
}

void
hd_replica_switch(int32 chunk_id, const char *dest, const char *source)
{
	if (source == NULL)
	{
		hd_replica_mark_current(chunk_id, dest);
		return;
	}
	/* one statement: the new replica numbers are computed before any change */
	write_replica("UPDATE _hyperdist_catalog.chunk_data_node cdn"
				  "   SET status = CASE WHEN cdn.node_name = $2 THEN 'current' ELSE 'retired' END,"
				  "       replica = CASE WHEN cdn.node_name = $2 THEN src.replica"
				  "                      ELSE src.last + 1 END"
				  "  FROM (SELECT s.replica, (SELECT max(replica)"
				  "                            FROM _hyperdist_catalog.chunk_data_node"
				  "                           WHERE chunk_id = $1) AS last"
				  "          FROM _hyperdist_catalog.chunk_data_node s"
				  "         WHERE s.chunk_id = $1 AND s.node_name = $3::name) src"
				  " WHERE cdn.chunk_id = $1 AND cdn.node_name IN ($2, $3::name)",
				  chunk_id, dest, source);
	/* the chunk's relation here names its first replica's node */
	write_replica("SELECT _hyperdist_functions.drop_chunk_relations(ARRAY[$1])",
				  chunk_id, dest, NULL);
	write_replica("SELECT _hyperdist_functions.create_chunk_relation($1)",
				  chunk_id, dest, NULL);
}

/* A name[] column of the current SPI row as a List of C strings. */
static List *
name_list(uint64 row, int col)
{
	bool		isnull;
	Datum		d = hd_spi_value(row, col, TEXTARRAYOID, &isnull);
	List	   *names = NIL;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			names = lappend(names, TextDatumGetCString(elems[i]));
	return names;
}

/*
 * One row per stale replica, and one per replica an under-replicated
 * chunk lacks (node NULL), with the chunk's current and stale nodes; a
 * chunk that a copy operation is working on has none.
 */
#define REPLICA_WORK_SQL \
	"WITH c AS (" \
	"  SELECT ch.id, ch.hypertable_id, h.relid, ch.schema_name, ch.table_name," \
	"         h.replication_factor," \
	"         array_agg(cdn.node_name::text ORDER BY cdn.replica)" \
	"           FILTER (WHERE cdn.status = 'current') AS current_nodes," \
	"         array_agg(cdn.node_name::text ORDER BY cdn.replica)" \
	"           FILTER (WHERE cdn.status = 'stale') AS stale_nodes," \
	"         count(cdn.node_name)" \
	"           FILTER (WHERE cdn.status IN ('current', 'stale')) AS nreplicas" \
	"    FROM _hyperdist_catalog.chunk ch" \
	"    JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id" \
	"    LEFT JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = ch.id" \
	"   WHERE NOT EXISTS (SELECT FROM _hyperdist_catalog.chunk_copy_operation o" \
	"                      WHERE o.chunk_id = ch.id" \
	"                        AND o.completed_stage NOT IN ('complete', 'failed', 'cancelled'))" \
	"   GROUP BY ch.id, h.id)" \
	" SELECT c.id, c.hypertable_id, c.relid, c.schema_name::text, c.table_name::text," \
	"        s.node::text, c.current_nodes, c.stale_nodes, c.replication_factor" \
	"   FROM c CROSS JOIN LATERAL (" \
	"        SELECT unnest(c.stale_nodes) AS node" \
	"        UNION ALL" \
	"        SELECT NULL FROM generate_series(1, c.replication_factor - c.nreplicas)) s" \
	"  ORDER BY c.id, s.node NULLS LAST"

List *
hd_replica_work(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *work = NIL;

	hd_spi_connect();
	hd_spi_execute(REPLICA_WORK_SQL, 0, NULL, NULL, NULL, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi_cxt = MemoryContextSwitchTo(cxt);
		HdReplicaWork *w = palloc0(sizeof(HdReplicaWork));
		bool		isnull;
		Datum		node;

		w->chunk_id = DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL));
		w->hypertable_id = DatumGetInt32(hd_spi_value(i, 2, INT4OID, NULL));
		w->hypertable_relid = DatumGetObjectId(hd_spi_value(i, 3, OIDOID, NULL));
		w->chunk_schema = TextDatumGetCString(hd_spi_value(i, 4, TEXTOID, NULL));
		w->chunk_table = TextDatumGetCString(hd_spi_value(i, 5, TEXTOID, NULL));
		node = hd_spi_value(i, 6, TEXTOID, &isnull);
		w->node_name = isnull ? NULL : TextDatumGetCString(node);
		w->current_nodes = name_list(i, 7);
		w->other_nodes = name_list(i, 8);
		w->desired = DatumGetInt16(hd_spi_value(i, 9, INT2OID, NULL));
		work = lappend(work, w);
		MemoryContextSwitchTo(spi_cxt);
	}
	hd_spi_finish();
	return work;
}
