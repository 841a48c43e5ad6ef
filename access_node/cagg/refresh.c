/* SPDX-License-Identifier: PostgreSQL */
/*
 * cagg/refresh.c — refresh_continuous_aggregate.
 *
 * The window is cut to the whole buckets inside it: [lo, hi) where lo is
 * the first bucket start at or after its start and hi the start of the
 * bucket holding its end (an open end is the lowest or highest time).
 * Only the buckets of the window that the aggregate's invalidation log
 * covers (metadata/invalidation.c: changed since they were materialized,
 * or never materialized) are recomputed: the log's entries meeting the
 * window, widened to whole buckets and merged, each a range [a, b).  The
 * rows of a range's buckets in the materialized table are replaced by what
 * the definition computes on a <= time < b: the query with that range runs on
 * the distributed hypertable, where the FDW pushes the range (chunks pruned
 * on the access node and the data nodes), the grouping and the partial
 * aggregates down, so the raw rows never leave the data nodes.  DELETE and
 * INSERT run in the caller's transaction, under an ExclusiveLock on the
 * table: readers see the old buckets or the new ones, and two refreshes of
 * one aggregate take turns.  Then the window is cut out of the log.  With
 * nothing to recompute, no data node is asked anything.
 *
 * The definition runs as the view's owner, with SECURITY_RESTRICTED_OPERATION
 * (as REFRESH MATERIALIZED VIEW does): a superuser refreshing it does not
 * lend it its rights.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"

#include "cagg/cagg.h"
#include "cagg/internal.h"
#include "metadata/catalog_read.h"
#include "metadata/dimension.h"
#include "metadata/hypertable.h"
#include "metadata/invalidation.h"
#include "spi_plan.h"

PG_FUNCTION_INFO_V1(hyperdist_refresh_continuous_aggregate);
PG_FUNCTION_INFO_V1(hyperdist_cagg_policy_refresh);

/* The one value of a one-row, one-column result (SPI connected). */
static Datum
single_value(const char *sql, int nargs, Oid *types, Datum *values, Oid type)
{
	hd_spi_execute_once(sql, nargs, types, values, NULL, true, 0);
	if (SPI_processed != 1)
		elog(ERROR, "query returned " UINT64_FORMAT " rows, not one: %s", SPI_processed, sql);
	return hd_spi_value(0, 1, type, NULL);
}

/* A window bound given as any type, in the time type (an error if it has no cast). */
static Datum
to_time_type(Datum value, Oid argtype, Oid type)
{
	const char *tname = format_type_be_qualified(type);

	if (argtype == type)
		return value;
	if (argtype == UNKNOWNOID)
	{
		value = CStringGetTextDatum(DatumGetCString(value));
		argtype = TEXTOID;
	}
	return single_value(psprintf("SELECT CAST($1 AS %s)", tname), 1, &argtype, &value, type);
}

/*
 * The window's bound in the time type, aligned inward to whole buckets;
 * an open bound is the lowest or highest time.
 */
static Datum
window_bound(const HdCatalogCagg *cagg, Oid type, Datum value, Oid argtype, bool isnull,
			 bool upper)
{
	const char *tname = format_type_be_qualified(type);

	if (isnull)
		return single_value(psprintf("SELECT CAST(%s AS %s)",
									 hd_cagg_time_bound(type, upper), tname),
							0, NULL, NULL, type);
	value = to_time_type(value, argtype, type);
	if (upper)
		return single_value(psprintf("SELECT %s", cagg->bucket_sql), 1, &type, &value, type);
	return single_value(psprintf("SELECT CASE WHEN b OPERATOR(pg_catalog.=) $1 THEN b"
								 " ELSE CAST(b + %s AS %s) END FROM (SELECT %s) AS w(b)",
								 cagg->bucket_width_sql, tname, cagg->bucket_sql),
						1, &type, &value, type);
}

