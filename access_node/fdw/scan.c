/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/scan.c — executing a foreign scan.
 *
 * A foreign table on a data node is one remote query.  A distributed
 * hypertable is one query per data node holding chunks to read, those
 * the scan's quals do not exclude (fdw/prune.c), chosen when the scan
 * starts (its root table, restricted to the chunks read from that replica
 * when the node holds others): all are sent before the first row is
 * read, so the nodes work concurrently, and their rows are returned node
 * after node.  Each remote query is streamed over the node's session, in
 * the node's remote transaction of the local one where there is one (or
 * one is begun from REPEATABLE READ up), else as a statement of its own
 * (scan_begins_transaction).  The stream hands over
 * each row's fields as bytes; each field is decoded with its type's
 * receive function (binary transfer) or input function (text transfer), as
 * COPY FROM does.  Decoded values live in a context reset at each row,
 * which is safe because a scan's tuple is only valid until the next call.
 *
 * Failover: the read plan reads each chunk from its first replica on a data
 * node that is available and not known to be down.  A node that cannot be
 * reached when the scan opens its sessions is down from then on, for every
 * backend (remote/node_health.h), so the plan made again reads its chunks
 * elsewhere.  A node lost while its query runs, before the scan returned a
 * row, restarts the scan's queries on a new plan; once rows were returned
 * the loss is an error (08006), so no row is returned before every node
 * has started its query.  Each node is given up on once per scan:
 * failing again is an error.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "portability/instr_time.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "metadata/chunk.h"
#include "guc.h"
#include "deparse/deparse.h"
#include "fdw/params.h"
#include "fdw/prune.h"
#include "fdw/remote_explain.h"
#include "fdw/scan.h"
#include "metadata/hypertable.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/fault.h"
#include "remote/txn.h"
#include "remote/typeio.h"

typedef struct HdScanState
{
	Oid			relid;			/* the foreign table scanned */
	TupleDesc	tupdesc;		/* the scan tuple's: the table's, or the
								 * grouping target's (fdw/grouping.c) */
	HdHypertable *ht;			/* NULL: a table on one data node */
	MemoryContext scan_cxt;		/* lives as long as the scan */
	ForeignScanState *node;
	List	   *prune_codes;	/* the pruning quals' codes (fdw/prune.c) */
	List	   *prune_exprs;	/* and their expressions' ExprStates */
	bool		planned;		/* the queries are chosen (plan_queries) */
	List	   *open_failed;	/* servers whose session could not be
								 * opened: not planned again */
	List	   *stream_lost;	/* servers lost while their query ran */
	bool		returned;		/* a row was returned since the queries
								 * were last started */

	/* one remote query per data node; cur is the one being read */
	int			nqueries;
	char	  **sqls;
	Oid		   *serverids;
	int		   *nchunks;		/* chunks read (distributed hypertable) */
	HdConn	  **conns;			/* NULL for EXPLAIN without ANALYZE */
	HdStream  **streams;		/* all NULL until rows are asked for */
	int			cur;
	HdConn	   *conn;			/* conns[cur] */

	/* per query, for EXPLAIN ANALYZE: rows read, time to its last row */
	uint64	   *rows_read;
	instr_time *sent_at;
	double	   *elapsed_ms;		/* < 0 until the last row is read */
	bool		explain_only;	/* plain EXPLAIN: nothing runs */

	/* per remote column: the attribute it fills and how to decode it */
	int			nretrieved;
	AttrNumber *attnums;
	FmgrInfo   *in_funcs;		/* typreceive when binary, else typinput */
	Oid		   *typioparams;
	int32	   *typmods;
	Oid		   *fast_types;		/* binary: a type decoded here (remote/typeio.c,
								 * text), else InvalidOid */
	bool		binary;
	int			ncolumns;		/* columns the remote query returns */

	HdStream   *stream;			/* streams[cur] once started */
	bool		eof;
	const uint8 **fields;		/* the current row's fields, in place */
	int32	   *lens;
	MemoryContext row_cxt;		/* decoded values of the current row */
	StringInfoData field;		/* one field's bytes, NUL-terminated */

	AttrNumber	cur_attno;		/* column being decoded, for errcontext */

	/* remote parameters: computed as each set of queries is sent */
	HdRemoteParams params;
	ExprContext *econtext;
} HdScanState;

