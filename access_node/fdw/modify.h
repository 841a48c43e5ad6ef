/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/modify.h — INSERT (and COPY FROM) into distributed hypertables
 * through the hyperdist FDW.
 */
#ifndef HYPERDIST_FDW_MODIFY_H
#define HYPERDIST_FDW_MODIFY_H

#include "postgres.h"

#include "foreign/fdwapi.h"

extern void hd_fdw_set_modify_routines(FdwRoutine *routine);

#endif							/* HYPERDIST_FDW_MODIFY_H */
