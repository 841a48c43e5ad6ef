/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/node_admin.c — add_data_node, delete_data_node and alter_data_node.
 *
 * A data node is a foreign server of the hyperdist wrapper whose options
 * say where its agent listens (host, port), which database to use there
 * (dbname) and the agent's CurveZMQ public key.  Adding one can bootstrap
 * the data node: check that it is fit to be one and create its database,
 * through a session on the maintenance database.  Passwords given for that
 * are used for the bootstrap only and never stored.
 *
 * The signatures are TimescaleDB 2.13's; nothing is installed on data
 * nodes, so extension_created is always false.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_database.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "remote/node.h"
#include "api/node_admin.h"
#include "agg/partial_agg.h"
#include "deparse/deparse.h"
#include "guc.h"
#include "keys.h"
#include "metadata/catalog_read.h"
#include "metadata/replica.h"
#include "spi_plan.h"
#include "metadata/node_status.h"
#include "remote/connection.h"
#include "remote/node_health.h"
#include "protocol.h"

/* where sessions go to create or drop a data node's database */
#define MAINTENANCE_DB "postgres"
#define MAINTENANCE_DB_ALT "template1"

PG_FUNCTION_INFO_V1(hyperdist_add_data_node);
PG_FUNCTION_INFO_V1(hyperdist_delete_data_node);
PG_FUNCTION_INFO_V1(hyperdist_alter_data_node);

/* What bootstrap needs to know about a data node. */
typedef struct NodeSettings
{
	int			version_num;
	int			max_prepared_xacts;
	int			max_connections;
	/* of the node's database; all NULL when it does not exist */
	char	   *encoding;
	char	   *collate;
	char	   *ctype;
} NodeSettings;

static void
require_superuser(const char *action)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to %s", action)));
}

/* A NAME (type NAMEOID) or TEXT argument that must be given and not empty. */
static char *
string_arg(FunctionCallInfo fcinfo, int argno, Oid type, const char *argname)
{
	char	   *value;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be NULL", argname)));

	if (type == NAMEOID)
		value = pstrdup(NameStr(*PG_GETARG_NAME(argno)));
	else
		value = text_to_cstring(PG_GETARG_TEXT_PP(argno));

	if (value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be empty", argname)));
	return value;
}

static bool
bool_arg(FunctionCallInfo fcinfo, int argno, bool dflt)
{
	return PG_ARGISNULL(argno) ? dflt : PG_GETARG_BOOL(argno);
}

static Datum
name_datum(const char *s)
{
	return DirectFunctionCall1(namein, CStringGetDatum(s));
}

/* The single row a function returning TABLE(...) gives back. */
static Datum
result_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

ForeignServer *
hd_data_node_get(const char *name, bool missing_ok)
{
	ForeignServer *server = GetForeignServerByName(name, true);

	if (server == NULL)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" does not exist", name)));
	}
	if (!hd_server_is_data_node(server))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" is not a hyperdist data node", name)));
	return server;
}

static int
compare_names(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

List *
hd_data_node_names(void)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, hd_data_node_oids())
		names = lappend(names, pstrdup(GetForeignServer(lfirst_oid(lc))->servername));
	list_sort(names, compare_names);
	return names;
}

/* A database to connect to while creating or dropping dbname. */
static const char *
maintenance_db(const char *dbname)
{
	return strcmp(dbname, MAINTENANCE_DB) == 0 ? MAINTENANCE_DB_ALT : MAINTENANCE_DB;
}

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * The public key of node_name's agent, from <keys dir>/<node_name>.pub or
 * else <keys dir>/agent.pub (one key shared by all agents).  Without one,
 * "" (plain-text sessions) if hyperdist.allow_insecure permits it.
 */