/*
 * Whether values of type typid can travel in binary format.  The type needs
 * a receive function, and its binary format must not depend on type OIDs,
 * which match between nodes only for types created by initdb from genbki
 * data: array and composite values name their element types by OID.
 * Ranges carry their subtype's binary format.
 */
static bool
binary_transfer_ok(Oid typid)
{
	HeapTuple	tup;
	Form_pg_type typ;
	bool		ok;

	typid = getBaseType(typid);
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tup);

	if (!OidIsValid(typ->typreceive))
		ok = false;
	else if (typid < FirstUnpinnedObjectId)
		ok = true;
	else if (typ->typtype == TYPTYPE_RANGE)
		ok = binary_transfer_ok(get_range_subtype(typid));
	else if (typ->typtype == TYPTYPE_MULTIRANGE)
		ok = binary_transfer_ok(get_multirange_range(typid));
	else
		ok = (typ->typtype == TYPTYPE_BASE || typ->typtype == TYPTYPE_ENUM) &&
			!IsTrueArrayType(typ);

	ReleaseSysCache(tup);
	return ok;
}

/*
 * Binary transfer only when every column allows it.  Receive functions of
 * text-like types convert from the client encoding (pq_getmsgtext), which
 * is right for a client's COPY but not for data that is already in the
 * database encoding, so a session with another client encoding uses text.
 */
static bool
choose_binary(TupleDesc tupdesc, List *retrieved_attrs)
{
	ListCell   *lc;

	if (pg_get_client_encoding() != GetDatabaseEncoding() &&
		pg_get_client_encoding() != PG_SQL_ASCII)
		return false;

	foreach(lc, retrieved_attrs)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, lfirst_int(lc) - 1);

		if (!binary_transfer_ok(att->atttypid))
			return false;
	}
	return true;
}

static void
prepare_decoding(HdScanState *state, List *retrieved_attrs)
{
	TupleDesc	tupdesc = state->tupdesc;
	int			n = list_length(retrieved_attrs);
	int			i = 0;
	ListCell   *lc;

	state->binary = choose_binary(tupdesc, retrieved_attrs);
	state->nretrieved = n;
	/* a query that needs no column selects one NULL per row */
	state->ncolumns = Max(n, 1);
	state->attnums = palloc(sizeof(AttrNumber) * n);
	state->in_funcs = palloc(sizeof(FmgrInfo) * n);
	state->typioparams = palloc(sizeof(Oid) * n);
	state->typmods = palloc(sizeof(int32) * n);
	state->fast_types = palloc0(sizeof(Oid) * n);

	foreach(lc, retrieved_attrs)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, lfirst_int(lc) - 1);
		Oid			func;

		if (state->binary)
			getTypeBinaryInputInfo(att->atttypid, &func, &state->typioparams[i]);
		else
			getTypeInputInfo(att->atttypid, &func, &state->typioparams[i]);
		if (state->binary &&
			(hd_fixed_binary_len(att->atttypid) > 0 || att->atttypid == TEXTOID))
			state->fast_types[i] = att->atttypid;
		fmgr_info(func, &state->in_funcs[i]);
		state->attnums[i] = att->attnum;
		state->typmods[i] = att->atttypmod;
		i++;
	}
}

static bool
contains_exec_param(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return true;
	return expression_tree_walker(node, contains_exec_param, context);
}

/*
 * The remote queries: the plan's SQL on the foreign table's data node, or
 * for a distributed hypertable on every node with chunks to read, chosen
 * now so that a cached plan sees the chunks that exist when it runs, and
 * the pruning quals' expressions (prune_exprs, ExprStates) have the values
 * of this execution.  A node that holds chunks not read gets their list
 * added to each WHERE clause of the SQL's parts (hd_deparse_node_scan).
 */
