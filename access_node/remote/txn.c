/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/txn.c — remote transactions tied to the local one, committed
 * with two-phase commit, or one phase when a single data node wrote.
 *
 * A session joins the local transaction the first time it is used with
 * transactional = true: START TRANSACTION at the local isolation level
 * (READ ONLY when the local transaction is) is pipelined ahead of the first
 * statement.  The callbacks follow Citus (transaction_management.c) and
 * postgres_fdw (connection.c):
 *
 *   PRE_COMMIT   Participants that were written to (any request but a
 *                scan, see remote/request.c) get a commit record in
 *                _hyperdist_catalog.commit_record, written in the local
 *                transaction, then ForceSyncCommit() so the local commit is
 *                durable whatever synchronous_commit says, then PREPARE
 *                TRANSACTION, sent to all at once (a request set,
 *                remote/fanout.c).  Read-only participants get a plain
 *                COMMIT at the same time (a reader whose session was
 *                lost is dropped instead when it can be, at READ
 *                COMMITTED: see hd_conn_drop_lost_reader).  Any failure raises
 *                an ERROR, and the local transaction aborts normally; so
 *                does statement_timeout, armed again for these waits.
 *   COMMIT       COMMIT PREPARED everywhere, in parallel, with a hard
 *                deadline (5 s, or the statement's timeout if sooner)
 *                because interrupts are held; errors are only
 *                WARNINGs (an ERROR here would PANIC).  A branch that could
 *                not be committed is handed to the background worker, which
 *                is woken at once.
 *   ABORT        cancel in-flight requests and queue ROLLBACK, plus
 *                ROLLBACK PREPARED for a branch whose PREPARE was sent,
 *                without waiting; what does not get through is left to the
 *                background worker (presumed abort: no record, no commit).
 *   PRE_PREPARE  refused when data nodes take part.
 *
 * A transaction that wrote on a single data node and has no xid of its own
 * here (nothing written on the access node) commits with one phase instead
 * (hyperdist.enable_one_phase_commit, as Citus does for single-shard
 * writes): that node's COMMIT, sent at PRE_COMMIT, decides the outcome, and
 * there is no commit record and no PREPARE.  With hyperdist.enable_2pc off,
 * PRE_COMMIT sends COMMIT to every participant (a failure between two
 * nodes' commits leaves them disagreeing).
 *
 * Subtransactions are mirrored lazily: a participant gets SAVEPOINTs for
 * the nest levels entered since it was last used just before its next
 * request (hd_txn_sync_savepoints), RELEASE when the subtransaction
 * commits, and ROLLBACK TO (after its in-flight requests of that level are
 * cancelled) when it aborts.  Participants a subtransaction did not use
 * see none of it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "remote/commit_record.h"
#include "remote/committing.h"
#include "remote/conn_internal.h"
#include "remote/fanout.h"
#include "remote/fault.h"
#include "remote/remote_sql.h"
#include "remote/txn.h"

/*
 * Bound on the COMMIT PREPARED phase, which cannot be interrupted: after
 * it, what is left is the background worker's.
 */
#define HD_COMMIT_PREPARED_TIMEOUT_MS	5000

static void
report_failed_remote_xact(HdConn *conn)
{
	ereport(ERROR,
			(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
			 errmsg("remote transaction on data node \"%s\" is in an unknown state",
					hd_conn_node_name(conn)),
			 errdetail("A subtransaction that used the data node was rolled back, and the rollback could not be sent to the data node."),
			 errhint("Roll back the transaction and retry it.")));
}

void
hd_txn_begin_on(HdConn *conn)
{
	switch (hd_conn_xact(conn)->state)
	{
		case HD_RXACT_OPEN:
			return;
		case HD_RXACT_FAILED:
			report_failed_remote_xact(conn);
			break;
		case HD_RXACT_PREPARED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
					 errmsg("cannot use data node \"%s\" while the transaction commits",
							hd_conn_node_name(conn))));
			break;
		case HD_RXACT_NONE:
			break;
	}
	hd_conn_begin_xact(conn, hd_sql_start_transaction(XactIsoLevel, XactReadOnly),
					   XactReadOnly);
}

