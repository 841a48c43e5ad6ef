/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/utility.c — DDL on distributed hypertables.
 *
 * hd_utility_process sends DDL that names a distributed hypertable to
 * each of its data nodes, inside the remote transactions, so that it
 * commits or rolls back with the local transaction.  On a data node the
 * hypertable is a partitioned table whose partitions are the chunks, so a
 * statement on it reaches every chunk: ALTER TABLE recurses, indexes and
 * constraints are partitioned, TRUNCATE and DROP cascade.  The statement's
 * own text is forwarded (with the access node's search_path), which keeps
 * every option the user wrote.  On the access node the foreign table gets
 * what a foreign table can hold (columns, defaults, NOT NULL, CHECK);
 * indexes and unique constraints exist only on the data nodes, the latter
 * named on the access node by mirrors (see "constraint mirrors").
 *
 * Statements that cannot be distributed are refused before anything runs,
 * anywhere.  Handled: CREATE/DROP INDEX and ALTER INDEX ... RENAME
 * (ddl/index.c), ALTER TABLE (columns, defaults, NOT NULL, constraints,
 * owner), RENAME (table, column, constraint), SET SCHEMA, triggers
 * (ddl/trigger.c: CREATE, DROP, RENAME, ENABLE/DISABLE), GRANT/REVOKE on
 * the table or on all tables in its schema; TRUNCATE, DROP TABLE, DROP
 * SCHEMA ... CASCADE, DROP OWNED BY and REASSIGN OWNED BY (ddl/drop.c).
 * Reference tables' DDL is ddl/reference.c's.  VACUUM of a distributed
 * hypertable runs on its data nodes, and a database-wide ANALYZE also
 * analyzes the distributed hypertables (fdw/analyze.c).  COPY FROM in text
 * or CSV goes to ingest/copy_from.c, COPY TO becomes COPY (SELECT ...).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_expr.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cagg/cagg.h"
#include "deparse/deparse.h"
#include "ingest/copy_from.h"
#include "metadata/cache.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "remote/node.h"
#include "metadata/hypertable.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/node_health.h"
#include "spi_plan.h"
#include "ddl/ddl_internal.h"
#include "ddl/storage_params.h"
#include "ddl/utility.h"

/*
 * Runs stmt the usual way: the original statement (whose tree may belong
 * to a cached plan, read_only_tree) or a copy made here.
 */
void
hd_ddl_run_standard(UtilityArgs *args, Node *stmt)
{
	PlannedStmt *pstmt = args->pstmt;
	bool		read_only_tree = args->read_only_tree;

	if (stmt != pstmt->utilityStmt)
	{
		pstmt = copyObject(pstmt);
		pstmt->utilityStmt = stmt;
		read_only_tree = false;
	}
	args->next(pstmt, args->query_string, read_only_tree, args->context,
			   args->params, args->query_env, args->dest, args->qc);
}

void
hd_ddl_refuse(const char *what, Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on distributed hypertable \"%s\"",
					what, get_rel_name(relid)),
			 errdetail("The statement cannot be applied to the data nodes, so it was not applied anywhere."),
			 errhint("Run it on the data nodes with distributed_exec() if it is needed there.")));
}

/* The statement's own text within the query string. */
char *
hd_ddl_statement_text(UtilityArgs *args)
{
	int			loc = Max(args->pstmt->stmt_location, 0);
	int			len = args->pstmt->stmt_len;

	if (len <= 0)
		len = strlen(args->query_string + loc);
	return pnstrdup(args->query_string + loc, len);
}

/*
 * Runs sql on the data nodes (server OIDs) at once, in the remote
 * transactions, with this session's search_path so that names resolve as
 * they did here.
 */
void
hd_ddl_forward_to(List *servers, const char *sql)
{
	hd_exec_on_servers(servers,
					   hd_deparse_with_search_path(GetConfigOption("search_path", false, false),
												   sql));
}

/* The data nodes the hypertable is attached to, and those holding its chunks. */
static List *
nodes_of(HdHypertable *ht)
{
	const HdChunkSet *chunks = hd_catalog_cache_chunks(ht);
	List	   *servers = hd_hypertable_data_nodes(ht);

	for (int i = 0; i < chunks->nchunks; i++)
		for (int r = 0; r < chunks->chunks[i].nreplicas; r++)
			servers = list_append_unique_oid(servers, chunks->chunks[i].servers[r]);
	return servers;
}

/*
 * Refuses DDL on the hypertable while one of its data nodes is down or set
 * unavailable, before anything is sent anywhere: applied without that
 * node, the hypertable would have two definitions once it is back.
 */
void
hd_ddl_require_nodes_usable(Oid relid)
{
	hd_ddl_require_usable(hd_hypertable_load(relid));
}

/* The same for ht, whose foreign table may be gone (hd_hypertable_dropped). */
void
hd_ddl_require_usable(HdHypertable *ht)
{
	ListCell   *lc;

	foreach(lc, nodes_of(ht))
	{
		ForeignServer *server = GetForeignServer(lfirst_oid(lc));
		HdServerOptions opts;

		hd_server_options_get(server, &opts);
		if (opts.available && !hd_health_node_down(server->serverid))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("data node \"%s\" of distributed hypertable \"%s\" is unavailable",
						server->servername, ht->table_name),
				 errdetail("A change to a distributed hypertable must reach every data node that holds it; it was not applied anywhere."),
				 errhint("Retry when the data node is available again (see hyperdist_information.data_nodes), or remove it with delete_data_node(..., force => true).")));
	}
}

