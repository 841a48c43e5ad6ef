/*
 * utility.c — DDL on distributed hypertables.
 *
 * The ProcessUtility hook sends DDL that names a distributed hypertable to
 * each of its data nodes, inside the remote transactions, so that it
 * commits or rolls back with the local transaction.  On a data node the
 * hypertable is a partitioned table whose partitions are the chunks, so a
 * statement on it reaches every chunk: ALTER TABLE recurses, indexes and
 * constraints are partitioned, TRUNCATE and DROP cascade.  The statement's
 * own text is forwarded (with the access node's search_path), which keeps
 * every option the user wrote.  On the access node the foreign table gets
 * what a foreign table can hold (columns, defaults, NOT NULL, CHECK);
 * indexes and unique constraints exist only on the data nodes.
 *
 * Statements that cannot be distributed are refused before anything runs,
 * anywhere.  Handled: CREATE/DROP INDEX, ALTER TABLE (columns, defaults,
 * NOT NULL, constraints, owner), RENAME (table, column, constraint), SET
 * SCHEMA, GRANT/REVOKE on the table, TRUNCATE and DROP TABLE (both drop
 * the chunks everywhere).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/option.h"
#include "hypertable.h"
#include "remote/connection.h"
#include "utility.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

typedef struct UtilityArgs
{
	PlannedStmt *pstmt;
	const char *query_string;
	bool		read_only_tree;
	ProcessUtilityContext context;
	ParamListInfo params;
	QueryEnvironment *query_env;
	DestReceiver *dest;
	QueryCompletion *qc;
} UtilityArgs;

/*
 * Runs stmt the usual way: the original statement (whose tree may belong
 * to a cached plan, read_only_tree) or a copy made here.
 */
static void
run_standard(UtilityArgs *args, Node *stmt)
{
	PlannedStmt *pstmt = args->pstmt;
	bool		read_only_tree = args->read_only_tree;

	if (stmt != pstmt->utilityStmt)
	{
		pstmt = copyObject(pstmt);
		pstmt->utilityStmt = stmt;
		read_only_tree = false;
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, args->query_string, read_only_tree, args->context,
							 args->params, args->query_env, args->dest, args->qc);
	else
		standard_ProcessUtility(pstmt, args->query_string, read_only_tree, args->context,
								args->params, args->query_env, args->dest, args->qc);
}

static void
refuse(const char *what, Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on distributed hypertable \"%s\"",
					what, get_rel_name(relid)),
			 errdetail("The statement cannot be applied to the data nodes, so it was not applied anywhere."),
			 errhint("Run it on the data nodes with distributed_exec() if it is needed there.")));
}

/* The statement's own text within the query string. */
static char *
statement_text(UtilityArgs *args)
{
	int			loc = Max(args->pstmt->stmt_location, 0);
	int			len = args->pstmt->stmt_len;

	if (len <= 0)
		len = strlen(args->query_string + loc);
	return pnstrdup(args->query_string + loc, len);
}

/*
 * Runs sql on every data node of the hypertable at once, in the remote
 * transactions, with this session's search_path so that names resolve as
 * they did here.
 */
static void
forward(Oid relid, const char *sql)
{
	HdHypertable *ht = hd_hypertable_load(relid);
	List	   *servers = hd_hypertable_data_nodes(ht->id);
	int			n = list_length(servers);
	HdConn	  **conns = palloc(sizeof(HdConn *) * Max(n, 1));
	uint32	   *seqs = palloc(sizeof(uint32) * Max(n, 1));
	char	   *wrapped = psprintf("SET LOCAL search_path TO %s; %s; RESET search_path",
								   GetConfigOption("search_path", false, false), sql);
	ListCell   *lc;

	foreach(lc, servers)
	{
		int			i = foreach_current_index(lc);

		conns[i] = hd_conn_get(lfirst_oid(lc), true);
		seqs[i] = hd_exec_send(conns[i], wrapped, 0, NULL, NULL);
	}
	for (int i = 0; i < n; i++)
		hd_exec_wait(conns[i], seqs[i], NULL);
}

static Oid
dist_hypertable_of(RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rv, NoLock, true);
	return OidIsValid(relid) && hd_is_dist_hypertable(relid) ? relid : InvalidOid;
}

static void
check_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

static void
spi_exec(const char *sql, Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};

	SPI_connect();
	SPI_execute_with_args(sql, 1, types, args, NULL, false, 0);
	SPI_finish();
}

