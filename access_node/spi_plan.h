/* SPDX-License-Identifier: PostgreSQL */
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

/*
 * SPI_connect, returning the caller's memory context (where results are
 * copied to before hd_spi_finish), and SPI_finish; an error if they fail.
 */
extern MemoryContext hd_spi_connect(void);
extern void hd_spi_finish(void);

/*
 * SPI_execute_with_args, with a plan kept per backend for a constant text.
 * An error if SPI refuses the call; returns SPI's result code.
 */
extern int	hd_spi_execute(const char *sql, int nargs, Oid *argtypes,
						   Datum *values, const char *nulls, bool read_only,
						   long count);

/* SPI_execute_with_args for a text built at run time. */
extern int	hd_spi_execute_once(const char *sql, int nargs, Oid *argtypes,
								Datum *values, const char *nulls,
								bool read_only, long count);

/*
 * Column col (from 1) of row `row` of the last result, which must have that
 * many rows and columns, the column of type `type`; a NULL is an error
 * unless isnull is given.
 */
extern Datum hd_spi_value(uint64 row, int col, Oid type, bool *isnull);

/* A parameter of type name (a NameData, which a C string is not). */
extern Datum hd_spi_name_arg(const char *str);

#endif							/* HYPERDIST_SPI_PLAN_H */
