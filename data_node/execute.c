/* SPDX-License-Identifier: PostgreSQL */
/*
 * execute.c — running a session's Exec and Query requests on libpq without
 * blocking, and streaming Query rows back under credit.
 *
 * exec_pump() advances a session as far as it can without waiting: it
 * starts the next queued request when none runs (and no cancel sent for
 * the previous one is still in flight), flushes the outgoing
 * query, reads results while libpq has complete ones buffered, packs rows
 * into RowBatch messages, and stops when it would have to wait for the
 * socket (the loop polls it) or for credit (the loop does not poll it, so
 * the data node's backend blocks on TCP and nothing piles up here).  A row
 * too large for a frame is held and sent as fragments, each a RowBatch
 * under credit, built from the held row itself, so the agent never holds
 * more than that row and one fragment of it.
 *
 * Both Exec and Query run in single-row mode so that no result is ever
 * materialized whole in the agent.  A Query with `copy` runs as COPY (sql)
 * TO STDOUT (FORMAT binary) instead: the data node then sends each tuple
 * in the row batch layout already, and the agent appends it to the batch
 * as it is, without libpq's per-row result (the main cost of forwarding
 * wide results in single-row mode).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "reply.h"
#include "session_int.h"
#include "sqlstate.h"
#include "util.h"

/* libpq's limit on the number of parameters (the protocol's int16). */
#define MAX_PARAMS 65535

/* Largest RowBatch data that still fits the access node's frame limit. */
#define MAX_BATCH_DATA ((size_t) HD_MAX_REPLY_FRAME - HD_ROW_BATCH_OVERHEAD)

void
request_free(Request *r)
{
	if (r == NULL)
		return;
	hd_wire_free(r->env, NULL);
	free(r);
}

/* A Query's batch size: Query.batch_bytes, capped, or the default. */
static size_t
batch_limit(const Request *r)
{
	const Hyperdist__Query *q = r->env->query;

	if (!q->has_batch_bytes || q->batch_bytes == 0)
		return HD_DEFAULT_BATCH_BYTES;
	return q->batch_bytes < HD_MAX_BATCH_BYTES ? q->batch_bytes : HD_MAX_BATCH_BYTES;
}

uint32_t
request_max_credit(const Request *r)
{
	return (uint32_t) (HD_MAX_CREDIT_BYTES / batch_limit(r));
}

/* A Query with `copy`: its rows arrive as COPY TO STDOUT data. */
static bool
runs_as_copy(const Request *r)
{
	return r->kind == REQUEST_QUERY && r->env->query->has_copy &&
		r->env->query->copy;
}

/* Drops the rows not sent yet: batched, held, or partly sent in fragments. */
void
exec_drop_rows(Session *s)
{
	if (s->held_row)
		PQclear(s->held_row);
	s->held_row = NULL;
	if (s->held_tuple)
		PQfreemem(s->held_tuple);
	s->held_tuple = NULL;
	s->frag_size = 0;
	s->frag_sent = 0;
	hd_buf_reset(&s->batch);
	s->batch_rows = 0;
}

void
exec_reset(Session *s)
{
	s->flushing = false;
	s->pg_done = false;
	s->failed = false;
	if (s->error_result)
		PQclear(s->error_result);
	s->error_result = NULL;
	free(s->error_message);
	free(s->error_detail);
	s->error_message = s->error_detail = NULL;
	s->cancelled = false;
	s->described = false;
	s->in_copy_out = false;
	s->copy_header_read = false;
	exec_drop_rows(s);
	s->batch_limit = HD_DEFAULT_BATCH_BYTES;
	free(s->tag);
	s->tag = NULL;
	s->tag_rows = 0;
	s->notices = 0;
}

/* ---- replies ----------------------------------------------------------- */

/*
 * The running request failed with an agent-made error, unless it failed
 * already: the first error is the answer.
 */
static void
fail_request(Session *s, const char *sqlstate, const char *detail, const char *message)
{
	if (s->failed)
		return;
	s->failed = true;
	snprintf(s->error_state, sizeof(s->error_state), "%s", sqlstate);
	s->error_message = xstrdup(message);
	s->error_detail = detail ? xstrdup(detail) : NULL;
	exec_drop_rows(s);
}

