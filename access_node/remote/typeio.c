/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/typeio.c — binary formats the access node writes and reads itself.
 *
 * Rows cross between the access node and the data nodes in PostgreSQL's
 * binary format, one send or receive function call per value.  For the
 * fixed-width built-in types of time series (integers, floats, booleans,
 * dates, timestamps) that format is the Datum's bytes in network order,
 * so the hot paths (ingest/insert.c encoding batches, fdw/scan.c decoding rows)
 * write and read them here without the calls and their allocations.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "port/pg_bswap.h"

#include "remote/typeio.h"

/*
 * The width of typid's binary format when it is the Datum's bytes in
 * network order (boolsend, int2send ... float8send, date_send,
 * timestamp_send, time_send, cash_send), else 0.  Domains are not: their
 * constraints are checked by their receive function.
 */
int16
hd_fixed_binary_len(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
			return 1;
		case INT2OID:
			return 2;
		case INT4OID:
		case OIDOID:
		case FLOAT4OID:
		case DATEOID:
			return 4;
		case INT8OID:
		case FLOAT8OID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case TIMEOID:
		case CASHOID:
			return 8;
		default:
			return 0;
	}
}

/* Appends the len bytes of value's binary format. */
void
hd_fixed_binary_append(StringInfo buf, Datum value, int16 len)
{
	union
	{
		uint8		b;
		uint16		s;
		uint32		i;
		uint64		l;
	}			v;

	switch (len)
	{
		case 1:
			v.b = DatumGetBool(value) ? 1 : 0;
			break;
		case 2:
			v.s = pg_hton16(DatumGetUInt16(value));
			break;
		case 4:
			v.i = pg_hton32(DatumGetUInt32(value));
			break;
		default:
			v.l = pg_hton64(DatumGetUInt64(value));
			break;
	}
	appendBinaryStringInfo(buf, (char *) &v, len);
}

/*
 * The Datum of typid's binary format in data, hd_fixed_binary_len(typid)
 * bytes, as its receive function makes it: signed widths are sign-extended
 * as Int32GetDatum does (Float4GetDatum too), OIDs are not.
 */
Datum
hd_fixed_binary_datum(const uint8 *data, Oid typid)
{
	uint16		s;
	uint32		i;
	uint64		l;

	switch (hd_fixed_binary_len(typid))
	{
		case 1:
			return BoolGetDatum(data[0] != 0);
		case 2:
			memcpy(&s, data, 2);
			return Int16GetDatum((int16) pg_ntoh16(s));
		case 4:
			memcpy(&i, data, 4);
			i = pg_ntoh32(i);
			return typid == OIDOID ? ObjectIdGetDatum(i) : Int32GetDatum((int32) i);
		default:
			memcpy(&l, data, 8);
			return Int64GetDatum((int64) pg_ntoh64(l));
	}
}