static void
plan_queries(HdScanState *state)
{
	ForeignScanState *node = state->node;
	ForeignScan *fsplan = castNode(ForeignScan, node->ss.ps.plan);
	List	   *sql_parts = list_nth(fsplan->fdw_private, HdScanPrivateSql);
	bool		has_where = boolVal(list_nth(fsplan->fdw_private,
											 HdScanPrivateHasWhere));
	char	   *alias = strVal(list_nth(fsplan->fdw_private, HdScanPrivateAlias));
	HdHypertable *ht = state->ht;
	HdChunkPrune prune;
	List	   *reads;
	ListCell   *lc;
	MemoryContext oldcxt = MemoryContextSwitchTo(state->scan_cxt);

	if (ht == NULL)
	{
		HdNodeRead *read = palloc0(sizeof(HdNodeRead));

		read->serverid = fsplan->fs_server;
		reads = list_make1(read);
	}
	else
	{
		hd_prune_compute(&prune, ht, state->prune_codes, state->prune_exprs,
						 node->ss.ps.ps_ExprContext);
		reads = hd_chunk_read_plan(ht, &prune, state->open_failed);
		hd_fault(HD_FAULT_SCAN_PLANNED);
	}

	state->nqueries = list_length(reads);
	state->sqls = palloc(sizeof(char *) * Max(state->nqueries, 1));
	state->serverids = palloc(sizeof(Oid) * Max(state->nqueries, 1));
	state->nchunks = palloc(sizeof(int) * Max(state->nqueries, 1));
	foreach(lc, reads)
	{
		HdNodeRead *read = lfirst(lc);
		int			i = foreach_current_index(lc);

		state->sqls[i] = hd_deparse_node_scan(sql_parts, has_where,
											  hd_deparse_read_filter(read,
																	 alias[0] != '\0' ? alias : NULL));
		state->serverids[i] = read->serverid;
		state->nchunks[i] = list_length(read->chunks);
	}
	state->streams = palloc0(sizeof(HdStream *) * Max(state->nqueries, 1));
	state->rows_read = palloc0(sizeof(uint64) * Max(state->nqueries, 1));
	state->sent_at = palloc0(sizeof(instr_time) * Max(state->nqueries, 1));
	state->elapsed_ms = palloc(sizeof(double) * Max(state->nqueries, 1));
	for (int i = 0; i < state->nqueries; i++)
		state->elapsed_ms[i] = -1;
	state->conns = NULL;
	state->conn = NULL;
	state->stream = NULL;
	state->cur = 0;
	state->eof = state->nqueries == 0;
	state->planned = true;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Leaves out the pruning quals whose values an InitPlan computes (fdw/
 * prune.c): for a plan shown without running it, which reads the chunks
 * they would have excluded too.
 */
static void
prune_without_initplans(HdScanState *state)
{
	List	   *codes = NIL;
	List	   *states = NIL;
	ListCell   *lc1,
			   *lc2;

	forboth(lc1, state->prune_codes, lc2, state->prune_exprs)
	{
		ExprState  *es = lfirst(lc2);

		if (contains_exec_param((Node *) es->expr, NULL))
			continue;
		codes = lappend_int(codes, lfirst_int(lc1));
		states = lappend(states, es);
	}
	state->prune_codes = codes;
	state->prune_exprs = states;
}

/*
 * Whether the remote queries must run in a remote transaction of the local
 * one, begun if the node has none: from REPEATABLE READ up, whose snapshot
 * lasts as long as the local transaction's.  At READ COMMITTED each
 * statement on a data node takes a snapshot of its own anyway, so a query
 * runs in the node's remote transaction only where one is open (what the
 * local transaction wrote there is visible only inside it), and elsewhere
 * as a statement of its own, in a transaction block too (as Citus runs
 * reads): no START TRANSACTION, scan savepoint or COMMIT for a node that
 * is only read.  Its locks on that node then last for the statement, and
 * a later statement sees what committed since (drop_chunks included), as
 * READ COMMITTED lets it see any committed change.
 */
static bool
scan_begins_transaction(void)
{
	return IsolationUsesXactSnapshot();
}

/*
 * A query on a session whose remote transaction is open runs in it; one
 * in another state (a subtransaction's rollback that did not reach the
 * node, PREPARE sent) cannot run there: hd_txn_begin_on says why.
 */
static void
check_remote_transaction(HdConn *conn)
{
	if (conn != NULL && hd_conn_in_transaction(conn))
		hd_txn_begin_on(conn);
}

/*
 * The sessions of the queries.  For a distributed hypertable, a node that
 * cannot be reached is down from then on (hd_conn_try_get), and the plan
 * made again reads its chunks from other replicas, or fails for chunks
 * that have none.  That plan leaves the node out even if the health
 * monitor has seen it answer in between (a node flapping under load, an
 * agent just restarted): the scan waits at most one connect timeout for
 * each node lost, and its other replicas answer.
 */
static void
open_sessions(HdScanState *state)
{
	bool		transactional = scan_begins_transaction();
	MemoryContext oldcxt = MemoryContextSwitchTo(state->scan_cxt);

	for (;;)
	{
		int			i;

		state->conns = palloc(sizeof(HdConn *) * Max(state->nqueries, 1));
		for (i = 0; i < state->nqueries; i++)
		{
			Oid			serverid = state->serverids[i];

			if (state->ht == NULL)
				state->conns[i] = hd_conn_get(serverid, transactional);
			else
				state->conns[i] = hd_conn_try_get(serverid, transactional);
			if (state->conns[i] == NULL)
				break;
			check_remote_transaction(state->conns[i]);
		}
		if (i == state->nqueries)
			break;
		state->open_failed = lappend_oid(state->open_failed, state->serverids[i]);
		plan_queries(state);
	}
	state->conn = state->nqueries > 0 ? state->conns[0] : NULL;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The parameters' values now: the scan's queries are (re)sent after a
 * rescan, when PARAM_EXEC values may have changed.  hd_query_start copies
 * them into its request, so the per-tuple context, reset before the next
 * row, holds them long enough.
 */
static void
compute_params(HdScanState *state)
{
	MemoryContext oldcxt;

	oldcxt = MemoryContextSwitchTo(state->econtext->ecxt_per_tuple_memory);
	hd_params_compute(&state->params, state->econtext);
	MemoryContextSwitchTo(oldcxt);
}

/* ForeignScan.fdw_private, in the order of HdScanPrivateIndex */
List *
hd_scan_private(List *sql_parts, List *retrieved_attrs, bool has_where,
				List *prune_codes, Oid relid, const char *alias,
				const char *relations)
{
	return list_concat(list_make5(sql_parts, retrieved_attrs,
								  makeBoolean(has_where), prune_codes,
								  makeInteger(relid)),
					   list_make2(makeString(pstrdup(alias)),
								  makeString(pstrdup(relations))));
}

void
hd_begin_foreign_scan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = castNode(ForeignScan, node->ss.ps.plan);
	int			nprune = list_length(list_nth(fsplan->fdw_private,
											  HdScanPrivatePruneCodes));
	int			nparams = list_length(fsplan->fdw_exprs) - nprune;
	HdScanState *state;
	List	   *prune_exprs;

	state = palloc0(sizeof(HdScanState));
	state->relid = intVal(list_nth(fsplan->fdw_private, HdScanPrivateRelid));
	state->tupdesc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	state->ht = hd_hypertable_load(state->relid);
	state->scan_cxt = CurrentMemoryContext;
	state->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										   "hyperdist scan row",
										   ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&state->field);
	prepare_decoding(state,
					 list_nth(fsplan->fdw_private, HdScanPrivateRetrievedAttrs));
	state->fields = palloc(sizeof(uint8 *) * Max(state->ncolumns, 1));
	state->lens = palloc(sizeof(int32) * Max(state->ncolumns, 1));
	state->econtext = node->ss.ps.ps_ExprContext;
	hd_params_init(&state->params, list_copy_head(fsplan->fdw_exprs, nparams),
				   (PlanState *) node);

	state->node = node;
	state->prune_codes = list_nth(fsplan->fdw_private, HdScanPrivatePruneCodes);
	prune_exprs = list_copy_tail(fsplan->fdw_exprs, nparams);
	state->prune_exprs = ExecInitExprList(prune_exprs, (PlanState *) node);
	node->fdw_state = state;

	/* plain EXPLAIN shows the queries and needs no session */
	state->explain_only = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	if (state->explain_only)
		prune_without_initplans(state);

	/*
	 * InitPlans are set up after this node: a plan pruning by their values
	 * is made when the first row is asked for.
	 */
	if (state->explain_only || !contains_exec_param((Node *) prune_exprs, NULL))
	{
		plan_queries(state);
		if (!state->explain_only)
			open_sessions(state);
	}
}

