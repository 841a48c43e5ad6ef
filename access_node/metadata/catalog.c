/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/catalog.c — writing _hyperdist_catalog on behalf of roles.
 *
 * The catalog belongs to the extension's owner and only it may write it
 * (PUBLIC may read).  A table's owner may still do everything TimescaleDB
 * let it do with its distributed hypertable: each operation has an entry
 * point here that checks the caller first (ownership, USAGE on the data
 * nodes it names, valid values), then writes the rows as the catalog's
 * owner.  The SQL functions of the install script do the rest of each
 * operation (DDL on the table, statements on the data nodes) as the
 * caller, and call these for the catalog.
 *
 * While writing, the user is the catalog's owner with
 * SECURITY_RESTRICTED_OPERATION, and search_path is pg_catalog, pg_temp, so
 * no operator, function or setting of the caller's takes part (as
 * PostgreSQL runs VACUUM, CREATE INDEX and REFRESH MATERIALIZED VIEW as a
 * table's owner); the statements read only the catalog and built-in
 * catalogs, with values passed as typed parameters.  No data node session
 * is opened meanwhile (hd_conn_forbid): one would log in as the catalog's
 * owner.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "remote/node.h"
#include "metadata/hypertable.h"
#include "metadata/invalidation.h"
#include "metadata/naming.h"
#include "remote/connection.h"
#include "spi_plan.h"

/* transaction nest level the active writer began at; 0: none */
static int	writer_level = 0;

void
hd_catalog_writer_begin(HdCatalogWriter *w)
{
	Assert(writer_level == 0);
	GetUserIdAndSecContext(&w->saved_user, &w->saved_sec);
	SetUserIdAndSecContext(hd_rel_owner(hd_catalog_relid()),
						   w->saved_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	w->nestlevel = hd_safe_search_path_begin();
	writer_level = GetCurrentTransactionNestLevel();
	hd_conn_forbid("writing the catalog as its owner");
}

void
hd_catalog_writer_end(HdCatalogWriter *w)
{
	writer_level = 0;
	hd_conn_forbid(NULL);
	hd_safe_search_path_end(w->nestlevel);
	SetUserIdAndSecContext(w->saved_user, w->saved_sec);
}

/*
 * An error between begin and end aborts the (sub)transaction, which
 * restores the user and the settings itself; forget the writer then.
 */
void
hd_catalog_writer_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		writer_level = 0;
		hd_conn_forbid(NULL);
	}
}

void
hd_catalog_writer_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB &&
		writer_level >= GetCurrentTransactionNestLevel())
	{
		writer_level = 0;
		hd_conn_forbid(NULL);
	}
}

Datum
hd_catalog_write(const char *sql, int nargs, Oid *types, Datum *values,
				 const char *nulls, Oid result_type)
{
	HdCatalogWriter writer;
	Datum		result = (Datum) 0;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	hd_spi_execute(sql, nargs, types, values, nulls, false, 0);
	hd_catalog_writer_end(&writer);
	if (OidIsValid(result_type))
	{
		if (SPI_processed != 1)
			elog(ERROR, "catalog statement returned " UINT64_FORMAT " rows, not one: %s",
				 SPI_processed, sql);
		result = SPI_datumTransfer(hd_spi_value(0, 1, result_type, NULL), true, -1);
	}
	hd_spi_finish();
	return result;
}

void
hd_catalog_lock_chunks(int32 ht_id)
{
	LockDatabaseObject(hd_catalog_relid(), (Oid) ht_id, 0, ExclusiveLock);
}

/* An object lock as hd_catalog_lock_chunks', on the chunk's id (subid 1). */
bool
hd_catalog_lock_chunk(int32 chunk_id, LOCKMODE mode)
{
	LOCKTAG		tag;
	LockAcquireResult res;

	SET_LOCKTAG_OBJECT(tag, MyDatabaseId, hd_catalog_relid(), (Oid) chunk_id, 1);
	res = LockAcquire(&tag, mode, false, false);
	if (res == LOCKACQUIRE_ALREADY_CLEAR)
		return false;
	/* as LockDatabaseObject: see what the holders we waited for committed */
	AcceptInvalidationMessages();
	return res != LOCKACQUIRE_ALREADY_HELD;
}

/* ---- checks --------------------------------------------------------------- */

static void
check_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

/* The id of distributed hypertable relid, which the caller must own. */
static int32
owned_hypertable(Oid relid)
{
	HdHypertable *ht = hd_hypertable_load(relid);

	if (ht == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is not a distributed hypertable",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
	check_owner(relid);
	return ht->id;
}

/* A data node the caller may use (USAGE on its server). */
static void
check_data_node(const char *name)
{
	ForeignServer *server = name ? GetForeignServerByName(name, true) : NULL;
	AclResult	acl;

	if (server == NULL || !hd_server_is_data_node(server))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" does not exist", name ? name : "")));
	acl = pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for data node \"%s\"", name)));
}

