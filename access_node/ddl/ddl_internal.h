/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/ddl_internal.h — what the files of ddl/ share: the statement being
 * processed and the steps every distributed statement takes (utility.c).
 */
#ifndef HYPERDIST_DDL_DDL_INTERNAL_H
#define HYPERDIST_DDL_DDL_INTERNAL_H

#include "tcop/utility.h"

#include "metadata/hypertable.h"

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
	ProcessUtility_hook_type next;	/* the hook before ours, or standard */
} UtilityArgs;

/* utility.c */
extern void hd_ddl_run_standard(UtilityArgs *args, Node *stmt);
extern char *hd_ddl_statement_text(UtilityArgs *args);
extern void hd_ddl_forward(Oid relid, const char *sql);
extern Oid	hd_ddl_hypertable_of(RangeVar *rv);
extern void hd_ddl_check_owner(Oid relid);
extern void hd_ddl_first_data_node_args(Oid relid, Oid *types, Datum *args);
extern void hd_ddl_refuse(const char *what, Oid relid) pg_attribute_noreturn();
extern bool hd_ddl_computes_values(ColumnDef *def);
extern bool hd_ddl_fills_volatile(ColumnDef *def);
extern void hd_ddl_forward_to(List *servers, const char *sql);
extern void hd_ddl_require_nodes_usable(Oid relid);
extern void hd_ddl_require_usable(HdHypertable *ht);
extern List *hd_ddl_nodes_holding(List *dist, bool refs);
extern void hd_ddl_call_sql(const char *sql, Oid type, Datum arg);

/* drop.c */
extern bool hd_ddl_drop_table(UtilityArgs *args, DropStmt *stmt);
extern bool hd_ddl_truncate(UtilityArgs *args, TruncateStmt *stmt);
extern bool hd_ddl_drop_schema(DropStmt *stmt);
extern bool hd_ddl_drop_owned(DropOwnedStmt *stmt);
extern void hd_ddl_drop_dropped(List *hypertables);
extern bool hd_ddl_reassign_owned(UtilityArgs *args, ReassignOwnedStmt *stmt);

/* index.c */
extern bool hd_index_create(UtilityArgs *args, IndexStmt *stmt);
extern bool hd_index_drop(UtilityArgs *args, DropStmt *stmt);
extern void hd_index_refuse_alter(AlterTableStmt *stmt);
extern bool hd_index_rename(UtilityArgs *args, RenameStmt *stmt);

/* reference.c */
extern void hd_reference_drop_tables(DropStmt *stmt);
extern void hd_reference_drop_in(Oid nspid, Oid owner);
extern void hd_reference_dropped(Oid relid, const char *schema, const char *name);
extern void hd_reference_drop_trigger(DropStmt *stmt);
extern bool hd_reference_alter_table(UtilityArgs *args, AlterTableStmt *stmt);
extern bool hd_reference_rename(UtilityArgs *args, RenameStmt *stmt);
extern bool hd_reference_set_schema(UtilityArgs *args, AlterObjectSchemaStmt *stmt);
extern bool hd_reference_grant(UtilityArgs *args, GrantStmt *stmt);

/* trigger.c */
extern bool hd_trigger_create(UtilityArgs *args, CreateTrigStmt *stmt);
extern bool hd_trigger_drop(UtilityArgs *args, DropStmt *stmt);
extern bool hd_trigger_rename(UtilityArgs *args, RenameStmt *stmt);
extern bool hd_trigger_alter_table(UtilityArgs *args, AlterTableStmt *stmt,
								   Oid relid);

#endif							/* HYPERDIST_DDL_DDL_INTERNAL_H */