/* Runs sql on every data node of the hypertable, all of which must be usable. */
void
hd_ddl_forward(Oid relid, const char *sql)
{
	hd_ddl_require_nodes_usable(relid);
	hd_ddl_forward_to(hd_hypertable_data_nodes(hd_hypertable_load(relid)), sql);
}

/*
 * The data nodes of hypertables dist, each checked usable, and with refs
 * every data node (reference tables have a copy on each).
 */
List *
hd_ddl_nodes_holding(List *dist, bool refs)
{
	List	   *servers = refs ? hd_data_node_oids() : NIL;
	ListCell   *lc;

	foreach(lc, dist)
	{
		hd_ddl_require_nodes_usable(lfirst_oid(lc));
		servers = list_concat_unique_oid(servers,
										 hd_hypertable_data_nodes(hd_hypertable_load(lfirst_oid(lc))));
	}
	return servers;
}

Oid
hd_ddl_hypertable_of(RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rv, NoLock, true);
	return OidIsValid(relid) && hd_hypertable_registered(relid) ? relid : InvalidOid;
}

void
hd_ddl_check_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

/* Runs sql, a constant text calling a function of the install script on $1. */
void
hd_ddl_call_sql(const char *sql, Oid type, Datum arg)
{
	hd_spi_connect();
	hd_spi_execute(sql, 1, &type, &arg, NULL, false, 0);
	hd_spi_finish();
}

/* The chunks' relations here follow the hypertable's columns and owner. */
static void
sync_chunk_relations(Oid relid)
{
	CommandCounterIncrement();
	hd_ddl_call_sql("SELECT _hyperdist_functions.sync_chunk_relations($1)", OIDOID,
			 ObjectIdGetDatum(relid));
}

/* ---- catalog queries of a data node --------------------------------------- */

/*
 * The arguments of a catalog query of a data node (deparse/ddl.c) for the hypertable relid's first data node (by
 * name): the data nodes' definitions of a hypertable are identical, so any
 * one answers.
 */
void
hd_ddl_first_data_node_args(Oid relid, Oid *types, Datum *args)
{
	HdHypertable *ht = hd_hypertable_load(relid);

	types[0] = NAMEOID;
	args[0] = hd_spi_name_arg(GetForeignServer(linitial_oid(ht->data_nodes))->servername);
	types[1] = TEXTOID;
	args[1] = CStringGetTextDatum(hd_deparse_hypertable_name(ht));
}

/* ---- constraint mirrors ------------------------------------------------------ */

static bool
local_constraint_exists(Oid relid, const char *name)
{
	return OidIsValid(get_relation_constraint_oid(relid, name, true));
}

/*
 * Unique, primary key and exclusion constraints of a distributed hypertable
 * exist only on the data nodes, with their indexes.  Parse analysis of
 * INSERT ... ON CONFLICT ON CONSTRAINT name looks name up among the access
 * node table's own constraints, though, before any hook could step in; so
 * the foreign table carries a mirror of each, of the same name and on the
 * same columns:
 *
 *     CHECK (_hyperdist_functions.unique_on_data_nodes(cols)) NOT VALID
 *
 * PostgreSQL never evaluates a foreign table's CHECK constraints, and the
 * planner ignores NOT VALID ones, so the mirror only names the constraint
 * (ingest/on_conflict.c ships it by that name).  Being an ordinary CHECK constraint,
 * it follows DROP and RENAME CONSTRAINT, DROP COLUMN and ALTER COLUMN TYPE
 * through PostgreSQL's own code; a unique constraint without an index would
 * not (pg_get_constraintdef and ALTER COLUMN TYPE look the index up).
 */
static void
add_constraint_mirror(Relation rel, char *name, Datum columns)
{
	Constraint *con = makeNode(Constraint);
	List	   *args = NIL;
	Datum	   *cols;
	int			ncols;

	deconstruct_array(DatumGetArrayTypeP(columns), NAMEOID, NAMEDATALEN, false,
					  TYPALIGN_CHAR, &cols, NULL, &ncols);
	for (int i = 0; i < ncols; i++)
	{
		ColumnRef  *ref = makeNode(ColumnRef);

		ref->fields = list_make1(makeString(pstrdup(NameStr(*DatumGetName(cols[i])))));
		ref->location = -1;
		args = lappend(args, ref);
	}
	con->contype = CONSTR_CHECK;
	con->conname = name;
	con->raw_expr = (Node *) makeFuncCall(list_make2(makeString("_hyperdist_functions"),
													 makeString("unique_on_data_nodes")),
										  args, COERCE_EXPLICIT_CALL, -1);
	con->skip_validation = true;
	con->initially_valid = false;
	con->location = -1;
	AddRelationNewConstraints(rel, NIL, list_make1(con), false, true, false, NULL);
}

