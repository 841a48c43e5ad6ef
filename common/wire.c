/*
 * wire.c — hyperdist protocol v1 codec and validation.
 *
 * protobuf-c accepts most garbage that happens to be well-formed protobuf,
 * and it does not know which fields a message needs.  So decoding is two
 * steps: unpack (bounded by the caller's frame limit), then hd_wire_check(),
 * which enforces the rules protobuf cannot express.  Both sides call
 * hd_wire_decode, so a peer's malformed frame is always caught the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "wire.h"

HdWireStatus
hd_wire_decode(const void *data, size_t len, size_t max_len,
			   ProtobufCAllocator *alloc, HdEnvelope **out, const char **why)
{
	HdEnvelope *env;
	const char *problem;

	*out = NULL;
	if (len == 0)
	{
		if (why)
			*why = "empty frame";
		return HD_WIRE_EMPTY;
	}
	if (len > max_len)
	{
		if (why)
			*why = "frame exceeds the size limit";
		return HD_WIRE_TOO_LARGE;
	}

	env = hyperdist__envelope__unpack(alloc, len, data);
	if (env == NULL)
	{
		if (why)
			*why = "frame is not a valid protocol message";
		return HD_WIRE_GARBAGE;
	}

	problem = hd_wire_check(env);
	if (problem != NULL)
	{
		hyperdist__envelope__free_unpacked(env, alloc);
		if (why)
			*why = problem;
		return HD_WIRE_INVALID;
	}

	*out = env;
	if (why)
		*why = NULL;
	return HD_WIRE_OK;
}

void
hd_wire_free(HdEnvelope *env, ProtobufCAllocator *alloc)
{
	if (env != NULL)
		hyperdist__envelope__free_unpacked(env, alloc);
}

size_t
hd_wire_size(const HdEnvelope *env)
{
	return hyperdist__envelope__get_packed_size(env);
}

size_t
hd_wire_encode(const HdEnvelope *env, void *buf)
{
	return hyperdist__envelope__pack(env, buf);
}

bool
hd_sqlstate_valid(const char *s)
{
	if (s == NULL || strlen(s) != 5)
		return false;
	for (int i = 0; i < 5; i++)
	{
		char		c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

/* SQL travels as bytes; libpq wants a C string, so an embedded NUL would
 * silently cut the statement short.  Refuse it instead. */
static const char *
check_sql(protobuf_c_boolean has_sql, const ProtobufCBinaryData *sql)
{
	if (!has_sql || sql->len == 0)
		return "request carries no SQL";
	if (memchr(sql->data, '\0', sql->len) != NULL)
		return "SQL text contains a NUL byte";
	return NULL;
}

static const char *
check_params(size_t n, Hyperdist__Param **params)
{
	if (n > 65535)
		return "too many parameters";
	for (size_t i = 0; i < n; i++)
	{
		const Hyperdist__Param *p = params[i];

		/* an empty value may come as NULL, which memchr must not get */
		if (p->has_value && !(p->has_binary && p->binary) && p->value.len > 0 &&
			memchr(p->value.data, '\0', p->value.len) != NULL)
			return "text parameter contains a NUL byte";
	}
	return NULL;
}

static const char *
check_row_description(const Hyperdist__RowDescription *rd)
{
	if (rd->n_columns > HD_MAX_COLUMNS)
		return "row description has too many columns";
	for (size_t i = 0; i < rd->n_columns; i++)
	{
		if (rd->columns[i]->name == NULL || !rd->columns[i]->has_type_oid)
			return "row description column lacks a name or type";
	}
	return NULL;
}

static const char *
check_error(const Hyperdist__Error *err)
{
	if (!hd_sqlstate_valid(err->sqlstate))
		return "error or notice carries an invalid SQLSTATE";
	if (err->message == NULL)
		return "error or notice carries no message";
	return NULL;
}