static char *
agent_public_key(const char *node_name)
{
	char	   *dir = hd_keys_dir_path();
	char	   *node_path = psprintf("%s/%s.pub", dir, node_name);
	char	   *shared_path = psprintf("%s/agent.pub", dir);
	const char *path;
	char		key[HD_Z85_KEY_LEN + 1];
	char		err[256];

	/* a node name with a '/' cannot name a file in the keys directory */
	if (strchr(node_name, '/') == NULL && file_exists(node_path))
		path = node_path;
	else if (file_exists(shared_path))
		path = shared_path;
	else if (hd_allow_insecure)
	{
		ereport(WARNING,
				(errmsg("data node \"%s\" is added without encryption", node_name),
				 errdetail("No public key for its agent was found at \"%s\" or \"%s\"; sessions with it will be neither encrypted nor authenticated.",
						   node_path, shared_path)));
		return "";
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no public key for the agent of data node \"%s\"", node_name),
				 errdetail("Neither \"%s\" nor \"%s\" exists.", node_path, shared_path),
				 errhint("Copy the public key of the data node's agent (written by hyperdist-agent --keygen) to \"%s\", or set hyperdist.allow_insecure to add a data node whose agent runs without encryption.",
						 node_path)));

	if (!hd_key_load_public(path, key, err, sizeof(err)))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not load the public key of the agent of data node \"%s\"", node_name),
				 errdetail_internal("%s", err)));
	return pstrdup(key);
}

/* Runs a query that returns one row of ncols columns; returns its fields. */
static char **
query_row(HdConn *conn, const char *sql, int nparams, const Oid *types,
		  const char *const *values, int ncols)
{
	HdStream   *stream = hd_query_start(conn, sql, nparams, types, values, HD_ROWS_TEXT);
	char	  **row = palloc(sizeof(char *) * ncols);
	bool		ok;

	ok = hd_stream_ncolumns(stream) == ncols &&
		hd_stream_next_text_row(stream, row, ncols) &&
		!hd_stream_next_text_row(stream, row, ncols);
	hd_stream_close(stream);

	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("unexpected result from data node \"%s\"",
						hd_conn_node_name(conn)),
				 errdetail_internal("Query: %s", sql)));
	return row;
}

/* Settings of the data node, and those of database dbname there. */
static NodeSettings
read_node_settings(HdConn *conn, const char *dbname)
{
	Oid			types[1] = {NAMEOID};
	const char *values[1] = {dbname};
	char	  **row = query_row(conn, hd_deparse_node_settings_query(), 1, types,
								values, 6);
	NodeSettings s;

	s.version_num = pg_strtoint32(row[0]);
	s.max_prepared_xacts = pg_strtoint32(row[1]);
	s.max_connections = pg_strtoint32(row[2]);
	s.encoding = row[3];
	s.collate = row[4];
	s.ctype = row[5];
	return s;
}

/* Settings every data node needs: distributed commits use 2PC there. */
static void
check_node_settings(const char *node_name, const NodeSettings *s)
{
	if (s->version_num / 10000 != PG_VERSION_NUM / 10000)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("data node \"%s\" runs PostgreSQL %d, not %d",
						node_name, s->version_num / 10000, PG_VERSION_NUM / 10000),
				 errdetail("Data nodes must run the same PostgreSQL major version as the access node.")));

	if (s->max_prepared_xacts == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("data node \"%s\" has max_prepared_transactions set to 0",
						node_name),
				 errdetail("Distributed transactions commit on data nodes with two-phase commit."),
				 errhint("Set max_prepared_transactions on the data node to at least max_connections (%d there) and restart it.",
						 s->max_connections)));

	if (s->max_prepared_xacts < s->max_connections)
		ereport(WARNING,
				(errmsg("data node \"%s\" has max_prepared_transactions (%d) below max_connections (%d)",
						node_name, s->max_prepared_xacts, s->max_connections),
				 errdetail("Distributed commits can fail when more sessions than that prepare at once."),
				 errhint("Set max_prepared_transactions on the data node to at least max_connections and restart it.")));
}

