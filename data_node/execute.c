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
 * the data node's backend blocks on TCP and nothing piles up here).
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

/* A Query with `copy`: its rows arrive as COPY TO STDOUT data. */
static bool
runs_as_copy(const Request *r)
{
	return r->kind == REQUEST_QUERY && r->env->query->has_copy &&
		r->env->query->copy;
}

static void
discard_rows(Session *s)
{
	if (s->held_row)
		PQclear(s->held_row);
	s->held_row = NULL;
	if (s->held_tuple)
		PQfreemem(s->held_tuple);
	s->held_tuple = NULL;
	hd_buf_reset(&s->batch);
	s->batch_rows = 0;
}

void
exec_reset(Session *s)
{
	s->flushing = false;
	s->pg_done = false;
	s->replied = false;
	s->cancelled = false;
	s->described = false;
	s->in_copy_out = false;
	s->copy_header_read = false;
	discard_rows(s);
	s->batch_limit = HD_DEFAULT_BATCH_BYTES;
	free(s->tag);
	s->tag = NULL;
	s->tag_rows = 0;
	s->notices = 0;
}

/* ---- replies ----------------------------------------------------------- */

/* Answers the running request with an agent-made error (once). */
static void
fail_request(Session *s, const char *sqlstate, const char *detail, const char *message)
{
	if (s->replied)
		return;
	reply_errorf(&s->rid, s->id, s->running->seq, sqlstate, detail, "%s", message);
	s->replied = true;
	discard_rows(s);
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

/* Fails the Query for a row too big for any reply frame. */
static void
fail_row_too_large(Session *s, size_t size)
{
	char		detail[128];

	snprintf(detail, sizeof(detail),
			 "The row takes %zu bytes; a reply frame holds at most %zu.",
			 size, MAX_BATCH_DATA);
	fail_request(s, HD_SQLSTATE_PROGRAM_LIMIT_EXCEEDED, detail,
				 "row too large to send to the access node");
	/* Stop the data node from producing rows nobody will read. */
	session_send_cancel(s);
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
 * batch is sent; a row too big for any frame fails the query.
 */
static void
add_row(Session *s, PGresult *res)
{
	size_t		size = row_size(res);

	if (s->batch.len + size > MAX_BATCH_DATA)
	{
		if (s->batch_rows > 0)
		{
			s->held_row = res;
			return;
		}
		fail_row_too_large(s, size);
	}
	else if (!pack_row(s, res))
		fail_out_of_memory(s);
	PQclear(res);
}

/*
 * The same for a tuple of COPY data (len bytes at tuple, inside buf, which
 * libpq allocated and this function now owns).
 */
static void
add_tuple(Session *s, char *buf, const char *tuple, int len)
{
	if (s->batch.len + len > MAX_BATCH_DATA)
	{
		if (s->batch_rows > 0)
		{
			/* only a header comes before a tuple, and only in the first */
			memmove(buf, tuple, len);
			s->held_tuple = buf;
			s->held_tuple_len = len;
			return;
		}
		fail_row_too_large(s, len);
	}
	else if (!hd_buf_append(&s->batch, tuple, len))
		fail_out_of_memory(s);
	else
		s->batch_rows++;
	PQfreemem(buf);
}

/*
 * Sends the batch when it is full or a held row waits behind it, then
 * batches the held row.  False when blocked on credit.
 */
static bool
flush_full_batch(Session *s)
{
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
	return true;
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
	else if (PQputCopyData(s->conn, (const char *) exec->copy_data.data,
						   (int) exec->copy_data.len) != 1 ||
			 PQputCopyEnd(s->conn, NULL) != 1)
	{
		/* The connection is unusable; PQgetResult reports how. */
		fail_request(s, HD_SQLSTATE_CONNECTION_FAILURE, NULL,
					 PQerrorMessage(s->conn));
	}
	s->flushing = true;
}

static void
handle_result(Session *s, PGresult *res)
{
	Request    *r = s->running;
	bool		streaming = r->kind == REQUEST_QUERY && !s->replied && !s->cancelled;

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
			/* Errors: the first one is the answer; cancelled Query or not. */
			if (!s->replied)
			{
				reply_error_result(&s->rid, s->id, r->seq, res, s->conn);
				s->replied = true;
				discard_rows(s);
			}
			break;
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

	if (n > 0 && runs_as_copy(s->running) && !s->replied && !s->cancelled)
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
		if (q->has_batch_bytes && q->batch_bytes > 0)
			s->batch_limit = q->batch_bytes < HD_MAX_BATCH_BYTES
				? q->batch_bytes : HD_MAX_BATCH_BYTES;
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

	if (!ok)
	{
		const char *state = PQstatus(s->conn) == CONNECTION_BAD
			? HD_SQLSTATE_CONNECTION_FAILURE : HD_SQLSTATE_INTERNAL_ERROR;
		char	   *msg = xstrdup(PQerrorMessage(s->conn));
		size_t		len = strlen(msg);

		while (len > 0 && msg[len - 1] == '\n')
			msg[--len] = '\0';
		fail_request(s, state, NULL, msg);
		free(msg);
		return false;
	}
	PQsetSingleRowMode(s->conn);
	s->flushing = true;
	return true;
}

/* Makes the head of the queue the running request; false if none. */
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
	r->next = NULL;

	exec_reset(s);
	s->running = r;
	log_debug("%s: running %s seq %u", s->label,
			  r->kind == REQUEST_QUERY ? "Query" : "Exec", r->seq);
	if (!send_request(s, r))
		s->pg_done = true;		/* nothing was sent: nothing to read back */
	return true;
}

/*
 * Sends the running request's final replies.  False when the last batch
 * still waits for credit.
 */
static bool
finish_request(Session *s)
{
	Request    *r = s->running;

	if (!s->replied && s->cancelled && r->kind == REQUEST_QUERY)
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
	if (!s->replied)
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
		reply_done(&s->rid, s->id, r->seq, s->tag, s->tag_rows);
		s->replied = true;
	}
	log_debug("%s: seq %u done", s->label, r->seq);
	request_free(r);
	s->running = NULL;
	exec_reset(s);

	if (PQstatus(s->conn) == CONNECTION_BAD)
		session_mark_broken(s, PQerrorMessage(s->conn));
	return true;
}

/* One step of the running request; false when it must wait. */
static bool
step_running(Session *s)
{
	PGresult   *res;

	if (s->running->kind == REQUEST_QUERY && !s->replied && !s->cancelled &&
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
	if (s->running->kind == REQUEST_QUERY && !s->replied &&
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
	if (s->running == NULL || s->replied || s->cancelled ||
		s->running->kind != REQUEST_QUERY)
		return true;
	if (s->pg_done)
		return false;
	if ((s->held_row != NULL || s->held_tuple != NULL ||
		 s->batch.len >= s->batch_limit) && !can_send(s))
		return false;
	return true;
}