/* The same with the server's error (taking ownership of res). */
static void
fail_request_result(Session *s, PGresult *res)
{
	if (s->failed)
	{
		PQclear(res);
		return;
	}
	s->failed = true;
	s->error_result = res;
	exec_drop_rows(s);
}

/* Sends the failed request's Error. */
static void
reply_failure(Session *s, HdTxnStatus txn)
{
	ErrorFields f = {0};

	if (s->error_result)
	{
		reply_request_error_result(&s->rid, s->id, s->running->seq,
								   s->error_result, s->conn, txn);
		return;
	}
	f.sqlstate = s->error_state;
	f.severity = "ERROR";
	f.message = s->error_message;
	f.detail = s->error_detail;
	reply_request_error(&s->rid, s->id, s->running->seq, &f, txn);
}

/* True when the running Query may send a RowBatch now. */
static bool
can_send(Session *s)
{
	return s->running->credit > 0 && !router_peer_blocked(&s->rid);
}

static void
send_batch(Session *s)
{
	reply_row_batch(&s->rid, s->id, s->running->seq, s->batch_rows,
					s->batch.data, s->batch.len);
	s->running->credit--;
	hd_buf_reset(&s->batch);
	s->batch_rows = 0;
}

static void
describe(Session *s, const PGresult *res)
{
	reply_row_description(&s->rid, s->id, s->running->seq, res);
	s->described = true;
}

/* ---- rows ---------------------------------------------------------------- */

/* Encoded size of one tuple in the binary COPY layout. */
static size_t
row_size(const PGresult *res)
{
	int			nfields = PQnfields(res);
	size_t		size = 2;

	for (int i = 0; i < nfields; i++)
	{
		size += 4;
		if (!PQgetisnull(res, 0, i))
			size += PQgetlength(res, 0, i);
	}
	return size;
}

static bool
pack_row(Session *s, const PGresult *res)
{
	int			nfields = PQnfields(res);

	if (!hd_batch_put_row_header(&s->batch, (uint16_t) nfields))
		return false;
	for (int i = 0; i < nfields; i++)
	{
		bool		ok;

		if (PQgetisnull(res, 0, i))
			ok = hd_batch_put_field(&s->batch, NULL, -1);
		else
			ok = hd_batch_put_field(&s->batch, PQgetvalue(res, 0, i),
									PQgetlength(res, 0, i));
		if (!ok)
			return false;
	}
	s->batch_rows++;
	return true;
}

/*
 * A row too large for a frame (size bytes) is held and sent in fragments
 * when the access node joins them (protocol 1.3) and takes a row that
 * large; otherwise it fails the Query.  True when it is to be sent.
 */
static bool
start_fragments(Session *s, size_t size)
{
	char		detail[192];

	if (s->peer_minor >= HD_PROTO_MINOR_FRAGMENTS && size <= HD_MAX_ROW_BYTES)
	{
		s->frag_size = size;
		s->frag_sent = 0;
		return true;
	}
	if (size > HD_MAX_ROW_BYTES)
		snprintf(detail, sizeof(detail),
				 "The row takes %zu bytes; a row sent in fragments takes at most %zu.",
				 size, HD_MAX_ROW_BYTES);
	else
		snprintf(detail, sizeof(detail),
				 "The row takes %zu bytes; a reply frame holds at most %zu, and the access node (protocol %d.%u) takes no rows in fragments.",
				 size, MAX_BATCH_DATA, HD_PROTO_MAJOR, s->peer_minor);
	fail_request(s, HD_SQLSTATE_PROGRAM_LIMIT_EXCEEDED, detail,
				 "row too large to send to the access node");
	/* Stop the data node from producing rows nobody will read. */
	session_send_cancel(s);
	return false;
}

static void
fail_out_of_memory(Session *s)
{
	fail_request(s, HD_SQLSTATE_OUT_OF_MEMORY, NULL,
				 "out of memory building a row batch");
	session_send_cancel(s);
}

/*
 * Adds a single-row result to the batch, taking ownership of res.  A row
 * that does not fit next to the rows already batched is held until the
 * batch is sent; a row too big for any frame is held to go in fragments.
 */
