/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/probe.c — can the data nodes be used?  (see probe.h)
 *
 * Two steps, each over every node at once.  The agents are pinged first
 * (remote/ping.c), under one deadline: a dead or hung agent is found
 * without waiting for a session to open, however many nodes there are.  The nodes
 * whose agent answered then run a query in a session: that is what tells
 * whether the data node's PostgreSQL accepts sessions and runs statements
 * (a killed postmaster, a database that refuses connections).  Sessions
 * are the cached ones, so a healthy node costs a round trip per check; a
 * session that failed is closed by the session layer and opened afresh at
 * the next check.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "remote/conn_internal.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/probe.h"
#include "remote/remote_sql.h"

/*
 * Sends the probe query to serverid in set, opening its session if need
 * be, in a subtransaction so that a failure to open it is the node's:
 * returns that failure, or NULL with *req set to the request's index.
 */
static char *
probe_send(HdRequestSet *set, Oid serverid, int *req)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*req = hd_reqset_exec(set, hd_conn_get(serverid, false), HD_SQL_PROBE,
							  0, NULL, NULL);
		hd_subxact_commit(cxt, owner);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = hd_catch_abort_subxact(cxt, owner);
		error = edata->message;
	}
	PG_END_TRY();
	return error;
}

static TimestampTz
deadline_in(int timeout_ms)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
}

/*
 * The query step for the nodes with errors[i] still NULL.  A session to
 * open is opened before the next node's query is sent, so each opening
 * has timeout_ms of its own, and the replies have timeout_ms from the
 * last query sent: a node slow to open a session does not use up the
 * others' time, which would count as their failure.
 */
static void
probe_sessions(int n, const Oid *serverids, int timeout_ms, char **errors)
{
	HdRequestSet *set = hd_reqset_create_ext(HD_REQSET_KEEP_ALL, NULL, NULL);
	int		   *reqs = palloc(sizeof(int) * n);
	TimestampTz old_deadline;

	old_deadline = hd_conn_set_deadline(deadline_in(timeout_ms));
	PG_TRY();
	{
		for (int i = 0; i < n; i++)
		{
			reqs[i] = -1;
			if (errors[i] != NULL)
				continue;
			(void) hd_conn_set_deadline(deadline_in(timeout_ms));
			errors[i] = probe_send(set, serverids[i], &reqs[i]);
		}
		(void) hd_conn_set_deadline(deadline_in(timeout_ms));
		hd_reqset_wait(set);
	}
	PG_FINALLY();
	{
		(void) hd_conn_set_deadline(old_deadline);
	}
	PG_END_TRY();

	for (int i = 0; i < n; i++)
	{
		const HdRemoteError *err = reqs[i] >= 0 ? hd_reqset_error(set, reqs[i]) : NULL;

		if (err != NULL)
			errors[i] = pstrdup(err->message);
	}
}

void
hd_probe_nodes(int n, const Oid *serverids, int timeout_ms, char **errors)
{
	HdConnTarget **targets = palloc(sizeof(HdConnTarget *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		targets[i] = hd_conn_target_for_server(serverids[i], GetUserId());
	hd_agent_ping_many(n, targets, timeout_ms, errors);
	probe_sessions(n, serverids, timeout_ms, errors);
}