/* The "refresh window too small" error unless lo < hi (SPI connected). */
static void
check_window(Oid type, Datum lo, Datum hi)
{
	Oid			types[2] = {type, type};
	Datum		values[2] = {lo, hi};

	if (DatumGetBool(single_value("SELECT $1 OPERATOR(pg_catalog.>=) $2", 2, types, values,
								  BOOLOID)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("refresh window too small"),
				 errdetail("The refresh window must cover at least one bucket of data."),
				 errhint("Widen the window to hold a whole bucket.")));
}

/* Replaces the buckets of [lo, hi) (SPI connected, as the view's owner). */
static void
materialize(const HdCatalogCagg *cagg, Oid type, Datum lo, Datum hi)
{
	Oid			types[2] = {type, type};
	Datum		values[2] = {lo, hi};
	char	   *mat = hd_cagg_relation_name(cagg->mat_relid);
	const char *bucket = quote_identifier(cagg->bucket_column);

	hd_spi_execute_once(psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.>=) $1"
								 " AND %s OPERATOR(pg_catalog.<) $2", mat, bucket, bucket),
						2, types, values, NULL, false, 0);
	hd_spi_execute_once(psprintf("INSERT INTO %s %s", mat, cagg->refresh_sql),
						2, types, values, NULL, false, 0);
}

/*
 * A window bound in internal time: an infinite one (the open end of a
 * window of timestamps or dates) is the end of the int64 range.
 */
static int64
internal_bound(Datum value, Oid type, bool upper)
{
	bool		infinite = false;

	if (type == TIMESTAMPOID || type == TIMESTAMPTZOID)
		infinite = TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value));
	else if (type == DATEOID)
		infinite = DATE_NOT_FINITE(DatumGetDateADT(value));
	if (infinite)
		return upper ? PG_INT64_MAX : PG_INT64_MIN;
	return hd_time_to_internal(value, type);
}

/*
 * The refresh window [lo, hi) of the time type and in internal time,
 * both ends included (the log's convention).
 */
typedef struct RefreshWindow
{
	Oid			type;
	Datum		lo;
	Datum		hi;
	int64		lowest;
	int64		greatest;
} RefreshWindow;

/*
 * The internal time of the bucket holding internal time t (SPI
 * connected); with next, of the bucket after it, or of the window's end
 * if that comes first (the next bucket may be beyond the type's range).
 */
static int64
bucket_of(const HdCatalogCagg *cagg, const RefreshWindow *w, int64 t, bool next)
{
	Oid			types[2] = {w->type, w->type};
	Datum		values[2] = {hd_time_from_internal(t, w->type), w->hi};
	const char *tname = format_type_be_qualified(w->type);
	char	   *sql;

	if (next)
		sql = psprintf("SELECT CASE WHEN b OPERATOR(pg_catalog.>) $2 - %s THEN $2"
					   " ELSE CAST(b + %s AS %s) END FROM (SELECT %s) AS w(b)",
					   cagg->bucket_width_sql, cagg->bucket_width_sql, tname,
					   cagg->bucket_sql);
	else
		sql = psprintf("SELECT %s", cagg->bucket_sql);
	return hd_time_to_internal(single_value(sql, next ? 2 : 1, types, values, w->type),
							   w->type);
}

/*
 * The invalidated ranges of the window (clipped to it), widened to whole
 * buckets and merged where they overlap or touch, in order.
 */
static List *
widened_ranges(const HdCatalogCagg *cagg, const RefreshWindow *w)
{
	List	   *merged = NIL;
	HdInvalRange *last = NULL;
	ListCell   *lc;

	foreach(lc, hd_inval_pending(cagg->id, w->lowest, w->greatest))
	{
		HdInvalRange *r = lfirst(lc);

		/* the window's ends are bucket starts already */
		if (r->lowest != w->lowest)
			r->lowest = bucket_of(cagg, w, r->lowest, false);
		if (r->greatest != w->greatest)
			r->greatest = Min(bucket_of(cagg, w, r->greatest, true) - 1, w->greatest);
		if (last != NULL && r->lowest <= last->greatest + 1)
			last->greatest = Max(last->greatest, r->greatest);
		else
		{
			merged = lappend(merged, r);
			last = r;
		}
	}
	return merged;
}

