/* SPDX-License-Identifier: PostgreSQL */
/*
 * cancel.h — sending PostgreSQL cancel requests without blocking the loop.
 *
 * libpq 15's PQcancel is synchronous (it opens a new connection to the
 * server), and the asynchronous PQcancelStart/Poll only arrived in libpq 17.
 * The libpq docs allow PQcancel on a PGcancel from a thread other than the
 * one using the PGconn, so each cancel runs in a short-lived detached
 * thread that owns, and frees, its PGcancel.
 *
 * A cancel request names a backend, not a statement: whatever that backend
 * runs when the request arrives is cancelled.  So a session must not start
 * its next request while a cancel it sent may still be on its way (see
 * session.c).  Each thread therefore reports back to the loop when PQcancel
 * has returned, through a pipe the loop polls (cancel_fd), with the session
 * id and the token cancel_async returned.  The thread never touches session
 * memory: the session may be closed and freed meanwhile, and the loop then
 * finds no session for the id (or one with another token) and ignores the
 * report.
 */
#ifndef HD_AGENT_CANCEL_H
#define HD_AGENT_CANCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/*
 * Test-only: when this environment variable holds a number of
 * milliseconds, each cancel thread sleeps that long before PQcancel, which
 * widens the window in which a cancel is in flight (data_node/test/smoke.sh
 * uses it to check that a late cancel never hits the next request).  Never
 * set it in production: it only delays cancels.
 */
#define HD_TEST_CANCEL_DELAY_ENV "HYPERDIST_AGENT_TEST_CANCEL_DELAY_MS"

/* Creates the completion pipe.  Call once, before the loop runs. */
extern bool cancel_init(char *err, size_t errlen);

/* The read end of the completion pipe, for the loop's poll set. */
extern int	cancel_fd(void);

/*
 * Cancels conn's running command from a helper thread.  Returns a token
 * (nonzero, never reused) that the loop gets back with session_id from
 * cancel_collect once PQcancel has returned; 0 when nothing is in flight
 * (no cancel key, or no thread could be started and the cancel was sent
 * inline).  label names the session in logs.
 */
extern uint64_t cancel_async(PGconn *conn, uint64_t session_id, const char *label);

/* Same, but waits (used only at shutdown, when nothing else must be served). */
extern bool cancel_sync(PGconn *conn, const char *label);

/* Called by cancel_collect for each cancel whose PQcancel has returned. */
typedef void (*CancelDoneFn) (uint64_t session_id, uint64_t token);

/* Reads the completion pipe without blocking; done may be NULL. */
extern void cancel_collect(CancelDoneFn done);

/* Cancel threads started and not yet collected (the loop waits at exit). */
extern int	cancel_in_flight(void);

#endif							/* HD_AGENT_CANCEL_H */
