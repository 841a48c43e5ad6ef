/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/dimension.c — internal time, time slices and space hashing.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "common/int.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "metadata/dimension.h"

PG_FUNCTION_INFO_V1(hyperdist_type_is_hashable);

static Oid
hash_extended_proc(Oid typid)
{
	TypeCacheEntry *tce = lookup_type_cache(typid, TYPECACHE_HASH_EXTENDED_PROC);

	return tce->hash_extended_proc;
}

Datum
hyperdist_type_is_hashable(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(OidIsValid(hash_extended_proc(PG_GETARG_OID(0))));
}

void
hd_dimension_init_hash(HdDimension *dim, Oid relid, MemoryContext cxt)
{
	Oid			proc = hash_extended_proc(dim->type);
	Oid			typid;
	int32		typmod;

	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s has no extended hash function",
						format_type_be(dim->type))));
	fmgr_info_cxt(proc, &dim->hash_proc, cxt);
	get_atttypetypmodcoll(relid, dim->attnum, &typid, &typmod, &dim->collation);
}

/* infinite: 0, or the sign of the infinity */
static void
check_finite(int infinite)
{
	if (infinite != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("invalid time value: %sinfinity", infinite < 0 ? "-" : ""),
				 errdetail("A distributed hypertable's time column cannot hold infinite values.")));
}

static int64
usecs_to_internal(int64 pg_usecs)
{
	int64		result;

	if (pg_add_s64_overflow(pg_usecs, PG_EPOCH_UNIX_USECS, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

int64
hd_time_to_internal(Datum value, Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT8OID:
			return DatumGetInt64(value);
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			check_finite(TIMESTAMP_IS_NOBEGIN(DatumGetTimestamp(value)) ? -1 :
						 TIMESTAMP_IS_NOEND(DatumGetTimestamp(value)) ? 1 : 0);
			return usecs_to_internal(DatumGetTimestamp(value));
		case DATEOID:
			check_finite(DATE_IS_NOBEGIN(DatumGetDateADT(value)) ? -1 :
						 DATE_IS_NOEND(DatumGetDateADT(value)) ? 1 : 0);
			return usecs_to_internal((int64) DatumGetDateADT(value) * USECS_PER_DAY);
	}
	elog(ERROR, "unexpected time column type %u", typid);
	return 0;					/* keep compiler quiet */
}

Datum
hd_time_from_internal(int64 internal, Oid typid)
{
	int64		pg_usecs;

	switch (typid)
	{
		case INT2OID:
			if (internal < PG_INT16_MIN || internal > PG_INT16_MAX)
				break;
			return Int16GetDatum((int16) internal);
		case INT4OID:
			if (internal < PG_INT32_MIN || internal > PG_INT32_MAX)
				break;
			return Int32GetDatum((int32) internal);
		case INT8OID:
			return Int64GetDatum(internal);
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case DATEOID:
			if (pg_sub_s64_overflow(internal, PG_EPOCH_UNIX_USECS, &pg_usecs))
				break;
			if (typid != DATEOID)
				return TimestampGetDatum(pg_usecs);
			/* floor division: the day holding it, also before 2000 */
			return DateADTGetDatum((DateADT) (pg_usecs / USECS_PER_DAY -
											  (pg_usecs % USECS_PER_DAY < 0 ? 1 : 0)));
		default:
			elog(ERROR, "unexpected time column type %u", typid);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("internal time " INT64_FORMAT " out of range for type %s",
					internal, format_type_be(typid))));
	return (Datum) 0;			/* keep compiler quiet */
}

void
hd_time_slice_align(int64 value, int64 interval, int64 *start, int64 *end)
{
	/* floor division, also for negative times */
	int64		k = value / interval - ((value % interval) < 0 ? 1 : 0);

	if (pg_mul_s64_overflow(k, interval, start))
		*start = PG_INT64_MIN;
	if (pg_add_s64_overflow(*start, interval, end))
		*end = PG_INT64_MAX;
}

int
hd_space_partition(HdDimension *dim, Datum value, bool isnull, int modulus)
{
	uint64		hash = compute_partition_hash_value(1, &dim->hash_proc,
													&dim->collation,
													&value, &isnull);

	return (int) (hash % (uint64) modulus);
}

/* Converts a time value between timestamptz, timestamp and date. */
static Datum
convert_time(Datum value, Oid from, Oid to)
{
	if (from == to)
		return value;
	if (from == TIMESTAMPTZOID)
		return to == TIMESTAMPOID ? DirectFunctionCall1(timestamptz_timestamp, value)
			: DirectFunctionCall1(timestamptz_date, value);
	if (from == TIMESTAMPOID)
		return to == TIMESTAMPTZOID ? DirectFunctionCall1(timestamp_timestamptz, value)
			: DirectFunctionCall1(timestamp_date, value);
	return to == TIMESTAMPTZOID ? DirectFunctionCall1(date_timestamptz, value)
		: DirectFunctionCall1(date_timestamp, value);
}

static bool
is_integer_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

/* now() minus an interval, as TimescaleDB reads an interval argument */
static Datum
interval_ago(Datum interval)
{
	return DirectFunctionCall2(timestamptz_mi_interval,
							   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
							   interval);
}

int64
hd_time_arg_to_internal(Datum arg, Oid argtype, const HdHypertable *ht,
						const char *argname)
{
	Oid			coltype = ht->time.type;

	if (is_integer_type(coltype) && is_integer_type(argtype))
		return argtype == INT2OID ? DatumGetInt16(arg) :
			argtype == INT4OID ? DatumGetInt32(arg) : DatumGetInt64(arg);

	if (!is_integer_type(coltype))
	{
		if (argtype == INTERVALOID)
		{
			arg = interval_ago(arg);
			argtype = TIMESTAMPTZOID;
		}
		if (argtype == TIMESTAMPTZOID || argtype == TIMESTAMPOID || argtype == DATEOID)
			return hd_time_to_internal(convert_time(arg, argtype, coltype), coltype);
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid time argument type \"%s\"", format_type_be(argtype)),
			 errdetail("Argument %s does not fit time column \"%s\" of type %s.",
					   argname, ht->time.column_name, format_type_be(coltype)),
			 errhint(is_integer_type(coltype)
					 ? "Use an integer for an integer time column."
					 : "Use an interval, a timestamp, a timestamptz or a date.")));
	return 0;					/* keep compiler quiet */
}

TimestampTz
hd_creation_time_arg(Datum arg, Oid argtype, const char *argname)
{
	if (argtype == INTERVALOID)
		return DatumGetTimestampTz(interval_ago(arg));
	if (argtype == TIMESTAMPTZOID || argtype == TIMESTAMPOID || argtype == DATEOID)
		return DatumGetTimestampTz(convert_time(arg, argtype, TIMESTAMPTZOID));

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid time argument type \"%s\"", format_type_be(argtype)),
			 errdetail("Argument %s is compared with the creation time of chunks.", argname),
			 errhint("Use an interval, a timestamp, a timestamptz or a date.")));
	return 0;					/* keep compiler quiet */
}