static void
check_partitions(int32 n)
{
	if (n < 1 || n > PG_INT16_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid number of partitions: %d", n),
				 errhint("A number of partitions is between 1 and 32767.")));
}

/* An interval of the time dimension, in internal units, for its type. */
static void
check_interval(Oid type, int64 interval)
{
	int64		max = type == INT2OID ? PG_INT16_MAX
	: type == INT4OID ? PG_INT32_MAX : PG_INT64_MAX;

	if (interval <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid interval: must be positive")));
	if (interval > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid interval: must be below the maximum of type %s",
						format_type_be(type))));
}

/* The attribute number of column name of relid, with its type. */
static AttrNumber
column_of(Oid relid, const char *name, Oid *type)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" does not exist", name)));
	*type = get_atttype(relid, attnum);
	return attnum;
}

static bool
is_time_type(Oid type)
{
	return type == TIMESTAMPTZOID || type == TIMESTAMPOID || type == DATEOID ||
		type == INT2OID || type == INT4OID || type == INT8OID;
}

/*
 * Chunks' relations are made in the associated schema by the catalog's
 * owner, so a table's owner may name only a schema where it could create
 * them itself (as TimescaleDB checks), or the extension's internal one.
 */
static void
check_associated_schema(const char *schema, Oid owner)
{
	Oid			nspid;

	if (strcmp(schema, HD_INTERNAL_SCHEMA) == 0)
		return;
	nspid = get_namespace_oid(schema, true);
	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", schema),
				 errhint("Create the associated schema first, or leave associated_schema_name unset.")));
	if (pg_namespace_aclcheck(nspid, owner, ACL_CREATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for schema %s", schema),
				 errdetail("The hypertable's owner \"%s\" cannot create the chunks' tables there.",
						   GetUserNameFromId(owner, false))));
}

/* ---- writing ---------------------------------------------------------------- */

/* Runs one catalog statement as the writer; args are int4 unless told. */
static void
write_sql(const char *sql, int nargs, Oid *types, Datum *values)
{
	hd_spi_execute(sql, nargs, types, values, NULL, false, 0);
}

/* The one value of type `type` a catalog statement returns (in SPI's memory). */
static Datum
value_sql(const char *sql, int nargs, Oid *types, Datum *values, Oid type)
{
	hd_spi_execute(sql, nargs, types, values, NULL, false, 0);
	if (SPI_processed != 1)
		elog(ERROR, "catalog statement returned " UINT64_FORMAT " rows, not one: %s",
			 SPI_processed, sql);
	return hd_spi_value(0, 1, type, NULL);
}

static void
recreate_placement(int32 ht_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ht_id)};

	write_sql("SELECT _hyperdist_functions.recreate_placement($1)", 1, types, values);
}

/* ---- create_distributed_hypertable ------------------------------------------ */

