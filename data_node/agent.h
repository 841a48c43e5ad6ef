/* SPDX-License-Identifier: PostgreSQL */
/*
 * agent.h — process-wide state of hyperdist-agent.
 *
 * The agent is one thread running one event loop (loop.c); these globals
 * are owned by that thread.  Only cancel.c and connect.c start other
 * threads, and those touch nothing here.
 */
#ifndef HD_AGENT_AGENT_H
#define HD_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define HD_AGENT_VERSION "0.1.0"

/* Boot id: a random number chosen at start, echoed in every reply. */
extern uint64_t agent_epoch;

/* The effective configuration (file merged with flags), replaced on SIGHUP. */
extern AgentConfig *agent_config;

/* Set by SIGTERM/SIGINT: refuse new Hellos, drain, exit. */
extern bool agent_shutting_down;

/* Re-reads the config file and authorized keys (SIGHUP). */
extern void agent_reload(void);

#endif							/* HD_AGENT_AGENT_H */