/* A text column of this database's pg_database row. */
static char *
local_database_attr(HeapTuple tup, AttrNumber attnum)
{
	bool		isnull;
	Datum		value = SysCacheGetAttr(DATABASEOID, tup, attnum, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

/*
 * Compares the data node's existing database with this one: a different
 * encoding would corrupt text crossing between them; a different collation
 * only sorts text differently.
 */
static void
check_database(const char *node_name, const char *dbname, const NodeSettings *s)
{
	HeapTuple	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	char	   *collate;
	char	   *ctype;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	collate = local_database_attr(tup, Anum_pg_database_datcollate);
	ctype = local_database_attr(tup, Anum_pg_database_datctype);
	ReleaseSysCache(tup);

	if (strcmp(s->encoding, GetDatabaseEncodingName()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("database \"%s\" on data node \"%s\" has encoding \"%s\"",
						dbname, node_name, s->encoding),
				 errdetail("The access node's database has encoding \"%s\"; both must have the same.",
						   GetDatabaseEncodingName())));

	if (strcmp(s->collate, collate) != 0 || strcmp(s->ctype, ctype) != 0)
		ereport(WARNING,
				(errmsg("database \"%s\" on data node \"%s\" has another locale than the access node's database",
						dbname, node_name),
				 errdetail("LC_COLLATE and LC_CTYPE are \"%s\" and \"%s\" there, \"%s\" and \"%s\" here.",
						   s->collate, s->ctype, collate, ctype),
				 errhint("Text may sort differently on the data node.")));
}

/* Creates dbname on the data node with this database's encoding and locale. */
static void
create_database(HdConn *conn, const char *dbname)
{
	HeapTuple	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	char	   *icu_locale = NULL;
	char	   *sql;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	if (((Form_pg_database) GETSTRUCT(tup))->datlocprovider == COLLPROVIDER_ICU)
		icu_locale = local_database_attr(tup, Anum_pg_database_daticulocale);
	sql = hd_deparse_create_database(dbname, GetDatabaseEncodingName(),
									 local_database_attr(tup, Anum_pg_database_datcollate),
									 local_database_attr(tup, Anum_pg_database_datctype),
									 icu_locale);
	ReleaseSysCache(tup);

	hd_exec(conn, sql, 0, NULL, NULL, NULL);
}

/*
 * Bootstrap: checks the data node through its maintenance database and
 * creates the node's database unless it exists.  True when it created it.
 */
static bool
bootstrap_data_node(const HdConnTarget *target)
{
	HdConnTarget maint = *target;
	HdConn	   *conn;
	NodeSettings s;
	bool		created = false;

	maint.dbname = maintenance_db(target->dbname);
	conn = hd_conn_open(&maint);
	s = read_node_settings(conn, target->dbname);
	check_node_settings(target->node_name, &s);

	if (s.encoding == NULL)
	{
		create_database(conn, target->dbname);
		created = true;
	}
	else
	{
		check_database(target->node_name, target->dbname, &s);
		ereport(NOTICE,
				(errmsg("database \"%s\" already exists on data node \"%s\", skipping",
						target->dbname, target->node_name)));
	}

	hd_conn_close(conn);
	return created;
}

/*
 * Opens a session on the node's database, which proves that this role can
 * use it; without bootstrap the node's settings are checked there too.
 * Then creates the aggregates that return partial states (agg/partial_agg.c)
 * and the schema chunks go to.
 */
static void
prepare_data_node(const HdConnTarget *target, bool check_settings)
{
	HdConn	   *conn = hd_conn_open(target);

	if (check_settings)
	{
		NodeSettings s = read_node_settings(conn, target->dbname);

		check_node_settings(target->node_name, &s);
		check_database(target->node_name, target->dbname, &s);
	}
	hd_exec(conn, hd_deparse_partial_aggs(hd_partial_agg_helpers()), 0, NULL,
			NULL, NULL);
	hd_exec(conn, hd_deparse_internal_schema(), 0, NULL, NULL, NULL);
	hd_conn_close(conn);
}

/*
 * Every reference table gets its copy on the new node, in this transaction,
 * so that a query pushed to the node finds it (sql/reference.sql).
 */
static void
add_reference_tables(const char *node_name)
{
	Oid			type = NAMEOID;
	Datum		arg = hd_spi_name_arg(node_name);

	CommandCounterIncrement();
	hd_spi_connect();
	hd_spi_execute("SELECT _hyperdist_functions.add_reference_tables($1)", 1, &type,
				   &arg, NULL, false, 0);
	hd_spi_finish();
}

static DefElem *
string_option(const char *name, const char *value, DefElemAction action)
{
	return makeDefElemExtended(NULL, pstrdup(name),
							   (Node *) makeString(pstrdup(value)), action, -1);
}

static Oid
create_server(const char *node_name, const char *host, int port,
			  const char *dbname, const char *agent_key)
{
	CreateForeignServerStmt *stmt = makeNode(CreateForeignServerStmt);
	ObjectAddress address;

	stmt->servername = pstrdup(node_name);
	stmt->fdwname = HD_FDW_NAME;
	stmt->options = list_make4(string_option("host", host, DEFELEM_UNSPEC),
							   string_option("port", psprintf("%d", port), DEFELEM_UNSPEC),
							   string_option("dbname", dbname, DEFELEM_UNSPEC),
							   string_option("agent_public_key", agent_key, DEFELEM_UNSPEC));
	address = CreateForeignServer(stmt);

	/* later steps look the server up */
	CommandCounterIncrement();
	return address.objectId;
}

static Datum
add_result(FunctionCallInfo fcinfo, const char *node_name, const char *host,
		   int port, const char *dbname, bool node_created,
		   bool database_created)
{
	Datum		values[7];
	bool		nulls[7] = {false};

	values[0] = name_datum(node_name);
	values[1] = CStringGetTextDatum(host);
	values[2] = Int32GetDatum(port);
	values[3] = name_datum(dbname);
	values[4] = BoolGetDatum(node_created);
	values[5] = BoolGetDatum(database_created);
	values[6] = BoolGetDatum(false);	/* nothing to install on data nodes */
	return result_row(fcinfo, values, nulls);
}

/* add_data_node when a server called node_name exists already. */
static Datum
add_existing(FunctionCallInfo fcinfo, ForeignServer *server, bool if_not_exists)
{
	HdServerOptions opts;
	HdConnTarget *target;

	if (!hd_server_is_data_node(server))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("server \"%s\" already exists and is not a hyperdist data node",
						server->servername)));
	if (!if_not_exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("data node \"%s\" already exists", server->servername)));

	ereport(NOTICE,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("data node \"%s\" already exists, skipping",
					server->servername),
			 errdetail("Its partial aggregates are brought up to date.")));

	/*
	 * The helper aggregates are this build's: a node added by an older one
	 * gets the missing ones (and their parallel support) this way.
	 */
	target = hd_conn_target_for_server(server->serverid, GetUserId());
	if (!PG_ARGISNULL(6))
		target->password = text_to_cstring(PG_GETARG_TEXT_PP(6));
	prepare_data_node(target, false);
	hd_server_options_get(server, &opts);
	return add_result(fcinfo, server->servername, opts.host, opts.port,
					  opts.dbname, false, false);
}