/* ---- savepoints -------------------------------------------------------------- */

void
hd_txn_sync_savepoints(HdConn *conn)
{
	HdRemoteXact *x = hd_conn_xact(conn);
	int			level = GetCurrentTransactionNestLevel();

	while (x->depth < level)
	{
		char		sql[HD_SAVEPOINT_SQL_LEN];

		hd_sql_savepoint(sql, HD_SAVEPOINT_CREATE, x->depth + 1);
		/* belongs to the parent level: aborting this level must not drop it */
		(void) hd_conn_send_txn_sql(conn, sql, HD_REQ_CHECK, x->depth);
		x->depth++;
	}
}

static void
release_savepoint(HdConn *conn, void *arg)
{
	HdRemoteXact *x = hd_conn_xact(conn);
	int			level = *(int *) arg;
	char		sql[HD_SAVEPOINT_SQL_LEN];

	if (x->state != HD_RXACT_OPEN || x->depth < level)
		return;
	hd_sql_savepoint(sql, HD_SAVEPOINT_RELEASE, level);
	(void) hd_conn_send_txn_sql(conn, sql, HD_REQ_CHECK, level - 1);
	x->depth = level - 1;
}

static void
subcommit_one(HdConn *conn, void *arg)
{
	hd_conn_subxact_commit(conn, *(int *) arg);
}

/*
 * Subtransaction abort: no waiting, no ERROR.  The data node rolls back to
 * the savepoint after the cancelled requests have stopped (the agent runs a
 * session's requests in order and starts the next one only once a cancel
 * has landed).  If that cannot even be queued, the remote transaction's
 * state is unknown and it can no longer commit.
 */
static void
subabort_one(HdConn *conn, void *arg)
{
	HdRemoteXact *x = hd_conn_xact(conn);
	int			level = *(int *) arg;
	char		sql[HD_SAVEPOINT_SQL_LEN];

	hd_conn_cancel_requests(conn, level);
	if (x->state != HD_RXACT_OPEN || x->depth < level)
		return;
	x->depth = level - 1;
	hd_sql_savepoint(sql, HD_SAVEPOINT_ROLLBACK, level);
	if (!hd_conn_alive(conn) || !hd_conn_queue_checked(conn, sql, level - 1))
		x->state = HD_RXACT_FAILED;
}

void
hd_txn_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	switch (event)
	{
		case SUBXACT_EVENT_PRE_COMMIT_SUB:
			hd_conn_visit(release_savepoint, &level);
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			hd_conn_visit(subcommit_one, &level);
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			hd_conn_visit(subabort_one, &level);
			break;
		case SUBXACT_EVENT_START_SUB:
			break;
	}
}

/* ---- participants --------------------------------------------------------------- */

typedef struct Participants
{
	List	   *writers;		/* commit with two-phase commit */
	List	   *readers;		/* cannot have written: plain COMMIT */
	List	   *prepared;		/* PREPARE sent */
} Participants;

static void
collect_participant(HdConn *conn, void *arg)
{
	Participants *p = arg;
	HdRemoteXact *x = hd_conn_xact(conn);

	switch (x->state)
	{
		case HD_RXACT_NONE:
			break;
		case HD_RXACT_PREPARED:
			p->prepared = lappend(p->prepared, conn);
			break;
		case HD_RXACT_OPEN:
		case HD_RXACT_FAILED:
			if (x->wrote && !x->read_only)
				p->writers = lappend(p->writers, conn);
			else
				p->readers = lappend(p->readers, conn);
			break;
	}
}

static Participants
participants(void)
{
	Participants p = {NIL, NIL, NIL};

	hd_conn_visit(collect_participant, &p);
	return p;
}

