/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/session_internal.h — what the files of the session layer share:
 * a session's state (HdConn), its pending requests and its streams.
 *
 * Private to remote/.  The layer's files, from the bottom up:
 *   request.c   the pending-request table, sending, waiting for replies,
 *               the transaction-status check, savepoints of abandonable
 *               scans;
 *   session.c   the session cache, opening (Hello, settings), replaying
 *               the replayable batch, failures;
 *   exec.c      Exec requests;
 *   stream.c    Query streams and their rows;
 *   fanout.c    request sets over many sessions.
 * The ZeroMQ socket under a session is remote/transport.c's.
 */
#ifndef HYPERDIST_REMOTE_SESSION_INTERNAL_H
#define HYPERDIST_REMOTE_SESSION_INTERNAL_H

#include "lib/ilist.h"
#include "nodes/pg_list.h"

#include "remote/conn_internal.h"
#include "remote/connection.h"
#include "remote/transport.h"

/* A request whose final reply has not arrived yet. */
typedef struct HdRequest
{
	uint32		seq;
	HdReqMode	mode;
	int			level;			/* transaction nest level that sent it */
	char	   *sql;			/* clipped copy, for error context */
	HdStream   *stream;			/* the stream reading its rows, if any */
	uint32		window;			/* query: credit window */
	uint32		unacked;		/* query: batches consumed, credit not sent */
	bool		checks_txn;		/* its final reply's transaction status must
								 * be the one expected (check_txn_status) */
	void	   *wire;			/* encoding, while its batch is replayable */
	size_t		wire_len;
} HdRequest;

/* The savepoint of a scan its reader may abandon: see remote/remote_sql.h. */
typedef enum HdScanSpState
{
	HD_SCAN_SP_NONE,
	HD_SCAN_SP_RUNNING,			/* the scan (request seq) runs under it */
	HD_SCAN_SP_RELEASABLE		/* the scan ended: release it before the
								 * session's next request */
} HdScanSpState;

typedef struct HdScanSavepoint
{
	HdScanSpState state;
	uint32		seq;
	int			level;			/* transaction nest level that made it */
} HdScanSavepoint;

struct HdConn
{
	Oid			serverid;		/* InvalidOid: from hd_conn_open, uncached */
	Oid			userid;
	HdConnTarget *target;		/* uncached only: where to reopen */
	dlist_node	uncached_node;

	MemoryContext cxt;			/* the HdConn and all it owns */
	MemoryContext reply_cxt;	/* replies of exec waits and session setup */
	MemoryContext replay_cxt;	/* encodings of the replayable batch */

	char	   *node_name;
	char	   *host;
	int			port;
	uint32		server_hash;	/* syscache hash values, for invalidation */
	uint32		mapping_hash;	/* 0: no user mapping */
	bool		invalidated;

	HdSock		sock;
	uint64		session;		/* 0: none on the agent */
	uint64		epoch;
	uint32		next_seq;

	HdRequest  *reqs;
	int			nreqs;
	int			maxreqs;
	HdStream   *stream;			/* stream whose rows arrive now, if any */

	bool		replayable;
	uint32		replay_seq;		/* reserved: re-Hello, then its settings */
	bool		relay_notices;	/* the next request asks for notices */

	HdRemoteXact xact;
	HdScanSavepoint scan_sp;
};

typedef struct HdStoredBatch
{
	uint8_t    *data;
	size_t		len;
	uint32		nrows;
} HdStoredBatch;

struct HdStream
{
	HdConn	   *conn;			/* NULL once ended, cancelled or released */
	uint32		seq;
	MemoryContext cxt;			/* deleting it releases the stream */
	MemoryContext batch_cxt;	/* the batch last returned */
	MemoryContextCallback release_cb;
	char	   *node_name;
	char	   *sql;
	Hyperdist__RowDescription *columns;	/* NULL until described */
	bool		ended;			/* its final reply arrived */
	bool		cancelled;		/* cancelled or lost before its end */
	List	   *stored;			/* HdStoredBatch read ahead of the caller */
	HdStoredBatch *current;		/* stored batch last returned */
	HdStoredBatch *row;			/* a row whose fragments are arriving */
	size_t		row_cap;		/* bytes allocated for row->data */
	HdBatchReader rows_in;		/* hd_stream_next_row's position */
	bool		rows_in_batch;	/* rows_in points into a live batch */
};