/*
 * The catalog rows of a new distributed hypertable: relation is the foreign
 * table create_distributed_hypertable made (on hyperdist_hypertables, owned
 * by the caller or a role it is a member of), the nodes its data nodes.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_add_hypertable);
Datum
hyperdist_catalog_add_hypertable(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *time_column;
	char	   *space_column;
	int32		nparts;
	int64		interval;
	Name		schema;
	Name		prefix;
	int32		rf;
	ArrayType  *nodes;
	ArrayType  *indexes;
	Datum	   *node_names;
	int			nnodes;
	Oid			time_type;
	Oid			space_type = InvalidOid;
	AttrNumber	time_att;
	AttrNumber	space_att = InvalidAttrNumber;
	HdCatalogWriter writer;
	int32		ht_id;

	for (int i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i) && i != 2 && i != 3)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of catalog_add_hypertable must not be NULL", i + 1)));
	relid = PG_GETARG_OID(0);
	time_column = NameStr(*PG_GETARG_NAME(1));
	space_column = PG_ARGISNULL(2) ? NULL : NameStr(*PG_GETARG_NAME(2));
	nparts = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	interval = PG_GETARG_INT64(4);
	schema = PG_GETARG_NAME(5);
	prefix = PG_GETARG_NAME(6);
	rf = PG_GETARG_INT32(7);
	nodes = PG_GETARG_ARRAYTYPE_P(8);
	indexes = PG_GETARG_ARRAYTYPE_P(9);
	if (!hd_is_dist_hypertable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table of server hyperdist_hypertables",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
	check_owner(relid);
	time_att = column_of(relid, time_column, &time_type);
	if (!is_time_type(time_type))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("invalid type for dimension \"%s\"", time_column)));
	check_interval(time_type, interval);
	if (space_column != NULL)
	{
		space_att = column_of(relid, space_column, &space_type);
		if (space_att == time_att)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the partitioning column must differ from the time column")));
		check_partitions(nparts);
	}
	check_associated_schema(NameStr(*schema), hd_rel_owner(relid));
	if (array_contains_nulls(nodes) || array_contains_nulls(indexes))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("data node and index names must not be NULL")));
	deconstruct_array(nodes, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &node_names, NULL, &nnodes);
	for (int i = 0; i < nnodes; i++)
		check_data_node(NameStr(*DatumGetName(node_names[i])));
	if (rf < 1 || rf > nnodes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid replication factor %d", rf),
				 errdetail("The hypertable has %d data nodes.", nnodes)));

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	{
		Oid			types[4] = {OIDOID, NAMEOID, NAMEOID, INT4OID};
		Datum		values[4] = {ObjectIdGetDatum(relid), NameGetDatum(schema),
		NameGetDatum(prefix), Int32GetDatum(rf)};

		ht_id = DatumGetInt32(value_sql("INSERT INTO _hyperdist_catalog.hypertable"
										" (relid, associated_schema_name, associated_table_prefix,"
										"  replication_factor)"
										" VALUES ($1, $2, $3, $4) RETURNING id",
										4, types, values, INT4OID));
	}
	{
		Oid			types[5] = {INT4OID, INT2OID, OIDOID, INT8OID, INT4OID};
		Datum		values[5] = {Int32GetDatum(ht_id), Int16GetDatum(time_att),
			ObjectIdGetDatum(time_type), Int64GetDatum(interval),
		Int32GetDatum(nparts)};

		write_sql("INSERT INTO _hyperdist_catalog.dimension"
				  " (hypertable_id, attnum, column_type, interval_length)"
				  " VALUES ($1, $2, $3, $4)", 4, types, values);
		if (space_column != NULL)
		{
			values[1] = Int16GetDatum(space_att);
			values[2] = ObjectIdGetDatum(space_type);
			write_sql("INSERT INTO _hyperdist_catalog.dimension"
					  " (hypertable_id, attnum, column_type, num_partitions)"
					  " VALUES ($1, $2, $3, $5)", 5, types, values);
		}
	}
	{
		Oid			types[3] = {INT4OID, NAMEARRAYOID, NAMEARRAYOID};
		Datum		values[3] = {Int32GetDatum(ht_id), PointerGetDatum(nodes),
		PointerGetDatum(indexes)};

		write_sql("INSERT INTO _hyperdist_catalog.hypertable_data_node (hypertable_id, node_name)"
				  " SELECT $1, n FROM unnest($2) n", 2, types, values);
		write_sql("INSERT INTO _hyperdist_catalog.hypertable_index (hypertable_id, index_name)"
				  " SELECT DISTINCT $1, i FROM unnest($3) i", 3, types, values);
	}
	recreate_placement(ht_id);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	PG_RETURN_INT32(ht_id);
}

/* ---- set_chunk_time_interval, set_number_partitions, set_replication_factor -- */

/*
 * Sets one value of hypertable ht_id's catalog rows (sql: $1 its id, $2 the
 * value) as the catalog's owner; with placement, the placement map the
 * value shapes is made again.
 */
static void
update_hypertable(int32 ht_id, const char *sql, Oid type, Datum value, bool placement)
{
	Oid			types[2] = {INT4OID, type};
	Datum		values[2] = {Int32GetDatum(ht_id), value};
	HdCatalogWriter writer;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	write_sql(sql, 2, types, values);
	if (placement)
		recreate_placement(ht_id);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
}

PG_FUNCTION_INFO_V1(hyperdist_catalog_set_chunk_interval);
Datum
hyperdist_catalog_set_chunk_interval(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	int64		interval = PG_GETARG_INT64(1);

	check_interval(hd_hypertable_load(relid)->time.type, interval);
	update_hypertable(ht_id, "UPDATE _hyperdist_catalog.dimension SET interval_length = $2"
					  " WHERE hypertable_id = $1 AND interval_length IS NOT NULL",
					  INT8OID, Int64GetDatum(interval), false);
	PG_RETURN_VOID();
}

/*
 * A hypertable's integer_now function: no arguments, the time column's
 * integer type, not volatile (TimescaleDB's rules).
 */
static void
check_integer_now_func(const HdHypertable *ht, Oid func)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		ok;

	if (ht->time.type != INT2OID && ht->time.type != INT4OID && ht->time.type != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("integer_now_func can only be set for hypertables that have integer time dimensions")));
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(func));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", func);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	ok = proc->pronargs == 0 && proc->prorettype == ht->time.type && !proc->proretset &&
		proc->provolatile != PROVOLATILE_VOLATILE;
	ReleaseSysCache(tup);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid custom time function"),
				 errhint("A custom time function must take no arguments, be STABLE or IMMUTABLE and return %s, the type of the time column \"%s\".",
						 format_type_be(ht->time.type), ht->time.column_name)));
}