const char *
hd_wire_check(const HdEnvelope *env)
{
	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY__NOT_SET:
			return "message has no body";
		case HYPERDIST__ENVELOPE__BODY_HELLO:
			if (!env->hello->has_major)
				return "hello lacks a protocol version";
			if (env->hello->dbname == NULL || env->hello->dbname[0] == '\0' ||
				env->hello->user == NULL || env->hello->user[0] == '\0')
				return "hello lacks a database or user name";
			return NULL;
		case HYPERDIST__ENVELOPE__BODY_EXEC:
			return check_sql(env->exec->has_sql, &env->exec->sql) ?:
				check_params(env->exec->n_params, env->exec->params);
		case HYPERDIST__ENVELOPE__BODY_QUERY:
			if (env->query->has_copy && env->query->copy &&
				(env->query->n_params > 0 ||
				 !(env->query->has_binary && env->query->binary)))
				return "a query run as COPY takes no parameters and returns binary rows";
			return check_sql(env->query->has_sql, &env->query->sql) ?:
				check_params(env->query->n_params, env->query->params);
		case HYPERDIST__ENVELOPE__BODY_CREDIT:
			if (!env->credit->has_batches || env->credit->batches == 0)
				return "credit grants nothing";
			return NULL;
		case HYPERDIST__ENVELOPE__BODY_HELLO_OK:
			if (!env->hello_ok->has_major || !env->hello_ok->has_session ||
				env->hello_ok->session == 0)
				return "hello reply lacks a version or session";
			return NULL;
		case HYPERDIST__ENVELOPE__BODY_ERROR:
			return check_error(env->error);
		case HYPERDIST__ENVELOPE__BODY_NOTICE:
			return check_error(env->notice);
		case HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION:
			return check_row_description(env->row_description);
		case HYPERDIST__ENVELOPE__BODY_ROW_BATCH:
			if (!env->row_batch->has_nrows || !env->row_batch->has_data)
				return "row batch lacks its row count or data";
			return hd_batch_check(env->row_batch->data.data,
								  env->row_batch->data.len,
								  env->row_batch->nrows, 0);
		case HYPERDIST__ENVELOPE__BODY_CANCEL:
		case HYPERDIST__ENVELOPE__BODY_PING:
		case HYPERDIST__ENVELOPE__BODY_CLOSE:
		case HYPERDIST__ENVELOPE__BODY_DONE:
		case HYPERDIST__ENVELOPE__BODY_PONG:
			return NULL;
		default:
			/* an unknown oneof member cannot be unpacked, but be safe */
			return "message has an unknown body";
	}
}

const char *
hd_wire_status_name(HdWireStatus status)
{
	switch (status)
	{
		case HD_WIRE_OK:
			return "ok";
		case HD_WIRE_EMPTY:
			return "empty frame";
		case HD_WIRE_TOO_LARGE:
			return "frame too large";
		case HD_WIRE_GARBAGE:
			return "undecodable frame";
		case HD_WIRE_INVALID:
			return "invalid message";
	}
	return "unknown status";
}

const char *
hd_wire_body_name(Hyperdist__Envelope__BodyCase body)
{
	switch (body)
	{
		case HYPERDIST__ENVELOPE__BODY__NOT_SET:
			return "none";
		case HYPERDIST__ENVELOPE__BODY_HELLO:
			return "Hello";
		case HYPERDIST__ENVELOPE__BODY_EXEC:
			return "Exec";
		case HYPERDIST__ENVELOPE__BODY_QUERY:
			return "Query";
		case HYPERDIST__ENVELOPE__BODY_CREDIT:
			return "Credit";
		case HYPERDIST__ENVELOPE__BODY_CANCEL:
			return "Cancel";
		case HYPERDIST__ENVELOPE__BODY_PING:
			return "Ping";
		case HYPERDIST__ENVELOPE__BODY_CLOSE:
			return "Close";
		case HYPERDIST__ENVELOPE__BODY_HELLO_OK:
			return "HelloOk";
		case HYPERDIST__ENVELOPE__BODY_ERROR:
			return "Error";
		case HYPERDIST__ENVELOPE__BODY_ROW_DESCRIPTION:
			return "RowDescription";
		case HYPERDIST__ENVELOPE__BODY_ROW_BATCH:
			return "RowBatch";
		case HYPERDIST__ENVELOPE__BODY_DONE:
			return "Done";
		case HYPERDIST__ENVELOPE__BODY_PONG:
			return "Pong";
		case HYPERDIST__ENVELOPE__BODY_NOTICE:
			return "Notice";
		default:
			return "unknown";
	}
}