/* Before anything is committed or prepared: every participant is usable. */
static void
check_participants(List *conns)
{
	ListCell   *lc;

	foreach(lc, conns)
	{
		HdConn	   *conn = lfirst(lc);

		if (hd_conn_xact(conn)->state == HD_RXACT_FAILED)
			report_failed_remote_xact(conn);
		hd_conn_check(conn);
	}
}

/*
 * Readers whose session was lost and whose remote transaction may be given
 * up (hd_conn_drop_lost_reader) leave the transaction: their COMMIT had
 * nothing to make durable, and waiting for a node that is gone would only
 * fail the commit.
 */
static List *
drop_lost_readers(List *readers)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, readers)
		if (!hd_conn_drop_lost_reader(lfirst(lc)))
			kept = lappend(kept, lfirst(lc));
	return kept;
}

/* ---- PRE_COMMIT ------------------------------------------------------------------- */

/* A COMMIT of the set answered: the remote transaction is over. */
static void
committed_one(HdRequestSet *set, int i, void *arg)
{
	hd_conn_xact(hd_reqset_conn(set, i))->state = HD_RXACT_NONE;
}

/*
 * One-phase commit: COMMIT everywhere first so the nodes commit in
 * parallel, then collect the answers.
 */
static void
commit_one_phase(List *conns)
{
	HdRequestSet *set = hd_reqset_create_ext(HD_REQSET_RAISE, committed_one, NULL);
	ListCell   *lc;

	foreach(lc, conns)
		(void) hd_reqset_txn_sql(set, lfirst(lc), HD_SQL_COMMIT, "COMMIT");
	hd_reqset_wait(set);
}

/*
 * Whether the writers' commit needs no second phase: a single data node was
 * written to and the local transaction has no xid (no chunk created, no
 * catalog row or local table written), so that node's COMMIT alone decides
 * the outcome and nothing local has to commit atomically with it.  Not
 * under SERIALIZABLE, where the local commit can still fail after the
 * node's (PostgreSQL checks for serialization failures after PRE_COMMIT).
 */
static bool
one_phase_enough(List *writers)
{
	return hd_enable_one_phase_commit && list_length(writers) == 1 &&
		!TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
		!IsolationIsSerializable();
}

/*
 * The COMMIT was sent and the wait for its answer ended in an error that
 * is not the data node's answer: the session was lost or ended, or the wait
 * was cancelled (statement_timeout).  Whether the node committed is unknown
 * here, which 08007 says, as postgres_fdw does.  A COMMIT answered with
 * ROLLBACK (the remote transaction had failed) is an answer: raised as is.
 */
static void
report_commit_unknown(HdConn *writer, MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (edata->sqlerrcode == ERRCODE_TRANSACTION_ROLLBACK)
		PG_RE_THROW();
	FlushErrorState();
	ereport(ERROR,
			(errcode(ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN),
			 errmsg("could not learn whether the transaction committed on data node \"%s\"",
					hd_conn_node_name(writer)),
			 errdetail("COMMIT was sent to the data node, then: %s", edata->message),
			 errhint("The transaction wrote on that data node only: look there to see whether its changes were committed.")));
}

/* The data node refused to commit (a deferred constraint, say): its error. */
static void
report_commit_refused(HdConn *writer, const HdRemoteError *err)
{
	ereport(ERROR,
			(errcode(err->sqlerrcode),
			 errmsg_internal("%s", err->message),
			 err->detail ? errdetail_internal("%s", err->detail) : 0,
			 err->hint ? errhint("%s", err->hint) : 0,
			 errcontext("data node \"%s\"", hd_conn_node_name(writer)),
			 errcontext("remote SQL: COMMIT")));
}

/*
 * One-phase commit of the only data node written to (one_phase_enough):
 * its COMMIT is the commit point, and the local commit that follows has
 * nothing to make durable, so there is neither a commit record nor a
 * PREPARE.  Readers whose COMMIT is awaited commit first, so that one of
 * them failing (a serialization failure, a lost node) still rolls the
 * writer back.  Any error aborts the local transaction, which loses
 * nothing; one after the COMMIT was sent says whether the node's outcome
 * is known.
 */
