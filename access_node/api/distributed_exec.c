/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/distributed_exec.c — distributed_exec(query, node_list, transactional).
 *
 * Also _hyperdist_functions.data_node_query(node, sql), which returns the
 * rows of a query on one data node (for the size functions and
 * attach_data_node).
 *
 * Runs SQL on data nodes as the caller's own role.  The command is sent to
 * every node before any answer is awaited, so the nodes work in parallel.
 * transactional: the command joins the remote transactions that commit or
 * roll back with the local one (remote/txn.c); otherwise it autocommits on
 * each node, for commands that cannot run in a transaction block (CREATE
 * DATABASE, VACUUM...), and is refused inside a transaction block.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "foreign/foreign.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "api/node_admin.h"
#include "remote/fault.h"
#include "remote/connection.h"
#include "remote/fanout.h"

PG_FUNCTION_INFO_V1(hyperdist_distributed_exec);
PG_FUNCTION_INFO_V1(hyperdist_exec_on_data_nodes);
PG_FUNCTION_INFO_V1(hyperdist_data_node_query);

/* Every data node, by name. */
static List *
all_data_nodes(void)
{
	List	   *names = hd_data_node_names();
	List	   *servers = NIL;
	ListCell   *lc;

	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no data nodes are defined"),
				 errhint("Add data nodes with add_data_node().")));
	foreach(lc, names)
		servers = lappend_oid(servers, get_foreign_server_oid(lfirst(lc), false));
	return servers;
}

/* The named data nodes, in the given order, each once. */
static List *
named_data_nodes(ArrayType *names)
{
	List	   *servers = NIL;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(names, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node_list must name at least one data node"),
				 errhint("Pass NULL to run the command on every data node.")));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("node_list must not contain NULL")));
		servers = list_append_unique_oid(servers,
										 hd_data_node_get(NameStr(*DatumGetName(elems[i])), false)->serverid);
	}
	return servers;
}

static void
check_usage(Oid serverid)
{
	AclResult	result = pg_foreign_server_aclcheck(serverid, GetUserId(), ACL_USAGE);

	if (result != ACLCHECK_OK)
		aclcheck_error(result, OBJECT_FOREIGN_SERVER,
					   GetForeignServer(serverid)->servername);
}

/*
 * Like PreventInTransactionBlock, for a procedure: a CALL is atomic inside
 * a transaction block or a function, and then the command could not
 * autocommit on its own.
 */
static void
prevent_in_transaction_block(FunctionCallInfo fcinfo)
{
	bool		atomic = fcinfo->context != NULL &&
		IsA(fcinfo->context, CallContext) &&
		((CallContext *) fcinfo->context)->atomic;

	if (atomic || IsTransactionBlock() || IsSubTransaction())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("distributed_exec with transactional => false cannot run inside a transaction block")));
}

/*
 * Transaction control in the user's SQL would end or split the data node's
 * part of this transaction behind the access node's back: a COMMIT there
 * survives a local ROLLBACK, and the catalog and the nodes then disagree.
 * The access node's own COMMIT, ROLLBACK and savepoints reach every node.
 * The SQL is parsed here as the data node parses it (same major version);
 * SQL that does not parse is left to the data node, whose error names it
 * and its position in it.  The grammar takes no lock and opens nothing, so
 * its error can be dropped without a subtransaction.
 */
static List *
parse_or_nil(const char *sql)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *stmts = NIL;

	PG_TRY();
	{
		stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
	}
	PG_END_TRY();
	return stmts;
}

static void
refuse_transaction_control(const char *sql, const char *function)
{
	ListCell   *lc;

	if (hd_fault_injected(HD_FAULT_PASS_TRANSACTION_CONTROL))
		return;

	foreach(lc, parse_or_nil(sql))
	{
		Node	   *stmt = lfirst_node(RawStmt, lc)->stmt;

		if (IsA(stmt, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s cannot run %s", function,
							GetCommandTagName(CreateCommandTag(stmt))),
					 errdetail("Transaction control on a data node would end or change its part of this transaction behind the access node's back."),
					 errhint("Run COMMIT, ROLLBACK, SAVEPOINT and PREPARE TRANSACTION on the access node, which applies them on every data node.")));
	}
}

static bool
is_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/*
 * distributed_exec(query, node_list, transactional), relaying the data
 * nodes' notices with relay_notices: the user's statements' notices are
 * theirs to see; those of the extension's own statements (IF NOT EXISTS,
 * IF EXISTS) are noise.
 */
static void
distributed_exec(FunctionCallInfo fcinfo, bool relay_notices)
{
	char	   *query;
	bool		transactional;
	List	   *servers;
	HdRequestSet *set;
	ListCell   *lc;

	if (PG_ARGISNULL(0) || is_blank(query = text_to_cstring(PG_GETARG_TEXT_PP(0))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("query must not be empty")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("transactional must not be NULL")));
	transactional = PG_GETARG_BOOL(2);
	if (!transactional)
		prevent_in_transaction_block(fcinfo);
	refuse_transaction_control(query, "distributed_exec");

	servers = PG_ARGISNULL(1) ? all_data_nodes() :
		named_data_nodes(PG_GETARG_ARRAYTYPE_P(1));
	foreach(lc, servers)
		check_usage(lfirst_oid(lc));

	set = hd_reqset_create();
	foreach(lc, servers)
	{
		HdConn	   *conn = hd_conn_get(lfirst_oid(lc), transactional);

		/* earlier work of this transaction left a remote transaction open */
		if (!transactional && hd_conn_in_transaction(conn))
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("distributed_exec with transactional => false cannot run inside a transaction block"),
					 errdetail("This transaction already has a remote transaction open on data node \"%s\".",
							   hd_conn_node_name(conn))));
		if (relay_notices)
			hd_conn_relay_notices(conn);
		(void) hd_reqset_exec(set, conn, query, 0, NULL, NULL);
	}
	hd_reqset_wait(set);
}

Datum
hyperdist_distributed_exec(PG_FUNCTION_ARGS)
{
	distributed_exec(fcinfo, true);
	PG_RETURN_VOID();
}

/* _hyperdist_functions.exec_on_data_nodes: the same for the extension's SQL. */
Datum
hyperdist_exec_on_data_nodes(PG_FUNCTION_ARGS)
{
	distributed_exec(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * Returns the rows of sql on one data node, in text format, typed by the
 * caller's column definition list.  Runs in the remote transaction, so it
 * sees this transaction's work on the node.
 */
Datum
hyperdist_data_node_query(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			serverid = hd_data_node_get(NameStr(*PG_GETARG_NAME(0)), false)->serverid;
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	AttInMetadata *attinmeta;
	HdConn	   *conn;
	HdStream   *stream;
	int			natts;
	char	  **fields;

	check_usage(serverid);
	refuse_transaction_control(sql, "data_node_query");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	natts = rsinfo->setDesc->natts;
	fields = palloc(sizeof(char *) * natts);

	conn = hd_conn_get(serverid, true);
	hd_conn_relay_notices(conn);
	stream = hd_query_start(conn, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	hd_conn_mark_caller_sql(conn);
	if (hd_stream_ncolumns(stream) != natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("query on data node returned %d columns, but %d were declared",
						hd_stream_ncolumns(stream), natts)));
	while (hd_stream_next_text_row(stream, fields, natts))
		tuplestore_puttuple(rsinfo->setResult,
							BuildTupleFromCStrings(attinmeta, fields));
	hd_stream_close(stream);
	return (Datum) 0;
}
