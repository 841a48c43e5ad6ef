/* SPDX-License-Identifier: PostgreSQL */
/*
 * reply.c — building the agent's reply envelopes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "farewell.h"
#include "reply.h"
#include "sqlstate.h"
#include "util.h"

/* An envelope for session/seq with the agent's epoch. */
static void
envelope_init(HdEnvelope *env, uint64_t session, uint32_t seq)
{
	hyperdist__envelope__init(env);
	env->has_session = true;
	env->session = session;
	env->has_seq = true;
	env->seq = seq;
	env->has_epoch = true;
	env->epoch = agent_epoch;
}

/*
 * Sends a reply.  Once the shutdown began, the agent waits for its peer to
 * take it before exiting (farewell.h).
 */
static void
send_reply(const RoutingId *rid, const HdEnvelope *env)
{
	router_send(rid, env);
	if (agent_shutting_down)
		farewell_note(rid, now_ms());
}

/* protobuf-c wants char *; the strings are only read while packing. */
#define UNCONST(s) ((char *) (s))

/*
 * text, or when it is longer than HD_MAX_ERROR_FIELD a copy cut at a UTF-8
 * character boundary and marked "..." (*copy: what to free).
 */
static char *
bounded_field(const char *text, char **copy)
{
	size_t		len;

	*copy = NULL;
	if (text == NULL || strlen(text) <= HD_MAX_ERROR_FIELD)
		return UNCONST(text);
	len = HD_MAX_ERROR_FIELD - 3;
	while (len > 0 && ((unsigned char) text[len] & 0xC0) == 0x80)
		len--;
	*copy = xmalloc(len + 4);
	memcpy(*copy, text, len);
	memcpy(*copy + len, "...", 4);
	return *copy;
}

/* Marks env as a request's final reply with transaction status txn. */
static void
set_txn(HdEnvelope *env, HdTxnStatus txn)
{
	env->has_txn_status = true;
	env->txn_status = txn;
}

HdTxnStatus
txn_status_of(PGconn *conn)
{
	switch (PQtransactionStatus(conn))
	{
		case PQTRANS_IDLE:
			return HYPERDIST__TXN_STATUS__TXN_IDLE;
		case PQTRANS_INTRANS:
			return HYPERDIST__TXN_STATUS__TXN_IN_TRANSACTION;
		case PQTRANS_INERROR:
			return HYPERDIST__TXN_STATUS__TXN_IN_ERROR;
		default:
			/* PQTRANS_ACTIVE cannot follow the last result; UNKNOWN: broken */
			return HYPERDIST__TXN_STATUS__TXN_UNKNOWN;
	}
}

/* An Error (or Notice) body of f, sent to rid; txn NULL: none. */
static void
send_error_fields(const RoutingId *rid, uint64_t session, uint32_t seq,
				  const ErrorFields *f, Hyperdist__Envelope__BodyCase body,
				  const HdTxnStatus *txn)
{
	HdEnvelope	env;
	Hyperdist__Error err = HYPERDIST__ERROR__INIT;
	char	   *copies[4];

	/* The access node rejects malformed SQLSTATEs; never send one. */
	err.sqlstate = UNCONST(hd_sqlstate_valid(f->sqlstate) ? f->sqlstate
						   : HD_SQLSTATE_INTERNAL_ERROR);
	err.severity = UNCONST(f->severity ? f->severity : "ERROR");
	err.message = bounded_field(f->message ? f->message : "unknown error", &copies[0]);
	err.detail = bounded_field(f->detail, &copies[1]);
	err.hint = bounded_field(f->hint, &copies[2]);
	err.context = bounded_field(f->context, &copies[3]);

	envelope_init(&env, session, seq);
	if (txn)
		set_txn(&env, *txn);
	env.body_case = body;
	if (body == HYPERDIST__ENVELOPE__BODY_NOTICE)
		env.notice = &err;
	else
		env.error = &err;
	send_reply(rid, &env);
	for (int i = 0; i < 4; i++)
		free(copies[i]);
}

void
reply_error(const RoutingId *rid, uint64_t session, uint32_t seq,
			const ErrorFields *f)
{
	send_error_fields(rid, session, seq, f, HYPERDIST__ENVELOPE__BODY_ERROR, NULL);
}

