/* SPDX-License-Identifier: PostgreSQL */
/*
 * connect.h — setting up sessions' PostgreSQL connections in helper
 * threads, so the event loop never waits for one.
 *
 * Everything libpq does from the start of a connection to a ready one may
 * take long: resolving a host name, TCP and TLS handshakes, and SCRAM,
 * whose client proof hashes the password once per iteration.  So each
 * connection is made by a helper thread, from PQconnectStartParams to
 * PGRES_POLLING_OK, with poll() on its socket, the 30 s deadline and the
 * shutdown signal.  At most connect_threads of them run at once; Hellos
 * beyond that wait their turn in a FIFO the loop owns.
 *
 * A PGconn has one owner at a time: the thread from its creation until it
 * reports, the loop after.  The report (the job, with the ready connection
 * or libpq's error text) travels through a pipe the loop polls; the
 * thread touches nothing else of the loop's, so a session closed
 * meanwhile is simply not found, and its connection is finished then.
 */
#ifndef HD_AGENT_CONNECT_H
#define HD_AGENT_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* How long a Hello may take to connect, waiting for a thread included. */
#define HD_CONNECT_TIMEOUT_MS	30000

/*
 * Test-only: each connect thread waits this many milliseconds (at most
 * 60000, cut short by shutdown) before connecting, so tests can check
 * that other sessions are served meanwhile.  Never set it in production.
 */
#define HD_TEST_CONNECT_DELAY_ENV "HYPERDIST_AGENT_TEST_CONNECT_DELAY_MS"

/* Creates the completion pipe and the shutdown signal.  Call once. */
extern bool connect_init(char *err, size_t errlen);

/* The read end of the completion pipe, for the loop's poll set. */
extern int	connect_fd(void);

/*
 * Connects with keys/vals (NULL-terminated, copied; the copy of every
 * value is zeroed once the thread is done with it) for session_id, by
 * deadline (now_ms() clock).  With require_password, a connection the
 * server lets in without asking for a password is refused (see
 * CONNECT_NO_PASSWORD).  Returns the job's token, which the report
 * carries.  The job waits when connect_threads are busy.
 */
extern uint64_t connect_start(const char *const *keys, const char *const *vals,
							  uint64_t session_id, int64_t deadline,
							  bool require_password);

/* Drops a job that still waits for a thread; a running one reports anyway. */
extern void connect_forget(uint64_t token);

/* How a job ended. */
typedef enum ConnectOutcome
{
	CONNECT_READY,				/* a ready connection */
	CONNECT_FAILED,				/* no connection: libpq's error text says why */

	/*
	 * The server let the session in without asking for a password (trust,
	 * peer, ...): refused, and the connection finished.  The Hello's role
	 * would be proven by nothing but the access node's key.
	 */
	CONNECT_NO_PASSWORD
} ConnectOutcome;

/*
 * A finished job.  CONNECT_READY: conn is a ready, nonblocking connection
 * that the callee now owns (keeps or PQfinish'es).  CONNECT_FAILED: error
 * is libpq's text.  Otherwise conn and error are NULL.
 */
typedef void (*ConnectDoneFn) (uint64_t session_id, uint64_t token,
							   ConnectOutcome outcome, PGconn *conn,
							   const char *error);

/* Reads the completion pipe without blocking, then starts waiting jobs. */
extern void connect_collect(ConnectDoneFn done);

/* Starts waiting jobs when threads are free (connect_threads may have grown). */
extern void connect_dispatch(void);

/* Shutdown: every running thread gives up at once; waiting jobs are dropped. */
extern void connect_abort_all(void);

/* Connect threads started and not yet collected (the loop waits at exit). */
extern int	connect_in_flight(void);

#endif							/* HD_AGENT_CONNECT_H */
