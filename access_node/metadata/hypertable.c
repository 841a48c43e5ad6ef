/* SPDX-License-Identifier: PostgreSQL */
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
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "metadata/cache.h"
#include "metadata/catalog_read.h"
#include "metadata/dimension.h"
#include "remote/node.h"
#include "metadata/hypertable.h"

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

static Oid
default_btree_opfamily(Oid type)
{
	Oid			opclass = GetDefaultOpClass(type, BTREE_AM_OID);

	return OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
}

static void
load_dimensions(HdHypertable *ht, MemoryContext cxt)
{
	ListCell   *lc;

	foreach(lc, hd_catalog_dimensions(ht->id))
	{
		HdCatalogDimension *row = lfirst(lc);
		HdDimension *dim = row->is_time ? &ht->time : &ht->space;

		dim->id = row->id;
		dim->attnum = row->attnum;
		dim->type = row->type;
		dim->column_name = MemoryContextStrdup(cxt, get_attname(ht->relid, dim->attnum, false));
		dim->btree_opfamily = default_btree_opfamily(dim->type);
		if (row->is_time)
			dim->interval_length = row->interval_length;
		else
		{
			ht->has_space = true;
			dim->num_partitions = row->num_partitions;
			hd_dimension_init_hash(dim, ht->relid, cxt);
		}
	}
}

/*
 * The hypertable's data nodes.  A node whose server is gone is left out:
 * a delete_data_node committing after this transaction's snapshot was
 * taken drops the server, which the syscache sees at once.
 */
static void
load_data_nodes(HdHypertable *ht, MemoryContext cxt)
{
	List	   *names = hd_catalog_hypertable_data_nodes(ht->id);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ListCell   *lc;

	foreach(lc, names)
	{
		Oid			serverid = get_foreign_server_oid(lfirst(lc), true);

		if (OidIsValid(serverid))
			ht->data_nodes = lappend_oid(ht->data_nodes, serverid);
	}
	MemoryContextSwitchTo(old);
}

bool
hd_hypertable_registered(Oid relid)
{
	return hd_is_dist_hypertable(relid) && hd_catalog_hypertable(relid, NULL);
}

HdHypertable *
hd_hypertable_load(Oid relid)
{
	if (!hd_is_dist_hypertable(relid))
		return NULL;
	return hd_catalog_cache_hypertable(relid);
}

/*
 * The catalog row of hypertable relid, known here as schema.name, and its
 * data nodes, into cxt; NULL when relid has no row.
 */
static HdHypertable *
read_row(Oid relid, const char *schema, const char *name, MemoryContext cxt)
{
	HdHypertable *ht;
	HdCatalogHypertable row;
	MemoryContext old;
	ListCell   *lc;

	if (!hd_catalog_hypertable(relid, &row))
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	ht = palloc0(sizeof(HdHypertable));
	ht->relid = relid;
	ht->id = row.id;
	ht->assoc_schema = pstrdup(row.assoc_schema);
	ht->assoc_prefix = pstrdup(row.assoc_prefix);
	ht->replication_factor = row.replication_factor;
	ht->has_caggs = row.has_caggs;
	foreach(lc, row.chunk_options)
		ht->chunk_options = lappend(ht->chunk_options, pstrdup(lfirst(lc)));
	ht->schema_name = pstrdup(schema);
	ht->table_name = pstrdup(name);
	MemoryContextSwitchTo(old);
	load_data_nodes(ht, cxt);
	return ht;
}

HdHypertable *
hd_hypertable_read(Oid relid, MemoryContext cxt)
{
	HdHypertable *ht = read_row(relid, get_namespace_name(get_rel_namespace(relid)),
								get_rel_name(relid), cxt);

	if (ht != NULL)
		load_dimensions(ht, cxt);

	if (ht == NULL || ht->time.attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("foreign table \"%s\" has no distributed hypertable catalog entry",
						get_rel_name(relid))));
	return ht;
}

HdHypertable *
hd_hypertable_dropped(Oid relid, const char *schema, const char *name)
{
	return read_row(relid, schema, name, CurrentMemoryContext);
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