static void
add_row(Session *s, PGresult *res)
{
	size_t		size = row_size(res);

	if (s->batch.len + size <= MAX_BATCH_DATA)
	{
		if (!pack_row(s, res))
			fail_out_of_memory(s);
	}
	else if (s->batch_rows > 0 || start_fragments(s, size))
	{
		s->held_row = res;
		return;
	}
	PQclear(res);
}

/*
 * The same for a tuple of COPY data (len bytes at tuple, inside buf, which
 * libpq allocated and this function now owns).
 */
static void
add_tuple(Session *s, char *buf, const char *tuple, int len)
{
	if (s->batch.len + len <= MAX_BATCH_DATA)
	{
		if (!hd_buf_append(&s->batch, tuple, len))
			fail_out_of_memory(s);
		else
			s->batch_rows++;
	}
	else if (s->batch_rows > 0 || start_fragments(s, len))
	{
		/* only a header comes before a tuple, and only in the first */
		memmove(buf, tuple, len);
		s->held_tuple = buf;
		s->held_tuple_len = len;
		return;
	}
	PQfreemem(buf);
}

/*
 * Appends what falls within [from, end) of a piece of a row's layout (len
 * bytes found at offset pos); returns the offset after the piece.
 */
static size_t
copy_overlap(HdBuf *buf, const void *piece, size_t len, size_t pos,
			 size_t from, size_t end)
{
	size_t		lo = pos > from ? pos : from;
	size_t		hi = pos + len < end ? pos + len : end;

	if (lo < hi)
	{
		memcpy(buf->data + buf->len, (const char *) piece + (lo - pos), hi - lo);
		buf->len += hi - lo;
	}
	return pos + len;
}

/*
 * Appends bytes [from, from + n) of res's row in the row batch layout
 * (pack_row's) to buf, which has room for them: a fragment, built without
 * packing the whole row.
 */
static void
put_row_slice(HdBuf *buf, const PGresult *res, size_t from, size_t n)
{
	size_t		end = from + n;
	int			nfields = PQnfields(res);
	uint8_t		word[4];
	size_t		pos;

	hd_put_be16(word, (uint16_t) nfields);
	pos = copy_overlap(buf, word, 2, 0, from, end);
	for (int i = 0; i < nfields && pos < end; i++)
	{
		bool		null = PQgetisnull(res, 0, i);
		int32_t		len = null ? -1 : PQgetlength(res, 0, i);

		hd_put_be32(word, (uint32_t) len);
		pos = copy_overlap(buf, word, 4, pos, from, end);
		if (!null)
			pos = copy_overlap(buf, PQgetvalue(res, 0, i), len, pos, from, end);
	}
}

/*
 * Sends the held row's next fragments while credit lasts, each at most
 * batch_limit bytes (so credit bounds the bytes in flight as for batches);
 * the last one counts the row.  False when blocked on credit.
 */
static bool
send_fragments(Session *s)
{
	while (s->frag_sent < s->frag_size)
	{
		size_t		n = s->frag_size - s->frag_sent;
		const uint8_t *piece;

		if (!can_send(s))
			return false;
		if (n > s->batch_limit)
			n = s->batch_limit;
		if (s->held_tuple)
			piece = (const uint8_t *) s->held_tuple + s->frag_sent;
		else
		{
			hd_buf_reset(&s->batch);
			if (!hd_buf_reserve(&s->batch, n))
			{
				fail_out_of_memory(s);
				return true;
			}
			put_row_slice(&s->batch, s->held_row, s->frag_sent, n);
			piece = s->batch.data;
		}
		s->frag_sent += n;
		reply_row_fragment(&s->rid, s->id, s->running->seq,
						   s->frag_sent == s->frag_size, piece, n);
		s->running->credit--;
	}
	exec_drop_rows(s);
	return true;
}

/*
 * Sends the batch when it is full or a held row waits behind it, then
 * batches the held row, or sends it in fragments.  False when blocked on
 * credit.
 */
