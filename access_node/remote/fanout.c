/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/fanout.c — request sets over many data node sessions (see
 * fanout.h): everything is sent first, then each answer is awaited in
 * turn, so the nodes work at once and the slowest one sets the pace.
 *
 * Every multi-node operation goes through here: DDL and VACUUM forwarded
 * to the data nodes, chunk creation on each replica, distributed_exec,
 * ANALYZE and the size functions, UPDATE/DELETE pushed down, INSERT ...
 * RETURNING on each replica, scans of distributed hypertables, and the
 * phases of the two-phase commit (remote/txn.c) and of the resolver
 * (remote/txn_resolve.c), which keep errors instead of raising them.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "remote/fanout.h"
#include "remote/session_internal.h"

/* One request of a set. */
typedef struct HdSetRequest
{
	HdConn	   *conn;
	uint32		seq;			/* an Exec's */
	bool		pending;		/* an Exec sent, its answer not awaited yet */
	HdStream   *stream;
	const char *expect_tag;		/* transaction control: success's tag */
	char	   *command_tag;
	uint64		rows;
	HdRemoteError *error;		/* the error it ended with, when kept */
} HdSetRequest;

struct HdRequestSet
{
	HdReqSetErrors errors;
	HdReqSetDone done;
	void	   *arg;
	MemoryContext cxt;			/* the set's, where kept errors go */
	HdSetRequest *reqs;
	int			nreqs;
	int			maxreqs;
	int			awaiting;		/* the request hd_reqset_wait is at */
};

HdRequestSet *
hd_reqset_create(void)
{
	return hd_reqset_create_ext(HD_REQSET_RAISE, NULL, NULL);
}

HdRequestSet *
hd_reqset_create_ext(HdReqSetErrors errors, HdReqSetDone done, void *arg)
{
	HdRequestSet *set = palloc0(sizeof(HdRequestSet));

	set->errors = errors;
	set->done = done;
	set->arg = arg;
	set->cxt = CurrentMemoryContext;
	set->maxreqs = 8;
	set->reqs = palloc0(sizeof(HdSetRequest) * set->maxreqs);
	return set;
}

/* A new request on conn, not sent yet; returns its index. */
static int
set_add(HdRequestSet *set, HdConn *conn)
{
	if (set->nreqs == set->maxreqs)
	{
		set->maxreqs *= 2;
		set->reqs = repalloc(set->reqs, sizeof(HdSetRequest) * set->maxreqs);
	}
	memset(&set->reqs[set->nreqs], 0, sizeof(HdSetRequest));
	set->reqs[set->nreqs].conn = conn;
	return set->nreqs++;
}

/* Request i's outcome is known: tell the caller. */
static void
set_done(HdRequestSet *set, int i)
{
	set->reqs[i].pending = false;
	if (set->done != NULL)
		set->done(set, i, set->arg);
}

/*
 * Keeps the error being handled as request i's outcome (HD_REQSET_KEEP_ALL).
 * errfinish() reset the interrupt holdoff count for the handler; it is
 * restored to what it was before the PG_TRY (holdoff).
 */
static void
keep_error(HdRequestSet *set, int i, int holdoff)
{
	ErrorData  *edata;
	HdRemoteError *err;

	MemoryContextSwitchTo(set->cxt);
	edata = CopyErrorData();
	FlushErrorState();
	InterruptHoldoffCount = holdoff;
	err = palloc(sizeof(HdRemoteError));
	err->sqlerrcode = edata->sqlerrcode;
	err->message = pstrdup(edata->message);
	err->detail = edata->detail ? pstrdup(edata->detail) : NULL;
	err->hint = edata->hint ? pstrdup(edata->hint) : NULL;
	FreeErrorData(edata);
	set->reqs[i].error = err;
}

int
hd_reqset_exec(HdRequestSet *set, HdConn *conn, const char *sql,
			   int nparams, const Oid *types, const char *const *values)
{
	int			i = set_add(set, conn);

	set->reqs[i].seq = hd_exec_send(conn, sql, nparams, types, values);
	set->reqs[i].pending = true;
	return i;
}

int
hd_reqset_txn_sql(HdRequestSet *set, HdConn *conn, const char *sql,
				  const char *expect_tag)
{
	int			i = set_add(set, conn);
	MemoryContext cxt = CurrentMemoryContext;
	int			holdoff = InterruptHoldoffCount;

	set->reqs[i].expect_tag = expect_tag;
	if (set->errors != HD_REQSET_KEEP_ALL)
	{
		set->reqs[i].seq = hd_conn_send_txn_sql(conn, sql, HD_REQ_AWAIT, 0);
		set->reqs[i].pending = true;
		return i;
	}
	PG_TRY();
	{
		set->reqs[i].seq = hd_conn_send_txn_sql(conn, sql, HD_REQ_AWAIT, 0);
		set->reqs[i].pending = true;
	}
	PG_CATCH();
	{
		keep_error(set, i, holdoff);
		MemoryContextSwitchTo(cxt);
		set_done(set, i);
	}
	PG_END_TRY();
	return i;
}

