/*
 * spi_plan.c — the extension's own SQL: catalog queries planned once per
 * backend, and every statement run with a search_path no role can change.
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
 */
#include "postgres.h"

#include "executor/spi.h"
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
	return rc;
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
	return rc;
}
