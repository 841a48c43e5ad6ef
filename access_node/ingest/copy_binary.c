/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/copy_binary.c — reading COPY's binary format with only the
 * dimension columns decoded.
 *
 * BeginCopyFrom opens the source (the client, a file or a program), and
 * reads and checks the header: signature, flags, header extension.  The
 * rows are read here, because PostgreSQL's reader of them is static and
 * copies each field twice before its receive function sees it.  A row is
 * an int16 field count, then per field an int32 length (-1 for NULL) and
 * the bytes; the rows end with a count of -1 (the trailer) or with the
 * data.  Each row is checked as PostgreSQL's COPY checks it, with its
 * messages and SQLSTATEs: the field count must be the columns' (22P04), a
 * length below -1 or a row cut short is 22P04, a length past MaxAllocSize
 * 54000, data after the trailer 22P04.  Only the columns to decode go
 * through their receive functions (whose errors come with COPY's context,
 * the row and the column); the row is handed on as it came, a tuple of
 * binary COPY that a data node's COPY (FORMAT binary) reads as the access
 * node would have.
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_type.h"
#include "commands/copyfrom_internal.h"
#include "commands/progress.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ingest/copy_binary.h"

/* Bytes asked of a file or program at a time. */
#define READ_SIZE 65536

/* A column decoded here. */
typedef struct DecodedField
{
	int			field;			/* its index in the row */
	Form_pg_attribute att;
	FmgrInfo   *recv;			/* BeginCopyFrom's receive function */
	Oid			ioparam;
} DecodedField;

struct HdBinaryReader
{
	CopyFromState cstate;
	int			nfields;
	Form_pg_attribute *atts;	/* per field, for error context */
	int			ndecoded;
	DecodedField *decoded;
	int		   *offsets;		/* per field: its length's offset in the row */
	StringInfoData in;			/* input read: the row starts at cursor */
	bool		eof;			/* the source has no more */
	StringInfoData field;		/* a decoded field's bytes */
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
 * The next CopyData message's bytes from the client, appended to the input;
 * false at CopyDone.  Flush and Sync are ignored as PostgreSQL's COPY
 * ignores them; CopyFail fails the COPY with the client's message.
 */
static bool
read_client(HdBinaryReader *reader)
{
	StringInfo	msg = reader->cstate->fe_msgbuf;

	for (;;)
	{
		int			mtype;

		HOLD_CANCEL_INTERRUPTS();
		pq_startmsgread();
		mtype = pq_getbyte();
		if (mtype == EOF)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("unexpected EOF on client connection with an open transaction")));
		if (mtype != 'd' && mtype != 'c' && mtype != 'f' && mtype != 'H' && mtype != 'S')
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("unexpected message type 0x%02X during COPY from stdin",
							mtype)));
		if (pq_getmessage(msg, mtype == 'd' ? PQ_LARGE_MESSAGE_LIMIT :
						  PQ_SMALL_MESSAGE_LIMIT))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("unexpected EOF on client connection with an open transaction")));
		RESUME_CANCEL_INTERRUPTS();
		switch (mtype)
		{
			case 'd':
				appendBinaryStringInfo(&reader->in, msg->data + msg->cursor,
									   msg->len - msg->cursor);
				return true;
			case 'c':
				return false;
			case 'f':
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("COPY from stdin failed: %s",
								pq_getmsgstring(msg))));
				break;
			default:
				break;
		}
	}
}

/* Appends the next bytes of a file or program to the input; false at its end. */
static bool
read_file(HdBinaryReader *reader)
{
	StringInfo	in = &reader->in;
	size_t		n;

	enlargeStringInfo(in, READ_SIZE);
	n = fread(in->data + in->len, 1, READ_SIZE, reader->cstate->copy_file);
	if (ferror(reader->cstate->copy_file))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read from COPY file: %m")));
	in->len += n;
	in->data[in->len] = '\0';
	return n > 0;
}

/*
 * Reads more of the source into the input, after the bytes not yet used
 * (moved to its start); false when the source has ended.
 */
static bool
read_more(HdBinaryReader *reader)
{
	StringInfo	in = &reader->in;
	int			before = in->len - in->cursor;

	if (reader->eof)
		return false;
	if (in->cursor > 0)
	{
		memmove(in->data, in->data + in->cursor, before);
		in->len = before;
		in->cursor = 0;
	}
	if (reader->cstate->copy_src == COPY_FRONTEND)
		reader->eof = !read_client(reader);
	else if (reader->cstate->copy_src == COPY_FILE)
		reader->eof = !read_file(reader);
	else
		elog(ERROR, "binary COPY from a callback is not read here");
	reader->cstate->bytes_processed += in->len - before;
	pgstat_progress_update_param(PROGRESS_COPY_BYTES_PROCESSED,
								 reader->cstate->bytes_processed);
	return in->len > before || !reader->eof;
}

/* Whether the input holds n bytes from the row's start (reading if not). */
static inline bool
have(HdBinaryReader *reader, int n)
{
	while (unlikely(reader->in.len - reader->in.cursor < n))
	{
		if (!read_more(reader))
			return false;
	}
	return true;
}