/* Mirrors the data nodes' unique constraints that have no mirror yet. */
static void
sync_constraint_mirrors(Oid relid)
{
	Relation	rel = table_open(relid, AccessExclusiveLock);
	Oid			types[2];
	Datum		args[2];

	hd_ddl_first_data_node_args(relid, types, args);
	hd_spi_connect();
	hd_spi_execute(hd_deparse_unique_constraints_query(), 2, types, args, NULL,
				   false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = NameStr(*DatumGetName(hd_spi_value(i, 1, NAMEOID, NULL)));
		Datum		cols = hd_spi_value(i, 2, NAMEARRAYOID, NULL);

		if (!local_constraint_exists(relid, name))
		{
			add_constraint_mirror(rel, name, cols);
			hd_catalog_add_index(relid, name);	/* the constraint's index */
		}
	}
	hd_spi_finish();
	CommandCounterIncrement();
	table_close(rel, NoLock);
}

PG_FUNCTION_INFO_V1(hyperdist_sync_constraint_mirrors);
PG_FUNCTION_INFO_V1(hyperdist_unique_on_data_nodes);

/* For create_distributed_hypertable, once the data nodes have the table. */
Datum
hyperdist_sync_constraint_mirrors(PG_FUNCTION_ARGS)
{
	hd_ddl_check_owner(PG_GETARG_OID(0));
	sync_constraint_mirrors(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}

/* The mirrors' expression: never evaluated, as explained above. */
Datum
hyperdist_unique_on_data_nodes(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(true);
}

/*
 * The rows of a distributed hypertable live on the data nodes, so its
 * foreign keys exist there only (the access node's foreign table cannot
 * have one), each data node checking its own rows against its own table
 * of the name referenced.  TimescaleDB 2.13 warned so too.
 */
static void
warn_foreign_key(const char *table, const char *conname, const char *referenced)
{
	ereport(WARNING,
			(errmsg("distributed hypertable \"%s\" has a foreign key to a non-distributed table",
					table),
			 conname != NULL ?
			 errdetail("Foreign key \"%s\" is enforced on each data node against that data node's own table %s.",
					   conname, referenced) :
			 errdetail("The foreign key is enforced on each data node against that data node's own table %s.",
					   referenced),
			 errhint("Table %s must exist, with the same rows, on every data node of the hypertable (create it with distributed_exec).",
					 referenced)));
}

PG_FUNCTION_INFO_V1(hyperdist_warn_foreign_key);

/* For create_distributed_hypertable: (table, constraint, referenced table). */
Datum
hyperdist_warn_foreign_key(PG_FUNCTION_ARGS)
{
	warn_foreign_key(NameStr(*PG_GETARG_NAME(0)), NameStr(*PG_GETARG_NAME(1)),
					 text_to_cstring(PG_GETARG_TEXT_PP(2)));
	PG_RETURN_VOID();
}

static void
warn_added_foreign_key(Oid relid, AlterTableCmd *cmd)
{
	Constraint *con;

	if (cmd->subtype != AT_AddConstraint)
		return;
	con = castNode(Constraint, cmd->def);
	if (con->contype == CONSTR_FOREIGN &&
		!hd_catalog_is_reference_table(RangeVarGetRelid(con->pktable, NoLock, true)))
		warn_foreign_key(get_rel_name(relid), con->conname,
						 quote_qualified_identifier(con->pktable->schemaname,
													con->pktable->relname));
}

static bool
adds_unique_constraint(AlterTableCmd *cmd)
{
	ConstrType	type;

	if (cmd->subtype != AT_AddConstraint)
		return false;
	type = castNode(Constraint, cmd->def)->contype;
	return type == CONSTR_PRIMARY || type == CONSTR_UNIQUE || type == CONSTR_EXCLUSION;
}

/* ---- ALTER TABLE, RENAME, SET SCHEMA, GRANT --------------------------------- */

static bool
is_dimension_column(Oid relid, const char *column)
{
	HdHypertable *ht = hd_hypertable_load(relid);

	return column != NULL &&
		(strcmp(column, ht->time.column_name) == 0 ||
		 (ht->has_space && strcmp(column, ht->space.column_name) == 0));
}

/*
 * Whether a new column would be an identity or generated column, whose
 * existing rows the data nodes would each fill with values of their own,
 * or would reference a table (the foreign table cannot).
 */
bool
hd_ddl_computes_values(ColumnDef *def)
{
	ListCell   *lc;

	if (def->identity || def->generated)
		return true;
	foreach(lc, def->constraints)
	{
		ConstrType	type = lfirst_node(Constraint, lc)->contype;

		if (type == CONSTR_IDENTITY || type == CONSTR_GENERATED || type == CONSTR_FOREIGN)
			return true;
	}
	return false;
}

/*
 * Whether a new column's existing rows would get values the data nodes each
 * compute on their own: a serial type (a sequence per node) or a default
 * calling a volatile function (nextval, random, clock_timestamp...), which
 * would number rows twice or give two replicas of a row different values,
 * or a stable one (now(), current_setting...), which each node computes at
 * its own transaction start, with its own settings.
 */
bool
hd_ddl_fills_volatile(ColumnDef *def)
{
	static const char *const serials[] = {"serial", "serial4", "bigserial", "serial8",
	"smallserial", "serial2"};
	ListCell   *lc;

	if (def->typeName != NULL && list_length(def->typeName->names) == 1)
		for (int i = 0; i < lengthof(serials); i++)
			if (strcmp(strVal(linitial(def->typeName->names)), serials[i]) == 0)
				return true;
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);
		ParseState *pstate;

		if (con->contype != CONSTR_DEFAULT || con->raw_expr == NULL)
			continue;
		pstate = make_parsestate(NULL);
		if (contain_mutable_functions(transformExpr(pstate, copyObject(con->raw_expr),
													EXPR_KIND_COLUMN_DEFAULT)))
			return true;
	}
	return false;
}

