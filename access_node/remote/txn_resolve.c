/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/txn_resolve.c — resolving in-doubt two-phase transactions.
 *
 * For one data node (hd_resolve_node), following Citus's recovery with
 * its double listing:
 *
 *   P = our prepared transactions on the node
 *   T = the node's commit records (latest snapshot)
 *   Q = our prepared transactions on the node, again
 *
 * A gid in Q but not in P was prepared just now: it is left for the next
 * pass.  A gid in both is in doubt unless its access node transaction is
 * still running (pg_xact_status semantics: in progress is checked before
 * commit status, see xid8funcs.c) or its backend is still sending COMMIT
 * PREPARED (hd_committing): then that backend finishes it, and leaving it
 * alone is what keeps "prepared transaction is busy" from happening.
 *
 * An in-doubt transaction commits iff its commit record is visible, read
 * after the status check so that a transaction that committed in between
 * is seen.  The clog status alone is not enough: the commit record's WAL
 * may not have been flushed when the access node crashed after PREPARE,
 * and recovery then hands the same xid to a new transaction, whose commit
 * would wrongly commit the old branch.  A record, on the other hand, exists
 * only if the transaction that inserted it committed.  (For xids too old
 * for the clog, the record is the only evidence, as in TimescaleDB.)
 *
 * Records of T whose gid is not in Q are pruned: their PREPARE happened
 * before their commit, hence before T was read, so a gid missing from the
 * later listing Q is gone for good.  Records of branches this pass
 * committed go too.  The table thus holds only recent or unresolved
 * commits instead of growing forever.
 *
 * Resolvers (the worker, remote_txn_heal_data_node) of one node are
 * serialised by a transaction-level advisory lock, and a COMMIT/ROLLBACK
 * PREPARED that meets a branch someone else is finishing ("busy", or "does
 * not exist") is not an error: the next pass sees the outcome.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "catch.h"
#include "remote/commit_record.h"
#include "remote/committing.h"
#include "remote/conn_internal.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/node.h"
#include "remote/remote_sql.h"
#include "remote/txn_resolve.h"
#include "spi_plan.h"

/* Bound on one node's resolution (every wait on the data node). */
#define HD_RESOLVE_TIMEOUT_MS	30000
/* Backoff for a data node the worker cannot resolve. */
#define HD_BACKOFF_MIN_MS		1000
#define HD_BACKOFF_MAX_MS		60000
/* Advisory lock field 4 for resolvers (user advisory locks use 1 and 2). */
#define HD_LOCKTAG_RESOLVER		0x4844

typedef enum AnStatus
{
	AN_IN_PROGRESS,
	AN_COMMITTED,
	AN_ABORTED,
	AN_TOO_OLD					/* no longer in the clog */
} AnStatus;

/* A prepared transaction of ours on the node. */
typedef struct Branch
{
	char	   *gid;
	FullTransactionId fxid;
	AnStatus	status;
} Branch;

PG_FUNCTION_INFO_V1(hyperdist_remote_txn_heal_data_node);

/* ---- one data node ----------------------------------------------------------- */

static void
lock_node(Oid serverid)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, serverid, 0, HD_LOCKTAG_RESOLVER);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

static void
bad_listing(HdConn *conn)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("unexpected result from data node \"%s\"", hd_conn_node_name(conn)),
			 errdetail("The list of prepared transactions could not be read.")));
}

/* Our prepared transactions (Branch *) on the node. */
static List *
list_prepared(HdConn *conn, Oid serverid)
{
	Oid			types[1] = {TEXTOID};
	const char *values[1] = {hd_gid_prefix()};
	HdStream   *stream = hd_query_start(conn, hd_sql_prepared_xacts_query(), 1, types,
										values, HD_ROWS_TEXT);
	List	   *result = NIL;
	char	   *gid;

	while (hd_stream_next_text_row(stream, &gid, 1))
	{
		Branch	   *b = palloc0(sizeof(Branch));
		Oid			node;

		if (gid == NULL)
			bad_listing(conn);
		b->gid = gid;
		if (hd_gid_parse(b->gid, &b->fxid, &node) && node == serverid)
			result = lappend(result, b);
	}
	hd_stream_close(stream);
	return result;
}

