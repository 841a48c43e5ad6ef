/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/health.c — health(): can each data node be used, and is it a primary?
 *
 * One row per data node, in name order, then the access node's own
 * (node_name NULL), as in TimescaleDB 2.13: healthy, in_recovery, and the
 * error that made a node unhealthy.  Every node's agent is first pinged,
 * all at once (no session: tells a dead agent from a refused role quickly,
 * and a dead agent costs hyperdist.connect_timeout once, not per node),
 * then each node that answered is asked "SELECT pg_is_in_recovery()" in
 * this role's session, as any statement would use it.  A node's failure becomes its row's error rather
 * than the statement's, so one unreachable node does not hide the others;
 * a cancel or timeout of the statement itself still ends it.
 *
 * Also _hyperdist_functions.data_node_health(): what this server's shared
 * memory says of a node (remote/node_health.h), for the view
 * hyperdist_information.data_nodes.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catch.h"
#include "api/node_admin.h"
#include "deparse/deparse.h"
#include "guc.h"
#include "remote/connection.h"
#include "remote/node_health.h"

typedef struct NodeHealth
{
	bool		healthy;
	bool		in_recovery_known;
	bool		in_recovery;
	char	   *error;
} NodeHealth;

/* Asks the node, in this role's session; errors propagate. */
static bool
query_in_recovery(Oid serverid)
{
	HdStream   *stream = hd_query_start(hd_conn_get(serverid, false),
										hd_deparse_in_recovery_query(),
										0, NULL, NULL, HD_ROWS_TEXT);
	char	   *value;
	bool		in_recovery;

	if (!hd_stream_next_text_row(stream, &value, 1) || value == NULL)
		elog(ERROR, "pg_is_in_recovery() returned no value");
	in_recovery = strcmp(value, "t") == 0;
	while (hd_stream_next_text_row(stream, &value, 1))
		;
	hd_stream_close(stream);
	return in_recovery;
}

/*
 * Runs query_in_recovery in a subtransaction, so that a failure can be
 * reported as the node's; cancels and timeouts are the statement's.
 */
static void
check_session(Oid serverid, NodeHealth *h)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		h->in_recovery = query_in_recovery(serverid);
		h->in_recovery_known = true;
		h->healthy = true;
		hd_subxact_commit(cxt, owner);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = hd_catch_abort_subxact(cxt, owner);
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		h->error = edata->message;
	}
	PG_END_TRY();
}

/*
 * Pings every node's agent at once, then asks each node that answered in
 * this role's session.
 */
static NodeHealth *
nodes_health(List *names)
{
	int			n = list_length(names);
	NodeHealth *result = palloc0(sizeof(NodeHealth) * Max(n, 1));
	HdConnTarget **targets = palloc(sizeof(HdConnTarget *) * Max(n, 1));
	char	  **errors = palloc(sizeof(char *) * Max(n, 1));
	Oid		   *servers = palloc(sizeof(Oid) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		servers[i] = get_foreign_server_oid(list_nth(names, i), false);
		targets[i] = hd_conn_target_for_server(servers[i], GetUserId());
	}
	hd_agent_ping_many(n, targets, hd_connect_timeout * 1000, errors);
	for (int i = 0; i < n; i++)
	{
		if (errors[i] != NULL)
			result[i].error = errors[i];
		else
			check_session(servers[i], &result[i]);
	}
	return result;
}

PG_FUNCTION_INFO_V1(hyperdist_health);

Datum
hyperdist_health(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[4];
	bool		nulls[4];
	List	   *names;
	NodeHealth *health;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	names = hd_data_node_names();
	health = nodes_health(names);
	for (int i = 0; i < list_length(names); i++)
	{
		char	   *name = list_nth(names, i);
		NodeHealth	h = health[i];

		values[0] = DirectFunctionCall1(namein, CStringGetDatum(name));
		values[1] = BoolGetDatum(h.healthy);
		values[2] = BoolGetDatum(h.in_recovery);
		values[3] = h.error ? CStringGetTextDatum(h.error) : (Datum) 0;
		nulls[0] = false;
		nulls[1] = false;
		nulls[2] = !h.in_recovery_known;
		nulls[3] = h.error == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	/* the access node: this server answers, so it is healthy */
	memset(nulls, false, sizeof(nulls));
	nulls[0] = nulls[3] = true;
	values[1] = BoolGetDatum(true);
	values[2] = BoolGetDatum(RecoveryInProgress());
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(hyperdist_data_node_health);

/* data_node_health(server oid): down, since, last_error, last_check */
Datum
hyperdist_data_node_health(PG_FUNCTION_ARGS)
{
	HdNodeHealth h;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {true, true, true, true};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (hd_health_get(PG_GETARG_OID(0), &h))
	{
		values[0] = BoolGetDatum(h.down);
		nulls[0] = false;
		values[1] = TimestampTzGetDatum(h.since);
		nulls[1] = h.since == 0;
		values[2] = CStringGetTextDatum(h.error);
		nulls[2] = h.error[0] == '\0';
		values[3] = TimestampTzGetDatum(h.last_ok);
		nulls[3] = h.last_ok == 0;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
