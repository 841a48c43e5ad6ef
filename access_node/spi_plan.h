/*
 * spi_plan.h — the extension's own SQL: kept plans, a fixed search_path.
 */
#ifndef HYPERDIST_SPI_PLAN_H
#define HYPERDIST_SPI_PLAN_H

#include "postgres.h"

/* The search_path every statement of the extension's own runs with. */
#define HD_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Sets search_path to HD_SAFE_SEARCH_PATH until the matching end (or the
 * (sub)transaction's abort, which undoes it too).
 */
extern int	hd_safe_search_path_begin(void);
extern void hd_safe_search_path_end(int nestlevel);

/* SPI_execute_with_args, with a plan kept per backend for a constant text. */
extern int	hd_spi_execute(const char *sql, int nargs, Oid *argtypes,
						   Datum *values, const char *nulls, bool read_only,
						   long count);

/* SPI_execute_with_args for a text built at run time. */
extern int	hd_spi_execute_once(const char *sql, int nargs, Oid *argtypes,
								Datum *values, const char *nulls,
								bool read_only, long count);

#endif							/* HYPERDIST_SPI_PLAN_H */