PG_FUNCTION_INFO_V1(hyperdist_catalog_set_integer_now_func);
Datum
hyperdist_catalog_set_integer_now_func(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	Oid			func = PG_GETARG_OID(1);
	Datum		names[2];

	check_integer_now_func(hd_hypertable_load(relid), func);
	if (!PG_GETARG_BOOL(2) && hd_catalog_has_integer_now_func(ht_id))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("custom time function already set for hypertable \"%s\"",
						get_rel_name(relid)),
				 errhint("Set replace_if_exists to replace it.")));
	names[0] = DirectFunctionCall1(namein, CStringGetDatum(get_namespace_name(get_func_namespace(func))));
	names[1] = DirectFunctionCall1(namein, CStringGetDatum(get_func_name(func)));
	update_hypertable(ht_id, "UPDATE _hyperdist_catalog.dimension"
					  " SET integer_now_func_schema = $2[1], integer_now_func = $2[2]"
					  " WHERE hypertable_id = $1 AND interval_length IS NOT NULL",
					  NAMEARRAYOID,
					  PointerGetDatum(construct_array(names, 2, NAMEOID, NAMEDATALEN, false,
													  TYPALIGN_CHAR)),
					  false);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(hyperdist_catalog_set_number_partitions);
Datum
hyperdist_catalog_set_number_partitions(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	int32		nparts = PG_GETARG_INT32(1);

	if (!hd_hypertable_load(relid)->has_space)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("hypertable \"%s\" has no space dimension", get_rel_name(relid))));
	check_partitions(nparts);
	update_hypertable(ht_id, "UPDATE _hyperdist_catalog.dimension SET num_partitions = $2"
					  " WHERE hypertable_id = $1 AND num_partitions IS NOT NULL",
					  INT4OID, Int32GetDatum(nparts), true);
	PG_RETURN_VOID();
}

/*
 * add_dimension: relation's space dimension on column, with nparts
 * partitions, while it has none and no chunk (the caller holds the chunk
 * creation lock).  Returns the dimension's id.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_add_space_dimension);
Datum
hyperdist_catalog_add_space_dimension(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	HdHypertable *ht = hd_hypertable_load(relid);
	int32		nparts = PG_GETARG_INT32(2);
	Oid			type;
	AttrNumber	attnum = column_of(relid, NameStr(*PG_GETARG_NAME(1)), &type);
	Oid			types[4] = {INT4OID, INT2OID, OIDOID, INT4OID};
	Datum		values[4] = {Int32GetDatum(ht_id), Int16GetDatum(attnum),
	ObjectIdGetDatum(type), Int32GetDatum(nparts)};
	HdCatalogWriter writer;
	int32		dim_id;

	if (ht->has_space || attnum == ht->time.attnum)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hypertable \"%s\" cannot have another space dimension",
						get_rel_name(relid))));
	check_partitions(nparts);
	if (hd_catalog_chunks(ht_id) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hypertable \"%s\" has data or empty chunks", get_rel_name(relid))));
	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	dim_id = DatumGetInt32(value_sql("INSERT INTO _hyperdist_catalog.dimension"
									 " (hypertable_id, attnum, column_type, num_partitions)"
									 " VALUES ($1, $2, $3, $4) RETURNING id",
									 4, types, values, INT4OID));
	recreate_placement(ht_id);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	PG_RETURN_INT32(dim_id);
}

PG_FUNCTION_INFO_V1(hyperdist_catalog_set_replication_factor);
Datum
hyperdist_catalog_set_replication_factor(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	int32		rf = PG_GETARG_INT32(1);
	int			nnodes = list_length(hd_hypertable_load(relid)->data_nodes);

	if (rf < 1 || rf > nnodes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid replication factor %d", rf),
				 errdetail("Hypertable \"%s\" has %d data nodes.", get_rel_name(relid), nnodes),
				 errhint("A replication factor is between 1 and the number of the hypertable's data nodes.")));
	update_hypertable(ht_id, "UPDATE _hyperdist_catalog.hypertable SET replication_factor = $2"
					  " WHERE id = $1", INT4OID, Int32GetDatum(rf), true);
	PG_RETURN_VOID();
}

/* ---- attach_data_node, detach_data_node ------------------------------------ */