static void
report_bad_rows(HdScanState *state, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("invalid rows from data node \"%s\"",
					hd_conn_node_name(state->conn)),
			 errdetail_internal("%s", detail)));
}

/*
 * A binary value decoded as another type is garbage, or worse, plausible:
 * four bytes of text make an int4.  Built-in types have the same OIDs on
 * every node, so a built-in column must not come back as another built-in
 * type.  Other types cannot be compared by OID; text read from an enum or
 * citext column is fine, and receive functions check what they read.
 */
static void
check_remote_type(HdScanState *state, int i, Oid remote_type)
{
	Form_pg_attribute att = TupleDescAttr(state->tupdesc,
										  state->attnums[i] - 1);
	Oid			local_type = getBaseType(att->atttypid);

	if (local_type >= FirstUnpinnedObjectId ||
		remote_type >= FirstUnpinnedObjectId ||
		remote_type == local_type)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of foreign table \"%s\" has type %s, but %s on data node \"%s\"",
					NameStr(att->attname), get_rel_name(state->relid),
					format_type_be(local_type), format_type_be(remote_type),
					hd_conn_node_name(state->conn)),
			 errhint("Declare the column with the data node's type.")));
}

/*
 * Binary rows of a distributed hypertable come as COPY data, which the
 * agent forwards without unpacking each row; COPY takes no parameters, so
 * their values are written into the statement (hd_params_inline).  The
 * column types are not reported then; they cannot differ, as hyperdist
 * creates and alters the data nodes' tables with the access node's.  A
 * foreign table of a single data node is the user's declaration, checked
 * against the types the data node reports.
 */