/*
 * add_data_node(node_name, host, database, port, if_not_exists, bootstrap,
 * password)
 */
Datum
hyperdist_add_data_node(PG_FUNCTION_ARGS)
{
	char	   *node_name;
	char	   *host;
	char	   *dbname;
	int			port;
	bool		if_not_exists = bool_arg(fcinfo, 4, false);
	bool		bootstrap = bool_arg(fcinfo, 5, true);
	ForeignServer *server;
	HdConnTarget *target;
	bool		database_created = false;

	require_superuser("add data nodes");

	node_name = string_arg(fcinfo, 0, NAMEOID, "data node name");
	host = string_arg(fcinfo, 1, TEXTOID, "host");
	dbname = PG_ARGISNULL(2) ? get_database_name(MyDatabaseId) :
		string_arg(fcinfo, 2, NAMEOID, "database");
	port = PG_ARGISNULL(3) ? HD_DEFAULT_AGENT_PORT : PG_GETARG_INT32(3);
	hd_check_port(port);

	server = GetForeignServerByName(node_name, true);
	if (server != NULL)
		return add_existing(fcinfo, server, if_not_exists);

	/*
	 * CREATE DATABASE on the data node cannot be undone if this transaction
	 * aborts later, so do not let a transaction block make that likely.
	 */
	if (bootstrap)
		PreventInTransactionBlock(true, "add_data_node");

	server = GetForeignServer(create_server(node_name, host, port, dbname,
											agent_public_key(node_name)));

	/* the role's own credentials, or the password given for this call */
	target = hd_conn_target_for_server(server->serverid, GetUserId());
	if (!PG_ARGISNULL(6))
		target->password = text_to_cstring(PG_GETARG_TEXT_PP(6));

	if (bootstrap)
		database_created = bootstrap_data_node(target);
	prepare_data_node(target, !bootstrap);
	add_reference_tables(node_name);

	return add_result(fcinfo, node_name, host, port, dbname, true,
					  database_created);
}