/* ---- request.c ---- */

/* hd_conn_request_at flags */
#define REQ_OPENS_XACT	0x01	/* START TRANSACTION */
#define REQ_TXN_CONTROL 0x02	/* savepoints, PREPARE...: see hd_conn_send_txn_sql */

/* Bound on every wait (hd_conn_set_deadline); 0: none. */
extern TimestampTz hd_wait_deadline;

extern int	hd_req_index(const HdConn *conn, uint32 seq);
extern HdRequest *hd_req_add(HdConn *conn, uint32 seq, HdReqMode mode,
							 const char *sql, int level);
extern void hd_req_remove(HdConn *conn, int i);
extern char *hd_req_sql(const HdConn *conn, int i);

extern void hd_conn_send(HdConn *conn, const void *buf, size_t len,
						 TimestampTz deadline, bool opening);
extern void hd_envelope_address(HdConn *conn, HdEnvelope *env, uint32 seq);
extern void hd_conn_send_control(HdConn *conn, HdEnvelope *env, uint32 seq);
extern bool hd_conn_send_quietly(HdConn *conn, HdEnvelope *env, uint32 seq);
extern void hd_conn_cancel_request(HdConn *conn, int i);
extern void hd_conn_cancel_seq(HdConn *conn, uint32 seq);
extern void hd_conn_grant_credit(HdConn *conn, int i);
extern HdEnvelope *hd_conn_wait_for(HdConn *conn, uint32 seq, MemoryContext cxt);

extern uint32 hd_conn_request_at(HdConn *conn, HdEnvelope *env, HdReqMode mode,
								 const char *sql, int flags, int level);
extern uint32 hd_conn_request(HdConn *conn, HdEnvelope *env, HdReqMode mode,
							  const char *sql, bool opens_xact);
extern void hd_init_exec(Hyperdist__Exec *exec, HdEnvelope *env, const char *sql,
						 int nparams, const Oid *types, const char *const *values);

extern void hd_send_checked_txn_sql(HdConn *conn, const char *sql, int level);
extern void hd_scan_savepoint_release(HdConn *conn);
extern void hd_scan_savepoint_ended(HdConn *conn, uint32 seq, bool ok);
extern void hd_scan_savepoint_forget(HdConn *conn, int level);
extern bool hd_scan_savepoint_rollback(HdConn *conn, int i);

/* ---- session.c ---- */

extern bool hd_xact_in_session(const HdConn *conn);
extern void hd_conn_ensure_session(HdConn *conn);
extern void hd_conn_disconnect(HdConn *conn);
extern void hd_conn_start_batch(HdConn *conn);
extern void hd_conn_confirm_batch(HdConn *conn);
extern void hd_conn_session_gone(HdConn *conn);
extern bool hd_ends_session(const Hyperdist__Error *err);
extern void hd_conn_fail(HdConn *conn, HdSockStatus why, bool opening) pg_attribute_noreturn();
extern void hd_conn_protocol_error(HdConn *conn, const char *why) pg_attribute_noreturn();
extern void hd_conn_remote_error(HdConn *conn, const Hyperdist__Error *err,
								 const char *sql) pg_attribute_noreturn();

/* ---- exec.c ---- */

extern bool hd_exec_finish(HdConn *conn, uint32 seq, char **command_tag,
						   uint64 *rows, HdRemoteError *err);

/* ---- stream.c ---- */

extern void hd_stream_buffer_rest(HdStream *s);

#endif							/* HYPERDIST_REMOTE_SESSION_INTERNAL_H */
