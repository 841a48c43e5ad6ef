/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/target.h — where to open a data node session, and as whom.
 */
#ifndef HYPERDIST_REMOTE_TARGET_H
#define HYPERDIST_REMOTE_TARGET_H

#include "foreign/foreign.h"

/* Where and as whom to open a session (see hd_conn_target_for_server). */
typedef struct HdConnTarget
{
	const char *node_name;		/* for messages */
	const char *host;			/* agent host */
	int			port;			/* agent port */
	const char *dbname;			/* database on the data node */
	const char *user;			/* role on the data node */
	const char *password;		/* NULL: from hyperdist.passfile when the
								 * session opens, if it has an entry */
	const char *agent_public_key;	/* Z85; NULL or "": plain text (insecure) */
} HdConnTarget;

/*
 * Builds the target for foreign server serverid and role userid: host, port,
 * dbname and agent_public_key from the server's options, user and password
 * from the user mapping if any, else the role's name (and no password: the
 * passfile is consulted when the session opens, for the database it really
 * opens).  palloc'd in the current memory context.
 */
extern HdConnTarget *hd_conn_target_for_server(Oid serverid, Oid userid);

extern HdConnTarget *hd_conn_target_copy(MemoryContext cxt,
										 const HdConnTarget *src);
extern UserMapping *hd_find_user_mapping(Oid serverid, Oid userid);

/*
 * Looks the password up in hyperdist.passfile (libpq passfile syntax),
 * matching the agent's host and port; NULL when it has none.
 */
extern char *hd_passfile_lookup(const char *host, int port, const char *dbname,
								const char *user);

#endif							/* HYPERDIST_REMOTE_TARGET_H */
