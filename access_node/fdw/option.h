/*
 * fdw/option.h — options of the hyperdist foreign data wrapper.
 *
 * A data node is a foreign server of the wrapper "hyperdist"; its options
 * say where the node's agent listens and which database to use there.
 * Foreign tables and their columns may name the remote object.
 */
#ifndef HYPERDIST_FDW_OPTION_H
#define HYPERDIST_FDW_OPTION_H

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

/* OID of hyperdist_hypertables (InvalidOid while it does not exist). */
extern Oid	hd_hypertables_server_oid(void);

/*
 * Port as given to add_data_node or alter_data_node, or in an option:
 * ERROR unless 1..65535.
 */
extern void hd_check_port(int port);

/* Remote schema and table names of foreign table relid. */
extern void hd_table_remote_name(Oid relid, char **nspname, char **relname);

/* Remote name of column attnum of foreign table relid. */
extern char *hd_column_remote_name(Oid relid, AttrNumber attnum);

#endif							/* HYPERDIST_FDW_OPTION_H */
