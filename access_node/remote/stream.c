/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/stream.c — Query streams: a data node's rows, read as they come.
 *
 * The agent sends a row description, then row batches within the credit
 * the stream grants (hyperdist.stream_window batches, returned as batches
 * are consumed), then Done.  The agent answers a session's requests in
 * order, so a stream that is still producing rows when another request is
 * sent is read ahead into memory first.  A stream released early inside a
 * remote transaction is drained (cancelling it would abort the data node's
 * transaction) unless it runs under its scan savepoint (hd_scan_start);
 * elsewhere it is cancelled.  A row too large for one frame comes in
 * fragments (protocol 1.3), which the stream joins and hands on as a batch
 * of that one row.
 *
 * Rows are read in place, row by row: as the fields' bytes
 * (hd_stream_next_row, for scans that decode them by column type), or as
 * C strings (hd_stream_next_text_row); or batch by batch, as the tuples of
 * a binary COPY (hd_stream_next_batch, for copies that forward them
 * unread).  Callers see none of the protocol's messages.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "guc.h"
#include "remote/remote_sql.h"
#include "remote/session_internal.h"
#include "remote/txn.h"

/*
 * The stream's memory is going away (hd_stream_close, or its context reset
 * on error or abort).  Never waits or raises: an unfinished query inside a
 * remote transaction is drained by later waits (cancelling it would abort
 * the data node's transaction); anywhere else it is cancelled.
 */
static void
stream_release(void *arg)
{
	HdStream   *s = arg;
	HdConn	   *conn = s->conn;
	int			i;

	if (conn == NULL)
		return;
	i = hd_req_index(conn, s->seq);
	conn->stream = NULL;
	s->conn = NULL;
	if (i < 0)
		return;
	conn->reqs[i].stream = NULL;
	if (conn->xact.state != HD_RXACT_OPEN)
		hd_conn_cancel_request(conn, i);
	else if (conn->scan_sp.state != HD_SCAN_SP_RUNNING || conn->scan_sp.seq != s->seq ||
			 !hd_scan_savepoint_rollback(conn, i))
		conn->reqs[i].mode = HD_REQ_DRAIN;
}

static void
stream_lost(HdStream *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("query on data node \"%s\" was cancelled", s->node_name),
			 errdetail("The transaction or the connection it ran in ended.")));
}

static Hyperdist__RowDescription *
copy_row_description(const Hyperdist__RowDescription *src)
{
	Hyperdist__RowDescription *rd = palloc(sizeof(Hyperdist__RowDescription));

	hyperdist__row_description__init(rd);
	rd->n_columns = src->n_columns;
	rd->columns = palloc(sizeof(Hyperdist__Column *) * (src->n_columns + 1));
	for (size_t i = 0; i < src->n_columns; i++)
	{
		Hyperdist__Column *c = palloc(sizeof(Hyperdist__Column));

		*c = *src->columns[i];
		c->name = pstrdup(src->columns[i]->name);
		rd->columns[i] = c;
	}
	return rd;
}

/*
 * Joins a fragment of a row too large for one frame to those before it.
 * After the last one the joined tuple is checked like a batch of one row
 * and returned (the caller owns it); before, NULL.  The buffer grows with
 * what arrived, never with what the agent might claim, and a row may take
 * at most HD_MAX_ROW_BYTES.
 */
static HdStoredBatch *
stream_join_fragment(HdStream *s, const Hyperdist__RowBatch *fragment)
{
	HdStoredBatch *row = s->row;
	size_t		len = fragment->data.len;
	const char *why;

	if (row == NULL)
	{
		if (fragment->nrows > 0)
			hd_conn_protocol_error(s->conn, "the last fragment of a row came without the first");
		row = s->row = MemoryContextAllocZero(s->cxt, sizeof(HdStoredBatch));
		s->row_cap = 0;
	}
	if (len > HD_MAX_ROW_BYTES - row->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row from data node \"%s\" is too large", s->node_name),
				 errdetail("A row may take at most %zu bytes.", HD_MAX_ROW_BYTES),
				 errcontext("remote SQL: %s", s->sql)));
	if (row->len + len > s->row_cap)
	{
		size_t		cap = Max(row->len + len, Min(2 * s->row_cap, HD_MAX_ROW_BYTES));

		row->data = row->data == NULL ? MemoryContextAllocHuge(s->cxt, cap)
			: repalloc_huge(row->data, cap);
		s->row_cap = cap;
	}
	memcpy(row->data + row->len, fragment->data.data, len);
	row->len += len;
	if (fragment->nrows == 0)
		return NULL;
	why = hd_batch_check(row->data, row->len, 1, s->columns->n_columns);
	if (why != NULL)
		hd_conn_protocol_error(s->conn, why);
	row->nrows = 1;
	s->row = NULL;
	return row;
}

