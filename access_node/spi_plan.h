/*
 * spi_plan.h — catalog queries planned once per backend.
 */
#ifndef HYPERDIST_SPI_PLAN_H
#define HYPERDIST_SPI_PLAN_H

#include "postgres.h"

extern int	hd_spi_execute(const char *sql, int nargs, Oid *argtypes,
						   Datum *values, const char *nulls, bool read_only,
						   long count);

#endif							/* HYPERDIST_SPI_PLAN_H */
