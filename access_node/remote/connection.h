/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/connection.h — this backend's sessions with data node agents.
 *
 * One HdConn is one agent session: a ZeroMQ DEALER (CurveZMQ client) to the
 * data node's hyperdist-agent, plus the session the agent opened for it on
 * its local PostgreSQL as this backend's role.  Sessions are cached for the
 * backend's life, keyed by (foreign server, user), and reopened after an
 * agent restart.  Every wait goes through the latch, so cancel,
 * statement_timeout and terminate work; an interrupted request is cancelled
 * on the agent and its late replies are discarded by sequence number.
 *
 * Errors raised on a data node are rethrown here with their SQLSTATE,
 * message, detail and hint, and a context line naming the data node.
 *
 * Sessions are remote/session.c's, Exec remote/exec.c's, streams
 * remote/stream.c's, the ping remote/ping.c's; work on many nodes at once
 * goes through a request set (remote/fanout.h).
 */
#ifndef HYPERDIST_REMOTE_CONNECTION_H
#define HYPERDIST_REMOTE_CONNECTION_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "remote/target.h"

typedef struct HdConn HdConn;

/*
 * While reason is not NULL, hd_conn_get and hd_conn_open fail: code that runs
 * as another role than the session's user (catalog writes, as the catalog's
 * owner) must not reach a data node, where it would log in as that role.
 */
extern void hd_conn_forbid(const char *reason);

/*
 * The cached session for (serverid, current user), opened on first use.
 * With transactional, a remote transaction is started on it (at the local
 * isolation level) if this local transaction has none there yet, and the
 * session becomes a participant that commits or aborts with it.
 */
extern HdConn *hd_conn_get(Oid serverid, bool transactional);

/*
 * hd_conn_get for a caller that can do without the node: NULL, after
 * reporting the node down (remote/node_health.h), when the session cannot
 * be opened or its remote transaction started because the node is
 * unreachable (no answer within hyperdist.connect_timeout, connection
 * refused or lost, the data node's PostgreSQL not accepting connections);
 * other errors (a refused key, a data node's error, the loss of a remote
 * transaction that wrote there) are raised.
 */
extern HdConn *hd_conn_try_get(Oid serverid, bool transactional);

/*
 * Runs fn(arg) for a caller that can go on without the data nodes it
 * reaches (a scan that can read other replicas).  When fn raises the error
 * of a lost node (no answer within hyperdist.connect_timeout, connection
 * refused or lost, the node's PostgreSQL gone or not taking sessions) whose
 * session was dropped and held no remote transaction that must fail (see
 * remote/session.c), the error is dropped and the node's server returned;
 * a node unreachable at all has been reported down (remote/node_health.h).
 * Every other error, and the loss of a node in `again` (server OIDs, e.g.
 * those lost once already in the statement), is raised.  Returns
 * InvalidOid when fn returned.  Only remote/'s own errors are dropped, so
 * fn must hold nothing that error recovery would release (locks, pins,
 * open relations, cache references) while it calls into remote/.
 */
typedef void (*HdConnAttempt) (void *arg);
extern Oid	hd_conn_attempt(HdConnAttempt fn, void *arg, const List *again);

/*
 * A session that is not cached and takes no part in the local transaction,
 * e.g. for add_data_node's bootstrap against the maintenance database.
 * Close it with hd_conn_close (also closed at transaction end if leaked).
 */
extern HdConn *hd_conn_open(const HdConnTarget *target);
extern void hd_conn_close(HdConn *conn);

/*
 * The syscache callback for foreign servers and user mappings (registered
 * by init.c): sessions built from a changed one are reopened at their next
 * use outside a remote transaction.
 */
extern void hd_conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue);

extern const char *hd_conn_node_name(const HdConn *conn);
/* True when conn takes part in a remote transaction of this transaction. */
extern bool hd_conn_in_transaction(const HdConn *conn);
/*
 * The Query just started on conn writes (INSERT/UPDATE/DELETE ... RETURNING):
 * the node must commit with the others, by two-phase commit.  Requests
 * other than Queries count as writes without this.
 */
extern void hd_conn_mark_written(HdConn *conn);
/*
 * The Query just started on conn runs SQL a caller gave (data_node_query),
 * which is read in practice but may write: the remote transaction still
 * commits one-phase, but its COMMIT is awaited like a writer's (see txn.c).
 */
extern void hd_conn_mark_caller_sql(HdConn *conn);
/*
 * The next Exec or Query sent on conn asks the agent to relay the data
 * node's notices (NOTICE, WARNING, INFO), which are then reported here at
 * their level, naming the node: for SQL a caller gave (distributed_exec,
 * data_node_query), not for hyperdist's own statements, whose notices
 * ("already exists, skipping") would only be noise.
 */
extern void hd_conn_relay_notices(HdConn *conn);

/* A data node's error for one request, returned rather than raised. */
typedef struct HdRemoteError
{
	int			sqlerrcode;		/* MAKE_SQLSTATE */
	char	   *message;
	char	   *detail;			/* NULL if none */
	char	   *hint;			/* NULL if none */
} HdRemoteError;

/*
 * Exec: runs SQL (several statements allowed when nparams is 0) and waits.
 * values[i] NULL is SQL NULL; values are in text format.  Returns the rows
 * count of the last statement; *command_tag (if not NULL) gets its tag.
 */
