/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/catalog_read.c — reading _hyperdist_catalog: typed rows for C.
 *
 * Each query text is a constant, so its plan is kept for the backend's life
 * (spi_plan.c) and it runs with search_path = pg_catalog, pg_temp.  Results
 * are checked (row counts, column types, NULLs) and copied out of SPI into
 * the caller's memory context.  Queries whose rows another transaction may
 * have just committed (chunk creation waits for such a transaction's lock,
 * then looks again; DROP and TRUNCATE) run as not read-only, which gives
 * each a new snapshot under READ COMMITTED; those that load the catalog
 * cache read with the snapshot the cache pushed.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "metadata/catalog_read.h"
#include "spi_plan.h"

/* Called for each row of a query's result, with the caller's argument. */
typedef void (*RowFunc) (uint64 row, void *arg);

/*
 * Runs the catalog query sql (at most count rows; 0: all) and calls
 * each_row, if any, for each row of its result in the caller's memory
 * context; returns how many rows there were.
 */
static uint64
read_rows(const char *sql, int nargs, Oid *types, Datum *values, bool read_only,
		  long count, RowFunc each_row, void *arg)
{
	MemoryContext caller = hd_spi_connect();
	uint64		nrows;

	hd_spi_execute(sql, nargs, types, values, NULL, read_only, count);
	nrows = SPI_processed;
	MemoryContextSwitchTo(caller);
	for (uint64 i = 0; each_row != NULL && i < nrows; i++)
		each_row(i, arg);
	hd_spi_finish();
	return nrows;
}

static int32
int4_value(uint64 row, int col)
{
	return DatumGetInt32(hd_spi_value(row, col, INT4OID, NULL));
}

static int16
int2_value(uint64 row, int col)
{
	return DatumGetInt16(hd_spi_value(row, col, INT2OID, NULL));
}

static int64
int8_value(uint64 row, int col)
{
	return DatumGetInt64(hd_spi_value(row, col, INT8OID, NULL));
}

static char *
name_value(uint64 row, int col)
{
	return pstrdup(NameStr(*DatumGetName(hd_spi_value(row, col, NAMEOID, NULL))));
}

/* The node names of a name[] column, as C strings. */
static List *
node_names_value(uint64 row, int col)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *names = NIL;

	deconstruct_array(DatumGetArrayTypeP(hd_spi_value(row, col, NAMEARRAYOID, NULL)),
					  NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			elog(ERROR, "column %d of the query's result holds a NULL node name", col);
		names = lappend(names, pstrdup(NameStr(*DatumGetName(elems[i]))));
	}
	return names;
}

/* The strings of a nullable text[] column (NIL for NULL). */
static List *
text_list_value(uint64 row, int col)
{
	bool		isnull;
	Datum		array = hd_spi_value(row, col, TEXTARRAYOID, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *strings = NIL;

	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			elog(ERROR, "column %d of the query's result holds a NULL element", col);
		strings = lappend(strings, TextDatumGetCString(elems[i]));
	}
	return strings;
}

/* RowFuncs adding column 1 to the List * at arg. */
static void
add_oid(uint64 row, void *arg)
{
	List	  **oids = arg;

	*oids = lappend_oid(*oids, DatumGetObjectId(hd_spi_value(row, 1, OIDOID, NULL)));
}

static void
add_name(uint64 row, void *arg)
{
	List	  **names = arg;

	*names = lappend(*names, name_value(row, 1));
}

/* ---- hypertables ------------------------------------------------------------ */

static void
hypertable_row(uint64 row, void *arg)
{
	HdCatalogHypertable *ht = arg;

	ht->id = int4_value(row, 1);
	ht->assoc_schema = name_value(row, 2);
	ht->assoc_prefix = name_value(row, 3);
	ht->replication_factor = int2_value(row, 4);
	ht->chunk_options = text_list_value(row, 5);
	ht->has_caggs = DatumGetBool(hd_spi_value(row, 6, BOOLOID, NULL));
}