static bool
flush_full_batch(Session *s)
{
	if (s->frag_size > 0)
		return send_fragments(s);
	if (s->held_row == NULL && s->held_tuple == NULL &&
		s->batch.len < s->batch_limit)
		return true;
	if (s->batch_rows > 0)
	{
		if (!can_send(s))
			return false;
		send_batch(s);
	}
	if (s->held_row)
	{
		PGresult   *row = s->held_row;

		s->held_row = NULL;
		add_row(s, row);
	}
	if (s->held_tuple)
	{
		char	   *tuple = s->held_tuple;

		s->held_tuple = NULL;
		add_tuple(s, tuple, tuple, s->held_tuple_len);
	}
	return s->frag_size == 0 || send_fragments(s);
}

/* ---- results ------------------------------------------------------------- */

static void
remember_tag(Session *s, const PGresult *res)
{
	const char *tuples = PQcmdTuples((PGresult *) res);

	free(s->tag);
	s->tag = xstrdup(PQcmdStatus((PGresult *) res));
	s->tag_rows = tuples[0] ? strtoull(tuples, NULL, 10) : 0;
}

/*
 * COPY FROM STDIN: an Exec carrying copy_data sends it, whole (libpq's
 * buffer grows to hold it), and ends the copy; the exec loop flushes it as
 * the socket allows, and the server's result ("COPY n") is the answer.
 * Without data the copy is refused; the server then answers with an error.
 */
static void
copy_in(Session *s, Request *r)
{
	Hyperdist__Exec *exec = r->kind == REQUEST_EXEC ? r->env->exec : NULL;

	if (exec == NULL || !exec->has_copy_data)
	{
		fail_request(s, HD_SQLSTATE_FEATURE_NOT_SUPPORTED, NULL,
					 "COPY FROM STDIN needs its data in the Exec request");
		PQputCopyEnd(s->conn, "COPY FROM STDIN without data from the access node");
	}
	else if ((PQputCopyData(s->conn, (const char *) exec->copy_data.data,
							(int) exec->copy_data.len) != 1 ||
			  PQputCopyEnd(s->conn, NULL) != 1) &&
			 PQstatus(s->conn) != CONNECTION_BAD)
	{
		/* libpq could not buffer the data.  (PQgetResult reports a lost connection.) */
		fail_request(s, HD_SQLSTATE_OUT_OF_MEMORY, NULL,
					 "out of memory sending COPY data to the data node");
		PQputCopyEnd(s->conn, "out of memory in the data node agent");
	}
	s->flushing = true;
}

/*
 * Whether res says the connection is gone: a FATAL (the server hangs up
 * after it), or libpq's own error for a dead socket.
 */
static bool
connection_lost(Session *s, const PGresult *res)
{
	return result_is_fatal(res) ||
		(PQstatus(s->conn) == CONNECTION_BAD &&
		 !hd_sqlstate_valid(PQresultErrorField(res, PG_DIAG_SQLSTATE)));
}

static void
handle_result(Session *s, PGresult *res)
{
	Request    *r = s->running;
	bool		streaming = r->kind == REQUEST_QUERY && !s->failed && !s->cancelled;

	switch (PQresultStatus(res))
	{
		case PGRES_SINGLE_TUPLE:
			if (!streaming)
				break;
			if (!s->described)
				describe(s, res);
			add_row(s, res);
			return;				/* add_row owns res */

		case PGRES_TUPLES_OK:
			/* Zero rows, or the end of single-row results: columns known. */
			if (streaming && !s->described)
				describe(s, res);
			remember_tag(s, res);
			break;

		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			remember_tag(s, res);
			break;

		case PGRES_COPY_OUT:
			/* Exec discards COPY TO STDOUT data like any other rows. */
			if (r->kind == REQUEST_QUERY && !runs_as_copy(r))
				fail_request(s, HD_SQLSTATE_FEATURE_NOT_SUPPORTED, NULL,
							 "COPY TO STDOUT is not supported in Query; use a SELECT");
			else if (streaming && !s->described)
				describe(s, res);	/* column count and formats only */
			s->in_copy_out = true;
			break;

		case PGRES_COPY_IN:
			copy_in(s, r);
			break;

		case PGRES_COPY_BOTH:
			/* Only replication connections do this; we cannot continue. */
			fail_request(s, HD_SQLSTATE_FEATURE_NOT_SUPPORTED, NULL,
						 "COPY BOTH is not supported");
			PQclear(res);
			session_mark_broken(s, "unexpected COPY BOTH");
			return;

		default:
			if (connection_lost(s, res))
			{
				session_mark_broken(s, PQresultErrorMessage(res));
				PQclear(res);
				return;
			}
			/* Errors: the first one is the answer; cancelled Query or not. */
			fail_request_result(s, res);
			return;
	}
	PQclear(res);
}