/*
 * Refuses to drop foreign tables with the data node unless forced: they may
 * be the only way someone reads data there.
 */
static void
check_no_foreign_tables(ForeignServer *server)
{
	Relation	rel = table_open(ForeignTableRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, Anum_pg_foreign_table_ftserver,
				BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(server->serverid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		relid = ((Form_pg_foreign_table) GETSTRUCT(tup))->ftrelid;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("data node \"%s\" is used by foreign tables",
						server->servername),
				 errdetail("Foreign table \"%s\" is one of them.",
						   get_rel_name(relid)),
				 errhint("Drop them first, or use force => true to drop them with the data node.")));
}

static void
drop_remote_database(const HdConnTarget *target)
{
	HdConnTarget maint = *target;
	HdConn	   *conn;

	maint.dbname = maintenance_db(target->dbname);
	conn = hd_conn_open(&maint);
	hd_exec(conn, hd_deparse_drop_database(target->dbname), 0, NULL, NULL, NULL);
	hd_conn_close(conn);
}

/*
 * Detaches the node from every distributed hypertable (detach_data_node in
 * the SQL script), which refuses when it holds chunks unless force.
 */
static void
detach_from_hypertables(FunctionCallInfo fcinfo, const char *node_name, bool force,
						bool repartition)
{
	Oid			types[3] = {NAMEOID, BOOLOID, BOOLOID};
	Datum		args[3] = {hd_spi_name_arg(node_name), BoolGetDatum(force),
	BoolGetDatum(repartition)};
	/* detach_data_node lives in the schema of this function's own */
	char	   *schema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));

	hd_spi_connect();
	hd_spi_execute_once(psprintf("SELECT %s.detach_data_node($1, NULL, if_attached => true,"
								 " force => $2, repartition => $3)",
								 quote_identifier(schema)),
						3, types, args, NULL, false, 0);
	hd_spi_finish();
}

/*
 * With force, the chunks whose only current replicas are on the node: one
 * with no other replica goes with the node (the detach drops it); one
 * with stale replicas elsewhere keeps them, made current, since no
 * up-to-date copy will come back.  Rows are lost either way, so each chunk
 * is named.  Nothing here reaches the node, which may be dead.
 */
static void
settle_orphan_chunks(const char *node_name)
{
	ListCell   *lc;

	foreach(lc, hd_catalog_chunks_current_only_on(node_name))
	{
		HdCatalogOrphan *o = lfirst(lc);
		ListCell   *ln;

		if (o->stale_nodes == NIL)
		{
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("chunk %s is dropped: its only replica was on data node \"%s\"",
							o->name, node_name),
					 errdetail("Its rows are lost.")));
			continue;
		}
		foreach(ln, o->stale_nodes)
			hd_replica_mark_current(o->chunk_id, lfirst(ln));
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("chunk %s had its only current replica on data node \"%s\": its stale replicas become current",
						o->name, node_name),
				 errdetail("The rows written to it since those replicas fell behind are lost.")));
	}
}

/*
 * delete_data_node(node_name, if_exists, force, repartition, drop_database)
 */
