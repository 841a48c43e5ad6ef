/* SPDX-License-Identifier: PostgreSQL */
/*
 * wire.h — hyperdist protocol v1: envelope codec, validation and the row
 * batch layout, shared by the access node and the agent.
 *
 * The codec trusts nothing: hd_wire_decode() bounds the frame size, lets
 * protobuf-c reject malformed encodings, then checks the semantics that
 * protobuf cannot (a body is present, required fields are there, SQL text
 * holds no NUL, SQLSTATEs look like SQLSTATEs, row batches parse exactly).
 * No PostgreSQL backend headers here: this file is linked into both sides.
 */
#ifndef HYPERDIST_WIRE_H
#define HYPERDIST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hyperdist.pb-c.h"
#include "protocol.h"

typedef Hyperdist__Envelope HdEnvelope;

typedef enum HdWireStatus
{
	HD_WIRE_OK = 0,
	HD_WIRE_EMPTY,				/* zero-length frame */
	HD_WIRE_TOO_LARGE,			/* frame above the caller's limit */
	HD_WIRE_GARBAGE,			/* protobuf-c could not unpack it */
	HD_WIRE_INVALID				/* unpacked, but breaks a protocol rule */
} HdWireStatus;

/*
 * Decodes one frame.  On HD_WIRE_OK *out holds the envelope (free it with
 * hd_wire_free using the same allocator).  Otherwise *out is NULL and, when
 * why is not NULL, *why points to a static description of the problem.
 * alloc may be NULL for malloc.
 */
extern HdWireStatus hd_wire_decode(const void *data, size_t len, size_t max_len,
								   ProtobufCAllocator *alloc, HdEnvelope **out,
								   const char **why);
extern void hd_wire_free(HdEnvelope *env, ProtobufCAllocator *alloc);

/* Size of the encoding of env, then encode into buf (which must be that big). */
extern size_t hd_wire_size(const HdEnvelope *env);
extern size_t hd_wire_encode(const HdEnvelope *env, void *buf);

/* Semantic check of an unpacked envelope; NULL when valid, else the reason. */
extern const char *hd_wire_check(const HdEnvelope *env);

/*
 * What a frame's top-level fields say without unpacking it: the session
 * and seq (0 when absent) and the body (NOT_SET when none).  False when the
 * fields do not parse; hd_wire_decode then says why.  Lets the agent refuse
 * an oversized control frame, and answer an invalid one with its ids, at
 * the cost of reading a few tags.
 */
typedef struct HdWirePeek
{
	uint64_t	session;
	uint32_t	seq;
	Hyperdist__Envelope__BodyCase body;
} HdWirePeek;

extern bool hd_wire_peek(const void *data, size_t len, HdWirePeek *out);

extern const char *hd_wire_status_name(HdWireStatus status);
extern const char *hd_wire_body_name(Hyperdist__Envelope__BodyCase body);
extern bool hd_wire_is_request(Hyperdist__Envelope__BodyCase body);

/* True when s is a five-character SQLSTATE ([0-9A-Z]{5}). */
extern bool hd_sqlstate_valid(const char *s);

/* ---- row batches: PostgreSQL binary COPY tuple layout ------------------ */

/* A growable byte buffer (malloc'ed) for building batches. */
typedef struct HdBuf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} HdBuf;

extern void hd_buf_init(HdBuf *buf);
extern void hd_buf_reset(HdBuf *buf);	/* len = 0, keeps the memory */
extern void hd_buf_free(HdBuf *buf);
/* Return false only when memory runs out (the buffer is then unchanged). */
extern bool hd_buf_reserve(HdBuf *buf, size_t extra);
extern bool hd_buf_append(HdBuf *buf, const void *data, size_t len);

/* Appends a tuple header (field count) and one field (NULL when data is NULL). */
extern bool hd_batch_put_row_header(HdBuf *buf, uint16_t nfields);
extern bool hd_batch_put_field(HdBuf *buf, const void *data, int32_t len);

/* Reads tuples back; every length is checked against the remaining input. */
typedef struct HdBatchReader
{
	const uint8_t *pos;
	const uint8_t *end;
} HdBatchReader;

/* hd_batch_reader_init, hd_batch_next_row, hd_batch_next_field: inline, below. */

/*
 * Checks that data holds exactly nrows tuples of ncols fields each (ncols 0:
 * any count, but the same in every row).  NULL when valid, else the reason.
 */
extern const char *hd_batch_check(const void *data, size_t len, uint32_t nrows,
								  uint16_t ncols);

/* Big-endian helpers, shared so neither side hand-rolls them. */
static inline void
hd_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static inline void
hd_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static inline uint16_t
hd_get_be16(const uint8_t *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline uint32_t
hd_get_be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

/*
 * The batch reader, inline: a wide result calls hd_batch_next_field once
 * per value (a call per value was 8% of the access node's time decoding
 * rows).
 */
static inline void
hd_batch_reader_init(HdBatchReader *r, const void *data, size_t len)
{
	r->pos = data;
	/* protobuf-c leaves empty bytes NULL, and NULL + 0 is undefined */
	r->end = len > 0 ? r->pos + len : r->pos;
}

/* Next tuple's field count; false at the end or on truncation (see *bad). */
static inline bool
hd_batch_next_row(HdBatchReader *r, uint16_t *nfields, bool *bad)
{
	*bad = false;
	if (r->pos == r->end)
		return false;
	if (r->end - r->pos < 2)
	{
		*bad = true;
		return false;
	}
	*nfields = hd_get_be16(r->pos);
	r->pos += 2;
	return true;
}

/* Next field into *data and *len (*data NULL for SQL NULL); false on truncation. */
static inline bool
hd_batch_next_field(HdBatchReader *r, const uint8_t **data, int32_t *len)
{
	int32_t		n;

	if (r->end - r->pos < 4)
		return false;
	n = (int32_t) hd_get_be32(r->pos);
	r->pos += 4;
	if (n == -1)
	{
		*data = NULL;
		*len = -1;
		return true;
	}
	if (n < 0 || (size_t) n > (size_t) (r->end - r->pos))
		return false;
	*data = r->pos;
	*len = n;
	r->pos += n;
	return true;
}

#endif							/* HYPERDIST_WIRE_H */
