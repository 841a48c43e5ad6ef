/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/drop.c — statements that remove distributed hypertables' data or
 * objects, or hand them to another role: DROP TABLE, TRUNCATE, DROP
 * SCHEMA ... CASCADE, DROP OWNED BY and REASSIGN OWNED BY.  Each acts on
 * the data nodes and the catalog first, after the checks PostgreSQL makes,
 * then lets the statement run here (docs/ARCHITECTURE.md, "DDL").
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "cagg/cagg.h"
#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"
#include "metadata/invalidation.h"

#include "ddl/ddl_internal.h"

/* ---- DROP TABLE, TRUNCATE ------------------------------------------------- */

/*
 * Drops the hypertable's tables on its data nodes (which the caller found
 * usable), its chunks' relations here and its catalog rows; the foreign
 * table itself is left to the statement that drops it.
 */
static void
drop_hypertable_objects(HdHypertable *ht)
{
	hd_ddl_forward_to(hd_hypertable_data_nodes(ht), hd_deparse_drop_hypertable(ht));
	hd_ddl_call_sql("SELECT _hyperdist_functions.drop_chunk_relations($1)", INT4ARRAYOID,
			 PointerGetDatum(hd_catalog_chunk_ids(ht->relid)));
	hd_catalog_delete_hypertable(ht->relid);
}

static void
drop_hypertable(Oid relid)
{
	LockRelationOid(relid, AccessExclusiveLock);
	hd_ddl_require_nodes_usable(relid);
	drop_hypertable_objects(hd_hypertable_load(relid));
}

/*
 * The hypertables (hd_hypertable_dropped) whose foreign tables a statement
 * dropped by cascade (ddl/dropped.c): the same, every one's data nodes
 * usable first.
 */
void
hd_ddl_drop_dropped(List *hypertables)
{
	ListCell   *lc;

	foreach(lc, hypertables)
		hd_ddl_require_usable(lfirst(lc));
	foreach(lc, hypertables)
		drop_hypertable_objects(lfirst(lc));
}

/* Drops the hypertables in a DROP TABLE everywhere; the rest runs as usual. */
bool
hd_ddl_drop_table(UtilityArgs *args, DropStmt *stmt)
{
	List	   *dist = NIL;
	List	   *rest = NIL;
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Oid			relid = hd_ddl_hypertable_of(makeRangeVarFromNameList(lfirst(lc)));

		if (OidIsValid(relid))
		{
			hd_ddl_check_owner(relid);
			hd_ddl_require_nodes_usable(relid);
			relids = lappend_oid(relids, relid);
			dist = lappend(dist, lfirst(lc));
		}
		else
			rest = lappend(rest, lfirst(lc));
	}
	if (dist == NIL)
		return false;
	foreach(lc, relids)
		drop_hypertable(lfirst_oid(lc));

	/* the foreign tables, whichever of DROP TABLE / DROP FOREIGN TABLE was used */
	stmt = copyObject(stmt);
	stmt->removeType = OBJECT_FOREIGN_TABLE;
	stmt->objects = dist;
	hd_ddl_run_standard(args, (Node *) stmt);
	if (rest != NIL)
	{
		DropStmt   *others = copyObject((DropStmt *) args->pstmt->utilityStmt);

		others->objects = rest;
		hd_ddl_run_standard(args, (Node *) others);
	}
	return true;
}

/*
 * As TimescaleDB, the owner's TRUNCATE drops the chunks, on every data node
 * (in the owner's own sessions: the chunks there are its tables).  Another
 * role holding the TRUNCATE privilege may not drop them: the data nodes
 * truncate their root table for it, as PostgreSQL truncates a partitioned
 * table, and the empty chunks stay.
 */
static void
truncate_hypertable(Oid relid)
{
	if (pg_class_ownercheck(relid, GetUserId()))
		hd_ddl_call_sql("SELECT _hyperdist_functions.drop_chunks($1, 9223372036854775807, NULL, NULL, NULL)",
				 INT4OID, Int32GetDatum(hd_hypertable_load(relid)->id));
	else
	{
		HdHypertable *ht = hd_hypertable_load(relid);

		hd_inval_record(ht, PG_INT64_MIN, PG_INT64_MAX);
		hd_ddl_forward(relid, hd_deparse_truncate_hypertable(ht));
	}
}

/*
 * TRUNCATE ... RESTART IDENTITY: the sequences of the hypertable's identity
 * and serial columns are the access node's, which computes their values;
 * restarted as PostgreSQL's TRUNCATE restarts a table's, by their owner.
 */
static void
restart_owned_sequences(Oid relid)
{
	List	   *seqs = getOwnedSequences(relid);
	ListCell   *lc;

	foreach(lc, seqs)
	{
		LockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
		if (!pg_class_ownercheck(lfirst_oid(lc), GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_SEQUENCE,
						   get_rel_name(lfirst_oid(lc)));
	}
	foreach(lc, seqs)
		ResetSequence(lfirst_oid(lc));
}

bool
hd_ddl_truncate(UtilityArgs *args, TruncateStmt *stmt)
{
	List	   *dist = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Oid			relid = hd_ddl_hypertable_of(lfirst(lc));

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

	foreach(lc, dist)
		hd_ddl_require_nodes_usable(lfirst_oid(lc));
	foreach(lc, dist)
	{
		Oid			relid = lfirst_oid(lc);
		AclResult	acl = pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE);

		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
		LockRelationOid(relid, AccessExclusiveLock);
		truncate_hypertable(relid);
	}
	if (stmt->restart_seqs)
		foreach(lc, dist)
			restart_owned_sequences(lfirst_oid(lc));
	return true;
}