static void
commit_only_writer(HdConn *writer, List *readers)
{
	MemoryContext cxt = CurrentMemoryContext;
	HdRequestSet *set;
	const HdRemoteError *err;

	if (readers != NIL)
		commit_one_phase(readers);
	hd_fault(HD_FAULT_BEFORE_ONE_PHASE_COMMIT);
	set = hd_reqset_create_ext(HD_REQSET_KEEP_REMOTE, committed_one, NULL);
	(void) hd_reqset_txn_sql(set, writer, HD_SQL_COMMIT, "COMMIT");
	PG_TRY();
	{
		hd_reqset_wait(set);
	}
	PG_CATCH();
	{
		report_commit_unknown(writer, cxt);
	}
	PG_END_TRY();
	err = hd_reqset_error(set, 0);
	if (err != NULL)
		report_commit_refused(writer, err);
	hd_fault(HD_FAULT_AFTER_ONE_PHASE_COMMIT);
	/* as every distributed commit does: a database's worker starts on use */
	hd_committing_wake(false);
}

/* Writes the commit records of the writers' branches, naming their gids. */
static void
write_commit_records(List *writers, FullTransactionId fxid)
{
	int			n = list_length(writers);
	char	  **gids = palloc(sizeof(char *) * n);
	Oid		   *servers = palloc(sizeof(Oid) * n);
	ListCell   *lc;
	int			i = 0;

	foreach(lc, writers)
	{
		HdConn	   *conn = lfirst(lc);
		HdRemoteXact *x = hd_conn_xact(conn);

		servers[i] = hd_conn_server(conn);
		hd_gid_format(x->gid, fxid, servers[i]);
		gids[i++] = x->gid;
	}
	hd_record_insert(n, gids, servers, fxid);
}

/*
 * An answer of phase one: the first writer's PREPARE is a fault point, a
 * reader's COMMIT ends its remote transaction.  arg: the number of writers,
 * which come first in the set.
 */
static void
prepared_one(HdRequestSet *set, int i, void *arg)
{
	if (i >= *(int *) arg)
		hd_conn_xact(hd_reqset_conn(set, i))->state = HD_RXACT_NONE;
	else if (i == 0)
		hd_fault(HD_FAULT_AFTER_PREPARE_FIRST_NODE);
}

/*
 * Phase one: PREPARE on the writers and COMMIT on the readers, all sent
 * before any answer is awaited.  A branch counts as prepared from the
 * moment its PREPARE is sent, so that an abort rolls it back whatever
 * became of the request.
 */
static void
prepare_all(List *writers, List *readers)
{
	FullTransactionId fxid = GetTopFullTransactionId();
	int			nwriters = list_length(writers);
	HdRequestSet *set = hd_reqset_create_ext(HD_REQSET_RAISE, prepared_one,
											 &nwriters);
	ListCell   *lc;

	write_commit_records(writers, fxid);
	ForceSyncCommit();
	hd_committing_begin(fxid);
	hd_fault(HD_FAULT_BEFORE_PREPARE);

	foreach(lc, writers)
	{
		HdConn	   *conn = lfirst(lc);
		HdRemoteXact *x = hd_conn_xact(conn);

		x->state = HD_RXACT_PREPARED;
		(void) hd_reqset_txn_sql(set, conn, hd_sql_prepare_transaction(x->gid),
								 "PREPARE TRANSACTION");
	}
	foreach(lc, readers)
		(void) hd_reqset_txn_sql(set, lfirst(lc), HD_SQL_COMMIT, "COMMIT");
	hd_reqset_wait(set);
	hd_fault(HD_FAULT_AFTER_PREPARE);
}