static HdRowFormat
row_format(const HdScanState *state)
{
	if (!state->binary)
		return HD_ROWS_TEXT;
	return state->ht != NULL ? HD_ROWS_COPY : HD_ROWS_BINARY;
}

/*
 * Sends every query (so that all data nodes start at once), then waits for
 * the current one's columns and checks they are the ones asked for.
 */
static void
start_stream(HdScanState *state)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(state->scan_cxt);
	HdRequestSet *set = hd_reqset_create();
	HdStream   *stream;

	if (state->cur == 0)
		compute_params(state);
	for (int i = state->cur; i < state->nqueries; i++)
	{
		int			r;

		if (state->streams[i] != NULL)
			continue;
		INSTR_TIME_SET_CURRENT(state->sent_at[i]);
		if (row_format(state) == HD_ROWS_COPY)
			r = hd_reqset_scan(set, state->conns[i],
							   hd_params_inline(&state->params, state->sqls[i]),
							   0, NULL, NULL, HD_ROWS_COPY);
		else
			r = hd_reqset_scan(set, state->conns[i], state->sqls[i],
							   state->params.n, state->params.types,
							   state->params.values, row_format(state));
		state->streams[i] = hd_reqset_stream(set, r);
	}
	stream = state->stream = state->streams[state->cur];
	MemoryContextSwitchTo(oldcxt);

	/*
	 * Before any row is returned, every node must have started its query
	 * (COPY answers before it runs it): a node already lost then restarts
	 * the scan (next_row) rather than failing it once other nodes' rows
	 * were returned.
	 */
	if (!state->returned)
		for (int i = state->cur + 1; i < state->nqueries; i++)
			(void) hd_stream_ncolumns(state->streams[i]);
	if (hd_stream_ncolumns(stream) != state->ncolumns)
		report_bad_rows(state,
						psprintf("The query returned %d columns instead of %d.",
								 hd_stream_ncolumns(stream), state->ncolumns));
	for (int i = 0; i < state->nretrieved; i++)
	{
		bool		binary = hd_stream_column_binary(stream, i);

		if (binary != state->binary)
			report_bad_rows(state,
							psprintf("Column %d is in %s format instead of %s.",
									 i + 1,
									 binary ? "binary" : "text",
									 state->binary ? "binary" : "text"));
		if (row_format(state) == HD_ROWS_BINARY)
			check_remote_type(state, i, hd_stream_column_type(stream, i));
	}
}

/* Reads the next row's fields into state->fields; false after the last row. */
static bool
read_row(HdScanState *state)
{
	while (!state->eof)
	{
		instr_time	now;

		if (state->stream == NULL)
			start_stream(state);

		/* the previous row's values are no longer referenced */
		MemoryContextReset(state->row_cxt);
		if (hd_stream_next_row(state->stream, state->ncolumns,
							   state->fields, state->lens))
		{
			state->rows_read[state->cur]++;
			return true;
		}

		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, state->sent_at[state->cur]);
		state->elapsed_ms[state->cur] = INSTR_TIME_GET_MILLISEC(now);
		/* release the agent's side now rather than at End */
		hd_stream_close(state->stream);
		state->stream = NULL;
		state->streams[state->cur] = NULL;
		if (++state->cur < state->nqueries)
			state->conn = state->conns[state->cur];
		else
			state->eof = true;
	}
	return false;
}

static void
close_streams(HdScanState *state)
{
	for (int i = 0; i < state->nqueries; i++)
	{
		if (state->streams[i] != NULL)
			hd_stream_close(state->streams[i]);
		state->streams[i] = NULL;
	}
	state->stream = NULL;
}

