/* SPDX-License-Identifier: PostgreSQL */
/*
 * agg/first_last.c — the first() and last() aggregates of TimescaleDB.
 *
 * first(value, time) is the value of the row with the smallest time,
 * last(value, time) that of the row with the largest.  Rows whose time is
 * NULL do not count; without any other row the result is NULL.  Among rows
 * with equal times the one seen first wins, so ties give an unspecified
 * row, as in TimescaleDB.
 *
 * Times are compared with the comparison function of their type's default
 * btree operator class, under the aggregate's input collation, so that the
 * order is the one ORDER BY uses.  The state is internal; combine,
 * serialize and deserialize functions make the aggregates parallel safe and
 * usable as partial aggregates.  A serialized state names the value's and
 * the time's types, because serialize and deserialize functions are not
 * told the aggregate's argument types.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(hyperdist_first_transfn);
PG_FUNCTION_INFO_V1(hyperdist_last_transfn);
PG_FUNCTION_INFO_V1(hyperdist_first_combinefn);
PG_FUNCTION_INFO_V1(hyperdist_last_combinefn);
PG_FUNCTION_INFO_V1(hyperdist_bookend_serializefn);
PG_FUNCTION_INFO_V1(hyperdist_bookend_deserializefn);
PG_FUNCTION_INFO_V1(hyperdist_bookend_finalfn);

/* The row kept so far; a state exists only once a row with a time came. */
typedef struct BookendState
{
	Oid			value_type;
	int16		value_len;
	bool		value_byval;
	bool		value_isnull;
	Datum		value;
	Oid			time_type;
	int16		time_len;
	bool		time_byval;
	Datum		time;			/* never NULL */
	FmgrInfo   *cmp;			/* the time type's btree comparison */
} BookendState;

/* Binary I/O function of one type, cached across calls. */
typedef struct TypeIO
{
	Oid			type;
	Oid			ioparam;
	FmgrInfo	proc;
} TypeIO;

typedef struct BookendIO
{
	TypeIO		value;
	TypeIO		time;
} BookendIO;

static BookendState *
bookend_new(MemoryContext cxt, Oid value_type, Oid time_type)
{
	BookendState *state = MemoryContextAllocZero(cxt, sizeof(BookendState));
	TypeCacheEntry *tc = lookup_type_cache(time_type, TYPECACHE_CMP_PROC_FINFO);

	if (!OidIsValid(tc->cmp_proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify a comparison function for type %s",
						format_type_be(time_type))));

	state->value_type = value_type;
	get_typlenbyval(value_type, &state->value_len, &state->value_byval);
	state->value_isnull = true;
	state->time_type = time_type;
	get_typlenbyval(time_type, &state->time_len, &state->time_byval);
	/* type cache entries live as long as the backend */
	state->cmp = &tc->cmp_proc_finfo;
	return state;
}

/*
 * Replaces the kept row by (value, time), copied into cxt; the old copies
 * are freed, or last() over rows in time order would keep them all.  A new
 * state holds no copies yet (its value is NULL and its time 0).
 */
static void
bookend_keep(BookendState *state, MemoryContext cxt,
			 Datum value, bool value_isnull, Datum time)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);

	if (!state->value_isnull && !state->value_byval)
		pfree(DatumGetPointer(state->value));
	if (state->time != (Datum) 0 && !state->time_byval)
		pfree(DatumGetPointer(state->time));

	state->value_isnull = value_isnull;
	state->value = value_isnull ? (Datum) 0 :
		datumCopy(value, state->value_byval, state->value_len);
	state->time = datumCopy(time, state->time_byval, state->time_len);
	MemoryContextSwitchTo(old);
}

/* Whether time comes strictly before (first) or after (last) the kept one. */
static bool
bookend_wins(BookendState *state, Oid collation, Datum time, bool last)
{
	int32		c = DatumGetInt32(FunctionCall2Coll(state->cmp, collation,
													time, state->time));

	return last ? c > 0 : c < 0;
}

static MemoryContext
bookend_aggcontext(FunctionCallInfo fcinfo)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "first/last support function called in non-aggregate context");
	return cxt;
}

/* transfn(internal, anyelement value, "any" time) */
static Datum
bookend_transfn(FunctionCallInfo fcinfo, bool last)
{
	MemoryContext cxt = bookend_aggcontext(fcinfo);
	BookendState *state = PG_ARGISNULL(0) ? NULL :
		(BookendState *) PG_GETARG_POINTER(0);
	Datum		time = PG_GETARG_DATUM(2);

	if (PG_ARGISNULL(2))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}

	if (state == NULL)
		state = bookend_new(cxt, get_fn_expr_argtype(fcinfo->flinfo, 1),
							get_fn_expr_argtype(fcinfo->flinfo, 2));
	else if (!bookend_wins(state, PG_GET_COLLATION(), time, last))
		PG_RETURN_POINTER(state);

	bookend_keep(state, cxt, PG_GETARG_DATUM(1), PG_ARGISNULL(1), time);
	PG_RETURN_POINTER(state);
}

Datum
hyperdist_first_transfn(PG_FUNCTION_ARGS)
{
	return bookend_transfn(fcinfo, false);
}

Datum
hyperdist_last_transfn(PG_FUNCTION_ARGS)
{
	return bookend_transfn(fcinfo, true);
}