bool
hd_catalog_hypertable(Oid relid, HdCatalogHypertable *row)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	return read_rows("SELECT id, associated_schema_name, associated_table_prefix,"
					 " replication_factor, chunk_options, EXISTS (SELECT"
					 "  FROM _hyperdist_catalog.continuous_agg ca WHERE ca.hypertable_id = h.id)"
					 " FROM _hyperdist_catalog.hypertable h WHERE relid = $1",
					 1, types, values, true, 1,
					 row != NULL ? hypertable_row : NULL, row) == 1;
}

static void
dimension_row(uint64 row, void *arg)
{
	List	  **dims = arg;
	HdCatalogDimension *dim = palloc0(sizeof(HdCatalogDimension));
	bool		isnull;
	Datum		interval = hd_spi_value(row, 4, INT8OID, &isnull);

	dim->id = int4_value(row, 1);
	dim->attnum = int2_value(row, 2);
	dim->type = DatumGetObjectId(hd_spi_value(row, 3, OIDOID, NULL));
	dim->is_time = !isnull;
	if (dim->is_time)
		dim->interval_length = DatumGetInt64(interval);
	else
		dim->num_partitions = int2_value(row, 5);
	*dims = lappend(*dims, dim);
}

List *
hd_catalog_dimensions(int32 ht_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ht_id)};
	List	   *dims = NIL;

	read_rows("SELECT id, attnum, column_type::oid, interval_length, num_partitions"
			  " FROM _hyperdist_catalog.dimension WHERE hypertable_id = $1",
			  1, types, values, true, 0, dimension_row, &dims);
	return dims;
}

List *
hd_catalog_hypertable_data_nodes(int32 ht_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ht_id)};
	List	   *names = NIL;

	read_rows("SELECT node_name FROM _hyperdist_catalog.hypertable_data_node"
			  " WHERE hypertable_id = $1 ORDER BY node_name",
			  1, types, values, true, 0, add_name, &names);
	return names;
}

bool
hd_catalog_has_integer_now_func(int32 ht_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ht_id)};

	return read_rows("SELECT FROM _hyperdist_catalog.dimension"
					 " WHERE hypertable_id = $1 AND integer_now_func IS NOT NULL",
					 1, types, values, true, 1, NULL, NULL) == 1;
}

bool
hd_catalog_node_attached(int32 ht_id, const char *node)
{
	Oid			types[2] = {INT4OID, NAMEOID};
	Datum		values[2] = {Int32GetDatum(ht_id), hd_spi_name_arg(node)};

	return read_rows("SELECT FROM _hyperdist_catalog.hypertable_data_node"
					 " WHERE hypertable_id = $1 AND node_name = $2",
					 2, types, values, true, 1, NULL, NULL) == 1;
}

bool
hd_catalog_is_reference_table(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	return read_rows("SELECT FROM _hyperdist_catalog.reference_table"
					 " WHERE relid = $1",
					 1, types, values, true, 1, NULL, NULL) == 1;
}

static void
add_known(uint64 row, void *arg)
{
	HdCatalogKnown *known = arg;
	Oid			relid = DatumGetObjectId(hd_spi_value(row, 1, OIDOID, NULL));

	switch (DatumGetChar(hd_spi_value(row, 2, CHAROID, NULL)))
	{
		case 'h':
			known->hypertables = lappend_oid(known->hypertables, relid);
			break;
		case 'r':
			known->reference_tables = lappend_oid(known->reference_tables, relid);
			break;
		default:
			known->caggs = lappend_oid(known->caggs, relid);
	}
}

/*
 * Not read-only: the statement that dropped them may have deleted rows of
 * these relations already (DROP TABLE of a hypertable), which its snapshot
 * does not show gone.
 */
void
hd_catalog_known_among(ArrayType *relids, HdCatalogKnown *known)
{
	Oid			type = OIDARRAYOID;
	Datum		value = PointerGetDatum(relids);

	memset(known, 0, sizeof(HdCatalogKnown));
	read_rows("SELECT relid, 'h'::\"char\" FROM _hyperdist_catalog.hypertable"
			  " WHERE relid = ANY ($1)"
			  " UNION ALL SELECT relid, 'r' FROM _hyperdist_catalog.reference_table"
			  " WHERE relid = ANY ($1)"
			  " UNION ALL SELECT view_relid, 'c' FROM _hyperdist_catalog.continuous_agg"
			  " WHERE view_relid = ANY ($1)",
			  1, &type, &value, false, 0, add_known, known);
}