/*
 * Identity and generation expression subcommands apply to the access node's
 * foreign table only: it computes those values, the data nodes' columns are
 * plain.
 */
static bool
alter_cmd_is_access_node_only(AlterTableCmd *cmd)
{
	return cmd->subtype == AT_AddIdentity || cmd->subtype == AT_SetIdentity ||
		cmd->subtype == AT_DropIdentity || cmd->subtype == AT_DropExpression;
}

/*
 * Which subcommands apply to the access node's foreign table too (the rest
 * only exist on data nodes: unique, primary key and exclusion constraints).
 * Refuses subcommands that cannot be distributed.
 */
static bool
alter_cmd_is_local(Oid relid, AlterTableCmd *cmd)
{
	if (alter_cmd_is_access_node_only(cmd))
		return true;
	switch (cmd->subtype)
	{
		case AT_AddColumn:
			if (hd_ddl_computes_values(castNode(ColumnDef, cmd->def)))
				hd_ddl_refuse("ADD COLUMN with an identity, a generation expression or a foreign key",
					   relid);
			if (hd_ddl_fills_volatile(castNode(ColumnDef, cmd->def)))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("ADD COLUMN with a serial type or a volatile or stable default is not supported on distributed hypertable \"%s\"",
								get_rel_name(relid)),
						 errdetail("Each data node would fill the existing rows with values of its own."),
						 errhint("Add the column with a constant default (or none), then give it this one with ALTER TABLE ... ALTER COLUMN ... SET DEFAULT: the access node computes it for new rows.")));
			return true;
		case AT_ColumnDefault:
		case AT_DropNotNull:
		case AT_SetNotNull:
		case AT_ChangeOwner:
			return true;
		case AT_DropColumn:
		case AT_AlterColumnType:
			if (is_dimension_column(relid, cmd->name))
				hd_ddl_refuse(psprintf("%s of dimension column \"%s\"",
								cmd->subtype == AT_DropColumn ? "DROP COLUMN" : "ALTER COLUMN TYPE",
								cmd->name), relid);
			return true;
		case AT_AddConstraint:
			return castNode(Constraint, cmd->def)->contype == CONSTR_CHECK;
		case AT_DropConstraint:
			return local_constraint_exists(relid, cmd->name);
		default:
			hd_ddl_refuse("this ALTER TABLE subcommand", relid);
	}
	return false;				/* keep compiler quiet */
}

static bool
process_alter_table(UtilityArgs *args, AlterTableStmt *stmt)
{
	Oid			relid = hd_ddl_hypertable_of(stmt->relation);
	AlterTableStmt *local;
	bool		mirror = false;
	int			an_only = 0;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return false;
	if (hd_trigger_alter_table(args, stmt, relid))
		return true;
	if (hd_storage_params_stmt(relid, stmt))
	{
		hd_ddl_check_owner(relid);
		LockRelationOid(relid, AccessExclusiveLock);
		hd_ddl_forward(relid, hd_storage_params_apply(relid, stmt));
		return true;
	}
	local = copyObject(stmt);
	local->cmds = NIL;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (alter_cmd_is_local(relid, cmd))
			local->cmds = lappend(local->cmds, cmd);
		mirror |= adds_unique_constraint(cmd);
		warn_added_foreign_key(relid, cmd);
		an_only += alter_cmd_is_access_node_only(cmd);
	}
	if (an_only > 0 && an_only < list_length(stmt->cmds))
		hd_ddl_refuse("an identity or generation expression subcommand together with others",
			   relid);
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	if (local->cmds != NIL)
	{
		local->objtype = OBJECT_FOREIGN_TABLE;
		hd_ddl_run_standard(args, (Node *) local);
		sync_chunk_relations(relid);
	}
	if (an_only == 0)
		hd_ddl_forward(relid, hd_ddl_statement_text(args));
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		/* a dropped constraint takes its index, if it had one */
		if (cmd->subtype == AT_DropConstraint)
			hd_catalog_forget_index(relid, cmd->name);
		if (cmd->subtype == AT_ChangeOwner)
			hd_ddl_forward(relid, hd_deparse_chunks_owner(hd_hypertable_load(relid),
												   get_rolespec_name(cmd->newowner)));
	}
	if (mirror)
		sync_constraint_mirrors(relid);
	return true;
}