static bool
has_gid(List *branches, const char *gid)
{
	ListCell   *lc;

	foreach(lc, branches)
		if (strcmp(((Branch *) lfirst(lc))->gid, gid) == 0)
			return true;
	return false;
}

static bool
has_string(List *strings, const char *s)
{
	ListCell   *lc;

	foreach(lc, strings)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/* pg_xact_status() of an access node transaction. */
static AnStatus
an_status(FullTransactionId fxid)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		result;
	char	   *status;

	/*
	 * Not yet assigned: the xid belonged to a history of this access node
	 * that recovery lost, where it never committed.
	 */
	if (!FullTransactionIdPrecedes(fxid, ReadNextFullTransactionId()))
		return AN_ABORTED;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = FullTransactionIdGetDatum(fxid);
	fcinfo->args[0].isnull = false;
	result = pg_xact_status(fcinfo);
	if (fcinfo->isnull)
		return AN_TOO_OLD;
	status = text_to_cstring(DatumGetTextPP(result));
	if (strcmp(status, "in progress") == 0)
		return AN_IN_PROGRESS;
	if (strcmp(status, "committed") == 0)
		return AN_COMMITTED;
	return AN_ABORTED;
}

/* The branches of both listings that no one else is finishing. */
static List *
in_doubt(List *before, List *after)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, after)
	{
		Branch	   *b = lfirst(lc);

		if (!has_gid(before, b->gid))
			continue;			/* prepared just now */
		/* in progress first, then the committing set: see hd_committing */
		b->status = an_status(b->fxid);
		if (b->status == AN_IN_PROGRESS || hd_committing(b->fxid))
			continue;
		result = lappend(result, b);
	}
	return result;
}

static void
log_anomaly(HdConn *conn, const Branch *b, bool commit)
{
	if (commit && b->status == AN_ABORTED)
		ereport(WARNING,
				(errmsg("prepared transaction \"%s\" on data node \"%s\" has a commit record but its access node transaction aborted",
						b->gid, hd_conn_node_name(conn)),
				 errdetail("It is committed, as its commit record says.")));
	else if (!commit && b->status == AN_COMMITTED)
		ereport(LOG,
				(errmsg("prepared transaction \"%s\" on data node \"%s\" has no commit record although its transaction id committed",
						b->gid, hd_conn_node_name(conn)),
				 errdetail("The transaction id was reused after an access node crash lost the original transaction; the branch is rolled back.")));
}

typedef struct Finishing
{
	List	   *branches;		/* Branch *, in the order of the set */
	bool	   *commit;			/* per branch: COMMIT PREPARED, else ROLLBACK */
	List	   *gone;			/* gids now gone from the node */
	int			done;			/* branches this pass finished */
} Finishing;

/* The answer for branch i: finished, gone already, busy, or a WARNING. */
static void
finished_one(HdRequestSet *set, int i, void *arg)
{
	Finishing  *f = arg;
	Branch	   *b = list_nth(f->branches, i);
	const HdRemoteError *err = hd_reqset_error(set, i);

	if (err == NULL)
	{
		f->done++;
		f->gone = lappend(f->gone, b->gid);
	}
	else if (err->sqlerrcode == ERRCODE_UNDEFINED_OBJECT)
		f->gone = lappend(f->gone, b->gid);	/* finished by someone else */
	else if (err->sqlerrcode != ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE)
		ereport(WARNING,
				(errcode(err->sqlerrcode),
				 errmsg("could not %s prepared transaction \"%s\" on data node \"%s\": %s",
						f->commit[i] ? "commit" : "roll back", b->gid,
						hd_conn_node_name(hd_reqset_conn(set, i)), err->message)));
	/* else "busy": someone is finishing it right now */
}

/*
 * COMMIT or ROLLBACK PREPARED for each branch, pipelined.  Returns how
 * many succeeded; *gone gets the gids that are now gone from the node
 * (the caller deletes their records).
 */