Datum
hyperdist_delete_data_node(PG_FUNCTION_ARGS)
{
	char	   *node_name;
	bool		if_exists = bool_arg(fcinfo, 1, false);
	bool		force = bool_arg(fcinfo, 2, false);
	bool		drop_database = bool_arg(fcinfo, 4, false);
	ForeignServer *server;
	HdConnTarget *target = NULL;
	ObjectAddress address;

	require_superuser("delete data nodes");
	node_name = string_arg(fcinfo, 0, NAMEOID, "data node name");

	server = hd_data_node_get(node_name, if_exists);
	if (server == NULL)
	{
		ereport(NOTICE,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" does not exist, skipping", node_name)));
		PG_RETURN_BOOL(false);
	}

	/* DROP DATABASE on the data node cannot be undone by an abort here */
	if (drop_database)
		PreventInTransactionBlock(true, "delete_data_node with drop_database");

	/*
	 * Distributed hypertables will be detached from the node here: refuse
	 * when a chunk would lose its last replica or data would be lost unless
	 * force, and repartition the hypertables (repartition).  That also moves
	 * the access node's chunk relations off the node, so the check for
	 * other foreign tables comes after it.
	 */
	if (force)
		settle_orphan_chunks(node_name);
	detach_from_hypertables(fcinfo, node_name, force, bool_arg(fcinfo, 3, true));
	if (!force)
		check_no_foreign_tables(server);

	/* the session target needs the user mapping, which goes with the server */
	if (drop_database)
		target = hd_conn_target_for_server(server->serverid, GetUserId());

	ObjectAddressSet(address, ForeignServerRelationId, server->serverid);
	performDeletion(&address, DROP_CASCADE, 0);
	hd_conn_invalidate_server(server->serverid);
	hd_health_forget(server->serverid);
	hd_node_status_forget(node_name);

	if (drop_database)
		drop_remote_database(target);

	PG_RETURN_BOOL(true);
}

/* SET an option the server has, ADD one it does not have yet. */
static DefElem *
changed_option(ForeignServer *server, const char *name, const char *value)
{
	ListCell   *lc;

	foreach(lc, server->options)
	{
		if (strcmp(lfirst_node(DefElem, lc)->defname, name) == 0)
			return string_option(name, value, DEFELEM_SET);
	}
	return string_option(name, value, DEFELEM_ADD);
}

/*
 * alter_data_node(node_name, host, database, port, available): NULL
 * arguments keep the current value.
 */
Datum
hyperdist_alter_data_node(PG_FUNCTION_ARGS)
{
	char	   *node_name;
	ForeignServer *server;
	List	   *options = NIL;
	HdServerOptions opts;
	Datum		values[5];
	bool		nulls[5] = {false};

	require_superuser("alter data nodes");
	node_name = string_arg(fcinfo, 0, NAMEOID, "data node name");
	server = hd_data_node_get(node_name, false);

	if (!PG_ARGISNULL(1))
		options = lappend(options,
						  changed_option(server, "host",
										 string_arg(fcinfo, 1, TEXTOID, "host")));
	if (!PG_ARGISNULL(2))
		options = lappend(options,
						  changed_option(server, "dbname",
										 string_arg(fcinfo, 2, NAMEOID, "database")));
	if (!PG_ARGISNULL(3))
	{
		hd_check_port(PG_GETARG_INT32(3));
		options = lappend(options,
						  changed_option(server, "port",
										 psprintf("%d", PG_GETARG_INT32(3))));
	}

	/*
	 * The manual switch wins over the health monitor: a node set
	 * unavailable is not used whatever the monitor sees.  Setting it
	 * available also forgets that the node was seen down, so that it is
	 * tried again at once (and marked down again if it still fails).
	 */
	if (!PG_ARGISNULL(4))
	{
		options = lappend(options,
						  changed_option(server, "available",
										 PG_GETARG_BOOL(4) ? "true" : "false"));
		if (PG_GETARG_BOOL(4))
			hd_health_clear(server->serverid);
	}

	if (options != NIL)
	{
		AlterForeignServerStmt *stmt = makeNode(AlterForeignServerStmt);

		stmt->servername = node_name;
		stmt->options = options;
		AlterForeignServer(stmt);
		CommandCounterIncrement();
		/* sessions opened with the old address must not be reused */
		hd_conn_invalidate_server(server->serverid);
		server = GetForeignServer(server->serverid);
	}

	hd_server_options_get(server, &opts);
	values[0] = name_datum(server->servername);
	values[1] = CStringGetTextDatum(opts.host);
	values[2] = Int32GetDatum(opts.port);
	values[3] = name_datum(opts.dbname);
	values[4] = BoolGetDatum(opts.available);
	PG_RETURN_DATUM(result_row(fcinfo, values, nulls));
}
