/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/txn_resolve.h — resolving in-doubt two-phase transactions.
 *
 * A prepared transaction of this access node and database on a data node
 * is committed when its access node transaction committed (its commit
 * record is visible), rolled back when that transaction aborted or never
 * committed, and left alone while it is still running or its backend is
 * still finishing it.  Commit records are deleted once their prepared
 * transaction is confirmed gone.
 */
#ifndef HYPERDIST_REMOTE_TXN_RESOLVE_H
#define HYPERDIST_REMOTE_TXN_RESOLVE_H

/*
 * Resolves data node serverid's in-doubt transactions and prunes its
 * records, in the current transaction.  Returns how many prepared
 * transactions it committed or rolled back.
 */
extern int	hd_resolve_node(Oid serverid);

/*
 * The background worker's pass over every data node, each in its own
 * transaction.  A node that fails is retried with exponential backoff;
 * urgent passes ignore the backoff.  Returns the milliseconds until the
 * next retry is due, or -1 when none is.
 */
extern long hd_resolver_pass(bool urgent);

#endif							/* HYPERDIST_REMOTE_TXN_RESOLVE_H */
