/* SPDX-License-Identifier: PostgreSQL */
/*
 * spi_plan.c — the extension's own SQL: catalog queries planned once per
 * backend, every statement run with a search_path no role can change, SPI
 * checked.
 *
 * The access node reads its catalog whenever its catalog cache misses
 * (metadata/cache.c) and when it creates chunks.  Planning those queries
 * again each time cost more than running them (in a profile of a one-host
 * TSBS query, before the catalog cache, half of the access node's time went
 * to planning catalog queries), so each query text is prepared the first
 * time it runs and kept for the backend's life.  Kept plans are cached
 * plans: catalog DDL (an extension update) replans them.
 *
 * Whatever the caller's search_path, the extension's SQL runs with
 * search_path = pg_catalog, pg_temp: an operator or function a role put in
 * a schema ahead of pg_catalog (an "alice.<=" for bigint) must never be
 * what the extension's SQL calls, because part of it runs as the catalog's
 * owner (metadata/catalog.c), and the rest decides where rows go.  pg_temp last
 * finds no function or operator there (PostgreSQL never looks up functions
 * in pg_temp unless it is named).
 *
 * SPI's failures are errors here (hd_spi_connect, hd_spi_finish, and a
 * negative result code), and hd_spi_value checks each value read against
 * the row count, the column's type and NULL, so that a result other than
 * its reader expects fails loudly instead of being misread.  The catalog's
 * queries are all in metadata/catalog_read.c and metadata/catalog.c.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "spi_plan.h"

typedef struct HdKeptPlan
{
	const char *sql;
	SPIPlanPtr	plan;
} HdKeptPlan;

/* in TopMemoryContext; a few dozen query texts at most */
static List *kept_plans = NIL;

static SPIPlanPtr
kept_plan(const char *sql, int nargs, Oid *argtypes)
{
	MemoryContext oldcxt;
	HdKeptPlan *kept;
	SPIPlanPtr	plan;
	ListCell   *lc;

	foreach(lc, kept_plans)
	{
		kept = lfirst(lc);
		if (strcmp(kept->sql, sql) == 0)
			return kept->plan;
	}

	/* generic from the start: a custom plan would be planned per execution */
	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	kept = palloc(sizeof(HdKeptPlan));
	kept->sql = pstrdup(sql);
	kept->plan = plan;
	kept_plans = lappend(kept_plans, kept);
	MemoryContextSwitchTo(oldcxt);
	return plan;
}

MemoryContext
hd_spi_connect(void)
{
	MemoryContext caller = CurrentMemoryContext;
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
	return caller;
}

void
hd_spi_finish(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
}

/* SPI reports a misuse (not an SQL error, which it raises) as rc < 0. */
static int
checked(int rc, const char *sql)
{
	if (rc < 0)
		elog(ERROR, "SPI failed for \"%s\": %s", sql, SPI_result_code_string(rc));
	return rc;
}

Datum
hd_spi_value(uint64 row, int col, Oid type, bool *isnull)
{
	bool		null;
	Datum		value;

	if (SPI_tuptable == NULL || row >= SPI_processed ||
		col < 1 || col > SPI_tuptable->tupdesc->natts)
		elog(ERROR, "no row " UINT64_FORMAT " column %d in the query's result", row, col);
	if (SPI_gettypeid(SPI_tuptable->tupdesc, col) != type)
		elog(ERROR, "column %d of the query's result is of type %s, not %s", col,
			 format_type_be(SPI_gettypeid(SPI_tuptable->tupdesc, col)),
			 format_type_be(type));
	value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &null);
	if (null && isnull == NULL)
		elog(ERROR, "column %d of the query's result is NULL", col);
	if (isnull != NULL)
		*isnull = null;
	return value;
}

/* cut to NAMEDATALEN - 1 bytes as the parser cuts an identifier */
Datum
hd_spi_name_arg(const char *str)
{
	return DirectFunctionCall1(namein, CStringGetDatum(str));
}

int
hd_safe_search_path_begin(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", HD_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nestlevel;
}

void
hd_safe_search_path_end(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * SPI_execute_with_args for a query text that is always the same (a
 * literal, not built from values): its plan is made once per backend.
 */
int
hd_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls, bool read_only, long count)
{
	int			nestlevel = hd_safe_search_path_begin();
	int			rc;

	rc = SPI_execute_plan(kept_plan(sql, nargs, argtypes), values, nulls,
						  read_only, count);
	hd_safe_search_path_end(nestlevel);
	return checked(rc, sql);
}

/* The same for a query text built at run time: planned each time. */
int
hd_spi_execute_once(const char *sql, int nargs, Oid *argtypes, Datum *values,
					const char *nulls, bool read_only, long count)
{
	int			nestlevel = hd_safe_search_path_begin();
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls,
							   read_only, count);
	hd_safe_search_path_end(nestlevel);
	return checked(rc, sql);
}