static bool
process_rename(UtilityArgs *args, RenameStmt *stmt)
{
	Oid			relid;
	bool		local = true;

	if (stmt->renameType == OBJECT_INDEX)
		return hd_index_rename(args, stmt);
	if (stmt->renameType == OBJECT_TRIGGER)
		return hd_trigger_rename(args, stmt);
	if (stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_FOREIGN_TABLE &&
		stmt->renameType != OBJECT_COLUMN && stmt->renameType != OBJECT_TABCONSTRAINT)
		return false;
	relid = hd_ddl_hypertable_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	if (stmt->renameType == OBJECT_TABCONSTRAINT)
		local = local_constraint_exists(relid, stmt->subname);
	/* the data nodes first: they know the table by its current name */
	hd_ddl_forward(relid, hd_ddl_statement_text(args));
	if (local)
		hd_ddl_run_standard(args, (Node *) stmt);
	if (stmt->renameType == OBJECT_COLUMN)
		sync_chunk_relations(relid);
	return true;
}

static bool
process_set_schema(UtilityArgs *args, AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	if (stmt->objectType != OBJECT_TABLE && stmt->objectType != OBJECT_FOREIGN_TABLE)
		return false;
	relid = hd_ddl_hypertable_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;
	hd_ddl_check_owner(relid);
	hd_ddl_forward(relid, hd_deparse_set_schema(stmt->newschema, hd_ddl_statement_text(args)));
	hd_ddl_run_standard(args, (Node *) stmt);
	return true;
}

/* A hypertable's grants hold for its chunks' relations, as in TimescaleDB. */
static void
grant_on_chunk_relations(UtilityArgs *args, GrantStmt *stmt, Oid relid)
{
	GrantStmt  *chunks = copyObject(stmt);

	chunks->targtype = ACL_TARGET_OBJECT;
	chunks->objtype = OBJECT_TABLE;
	chunks->objects = hd_catalog_chunk_relations(relid);
	if (chunks->objects != NIL)
		hd_ddl_run_standard(args, (Node *) chunks);
}

/*
 * GRANT/REVOKE ... ON ALL TABLES IN SCHEMA: here as usual, then the same
 * statement on the data nodes of the distributed hypertables in those
 * schemas (where it also reaches the schema's other tables, as in
 * TimescaleDB), and on every data node when they hold reference tables.
 */
static bool
process_grant_in_schema(UtilityArgs *args, GrantStmt *stmt)
{
	List	   *dist = NIL;
	List	   *servers;
	bool		refs = false;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Oid			nspid = get_namespace_oid(strVal(lfirst(lc)), true);

		if (!OidIsValid(nspid))
			continue;
		dist = list_concat(dist, hd_catalog_hypertables_in(nspid, InvalidOid));
		refs |= hd_catalog_reference_tables_in(nspid, InvalidOid) != NIL;
	}
	if (dist == NIL && !refs)
		return false;
	servers = hd_ddl_nodes_holding(dist, refs);
	hd_ddl_run_standard(args, (Node *) stmt);
	foreach(lc, dist)
		grant_on_chunk_relations(args, stmt, lfirst_oid(lc));
	hd_ddl_forward_to(servers, hd_ddl_statement_text(args));
	return true;
}

static bool
process_grant(UtilityArgs *args, GrantStmt *stmt)
{
	Oid			relid = InvalidOid;
	ListCell   *lc;

	if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA && stmt->objtype == OBJECT_TABLE)
		return process_grant_in_schema(args, stmt);
	if (stmt->targtype != ACL_TARGET_OBJECT || stmt->objtype != OBJECT_TABLE)
		return false;
	foreach(lc, stmt->objects)
	{
		Oid			r = hd_ddl_hypertable_of(lfirst(lc));

		if (OidIsValid(r))
			relid = r;
	}
	if (!OidIsValid(relid))
		return false;
	if (list_length(stmt->objects) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot grant or revoke on a distributed hypertable together with other tables"),
				 errhint("Use one statement per distributed hypertable.")));
	hd_ddl_run_standard(args, (Node *) stmt);
	grant_on_chunk_relations(args, stmt, relid);
	hd_ddl_forward(relid, hd_ddl_statement_text(args));
	return true;
}

/* ---- COPY FROM -------------------------------------------------------------- */

/*
 * COPY hypertable FROM ...: text and CSV rows go to the data nodes as they
 * came (ingest/copy_from.c); anything else takes PostgreSQL's COPY into
 * the foreign table.
 */
static bool
process_copy_from(UtilityArgs *args, CopyStmt *stmt)
{
	Oid			relid = hd_ddl_hypertable_of(stmt->relation);
	ParseState *pstate;
	uint64		processed;

	if (!OidIsValid(relid))
		return false;
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = args->query_string;
	if (!hd_copy_from(pstate, stmt, relid, &processed))
		return false;
	if (args->qc != NULL)
		SetQueryCompletion(args->qc, CMDTAG_COPY, processed);
	return true;
}

/* ---- COPY TO ---------------------------------------------------------------- */

/* COPY hypertable TO ...: PostgreSQL copies only queries from foreign tables. */
static bool
process_copy_to(UtilityArgs *args, CopyStmt *stmt)
{
	Oid			relid;
	StringInfoData sql;
	ListCell   *lc;

	if (stmt->is_from || stmt->relation == NULL)
		return false;
	relid = hd_ddl_hypertable_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	if (stmt->attlist == NIL)
		appendStringInfoChar(&sql, '*');
	foreach(lc, stmt->attlist)
		appendStringInfo(&sql, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(strVal(lfirst(lc))));
	appendStringInfo(&sql, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
	stmt = copyObject(stmt);
	stmt->query = linitial_node(RawStmt, raw_parser(sql.data, RAW_PARSE_DEFAULT))->stmt;
	stmt->relation = NULL;
	stmt->attlist = NIL;
	hd_ddl_run_standard(args, (Node *) stmt);
	return true;
}


/* ---- ANALYZE ------------------------------------------------------------------ */

/* Whether a VACUUM or ANALYZE statement analyzes. */
static bool
analyzes(VacuumStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->is_vacuumcmd)
		return true;
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "analyze") == 0)
			return defGetBoolean(opt);
	}
	return false;
}

