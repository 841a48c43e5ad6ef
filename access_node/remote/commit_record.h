/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/commit_record.h — two-phase commit identifiers and the durable
 * commit records (_hyperdist_catalog.commit_record).
 *
 * A gid is hd_<access node system identifier>_<database oid>_<full xid of
 * the access node transaction>_<data node's foreign server oid>, so a
 * resolver recognises exactly the prepared transactions of its own access
 * node and database, on the node it is looking at.
 *
 * A record (gid, node, xid, created) is inserted by the committing
 * backend inside its own local transaction, before PREPARE: it is visible
 * exactly when that transaction committed.  Records are deleted only once
 * the prepared transaction is known to be gone from the data node.
 */
#ifndef HYPERDIST_REMOTE_COMMIT_RECORD_H
#define HYPERDIST_REMOTE_COMMIT_RECORD_H

#include "access/transam.h"
#include "access/xact.h"
#include "nodes/pg_list.h"

/* The gid of the transaction fxid's branch on data node serverid. */
extern void hd_gid_format(char gid[GIDSIZE], FullTransactionId fxid, Oid serverid);

/* The part every gid of this access node and database starts with. */
extern char *hd_gid_prefix(void);

/* Parses a gid of this access node and database; false for any other. */
extern bool hd_gid_parse(const char *gid, FullTransactionId *fxid, Oid *serverid);

/* Inserts the records of n branches of the current transaction. */
extern void hd_record_insert(int n, char *const *gids, const Oid *servers,
							 FullTransactionId fxid);

/* gids (char *) of serverid's records, as committed right now. */
extern List *hd_record_gids(Oid serverid);

/* Those of gids (char *) that have a record, as committed right now. */
extern List *hd_record_filter(List *gids);

/* Deletes the records of gids (char *). */
extern void hd_record_delete(List *gids);

/* Deletes the records of data nodes that no longer exist; returns how many. */
extern uint64 hd_record_prune_orphans(void);

#endif							/* HYPERDIST_REMOTE_COMMIT_RECORD_H */