/* relids a query of the catalog returns for schema $1 and owner $2 */
static List *
relids_in(const char *sql, Oid nspid, Oid owner)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2] = {ObjectIdGetDatum(nspid), ObjectIdGetDatum(owner)};
	List	   *relids = NIL;

	read_rows(sql, 2, types, values, true, 0, add_oid, &relids);
	return relids;
}

List *
hd_catalog_hypertables_in(Oid nspid, Oid owner)
{
	return relids_in("SELECT h.relid FROM _hyperdist_catalog.hypertable h"
					 " JOIN pg_class c ON c.oid = h.relid"
					 " WHERE ($1 = 0 OR c.relnamespace = $1) AND ($2 = 0 OR c.relowner = $2)"
					 " ORDER BY h.id",
					 nspid, owner);
}

List *
hd_catalog_reference_tables_in(Oid nspid, Oid owner)
{
	return relids_in("SELECT r.relid FROM _hyperdist_catalog.reference_table r"
					 " JOIN pg_class c ON c.oid = r.relid"
					 " WHERE ($1 = 0 OR c.relnamespace = $1) AND ($2 = 0 OR c.relowner = $2)"
					 " ORDER BY r.relid",
					 nspid, owner);
}

List *
hd_catalog_caggs_in(Oid nspid, Oid owner)
{
	return relids_in("SELECT ca.view_relid FROM _hyperdist_catalog.continuous_agg ca"
					 " JOIN pg_class c ON c.oid = ca.view_relid"
					 " WHERE ($1 = 0 OR c.relnamespace = $1) AND ($2 = 0 OR c.relowner = $2)"
					 " ORDER BY ca.id",
					 nspid, owner);
}

Oid
hd_catalog_hypertable_of_index(Oid nspid, const char *index_name)
{
	Oid			types[2] = {OIDOID, NAMEOID};
	Datum		values[2] = {ObjectIdGetDatum(nspid), hd_spi_name_arg(index_name)};
	List	   *relids = NIL;

	read_rows("SELECT h.relid FROM _hyperdist_catalog.hypertable h"
			  " JOIN _hyperdist_catalog.hypertable_index i ON i.hypertable_id = h.id"
			  " JOIN pg_class c ON c.oid = h.relid"
			  " WHERE c.relnamespace = $1 AND i.index_name = $2",
			  2, types, values, true, 1, add_oid, &relids);
	return relids != NIL ? linitial_oid(relids) : InvalidOid;
}

/* ---- chunks ------------------------------------------------------------------ */

static void
relation_row(uint64 row, void *arg)
{
	List	  **rels = arg;

	*rels = lappend(*rels, makeRangeVar(name_value(row, 1), name_value(row, 2), -1));
}

List *
hd_catalog_chunk_relations(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	List	   *rels = NIL;

	read_rows("SELECT c.schema_name, c.table_name FROM _hyperdist_catalog.chunk c"
			  " JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id"
			  " WHERE h.relid = $1 ORDER BY c.id",
			  1, types, values, true, 0, relation_row, &rels);
	return rels;
}

static void
ids_row(uint64 row, void *arg)
{
	*(ArrayType **) arg = DatumGetArrayTypePCopy(hd_spi_value(row, 1, INT4ARRAYOID, NULL));
}

ArrayType *
hd_catalog_chunk_ids(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	ArrayType  *ids = NULL;

	/* an aggregate without GROUP BY: one row */
	if (read_rows("SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}')"
				  " FROM _hyperdist_catalog.chunk c"
				  " JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id"
				  " WHERE h.relid = $1", 1, types, values, false, 0, ids_row, &ids) != 1)
		elog(ERROR, "no chunk ids read for relation %u", relid);
	return ids;
}

/*
 * A chunk's replicas from two arrays in replica order: the nodes' names
 * (name[]) and whether each is current (bool[]).
 */