/* The first row since the queries started, for hd_conn_attempt. */
typedef struct FirstRow
{
	HdScanState *state;
	bool		found;
} FirstRow;

static void
first_row(void *arg)
{
	FirstRow   *first = arg;

	first->found = read_row(first->state);
}

/*
 * The next row.  Until the scan has returned one, the loss of a data node
 * (hd_conn_attempt: its session gone, and no remote transaction with it
 * that must fail) restarts the queries on a new plan, which reads the
 * node's chunks from other replicas if it is known to be down, else tries
 * it once more (its agent or PostgreSQL restarted: the node answers); a
 * node lost twice is an error, one that cannot be opened again is left
 * out (open_sessions).  Every query is started
 * again, the others' streams released first, so no row is read twice.
 */
static bool
next_row(HdScanState *state)
{
	FirstRow	first = {state, false};
	Oid			lost;

	/* a foreign table of one data node has nowhere else to go */
	if (state->returned || state->ht == NULL)
		return read_row(state);
	while (OidIsValid(lost = hd_conn_attempt(first_row, &first, state->stream_lost)))
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(state->scan_cxt);

		state->stream_lost = lappend_oid(state->stream_lost, lost);
		MemoryContextSwitchTo(oldcxt);
		close_streams(state);
		plan_queries(state);
		open_sessions(state);
	}
	state->returned = first.found;
	return first.found;
}

/*
 * A field of a type decoded here: the Datum straight from the bytes of a
 * fixed-width type (remote/typeio.c), a text's bytes as textrecv would take them
 * (no encoding conversion applies in binary transfer, see choose_binary).
 */
static Datum
decode_fast(HdScanState *state, Oid typid, const uint8_t *data, int32_t len)
{
	int16		fixed = hd_fixed_binary_len(typid);

	if (typid == TEXTOID)
		return PointerGetDatum(cstring_to_text_with_len((const char *) data, len));
	if (len != fixed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("incorrect binary data format"),
				 errdetail_internal("%d bytes instead of %d.", len, fixed)));
	return hd_fixed_binary_datum(data, typid);
}

/* Decodes field i (data NULL for SQL NULL); domains see NULLs too. */
static Datum
decode_field(HdScanState *state, int i, const uint8_t *data, int32_t len)
{
	StringInfo	buf = &state->field;
	Datum		value;

	if (data != NULL && OidIsValid(state->fast_types[i]))
		return decode_fast(state, state->fast_types[i], data, len);
	if (data != NULL)
	{
		resetStringInfo(buf);
		appendBinaryStringInfo(buf, (const char *) data, len);
	}

	if (!state->binary)
		return InputFunctionCall(&state->in_funcs[i],
								 data != NULL ? buf->data : NULL,
								 state->typioparams[i], state->typmods[i]);

	value = ReceiveFunctionCall(&state->in_funcs[i], data != NULL ? buf : NULL,
								state->typioparams[i], state->typmods[i]);
	if (data != NULL && buf->cursor != buf->len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("incorrect binary data format")));
	return value;
}

static void
conversion_error_callback(void *arg)
{
	HdScanState *state = (HdScanState *) arg;

	if (state->cur_attno > 0)
		errcontext("column \"%s\" of foreign table \"%s\"",
				   NameStr(TupleDescAttr(state->tupdesc,
										 state->cur_attno - 1)->attname),
				   get_rel_name(state->relid));
}

static void
decode_row(HdScanState *state, TupleTableSlot *slot)
{
	ErrorContextCallback errcb;
	MemoryContext oldcxt;

	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);

	errcb.callback = conversion_error_callback;
	errcb.arg = state;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	oldcxt = MemoryContextSwitchTo(state->row_cxt);

	/* past nretrieved: the placeholder of a column-less query */
	for (int i = 0; i < state->nretrieved; i++)
	{
		const uint8 *data = state->fields[i];
		AttrNumber	attnum = state->attnums[i];

		state->cur_attno = attnum;
		slot->tts_values[attnum - 1] = decode_field(state, i, data,
													state->lens[i]);
		slot->tts_isnull[attnum - 1] = (data == NULL);
	}

	MemoryContextSwitchTo(oldcxt);
	state->cur_attno = 0;
	error_context_stack = errcb.previous;
}

