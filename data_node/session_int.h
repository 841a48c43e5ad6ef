/* SPDX-License-Identifier: PostgreSQL */
/*
 * session_int.h — session internals shared by session.c (lifecycle,
 * connection, control requests) and execute.c (running Exec and Query).
 */
#ifndef HD_AGENT_SESSION_INT_H
#define HD_AGENT_SESSION_INT_H

#include <libpq-fe.h>

#include "session.h"
#include "wire.h"

typedef enum SessionState
{
	SESSION_CONNECTING,
	SESSION_READY,
	SESSION_BROKEN,
	SESSION_CLOSED
} SessionState;

typedef enum RequestKind
{
	REQUEST_EXEC,
	REQUEST_QUERY
} RequestKind;

typedef struct Request
{
	struct Request *next;
	uint32_t	seq;
	RequestKind kind;
	HdEnvelope *env;			/* the decoded frame; owns sql and params */
	size_t		size;			/* the frame's size */
	uint32_t	credit;			/* Query: RowBatch messages it may still send */
} Request;

struct Session
{
	uint64_t	id;
	RoutingId	rid;
	char		key[HD_Z85_KEY_LEN + 1];	/* the peer's CURVE key; "" without */
	SessionState state;
	PGconn	   *conn;
	char		label[32];		/* "session 0123abcd..." for logs */

	uint32_t	peer_minor;		/* the access node's protocol minor (Hello) */
	char		user[HD_MAX_NAME_LEN + 1];	/* the Hello's, for logs */
	char		dbname[HD_MAX_NAME_LEN + 1];

	/* CONNECTING */
	uint32_t	hello_seq;
	uint64_t	connect_token;	/* connect.c's job */
	int64_t		connect_deadline;

	/* Requests: the running one and those queued behind it. */
	Request    *running;
	Request    *queue_head;
	Request    *queue_tail;
	int			nqueued;
	size_t		queued_bytes;	/* sizes of the queued requests */

	/* Progress of the running request (reset by execute.c per request). */
	bool		flushing;		/* PQflush not finished: wait for POLLOUT */
	bool		pg_done;		/* PQgetResult returned NULL */
	bool		cancelled;		/* Cancel received: stream nothing more */
	bool		described;		/* RowDescription sent */
	bool		in_copy_out;	/* reading COPY TO STDOUT data */
	bool		copy_header_read;	/* Query.copy: the COPY header was seen */
	PGresult   *held_row;		/* a row that did not fit the current batch */
	char	   *held_tuple;		/* the same for Query.copy (libpq's buffer) */
	int			held_tuple_len;
	size_t		frag_size;		/* >0: the held row, too large for a frame,
								 * goes out in fragments; its size */
	size_t		frag_sent;		/* bytes of it sent so far */
	HdBuf		batch;			/* tuples in binary COPY layout */
	uint32_t	batch_rows;
	size_t		batch_limit;	/* flush threshold (Query.batch_bytes) */
	char	   *tag;			/* command status of the last result */
	uint64_t	tag_rows;
	int			notices;		/* relayed for the running request */

	/*
	 * The running request failed: its Error, the server's (error_result) or
	 * the agent's own, is sent once PostgreSQL is done with the request, so
	 * that it carries the transaction status.  Nothing more is streamed.
	 */
	bool		failed;
	PGresult   *error_result;
	char		error_state[6];
	char	   *error_message;
	char	   *error_detail;

	/*
	 * Why the connection was lost, for the 08006 detail (set when it breaks,
	 * or earlier by a FATAL the server sent between requests).
	 */
	char	   *lost_reason;

	/*
	 * A cancel request in flight (cancel.c's token; 0: none) and the seq it
	 * was sent for.  PostgreSQL cancels whatever the backend runs when the
	 * request arrives, so no request starts until the cancel thread has
	 * reported back (sessions_cancel_done), and at most one is in flight.
	 */
	uint64_t	cancel_token;
	uint32_t	cancel_seq;

	/* Liveness */
	int64_t		last_heard;
	int64_t		last_probe;
	int			peer_fd;		/* the connection the peer last spoke on; -1 unknown */

	/* All-sessions list and the id hash chain. */
	Session    *next;
	Session    *prev;
	Session    *hash_next;
	Session    *grave_next;
};

/* execute.c */
extern void exec_pump(Session *s);
/* The connection died: answers the running request (see session_mark_broken). */
extern void exec_abort_running(Session *s);
/* The most credit r may hold (HD_MAX_CREDIT_BYTES over its batch size). */
extern uint32_t request_max_credit(const Request *r);
extern bool exec_wants_read(Session *s);
extern void exec_reset(Session *s);
extern void exec_drop_rows(Session *s);
extern void request_free(Request *r);

/*
 * session.c: the libpq connection died (why: libpq's or the server's
 * message); fails what is pending with 08006, now and until Close.
 */
extern void session_mark_broken(Session *s, const char *why);

/* session.c: whether res is a FATAL or PANIC, after which the server hangs up. */
extern bool result_is_fatal(const PGresult *res);

/* session.c: answers request seq with 08006 (lost_reason as the detail). */
extern void session_reply_lost(Session *s, uint32_t seq);

/* session.c: cancels the running request, unless a cancel is in flight. */
extern void session_send_cancel(Session *s);

#endif							/* HD_AGENT_SESSION_INT_H */