/* ---- DROP TABLE, TRUNCATE ------------------------------------------------- */

static void
drop_hypertable(Oid relid)
{
	HdHypertable *ht;

	check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	ht = hd_hypertable_load(relid);
	forward(relid, psprintf("DROP TABLE IF EXISTS %s", hd_hypertable_qualified_name(ht)));
	spi_exec("DELETE FROM _hyperdist_catalog.hypertable WHERE relid = $1", relid);
}

/* Drops the hypertables in a DROP TABLE everywhere; the rest runs as usual. */
static bool
process_drop_table(UtilityArgs *args, DropStmt *stmt)
{
	List	   *dist = NIL;
	List	   *rest = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Oid			relid = dist_hypertable_of(makeRangeVarFromNameList(lfirst(lc)));

		if (OidIsValid(relid))
		{
			drop_hypertable(relid);
			dist = lappend(dist, lfirst(lc));
		}
		else
			rest = lappend(rest, lfirst(lc));
	}
	if (dist == NIL)
		return false;

	/* the foreign tables, whichever of DROP TABLE / DROP FOREIGN TABLE was used */
	stmt = copyObject(stmt);
	stmt->removeType = OBJECT_FOREIGN_TABLE;
	stmt->objects = dist;
	run_standard(args, (Node *) stmt);
	if (rest != NIL)
	{
		DropStmt   *others = copyObject((DropStmt *) args->pstmt->utilityStmt);

		others->objects = rest;
		run_standard(args, (Node *) others);
	}
	return true;
}

static bool
process_truncate(UtilityArgs *args, TruncateStmt *stmt)
{
	List	   *dist = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Oid			relid = dist_hypertable_of(lfirst(lc));

		if (OidIsValid(relid))
			dist = lappend_oid(dist, relid);
	}
	if (dist == NIL)
		return false;
	if (list_length(dist) != list_length(stmt->relations))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate distributed hypertables together with other tables"),
				 errhint("Truncate them in separate statements.")));

	/* as TimescaleDB: the chunks go, on every data node */
	foreach(lc, dist)
	{
		Oid			relid = lfirst_oid(lc);
		AclResult	acl = pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE);

		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
		LockRelationOid(relid, AccessExclusiveLock);
		spi_exec("SELECT _hyperdist_functions.drop_chunks(h.id, 9223372036854775807, NULL)"
				 " FROM _hyperdist_catalog.hypertable h WHERE h.relid = $1", relid);
	}
	return true;
}

/* ---- indexes --------------------------------------------------------------- */

static void
record_index(Oid relid, const char *name)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		args[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(name)};

	SPI_connect();
	SPI_execute_with_args("INSERT INTO _hyperdist_catalog.hypertable_index"
						  " SELECT id, $2 FROM _hyperdist_catalog.hypertable WHERE relid = $1"
						  " ON CONFLICT DO NOTHING",
						  2, types, args, NULL, false, 0);
	SPI_finish();
}

/* The name a data node gave an index created without one: its newest. */
static char *
remote_new_index_name(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	char	   *name = NULL;

	SPI_connect();
	SPI_execute_with_args("SELECT q.relname"
						  " FROM _hyperdist_catalog.hypertable h,"
						  "  LATERAL (SELECT min(node_name) AS node"
						  "             FROM _hyperdist_catalog.hypertable_data_node"
						  "            WHERE hypertable_id = h.id) n,"
						  "  LATERAL _hyperdist_functions.data_node_query(n.node,"
						  "    format('SELECT c.relname FROM pg_index i"
						  " JOIN pg_class c ON c.oid = i.indexrelid"
						  " WHERE i.indrelid = %L::regclass ORDER BY c.oid DESC LIMIT 1',"
						  "           h.relid::regclass::text)) AS q(relname name)"
						  " WHERE h.relid = $1",
						  1, types, args, NULL, false, 1);
	if (SPI_processed == 1)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		name = value ? MemoryContextStrdup(TopTransactionContext, value) : NULL;
	}
	SPI_finish();
	return name;
}

static bool
process_create_index(UtilityArgs *args, IndexStmt *stmt)
{
	Oid			relid = dist_hypertable_of(stmt->relation);
	char	   *name;

	if (!OidIsValid(relid))
		return false;
	check_owner(relid);
	if (stmt->concurrent)
		refuse("CREATE INDEX CONCURRENTLY", relid);
	LockRelationOid(relid, ShareLock);

	forward(relid, statement_text(args));
	name = stmt->idxname ? stmt->idxname : remote_new_index_name(relid);
	if (name != NULL)
		record_index(relid, name);
	return true;
}

