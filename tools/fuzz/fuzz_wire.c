/* SPDX-License-Identifier: PostgreSQL */
/*
 * fuzz_wire.c — libFuzzer target for the protocol codec of common/wire.c.
 *
 * Every input is one frame as a peer could send it.  The target checks
 * that:
 *   - hd_wire_decode gives the same verdict under both frame limits, says
 *     why when it refuses, and refuses a frame one byte over its limit;
 *   - a decoded envelope passes hd_wire_check, encodes to the size
 *     hd_wire_size announces, and decodes again to an envelope that
 *     encodes to the same bytes;
 *   - hd_wire_peek finds the session, seq and body that decoding finds,
 *     and reads every frame that unpacks;
 *   - a RowBatch body passes hd_batch_check, and walking it with the
 *     inline reader stays inside the data, finds the announced rows, and
 *     writing the rows back with the row header and field writers gives
 *     the same bytes; a fragment is a non-empty piece of at most one row;
 *   - the whole input read as a row batch gets from hd_batch_check exactly
 *     the verdict that walking it with the reader gives.
 * A broken expectation aborts with a message, which libFuzzer reports as
 * a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define EXPECT(cond) \
	do { if (!(cond)) fail(#cond, __LINE__); } while (0)

static void
fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_wire.c:%d: expectation failed: %s\n", line, what);
	abort();
}

/* An allocator that counts, to see hd_wire_free use the one it is given. */
static long live_allocations;

static void *
counting_alloc(void *data, size_t size)
{
	live_allocations++;
	return malloc(size);
}

static void
counting_free(void *data, void *ptr)
{
	if (ptr != NULL)
		live_allocations--;
	free(ptr);
}

static ProtobufCAllocator counting = {counting_alloc, counting_free, NULL};

/*
 * Walks data as a row batch with the inline reader.  Returns the number of
 * rows, or -1 when the reader stops on truncated input; *uniform says
 * whether every row has the same field count.  Every row is written again
 * into out, when out is not NULL.
 */
static long
walk_batch(const uint8_t *data, size_t len, bool *uniform, HdBuf *out)
{
	HdBatchReader r;
	uint16_t	nfields;
	uint16_t	first = 0;
	bool		bad;
	long		rows = 0;

	*uniform = true;
	hd_batch_reader_init(&r, data, len);
	while (hd_batch_next_row(&r, &nfields, &bad))
	{
		if (rows == 0)
			first = nfields;
		else if (nfields != first)
			*uniform = false;
		if (out)
			EXPECT(hd_batch_put_row_header(out, nfields));
		for (uint16_t i = 0; i < nfields; i++)
		{
			const uint8_t *field;
			int32_t		flen;

			if (!hd_batch_next_field(&r, &field, &flen))
				return -1;
			if (field == NULL)
				EXPECT(flen == -1);
			else
				EXPECT(flen >= 0 && field >= data &&
					   (size_t) flen <= len - (size_t) (field - data));
			if (out)
				EXPECT(hd_batch_put_field(out, field, flen));
		}
		EXPECT(r.pos <= r.end);
		rows++;
	}
	return bad ? -1 : rows;
}

/* The reader and hd_batch_check must agree on any bytes. */
static void
check_raw_batch(const uint8_t *data, size_t len)
{
	bool		uniform;
	long		rows = walk_batch(data, len, &uniform, NULL);
	const char *why;

	if (rows < 0 || rows > UINT32_MAX)
	{
		/* truncated: no row count makes it valid */
		EXPECT(hd_batch_check(data, len, UINT32_MAX, 0) != NULL);
		return;
	}
	why = hd_batch_check(data, len, (uint32_t) rows, 0);
	EXPECT((why == NULL) == uniform);
	if (why == NULL && rows > 0)
	{
		EXPECT(hd_batch_check(data, len, (uint32_t) rows + 1, 0) != NULL);
		EXPECT(hd_batch_check(data, len, (uint32_t) rows - 1, 0) != NULL);
	}
}

/*
 * A valid RowBatch: the reader finds its rows, and writing them back is
 * exact.  A fragment is a non-empty piece of a row, counting at most it.
 */
static void
check_row_batch(const Hyperdist__RowBatch *batch)
{
	HdBuf		again;
	bool		uniform;
	long		rows;

	if (batch->has_fragment && batch->fragment)
	{
		EXPECT(batch->nrows <= 1 && batch->data.len > 0);
		return;
	}
	EXPECT(hd_batch_check(batch->data.data, batch->data.len, batch->nrows, 0) == NULL);
	hd_buf_init(&again);
	rows = walk_batch(batch->data.data, batch->data.len, &uniform, &again);
	EXPECT(rows == (long) batch->nrows && uniform);
	EXPECT(again.len == batch->data.len);
	EXPECT(again.len == 0 || memcmp(again.data, batch->data.data, again.len) == 0);
	hd_buf_free(&again);
}

