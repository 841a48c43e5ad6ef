/*
 * remote/txn.c — remote transactions tied to the local one.
 *
 * A session joins the local transaction the first time it is used with
 * transactional = true: START TRANSACTION at the local isolation level is
 * pipelined ahead of the first statement.  The callbacks then follow
 * postgres_fdw (pgfdw_xact_callback):
 *
 *   PRE_COMMIT   COMMIT on every participant, then wait for all; an error
 *                aborts the local transaction (ERROR is allowed here).
 *   COMMIT       nothing left to do on the nodes; sessions are tidied.
 *   ABORT        cancel in-flight requests and queue ROLLBACK, without
 *                waiting; WARNINGs only (an ERROR here would PANIC).
 *   PRE_PREPARE  refused when data nodes take part.
 *
 * This is one-phase commit: if COMMIT succeeds on one node and fails on
 * another, the nodes disagree.  Two-phase commit replaces remote_commit():
 * PRE_COMMIT will write a durable gid record and PREPARE TRANSACTION on
 * every participant, COMMIT will send COMMIT PREPARED (WARNING-only, with
 * bounded waits), ABORT will add ROLLBACK PREPARED for prepared
 * participants, and the background worker resolves what is left in doubt.
 *
 * Savepoints are not forwarded yet: a subtransaction that did remote work
 * and then aborted leaves the remote transaction in an unknown state, so it
 * is marked failed and the local transaction cannot commit.
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/pg_list.h"

#include "remote/conn_internal.h"
#include "remote/txn.h"

static void
report_failed_remote_xact(HdConn *conn)
{
	ereport(ERROR,
			(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
			 errmsg("remote transaction on data node \"%s\" was aborted",
					hd_conn_node_name(conn)),
			 errdetail("A subtransaction that used the data node was rolled back, and savepoints are not yet supported on data nodes."),
			 errhint("Roll back the transaction and retry it.")));
}

static const char *
isolation_level_sql(void)
{
	switch (XactIsoLevel)
	{
		case XACT_SERIALIZABLE:
			return "SERIALIZABLE";
		case XACT_REPEATABLE_READ:
			return "REPEATABLE READ";
		default:
			/* READ UNCOMMITTED is READ COMMITTED in PostgreSQL */
			return "READ COMMITTED";
	}
}

void
hd_txn_begin_on(HdConn *conn)
{
	switch (hd_conn_xact_state(conn))
	{
		case HD_RXACT_OPEN:
			return;
		case HD_RXACT_FAILED:
			report_failed_remote_xact(conn);
			break;
		case HD_RXACT_NONE:
			break;
	}
	hd_conn_begin_xact(conn,
					   psprintf("START TRANSACTION ISOLATION LEVEL %s%s",
								isolation_level_sql(),
								XactReadOnly ? " READ ONLY" : ""));
}

static void
collect_participant(HdConn *conn, void *arg)
{
	List	  **participants = arg;

	if (hd_conn_xact_state(conn) != HD_RXACT_NONE)
		*participants = lappend(*participants, conn);
}

static List *
participants(void)
{
	List	   *result = NIL;

	hd_conn_visit(collect_participant, &result);
	return result;
}

/*
 * One-phase commit: send COMMIT everywhere first so the nodes commit in
 * parallel, then collect the answers.  A COMMIT answered "ROLLBACK" means
 * the remote transaction had failed without us noticing: never report that
 * as a commit.
 */
static void
remote_commit(void)
{
	List	   *conns = participants();
	uint32	   *seqs;
	ListCell   *lc;
	int			i;

	if (conns == NIL)
		return;
	/* find a lost participant before any node commits */
	foreach(lc, conns)
	{
		if (hd_conn_xact_state(lfirst(lc)) == HD_RXACT_FAILED)
			report_failed_remote_xact(lfirst(lc));
		hd_conn_check(lfirst(lc));
	}

	seqs = palloc(sizeof(uint32) * list_length(conns));
	i = 0;
	foreach(lc, conns)
		seqs[i++] = hd_conn_send_sql(lfirst(lc), "COMMIT");

	i = 0;
	foreach(lc, conns)
	{
		HdConn	   *conn = lfirst(lc);
		char	   *tag;

		hd_exec_wait(conn, seqs[i++], &tag);
		if (strcmp(tag, "COMMIT") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_TRANSACTION_ROLLBACK),
					 errmsg("remote transaction on data node \"%s\" was rolled back",
							hd_conn_node_name(conn)),
					 errdetail("The data node answered COMMIT with %s.", tag)));
		hd_conn_set_xact_state(conn, HD_RXACT_NONE);
	}
}

static void
abort_one(HdConn *conn, void *arg)
{
	hd_conn_cancel_requests(conn, 0);
	if (hd_conn_xact_state(conn) == HD_RXACT_NONE)
		return;
	if (hd_conn_alive(conn) && !hd_conn_send_nowait(conn, "ROLLBACK"))
	{
		ereport(WARNING,
				(errmsg("could not queue ROLLBACK for data node \"%s\"",
						hd_conn_node_name(conn)),
				 errdetail("The session was closed instead, which rolls the remote transaction back.")));
		hd_conn_discard_session(conn);
	}
	hd_conn_set_xact_state(conn, HD_RXACT_NONE);
}

static void
refuse_prepare(void)
{
	if (participants() != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot prepare a transaction that modified data nodes")));
}

static void
hd_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			remote_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			refuse_prepare();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			hd_conn_end_xact();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			hd_conn_visit(abort_one, NULL);
			hd_conn_end_xact();
			break;
	}
}

static void
subabort_one(HdConn *conn, void *arg)
{
	int			level = *(int *) arg;

	hd_conn_cancel_requests(conn, level);
	if (hd_conn_xact_state(conn) == HD_RXACT_OPEN &&
		hd_conn_xact_level(conn) >= level)
		hd_conn_set_xact_state(conn, HD_RXACT_FAILED);
}

static void
subcommit_one(HdConn *conn, void *arg)
{
	hd_conn_subxact_commit(conn, *(int *) arg);
}

static void
hd_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
		hd_conn_visit(subabort_one, &level);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		hd_conn_visit(subcommit_one, &level);
}

void
hd_txn_init(void)
{
	RegisterXactCallback(hd_xact_callback, NULL);
	RegisterSubXactCallback(hd_subxact_callback, NULL);
}
