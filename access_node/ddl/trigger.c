/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/trigger.c — triggers on distributed hypertables.
 *
 * A row trigger belongs where the rows are: it is created on the data
 * nodes' root table, whose partitions (the chunks, those attached later
 * included) get a clone of it from PostgreSQL, and fires there as rows
 * arrive, in the data node's part of the distributed transaction.  The
 * access node keeps no object of it: a row trigger on the foreign table
 * would fire here too (PostgreSQL runs row triggers of foreign tables
 * locally), would make every COPY parse its rows here and would forbid
 * UPDATE and DELETE, which the data nodes run as one statement.  The data
 * nodes' definition is the record; attach_data_node and the replicas made
 * of a chunk take it from there.
 *
 * A statement trigger fires once per statement, so on the access node,
 * where the statement runs; it is not sent to the data nodes, whose
 * statements are batches of the access node's.
 *
 * DROP TRIGGER, ALTER TRIGGER ... RENAME and ALTER TABLE ... ENABLE/DISABLE
 * TRIGGER act on the access node's trigger of that name if there is one,
 * and are otherwise sent to the data nodes (which answer 42704 for a name
 * they do not know either).  The two kinds therefore share one name space:
 * a new trigger may not take a name the other kind uses.
 *
 * Refused with 0A000: constraint triggers, transition tables, TRUNCATE
 * triggers (TRUNCATE drops the chunks, no trigger would see it), and ENABLE
 * ALWAYS/REPLICA (a replica copy writes the chunk's rows with
 * session_replication_role = replica so that no trigger fires for them,
 * placement/replica_copy.c).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "metadata/hypertable.h"
#include "spi_plan.h"
#include "ddl/ddl_internal.h"

static void
refuse_trigger(const char *what, Oid relid, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on distributed hypertable \"%s\"",
					what, get_rel_name(relid)),
			 errdetail("%s", detail)));
}

static void
trigger_exists_error(const char *name, Oid relid, const char *where)
{
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("trigger \"%s\" for relation \"%s\" already exists %s",
					name, get_rel_name(relid), where),
			 errdetail("Row triggers of a distributed hypertable live on its data nodes, statement triggers on the access node; they share one name space.")));
}

/* Whether the access node's foreign table has a trigger of that name. */
static bool
local_trigger(Oid relid, const char *name)
{
	return OidIsValid(get_trigger_oid(relid, name, true));
}

/* Whether the data nodes' root table has a trigger of that name (asked to the first). */
static bool
remote_trigger(Oid relid, const char *name)
{
	Oid			types[2];
	Datum		args[2];
	bool		found = false;

	hd_ddl_first_data_node_args(relid, types, args);
	hd_spi_connect();
	hd_spi_execute(hd_deparse_triggers_query(), 2, types, args, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed && !found; i++)
		found = strcmp(NameStr(*DatumGetName(hd_spi_value(i, 1, NAMEOID, NULL))), name) == 0;
	hd_spi_finish();
	return found;
}

static void
check_create_supported(CreateTrigStmt *stmt, Oid relid)
{
	if (stmt->isconstraint)
		refuse_trigger("CREATE CONSTRAINT TRIGGER", relid,
					   "A constraint trigger is deferred to the end of a transaction whose rows are on several data nodes.");
	if (stmt->transitionRels != NIL)
		refuse_trigger("a trigger with transition tables (REFERENCING)", relid,
					   "The rows of a statement are split among the data nodes, in batches.");
	if (stmt->events & TRIGGER_TYPE_TRUNCATE)
		refuse_trigger("a TRUNCATE trigger", relid,
					   "TRUNCATE of a distributed hypertable drops its chunks on the data nodes; no trigger would fire.");
}

/*
 * CREATE [OR REPLACE] TRIGGER on a distributed hypertable: a row trigger
 * goes to the data nodes, as its text; a statement trigger is created
 * here by PostgreSQL (false).  A row trigger is the owner's to create: on
 * the data nodes PostgreSQL clones it to every chunk, and checks the
 * TRIGGER privilege on each, which the owner alone holds there.
 */
