/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/index.c — indexes of distributed hypertables.
 *
 * An index is created on the data nodes' root tables (PostgreSQL gives it
 * to every chunk there, later ones too) and its name kept in the catalog
 * (_hyperdist_catalog.hypertable_index), which is how DROP INDEX and ALTER
 * INDEX find the hypertable of an index the access node does not have.
 * CONCURRENTLY and the ALTER INDEX forms that name per-node objects are
 * refused.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "spi_plan.h"
#include "ddl/ddl_internal.h"

/* The name a data node gave an index created without one: its newest. */
static char *
remote_new_index_name(Oid relid)
{
	Oid			types[2];
	Datum		args[2];
	char	   *name = NULL;
	MemoryContext caller;
	bool		isnull;

	hd_ddl_first_data_node_args(relid, types, args);
	caller = hd_spi_connect();
	hd_spi_execute(hd_deparse_newest_index_query(), 2, types, args, NULL, false, 1);
	if (SPI_processed == 1)
	{
		Datum		value = hd_spi_value(0, 1, NAMEOID, &isnull);

		name = isnull ? NULL : MemoryContextStrdup(caller, NameStr(*DatumGetName(value)));
	}
	hd_spi_finish();
	return name;
}

bool
hd_index_create(UtilityArgs *args, IndexStmt *stmt)
{
	Oid			relid = hd_ddl_hypertable_of(stmt->relation);
	char	   *name;

	if (!OidIsValid(relid))
		return false;
	hd_ddl_check_owner(relid);
	if (stmt->concurrent)
		hd_ddl_refuse("CREATE INDEX CONCURRENTLY", relid);
	LockRelationOid(relid, ShareLock);

	hd_ddl_forward(relid, hd_ddl_statement_text(args));
	name = stmt->idxname ? stmt->idxname : remote_new_index_name(relid);
	if (name != NULL)
		hd_catalog_add_index(relid, name);
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
		Oid			relid = hd_catalog_hypertable_of_index(lfirst_oid(lc), *index_name);

		if (OidIsValid(relid))
			return relid;
	}
	return InvalidOid;
}

/*
 * The distributed hypertable whose index name (a possibly qualified name
 * list) names, or InvalidOid; an index of a local table wins, as it would
 * without hyperdist.
 */
static Oid
index_hypertable(List *name, char **index_name)
{
	if (OidIsValid(RangeVarGetRelid(makeRangeVarFromNameList(name), NoLock, true)))
		return InvalidOid;
	return hypertable_of_index(name, index_name);
}

static List *
range_var_name(RangeVar *rv)
{
	return rv->schemaname ? list_make2(makeString(rv->schemaname), makeString(rv->relname))
		: list_make1(makeString(rv->relname));
}

bool
hd_index_drop(UtilityArgs *args, DropStmt *stmt)
{
	List	   *rest = NIL;
	bool		found = false;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		char	   *index_name;
		Oid			relid;

		relid = index_hypertable(lfirst(lc), &index_name);
		if (!OidIsValid(relid))
		{
			rest = lappend(rest, lfirst(lc));
			continue;
		}
		if (stmt->concurrent)
			hd_ddl_refuse("DROP INDEX CONCURRENTLY", relid);
		hd_ddl_check_owner(relid);
		found = true;
		hd_ddl_forward(relid, hd_deparse_drop_index(relid, index_name,
											 stmt->behavior == DROP_CASCADE));
		hd_catalog_forget_index(relid, index_name);
	}
	if (!found)
		return false;
	if (rest != NIL)
	{
		stmt = copyObject(stmt);
		stmt->objects = rest;
		hd_ddl_run_standard(args, (Node *) stmt);
	}
	return true;
}

/*
 * ALTER INDEX on an index of a distributed hypertable, but for RENAME,
 * cannot be distributed: SET TABLESPACE names per-node objects, and on the
 * data nodes the index is a partitioned index, to which PostgreSQL gives no
 * storage parameters (and chunks created later would not get them).
 * Refused before anything runs.
 */
void
hd_index_refuse_alter(AlterTableStmt *stmt)
{
	char	   *index_name;
	Oid			relid = index_hypertable(range_var_name(stmt->relation), &index_name);
	AlterTableCmd *cmd;

	if (!OidIsValid(relid))
		return;
	cmd = linitial_node(AlterTableCmd, stmt->cmds);
	if (cmd->subtype == AT_SetRelOptions || cmd->subtype == AT_ResetRelOptions)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change storage parameters of index \"%s\" of distributed hypertable \"%s\"",
						index_name, get_rel_name(relid)),
				 errdetail("On the data nodes it is a partitioned index, which has no storage parameters; chunks created later would not get them."),
				 errhint("Set them on the chunks' indexes with distributed_exec() if they are needed there.")));
	hd_ddl_refuse(cmd->subtype == AT_SetTableSpace ? "ALTER INDEX ... SET TABLESPACE"
		   : "this ALTER INDEX subcommand", relid);
}

/*
 * ALTER INDEX ... RENAME: on the data nodes, in the catalog, and, since
 * renaming a constraint's index renames the constraint, on its mirror.
 */
bool
hd_index_rename(UtilityArgs *args, RenameStmt *stmt)
{
	char	   *index_name;
	Oid			relid = index_hypertable(range_var_name(stmt->relation), &index_name);
	Oid			conoid;

	if (!OidIsValid(relid))
		return false;
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	hd_ddl_forward(relid, hd_ddl_statement_text(args));
	hd_catalog_forget_index(relid, index_name);
	hd_catalog_add_index(relid, stmt->newname);
	conoid = get_relation_constraint_oid(relid, index_name, true);
	if (OidIsValid(conoid))
		RenameConstraintById(conoid, stmt->newname);
	return true;
}