/*
 * The hypertable owning index name (schema-qualified or found through the
 * search_path), or InvalidOid.
 */
static Oid
hypertable_of_index(List *name, char **index_name)
{
	char	   *schema;
	List	   *schemas;
	ListCell   *lc;

	DeconstructQualifiedName(name, &schema, index_name);
	schemas = schema ? list_make1_oid(get_namespace_oid(schema, true))
		: fetch_search_path(false);
	foreach(lc, schemas)
	{
		Oid			types[2] = {OIDOID, NAMEOID};
		Datum		values[2] = {ObjectIdGetDatum(lfirst_oid(lc)),
		CStringGetDatum(*index_name)};
		Oid			relid = InvalidOid;

		SPI_connect();
		SPI_execute_with_args("SELECT h.relid FROM _hyperdist_catalog.hypertable h"
							  " JOIN _hyperdist_catalog.hypertable_index i ON i.hypertable_id = h.id"
							  " JOIN pg_class c ON c.oid = h.relid"
							  " WHERE c.relnamespace = $1 AND i.index_name = $2",
							  2, types, values, NULL, true, 1);
		if (SPI_processed == 1)
		{
			bool		isnull;

			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_finish();
		if (OidIsValid(relid))
			return relid;
	}
	return InvalidOid;
}

static bool
process_drop_index(UtilityArgs *args, DropStmt *stmt)
{
	List	   *rest = NIL;
	bool		found = false;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		char	   *index_name;
		Oid			relid;

		/* an index of a local table wins, as it would without hyperdist */
		if (OidIsValid(RangeVarGetRelid(makeRangeVarFromNameList(lfirst(lc)), NoLock, true)))
		{
			rest = lappend(rest, lfirst(lc));
			continue;
		}
		relid = hypertable_of_index(lfirst(lc), &index_name);
		if (!OidIsValid(relid))
		{
			rest = lappend(rest, lfirst(lc));
			continue;
		}
		if (stmt->concurrent)
			refuse("DROP INDEX CONCURRENTLY", relid);
		check_owner(relid);
		found = true;
		forward(relid, psprintf("DROP INDEX %s %s",
								quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
														   index_name),
								stmt->behavior == DROP_CASCADE ? "CASCADE" : ""));
		spi_exec(psprintf("DELETE FROM _hyperdist_catalog.hypertable_index i"
						  " USING _hyperdist_catalog.hypertable h"
						  " WHERE i.hypertable_id = h.id AND h.relid = $1 AND i.index_name = %s",
						  quote_literal_cstr(index_name)), relid);
	}
	if (!found)
		return false;
	if (rest != NIL)
	{
		stmt = copyObject(stmt);
		stmt->objects = rest;
		run_standard(args, (Node *) stmt);
	}
	return true;
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

static bool
local_constraint_exists(Oid relid, const char *name)
{
	return OidIsValid(get_relation_constraint_oid(relid, name, true));
}

/*
 * Which subcommands apply to the access node's foreign table too (the rest
 * only exist on data nodes: unique, primary key and exclusion constraints).
 * Refuses subcommands that cannot be distributed.
 */
static bool
alter_cmd_is_local(Oid relid, AlterTableCmd *cmd)
{
	switch (cmd->subtype)
	{
		case AT_AddColumn:
		case AT_ColumnDefault:
		case AT_DropNotNull:
		case AT_SetNotNull:
		case AT_ChangeOwner:
			return true;
		case AT_DropColumn:
		case AT_AlterColumnType:
			if (is_dimension_column(relid, cmd->name))
				refuse(psprintf("%s of dimension column \"%s\"",
								cmd->subtype == AT_DropColumn ? "DROP COLUMN" : "ALTER COLUMN TYPE",
								cmd->name), relid);
			return true;
		case AT_AddConstraint:
			return castNode(Constraint, cmd->def)->contype == CONSTR_CHECK;
		case AT_DropConstraint:
			return local_constraint_exists(relid, cmd->name);
		default:
			refuse("this ALTER TABLE subcommand", relid);
	}
	return false;				/* keep compiler quiet */
}

