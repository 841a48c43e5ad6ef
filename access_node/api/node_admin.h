/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/node_admin.h — looking up data nodes (foreign servers of the hyperdist FDW).
 */
#ifndef HYPERDIST_API_NODE_ADMIN_H
#define HYPERDIST_API_NODE_ADMIN_H

#include "foreign/foreign.h"

/*
 * The data node called name: 42704 if there is none (NULL instead when
 * missing_ok), 42809 if the server belongs to another foreign-data wrapper.
 */
extern ForeignServer *hd_data_node_get(const char *name, bool missing_ok);

/* Every data node's name (hyperdist servers but hyperdist_hypertables), sorted. */
extern List *hd_data_node_names(void);

#endif							/* HYPERDIST_API_NODE_ADMIN_H */
