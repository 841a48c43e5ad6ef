/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/node_health.h — what this server knows of each data node's health, in
 * shared memory: whether it is down, since when, why, and when it last
 * answered a check.
 *
 * Two kinds of reporters keep it.  A backend that cannot reach a node
 * (remote/session.c) marks it down at once, so that other statements skip
 * it without waiting for a timeout of their own.  The background worker's
 * monitor (bgw/) checks every data node at hyperdist.health_check_interval:
 * failures for hyperdist.node_failure_timeout mark a node down, a success
 * marks it reachable again.  Readers and writers consult it when they
 * choose replicas (metadata/chunk.c): a node that is down is neither read
 * nor written, and writes mark its replicas stale.
 *
 * Entries are keyed by database and foreign server; a node that was never
 * reported is up.  The table holds HD_HEALTH_MAX_NODES entries; past that,
 * further nodes are not tracked (and so count as up), with a WARNING.
 */
#ifndef HYPERDIST_REMOTE_NODE_HEALTH_H
#define HYPERDIST_REMOTE_NODE_HEALTH_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define HD_HEALTH_MAX_NODES 512
#define HD_HEALTH_ERROR_LEN 256

typedef struct HdNodeHealth
{
	bool		down;
	TimestampTz since;			/* when it went down (or came back up) */
	TimestampTz first_failure;	/* of the failures since the last success;
								 * 0 if the last check succeeded */
	TimestampTz last_ok;		/* the last successful check; 0: none yet */
	char		error[HD_HEALTH_ERROR_LEN]; /* the last failure's, "" if none */
} HdNodeHealth;

/* Shared memory: its size, and attaching to it (shmem_startup_hook). */
extern Size hd_health_shmem_size(void);
extern void hd_health_shmem_init(void);

/* Whether serverid, a data node of this database, is known to be down. */
extern bool hd_health_node_down(Oid serverid);

/*
 * A backend could not reach serverid (error says why): it is down from
 * now on, until a check of the monitor sees it answer.  Returns whether it
 * was up until now.  Never raises.
 */
extern bool hd_health_report_failure(Oid serverid, const char *error);

/*
 * A check of the monitor: ok, or failed with error.  A node whose checks
 * have failed for failure_timeout_ms goes down; a success brings it up.
 */
extern void hd_health_record_check(Oid serverid, bool ok, const char *error,
								   int failure_timeout_ms);

/*
 * The node is to be tried again at once (alter_data_node(available =>
 * true)): it is up until a check or a backend sees it fail.
 */
extern void hd_health_clear(Oid serverid);

/*
 * What the catalog remembers of a node that was down (since, error), for
 * a monitor that starts: applied only when serverid has no entry yet, so
 * fresher news in shared memory wins.
 */
extern void hd_health_restore_down(Oid serverid, TimestampTz since,
								   const char *error);

/* serverid's entry; false (and *out all clear) if none. */
extern bool hd_health_get(Oid serverid, HdNodeHealth *out);

/* Forgets serverid (the data node was deleted). */
extern void hd_health_forget(Oid serverid);

#endif							/* HYPERDIST_REMOTE_NODE_HEALTH_H */