TupleTableSlot *
hd_iterate_foreign_scan(ForeignScanState *node)
{
	HdScanState *state = (HdScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!state->planned)
	{
		plan_queries(state);
		open_sessions(state);
	}
	ExecClearTuple(slot);
	if (!next_row(state))
		return slot;

	decode_row(state, slot);
	ExecStoreVirtualTuple(slot);
	return slot;
}

void
hd_rescan_foreign_scan(ForeignScanState *node)
{
	HdScanState *state = (HdScanState *) node->fdw_state;

	if (!state->planned)
		return;
	/* the next row asked for starts the queries again */
	close_streams(state);
	state->cur = 0;
	state->conn = state->nqueries > 0 ? state->conns[0] : NULL;
	state->eof = state->nqueries == 0;
	state->returned = false;
}

void
hd_end_foreign_scan(ForeignScanState *node)
{
	HdScanState *state = (HdScanState *) node->fdw_state;

	if (state != NULL)
		close_streams(state);
}

/*
 * The data node's plan of query i (hyperdist.enable_remote_explain), with
 * the parameters' current values; those of PARAM_EXEC parameters exist
 * only once the plan runs.
 */
static void
explain_remote_plan(HdScanState *state, int i, List *fdw_exprs,
					ExplainState *es)
{
	if (state->explain_only &&
		contains_exec_param((Node *) list_copy_head(fdw_exprs, state->params.n),
							NULL))
	{
		ExplainPropertyText("Remote Plan",
							"not available: parameters are set at execution",
							es);
		return;
	}
	compute_params(state);
	hd_explain_remote_plan(state->conns[i], state->sqls[i], state->params.n,
						   state->params.types,
						   (const char *const *) state->params.values, es);
}

/*
 * EXPLAIN: the relations a join reads, each data node queried, the number
 * of chunks read from it (for a distributed hypertable), with VERBOSE its
 * query (and its plan with hyperdist.enable_remote_explain), with ANALYZE
 * the rows it returned and the time from sending the query to reading its
 * last row.
 */
void
hd_explain_scan_queries(ForeignScanState *node, ExplainState *es)
{
	HdScanState *state = (HdScanState *) node->fdw_state;
	bool		dist = state->ht != NULL;
	ForeignScan *fsplan = castNode(ForeignScan, node->ss.ps.plan);
	List	   *fdw_exprs = fsplan->fdw_exprs;
	char	   *relations = strVal(list_nth(fsplan->fdw_private,
											HdScanPrivateRelations));

	if (relations[0] != '\0')
		ExplainPropertyText("Relations", relations, es);

	/* a scan never run (EXPLAIN ANALYZE): the nodes it would have read */
	if (!state->planned)
	{
		prune_without_initplans(state);
		plan_queries(state);
	}
	/* the remote plans' sessions, first: they may change the nodes read */
	if (es->verbose && hd_enable_remote_explain && state->conns == NULL)
		open_sessions(state);
	if (state->nqueries == 0)
	{
		ExplainPropertyText("Data nodes", "none", es);
		return;
	}
	ExplainOpenGroup("Data Nodes", "Data Nodes", false, es);
	for (int i = 0; i < state->nqueries; i++)
	{
		char	   *name = GetForeignServer(state->serverids[i])->servername;

		if (!dist && !es->verbose && !es->analyze)
			continue;
		/* in text, a node's lines under its name, when there can be several */
		ExplainOpenGroup("Data Node", NULL, true, es);
		ExplainPropertyText("Data node", name, es);
		if (dist && es->format == EXPLAIN_FORMAT_TEXT)
			es->indent++;
		if (dist)
			ExplainPropertyInteger("Chunks", NULL, state->nchunks[i], es);
		if (es->analyze)
		{
			ExplainPropertyUInteger("Rows", NULL, state->rows_read[i], es);
			if (es->timing && state->elapsed_ms[i] >= 0)
				ExplainPropertyFloat("Time", "ms", state->elapsed_ms[i], 3, es);
		}
		if (es->verbose)
			ExplainPropertyText("Remote SQL", state->sqls[i], es);
		if (es->verbose && hd_enable_remote_explain)
			explain_remote_plan(state, i, fdw_exprs, es);
		if (dist && es->format == EXPLAIN_FORMAT_TEXT)
			es->indent--;
		ExplainCloseGroup("Data Node", NULL, true, es);
	}
	ExplainCloseGroup("Data Nodes", "Data Nodes", false, es);
}