/*
 * Applies one reply of the stream's query.  Returns true when it brings
 * rows: a row batch (checked against the row description), or the last
 * fragment of a row, whose joined tuple *row then holds (NULL for a
 * batch).  Every batch and fragment returns its credit.
 */
static bool
stream_apply(HdStream *s, HdEnvelope *env, HdStoredBatch **row)
{
	HdConn	   *conn = s->conn;
	int			i = hd_req_index(conn, s->seq);
	Hyperdist__RowBatch *batch;
	MemoryContext old;
	const char *why;

	*row = NULL;

	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION:
			if (s->columns != NULL)
				hd_conn_protocol_error(conn, "second row description in one query");
			old = MemoryContextSwitchTo(s->cxt);
			s->columns = copy_row_description(env->row_description);
			MemoryContextSwitchTo(old);
			return false;

		case HYPERDIST__ENVELOPE__BODY_ROW_BATCH:
			batch = env->row_batch;
			if (s->columns == NULL)
				hd_conn_protocol_error(conn, "row batch before the row description");
			if (batch->has_fragment && batch->fragment)
				*row = stream_join_fragment(s, batch);
			else if (s->row != NULL)
				hd_conn_protocol_error(conn, "a row batch came between the fragments of a row");
			else if ((why = hd_batch_check(batch->data.data, batch->data.len,
										   batch->nrows, s->columns->n_columns)) != NULL)
				hd_conn_protocol_error(conn, why);
			hd_conn_grant_credit(conn, i);
			return *row != NULL || !(batch->has_fragment && batch->fragment);

		case HYPERDIST__ENVELOPE__BODY_DONE:
			if (s->row != NULL)
				hd_conn_protocol_error(conn, "the query ended inside a fragmented row");
			hd_scan_savepoint_ended(conn, s->seq, true);
			s->ended = true;
			if (s->columns == NULL)
			{
				old = MemoryContextSwitchTo(s->cxt);
				s->columns = palloc(sizeof(Hyperdist__RowDescription));
				hyperdist__row_description__init(s->columns);
				MemoryContextSwitchTo(old);
			}
			hd_req_remove(conn, i);
			return false;

		case HYPERDIST__ENVELOPE__BODY_ERROR:
			hd_scan_savepoint_ended(conn, s->seq, false);
			s->ended = true;
			hd_req_remove(conn, i);
			hd_conn_remote_error(conn, env->error, s->sql);

		default:
			hd_conn_protocol_error(conn, "unexpected reply to a query");
	}
}

static void
stream_describe(HdStream *s)
{
	HdStoredBatch *row;

	while (s->columns == NULL)
	{
		if (s->conn == NULL)
			stream_lost(s);
		if (stream_apply(s, hd_conn_wait_for(s->conn, s->seq, s->batch_cxt), &row))
			hd_conn_protocol_error(s->conn, "row batch before the row description");
	}
}

/*
 * Another request is about to be sent on the stream's session: read the
 * rest of the query into memory first, since the agent answers requests in
 * order.  The batch the caller holds (in batch_cxt) stays valid.
 */
