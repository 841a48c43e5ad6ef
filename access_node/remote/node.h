/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/node.h — the data nodes this access node knows: foreign servers of
 * the hyperdist foreign data wrapper, and their options.
 *
 * A data node is a foreign server of the wrapper "hyperdist"; its options
 * say where the node's agent listens and which database to use there.
 * The wrapper's validator (fdw/option.c) checks them as they are set.
 */
#ifndef HYPERDIST_REMOTE_NODE_H
#define HYPERDIST_REMOTE_NODE_H

#include "postgres.h"

#include "foreign/foreign.h"

#define HD_FDW_NAME "hyperdist"
/* The server of distributed hypertables' foreign tables (not a data node). */
#define HD_HYPERTABLES_SERVER "hyperdist_hypertables"

/* A data node's server options, defaults applied. */
typedef struct HdServerOptions
{
	char	   *host;			/* the agent's host */
	int			port;			/* the agent's port */
	char	   *dbname;			/* database on the data node */
	char	   *agent_public_key;	/* Z85; "" when the agent is insecure */
	bool		available;
} HdServerOptions;

/* Reads server's options (palloc'd in the current memory context). */
extern void hd_server_options_get(ForeignServer *server, HdServerOptions *opts);

/*
 * True when server is a data node: a server of the hyperdist foreign data
 * wrapper other than hyperdist_hypertables.
 */
extern bool hd_server_is_data_node(ForeignServer *server);

/* True when a server's options make it hyperdist_hypertables. */
extern bool hd_server_options_hypertables(List *options);

/* OID of hyperdist_hypertables (InvalidOid while it does not exist). */
extern Oid	hd_hypertables_server_oid(void);

/* The foreign servers of every data node, in no particular order. */
extern List *hd_data_node_oids(void);

/*
 * Port as given to add_data_node or alter_data_node, or in an option:
 * ERROR unless 1..65535.
 */
extern void hd_check_port(int port);
/* The port option's value, checked. */
extern int	hd_parse_port(const char *value);

#endif							/* HYPERDIST_REMOTE_NODE_H */
