/* SPDX-License-Identifier: PostgreSQL */
/*
 * bgw/health_monitor.h — the health monitor: a background worker per
 * database with hyperdist that checks every data node at
 * hyperdist.health_check_interval (see health_monitor.c).
 */
#ifndef HYPERDIST_BGW_HEALTH_MONITOR_H
#define HYPERDIST_BGW_HEALTH_MONITOR_H

#include "postgres.h"

/*
 * For the database's worker (bgw/bgw.c), at every turn of its loop: starts
 * the monitor of database dboid if it is not running (again after a delay
 * if it stopped), and stops it when the worker exits.  Returns the
 * milliseconds after which it wants to be called again, or -1 for "when
 * the monitor stops" (the worker's latch is set then).
 */
extern long hd_health_monitor_supervise(Oid dboid);

extern PGDLLEXPORT void hyperdist_health_monitor_main(Datum arg);

#endif							/* HYPERDIST_BGW_HEALTH_MONITOR_H */