static List *
replicas_value(uint64 row, int names_col, int current_col)
{
	List	   *names = node_names_value(row, names_col);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *replicas = NIL;
	ListCell   *lc;

	deconstruct_array(DatumGetArrayTypeP(hd_spi_value(row, current_col, BOOLARRAYOID, NULL)),
					  BOOLOID, 1, true, TYPALIGN_CHAR, &elems, &nulls, &n);
	if (n != list_length(names))
		elog(ERROR, "columns %d and %d of the query's result differ in length",
			 names_col, current_col);
	foreach(lc, names)
	{
		HdCatalogReplica *r = palloc(sizeof(HdCatalogReplica));
		int			i = foreach_current_index(lc);

		if (nulls[i])
			elog(ERROR, "column %d of the query's result holds a NULL", current_col);
		r->node_name = lfirst(lc);
		r->current = DatumGetBool(elems[i]);
		replicas = lappend(replicas, r);
	}
	return replicas;
}

static void
chunk_row(uint64 row, void *arg)
{
	List	  **chunks = arg;
	HdCatalogChunk *c = palloc(sizeof(HdCatalogChunk));

	c->id = int4_value(row, 1);
	c->range_start = int8_value(row, 2);
	c->range_end = int8_value(row, 3);
	c->num_partitions = int2_value(row, 4);
	c->space_partition = int2_value(row, 5);
	c->name = TextDatumGetCString(hd_spi_value(row, 6, TEXTOID, NULL));
	c->replicas = replicas_value(row, 7, 8);
	*chunks = lappend(*chunks, c);
}

List *
hd_catalog_chunks(int32 ht_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ht_id)};
	List	   *chunks = NIL;

	read_rows("SELECT c.id, ts.range_start, ts.range_end, ts.num_partitions,"
			  "       c.space_partition, format('%I.%I', c.schema_name, c.table_name),"
			  "       array_agg(cdn.node_name ORDER BY cdn.replica),"
			  "       array_agg(cdn.status = 'current' ORDER BY cdn.replica)"
			  "  FROM _hyperdist_catalog.chunk c"
			  "  JOIN _hyperdist_catalog.time_slice ts ON ts.id = c.time_slice_id"
			  "  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id"
			  " WHERE c.hypertable_id = $1"
			  " GROUP BY c.id, ts.id ORDER BY c.id",
			  1, types, values, true, 0, chunk_row, &chunks);
	return chunks;
}

/* ---- chunk creation ------------------------------------------------------------- */

static void
slice_row(uint64 row, void *arg)
{
	HdCatalogSlice *slice = arg;

	slice->id = int4_value(row, 1);
	slice->start = int8_value(row, 2);
	slice->end = int8_value(row, 3);
	slice->num_partitions = int2_value(row, 4);
}

bool
hd_catalog_time_slice_at(int32 ht_id, int64 time, HdCatalogSlice *slice)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(ht_id), Int64GetDatum(time)};

	return read_rows("SELECT id, range_start, range_end, num_partitions"
					 " FROM _hyperdist_catalog.time_slice"
					 " WHERE hypertable_id = $1 AND range_start <= $2 AND range_end > $2",
					 2, types, values, false, 1, slice_row, slice) == 1;
}

static void
chunk_at_row(uint64 row, void *arg)
{
	HdCatalogChunk *c = arg;

	c->id = int4_value(row, 1);
	c->name = TextDatumGetCString(hd_spi_value(row, 2, TEXTOID, NULL));
	c->replicas = replicas_value(row, 3, 4);
}

bool
hd_catalog_chunk_at(int32 slice_id, int16 partition, HdCatalogChunk *chunk)
{
	Oid			types[2] = {INT4OID, INT2OID};
	Datum		values[2] = {Int32GetDatum(slice_id), Int16GetDatum(partition)};

	memset(chunk, 0, sizeof(HdCatalogChunk));
	return read_rows("SELECT c.id, format('%I.%I', c.schema_name, c.table_name),"
					 "       array_agg(cdn.node_name ORDER BY cdn.replica),"
					 "       array_agg(cdn.status = 'current' ORDER BY cdn.replica)"
					 "  FROM _hyperdist_catalog.chunk c"
					 "  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id"
					 " WHERE c.time_slice_id = $1 AND c.space_partition = $2"
					 " GROUP BY c.id",
					 2, types, values, false, 1, chunk_at_row, chunk) == 1;
}

static void
placement_row(uint64 row, void *arg)
{
	*(List **) arg = node_names_value(row, 1);
}