/*
 * node becomes a data node of relation, whose root table the caller made
 * there; with repartition, a space dimension gets at least one partition
 * per data node.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_attach_data_node);
Datum
hyperdist_catalog_attach_data_node(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	Name		node = PG_GETARG_NAME(1);
	bool		repartition = PG_GETARG_BOOL(2);
	Oid			types[2] = {INT4OID, NAMEOID};
	Datum		values[2] = {Int32GetDatum(ht_id), NameGetDatum(node)};
	HdCatalogWriter writer;

	check_data_node(NameStr(*node));
	if (hd_catalog_node_attached(ht_id, NameStr(*node)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("data node \"%s\" is already attached to hypertable \"%s\"",
						NameStr(*node), get_rel_name(relid))));
	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	write_sql("INSERT INTO _hyperdist_catalog.hypertable_data_node (hypertable_id, node_name)"
			  " VALUES ($1, $2)", 2, types, values);
	if (repartition)
		write_sql("UPDATE _hyperdist_catalog.dimension SET num_partitions ="
				  "  (SELECT count(*) FROM _hyperdist_catalog.hypertable_data_node"
				  "    WHERE hypertable_id = $1)"
				  " WHERE hypertable_id = $1 AND num_partitions <"
				  "  (SELECT count(*) FROM _hyperdist_catalog.hypertable_data_node"
				  "    WHERE hypertable_id = $1)", 1, types, values);
	recreate_placement(ht_id);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	PG_RETURN_VOID();
}

/*
 * node stops being a data node of relation: its replicas are forgotten
 * (chunks left without one go), the chunks it was first replica of get
 * their relation here on the next replica, and with repartition a space
 * dimension with a partition per data node loses one.  The caller checked
 * what may be lost (the last node goes only with force), and dropped the
 * node's tables if asked.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_detach_data_node);
Datum
hyperdist_catalog_detach_data_node(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	Name		node = PG_GETARG_NAME(1);
	bool		repartition = PG_GETARG_BOOL(2);
	Oid			types[4] = {INT4OID, NAMEOID, INT8OID, INT4ARRAYOID};
	Datum		values[4] = {Int32GetDatum(ht_id), NameGetDatum(node), 0, 0};
	HdCatalogWriter writer;
	int64		nnodes;
	Datum		moved;

	if (!hd_catalog_node_attached(ht_id, NameStr(*node)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" is not attached to hypertable \"%s\"",
						NameStr(*node), get_rel_name(relid))));
	nnodes = list_length(hd_hypertable_load(relid)->data_nodes);
	values[2] = Int64GetDatum(nnodes);
	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	/* the relations here of the chunks it holds name it, or may */
	write_sql("SELECT _hyperdist_functions.drop_chunk_relations(array_agg(cdn.chunk_id))"
			  " FROM _hyperdist_catalog.chunk_data_node cdn"
			  " JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id"
			  " WHERE c.hypertable_id = $1 AND cdn.node_name = $2", 2, types, values);
	moved = value_sql("WITH m AS ("
					  "  DELETE FROM _hyperdist_catalog.chunk_data_node cdn"
					  "   USING _hyperdist_catalog.chunk c"
					  "   WHERE c.id = cdn.chunk_id AND c.hypertable_id = $1"
					  "     AND cdn.node_name = $2"
					  "  RETURNING cdn.chunk_id)"
					  " SELECT coalesce(array_agg(chunk_id), '{}') FROM m", 2, types, values,
					  INT4ARRAYOID);
	write_sql("DELETE FROM _hyperdist_catalog.chunk c"
			  " WHERE c.hypertable_id = $1 AND NOT EXISTS ("
			  "  SELECT FROM _hyperdist_catalog.chunk_data_node cdn WHERE cdn.chunk_id = c.id)",
			  1, types, values);
	values[3] = moved;
	write_sql("SELECT _hyperdist_functions.create_chunk_relation(c.id)"
			  " FROM _hyperdist_catalog.chunk c WHERE c.id = ANY ($4)", 4, types, values);
	write_sql("DELETE FROM _hyperdist_catalog.time_slice s"
			  " WHERE s.hypertable_id = $1 AND NOT EXISTS ("
			  "  SELECT FROM _hyperdist_catalog.chunk c WHERE c.time_slice_id = s.id)",
			  1, types, values);
	write_sql("DELETE FROM _hyperdist_catalog.hypertable_data_node"
			  " WHERE hypertable_id = $1 AND node_name = $2", 2, types, values);
	/* the last node (force): partitions and replication factor are kept */
	if (repartition)
		write_sql("UPDATE _hyperdist_catalog.dimension SET num_partitions = $3 - 1"
				  " WHERE hypertable_id = $1 AND num_partitions = $3 AND $3 > 1",
				  3, types, values);
	write_sql("UPDATE _hyperdist_catalog.hypertable SET replication_factor = $3 - 1"
			  " WHERE id = $1 AND replication_factor > $3 - 1 AND $3 > 1", 3, types, values);
	recreate_placement(ht_id);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	PG_RETURN_VOID();
}

/* ---- block_new_chunks, allow_new_chunks -------------------------------------- */