void
hd_stream_buffer_rest(HdStream *s)
{
	MemoryContext scratch;

	if (s->columns == NULL)
		stream_describe(s);
	scratch = AllocSetContextCreate(s->cxt, "hyperdist stream read-ahead",
									ALLOCSET_DEFAULT_SIZES);
	while (s->conn != NULL && !s->ended)
	{
		HdEnvelope *env = hd_conn_wait_for(s->conn, s->seq, scratch);
		HdStoredBatch *b;

		if (stream_apply(s, env, &b))
		{
			MemoryContext old;

			if (b == NULL)
			{
				b = MemoryContextAlloc(s->cxt, sizeof(HdStoredBatch));
				b->len = env->row_batch->data.len;
				b->nrows = env->row_batch->nrows;
				b->data = MemoryContextAllocHuge(s->cxt, b->len > 0 ? b->len : 1);
				/* protobuf-c leaves the data of an empty batch NULL */
				if (b->len > 0)
					memcpy(b->data, env->row_batch->data.data, b->len);
			}
			old = MemoryContextSwitchTo(s->cxt);
			s->stored = lappend(s->stored, b);
			MemoryContextSwitchTo(old);
		}
	}
	MemoryContextDelete(scratch);
}

HdStream *
hd_query_start(HdConn *conn, const char *sql, int nparams, const Oid *types,
			   const char *const *values, HdRowFormat format)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "hyperdist stream",
											  ALLOCSET_DEFAULT_SIZES);
	HdStream   *s = MemoryContextAllocZero(cxt, sizeof(HdStream));
	Hyperdist__Query query = HYPERDIST__QUERY__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	int			i;

	s->cxt = cxt;
	s->batch_cxt = AllocSetContextCreate(cxt, "hyperdist stream batch",
										 ALLOCSET_DEFAULT_SIZES);
	s->node_name = MemoryContextStrdup(cxt, conn->node_name);
	s->sql = MemoryContextStrdup(cxt, sql);

	query.has_sql = true;
	query.sql.data = (uint8_t *) sql;
	query.sql.len = strlen(sql);
	query.n_params = nparams;
	query.params = hd_envelope_params(nparams, types, values);
	query.has_binary = true;
	query.binary = format != HD_ROWS_TEXT;
	query.has_copy = format == HD_ROWS_COPY;
	query.copy = format == HD_ROWS_COPY;
	query.has_credit = true;
	query.credit = hd_stream_window;
	query.has_batch_bytes = true;
	query.batch_bytes = hd_batch_bytes;
	env.body_case = HYPERDIST__ENVELOPE__BODY_QUERY;
	env.query = &query;

	s->seq = hd_conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
	i = hd_req_index(conn, s->seq);
	conn->reqs[i].stream = s;
	conn->reqs[i].window = hd_stream_window;
	conn->stream = s;
	s->conn = conn;
	s->release_cb.func = stream_release;
	s->release_cb.arg = s;
	MemoryContextRegisterResetCallback(cxt, &s->release_cb);
	return s;
}

HdStream *
hd_scan_start(HdConn *conn, const char *sql, int nparams, const Oid *types,
			  const char *const *values, HdRowFormat format)
{
	int			level = GetCurrentTransactionNestLevel();
	HdStream   *s;

	if (conn->xact.state != HD_RXACT_OPEN)
		return hd_query_start(conn, sql, nparams, types, values, format);

	/* the savepoint goes inside the caller's: sync those first */
	if (conn->stream != NULL)
		hd_stream_buffer_rest(conn->stream);
	hd_scan_savepoint_release(conn);
	hd_txn_sync_savepoints(conn);
	hd_send_checked_txn_sql(conn, HD_SQL_SCAN_SAVEPOINT, level);
	s = hd_query_start(conn, sql, nparams, types, values, format);
	conn->scan_sp.state = HD_SCAN_SP_RUNNING;
	conn->scan_sp.seq = s->seq;
	conn->scan_sp.level = level;
	return s;
}

/* The row description, once it arrived. */
static Hyperdist__RowDescription *
stream_columns(HdStream *s)
{
	if (s->columns == NULL)
		stream_describe(s);
	return s->columns;
}

int
hd_stream_ncolumns(HdStream *stream)
{
	return (int) stream_columns(stream)->n_columns;
}

bool
hd_stream_column_binary(HdStream *stream, int i)
{
	Hyperdist__RowDescription *columns = stream_columns(stream);

	Assert(i >= 0 && i < columns->n_columns);
	return columns->columns[i]->binary;
}

