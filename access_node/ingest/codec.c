/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/codec.c — a column's values encoded for a data node.
 *
 * Built-in scalar types travel as their own binary format; any other type
 * (enums, arrays, composites, user types, whose OIDs differ between nodes)
 * travels as the text of its output.  Fixed-width types and text are
 * written without a function call (remote/typeio.c).
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ingest/codec.h"
#include "remote/typeio.h"

bool
hd_codec_binary_ok(Oid typid)
{
	Oid			base = getBaseType(typid);

	if (pg_get_client_encoding() != GetDatabaseEncoding())
		return false;
	return base < FirstUnpinnedObjectId &&
		get_typtype(base) == TYPTYPE_BASE &&
		!type_is_array(base) &&
		OidIsValid(get_array_type(base));
}

/*
 * The fast codec of built-in types whose send function writes the Datum's
 * bytes in network order (remote/typeio.c) or a text's bytes (textsend,
 * varcharsend, bpcharsend: hd_codec_binary_ok has checked that no
 * conversion to a client encoding applies).  Others use typsend.
 */
static HdCodecKind
binary_codec(Oid typid, int16 *typlen)
{
	*typlen = hd_fixed_binary_len(typid);
	if (*typlen > 0)
		return HD_CODEC_FIXED;
	if (typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID)
		return HD_CODEC_TEXT;
	return HD_CODEC_SEND;
}

void
hd_codec_init(HdColumnCodec *codec, Form_pg_attribute att)
{
	Oid			func;
	bool		varlena;

	codec->attnum = att->attnum;
	if (hd_codec_binary_ok(att->atttypid))
	{
		codec->elemtype = getBaseType(att->atttypid);
		codec->kind = binary_codec(codec->elemtype, &codec->typlen);
		getTypeBinaryOutputInfo(codec->elemtype, &func, &varlena);
	}
	else
	{
		codec->kind = HD_CODEC_OUTPUT;
		codec->elemtype = TEXTOID;
		getTypeOutputInfo(att->atttypid, &func, &varlena);
	}
	fmgr_info(func, &codec->func);
}

/* Appends a value: its length, then its bytes. */
static void
append_element(StringInfo buf, const void *data, uint32 len)
{
	uint32		be = pg_hton32(len);

	appendBinaryStringInfo(buf, (char *) &be, 4);
	appendBinaryStringInfo(buf, data, len);
}

void
hd_codec_encode(HdColumnCodec *codec, StringInfo buf, Datum value)
{
	switch (codec->kind)
	{
		case HD_CODEC_FIXED:
			{
				uint32		be = pg_hton32((uint32) codec->typlen);

				appendBinaryStringInfo(buf, (char *) &be, 4);
				hd_fixed_binary_append(buf, value, codec->typlen);
			}
			break;
		case HD_CODEC_TEXT:
			{
				text	   *t = DatumGetTextPP(value);

				append_element(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		case HD_CODEC_SEND:
			{
				bytea	   *b = SendFunctionCall(&codec->func, value);

				append_element(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
			}
			break;
		case HD_CODEC_OUTPUT:
			{
				char	   *s = OutputFunctionCall(&codec->func, value);

				append_element(buf, s, strlen(s));
			}
			break;
	}
}

void
hd_codec_encode_null(StringInfo buf)
{
	uint32		len = pg_hton32((uint32) -1);

	appendBinaryStringInfo(buf, (char *) &len, 4);
}
