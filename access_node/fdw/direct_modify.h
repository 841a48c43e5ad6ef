/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/direct_modify.h — UPDATE and DELETE of distributed hypertables,
 * run by the data nodes.
 */
#ifndef HYPERDIST_FDW_DIRECT_MODIFY_H
#define HYPERDIST_FDW_DIRECT_MODIFY_H

#include "postgres.h"

#include "foreign/fdwapi.h"

extern void hd_fdw_set_direct_modify_routines(FdwRoutine *routine);

#endif							/* HYPERDIST_FDW_DIRECT_MODIFY_H */