/*
 * combinefn(internal, internal).  The second state may live in a shorter
 * context (it can come from deserialization), so what is kept from it is
 * copied into the aggregate context.
 */
static Datum
bookend_combinefn(FunctionCallInfo fcinfo, bool last)
{
	MemoryContext cxt = bookend_aggcontext(fcinfo);
	BookendState *state1 = PG_ARGISNULL(0) ? NULL :
		(BookendState *) PG_GETARG_POINTER(0);
	BookendState *state2 = PG_ARGISNULL(1) ? NULL :
		(BookendState *) PG_GETARG_POINTER(1);

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}

	if (state1 == NULL)
		state1 = bookend_new(cxt, state2->value_type, state2->time_type);
	else if (!bookend_wins(state1, PG_GET_COLLATION(), state2->time, last))
		PG_RETURN_POINTER(state1);

	bookend_keep(state1, cxt, state2->value, state2->value_isnull, state2->time);
	PG_RETURN_POINTER(state1);
}

Datum
hyperdist_first_combinefn(PG_FUNCTION_ARGS)
{
	return bookend_combinefn(fcinfo, false);
}

Datum
hyperdist_last_combinefn(PG_FUNCTION_ARGS)
{
	return bookend_combinefn(fcinfo, true);
}

static BookendIO *
bookend_io(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BookendIO));
	return (BookendIO *) fcinfo->flinfo->fn_extra;
}

static void
typeio_prepare(FunctionCallInfo fcinfo, TypeIO *io, Oid type, bool output)
{
	Oid			func;
	bool		isvarlena;

	if (io->type == type)
		return;
	if (output)
		getTypeBinaryOutputInfo(type, &func, &isvarlena);
	else
		getTypeBinaryInputInfo(type, &func, &io->ioparam);
	fmgr_info_cxt(func, &io->proc, fcinfo->flinfo->fn_mcxt);
	io->type = type;
}

/* Appends a datum as its length (-1: NULL) and its binary send form. */
static void
send_datum(StringInfo buf, FmgrInfo *send, Datum value, bool isnull)
{
	bytea	   *bytes;

	if (isnull)
	{
		pq_sendint32(buf, -1);
		return;
	}
	bytes = SendFunctionCall(send, value);
	pq_sendint32(buf, VARSIZE(bytes) - VARHDRSZ);
	pq_sendbytes(buf, VARDATA(bytes), VARSIZE(bytes) - VARHDRSZ);
}

/* Reads what send_datum wrote; *isnull tells a NULL. */
static Datum
recv_datum(StringInfo buf, TypeIO *io, bool *isnull)
{
	int32		len = pq_getmsgint(buf, 4);
	StringInfoData item;
	Datum		value;

	*isnull = (len == -1);
	if (*isnull)
		return (Datum) 0;
	if (len < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid length %d in first/last state", len)));

	initStringInfo(&item);
	appendBinaryStringInfo(&item, pq_getmsgbytes(buf, len), len);
	value = ReceiveFunctionCall(&io->proc, &item, io->ioparam, -1);
	if (item.cursor != item.len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("incorrect binary data format in first/last state")));
	pfree(item.data);
	return value;
}

/* serializefn(internal) returns bytea: value type, time type, value, time */
Datum
hyperdist_bookend_serializefn(PG_FUNCTION_ARGS)
{
	BookendState *state = (BookendState *) PG_GETARG_POINTER(0);
	BookendIO  *io = bookend_io(fcinfo);
	StringInfoData buf;

	bookend_aggcontext(fcinfo);
	typeio_prepare(fcinfo, &io->value, state->value_type, true);
	typeio_prepare(fcinfo, &io->time, state->time_type, true);

	pq_begintypsend(&buf);
	pq_sendint32(&buf, state->value_type);
	pq_sendint32(&buf, state->time_type);
	send_datum(&buf, &io->value.proc, state->value, state->value_isnull);
	send_datum(&buf, &io->time.proc, state->time, false);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* deserializefn(bytea, internal) returns internal */
Datum
hyperdist_bookend_deserializefn(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	BookendIO  *io = bookend_io(fcinfo);
	StringInfoData buf;
	BookendState *state;
	Oid			value_type;
	Oid			time_type;
	Datum		value;
	bool		value_isnull;
	Datum		time;
	bool		time_isnull;

	bookend_aggcontext(fcinfo);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));

	value_type = pq_getmsgint(&buf, 4);
	time_type = pq_getmsgint(&buf, 4);
	typeio_prepare(fcinfo, &io->value, value_type, false);
	typeio_prepare(fcinfo, &io->time, time_type, false);
	value = recv_datum(&buf, &io->value, &value_isnull);
	time = recv_datum(&buf, &io->time, &time_isnull);
	if (time_isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("first/last state without a time")));
	pq_getmsgend(&buf);

	state = bookend_new(CurrentMemoryContext, value_type, time_type);
	state->value_isnull = value_isnull;
	state->value = value;
	state->time = time;
	PG_RETURN_POINTER(state);
}

/* finalfn(internal, anyelement, "any") returns anyelement */
Datum
hyperdist_bookend_finalfn(PG_FUNCTION_ARGS)
{
	BookendState *state;

	bookend_aggcontext(fcinfo);
	state = PG_ARGISNULL(0) ? NULL : (BookendState *) PG_GETARG_POINTER(0);
	if (state == NULL || state->value_isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(state->value);
}