/*
 * Whether node, a data node of relation, takes new chunks of it: blocked,
 * it leaves the placement map, made again.  The SQL function checked the
 * replication factor.  Returns whether the flag changed.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_block_new_chunks);
Datum
hyperdist_catalog_block_new_chunks(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		ht_id = owned_hypertable(relid);
	Name		node = PG_GETARG_NAME(1);
	bool		block = PG_GETARG_BOOL(2);
	Oid			types[3] = {INT4OID, NAMEOID, BOOLOID};
	Datum		values[3] = {Int32GetDatum(ht_id), NameGetDatum(node), BoolGetDatum(block)};
	HdCatalogWriter writer;
	bool		changed;

	if (!hd_catalog_node_attached(ht_id, NameStr(*node)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" is not attached to hypertable \"%s\"",
						NameStr(*node), get_rel_name(relid))));
	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	write_sql("UPDATE _hyperdist_catalog.hypertable_data_node SET block_chunks = $3"
			  " WHERE hypertable_id = $1 AND node_name = $2 AND block_chunks <> $3",
			  3, types, values);
	changed = SPI_processed > 0;
	if (changed)
		recreate_placement(ht_id);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	PG_RETURN_BOOL(changed);
}

/* ---- rebalance, drain_data_node (api/rebalance_run.c checked the caller) ------ */

int32
hd_catalog_owned_hypertable(Oid relid)
{
	return owned_hypertable(relid);
}

/* A new rebalance (of drained_node's replicas, when not NULL); its id. */
int32
hd_catalog_add_rebalance(const char *drained_node)
{
	Oid			types[1] = {NAMEOID};
	Datum		values[1] = {drained_node ? hd_spi_name_arg(drained_node) : (Datum) 0};
	HdCatalogWriter writer;
	int32		id;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	hd_spi_execute("INSERT INTO _hyperdist_catalog.rebalance (drained_node) VALUES ($1)"
				   " RETURNING id", 1, types, values, drained_node ? NULL : "n", false, 0);
	id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	return id;
}

/* Operation op_id of a rebalance moves about bytes. */
void
hd_catalog_add_rebalance_move(int32 op_id, int64 bytes)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(op_id), Int64GetDatum(bytes)};
	HdCatalogWriter writer;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	write_sql("INSERT INTO _hyperdist_catalog.rebalance_move (operation, bytes)"
			  " VALUES ($1, $2)", 2, types, values);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
}

/* ---- drop_chunks ----------------------------------------------------------- */

/*
 * drop_chunks' lock (the caller's own session then drops the chunks' tables
 * on the data nodes): no chunk of relation is created meanwhile.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_lock_chunks);
Datum
hyperdist_catalog_lock_chunks(PG_FUNCTION_ARGS)
{
	hd_catalog_lock_chunks(owned_hypertable(PG_GETARG_OID(0)));
	PG_RETURN_VOID();
}

/*
 * drop_chunks' lock of the chunks it drops, before it drops them on the
 * data nodes: a statement that names one of them there has it locked
 * (reads in AccessShareLock, writes in RowExclusiveLock) and is waited
 * for; one planned later waits, then plans without them.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_lock_dropped_chunks);
Datum
hyperdist_catalog_lock_dropped_chunks(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {INT4OID, INT4ARRAYOID};
	Datum		values[2] = {Int32GetDatum(owned_hypertable(PG_GETARG_OID(0))),
	PG_GETARG_DATUM(1)};
	uint64		n;

	/* only that hypertable's chunks, in id order */
	hd_spi_connect();
	hd_spi_execute("SELECT id FROM _hyperdist_catalog.chunk"
				   " WHERE hypertable_id = $1 AND id = ANY ($2) ORDER BY id",
				   2, types, values, NULL, true, 0);
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
		(void) hd_catalog_lock_chunk(DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL)),
									 AccessExclusiveLock);
	hd_spi_finish();
	PG_RETURN_VOID();
}

/*
 * Forgets chunks of relation (ids of other hypertables' chunks are
 * ignored), and the time slices left without a chunk; their time ranges
 * go to the invalidation log of its continuous aggregates.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_delete_chunks);
Datum
hyperdist_catalog_delete_chunks(PG_FUNCTION_ARGS)
{
	int32		ht_id = owned_hypertable(PG_GETARG_OID(0));
	Oid			types[2] = {INT4OID, INT4ARRAYOID};
	Datum		values[2] = {Int32GetDatum(ht_id), PG_GETARG_DATUM(1)};
	HdCatalogWriter writer;

	hd_inval_record_chunks(hd_hypertable_load(PG_GETARG_OID(0)), PG_GETARG_DATUM(1));
	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	write_sql("DELETE FROM _hyperdist_catalog.chunk"
			  " WHERE hypertable_id = $1 AND id = ANY ($2)", 2, types, values);
	write_sql("DELETE FROM _hyperdist_catalog.time_slice s"
			  " WHERE s.hypertable_id = $1 AND NOT EXISTS ("
			  "  SELECT FROM _hyperdist_catalog.chunk c WHERE c.time_slice_id = s.id)",
			  1, types, values);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	PG_RETURN_VOID();
}

/* ---- chunk creation (placement/chunk_create.c checked the caller) ------------- */

