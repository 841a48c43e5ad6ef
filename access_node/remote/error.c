/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/error.c — rethrowing errors that a data node or its agent raised.
 *
 * The data node's SQLSTATE, message, detail, hint and context are kept as
 * they are, so callers and clients see the error they would have seen on
 * the data node; a context line names the node (and the remote SQL).
 */
#include "postgres.h"

#include "remote/error.h"
#include "wire.h"

void
hd_report_remote_error(int elevel, const char *node_name,
					   const Hyperdist__Error *err, const char *sql)
{
	const char *s = err->sqlstate;
	int			sqlstate = ERRCODE_INTERNAL_ERROR;

	/* the codec checks SQLSTATEs, but never pass garbage to errcode() */
	if (hd_sqlstate_valid(s))
		sqlstate = MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);

	ereport(elevel,
			(errcode(sqlstate),
			 errmsg_internal("%s", err->message ? err->message : "unknown error on data node"),
			 err->detail ? errdetail_internal("%s", err->detail) : 0,
			 err->hint ? errhint("%s", err->hint) : 0,
			 err->context ? errcontext("%s", err->context) : 0,
			 errcontext("data node \"%s\"", node_name),
			 sql ? errcontext("remote SQL: %s", sql) : 0));
	if (elevel >= ERROR)
		pg_unreachable();
}
