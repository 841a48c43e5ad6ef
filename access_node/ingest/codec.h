/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/codec.h — how a column's values travel to a data node, encoded
 * once per row: as an element of a binary array or a field of binary COPY
 * (both are a length, then the bytes).
 */
#ifndef HYPERDIST_INGEST_CODEC_H
#define HYPERDIST_INGEST_CODEC_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

/* How a column's values are written, fastest first. */
typedef enum HdCodecKind
{
	HD_CODEC_FIXED,				/* a by-value type whose send format is its
								 * bytes in network order */
	HD_CODEC_TEXT,				/* text-like: the bytes, as textsend sends
								 * them when no encoding conversion applies */
	HD_CODEC_SEND,				/* typsend */
	HD_CODEC_OUTPUT				/* typoutput, sent as text */
} HdCodecKind;

typedef struct HdColumnCodec
{
	AttrNumber	attnum;
	HdCodecKind kind;
	int16		typlen;			/* HD_CODEC_FIXED: 1, 2, 4 or 8 */
	Oid			elemtype;		/* type on the wire */
	FmgrInfo	func;			/* typsend or typoutput */
} HdColumnCodec;

/*
 * Whether values of typid can travel in binary: built-in scalar types,
 * whose OIDs and formats are the same on every node, and only when send
 * functions do not convert text to another client encoding.
 */
extern bool hd_codec_binary_ok(Oid typid);

/* The codec of att: binary when hd_codec_binary_ok, else text. */
extern void hd_codec_init(HdColumnCodec *codec, Form_pg_attribute att);

/* Appends value (not NULL) as its length and bytes. */
extern void hd_codec_encode(HdColumnCodec *codec, StringInfo buf, Datum value);

/* Appends SQL NULL: the length -1. */
extern void hd_codec_encode_null(StringInfo buf);

#endif							/* HYPERDIST_INGEST_CODEC_H */