/*
 * A new time slice [start, end) for time, cut where it would overlap the
 * hypertable's existing slices, with nparts space partitions; into *slice.
 */
void
hd_catalog_add_time_slice(int32 ht_id, int64 time, int64 start, int64 end, int16 nparts,
						  HdCatalogSlice *slice)
{
	Oid			types[5] = {INT4OID, INT8OID, INT8OID, INT8OID, INT2OID};
	Datum		values[5] = {Int32GetDatum(ht_id), Int64GetDatum(time), Int64GetDatum(start),
	Int64GetDatum(end), Int16GetDatum(nparts)};
	HdCatalogWriter writer;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	hd_spi_execute("INSERT INTO _hyperdist_catalog.time_slice"
				   " (hypertable_id, range_start, range_end, num_partitions)"
				   " SELECT $1,"
				   "  greatest($3, (SELECT max(range_end) FROM _hyperdist_catalog.time_slice"
				   "                 WHERE hypertable_id = $1 AND range_end <= $2)),"
				   "  least($4, (SELECT min(range_start) FROM _hyperdist_catalog.time_slice"
				   "              WHERE hypertable_id = $1 AND range_start > $2)),"
				   "  $5"
				   " RETURNING id, range_start, range_end, num_partitions",
				   5, types, values, NULL, false, 0);
	hd_catalog_writer_end(&writer);
	if (SPI_processed != 1)
		elog(ERROR, "time slice of hypertable %d not created", ht_id);
	slice->id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	slice->start = DatumGetInt64(hd_spi_value(0, 2, INT8OID, NULL));
	slice->end = DatumGetInt64(hd_spi_value(0, 3, INT8OID, NULL));
	slice->num_partitions = DatumGetInt16(hd_spi_value(0, 4, INT2OID, NULL));
	hd_spi_finish();
}

/*
 * The catalog rows of a new chunk of ht, partition of slice_id, on nodes
 * (names, replica order), and its relation here; returns its id, and its
 * table's name (unquoted, in ht's associated schema) in *table_name.
 */
int32
hd_catalog_add_chunk(const HdHypertable *ht, int32 slice_id, int16 partition, List *nodes,
					 char **table_name)
{
	Oid			types[6] = {INT4OID, INT4OID, INT4OID, NAMEOID, NAMEOID, INT2OID};
	Datum		values[6];
	HdCatalogWriter writer;
	int32		chunk_id;
	ListCell   *lc;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	chunk_id = DatumGetInt32(value_sql("SELECT nextval('_hyperdist_catalog.chunk_id_seq')::int4",
									   0, NULL, NULL, INT4OID));
	*table_name = hd_chunk_table_name(ht->assoc_prefix, ht->id, chunk_id);
	values[0] = Int32GetDatum(chunk_id);
	values[1] = Int32GetDatum(ht->id);
	values[2] = Int32GetDatum(slice_id);
	values[3] = hd_spi_name_arg(ht->assoc_schema);
	values[4] = hd_spi_name_arg(*table_name);
	values[5] = Int16GetDatum(partition);
	write_sql("INSERT INTO _hyperdist_catalog.chunk"
			  " (id, hypertable_id, time_slice_id, schema_name, table_name, space_partition)"
			  " VALUES ($1, $2, $3, $4, $5, $6)", 6, types, values);
	foreach(lc, nodes)
	{
		Oid			t[3] = {INT4OID, NAMEOID, INT2OID};
		Datum		v[3] = {Int32GetDatum(chunk_id), hd_spi_name_arg(lfirst(lc)),
		Int16GetDatum(foreach_current_index(lc))};

		write_sql("INSERT INTO _hyperdist_catalog.chunk_data_node"
				  " (chunk_id, node_name, replica) VALUES ($1, $2, $3)", 3, t, v);
	}
	write_sql("SELECT _hyperdist_functions.create_chunk_relation($1)", 1, types, values);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	return chunk_id;
}

/* ---- DDL (ddl/utility.c checked the caller) ------------------------------------ */

/* The storage parameters of relation's chunks: a text[], or (Datum) 0 for none. */
void
hd_catalog_set_chunk_options(Oid relid, Datum options)
{
	Oid			types[2] = {INT4OID, TEXTARRAYOID};
	Datum		values[2] = {Int32GetDatum(owned_hypertable(relid)), options};
	HdCatalogWriter writer;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	hd_spi_execute("UPDATE _hyperdist_catalog.hypertable SET chunk_options = $2 WHERE id = $1",
				   2, types, values, options == (Datum) 0 ? " n" : NULL, false, 0);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
}