/* ---- COPY TO STDOUT --------------------------------------------------- */

/* The binary COPY header: signature, flags 0, no header extension. */
#define COPY_HEADER_LEN 19
static const char copy_header[COPY_HEADER_LEN] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

/*
 * One CopyData message of a Query run as COPY.  PostgreSQL sends every
 * tuple as a message of its own, the first one after the header, and ends
 * with a message holding the trailer (a field count of -1).  Takes
 * ownership of buf.
 */
static void
copy_message(Session *s, char *buf, int len)
{
	const char *tuple = buf;

	if (!s->copy_header_read)
	{
		if (len < COPY_HEADER_LEN || memcmp(buf, copy_header, COPY_HEADER_LEN) != 0)
		{
			PQfreemem(buf);
			fail_request(s, HD_SQLSTATE_PROTOCOL_VIOLATION, NULL,
						 "COPY data from the data node lacks the binary COPY header");
			session_send_cancel(s);
			return;
		}
		s->copy_header_read = true;
		tuple += COPY_HEADER_LEN;
		len -= COPY_HEADER_LEN;
	}
	if (len == 0 || (len == 2 && memcmp(tuple, "\377\377", 2) == 0))
		PQfreemem(buf);
	else
		add_tuple(s, buf, tuple, len);
}

/*
 * Reads one CopyData message: a tuple of the running Query's rows when it
 * runs as COPY, dropped otherwise (an Exec's COPY TO STDOUT).  False when
 * libpq needs more input.
 */
