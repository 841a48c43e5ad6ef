/* SPDX-License-Identifier: PostgreSQL */
/*
 * cagg/policy.c — the configuration of a continuous aggregate's refresh
 * policy (api/jobs.c adds the job; sql/cagg.sql has its procedure).
 *
 * The offsets count back from now, as in TimescaleDB 2.13: intervals for
 * time columns of timestamps and dates, integers (from the hypertable's
 * integer_now function) for integer ones, NULL for an open end.  When both
 * are given, the window they leave must hold two buckets: a narrower one
 * would hold no whole bucket at some runs, which would then refresh nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "cagg/cagg.h"
#include "spi_plan.h"

static bool
integer_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* An offset as text (an interval's or an integer's), NULL when open. */
static char *
offset_text(const char *name, Datum value, Oid type, bool isnull, Oid coltype)
{
	if (isnull)
		return NULL;
	if (integer_type(coltype) && integer_type(type))
		return psprintf(INT64_FORMAT, type == INT2OID ? (int64) DatumGetInt16(value) :
						type == INT4OID ? (int64) DatumGetInt32(value) :
						DatumGetInt64(value));
	if (integer_type(coltype) || type != INTERVALOID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid parameter value for %s", name),
				 errhint("Use %s for a continuous aggregate on a time column of type %s.",
						 integer_type(coltype) ? "an integer" : "an interval",
						 format_type_be(coltype))));
	return DatumGetCString(DirectFunctionCall1(interval_out, value));
}

/* An offset in the config: a number, a string or null. */
static char *
offset_json(const char *text, bool integer)
{
	StringInfoData buf;

	if (text == NULL || integer)
		return text == NULL ? "null" : (char *) text;
	initStringInfo(&buf);
	escape_json(&buf, text);
	return buf.data;
}

/* Whether start - end spans two buckets at least. */
static bool
spans_two_buckets(const HdCatalogCagg *cagg, const char *start, const char *end,
				  bool integer)
{
	const char *type = integer ? "bigint" : "interval";
	bool		result;

	hd_spi_connect();
	hd_spi_execute_once(psprintf("SELECT CAST(%s AS %s) - CAST(%s AS %s) >= 2 * (%s)",
								 quote_literal_cstr(start), type, quote_literal_cstr(end),
								 type, cagg->bucket_width_sql),
						0, NULL, NULL, NULL, true, 0);
	result = DatumGetBool(hd_spi_value(0, 1, BOOLOID, NULL));
	hd_spi_finish();
	return result;
}

Jsonb *
hd_cagg_policy_config(const HdCatalogCagg *cagg,
					  Datum start, Oid start_type, bool start_null,
					  Datum end, Oid end_type, bool end_null)
{
	Oid			coltype = get_atttype(cagg->mat_relid,
									  get_attnum(cagg->mat_relid, cagg->bucket_column));
	bool		integer = integer_type(coltype);
	char	   *s = offset_text("start_offset", start, start_type, start_null, coltype);
	char	   *e = offset_text("end_offset", end, end_type, end_null, coltype);
	char	   *config;

	if (s != NULL && e != NULL && !spans_two_buckets(cagg, s, e, integer))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy refresh window too small"),
				 errdetail("start_offset minus end_offset must span two buckets at least (%s each).",
						   cagg->bucket_width_sql)));
	config = psprintf("{\"end_offset\": %s, \"start_offset\": %s, \"mat_hypertable_id\": %d}",
					  offset_json(e, integer), offset_json(s, integer), cagg->id);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(config)));
}