static void
write_as_owner(const char *sql, Oid relid, const char *name)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid),
	name ? CStringGetTextDatum(name) : (Datum) 0};
	HdCatalogWriter writer;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	write_sql(sql, name ? 2 : 1, types, values);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
}

void
hd_catalog_add_index(Oid relid, const char *index_name)
{
	write_as_owner("INSERT INTO _hyperdist_catalog.hypertable_index"
				   " SELECT id, $2 FROM _hyperdist_catalog.hypertable WHERE relid = $1"
				   " ON CONFLICT DO NOTHING", relid, index_name);
}

void
hd_catalog_forget_index(Oid relid, const char *index_name)
{
	write_as_owner("DELETE FROM _hyperdist_catalog.hypertable_index i"
				   " USING _hyperdist_catalog.hypertable h"
				   " WHERE i.hypertable_id = h.id AND h.relid = $1 AND i.index_name = $2",
				   relid, index_name);
}

void
hd_catalog_delete_hypertable(Oid relid)
{
	write_as_owner("DELETE FROM _hyperdist_catalog.hypertable WHERE relid = $1",
				   relid, NULL);
}

/* ---- continuous aggregates (cagg/ checked the caller) ------------------------- */

int32
hd_catalog_next_cagg_id(void)
{
	return DatumGetInt32(hd_catalog_write("SELECT pg_catalog.nextval("
										  "'_hyperdist_catalog.continuous_agg_id_seq')::int",
										  0, NULL, NULL, NULL, INT4OID));
}

void
hd_catalog_add_cagg(const HdCatalogCagg *cagg)
{
	Oid			types[11] = {INT4OID, OIDOID, OIDOID, INT4OID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[11] = {
		Int32GetDatum(cagg->id),
		ObjectIdGetDatum(cagg->view_relid),
		ObjectIdGetDatum(cagg->mat_relid),
		Int32GetDatum(cagg->hypertable_id),
		CStringGetTextDatum(cagg->bucket_column),
		CStringGetTextDatum(cagg->bucket_sql),
		CStringGetTextDatum(cagg->bucket_width_sql),
		CStringGetTextDatum(cagg->refresh_sql),
		CStringGetTextDatum(cagg->realtime_sql),
		CStringGetTextDatum(cagg->definition),
		BoolGetDatum(cagg->materialized_only)
	};

	hd_catalog_write("INSERT INTO _hyperdist_catalog.continuous_agg (id, view_relid,"
					 " mat_relid, hypertable_id, bucket_column, bucket_sql,"
					 " bucket_width_sql, refresh_sql, realtime_sql, definition,"
					 " materialized_only) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
					 11, types, values, NULL, InvalidOid);
}

void
hd_catalog_delete_cagg(int32 id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(id)};

	/* the hypertable's invalidation log goes with its last aggregate */
	hd_catalog_write("WITH gone AS ("
					 "  DELETE FROM _hyperdist_catalog.continuous_agg WHERE id = $1"
					 "  RETURNING hypertable_id)"
					 " DELETE FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log l"
					 " USING gone g WHERE l.hypertable_id = g.hypertable_id"
					 "  AND NOT EXISTS (SELECT FROM _hyperdist_catalog.continuous_agg ca"
					 "                   WHERE ca.hypertable_id = g.hypertable_id AND ca.id <> $1)",
					 1, types, values, NULL, InvalidOid);
}

void
hd_catalog_set_cagg_materialized_only(int32 id, bool materialized_only)
{
	Oid			types[2] = {INT4OID, BOOLOID};
	Datum		values[2] = {Int32GetDatum(id), BoolGetDatum(materialized_only)};

	hd_catalog_write("UPDATE _hyperdist_catalog.continuous_agg SET materialized_only = $2"
					 " WHERE id = $1", 2, types, values, NULL, InvalidOid);
}

/* ---- reference tables ------------------------------------------------------- */

/*
 * The catalog row of a new reference table, which the caller owns
 * (create_reference_table made its copies on the data nodes first).
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_add_reference_table);
Datum
hyperdist_catalog_add_reference_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	check_owner(relid);
	write_as_owner("INSERT INTO _hyperdist_catalog.reference_table VALUES ($1)",
				   relid, NULL);
	PG_RETURN_VOID();
}

/* DROP TABLE and DROP SCHEMA of a reference table (ddl/ checked the caller). */
void
hd_catalog_delete_reference_table(Oid relid)
{
	write_as_owner("DELETE FROM _hyperdist_catalog.reference_table WHERE relid = $1",
				   relid, NULL);
}