/*
 * _hyperdist_functions.new_chunk_nodes (sql/catalog.sql): the placement
 * map's entry for key, without the nodes in down, completed from the
 * hypertable's other nodes that take new chunks.
 */
List *
hd_catalog_new_chunk_nodes(int32 ht_id, int64 key, List *down)
{
	Oid			types[3] = {INT4OID, INT8OID, NAMEARRAYOID};
	Datum		values[3];
	Datum	   *names = palloc(sizeof(Datum) * Max(list_length(down), 1));
	List	   *nodes = NIL;
	ListCell   *lc;

	foreach(lc, down)
		names[foreach_current_index(lc)] = hd_spi_name_arg(lfirst(lc));
	values[0] = Int32GetDatum(ht_id);
	values[1] = Int64GetDatum(key);
	values[2] = PointerGetDatum(construct_array(names, list_length(down), NAMEOID,
												NAMEDATALEN, false, TYPALIGN_CHAR));
	read_rows("SELECT _hyperdist_functions.new_chunk_nodes($1, $2, $3)",
			  3, types, values, false, 1, placement_row, &nodes);
	return nodes;
}

/* ---- replica copies ------------------------------------------------------------- */

static void
place_row(uint64 row, void *arg)
{
	HdCatalogChunkPlace *place = arg;

	place->hypertable_relid = DatumGetObjectId(hd_spi_value(row, 1, OIDOID, NULL));
	place->schema_name = name_value(row, 2);
	place->table_name = name_value(row, 3);
	place->slice_id = int4_value(row, 4);
	place->range_start = int8_value(row, 5);
	place->range_end = int8_value(row, 6);
	place->num_partitions = int2_value(row, 7);
	place->space_partition = int2_value(row, 8);
}

bool
hd_catalog_chunk_place(int32 chunk_id, HdCatalogChunkPlace *place)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chunk_id)};

	return read_rows("SELECT h.relid, c.schema_name, c.table_name, ts.id,"
					 "       ts.range_start, ts.range_end, ts.num_partitions,"
					 "       c.space_partition"
					 "  FROM _hyperdist_catalog.chunk c"
					 "  JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id"
					 "  JOIN _hyperdist_catalog.time_slice ts ON ts.id = c.time_slice_id"
					 " WHERE c.id = $1", 1, types, values, false, 1,
					 place_row, place) == 1;
}

static void
status_row(uint64 row, void *arg)
{
	*(char **) arg = TextDatumGetCString(hd_spi_value(row, 1, TEXTOID, NULL));
}

char *
hd_catalog_replica_status(int32 chunk_id, const char *node)
{
	Oid			types[2] = {INT4OID, NAMEOID};
	Datum		values[2] = {Int32GetDatum(chunk_id), hd_spi_name_arg(node)};
	char	   *status = NULL;

	read_rows("SELECT status::text FROM _hyperdist_catalog.chunk_data_node"
			  " WHERE chunk_id = $1 AND node_name = $2",
			  2, types, values, false, 1, status_row, &status);
	return status;
}

/*
 * chunk_id's replicas that writes concern (current and stale ones) as
 * "node:status,...", by node.
 */
static char *
replicas_signature(int32 chunk_id, bool latest)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chunk_id)};
	char	   *signature = NULL;

	if (latest)
		PushActiveSnapshot(GetLatestSnapshot());
	read_rows("SELECT coalesce(string_agg(node_name || ':' || status, ',' ORDER BY node_name), '')"
			  "  FROM _hyperdist_catalog.chunk_data_node"
			  " WHERE chunk_id = $1 AND status IN ('current', 'stale')",
			  1, types, values, latest, 1, status_row, &signature);
	if (latest)
		PopActiveSnapshot();
	return signature;
}

bool
hd_catalog_replicas_changed(int32 chunk_id)
{
	return strcmp(replicas_signature(chunk_id, false),
				  replicas_signature(chunk_id, true)) != 0;
}