/* ---- schemas ----------------------------------------------------------------- */

/*
 * What hyperdist keeps of the objects in schema nspid or owned by role
 * owner (InvalidOid: any), dropped before the statement drops them here:
 * the continuous aggregates' catalog rows and policies, the reference
 * tables' copies, and the hypertables on the data nodes, as DROP TABLE
 * does.  Every hypertable's nodes must be usable before any is dropped.
 */
static void
drop_distributed_in(Oid nspid, Oid owner)
{
	List	   *dist = hd_catalog_hypertables_in(nspid, owner);
	ListCell   *lc;

	hd_cagg_forget_in(nspid, owner);
	hd_reference_drop_in(nspid, owner);
	foreach(lc, dist)
		hd_ddl_require_nodes_usable(lfirst_oid(lc));
	foreach(lc, dist)
		drop_hypertable(lfirst_oid(lc));
}

/*
 * DROP SCHEMA ... CASCADE drops the distributed objects in it everywhere,
 * then the statement runs as usual.  A schema's owner may drop it whoever
 * owns what it holds, so that is the check made before anything is
 * dropped.  Without CASCADE PostgreSQL refuses a schema that holds a
 * hypertable anyway.
 */
bool
hd_ddl_drop_schema(DropStmt *stmt)
{
	List	   *nspids = NIL;
	ListCell   *lc;

	if (stmt->behavior != DROP_CASCADE)
		return false;
	foreach(lc, stmt->objects)
	{
		char	   *name = strVal(lfirst(lc));
		Oid			nspid = get_namespace_oid(name, true);

		if (!OidIsValid(nspid))
			continue;
		if (!pg_namespace_ownercheck(nspid, GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_SCHEMA, name);
		nspids = lappend_oid(nspids, nspid);
	}
	foreach(lc, nspids)
		drop_distributed_in(lfirst_oid(lc), InvalidOid);
	return false;
}

/*
 * The OIDs of roles (RoleSpecs), each of whose privileges the caller must
 * have: PostgreSQL's own condition for DROP and REASSIGN OWNED, checked
 * here before anything is sent (42501 with PostgreSQL's message).
 */
static List *
roles_caller_acts_for(List *roles, const char *message)
{
	List	   *roleids = NIL;
	ListCell   *lc;

	foreach(lc, roles)
	{
		Oid			roleid = get_rolespec_oid(lfirst(lc), false);

		if (!has_privs_of_role(GetUserId(), roleid))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("%s", message)));
		roleids = lappend_oid(roleids, roleid);
	}
	return roleids;
}

/*
 * DROP OWNED BY drops the roles' distributed objects everywhere first, as
 * DROP SCHEMA ... CASCADE does: by itself it would drop the access node's
 * relations only, leaving their catalog rows (whose relation OIDs a new
 * table could take) and the data nodes' tables.
 */
bool
hd_ddl_drop_owned(DropOwnedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, roles_caller_acts_for(stmt->roles,
									  "permission denied to drop objects"))
		drop_distributed_in(InvalidOid, lfirst_oid(lc));
	return false;
}

/*
 * REASSIGN OWNED BY runs here, then as written on the data nodes holding
 * the roles' hypertables and reference tables (every data node for a
 * reference table), where their tables and chunks belong to the same
 * roles; the new owner of a hypertable is then also given what creating
 * its chunks needs there, as ALTER TABLE ... OWNER TO does.
 */
bool
hd_ddl_reassign_owned(UtilityArgs *args, ReassignOwnedStmt *stmt)
{
	const char *message = "permission denied to reassign objects";
	List	   *dist = NIL;
	bool		refs = false;
	char	   *newrole;
	ListCell   *lc;

	foreach(lc, roles_caller_acts_for(stmt->roles, message))
	{
		dist = list_concat(dist, hd_catalog_hypertables_in(InvalidOid, lfirst_oid(lc)));
		refs |= hd_catalog_reference_tables_in(InvalidOid, lfirst_oid(lc)) != NIL;
	}
	newrole = GetUserNameFromId(linitial_oid(roles_caller_acts_for(list_make1(stmt->newrole),
																   message)),
								false);
	if (dist == NIL && !refs)
		return false;
	hd_ddl_run_standard(args, (Node *) stmt);
	hd_ddl_forward_to(hd_ddl_nodes_holding(dist, refs), hd_ddl_statement_text(args));
	foreach(lc, dist)
		hd_ddl_forward(lfirst_oid(lc),
					   hd_deparse_chunks_owner(hd_hypertable_load(lfirst_oid(lc)), newrole));
	return true;
}