static int32
get_int32(HdBinaryReader *reader, int offset)
{
	uint32		v;

	memcpy(&v, reader->in.data + reader->in.cursor + offset, 4);
	return (int32) pg_ntoh32(v);
}

static int16
get_int16(HdBinaryReader *reader, int offset)
{
	uint16		v;

	memcpy(&v, reader->in.data + reader->in.cursor + offset, 2);
	return (int16) pg_ntoh16(v);
}

static void
eof_in_row(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("unexpected EOF in COPY data")));
}

/* After the trailer, the data must end. */
static void
check_end(HdBinaryReader *reader)
{
	reader->in.cursor += 2;
	if (have(reader, 1))
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("received copy data after EOF marker")));
}

/*
 * Finds the row's fields (their offsets), reading until the input holds
 * all of it; returns its size.  The row starts with its field count.
 */
static int
scan_fields(HdBinaryReader *reader)
{
	CopyFromState cstate = reader->cstate;
	int			offset = 2;

	for (int i = 0; i < reader->nfields; i++)
	{
		int32		len;

		cstate->cur_attname = NameStr(reader->atts[i]->attname);
		if (!have(reader, offset + 4))
			eof_in_row();
		len = get_int32(reader, offset);
		reader->offsets[i] = offset;
		offset += 4;
		if (len == -1)
			continue;
		if (len < 0)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("invalid field size")));
		if (len >= MaxAllocSize - offset)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("row of COPY data too large"),
					 errdetail("A field of %d bytes does not fit in a row of at most %d bytes.",
							   len, (int) MaxAllocSize - 1)));
		if (!have(reader, offset + len))
			eof_in_row();
		offset += len;
	}
	cstate->cur_attname = NULL;
	return offset;
}

/* Decodes a column with its receive function, as PostgreSQL's COPY does. */
static void
decode_field(HdBinaryReader *reader, DecodedField *dec, Datum *values,
			 bool *isnull)
{
	int			k = dec->att->attnum - 1;
	int			offset = reader->offsets[dec->field];
	int32		len = get_int32(reader, offset);
	StringInfo	buf = &reader->field;

	reader->cstate->cur_attname = NameStr(dec->att->attname);
	isnull[k] = len == -1;
	if (isnull[k])
		values[k] = ReceiveFunctionCall(dec->recv, NULL, dec->ioparam,
										dec->att->atttypmod);
	else
	{
		resetStringInfo(buf);
		appendBinaryStringInfo(buf, reader->in.data + reader->in.cursor + offset + 4,
							   len);
		values[k] = ReceiveFunctionCall(dec->recv, buf, dec->ioparam,
										dec->att->atttypmod);
		if (buf->cursor != buf->len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("incorrect binary data format")));
	}
	reader->cstate->cur_attname = NULL;
}

HdBinaryReader *
hd_copy_binary_begin(CopyFromState cstate, const bool *decode)
{
	HdBinaryReader *reader = palloc0(sizeof(HdBinaryReader));
	TupleDesc	tupdesc = RelationGetDescr(cstate->rel);
	ListCell   *lc;

	Assert(cstate->opts.binary);
	/* no column left out may need a value computed here */
	Assert(cstate->num_defaults == 0);
	reader->cstate = cstate;
	reader->nfields = list_length(cstate->attnumlist);
	reader->atts = palloc(sizeof(Form_pg_attribute) * reader->nfields);
	reader->decoded = palloc(sizeof(DecodedField) * reader->nfields);
	reader->offsets = palloc(sizeof(int) * reader->nfields);
	foreach(lc, cstate->attnumlist)
	{
		int			i = foreach_current_index(lc);
		int			k = lfirst_int(lc) - 1;

		reader->atts[i] = TupleDescAttr(tupdesc, k);
		if (decode[k])
		{
			DecodedField *dec = &reader->decoded[reader->ndecoded++];

			dec->field = i;
			dec->att = reader->atts[i];
			dec->recv = &cstate->in_functions[k];
			dec->ioparam = cstate->typioparams[k];
		}
	}

	/* what BeginCopyFrom read after the header is the rows' start */
	initStringInfo(&reader->in);
	appendBinaryStringInfo(&reader->in, cstate->raw_buf + cstate->raw_buf_index,
						   cstate->raw_buf_len - cstate->raw_buf_index);
	cstate->raw_buf_index = cstate->raw_buf_len;
	reader->eof = cstate->raw_reached_eof;
	initStringInfo(&reader->field);
	return reader;
}

bool
hd_copy_binary_next(HdBinaryReader *reader, Datum *values, bool *isnull,
					const char **row, int *len)
{
	int16		count;

	reader->cstate->cur_lineno++;
	/* as in PostgreSQL, the data may end without a trailer */
	if (!have(reader, 2))
		return false;
	count = get_int16(reader, 0);
	if (count == -1)
	{
		check_end(reader);
		return false;
	}
	if (count != reader->nfields)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("row field count is %d, expected %d",
						(int) count, reader->nfields)));
	*len = scan_fields(reader);
	for (int i = 0; i < reader->ndecoded; i++)
		decode_field(reader, &reader->decoded[i], values, isnull);
	*row = reader->in.data + reader->in.cursor;
	reader->in.cursor += *len;
	return true;
}
