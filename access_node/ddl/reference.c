/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/reference.c — DDL on reference tables.
 *
 * A reference table is an ordinary table here with a copy of the same name
 * on every data node (ingest/reference.c keeps their rows in step).  DDL
 * that changes what the copies must hold is applied to them too, in the
 * remote transactions, so it commits or rolls back with the local
 * statement: DROP TABLE and DROP SCHEMA ... CASCADE drop the copies (and
 * the catalog row); ALTER TABLE of columns, NOT NULL, constraints and the
 * owner, RENAME of the table, a column or a constraint, SET SCHEMA and
 * GRANT/REVOKE are forwarded as written.  Column defaults and REPLICA
 * IDENTITY stay here (the access node computes every value and finds the
 * old rows' keys).  Indexes are the access node's alone: reads of the
 * table are local, and the copies' primary key and unique constraints
 * index them on the data nodes.  The rest of ALTER TABLE is refused
 * (0A000), as are the subcommands that would have each data node fill
 * existing rows with values of its own (ADD COLUMN of a serial, identity
 * or generated column, or with a default that is not immutable: now()
 * differs between nodes; ALTER COLUMN TYPE with a USING expression that
 * is not immutable), and DROP TRIGGER of the triggers
 * that keep the copies.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "remote/fanout.h"
#include "remote/node.h"
#include "ddl/ddl_internal.h"

/* The names of the triggers create_reference_table installs start so. */
#define REFERENCE_TRIGGER_PREFIX "hyperdist_reference_"

/* The reference table rv names, or InvalidOid. */
static Oid
reference_table_of(RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rv, NoLock, true);
	return OidIsValid(relid) && hd_catalog_is_reference_table(relid) ? relid : InvalidOid;
}

/* Runs sql on every data node, with this session's search_path. */
static void
forward(const char *sql)
{
	hd_exec_on_servers(hd_data_node_oids(),
					   hd_deparse_with_search_path(GetConfigOption("search_path", false, false),
												   sql));
}

static void
refuse_with_hint(const char *what, Oid relid, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on reference table \"%s\"",
					what, get_rel_name(relid)),
			 errdetail("The statement cannot be applied to the table's copies on the data nodes, so it was not applied anywhere."),
			 errhint("%s", hint)));
}

static void
refuse(const char *what, Oid relid)
{
	refuse_with_hint(what, relid, "Drop the reference table and create it again as needed.");
}

/* ---- DROP ------------------------------------------------------------------- */

/* The copies of reference table relid, schema.name here, and its catalog row. */
static void
drop_copies(Oid relid, const char *schema, const char *name, bool cascade)
{
	forward(hd_deparse_drop_reference(schema, name, cascade));
	hd_catalog_delete_reference_table(relid);
}

static void
drop_reference(Oid relid, bool cascade)
{
	LockRelationOid(relid, AccessExclusiveLock);
	drop_copies(relid, get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid),
				cascade);
}

/*
 * The copies of the reference tables a DROP TABLE names, and their catalog
 * rows; the statement then runs as usual.
 */
void
hd_reference_drop_tables(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Oid			relid = reference_table_of(makeRangeVarFromNameList(lfirst(lc)));

		if (!OidIsValid(relid))
			continue;
		hd_ddl_check_owner(relid);
		drop_reference(relid, stmt->behavior == DROP_CASCADE);
	}
}

/*
 * DROP SCHEMA ... CASCADE of schema nspid, or DROP OWNED BY role owner
 * (InvalidOid: any), the caller allowed to drop what they hold.
 */
void
hd_reference_drop_in(Oid nspid, Oid owner)
{
	ListCell   *lc;

	foreach(lc, hd_catalog_reference_tables_in(nspid, owner))
		drop_reference(lfirst_oid(lc), true);
}

/*
 * Reference table relid, schema.name, which the running statement dropped
 * by cascade (ddl/dropped.c): its copies go the same way.
 */
void
hd_reference_dropped(Oid relid, const char *schema, const char *name)
{
	drop_copies(relid, schema, name, true);
}

/* DROP TRIGGER of a trigger that keeps the copies is refused. */
void
hd_reference_drop_trigger(DropStmt *stmt)
{
	List	   *name = linitial(stmt->objects);
	List	   *relname = list_truncate(list_copy(name), list_length(name) - 1);
	Oid			relid = reference_table_of(makeRangeVarFromNameList(relname));

	if (OidIsValid(relid) &&
		strncmp(strVal(llast(name)), REFERENCE_TRIGGER_PREFIX,
				strlen(REFERENCE_TRIGGER_PREFIX)) == 0)
		refuse("DROP TRIGGER of the trigger that keeps its copies", relid);
}

/* ---- ALTER TABLE, RENAME, SET SCHEMA, GRANT --------------------------------- */

/* Subcommands applied here only: values and old rows' keys are found here. */
static bool
alter_cmd_is_local_only(AlterTableCmd *cmd)
{
	return cmd->subtype == AT_ColumnDefault || cmd->subtype == AT_ReplicaIdentity;
}

