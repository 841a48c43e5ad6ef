/* SPDX-License-Identifier: PostgreSQL */
/*
 * helper_threads.h — the agent's helper threads as fuzz_agent_request
 * runs them.
 *
 * cancel.c and connect.c are compiled with pthread_create renamed to
 * fuzz_thread_create (Makefile): a helper thread the agent starts waits in
 * the harness's queue, and runs to its end, in the loop's thread, when
 * the input says so.  Its report then goes through the agent's own pipe
 * as always.  So an input decides when each cancel and connection
 * completes relative to everything else, the fake libpq's decisions stay
 * in one thread (reproducible), and no thread is ever started.
 */
#ifndef HD_FUZZ_HELPER_THREADS_H
#define HD_FUZZ_HELPER_THREADS_H

#include <pthread.h>

extern int	fuzz_thread_create(pthread_t *tid, const pthread_attr_t *attr,
							   void *(*start) (void *), void *arg);

/*
 * connect_abort_all() is for good in the agent, which exits after it; the
 * next input needs connect.c as it was at start (agent_connect.c).
 */
extern void fuzz_connect_reset(void);

#endif							/* HD_FUZZ_HELPER_THREADS_H */
