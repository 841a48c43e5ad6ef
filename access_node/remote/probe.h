/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/probe.h — can the data nodes be used?  The health monitor's check.
 */
#ifndef HYPERDIST_REMOTE_PROBE_H
#define HYPERDIST_REMOTE_PROBE_H

#include "postgres.h"

/*
 * Checks each of the n data nodes serverids, all at once: its agent
 * answers a Ping, then its PostgreSQL runs a query in this role's cached
 * session.  Each step waits at most timeout_ms, and each session opened
 * for the second takes at most timeout_ms more.  errors[i] is NULL when
 * serverids[i] passed, else why it did not.  Runs in a transaction; a
 * node's failure, whatever it is, is its errors[i], never an error raised.
 */
extern void hd_probe_nodes(int n, const Oid *serverids, int timeout_ms,
						   char **errors);

#endif							/* HYPERDIST_REMOTE_PROBE_H */