/*
 * Whether ALTER COLUMN ... TYPE ... USING expr would compute values that
 * differ between nodes (random(), now()): each node converts its own rows.
 */
static bool
using_not_immutable(Oid relid, ColumnDef *def)
{
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	bool		result;

	if (def->raw_default == NULL)
		return false;
	rel = relation_open(relid, AccessShareLock);
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL,
										   false, true);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	result = contain_mutable_functions(transformExpr(pstate, copyObject(def->raw_default),
													 EXPR_KIND_ALTER_COL_TRANSFORM));
	relation_close(rel, AccessShareLock);
	return result;
}

/* Refuses a subcommand that cannot be applied to the copies as well. */
static void
check_alter_cmd(Oid relid, AlterTableCmd *cmd)
{
	Constraint *con;

	switch (cmd->subtype)
	{
		case AT_AddColumn:
			if (hd_ddl_computes_values(castNode(ColumnDef, cmd->def)) ||
				hd_ddl_fills_volatile(castNode(ColumnDef, cmd->def)))
				refuse_with_hint("ADD COLUMN with an identity, a generation expression, a foreign key, a serial type or a default that is not immutable",
								 relid,
								 "For a default, add the column with none or a constant one, fill it with UPDATE, then ALTER COLUMN ... SET DEFAULT (new rows get their defaults on the access node); for the others, create the table again.");
			return;
		case AT_AddConstraint:
			con = castNode(Constraint, cmd->def);
			if (con->contype == CONSTR_FOREIGN &&
				!OidIsValid(reference_table_of(con->pktable)))
				refuse("a foreign key to a table that is not a reference table", relid);
			return;
		case AT_AlterColumnType:
			if (using_not_immutable(relid, castNode(ColumnDef, cmd->def)))
				refuse("ALTER COLUMN TYPE with a USING expression that is not immutable",
					   relid);
			return;
		case AT_ColumnDefault:
		case AT_ReplicaIdentity:
		case AT_DropColumn:
		case AT_DropNotNull:
		case AT_SetNotNull:
		case AT_DropConstraint:
		case AT_ChangeOwner:
			return;
		default:
			refuse("this ALTER TABLE subcommand", relid);
	}
}

bool
hd_reference_alter_table(UtilityArgs *args, AlterTableStmt *stmt)
{
	Oid			relid = reference_table_of(stmt->relation);
	int			local_only = 0;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return false;
	foreach(lc, stmt->cmds)
	{
		check_alter_cmd(relid, lfirst_node(AlterTableCmd, lc));
		local_only += alter_cmd_is_local_only(lfirst_node(AlterTableCmd, lc));
	}
	if (local_only > 0 && local_only < list_length(stmt->cmds))
		refuse("SET/DROP DEFAULT or REPLICA IDENTITY together with other subcommands",
			   relid);
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	hd_ddl_run_standard(args, (Node *) stmt);
	if (local_only == 0)
		forward(hd_ddl_statement_text(args));
	return true;
}

/*
 * Runs sql on the copies, then stmt here: the data nodes know the table by
 * its current name.
 */
static void
forward_then_run(UtilityArgs *args, Node *stmt, Oid relid, const char *sql)
{
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	forward(sql);
	hd_ddl_run_standard(args, stmt);
}

/* RENAME of the table, a column or a constraint. */
bool
hd_reference_rename(UtilityArgs *args, RenameStmt *stmt)
{
	Oid			relid;

	if (stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN &&
		stmt->renameType != OBJECT_TABCONSTRAINT)
		return false;
	relid = reference_table_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;
	forward_then_run(args, (Node *) stmt, relid, hd_ddl_statement_text(args));
	return true;
}

bool
hd_reference_set_schema(UtilityArgs *args, AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	if (stmt->objectType != OBJECT_TABLE)
		return false;
	relid = reference_table_of(stmt->relation);
	if (!OidIsValid(relid))
		return false;
	forward_then_run(args, (Node *) stmt, relid,
					 hd_deparse_set_schema(stmt->newschema, hd_ddl_statement_text(args)));
	return true;
}

/*
 * GRANT/REVOKE on a reference table: the copies get the same privileges,
 * since a writer's own sessions write them.
 */
bool
hd_reference_grant(UtilityArgs *args, GrantStmt *stmt)
{
	bool		found = false;
	ListCell   *lc;

	if (stmt->targtype != ACL_TARGET_OBJECT || stmt->objtype != OBJECT_TABLE)
		return false;
	foreach(lc, stmt->objects)
		found |= OidIsValid(reference_table_of(lfirst(lc)));
	if (!found)
		return false;
	if (list_length(stmt->objects) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot grant or revoke on a reference table together with other tables"),
				 errhint("Use one statement per reference table.")));
	hd_ddl_run_standard(args, (Node *) stmt);
	forward(hd_ddl_statement_text(args));
	return true;
}
