/* SPDX-License-Identifier: PostgreSQL */
/*
 * fake_libpq.h — an in-memory libpq for fuzzing the agent (fake_libpq.c,
 * fake_pgresult.c).
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

#include <libpq-fe.h>

#include "fuzz_input.h"

/* Where decisions come from (NULL: every decision is "nothing unusual"). */
extern void fake_pq_attach(FuzzInput *in);

/* Connections not yet PQfinish'ed. */
extern int	fake_pq_open_connections(void);

/* Buffers of COPY data the agent was given and did not PQfreemem. */
extern int	fake_pq_buffers_in_use(void);

/* Tags a connection (0 until then), for the query hook and fake_pq_find. */
extern void fake_pq_tag(PGconn *conn, uint64_t tag);

/* The open connection with this tag, or NULL. */
extern PGconn *fake_pq_find(uint64_t tag);

/* Called with the connection's tag whenever a query is sent on it. */
typedef void (*FakePqQueryHook) (uint64_t tag);
extern void fake_pq_on_query(FakePqQueryHook hook);

#endif							/* HD_FAKE_LIBPQ_H */