extern uint64 hd_exec(HdConn *conn, const char *sql, int nparams,
					  const Oid *types, const char *const *values,
					  char **command_tag);

/*
 * The same in two halves, to pipeline requests on a session (an insert's
 * batches); many nodes at once go through a request set (remote/fanout.h).
 */
extern uint32 hd_exec_send(HdConn *conn, const char *sql, int nparams,
						   const Oid *types, const char *const *values);
extern uint64 hd_exec_wait(HdConn *conn, uint32 seq, char **command_tag);
/*
 * hd_exec_send of a "COPY ... FROM STDIN" statement with its data (binary
 * COPY format, whole); hd_exec_wait returns the rows copied.
 */
extern uint32 hd_exec_send_copy(HdConn *conn, const char *sql,
								const void *data, size_t len);

/*
 * hd_exec_send with parameters of any length and format (data NULL is SQL
 * NULL; binary: in the type's send/recv format), e.g. the column arrays of
 * an insert batch.  The bytes are copied before the call returns.
 */
typedef struct HdParamValue
{
	Oid			type;			/* InvalidOid: inferred by the data node */
	const char *data;
	size_t		len;
	bool		binary;
} HdParamValue;

extern uint32 hd_exec_send_params(HdConn *conn, const char *sql, int nparams,
								  const HdParamValue *params);

/*
 * Query streaming.  hd_query_start sends the query with the initial credit
 * window (hyperdist.stream_window) and returns at once; the first call to
 * any other hd_stream_ function waits for the row description.  Credit is
 * returned as batches are consumed.  hd_stream_close releases the stream in
 * any state: an unfinished query is cancelled on the agent, except inside
 * a remote transaction, where a cancel would abort the data node's
 * transaction: there the rest of its rows is read and dropped by the
 * session's next waits (hd_scan_start avoids that).  The stream lives in a
 * child of the memory context current at hd_query_start; resetting that
 * context (error, abort) releases it the same way, and an abort cancels
 * it.  Starting another request on the same session while a stream is
 * unfinished first reads the stream's remaining rows into memory (the
 * agent answers in order).
 */
typedef struct HdStream HdStream;

/* How a Query's rows travel. */
typedef enum HdRowFormat
{
	HD_ROWS_TEXT,				/* columns in text format */
	HD_ROWS_BINARY,				/* columns in their types' binary format */
	HD_ROWS_COPY				/* binary, the query run as COPY (sql) TO
								 * STDOUT: cheapest for the agent to forward;
								 * no parameters, and the row description has
								 * no column types */
} HdRowFormat;

extern HdStream *hd_query_start(HdConn *conn, const char *sql, int nparams,
								const Oid *types, const char *const *values,
								HdRowFormat format);
/*
 * hd_query_start for a scan its reader may abandon part-way (a LIMIT the
 * data node did not apply, EXISTS, a cursor closed early).  Inside a remote
 * transaction it runs under a savepoint, so that hd_stream_close of the
 * unfinished scan cancels it and rolls back to the savepoint rather than
 * reading the rest of its rows: two more statements on the data node,
 * pipelined, no more round trips.
 */
extern HdStream *hd_scan_start(HdConn *conn, const char *sql, int nparams,
							   const Oid *types, const char *const *values,
							   HdRowFormat format);

/* The number of columns of the rows. */
extern int	hd_stream_ncolumns(HdStream *stream);
/* Whether column i (from 0) travels in binary format. */
extern bool hd_stream_column_binary(HdStream *stream, int i);
/* Column i's type on the data node; InvalidOid with HD_ROWS_COPY. */
extern Oid	hd_stream_column_type(HdStream *stream, int i);

/*
 * The next row's nfields fields, in place: data[i] NULL for SQL NULL, else
 * len[i] bytes (text, or the type's binary format), valid until the next
 * call; false after the last row.  A row with another number of fields is
 * a protocol error.
 */
extern bool hd_stream_next_row(HdStream *stream, int nfields,
							   const uint8 **data, int32 *len);
/*
 * The same for text-format streams, as palloc'd C strings (NULL for SQL
 * NULL).
 */
extern bool hd_stream_next_text_row(HdStream *stream, char **fields,
									int nfields);
/*
 * The next batch of rows as they travel: nrows tuples in the layout of
 * binary COPY's tuples (no header or trailer), len bytes, valid until the
 * next call; false after the last batch.  A stream is read either by
 * batches or by rows, not both.  Forwarding them to "COPY ... FROM STDIN
 * (FORMAT binary)" copies rows without decoding them.
 */
extern bool hd_stream_next_batch(HdStream *stream, const uint8 **data,
								 size_t *len, uint32 *nrows);
extern void hd_stream_close(HdStream *stream);

/*
 * Forgets the cached sessions of serverid (after DROP SERVER / alter of its
 * address), closing them at the end of the current transaction.
 */
extern void hd_conn_invalidate_server(Oid serverid);

/*
 * Round-trip checks without a session (Ping/Pong), n agents at once under
 * one deadline: errors[i] is NULL when targets[i]'s agent answered within
 * timeout_ms, else why not (naming the agent's address).
 */
extern void hd_agent_ping_many(int n, HdConnTarget *const *targets,
							   int timeout_ms, char **errors);

#endif							/* HYPERDIST_REMOTE_CONNECTION_H */
