/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/fanout.h — request sets: the same request, or one per node, sent
 * to many data node sessions before any answer is awaited, so that the
 * nodes work at once.
 *
 * Add the requests (Exec, Query streams, scans), then hd_reqset_wait for
 * the Execs; streams are read with the stream API as the caller pleases.
 * Several requests of a set may share a session: its agent answers them
 * in order.  By default the first error ends the wait: it is raised after
 * the set's requests not answered yet are cancelled on their agents (an
 * abort would cancel them anyway; this does it at once).  Requests are
 * awaited in the order they were added, so "first" is the first in that
 * order to fail, not the first to fail in time.
 *
 *	HdRequestSet *set = hd_reqset_create();
 *
 *	foreach(lc, servers)
 *		hd_reqset_exec(set, hd_conn_get(lfirst_oid(lc), true), sql, 0, NULL, NULL);
 *	hd_reqset_wait(set);
 */
#ifndef HYPERDIST_REMOTE_FANOUT_H
#define HYPERDIST_REMOTE_FANOUT_H

#include "nodes/pg_list.h"

#include "remote/connection.h"

typedef struct HdRequestSet HdRequestSet;

/* What a set does with the errors of its requests. */
typedef enum HdReqSetErrors
{
	HD_REQSET_RAISE,			/* the first error is raised, the rest of the
								 * set cancelled */
	HD_REQSET_KEEP_REMOTE,		/* an error a data node reports for a request
								 * is kept as its outcome (hd_reqset_error);
								 * other errors are raised */
	HD_REQSET_KEEP_ALL			/* every error of a request, in sending it or
								 * waiting for it, is kept: for the COMMIT
								 * callback, where an ERROR would PANIC */
} HdReqSetErrors;

/*
 * Called once for each request awaited, as its outcome becomes known (and
 * with HD_REQSET_KEEP_ALL, for a request that could not be sent, at once),
 * in the order of the set.  With HD_REQSET_KEEP_ALL it must not raise.
 */
typedef void (*HdReqSetDone) (HdRequestSet *set, int i, void *arg);

/* A set in the current memory context: errors raised, no callback. */
extern HdRequestSet *hd_reqset_create(void);
extern HdRequestSet *hd_reqset_create_ext(HdReqSetErrors errors,
										  HdReqSetDone done, void *arg);

/*
 * Each adds a request to the set, sends it, and returns its index in the
 * set (from 0).  hd_reqset_exec is hd_exec_send's request;
 * hd_reqset_query and hd_reqset_scan start a stream (hd_query_start,
 * hd_scan_start), found with hd_reqset_stream.
 */
extern int	hd_reqset_exec(HdRequestSet *set, HdConn *conn, const char *sql,
						   int nparams, const Oid *types,
						   const char *const *values);
extern int	hd_reqset_query(HdRequestSet *set, HdConn *conn, const char *sql,
							int nparams, const Oid *types,
							const char *const *values, HdRowFormat format);
extern int	hd_reqset_scan(HdRequestSet *set, HdConn *conn, const char *sql,
						   int nparams, const Oid *types,
						   const char *const *values, HdRowFormat format);

/* The same sql as Exec on the session of each server (OIDs) in servers. */
extern void hd_reqset_exec_on(HdRequestSet *set, List *servers,
							  bool transactional, const char *sql);

/* Waits for the answers to every Exec of the set, in the set's order. */
extern void hd_reqset_wait(HdRequestSet *set);

/* sql on every server at once, in their remote transactions; waits. */
extern void hd_exec_on_servers(List *servers, const char *sql);

/* What request i is and what it got. */
extern int	hd_reqset_size(const HdRequestSet *set);
extern HdConn *hd_reqset_conn(const HdRequestSet *set, int i);
extern HdStream *hd_reqset_stream(const HdRequestSet *set, int i);
/* An Exec's rows count, once it succeeded. */
extern uint64 hd_reqset_rows(const HdRequestSet *set, int i);
/* The error request i ended with, when kept; NULL if it succeeded. */
extern const HdRemoteError *hd_reqset_error(const HdRequestSet *set, int i);

#endif							/* HYPERDIST_REMOTE_FANOUT_H */
