/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/copy_binary.c — reading COPY's binary format with only the
 * dimension columns decoded.
 *
 * PostgreSQL's reader of binary COPY (BeginCopyFrom, NextCopyFrom) checks
 * the stream: the signature and header, each row's field count against the
 * columns, each field's length (-1 is NULL; below that, or past the end of
 * the data, the stream is broken: 22P04; at most MaxAllocSize), the trailer
 * and the end of the data, from a client, file or program alike.  Then it
 * calls each column's receive function on the field's bytes.  Here every
 * column's receive function is replaced by keep_field, which appends the
 * field as it came (its length, or -1, and its bytes) to the row being
 * built, a tuple of binary COPY; for a column to decode it then calls the
 * column's own receive function, whose errors come with COPY's context (the
 * row, the column).  The fields are copied once and never re-encoded; the
 * data nodes' COPY (FORMAT binary) decodes them.
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_type.h"
#include "commands/copyfrom_internal.h"
#include "utils/lsyscache.h"

#include "ingest/copy_binary.h"

/* A column's receive function while the reader has it. */
typedef struct KeptField
{
	StringInfo	tuple;			/* the row being built */
	bool		decode;
	FmgrInfo	recv;			/* the column's own, when decoded */
} KeptField;

struct HdBinaryReader
{
	CopyFromState cstate;
	StringInfo	tuple;
	uint16		nfields;		/* network order */
};

bool
hd_copy_binary_forwardable(Oid type)
{
	Oid			elem;

	/* OIDs of types that are not built in differ between servers */
	if (type >= FirstUnpinnedObjectId)
		return false;
	/* an array's binary form names its element type */
	elem = get_element_type(type);
	if (OidIsValid(elem))
		type = elem;
	/* xml_recv parses under the session's xmloption */
	return get_typtype(type) == TYPTYPE_BASE && type != XMLOID;
}

/*
 * The receive function of every column read (called as ReceiveFunctionCall
 * calls a non-strict one, NULL fields included): keeps the field, and decodes it when
 * the column is to be.
 */
static Datum
keep_field(PG_FUNCTION_ARGS)
{
	KeptField  *kept = fcinfo->flinfo->fn_extra;
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	uint32		len;

	/* a NULL field comes as a null pointer (not a null argument) */
	if (buf == NULL)
	{
		len = pg_hton32((uint32) -1);
		appendBinaryStringInfo(kept->tuple, (char *) &len, 4);
		PG_RETURN_NULL();
	}
	len = pg_hton32((uint32) (buf->len - buf->cursor));
	appendBinaryStringInfo(kept->tuple, (char *) &len, 4);
	appendBinaryStringInfo(kept->tuple, buf->data + buf->cursor,
						   buf->len - buf->cursor);
	if (kept->decode)
		return ReceiveFunctionCall(&kept->recv, buf, PG_GETARG_OID(1),
								   PG_GETARG_INT32(2));
	buf->cursor = buf->len;
	return (Datum) 0;
}

HdBinaryReader *
hd_copy_binary_begin(CopyFromState cstate, const bool *decode, StringInfo tuple)
{
	HdBinaryReader *reader = palloc(sizeof(HdBinaryReader));
	ListCell   *lc;

	Assert(cstate->opts.binary);
	/* no column left out may need a value computed here */
	Assert(cstate->num_defaults == 0);
	reader->cstate = cstate;
	reader->tuple = tuple;
	reader->nfields = pg_hton16((uint16) list_length(cstate->attnumlist));
	foreach(lc, cstate->attnumlist)
	{
		FmgrInfo   *flinfo = &cstate->in_functions[lfirst_int(lc) - 1];
		KeptField  *kept = palloc(sizeof(KeptField));

		kept->tuple = tuple;
		kept->decode = decode[lfirst_int(lc) - 1];
		kept->recv = *flinfo;
		MemSet(flinfo, 0, sizeof(FmgrInfo));
		flinfo->fn_addr = keep_field;
		flinfo->fn_oid = InvalidOid;
		flinfo->fn_nargs = 3;
		flinfo->fn_strict = false;	/* NULL fields are kept too */
		flinfo->fn_extra = kept;
		flinfo->fn_mcxt = CurrentMemoryContext;
	}
	return reader;
}

bool
hd_copy_binary_next(HdBinaryReader *reader, Datum *values, bool *isnull)
{
	/* NextCopyFrom refuses a row whose field count is not this one */
	resetStringInfo(reader->tuple);
	appendBinaryStringInfo(reader->tuple, (char *) &reader->nfields, 2);
	return NextCopyFrom(reader->cstate, NULL, values, isnull);
}