/* Whether m or a message inside it kept fields unknown to proto/. */
static bool
has_unknown_fields(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields > 0)
		return true;
	for (unsigned i = 0; i < d->n_fields; i++)
	{
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *member = (const char *) m + f->offset;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
		{
			size_t		n = *(const size_t *) ((const char *) m + f->quantifier_offset);
			ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *) member;

			for (size_t j = 0; j < n; j++)
				if (has_unknown_fields(items[j]))
					return true;
		}
		else
		{
			const ProtobufCMessage *sub = *(ProtobufCMessage *const *) member;

			/* a oneof's other members share the pointer: check the set one */
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
				*(const uint32_t *) ((const char *) m + f->quantifier_offset) != f->id)
				continue;
			if (sub && has_unknown_fields(sub))
				return true;
		}
	}
	return false;
}

/*
 * Encodes env; decoding that must succeed and encode to the same bytes.
 * Not for unknown fields: protobuf-c keeps a field numbered 0 whose key is
 * encoded in two bytes (0x82 0x00) but refuses the one-byte key it writes
 * back (0x02), so such an envelope does not survive re-encoding.  Nothing
 * re-encodes a received envelope, so only the size is checked then.
 */
static void
check_reencode(const HdEnvelope *env)
{
	size_t		size = hd_wire_size(env);
	uint8_t    *first = malloc(size ? size : 1);
	uint8_t    *second;
	HdEnvelope *again;
	const char *why;

	EXPECT(hd_wire_encode(env, first) == size);
	EXPECT(size > 0);
	if (has_unknown_fields(&env->base))
	{
		free(first);
		return;
	}
	EXPECT(hd_wire_decode(first, size, HD_MAX_REQUEST_FRAME, NULL, &again, &why) == HD_WIRE_OK);
	EXPECT(again->body_case == env->body_case);
	EXPECT(hd_wire_size(again) == size);
	second = malloc(size);
	EXPECT(hd_wire_encode(again, second) == size);
	EXPECT(memcmp(first, second, size) == 0);
	hd_wire_free(again, NULL);
	free(second);
	free(first);
}

/*
 * hd_wire_peek reads what unpacking reads, without unpacking: what it finds
 * in a frame that decodes is what decoding finds; a frame it cannot read
 * does not unpack; a frame that unpacks but breaks a rule it can read (the
 * agent echoes its ids).
 */
static void
check_peek(const uint8_t *data, size_t size, HdWireStatus status, const HdEnvelope *env)
{
	HdWirePeek	peek;
	bool		peeked = hd_wire_peek(data, size, &peek);

	if (!peeked)
		EXPECT(status == HD_WIRE_GARBAGE);
	if (status == HD_WIRE_INVALID || status == HD_WIRE_EMPTY)
		EXPECT(peeked);
	if (status != HD_WIRE_OK)
		return;
	EXPECT(peeked);
	EXPECT(peek.session == env->session && peek.seq == env->seq);
	EXPECT(peek.body == env->body_case);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	HdEnvelope *env;
	HdEnvelope *reply_env;
	const char *why = NULL;
	const char *reply_why = NULL;
	HdWireStatus status;
	HdWireStatus reply_status;

	status = hd_wire_decode(data, size, HD_MAX_REQUEST_FRAME, NULL, &env, &why);
	reply_status = hd_wire_decode(data, size, HD_MAX_REPLY_FRAME, &counting,
								  &reply_env, &reply_why);

	/* Fuzz inputs are far below both limits: the verdicts agree. */
	EXPECT(status == reply_status);
	EXPECT(hd_wire_status_name(status) != NULL);
	EXPECT((status == HD_WIRE_OK) == (env != NULL));
	EXPECT((status == HD_WIRE_OK) == (reply_env != NULL));
	EXPECT((status == HD_WIRE_OK) == (why == NULL));
	EXPECT(why == reply_why || (why && reply_why && strcmp(why, reply_why) == 0));
	EXPECT((size == 0) == (status == HD_WIRE_EMPTY));
	if (size > 0)
	{
		HdEnvelope *none;

		EXPECT(hd_wire_decode(data, size, size - 1, NULL, &none, NULL) == HD_WIRE_TOO_LARGE);
		EXPECT(none == NULL);
	}

	check_peek(data, size, status, env);
	if (status == HD_WIRE_OK)
	{
		EXPECT(hd_wire_check(env) == NULL);
		EXPECT(hd_wire_body_name(env->body_case) != NULL);
		(void) hd_wire_is_request(env->body_case);
		if (env->body_case == HYPERDIST__ENVELOPE__BODY_ROW_BATCH)
			check_row_batch(env->row_batch);
		if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
			EXPECT(hd_sqlstate_valid(env->error->sqlstate));
		check_reencode(env);
	}
	hd_wire_free(env, NULL);
	hd_wire_free(reply_env, &counting);
	EXPECT(live_allocations == 0);

	check_raw_batch(data, size);
	return 0;
}
