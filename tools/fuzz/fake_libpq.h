/*
 * fake_libpq.h — an in-memory libpq for fuzzing the agent (fake_libpq.c).
 *
 * The fake implements the libpq functions the agent calls, with libpq's
 * signatures (it includes libpq-fe.h), and plays a PostgreSQL server whose
 * every decision is drawn from the back of the fuzz input: whether a
 * connection succeeds and with which error, what each statement returns
 * (rows, a command tag, an error, COPY in or out, notices), when input
 * is pending, when the connection is lost.  Nothing touches a socket or
 * sleeps, so runs are fast and reproducible.
 *
 * A call the agent may not make in its situation (PQgetResult while
 * PQisBusy is true on a nonblocking connection, a field outside the
 * result, a second query while one runs) aborts: it would hang or be
 * undefined with the real libpq.
 */
#ifndef HD_FAKE_LIBPQ_H
#define HD_FAKE_LIBPQ_H

#include "fuzz_input.h"

/* Where decisions come from (NULL: every decision is "nothing unusual"). */
extern void fake_pq_attach(FuzzInput *in);

/* Connections not yet PQfinish'ed. */
extern int	fake_pq_open_connections(void);

#endif							/* HD_FAKE_LIBPQ_H */
