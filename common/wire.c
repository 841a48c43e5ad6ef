/* SPDX-License-Identifier: PostgreSQL */
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

#define STR2(x) #x
#define STR(x) STR2(x)

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

/*
 * A Hello opens a connection for the names and password it carries, so
 * they are bounded like PostgreSQL's own (NAMEDATALEN) and a password is
 * refused before any hashing happens.
 */
static const char *
check_hello(const Hyperdist__Hello *h)
{
	if (!h->has_major)
		return "hello lacks a protocol version";
	if (h->dbname == NULL || h->dbname[0] == '\0' ||
		h->user == NULL || h->user[0] == '\0')
		return "hello lacks a database or user name";
	if (strlen(h->dbname) > HD_MAX_NAME_LEN || strlen(h->user) > HD_MAX_NAME_LEN)
		return "hello's database or user name is longer than "
			STR(HD_MAX_NAME_LEN) " bytes";
	if ((h->application_name && strlen(h->application_name) > HD_MAX_NAME_LEN) ||
		(h->origin && strlen(h->origin) > HD_MAX_NAME_LEN))
		return "hello's application name or origin is longer than "
			STR(HD_MAX_NAME_LEN) " bytes";
	if (h->password && strlen(h->password) > HD_MAX_PASSWORD_LEN)
		return "hello's password is longer than " STR(HD_MAX_PASSWORD_LEN) " bytes";
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

/*
 * A whole batch must parse; a fragment is a piece of one tuple, which the
 * receiver checks the same way once it has joined the pieces.
 */
static const char *
check_row_batch(const Hyperdist__RowBatch *batch)
{
	if (!batch->has_nrows || !batch->has_data)
		return "row batch lacks its row count or data";
	if (!(batch->has_fragment && batch->fragment))
		return hd_batch_check(batch->data.data, batch->data.len,
							  batch->nrows, 0);
	if (batch->nrows > 1)
		return "row fragment claims more than one row";
	if (batch->data.len == 0)
		return "row fragment is empty";
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
			return check_hello(env->hello);
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
			return check_row_batch(env->row_batch);
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

/* A base-128 varint (at most 10 bytes); false when truncated or overlong. */
static bool
read_varint(const uint8_t **p, const uint8_t *end, uint64_t *value)
{
	uint64_t	v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8_t		b;

		if (*p == end)
			return false;
		b = *(*p)++;
		v |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
		{
			*value = v;
			return true;
		}
	}
	return false;
}

/* protobuf-c numbers a oneof's cases by field: Envelope's are 10-16 and 40-46. */
static bool
is_body_field(uint64_t field)
{
	return (field >= HYPERDIST__ENVELOPE__BODY_HELLO &&
			field <= HYPERDIST__ENVELOPE__BODY_CLOSE) ||
		(field >= HYPERDIST__ENVELOPE__BODY_HELLO_OK &&
		 field <= HYPERDIST__ENVELOPE__BODY_NOTICE);
}

bool
hd_wire_peek(const void *data, size_t len, HdWirePeek *out)
{
	const uint8_t *p = data;
	const uint8_t *end = p + len;

	out->session = 0;
	out->seq = 0;
	out->body = HYPERDIST__ENVELOPE__BODY__NOT_SET;
	while (p < end)
	{
		uint64_t	tag;
		uint64_t	value;
		uint64_t	field;

		if (!read_varint(&p, end, &tag))
			return false;
		field = tag >> 3;
		switch (tag & 7)
		{
			case 0:				/* varint */
				if (!read_varint(&p, end, &value))
					return false;
				if (field == 1)
					out->session = value;
				else if (field == 2)
					out->seq = (uint32_t) value;
				break;
			case 1:				/* 64-bit */
				if (end - p < 8)
					return false;
				p += 8;
				break;
			case 2:				/* length-delimited: a message or bytes */
				if (!read_varint(&p, end, &value) || value > (uint64_t) (end - p))
					return false;
				p += value;
				/* as in protobuf, the last member of a oneof wins */
				if (is_body_field(field))
					out->body = (Hyperdist__Envelope__BodyCase) field;
				break;
			case 5:				/* 32-bit */
				if (end - p < 4)
					return false;
				p += 4;
				break;
			default:			/* groups: not in this protocol */
				return false;
		}
	}
	return true;
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