static int
finish_branches(HdConn *conn, List *branches, List *committed, List **gone)
{
	Finishing	f = {branches, NULL, *gone, 0};
	HdRequestSet *set = hd_reqset_create_ext(HD_REQSET_KEEP_REMOTE,
											 finished_one, &f);
	ListCell   *lc;

	f.commit = palloc(sizeof(bool) * Max(list_length(branches), 1));
	foreach(lc, branches)
	{
		Branch	   *b = lfirst(lc);
		int			i = foreach_current_index(lc);

		f.commit[i] = has_string(committed, b->gid);
		log_anomaly(conn, b, f.commit[i]);
		(void) hd_reqset_exec(set, conn, hd_sql_finish_prepared(b->gid, f.commit[i]),
							  0, NULL, NULL);
	}
	hd_reqset_wait(set);
	*gone = f.gone;
	return f.done;
}

static int
resolve_with(HdConn *conn, Oid serverid)
{
	List	   *before = list_prepared(conn, serverid);
	List	   *records = hd_record_gids(serverid);
	List	   *after = list_prepared(conn, serverid);
	List	   *branches = in_doubt(before, after);
	List	   *gids = NIL;
	List	   *gone = NIL;
	ListCell   *lc;
	int			n;

	foreach(lc, branches)
		gids = lappend(gids, ((Branch *) lfirst(lc))->gid);
	n = finish_branches(conn, branches, hd_record_filter(gids), &gone);

	foreach(lc, records)
		if (!has_gid(after, lfirst(lc)))
			gone = lappend(gone, lfirst(lc));
	hd_record_delete(gone);
	return n;
}

int
hd_resolve_node(Oid serverid)
{
	HdConn	   *conn;
	TimestampTz old_deadline;
	volatile int n = 0;

	lock_node(serverid);
	conn = hd_conn_get(serverid, false);
	if (hd_conn_in_transaction(conn))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot resolve transactions on data node \"%s\" in a transaction that uses it",
						hd_conn_node_name(conn)),
				 errhint("Run it in a transaction of its own.")));

	old_deadline = hd_conn_set_deadline(
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), HD_RESOLVE_TIMEOUT_MS));
	PG_TRY();
	{
		n = resolve_with(conn, serverid);
	}
	PG_FINALLY();
	{
		(void) hd_conn_set_deadline(old_deadline);
	}
	PG_END_TRY();
	return n;
}

/* ---- remote_txn_heal_data_node(node_name) ------------------------------------ */

Datum
hyperdist_remote_txn_heal_data_node(PG_FUNCTION_ARGS)
{
	const char *name = NameStr(*PG_GETARG_NAME(0));
	ForeignServer *server = GetForeignServerByName(name, true);

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to resolve remote transactions"),
				 errdetail("Resolving finishes other sessions' prepared transactions on the data node.")));
	if (server == NULL || !hd_server_is_data_node(server))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data node \"%s\" does not exist", name)));
	PG_RETURN_INT32(hd_resolve_node(server->serverid));
}

/* ---- the worker's pass ------------------------------------------------------------ */

typedef struct NodeRetry
{
	Oid			serverid;		/* hash key */
	TimestampTz next;			/* do not try before; 0: any time */
	int			delay_ms;		/* current backoff; 0: healthy */
	bool		status_row;		/* resolver_status may hold a row for it */
} NodeRetry;

typedef struct DataNode
{
	Oid			serverid;
	char	   *name;
} DataNode;

static HTAB *retries = NULL;

static NodeRetry *
retry_entry(Oid serverid)
{
	NodeRetry  *r;
	bool		found;

	if (retries == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(NodeRetry);
		retries = hash_create("hyperdist resolver retries", 16, &ctl,
							  HASH_ELEM | HASH_BLOBS);
	}
	r = hash_search(retries, &serverid, HASH_ENTER, &found);
	if (!found)
	{
		r->next = 0;
		r->delay_ms = 0;
		/* a row may survive from before a restart */
		r->status_row = true;
	}
	return r;
}