bool
hd_wire_is_request(Hyperdist__Envelope__BodyCase body)
{
	switch (body)
	{
		case HYPERDIST__ENVELOPE__BODY_HELLO:
		case HYPERDIST__ENVELOPE__BODY_EXEC:
		case HYPERDIST__ENVELOPE__BODY_QUERY:
		case HYPERDIST__ENVELOPE__BODY_CREDIT:
		case HYPERDIST__ENVELOPE__BODY_CANCEL:
		case HYPERDIST__ENVELOPE__BODY_PING:
		case HYPERDIST__ENVELOPE__BODY_CLOSE:
			return true;
		default:
			return false;
	}
}

/* ---- growable buffer ---------------------------------------------------- */

void
hd_buf_init(HdBuf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void
hd_buf_reset(HdBuf *buf)
{
	buf->len = 0;
}

void
hd_buf_free(HdBuf *buf)
{
	free(buf->data);
	hd_buf_init(buf);
}

bool
hd_buf_reserve(HdBuf *buf, size_t extra)
{
	size_t		need;
	size_t		cap;
	uint8_t    *data;

	if (extra > SIZE_MAX - buf->len)
		return false;
	need = buf->len + extra;
	if (need <= buf->cap)
		return true;
	cap = buf->cap ? buf->cap : 1024;
	while (cap < need)
		cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
	data = realloc(buf->data, cap);
	if (data == NULL)
		return false;
	buf->data = data;
	buf->cap = cap;
	return true;
}

bool
hd_buf_append(HdBuf *buf, const void *data, size_t len)
{
	if (!hd_buf_reserve(buf, len))
		return false;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	return true;
}

/* ---- row batches -------------------------------------------------------- */

bool
hd_batch_put_row_header(HdBuf *buf, uint16_t nfields)
{
	if (!hd_buf_reserve(buf, 2))
		return false;
	hd_put_be16(buf->data + buf->len, nfields);
	buf->len += 2;
	return true;
}

bool
hd_batch_put_field(HdBuf *buf, const void *data, int32_t len)
{
	if (data == NULL)
		len = -1;
	else if (len < 0)
		return false;
	if (!hd_buf_reserve(buf, 4 + (len > 0 ? (size_t) len : 0)))
		return false;
	hd_put_be32(buf->data + buf->len, (uint32_t) len);
	buf->len += 4;
	if (len > 0)
	{
		memcpy(buf->data + buf->len, data, (size_t) len);
		buf->len += (size_t) len;
	}
	return true;
}

const char *
hd_batch_check(const void *data, size_t len, uint32_t nrows, uint16_t ncols)
{
	HdBatchReader r;
	uint32_t	rows = 0;
	uint16_t	nfields;
	bool		bad;
	bool		first = true;

	hd_batch_reader_init(&r, data, len);
	while (hd_batch_next_row(&r, &nfields, &bad))
	{
		if (first && ncols == 0)
			ncols = nfields;
		first = false;
		if (nfields != ncols)
			return "row batch has a row with the wrong number of fields";
		for (uint16_t i = 0; i < nfields; i++)
		{
			const uint8_t *d;
			int32_t		n;

			if (!hd_batch_next_field(&r, &d, &n))
				return "row batch is truncated inside a field";
		}
		if (++rows > nrows)
			return "row batch holds more rows than announced";
	}
	if (bad)
		return "row batch is truncated inside a row header";
	if (rows != nrows)
		return "row batch holds fewer rows than announced";
	return NULL;
}
