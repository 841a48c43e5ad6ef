/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/node_status.h — _hyperdist_catalog.data_node_status: the data
 * nodes the health monitor saw go down, and those it saw come back.
 *
 * The live state is in shared memory (remote/node_health.h); this table
 * keeps its transitions, written only when a node goes down or comes back,
 * so that a restarted access node knows which nodes were down until it
 * has checked them again.  The writes run as the catalog's owner, in the
 * caller's transaction.
 */
#ifndef HYPERDIST_METADATA_NODE_STATUS_H
#define HYPERDIST_METADATA_NODE_STATUS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* One row of the table. */
typedef struct HdNodeStatus
{
	char	   *node_name;
	bool		down;			/* status 'unavailable' ('available' else) */
	TimestampTz since;
	char	   *last_error;		/* NULL if none */
} HdNodeStatus;

/* Every row, in CurrentMemoryContext. */
extern List *hd_node_status_load(void);

/* node_name went down (error says why) or came back, at since. */
extern void hd_node_status_save(const char *node_name, bool down,
								TimestampTz since, const char *error);

/* Forgets node_name (the data node was deleted). */
extern void hd_node_status_forget(const char *node_name);

#endif							/* HYPERDIST_METADATA_NODE_STATUS_H */
