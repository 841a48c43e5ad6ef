/*
 * metadata/hypertable.c — loading distributed hypertables from the catalog.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "metadata/cache.h"
#include "metadata/dimension.h"
#include "remote/node.h"
#include "metadata/hypertable.h"
#include "spi_plan.h"

bool
hd_is_dist_hypertable(Oid relid)
{
	HeapTuple	tup;
	Oid			serverid;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		return false;
	tup = SearchSysCache1(FOREIGNTABLEREL, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return false;
	serverid = ((Form_pg_foreign_table) GETSTRUCT(tup))->ftserver;
	ReleaseSysCache(tup);
	return serverid == hd_hypertables_server_oid();
}

static char *
spi_text(HeapTuple tup, int col)
{
	return SPI_getvalue(tup, SPI_tuptable->tupdesc, col);
}

static int64
spi_int64(HeapTuple tup, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(tup, SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

static Oid
default_btree_opfamily(Oid type)
{
	Oid			opclass = GetDefaultOpClass(type, BTREE_AM_OID);

	return OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
}

static void
load_dimensions(HdHypertable *ht, MemoryContext cxt)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(ht->id)};

	hd_spi_execute("SELECT d.id, d.attnum::int, d.column_type::oid::int8,"
						  " d.interval_length, d.num_partitions::int8"
						  " FROM _hyperdist_catalog.dimension d"
						  " WHERE d.hypertable_id = $1",
						  1, argtypes, args, NULL, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		HdDimension *dim;
		int64		ival = spi_int64(tup, 4, &isnull);

		dim = isnull ? &ht->space : &ht->time;
		dim->id = (int32) spi_int64(tup, 1, &isnull);
		dim->attnum = (AttrNumber) spi_int64(tup, 2, &isnull);
		dim->type = (Oid) spi_int64(tup, 3, &isnull);
		dim->column_name = MemoryContextStrdup(cxt, get_attname(ht->relid, dim->attnum, false));
		dim->btree_opfamily = default_btree_opfamily(dim->type);
		if (dim == &ht->time)
			dim->interval_length = ival;
		else
		{
			ht->has_space = true;
			dim->num_partitions = (int16) spi_int64(tup, 5, &isnull);
			hd_dimension_init_hash(dim, ht->relid, cxt);
		}
	}
}

static void
load_data_nodes(HdHypertable *ht, MemoryContext cxt)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(ht->id)};

	hd_spi_execute("SELECT node_name FROM _hyperdist_catalog.hypertable_data_node"
						  " WHERE hypertable_id = $1 ORDER BY node_name",
						  1, argtypes, args, NULL, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = spi_text(SPI_tuptable->vals[i], 1);
		MemoryContext spicxt = MemoryContextSwitchTo(cxt);

		ht->data_nodes = lappend_oid(ht->data_nodes, get_foreign_server_oid(name, false));
		MemoryContextSwitchTo(spicxt);
	}
}

bool
hd_hypertable_registered(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	bool		found;

	if (!hd_is_dist_hypertable(relid))
		return false;
	SPI_connect();
	hd_spi_execute("SELECT FROM _hyperdist_catalog.hypertable WHERE relid = $1",
				   1, argtypes, args, NULL, true, 1);
	found = SPI_processed == 1;
	SPI_finish();
	return found;
}

HdHypertable *
hd_hypertable_load(Oid relid)
{
	if (!hd_is_dist_hypertable(relid))
		return NULL;
	return hd_catalog_cache_hypertable(relid);
}

HdHypertable *
hd_hypertable_read(Oid relid, MemoryContext cxt)
{
	HdHypertable *ht = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};

	SPI_connect();
	hd_spi_execute("SELECT id, associated_schema_name, associated_table_prefix,"
						  " replication_factor FROM _hyperdist_catalog.hypertable"
						  " WHERE relid = $1",
						  1, argtypes, args, NULL, true, 1);
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		bool		isnull;
		MemoryContext spicxt = MemoryContextSwitchTo(cxt);

		ht = palloc0(sizeof(HdHypertable));
		ht->relid = relid;
		ht->id = (int32) spi_int64(tup, 1, &isnull);
		ht->assoc_schema = pstrdup(spi_text(tup, 2));
		ht->assoc_prefix = pstrdup(spi_text(tup, 3));
		ht->replication_factor = (int16) spi_int64(tup, 4, &isnull);
		ht->schema_name = get_namespace_name(get_rel_namespace(relid));
		ht->table_name = get_rel_name(relid);
		MemoryContextSwitchTo(spicxt);
		load_dimensions(ht, cxt);
		load_data_nodes(ht, cxt);
	}
	SPI_finish();

	if (ht == NULL || ht->time.attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("foreign table \"%s\" has no distributed hypertable catalog entry",
						get_rel_name(relid))));
	return ht;
}

char *
hd_hypertable_qualified_name(const HdHypertable *ht)
{
	return quote_qualified_identifier(ht->schema_name, ht->table_name);
}

List *
hd_hypertable_data_nodes(const HdHypertable *ht)
{
	return list_copy(ht->data_nodes);
}

Oid
hd_catalog_relid(void)
{
	return get_relname_relid("hypertable", get_namespace_oid("_hyperdist_catalog", false));
}

Oid
hd_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}