/*
 * A reader that ran nothing but the access node's own scans (whose
 * expressions are non-volatile built-ins) has nothing its COMMIT could
 * fail on but a lost connection, which the session's next request notices
 * anyway.  Its COMMIT is queued without waiting for the answer, saving a
 * round trip per statement; the agent runs it before anything the session
 * is sent next.  Not under SERIALIZABLE, where even a read-only
 * transaction can fail at commit, nor while requests whose errors are not
 * known yet are pending.  Returns the readers whose COMMIT must be awaited.
 */
static List *
commit_readers_nowait(List *readers)
{
	List	   *awaited = NIL;
	ListCell   *lc;

	foreach(lc, readers)
	{
		HdConn	   *conn = lfirst(lc);
		HdRemoteXact *x = hd_conn_xact(conn);

		if (IsolationIsSerializable() || x->state != HD_RXACT_OPEN ||
			x->ran_sql || !hd_conn_idle(conn) ||
			!hd_conn_send_nowait(conn, HD_SQL_COMMIT))
			awaited = lappend(awaited, conn);
		else
			x->state = HD_RXACT_NONE;
	}
	return awaited;
}

/*
 * PostgreSQL turns statement_timeout off before it commits
 * (finish_xact_command): a local commit is quick.  Committing on the data
 * nodes waits on them, and one that hangs must not hold the statement
 * longer than statement_timeout allows, so PRE_COMMIT arms the timeout
 * again, to fire when the statement's would have, unless it still runs (a
 * COMMIT inside a procedure); the wait for COMMIT PREPARED ends then too.
 */
static bool armed_statement_timeout = false;

static TimestampTz
statement_deadline(void)
{
	if (StatementTimeout <= 0)
		return 0;
	return TimestampTzPlusMilliseconds(GetCurrentStatementStartTimestamp(),
									   StatementTimeout);
}

static void
arm_statement_timeout(void)
{
	TimestampTz deadline = statement_deadline();

	if (deadline != 0 && !get_timeout_active(STATEMENT_TIMEOUT))
	{
		enable_timeout_at(STATEMENT_TIMEOUT, deadline);
		armed_statement_timeout = true;
	}
}

static void
disarm_statement_timeout(void)
{
	if (armed_statement_timeout)
		disable_timeout(STATEMENT_TIMEOUT, false);
	armed_statement_timeout = false;
}

static void
pre_commit(void)
{
	Participants p = participants();

	if (p.writers == NIL && p.readers == NIL)
		return;
	arm_statement_timeout();
	check_participants(p.writers);
	p.readers = drop_lost_readers(p.readers);
	check_participants(p.readers);
	p.readers = commit_readers_nowait(p.readers);
	if (one_phase_enough(p.writers))
		commit_only_writer(linitial(p.writers), p.readers);
	else if (p.writers != NIL && hd_enable_2pc)
		prepare_all(p.writers, p.readers);
	else if (p.writers != NIL || p.readers != NIL)
		commit_one_phase(list_concat(p.writers, p.readers));
	disarm_statement_timeout();
}

/* ---- COMMIT ------------------------------------------------------------------------- */

typedef struct CommitPrepared
{
	bool		handover;		/* a branch is left to the background worker */
	bool		first;			/* no branch committed yet */
} CommitPrepared;

/*
 * A COMMIT PREPARED answered, or failed (then it was not sent, or its
 * answer did not come): an error caught in the COMMIT callback becomes a
 * WARNING, and the branch is the background worker's.
 */
static void
committed_prepared_one(HdRequestSet *set, int i, void *arg)
{
	CommitPrepared *cp = arg;
	HdConn	   *conn = hd_reqset_conn(set, i);
	const HdRemoteError *err = hd_reqset_error(set, i);

	if (err != NULL)
	{
		ereport(WARNING,
				(errcode(err->sqlerrcode),
				 errmsg("could not commit the prepared transaction on data node \"%s\": %s",
						hd_conn_node_name(conn), err->message),
				 errdetail("The transaction is committed; the prepared transaction \"%s\" stays on the data node until the background worker commits it.",
						   hd_conn_xact(conn)->gid)));
		cp->handover = true;
	}
	else if (cp->first)
	{
		hd_fault(HD_FAULT_AFTER_COMMIT_PREPARED_FIRST_NODE);
		cp->first = false;
	}
	hd_conn_xact(conn)->state = HD_RXACT_NONE;
}

