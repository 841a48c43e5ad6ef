/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/remote_explain.c — a data node's own plan of a remote query.
 *
 * With hyperdist.enable_remote_explain, EXPLAIN VERBOSE of a scan asks
 * each data node for "EXPLAIN (VERBOSE, COSTS ...) <its query>", with the
 * parameter values of the scan, and prints the plan under the node.
 * Always plain EXPLAIN on the data node, even under EXPLAIN ANALYZE: the
 * query has run already, and running it again could cost as much.
 */
#include "postgres.h"

#include "commands/explain.h"
#include "lib/stringinfo.h"

#include "deparse/deparse.h"
#include "fdw/remote_explain.h"
#include "remote/connection.h"

/* The remote plan's lines, each ending with a newline. */
static char *
remote_plan(HdConn *conn, const char *sql, int nparams, const Oid *types,
			const char *const *values, bool costs)
{
	StringInfoData plan;
	HdStream   *stream;
	char	   *line;

	initStringInfo(&plan);
	stream = hd_query_start(conn, hd_deparse_explain(sql, costs),
							nparams, types, values, HD_ROWS_TEXT);
	while (hd_stream_next_text_row(stream, &line, 1))
		appendStringInfo(&plan, "%s\n", line);
	hd_stream_close(stream);
	return plan.data;
}

void
hd_explain_remote_plan(HdConn *conn, const char *sql, int nparams,
					   const Oid *types, const char *const *values,
					   ExplainState *es)
{
	char	   *plan = remote_plan(conn, sql, nparams, types, values,
								   es->costs);
	char	   *line;
	char	   *next;

	if (es->format != EXPLAIN_FORMAT_TEXT)
	{
		ExplainPropertyText("Remote Plan", plan, es);
		return;
	}

	/* in text, the plan's lines indented under the node */
	appendStringInfoSpaces(es->str, es->indent * 2);
	appendStringInfoString(es->str, "Remote Plan:\n");
	for (line = plan; *line != '\0'; line = next + 1)
	{
		next = strchr(line, '\n');
		appendStringInfoSpaces(es->str, es->indent * 2 + 2);
		appendBinaryStringInfo(es->str, line, next - line + 1);
	}
}