/* An ANALYZE with the options of stmt that apply to it, and no tables. */
static VacuumStmt *
analyze_stmt(VacuumStmt *stmt)
{
	VacuumStmt *analyze = makeNode(VacuumStmt);
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "verbose") == 0 ||
			strcmp(opt->defname, "skip_locked") == 0)
			analyze->options = lappend(analyze->options, opt);
	}
	analyze->is_vacuumcmd = false;
	return analyze;
}

/*
 * The ANALYZE of the distributed hypertables the role may analyze (as a
 * database-wide ANALYZE picks tables: owned, or the database is), with
 * the options of stmt that apply; NULL if there are none.
 */
static VacuumStmt *
analyze_of_dist_hypertables(VacuumStmt *stmt)
{
	VacuumStmt *analyze = analyze_stmt(stmt);
	bool		db_owner = pg_database_ownercheck(MyDatabaseId, GetUserId());
	List	   *relids;
	ListCell   *lc;

	PushActiveSnapshot(GetTransactionSnapshot());
	relids = hd_catalog_hypertables_in(InvalidOid, InvalidOid);
	PopActiveSnapshot();
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		RangeVar   *rv;

		if (!db_owner && !pg_class_ownercheck(relid, GetUserId()))
			continue;
		rv = makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
						  get_rel_name(relid), -1);
		analyze->rels = lappend(analyze->rels, makeVacuumRelation(rv, relid, NIL));
	}
	return analyze->rels != NIL ? analyze : NULL;
}

/*
 * Runs VACUUM of the hypertables (relids, one VacuumRelation each) on their
 * data nodes, each node's statements at once, outside any transaction (as
 * VACUUM needs), relaying what VACUUM VERBOSE says there.
 */
static void
vacuum_on_data_nodes(VacuumStmt *stmt, List *vrels, List *relids)
{
	HdRequestSet *set = hd_reqset_create();
	ListCell   *lc1,
			   *lc2;

	forboth(lc1, vrels, lc2, relids)
	{
		char	   *sql = hd_deparse_vacuum(stmt->options, lfirst_oid(lc2),
											((VacuumRelation *) lfirst(lc1))->va_cols);
		ListCell   *lc;

		foreach(lc, hd_hypertable_data_nodes(hd_hypertable_load(lfirst_oid(lc2))))
		{
			HdConn	   *conn = hd_conn_get(lfirst_oid(lc), false);

			hd_conn_relay_notices(conn);
			(void) hd_reqset_exec(set, conn, sql, 0, NULL, NULL);
		}
	}
	hd_reqset_wait(set);
}

/* Whether the role may vacuum relid, as VACUUM decides (else a WARNING). */
static bool
may_vacuum(Oid relid)
{
	if (pg_class_ownercheck(relid, GetUserId()) ||
		pg_database_ownercheck(MyDatabaseId, GetUserId()))
		return true;
	ereport(WARNING,
			(errmsg("skipping \"%s\" --- only table or database owner can vacuum it",
					get_rel_name(relid))));
	return false;
}

/*
 * VACUUM naming distributed hypertables runs on their data nodes, where
 * the rows are (VACUUM of a partitioned table processes its partitions),
 * with the statement's options; then, with ANALYZE, the access node
 * samples them (fdw/analyze.c).  The statement's other tables are
 * vacuumed here as usual.
 */
static bool
process_vacuum_rels(UtilityArgs *args, VacuumStmt *stmt)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *dist = NIL;
	List	   *relids = NIL;
	List	   *local = NIL;
	VacuumStmt *rest;
	ListCell   *lc;

	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst_node(VacuumRelation, lc);
		Oid			relid = hd_ddl_hypertable_of(vrel->relation);

		if (!OidIsValid(relid))
			local = lappend(local, vrel);
		else if (may_vacuum(relid))
		{
			dist = lappend(dist, vrel);
			relids = lappend_oid(relids, relid);
		}
	}
	if (list_length(local) == list_length(stmt->rels))
		return false;

	PreventInTransactionBlock(args->context == PROCESS_UTILITY_TOPLEVEL, "VACUUM");
	vacuum_on_data_nodes(stmt, dist, relids);
	if (local != NIL)
	{
		rest = copyObject(stmt);
		rest->rels = local;
		hd_ddl_run_standard(args, (Node *) rest);
		MemoryContextSwitchTo(cxt);
	}
	if (dist != NIL && analyzes(stmt))
	{
		rest = analyze_stmt(stmt);
		rest->rels = dist;
		hd_ddl_run_standard(args, (Node *) rest);
	}
	return true;
}

