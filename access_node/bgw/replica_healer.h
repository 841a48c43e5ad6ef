/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/replica_healer.h — the replica healer: a background worker per
 * database that brings stale chunk replicas up to date and gives
 * under-replicated chunks their missing replicas.
 *
 * The database's worker (bgw/bgw.c) starts it when there is such work and
 * none runs; it exits once there is none left.  It copies one chunk at a
 * time (placement/replica_copy.c), so it never holds more than one
 * hypertable's final switch.
 */
#ifndef HYPERDIST_BGW_REPLICA_HEALER_H
#define HYPERDIST_BGW_REPLICA_HEALER_H

#include "postgres.h"

/*
 * From the database's worker, between its passes: starts the healer if
 * replicas need copying and it does not run.  Never raises; the healer is
 * stopped when the calling worker exits.
 */
extern void hd_healer_start_if_needed(void);

extern PGDLLEXPORT void hyperdist_healer_main(Datum arg);

#endif							/* HYPERDIST_BGW_REPLICA_HEALER_H */