void
reply_request_error(const RoutingId *rid, uint64_t session, uint32_t seq,
					const ErrorFields *f, HdTxnStatus txn)
{
	send_error_fields(rid, session, seq, f, HYPERDIST__ENVELOPE__BODY_ERROR, &txn);
}

void
reply_errorf(const RoutingId *rid, uint64_t session, uint32_t seq,
			 const char *sqlstate, const char *detail, const char *fmt,...)
{
	ErrorFields f = {0};
	char		msg[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	f.sqlstate = sqlstate;
	f.severity = "ERROR";
	f.message = msg;
	f.detail = detail;
	reply_error(rid, session, seq, &f);
}

/* libpq's own messages end in a newline; the wire carries bare text. */
static char *
chomp_dup(const char *s)
{
	size_t		len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	return xstrndup(s, len);
}

/*
 * The fields of an error or notice result; *own_message is a message made
 * here, to free after sending.
 */
static void
result_fields(const PGresult *res, PGconn *conn, ErrorFields *f, char **own_message)
{
	*own_message = NULL;
	f->sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!hd_sqlstate_valid(f->sqlstate))
	{
		/*
		 * No SQLSTATE means libpq made the error up itself, which in
		 * practice means the connection to the data node broke.
		 */
		f->sqlstate = PQstatus(conn) == CONNECTION_BAD
			? HD_SQLSTATE_CONNECTION_FAILURE : HD_SQLSTATE_INTERNAL_ERROR;
	}
	f->severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (f->severity == NULL)
		f->severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	f->message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (f->message == NULL)
		f->message = *own_message = chomp_dup(PQresultErrorMessage(res));
	f->detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	f->hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	f->context = PQresultErrorField(res, PG_DIAG_CONTEXT);
}

/* An Error or Notice body relaying result res; txn NULL: none. */
static void
send_result(const RoutingId *rid, uint64_t session, uint32_t seq,
			const PGresult *res, PGconn *conn, Hyperdist__Envelope__BodyCase body,
			const HdTxnStatus *txn)
{
	ErrorFields f = {0};
	char	   *own_message;

	result_fields(res, conn, &f, &own_message);
	send_error_fields(rid, session, seq, &f, body, txn);
	free(own_message);
}

void
reply_request_error_result(const RoutingId *rid, uint64_t session, uint32_t seq,
						   const PGresult *res, PGconn *conn, HdTxnStatus txn)
{
	send_result(rid, session, seq, res, conn, HYPERDIST__ENVELOPE__BODY_ERROR, &txn);
}

void
reply_notice_result(const RoutingId *rid, uint64_t session, uint32_t seq,
					const PGresult *res, PGconn *conn)
{
	send_result(rid, session, seq, res, conn, HYPERDIST__ENVELOPE__BODY_NOTICE, NULL);
}

void
reply_notice(const RoutingId *rid, uint64_t session, uint32_t seq,
			 const ErrorFields *f)
{
	send_error_fields(rid, session, seq, f, HYPERDIST__ENVELOPE__BODY_NOTICE, NULL);
}

void
reply_hello_ok(const RoutingId *rid, uint64_t session, uint32_t seq,
			   const char *server_version)
{
	HdEnvelope	env;
	Hyperdist__HelloOk ok = HYPERDIST__HELLO_OK__INIT;

	ok.has_major = ok.has_minor = true;
	ok.major = HD_PROTO_MAJOR;
	ok.minor = HD_PROTO_MINOR;
	ok.has_epoch = true;
	ok.epoch = agent_epoch;
	ok.has_session = true;
	ok.session = session;
	ok.server_version = UNCONST(server_version ? server_version : "");
	ok.agent_version = UNCONST(HD_AGENT_VERSION);

	envelope_init(&env, session, seq);
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO_OK;
	env.hello_ok = &ok;
	send_reply(rid, &env);
}

void
reply_done(const RoutingId *rid, uint64_t session, uint32_t seq,
		   const char *command_tag, uint64_t rows, HdTxnStatus txn)
{
	HdEnvelope	env;
	Hyperdist__Done done = HYPERDIST__DONE__INIT;

	done.command_tag = UNCONST(command_tag ? command_tag : "");
	done.has_rows = true;
	done.rows = rows;

	envelope_init(&env, session, seq);
	set_txn(&env, txn);
	env.body_case = HYPERDIST__ENVELOPE__BODY_DONE;
	env.done = &done;
	send_reply(rid, &env);
}