/*
 * A database-wide ANALYZE (or VACUUM ANALYZE) leaves foreign tables out,
 * and so distributed hypertables: they are analyzed after the rest, from
 * samples of the data nodes' rows.  A database-wide VACUUM does not reach
 * the data nodes: their autovacuum looks after the chunks.
 */
static bool
process_vacuum_all(UtilityArgs *args, VacuumStmt *stmt)
{
	MemoryContext cxt = CurrentMemoryContext;
	VacuumStmt *analyze;

	if (!analyzes(stmt))
		return false;
	analyze = analyze_of_dist_hypertables(stmt);
	hd_ddl_run_standard(args, (Node *) stmt);
	if (analyze == NULL)
		return true;

	/*
	 * A statement that ran in transactions of its own returns in a new one,
	 * with its context current: back to the statement's, which outlives it.
	 */
	MemoryContextSwitchTo(cxt);
	hd_ddl_run_standard(args, (Node *) analyze);
	return true;
}

static bool
process_vacuum(UtilityArgs *args, VacuumStmt *stmt)
{
	if (stmt->rels == NIL)
		return process_vacuum_all(args, stmt);
	if (stmt->is_vacuumcmd)
		return process_vacuum_rels(args, stmt);
	return false;				/* ANALYZE of named tables: the FDW's */
}

/* ---- statements that cannot be distributed ----------------------------------- */

static void
refuse_undistributable(Node *stmt)
{
	RangeVar   *rv = NULL;
	const char *what = NULL;

	switch (nodeTag(stmt))
	{
		case T_RuleStmt:
			rv = ((RuleStmt *) stmt)->relation;
			what = "CREATE RULE";
			break;
		case T_ClusterStmt:
			rv = ((ClusterStmt *) stmt)->relation;
			what = "CLUSTER";
			break;
		case T_ReindexStmt:
			rv = ((ReindexStmt *) stmt)->relation;
			what = "REINDEX";
			break;
		case T_CreatePolicyStmt:
			rv = ((CreatePolicyStmt *) stmt)->table;
			what = "CREATE POLICY";
			break;
		default:
			return;
	}
	if (OidIsValid(hd_ddl_hypertable_of(rv)))
		hd_ddl_refuse(what, hd_ddl_hypertable_of(rv));
}

/* ---- data nodes are servers of hyperdist's wrapper ----------------------------- */

/* Whether name is a data node's server. */
static bool
is_data_node(const char *name)
{
	ForeignServer *server = GetForeignServerByName(name, true);

	return server != NULL && hd_server_is_data_node(server);
}

static void
refuse_on_data_node(const char *what, const char *name, const char *instead)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s of data node \"%s\" is not supported", what, name),
			 errdetail("The catalog of distributed hypertables refers to data nodes by name."),
			 errhint("%s", instead)));
}

/*
 * A data node is made and removed by add_data_node and delete_data_node,
 * which keep the catalog in step; CREATE SERVER with hyperdist's wrapper,
 * DROP SERVER and RENAME of a data node would leave it behind, and its
 * VERSION means nothing.  Its options and owner may change.
 */
static void
refuse_server_ddl(Node *stmt)
{
	ListCell   *lc;

	if (IsA(stmt, CreateForeignServerStmt) &&
		strcmp(((CreateForeignServerStmt *) stmt)->fdwname, HD_FDW_NAME) == 0)
		refuse_on_data_node("CREATE SERVER", ((CreateForeignServerStmt *) stmt)->servername,
							"Use add_data_node().");
	if (IsA(stmt, DropStmt) && ((DropStmt *) stmt)->removeType == OBJECT_FOREIGN_SERVER)
		foreach(lc, ((DropStmt *) stmt)->objects)
			if (is_data_node(strVal(lfirst(lc))))
				refuse_on_data_node("DROP SERVER", strVal(lfirst(lc)), "Use delete_data_node().");
	if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_FOREIGN_SERVER &&
		is_data_node(strVal(((RenameStmt *) stmt)->object)))
		refuse_on_data_node("ALTER SERVER ... RENAME", strVal(((RenameStmt *) stmt)->object),
							"Add a node under the new name, drain the old one and delete it.");
	if (IsA(stmt, AlterForeignServerStmt) && ((AlterForeignServerStmt *) stmt)->has_version &&
		is_data_node(((AlterForeignServerStmt *) stmt)->servername))
		refuse_on_data_node("ALTER SERVER ... VERSION", ((AlterForeignServerStmt *) stmt)->servername,
							"A data node has no version of its own here.");
}

/* ---- foreign keys to distributed hypertables ---------------------------------- */

static void
refuse_reference(Constraint *con)
{
	Oid			relid;

	if (con->contype != CONSTR_FOREIGN)
		return;
	relid = hd_ddl_hypertable_of(con->pktable);
	if (OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign keys to hypertables are not supported"),
				 errdetail("Table \"%s\" is a distributed hypertable: its rows are on the data nodes.",
						   get_rel_name(relid))));
}

/* elts: a CREATE TABLE's elements, or the definition ALTER TABLE adds */
static void
refuse_references_in(List *elts)
{
	ListCell   *lc1,
			   *lc2;

	foreach(lc1, elts)
	{
		Node	   *elt = lfirst(lc1);

		if (IsA(elt, Constraint))
			refuse_reference((Constraint *) elt);
		else if (IsA(elt, ColumnDef))
			foreach(lc2, ((ColumnDef *) elt)->constraints)
				refuse_reference(lfirst_node(Constraint, lc2));
	}
}