bool
hd_trigger_create(UtilityArgs *args, CreateTrigStmt *stmt)
{
	Oid			relid = hd_ddl_hypertable_of(stmt->relation);

	if (!OidIsValid(relid))
		return false;
	check_create_supported(stmt, relid);
	if (!stmt->row)
	{
		if (remote_trigger(relid, stmt->trigname))
			trigger_exists_error(stmt->trigname, relid, "on its data nodes");
		return false;
	}
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);
	if (local_trigger(relid, stmt->trigname))
		trigger_exists_error(stmt->trigname, relid, "on the access node");
	hd_ddl_forward(relid, hd_ddl_statement_text(args));
	return true;
}

/* DROP TRIGGER [IF EXISTS] name ON hypertable. */
bool
hd_trigger_drop(UtilityArgs *args, DropStmt *stmt)
{
	List	   *name = linitial(stmt->objects);
	List	   *relname = list_truncate(list_copy(name), list_length(name) - 1);
	Oid			relid = hd_ddl_hypertable_of(makeRangeVarFromNameList(relname));
	const char *trigname = strVal(llast(name));

	if (!OidIsValid(relid) || local_trigger(relid, trigname))
		return false;
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	/* the data nodes' notice would not reach the client: PostgreSQL's own */
	if (stmt->missing_ok && !remote_trigger(relid, trigname))
		ereport(NOTICE,
				(errmsg("trigger \"%s\" for relation \"%s\" does not exist, skipping",
						trigname, get_rel_name(relid))));
	else
		hd_ddl_forward(relid, hd_ddl_statement_text(args));
	return true;
}

/* ALTER TRIGGER name ON hypertable RENAME TO newname. */
bool
hd_trigger_rename(UtilityArgs *args, RenameStmt *stmt)
{
	Oid			relid = hd_ddl_hypertable_of(stmt->relation);

	if (!OidIsValid(relid) || local_trigger(relid, stmt->subname))
		return false;
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, AccessExclusiveLock);
	if (local_trigger(relid, stmt->newname))
		trigger_exists_error(stmt->newname, relid, "on the access node");
	hd_ddl_forward(relid, hd_ddl_statement_text(args));
	return true;
}

static bool
is_trigger_cmd(AlterTableCmd *cmd)
{
	switch (cmd->subtype)
	{
		case AT_EnableTrig:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
		case AT_DisableTrig:
		case AT_EnableTrigAll:
		case AT_DisableTrigAll:
		case AT_EnableTrigUser:
		case AT_DisableTrigUser:
			return true;
		default:
			return false;
	}
}

/*
 * ALTER TABLE hypertable ENABLE/DISABLE TRIGGER ...: each subcommand naming
 * a trigger of the access node applies here, any other named one on the
 * data nodes, ALL and USER in both places.  Subcommands of other kinds may
 * not come with them (false when there are none of these).
 */
bool
hd_trigger_alter_table(UtilityArgs *args, AlterTableStmt *stmt, Oid relid)
{
	AlterTableStmt *local = copyObject(stmt);
	List	   *remote = NIL;
	int			ntrigger = 0;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
		ntrigger += is_trigger_cmd(lfirst_node(AlterTableCmd, lc));
	if (ntrigger == 0)
		return false;
	if (ntrigger < list_length(stmt->cmds))
		refuse_trigger("ENABLE/DISABLE TRIGGER together with other subcommands", relid,
					   "Triggers are enabled and disabled in a statement of their own.");
	hd_ddl_check_owner(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);

	local->cmds = NIL;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		bool		here = cmd->name != NULL && local_trigger(relid, cmd->name);

		if (cmd->subtype == AT_EnableAlwaysTrig || cmd->subtype == AT_EnableReplicaTrig)
			refuse_trigger(cmd->subtype == AT_EnableAlwaysTrig ? "ENABLE ALWAYS TRIGGER"
						   : "ENABLE REPLICA TRIGGER", relid,
						   "A copy of a chunk to another data node writes its rows as a replica, where such a trigger would fire for rows that are not new.");
		if (cmd->name == NULL || here)
			local->cmds = lappend(local->cmds, cmd);
		if (!here)
			remote = lappend(remote, cmd);
	}
	if (local->cmds != NIL)
	{
		local->objtype = OBJECT_FOREIGN_TABLE;
		hd_ddl_run_standard(args, (Node *) local);
	}
	if (remote != NIL)
		hd_ddl_forward(relid, hd_deparse_alter_triggers(hd_hypertable_load(relid), remote));
	return true;
}
