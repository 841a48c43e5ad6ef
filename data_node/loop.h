/* SPDX-License-Identifier: PostgreSQL */
/*
 * loop.h — the agent's single event loop.
 *
 * One zmq_poll over the ROUTER, the ZAP handler's socket, the ROUTER's
 * monitor, a signalfd, the pipes on which cancel and connect threads report
 * back, and the libpq socket of every session that is waiting for its
 * server.  No call in the loop blocks: libpq runs nonblocking, replies are
 * sent with ZMQ_DONTWAIT (parked on EAGAIN), and connection setup and
 * cancel requests go to helper threads.  A slow query or a slow
 * authentication therefore never delays another session.
 */
#ifndef HD_AGENT_LOOP_H
#define HD_AGENT_LOOP_H

#include <stdbool.h>
#include <stddef.h>

/* How long SIGTERM waits for running work and open transactions. */
#define HD_DRAIN_MS 5000

/*
 * How long the agent waits at exit, after closing its sessions, for cancel
 * and connect threads, and for access-node backends to take their last
 * replies (farewell.h).
 */
#define HD_EXIT_WAIT_MS 2000

/*
 * Test-only: the wait at exit in ms (1-60000) instead of HD_EXIT_WAIT_MS,
 * so a test can hold a backend's reading of its last reply for as long as
 * it likes.
 */
#define HD_TEST_EXIT_WAIT_ENV "HYPERDIST_AGENT_TEST_EXIT_WAIT_MS"

/*
 * Blocks SIGTERM, SIGINT and SIGHUP and opens a signalfd for them; reads
 * HD_TEST_EXIT_WAIT_ENV.  Call before any thread exists (libzmq's, the
 * cancel helpers'), so all of them inherit the mask and the signals reach
 * only the loop.
 */
extern bool loop_init(char *err, size_t errlen);

/*
 * Runs until shutdown is complete.  zap is NULL with --insecure, monitor
 * NULL if it could not be set up.
 */
extern void loop_run(void *router, void *zap, void *monitor);

#endif							/* HD_AGENT_LOOP_H */