/*
 * Phase two, after the local commit.  Nothing here may raise an ERROR.
 * Until hd_committing_end the resolver leaves these branches to us.
 */
static void
commit_prepared(List *prepared)
{
	CommitPrepared cp = {false, true};
	HdRequestSet *set = hd_reqset_create_ext(HD_REQSET_KEEP_ALL,
											 committed_prepared_one, &cp);
	TimestampTz deadline;
	TimestampTz old_deadline;
	ListCell   *lc;

	hd_fault(HD_FAULT_AFTER_LOCAL_COMMIT);
	hd_fault(HD_FAULT_BEFORE_COMMIT_PREPARED);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   HD_COMMIT_PREPARED_TIMEOUT_MS);
	if (statement_deadline() != 0 && statement_deadline() < deadline)
		deadline = statement_deadline();
	old_deadline = hd_conn_set_deadline(deadline);

	foreach(lc, prepared)
	{
		HdConn	   *conn = lfirst(lc);

		(void) hd_reqset_txn_sql(set, conn,
								 hd_sql_finish_prepared(hd_conn_xact(conn)->gid, true),
								 "COMMIT PREPARED");
	}
	hd_reqset_wait(set);
	(void) hd_conn_set_deadline(old_deadline);
	hd_committing_end();
	hd_committing_wake(cp.handover);
}

/* ---- ABORT and PREPARE ------------------------------------------------------------- */

/*
 * Top-level abort: no waiting, no ERROR.  A branch whose PREPARE was sent
 * gets ROLLBACK (in case the PREPARE never ran) and ROLLBACK PREPARED;
 * one that cannot be reached is rolled back by the background worker.
 */
static void
abort_one(HdConn *conn, void *arg)
{
	HdRemoteXact *x = hd_conn_xact(conn);
	bool		queued;

	hd_conn_cancel_requests(conn, 0);
	if (x->state == HD_RXACT_NONE)
		return;
	queued = hd_conn_alive(conn) && hd_conn_send_nowait(conn, HD_SQL_ROLLBACK);
	if (queued && x->state == HD_RXACT_PREPARED)
	{
		char		sql[HD_ROLLBACK_PREPARED_SQL_LEN];

		hd_sql_rollback_prepared(sql, x->gid);
		queued = hd_conn_send_nowait(conn, sql);
	}
	if (hd_conn_alive(conn) && !queued)
	{
		ereport(WARNING,
				(errmsg("could not queue the rollback for data node \"%s\"",
						hd_conn_node_name(conn)),
				 errdetail("The session was closed instead, which rolls the remote transaction back; a prepared transaction is rolled back by the background worker.")));
		hd_conn_discard_session(conn);
	}
	x->state = HD_RXACT_NONE;
}

static void
refuse_prepare(void)
{
	Participants p = participants();

	if (p.writers != NIL || p.readers != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot prepare a transaction that used data nodes"),
				 errdetail("hyperdist commits the transaction's work on the data nodes with its own two-phase commit."),
				 errhint("Use COMMIT; the transaction is atomic across the data nodes without PREPARE TRANSACTION.")));
}

void
hd_txn_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			refuse_prepare();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			{
				List	   *prepared = participants().prepared;

				if (prepared != NIL)
					commit_prepared(prepared);
				hd_conn_end_xact();
				break;
			}
		case XACT_EVENT_PREPARE:
			hd_conn_end_xact();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			disarm_statement_timeout();
			hd_conn_visit(abort_one, NULL);
			hd_committing_end();
			hd_conn_end_xact();
			break;
	}
}
