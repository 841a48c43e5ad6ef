/*
 * cancel.h — sending PostgreSQL cancel requests without blocking the loop.
 *
 * libpq 15's PQcancel is synchronous (it opens a new connection to the
 * server), and the asynchronous PQcancelStart/Poll only arrived in libpq 17.
 * The libpq docs allow PQcancel on a PGcancel from a thread other than the
 * one using the PGconn, so each cancel runs in a short-lived detached
 * thread that owns, and frees, its PGcancel.
 */
#ifndef HD_AGENT_CANCEL_H
#define HD_AGENT_CANCEL_H

#include <stdbool.h>

#include <libpq-fe.h>

/* Cancels conn's running command in the background; label names it in logs. */
extern bool cancel_async(PGconn *conn, const char *label);

/* Same, but waits (used only at shutdown, when nothing else must be served). */
extern bool cancel_sync(PGconn *conn, const char *label);

#endif							/* HD_AGENT_CANCEL_H */