static bool
read_copy_out(Session *s)
{
	char	   *buf = NULL;
	int			n = PQgetCopyData(s->conn, &buf, 1);

	if (n > 0 && runs_as_copy(s->running) && !s->failed && !s->cancelled)
		copy_message(s, buf, n);
	else if (buf)
		PQfreemem(buf);
	/* -1: done; -2: an error, which the next PQgetResult reports */
	if (n < 0)
		s->in_copy_out = false;
	return n != 0;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct ParamArrays
{
	int			n;
	Oid		   *types;
	const char **values;
	int		   *lengths;
	int		   *formats;
	char	  **owned;			/* NUL-terminated copies of text values */
} ParamArrays;

static void
params_free(ParamArrays *pa)
{
	for (int i = 0; i < pa->n; i++)
		free(pa->owned[i]);
	free(pa->types);
	free(pa->values);
	free(pa->lengths);
	free(pa->formats);
	free(pa->owned);
	memset(pa, 0, sizeof(*pa));
}

/*
 * libpq wants text parameters NUL-terminated; binary ones are passed with
 * their length.  A text value holding a zero byte cannot be passed at all.
 */
static bool
params_build(Hyperdist__Param **params, size_t n, ParamArrays *pa,
			 const char **sqlstate, char *err, size_t errlen)
{
	memset(pa, 0, sizeof(*pa));
	if (n > MAX_PARAMS)
	{
		*sqlstate = HD_SQLSTATE_PROGRAM_LIMIT_EXCEEDED;
		snprintf(err, errlen, "too many parameters: %zu (at most %d)", n, MAX_PARAMS);
		return false;
	}
	pa->n = (int) n;
	pa->types = xcalloc(n, sizeof(Oid));
	pa->values = xcalloc(n, sizeof(char *));
	pa->lengths = xcalloc(n, sizeof(int));
	pa->formats = xcalloc(n, sizeof(int));
	pa->owned = xcalloc(n, sizeof(char *));

	for (size_t i = 0; i < n; i++)
	{
		Hyperdist__Param *p = params[i];
		ProtobufCBinaryData *v = &p->value;
		/* protobuf-c leaves an empty value NULL, which libpq takes for SQL NULL */
		const char *data = v->len > 0 ? (const char *) v->data : "";

		pa->types[i] = p->has_type_oid ? p->type_oid : 0;
		pa->formats[i] = p->has_binary && p->binary ? 1 : 0;
		if (!p->has_value)
			continue;			/* SQL NULL */
		if (pa->formats[i] == 1)
		{
			pa->values[i] = data;
			pa->lengths[i] = (int) v->len;
			continue;
		}
		if (memchr(data, '\0', v->len) != NULL)
		{
			*sqlstate = "22021";	/* character_not_in_repertoire */
			snprintf(err, errlen, "text parameter $%zu contains a zero byte", i + 1);
			return false;
		}
		pa->owned[i] = xstrndup(data, v->len);
		pa->values[i] = pa->owned[i];
		pa->lengths[i] = (int) v->len;
	}
	return true;
}

/* Sends the request to PostgreSQL; false if it could not even be sent. */
static bool
send_request(Session *s, Request *r)
{
	ProtobufCBinaryData *sql;
	Hyperdist__Param **params;
	size_t		nparams;
	bool		binary = false;
	char	   *text;
	ParamArrays pa;
	const char *sqlstate = HD_SQLSTATE_PROTOCOL_VIOLATION;
	char		err[256];
	int			ok;

	if (r->kind == REQUEST_QUERY)
	{
		Hyperdist__Query *q = r->env->query;

		sql = &q->sql;
		params = q->params;
		nparams = q->n_params;
		binary = q->has_binary && q->binary;
		s->batch_limit = batch_limit(r);
	}
	else
	{
		sql = &r->env->exec->sql;
		params = r->env->exec->params;
		nparams = r->env->exec->n_params;
	}

	if (!params_build(params, nparams, &pa, &sqlstate, err, sizeof(err)))
	{
		params_free(&pa);
		fail_request(s, sqlstate, NULL, err);
		return false;
	}

	/* hd_wire_decode guarantees the SQL holds no NUL byte. */
	text = xstrndup((const char *) sql->data, sql->len);
	if (runs_as_copy(r))
	{
		/* hd_wire_check made sure there are no parameters */
		char	   *copy = xasprintf("COPY (%s) TO STDOUT (FORMAT binary)", text);

		free(text);
		text = copy;
	}
	if (r->kind == REQUEST_EXEC && nparams == 0)
		ok = PQsendQuery(s->conn, text);	/* may hold several statements */
	else
		ok = PQsendQueryParams(s->conn, text, pa.n, pa.types, pa.values,
							   pa.lengths, pa.formats, binary ? 1 : 0);
	free(text);
	params_free(&pa);

	if (!ok && PQstatus(s->conn) == CONNECTION_BAD)
		session_mark_broken(s, PQerrorMessage(s->conn));
	else if (!ok)
	{
		char	   *msg = xstrdup(PQerrorMessage(s->conn));
		size_t		len = strlen(msg);

		while (len > 0 && msg[len - 1] == '\n')
			msg[--len] = '\0';
		fail_request(s, HD_SQLSTATE_INTERNAL_ERROR, NULL, msg);
		free(msg);
	}
	if (!ok)
		return false;
	PQsetSingleRowMode(s->conn);
	s->flushing = true;
	return true;
}

/*
 * Makes the head of the queue the running request.  False if there is none,
 * or if sending it found the connection lost (the session is BROKEN then,
 * and the request answered).
 */
static bool
start_next(Session *s)
{
	Request    *r = s->queue_head;

	if (r == NULL)
		return false;
	s->queue_head = r->next;
	if (s->queue_head == NULL)
		s->queue_tail = NULL;
	s->nqueued--;
	s->queued_bytes -= r->size;
	r->next = NULL;

	exec_reset(s);
	s->running = r;
	log_debug("%s: running %s seq %u", s->label,
			  r->kind == REQUEST_QUERY ? "Query" : "Exec", r->seq);
	/* Nothing sent, nothing to read back (unless the connection is lost). */
	if (!send_request(s, r) && s->running)
		s->pg_done = true;
	return s->running != NULL;
}

/*
 * Sends the running request's final replies.  False when the last batch
 * still waits for credit.
 */
static bool
finish_request(Session *s)
{
	Request    *r = s->running;

	if (s->cancelled && r->kind == REQUEST_QUERY)
	{
		/*
		 * The query ended before the cancel reached it, but rows were
		 * dropped since the Cancel: a Done would claim otherwise.  (An Exec
		 * that finished anyway reports its real outcome: a COMMIT that
		 * succeeded must not look cancelled.)
		 */
		fail_request(s, HD_SQLSTATE_QUERY_CANCELED, NULL,
					 "canceling statement due to user request");
	}
	if (s->failed)
		reply_failure(s, txn_status_of(s->conn));
	else
	{
		if (r->kind == REQUEST_QUERY)
		{
			if (s->batch_rows > 0)
			{
				if (!can_send(s))
					return false;
				send_batch(s);
			}
			/* A statement without result columns still gets a description. */
			if (!s->described)
				reply_row_description(&s->rid, s->id, r->seq, NULL);
		}
		reply_done(&s->rid, s->id, r->seq, s->tag, s->tag_rows,
				   txn_status_of(s->conn));
	}
	log_debug("%s: seq %u done", s->label, r->seq);
	request_free(r);
	s->running = NULL;
	exec_reset(s);

	if (PQstatus(s->conn) == CONNECTION_BAD)
		session_mark_broken(s, PQerrorMessage(s->conn));
	return true;
}

/*
 * The connection died under the running request: its final reply is its
 * error if it failed already (e.g. the FATAL that said why), else 08006;
 * the transaction status is unknown.
 */
void
exec_abort_running(Session *s)
{
	if (s->failed)
		reply_failure(s, HYPERDIST__TXN_STATUS__TXN_UNKNOWN);
	else
		session_reply_lost(s, s->running->seq);
	request_free(s->running);
	s->running = NULL;
	exec_reset(s);
}

/* One step of the running request; false when it must wait. */
static bool
step_running(Session *s)
{
	PGresult   *res;

	if (s->running->kind == REQUEST_QUERY && !s->failed && !s->cancelled &&
		!flush_full_batch(s))
		return false;
	if (s->pg_done)
		return finish_request(s);
	if (s->in_copy_out)
	{
		if (read_copy_out(s))
			return true;
	}
	else if (!PQisBusy(s->conn))
	{
		res = PQgetResult(s->conn);
		if (res == NULL)
			s->pg_done = true;
		else
			handle_result(s, res);
		return true;
	}

	/*
	 * Nothing complete is buffered in libpq: send the partial batch now
	 * rather than waiting for it to fill, for low first-row latency.
	 */
	if (s->running->kind == REQUEST_QUERY && !s->failed &&
		!s->cancelled && s->batch_rows > 0 && can_send(s))
		send_batch(s);
	return false;
}

void
exec_pump(Session *s)
{
	while (s->state == SESSION_READY)
	{
		/*
		 * A cancel sent for the previous request may still be on its way to
		 * the server, where it would cancel whatever runs when it arrives:
		 * start nothing until it is known to be delivered (or lost).
		 */
		if (s->running == NULL && s->cancel_token != 0)
			return;
		if (s->running == NULL && !start_next(s))
			return;
		if (s->flushing)
		{
			int			rc = PQflush(s->conn);

			if (rc > 0)
				return;			/* wait until the socket is writable */
			/* rc < 0: the error surfaces from PQgetResult. */
			s->flushing = false;
		}
		if (!step_running(s))
			return;
	}
}

/*
 * Whether the loop should poll the libpq socket for input.  Not while a
 * Query is blocked on credit: that is what pushes back on the data node.
 */
bool
exec_wants_read(Session *s)
{
	if (s->running == NULL || s->failed || s->cancelled ||
		s->running->kind != REQUEST_QUERY)
		return true;
	if (s->pg_done)
		return false;
	if ((s->held_row != NULL || s->held_tuple != NULL ||
		 s->batch.len >= s->batch_limit) && !can_send(s))
		return false;
	return true;
}
