/* SPDX-License-Identifier: PostgreSQL */
/*
 * reply.h — building the agent's reply envelopes.
 *
 * Every reply carries the agent's epoch, the session it belongs to (0 when
 * none) and the seq of the request it answers (0 for unsolicited probes).
 * The final reply of an Exec or Query that ran also carries the session's
 * transaction status.
 */
#ifndef HD_AGENT_REPLY_H
#define HD_AGENT_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "router.h"

/*
 * Longest message, detail, hint or context sent in an Error or Notice: a
 * data node's message can quote a value of any size, and a reply must fit
 * the access node's frame limit.  Longer text is cut and ends in "...".
 */
#define HD_MAX_ERROR_FIELD		(32 * 1024)

/* The pieces of an Error reply; NULL members are left out. */
typedef struct ErrorFields
{
	const char *sqlstate;
	const char *severity;
	const char *message;
	const char *detail;
	const char *hint;
	const char *context;
} ErrorFields;

extern void reply_error(const RoutingId *rid, uint64_t session, uint32_t seq,
						const ErrorFields *fields);

/* An agent-made ERROR with a formatted message and optional detail. */
extern void reply_errorf(const RoutingId *rid, uint64_t session, uint32_t seq,
						 const char *sqlstate, const char *detail,
						 const char *fmt,...) __attribute__((format(printf, 6, 7)));

typedef Hyperdist__TxnStatus HdTxnStatus;

/* conn's transaction status, for a final reply (TXN_UNKNOWN when broken). */
extern HdTxnStatus txn_status_of(PGconn *conn);

/* The final Error of an Exec or Query: agent-made, or a failed PGresult. */
extern void reply_request_error(const RoutingId *rid, uint64_t session, uint32_t seq,
								const ErrorFields *fields, HdTxnStatus txn);
extern void reply_request_error_result(const RoutingId *rid, uint64_t session,
									   uint32_t seq, const PGresult *res,
									   PGconn *conn, HdTxnStatus txn);

/* Relays a NOTICE/WARNING/INFO result as a Notice of request seq. */
extern void reply_notice_result(const RoutingId *rid, uint64_t session, uint32_t seq,
								const PGresult *res, PGconn *conn);
/* An agent-made Notice. */
extern void reply_notice(const RoutingId *rid, uint64_t session, uint32_t seq,
						 const ErrorFields *fields);

extern void reply_hello_ok(const RoutingId *rid, uint64_t session, uint32_t seq,
						   const char *server_version);
extern void reply_done(const RoutingId *rid, uint64_t session, uint32_t seq,
					   const char *command_tag, uint64_t rows, HdTxnStatus txn);
extern void reply_pong(const RoutingId *rid, uint64_t session, uint32_t seq,
					   uint32_t nsessions);

/* RowDescription from a result's columns (res NULL: no columns). */
extern void reply_row_description(const RoutingId *rid, uint64_t session, uint32_t seq,
								  const PGresult *res);
extern void reply_row_batch(const RoutingId *rid, uint64_t session, uint32_t seq,
							uint32_t nrows, const uint8_t *data, size_t len);
/* A piece of one row too large for a frame; the last piece counts the row. */
extern void reply_row_fragment(const RoutingId *rid, uint64_t session, uint32_t seq,
							   bool last, const uint8_t *data, size_t len);

/* Liveness probe of an idle session: Envelope{session, seq 0, ping}. */
extern void send_probe(const RoutingId *rid, uint64_t session);

/* The same probe without consequences; false when the peer is unreachable. */
extern bool probe_reachable(const RoutingId *rid, uint64_t session);

/* Bytes an Envelope around a RowBatch adds to its data, at most. */
#define HD_ROW_BATCH_OVERHEAD 64

#endif							/* HD_AGENT_REPLY_H */