void
reply_pong(const RoutingId *rid, uint64_t session, uint32_t seq, uint32_t nsessions)
{
	HdEnvelope	env;
	Hyperdist__Pong pong = HYPERDIST__PONG__INIT;

	pong.has_epoch = true;
	pong.epoch = agent_epoch;
	pong.has_sessions = true;
	pong.sessions = nsessions;

	envelope_init(&env, session, seq);
	env.body_case = HYPERDIST__ENVELOPE__BODY_PONG;
	env.pong = &pong;
	send_reply(rid, &env);
}

void
reply_row_description(const RoutingId *rid, uint64_t session, uint32_t seq,
					  const PGresult *res)
{
	HdEnvelope	env;
	Hyperdist__RowDescription desc = HYPERDIST__ROW_DESCRIPTION__INIT;
	int			ncols = res ? PQnfields(res) : 0;
	Hyperdist__Column *cols = NULL;
	Hyperdist__Column **ptrs = NULL;

	if (ncols > 0)
	{
		cols = xcalloc(ncols, sizeof(Hyperdist__Column));
		ptrs = xcalloc(ncols, sizeof(Hyperdist__Column *));
	}
	for (int i = 0; i < ncols; i++)
	{
		hyperdist__column__init(&cols[i]);
		/* a COPY's result has the formats only: no names, type 0 */
		cols[i].name = PQfname(res, i) ? PQfname(res, i) : "";
		cols[i].has_type_oid = true;
		cols[i].type_oid = PQftype(res, i);
		cols[i].has_typmod = true;
		cols[i].typmod = PQfmod(res, i);
		cols[i].has_binary = true;
		cols[i].binary = PQfformat(res, i) == 1;
		ptrs[i] = &cols[i];
	}
	desc.n_columns = ncols;
	desc.columns = ptrs;

	envelope_init(&env, session, seq);
	env.body_case = HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION;
	env.row_description = &desc;
	send_reply(rid, &env);

	free(ptrs);
	free(cols);
}

static void
send_row_batch(const RoutingId *rid, uint64_t session, uint32_t seq,
			   uint32_t nrows, bool fragment, const uint8_t *data, size_t len)
{
	HdEnvelope	env;
	Hyperdist__RowBatch batch = HYPERDIST__ROW_BATCH__INIT;

	batch.has_nrows = true;
	batch.nrows = nrows;
	batch.has_data = true;
	batch.data.len = len;
	batch.data.data = (uint8_t *) data;
	batch.has_fragment = fragment;
	batch.fragment = fragment;

	envelope_init(&env, session, seq);
	env.body_case = HYPERDIST__ENVELOPE__BODY_ROW_BATCH;
	env.row_batch = &batch;
	send_reply(rid, &env);
}

/* Envelope{session, seq 0, ping}: access nodes ignore requests with seq 0. */
static void
probe_init(HdEnvelope *env, Hyperdist__Ping *ping, uint64_t session)
{
	hyperdist__ping__init(ping);
	envelope_init(env, session, 0);
	env->body_case = HYPERDIST__ENVELOPE__BODY_PING;
	env->ping = ping;
}

void
reply_row_batch(const RoutingId *rid, uint64_t session, uint32_t seq,
				uint32_t nrows, const uint8_t *data, size_t len)
{
	send_row_batch(rid, session, seq, nrows, false, data, len);
}

void
reply_row_fragment(const RoutingId *rid, uint64_t session, uint32_t seq,
				   bool last, const uint8_t *data, size_t len)
{
	send_row_batch(rid, session, seq, last ? 1 : 0, true, data, len);
}

void
send_probe(const RoutingId *rid, uint64_t session)
{
	HdEnvelope	env;
	Hyperdist__Ping ping;

	probe_init(&env, &ping, session);
	router_send(rid, &env);
}

bool
probe_reachable(const RoutingId *rid, uint64_t session)
{
	HdEnvelope	env;
	Hyperdist__Ping ping;

	probe_init(&env, &ping, session);
	return router_try_send(rid, &env);
}