static bool
process_alter_table(UtilityArgs *args, AlterTableStmt *stmt)
{
	Oid			relid = dist_hypertable_of(stmt->relation);
	AlterTableStmt *local;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return false;
	local = copyObject(stmt);
	local->cmds = NIL;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (alter_cmd_is_local(relid, cmd))
			local->cmds = lappend(local->cmds, cmd);
	}
	check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	if (local->cmds != NIL)
	{
		local->objtype = OBJECT_FOREIGN_TABLE;
		run_standard(args, (Node *) local);
	}
	forward(relid, statement_text(args));
	return true;
}

static bool
process_rename(UtilityArgs *args, RenameStmt *stmt)
{
	Oid			relid;
	bool		local = true;

	if (stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_FOREIGN_TABLE &&
		stmt->renameType != OBJECT_COLUMN && stmt->renameType != OBJECT_TABCONSTRAINT)
		return false;
	relid = dist_hypertable_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;
	check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	if (stmt->renameType == OBJECT_TABCONSTRAINT)
		local = local_constraint_exists(relid, stmt->subname);
	/* the data nodes first: they know the table by its current name */
	forward(relid, statement_text(args));
	if (local)
		run_standard(args, (Node *) stmt);
	return true;
}

static bool
process_set_schema(UtilityArgs *args, AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	if (stmt->objectType != OBJECT_TABLE && stmt->objectType != OBJECT_FOREIGN_TABLE)
		return false;
	relid = dist_hypertable_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;
	check_owner(relid);
	forward(relid, psprintf("CREATE SCHEMA IF NOT EXISTS %s; %s",
							quote_identifier(stmt->newschema), statement_text(args)));
	run_standard(args, (Node *) stmt);
	return true;
}

static bool
process_grant(UtilityArgs *args, GrantStmt *stmt)
{
	Oid			relid = InvalidOid;
	ListCell   *lc;

	if (stmt->targtype != ACL_TARGET_OBJECT || stmt->objtype != OBJECT_TABLE)
		return false;
	foreach(lc, stmt->objects)
	{
		Oid			r = dist_hypertable_of(lfirst(lc));

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
	run_standard(args, (Node *) stmt);
	forward(relid, statement_text(args));
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
	relid = dist_hypertable_of(stmt->relation);
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
	run_standard(args, (Node *) stmt);
	return true;
}

/* ---- statements that cannot be distributed ----------------------------------- */

static void
refuse_undistributable(Node *stmt)
{
	RangeVar   *rv = NULL;
	const char *what = NULL;

	switch (nodeTag(stmt))
	{
		case T_CreateTrigStmt:
			rv = ((CreateTrigStmt *) stmt)->relation;
			what = "CREATE TRIGGER";
			break;
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
	if (OidIsValid(dist_hypertable_of(rv)))
		refuse(what, dist_hypertable_of(rv));
}

static bool
process(UtilityArgs *args, Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_DropStmt:
			if (((DropStmt *) stmt)->removeType == OBJECT_TABLE ||
				((DropStmt *) stmt)->removeType == OBJECT_FOREIGN_TABLE)
				return process_drop_table(args, (DropStmt *) stmt);
			if (((DropStmt *) stmt)->removeType == OBJECT_INDEX)
				return process_drop_index(args, (DropStmt *) stmt);
			return false;
		case T_TruncateStmt:
			return process_truncate(args, (TruncateStmt *) stmt);
		case T_IndexStmt:
			return process_create_index(args, (IndexStmt *) stmt);
		case T_AlterTableStmt:
			return process_alter_table(args, (AlterTableStmt *) stmt);
		case T_RenameStmt:
			return process_rename(args, (RenameStmt *) stmt);
		case T_AlterObjectSchemaStmt:
			return process_set_schema(args, (AlterObjectSchemaStmt *) stmt);
		case T_GrantStmt:
			return process_grant(args, (GrantStmt *) stmt);
		case T_CopyStmt:
			return process_copy_to(args, (CopyStmt *) stmt);
		default:
			refuse_undistributable(stmt);
			return false;
	}
}

static void
hd_process_utility(PlannedStmt *pstmt, const char *query_string,
				   bool read_only_tree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *query_env,
				   DestReceiver *dest, QueryCompletion *qc)
{
	UtilityArgs args = {pstmt, query_string, read_only_tree, context,
	params, query_env, dest, qc};
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
	run_standard(&args, pstmt->utilityStmt);
}

void
hd_utility_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = hd_process_utility;
}