/*
 * A distributed hypertable is a foreign table here, which PostgreSQL would
 * refuse as a referenced table with 42809; TimescaleDB refused foreign keys
 * to hypertables with 0A000, so this does.
 */
static void
refuse_foreign_key_to_hypertable(Node *stmt)
{
	ListCell   *lc;

	if (IsA(stmt, CreateStmt))
		refuse_references_in(((CreateStmt *) stmt)->tableElts);
	if (!IsA(stmt, AlterTableStmt))
		return;
	foreach(lc, ((AlterTableStmt *) stmt)->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_AddConstraint || cmd->subtype == AT_AddColumn)
			refuse_references_in(list_make1(cmd->def));
	}
}

static bool
process(UtilityArgs *args, Node *stmt)
{
	refuse_server_ddl(stmt);
	refuse_foreign_key_to_hypertable(stmt);
	switch (nodeTag(stmt))
	{
		case T_DropStmt:
			if (((DropStmt *) stmt)->removeType == OBJECT_TABLE ||
				((DropStmt *) stmt)->removeType == OBJECT_FOREIGN_TABLE)
			{
				hd_reference_drop_tables((DropStmt *) stmt);
				return hd_ddl_drop_table(args, (DropStmt *) stmt);
			}
			if (((DropStmt *) stmt)->removeType == OBJECT_INDEX)
				return hd_index_drop(args, (DropStmt *) stmt);
			if (((DropStmt *) stmt)->removeType == OBJECT_SCHEMA)
				return hd_ddl_drop_schema((DropStmt *) stmt);
			if (((DropStmt *) stmt)->removeType == OBJECT_TRIGGER)
			{
				hd_reference_drop_trigger((DropStmt *) stmt);
				return hd_trigger_drop(args, (DropStmt *) stmt);
			}
			if (((DropStmt *) stmt)->removeType == OBJECT_MATVIEW ||
				((DropStmt *) stmt)->removeType == OBJECT_VIEW)
			{
				/* the objects that are no continuous aggregates, if any */
				if (!hd_cagg_drop((DropStmt *) stmt))
					hd_ddl_run_standard(args, stmt);
				return true;
			}
			return false;
		case T_DropOwnedStmt:
			return hd_ddl_drop_owned((DropOwnedStmt *) stmt);
		case T_ReassignOwnedStmt:
			return hd_ddl_reassign_owned(args, (ReassignOwnedStmt *) stmt);
		case T_CreateTableAsStmt:
			return hd_cagg_create((CreateTableAsStmt *) stmt, args->query_string,
								  args->context == PROCESS_UTILITY_TOPLEVEL);
		case T_TruncateStmt:
			return hd_ddl_truncate(args, (TruncateStmt *) stmt);
		case T_IndexStmt:
			return hd_index_create(args, (IndexStmt *) stmt);
		case T_CreateTrigStmt:
			return hd_trigger_create(args, (CreateTrigStmt *) stmt);
		case T_AlterTableStmt:
			if (((AlterTableStmt *) stmt)->objtype == OBJECT_INDEX)
			{
				hd_index_refuse_alter((AlterTableStmt *) stmt);
				return false;
			}
			if (hd_cagg_alter((AlterTableStmt *) stmt) ||
				hd_reference_alter_table(args, (AlterTableStmt *) stmt))
				return true;
			return process_alter_table(args, (AlterTableStmt *) stmt);
		case T_RenameStmt:
			return hd_reference_rename(args, (RenameStmt *) stmt) ||
				process_rename(args, (RenameStmt *) stmt);
		case T_AlterObjectSchemaStmt:
			return hd_reference_set_schema(args, (AlterObjectSchemaStmt *) stmt) ||
				process_set_schema(args, (AlterObjectSchemaStmt *) stmt);
		case T_GrantStmt:
			return hd_reference_grant(args, (GrantStmt *) stmt) ||
				process_grant(args, (GrantStmt *) stmt);
		case T_CopyStmt:
			if (((CopyStmt *) stmt)->is_from)
				return process_copy_from(args, (CopyStmt *) stmt);
			return process_copy_to(args, (CopyStmt *) stmt);
		case T_VacuumStmt:
			return process_vacuum(args, (VacuumStmt *) stmt);
		default:
			refuse_undistributable(stmt);
			return false;
	}
}

void
hd_utility_process(PlannedStmt *pstmt, const char *query_string,
				   bool read_only_tree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *query_env,
				   DestReceiver *dest, QueryCompletion *qc,
				   ProcessUtility_hook_type next)
{
	UtilityArgs args = {pstmt, query_string, read_only_tree, context,
	params, query_env, dest, qc, next};
	Node	   *stmt = pstmt->utilityStmt;

	/* outside databases with hyperdist, and while it installs, hands off */
	if (!creating_extension && IsTransactionState() &&
		OidIsValid(hd_hypertables_server_oid()))
	{
		if (read_only_tree)
			stmt = copyObject(stmt);
		if (process(&args, stmt))
			return;
	}
	hd_ddl_run_standard(&args, pstmt->utilityStmt);
}
