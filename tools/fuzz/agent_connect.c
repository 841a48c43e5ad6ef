/* SPDX-License-Identifier: PostgreSQL */
/*
 * agent_connect.c — data_node/connect.c as fuzz_agent_request links it.
 *
 * The file is compiled as it is, from here, to reach its state: the
 * harness runs many inputs in one process, and connect_abort_all()
 * (shutdown) leaves connect.c aborted for good, which the agent never
 * needs to undo because it exits.  Its threads start through
 * fuzz_thread_create (helper_threads.h, Makefile).
 */
#include "connect.c"
#include "helper_threads.h"

void
fuzz_connect_reset(void)
{
	uint64_t	signals;

	/* The eventfd is readable while aborted; reading it resets it. */
	if (aborted && read(abort_fd, &signals, sizeof(signals)) != (ssize_t) sizeof(signals))
		abort();
	aborted = false;
}