List *
hd_catalog_replica_candidates(int32 chunk_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(chunk_id)};
	List	   *names = NIL;

	read_rows("SELECT hdn.node_name"
			  "  FROM _hyperdist_catalog.chunk c"
			  "  JOIN _hyperdist_catalog.hypertable_data_node hdn"
			  "    ON hdn.hypertable_id = c.hypertable_id AND NOT hdn.block_chunks"
			  " WHERE c.id = $1 AND NOT EXISTS ("
			  "   SELECT FROM _hyperdist_catalog.chunk_data_node cdn"
			  "    WHERE cdn.chunk_id = c.id AND cdn.node_name = hdn.node_name)"
			  " ORDER BY (SELECT count(*) FROM _hyperdist_catalog.chunk_data_node cdn"
			  "            WHERE cdn.node_name = hdn.node_name), hdn.node_name",
			  1, types, values, false, 0, add_name, &names);
	return names;
}

static void
orphan_row(uint64 row, void *arg)
{
	List	  **orphans = arg;
	HdCatalogOrphan *o = palloc(sizeof(HdCatalogOrphan));

	o->chunk_id = int4_value(row, 1);
	o->name = TextDatumGetCString(hd_spi_value(row, 2, TEXTOID, NULL));
	o->stale_nodes = node_names_value(row, 3);
	*orphans = lappend(*orphans, o);
}

List *
hd_catalog_chunks_current_only_on(const char *node)
{
	Oid			types[1] = {NAMEOID};
	Datum		values[1] = {hd_spi_name_arg(node)};
	List	   *orphans = NIL;

	read_rows("SELECT c.id, format('%I.%I', c.schema_name, c.table_name),"
			  "       coalesce(array_agg(cdn.node_name ORDER BY cdn.replica)"
			  "                FILTER (WHERE cdn.node_name <> $1), '{}')"
			  "  FROM _hyperdist_catalog.chunk c"
			  "  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id"
			  " GROUP BY c.id"
			  " HAVING bool_or(cdn.node_name = $1 AND cdn.status = 'current')"
			  "    AND NOT bool_or(cdn.node_name <> $1 AND cdn.status = 'current')"
			  " ORDER BY c.id",
			  1, types, values, false, 0, orphan_row, &orphans);
	return orphans;
}

/* ---- chunk copy operations ---------------------------------------------------- */

static void
id_row(uint64 row, void *arg)
{
	*(int32 *) arg = int4_value(row, 1);
}

int32
hd_catalog_chunk_of_relation(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	int32		chunk_id = 0;

	read_rows("SELECT ch.id FROM _hyperdist_catalog.chunk ch"
			  "  JOIN pg_catalog.pg_class c ON c.relname = ch.table_name"
			  "  JOIN pg_catalog.pg_namespace n"
			  "    ON n.oid = c.relnamespace AND n.nspname = ch.schema_name"
			  " WHERE c.oid = $1",
			  1, types, values, false, 1, id_row, &chunk_id);
	return chunk_id;
}

/* ---- continuous aggregates ------------------------------------------------- */

static char *
text_value(uint64 row, int col)
{
	return TextDatumGetCString(hd_spi_value(row, col, TEXTOID, NULL));
}

static void
cagg_row(uint64 row, void *arg)
{
	HdCatalogCagg *cagg = arg;

	cagg->id = int4_value(row, 1);
	cagg->view_relid = DatumGetObjectId(hd_spi_value(row, 2, OIDOID, NULL));
	cagg->mat_relid = DatumGetObjectId(hd_spi_value(row, 3, OIDOID, NULL));
	cagg->hypertable_id = int4_value(row, 4);
	cagg->bucket_column = name_value(row, 5);
	cagg->bucket_sql = text_value(row, 6);
	cagg->bucket_width_sql = text_value(row, 7);
	cagg->refresh_sql = text_value(row, 8);
	cagg->realtime_sql = text_value(row, 9);
	cagg->definition = text_value(row, 10);
	cagg->materialized_only = DatumGetBool(hd_spi_value(row, 11, BOOLOID, NULL));
}

bool
hd_catalog_cagg(Oid view_relid, HdCatalogCagg *row)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(view_relid)};

	return read_rows("SELECT id, view_relid, mat_relid, hypertable_id, bucket_column,"
					 " bucket_sql, bucket_width_sql, refresh_sql, realtime_sql,"
					 " definition, materialized_only FROM _hyperdist_catalog.continuous_agg"
					 " WHERE view_relid = $1", 1, types, values, false, 1,
					 row != NULL ? cagg_row : NULL, row) == 1;
}