/* A stream the set started on conn; returns its index. */
static int
set_add_stream(HdRequestSet *set, HdConn *conn, HdStream *stream)
{
	int			i = set_add(set, conn);

	set->reqs[i].stream = stream;
	return i;
}

int
hd_reqset_query(HdRequestSet *set, HdConn *conn, const char *sql,
				int nparams, const Oid *types, const char *const *values,
				HdRowFormat format)
{
	return set_add_stream(set, conn,
						  hd_query_start(conn, sql, nparams, types, values,
										 format));
}

int
hd_reqset_scan(HdRequestSet *set, HdConn *conn, const char *sql,
			   int nparams, const Oid *types, const char *const *values,
			   HdRowFormat format)
{
	return set_add_stream(set, conn,
						  hd_scan_start(conn, sql, nparams, types, values,
										format));
}

void
hd_reqset_exec_on(HdRequestSet *set, List *servers, bool transactional,
				  const char *sql)
{
	ListCell   *lc;

	foreach(lc, servers)
		(void) hd_reqset_exec(set, hd_conn_get(lfirst_oid(lc), transactional),
							  sql, 0, NULL, NULL);
}

/*
 * A transaction-control statement answered with another tag than success's:
 * the remote transaction had failed without us noticing.
 */
static void
check_tag(HdSetRequest *r)
{
	if (r->expect_tag != NULL && strcmp(r->command_tag, r->expect_tag) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRANSACTION_ROLLBACK),
				 errmsg("remote transaction on data node \"%s\" was rolled back",
						hd_conn_node_name(r->conn)),
				 errdetail("The data node answered %s with %s.",
						   r->expect_tag, r->command_tag)));
}

/* Waits for Exec request i; an error is raised, or kept as the mode says. */
static void
await_one(HdRequestSet *set, int i)
{
	HdSetRequest *r = &set->reqs[i];
	HdRemoteError err;
	MemoryContext cxt = CurrentMemoryContext;
	int			holdoff = InterruptHoldoffCount;

	if (set->errors != HD_REQSET_KEEP_ALL)
	{
		if (!hd_exec_finish(r->conn, r->seq, &r->command_tag, &r->rows,
							set->errors == HD_REQSET_KEEP_REMOTE ? &err : NULL))
			r->error = memcpy(palloc(sizeof(err)), &err, sizeof(err));
		else
			check_tag(r);
		return;
	}
	PG_TRY();
	{
		(void) hd_exec_finish(r->conn, r->seq, &r->command_tag, &r->rows, NULL);
		check_tag(r);
	}
	PG_CATCH();
	{
		keep_error(set, i, holdoff);
		MemoryContextSwitchTo(cxt);
	}
	PG_END_TRY();
}

/* Cancels the set's requests from `from` on that are still running. */
static void
cancel_rest(HdRequestSet *set, int from)
{
	for (int i = from; i < set->nreqs; i++)
	{
		HdSetRequest *r = &set->reqs[i];

		if (r->pending)
			hd_conn_cancel_seq(r->conn, r->seq);
	}
}

void
hd_reqset_wait(HdRequestSet *set)
{
	PG_TRY();
	{
		for (set->awaiting = 0; set->awaiting < set->nreqs; set->awaiting++)
		{
			int			i = set->awaiting;

			if (!set->reqs[i].pending)
				continue;		/* a stream, or one that could not be sent */
			await_one(set, i);
			set_done(set, i);
		}
	}
	PG_CATCH();
	{
		cancel_rest(set, set->awaiting + 1);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

void
hd_exec_on_servers(List *servers, const char *sql)
{
	HdRequestSet *set = hd_reqset_create();

	hd_reqset_exec_on(set, servers, true, sql);
	hd_reqset_wait(set);
}

int
hd_reqset_size(const HdRequestSet *set)
{
	return set->nreqs;
}

HdConn *
hd_reqset_conn(const HdRequestSet *set, int i)
{
	Assert(i >= 0 && i < set->nreqs);
	return set->reqs[i].conn;
}

HdStream *
hd_reqset_stream(const HdRequestSet *set, int i)
{
	Assert(i >= 0 && i < set->nreqs);
	return set->reqs[i].stream;
}

uint64
hd_reqset_rows(const HdRequestSet *set, int i)
{
	Assert(i >= 0 && i < set->nreqs);
	return set->reqs[i].rows;
}

const HdRemoteError *
hd_reqset_error(const HdRequestSet *set, int i)
{
	Assert(i >= 0 && i < set->nreqs);
	return set->reqs[i].error;
}