Oid
hd_stream_column_type(HdStream *stream, int i)
{
	Hyperdist__RowDescription *columns = stream_columns(stream);

	Assert(i >= 0 && i < columns->n_columns);
	return columns->columns[i]->type_oid;
}

/* Hands b to the caller; stream_next_batch frees it at its next call. */
static void
stream_hand_out(HdStream *s, HdStoredBatch *b, const uint8_t **data,
				size_t *len, uint32_t *nrows)
{
	s->current = b;
	*data = b->data;
	*len = b->len;
	*nrows = b->nrows;
}

/*
 * The next batch of rows, stored ahead or as it arrives; false after the
 * last one.  A batch stays valid until the next call.
 */
static bool
stream_next_batch(HdStream *s, const uint8_t **data, size_t *len, uint32_t *nrows)
{
	if (s->current != NULL)
	{
		pfree(s->current->data);
		pfree(s->current);
		s->current = NULL;
	}
	if (s->columns == NULL)
		stream_describe(s);

	for (;;)
	{
		HdEnvelope *env;
		HdStoredBatch *row;

		if (s->stored != NIL)
		{
			stream_hand_out(s, linitial(s->stored), data, len, nrows);
			s->stored = list_delete_first(s->stored);
			return true;
		}
		if (s->ended)
			return false;
		if (s->conn == NULL || s->cancelled)
			stream_lost(s);

		env = hd_conn_wait_for(s->conn, s->seq, s->batch_cxt);
		if (!stream_apply(s, env, &row))
			continue;
		if (row != NULL)
		{
			stream_hand_out(s, row, data, len, nrows);
			return true;
		}
		if (env->row_batch->nrows > 0)
		{
			*data = env->row_batch->data.data;
			*len = env->row_batch->data.len;
			*nrows = env->row_batch->nrows;
			return true;
		}
	}
}

/* A row that does not fit the row description: the agent broke the protocol. */
static void
stream_bad_row(HdStream *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed row from data node \"%s\"", s->node_name),
			 errcontext("remote SQL: %s", s->sql)));
}

/*
 * Positions the stream on its next row, which must have nfields fields;
 * false after the last row.
 */
static bool
stream_next_row_start(HdStream *s, int nfields)
{
	for (;;)
	{
		uint16_t	n;
		bool		bad = false;
		const uint8_t *data;
		size_t		len;
		uint32_t	nrows;

		if (s->rows_in_batch && hd_batch_next_row(&s->rows_in, &n, &bad))
		{
			if (n != nfields)
				stream_bad_row(s);
			return true;
		}
		if (bad)
			stream_bad_row(s);
		s->rows_in_batch = false;
		if (!stream_next_batch(s, &data, &len, &nrows))
			return false;
		hd_batch_reader_init(&s->rows_in, data, len);
		s->rows_in_batch = true;
	}
}

/* The current row's next field, in place: NULL for SQL NULL. */
static inline const uint8_t *
stream_next_field(HdStream *s, int32_t *len)
{
	const uint8_t *field;

	if (!hd_batch_next_field(&s->rows_in, &field, len))
		stream_bad_row(s);
	return field;
}

bool
hd_stream_next_row(HdStream *s, int nfields, const uint8 **data, int32 *len)
{
	if (!stream_next_row_start(s, nfields))
		return false;
	for (int i = 0; i < nfields; i++)
		data[i] = stream_next_field(s, &len[i]);
	return true;
}

bool
hd_stream_next_text_row(HdStream *s, char **fields, int nfields)
{
	if (!stream_next_row_start(s, nfields))
		return false;
	for (int i = 0; i < nfields; i++)
	{
		int32_t		flen;
		const uint8_t *f = stream_next_field(s, &flen);

		fields[i] = f == NULL ? NULL : pnstrdup((const char *) f, flen);
	}
	return true;
}

bool
hd_stream_next_batch(HdStream *s, const uint8 **data, size_t *len, uint32 *nrows)
{
	Assert(!s->rows_in_batch);
	return stream_next_batch(s, data, len, nrows);
}

void
hd_stream_close(HdStream *stream)
{
	/* the reset callback releases the query */
	MemoryContextDelete(stream->cxt);
}
