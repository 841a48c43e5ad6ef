/* SPDX-License-Identifier: PostgreSQL */
/*
 * sqlstate.h — SQLSTATEs the agent raises itself (errors from the data
 * node's PostgreSQL are relayed verbatim).  Values as in PostgreSQL's
 * errcodes.txt, so the access node rethrows them with their usual meaning.
 */
#ifndef HYPERDIST_SQLSTATE_H
#define HYPERDIST_SQLSTATE_H

#define HD_SQLSTATE_PROTOCOL_VIOLATION		"08P01"
#define HD_SQLSTATE_CONNECTION_FAILURE		"08006"
#define HD_SQLSTATE_CONNECTION_DOES_NOT_EXIST "08003"	/* unknown session */
#define HD_SQLSTATE_CANNOT_CONNECT			"08001"
#define HD_SQLSTATE_TOO_MANY_CONNECTIONS	"53300"
#define HD_SQLSTATE_OUT_OF_MEMORY			"53200"
#define HD_SQLSTATE_ADMIN_SHUTDOWN			"57P01"
#define HD_SQLSTATE_QUERY_CANCELED			"57014"
#define HD_SQLSTATE_INVALID_AUTHORIZATION	"28000"
#define HD_SQLSTATE_FEATURE_NOT_SUPPORTED	"0A000"
#define HD_SQLSTATE_INTERNAL_ERROR			"XX000"
#define HD_SQLSTATE_PROGRAM_LIMIT_EXCEEDED	"54000"

#endif							/* HYPERDIST_SQLSTATE_H */