/*
 * Materializes the invalidated buckets of the window (SPI connected, as
 * the view's owner); false when there were none.
 */
static bool
materialize_invalidated(const HdCatalogCagg *cagg, const RefreshWindow *w)
{
	List	   *ranges = widened_ranges(cagg, w);
	ListCell   *lc;

	foreach(lc, ranges)
	{
		HdInvalRange *r = lfirst(lc);
		Datum		lo = r->lowest == w->lowest ? w->lo :
			hd_time_from_internal(r->lowest, w->type);
		Datum		hi = r->greatest == w->greatest ? w->hi :
			hd_time_from_internal(r->greatest + 1, w->type);

		materialize(cagg, w->type, lo, hi);
	}
	return ranges != NIL;
}

void
hd_cagg_refresh(Oid view_relid, Datum start, Oid start_type, bool start_null,
				Datum end, Oid end_type, bool end_null)
{
	HdCatalogCagg cagg;
	RefreshWindow w;
	Oid			save_user;
	int			save_sec;
	bool		changed;

	if (!hd_catalog_cagg(view_relid, &cagg))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation \"%s\" is not a continuous aggregate",
						get_rel_name(view_relid))));
	w.type = get_atttype(cagg.mat_relid, get_attnum(cagg.mat_relid, cagg.bucket_column));
	LockRelationOid(cagg.mat_relid, ExclusiveLock);
	hd_inval_move(cagg.hypertable_id);

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(hd_rel_owner(view_relid),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	hd_spi_connect();
	w.lo = window_bound(&cagg, w.type, start, start_type, start_null, false);
	w.hi = window_bound(&cagg, w.type, end, end_type, end_null, true);
	check_window(w.type, w.lo, w.hi);
	/* an open end takes all of the log's side, beyond the type's range too */
	w.lowest = start_null ? PG_INT64_MIN : internal_bound(w.lo, w.type, false);
	w.greatest = end_null ? PG_INT64_MAX : internal_bound(w.hi, w.type, true);
	if (w.greatest != PG_INT64_MAX)
		w.greatest--;
	changed = materialize_invalidated(&cagg, &w);
	hd_spi_finish();
	SetUserIdAndSecContext(save_user, save_sec);

	if (changed)
		hd_inval_cut(cagg.id, w.lowest, w.greatest);
	else
		ereport(NOTICE,
				(errmsg("continuous aggregate \"%s\" is already up-to-date",
						get_rel_name(view_relid))));
}

/* The refresh of the window of fcinfo's arguments, by the view's owner. */
static void
refresh_args(FunctionCallInfo fcinfo)
{
	Oid			relid;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("continuous_aggregate cannot be NULL")));
	relid = PG_GETARG_OID(0);
	if (!hd_catalog_cagg(relid, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation \"%s\" is not a continuous aggregate",
						get_rel_name(relid))));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_MATVIEW, get_rel_name(relid));
	hd_cagg_refresh(relid,
					PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1), PG_ARGISNULL(1),
					PG_GETARG_DATUM(2), get_fn_expr_argtype(fcinfo->flinfo, 2), PG_ARGISNULL(2));
}

/*
 * CALL refresh_continuous_aggregate(continuous_aggregate, window_start,
 * window_end): outside a transaction block, as in TimescaleDB (a refresh
 * may be long).
 */
Datum
hyperdist_refresh_continuous_aggregate(PG_FUNCTION_ARGS)
{
	bool		nonatomic = fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;

	PreventInTransactionBlock(nonatomic, "refresh_continuous_aggregate()");
	refresh_args(fcinfo);
	PG_RETURN_VOID();
}

/* The same within a refresh policy's run (sql/cagg.sql), in its job's transaction. */
Datum
hyperdist_cagg_policy_refresh(PG_FUNCTION_ARGS)
{
	refresh_args(fcinfo);
	PG_RETURN_VOID();
}