/* Runs sql with nargs parameters through SPI, in the current transaction. */
static void
run_sql(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = hd_spi_execute_once(sql, nargs, types, values, NULL, false, 0);
	if (ret < 0)
		elog(ERROR, "SPI_execute_with_args failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
	SPI_finish();
}

/*
 * The data nodes, in cxt; also prunes the records of data nodes that were
 * deleted.
 */
static List *
data_nodes(MemoryContext cxt)
{
	List	   *result = NIL;
	uint64		pruned;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (hd_spi_execute_once("SELECT s.oid FROM pg_catalog.pg_foreign_server s"
							" JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw"
							" WHERE w.fdwname = '" HD_FDW_NAME "' ORDER BY s.srvname",
							0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the data nodes");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			serverid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc,
															  1, &isnull));
		ForeignServer *server = GetForeignServer(serverid);

		if (hd_server_is_data_node(server))
		{
			MemoryContext spi = MemoryContextSwitchTo(cxt);
			DataNode   *node = palloc(sizeof(DataNode));

			node->serverid = serverid;
			node->name = pstrdup(server->servername);
			result = lappend(result, node);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	pruned = hd_record_prune_orphans();
	if (pruned > 0)
		ereport(LOG,
				(errmsg("hyperdist: deleted %llu commit records of data nodes that no longer exist",
						(unsigned long long) pruned)));
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return result;
}

/* Shows (error) or clears (NULL) the node's failure in resolver_status. */
static void
set_status(Oid serverid, const char *error, TimestampTz next)
{
	Oid			types[3] = {OIDOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];

	values[0] = ObjectIdGetDatum(serverid);
	if (error == NULL)
	{
		run_sql("DELETE FROM _hyperdist_catalog.resolver_status WHERE node = $1",
				1, types, values);
		return;
	}
	values[1] = CStringGetTextDatum(error);
	values[2] = TimestampTzGetDatum(next);
	run_sql("INSERT INTO _hyperdist_catalog.resolver_status AS s"
			" (node, failing_since, last_error, next_attempt)"
			" VALUES ($1, pg_catalog.now(), $2, $3)"
			" ON CONFLICT (node) DO UPDATE"
			" SET last_error = $2, next_attempt = $3",
			3, types, values);
}

/* Records a failure in a transaction of its own; never raises. */
static void
note_failure(Oid serverid, const char *error, TimestampTz next)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		set_status(serverid, error, next);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
}

/* Resolves one node in a transaction of its own; false if it failed. */
static bool
pass_node(const DataNode *node, NodeRetry *r)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;
	volatile int n = 0;

	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		n = hd_resolve_node(node->serverid);
		if (r->status_row)
			set_status(node->serverid, NULL, 0);
		PopActiveSnapshot();
		CommitTransactionCommand();
		r->status_row = false;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = hd_catch_abort_xact(cxt);

		r->delay_ms = r->delay_ms == 0 ? HD_BACKOFF_MIN_MS :
			Min(r->delay_ms * 2, HD_BACKOFF_MAX_MS);
		r->next = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), r->delay_ms);
		ereport(LOG,
				(errmsg("hyperdist: could not resolve the prepared transactions of data node \"%s\": %s",
						node->name, edata->message),
				 errdetail("Retrying in %d ms.", r->delay_ms)));
		note_failure(node->serverid, edata->message, r->next);
		r->status_row = true;
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);

	if (ok && n > 0)
		ereport(LOG,
				(errmsg("hyperdist: resolved %d in-doubt prepared transactions on data node \"%s\"",
						n, node->name)));
	if (ok)
	{
		r->delay_ms = 0;
		r->next = 0;
	}
	return ok;
}

/*
 * Healthy nodes first: reaching a node that is down costs up to
 * hyperdist.connect_timeout, which should not delay the others.
 */
long
hd_resolver_pass(bool urgent)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *healthy = NIL;
	List	   *failing = NIL;
	long		next_retry = -1;
	ListCell   *lc;

	foreach(lc, data_nodes(cxt))
	{
		DataNode   *node = lfirst(lc);

		if (retry_entry(node->serverid)->delay_ms > 0)
			failing = lappend(failing, node);
		else
			healthy = lappend(healthy, node);
	}
	foreach(lc, list_concat(healthy, failing))
	{
		DataNode   *node = lfirst(lc);
		NodeRetry  *r = retry_entry(node->serverid);

		if (urgent || r->next <= GetCurrentTimestamp())
			(void) pass_node(node, r);
		if (r->next != 0)
		{
			long		wait = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
															   r->next);

			next_retry = next_retry < 0 ? wait : Min(next_retry, wait);
		}
	}
	return next_retry;
}
