/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/txn.h — remote transactions tied to the local one.
 *
 * A session joins the local transaction the first time it is used with
 * transactional = true (hd_conn_get).  Subtransactions are mirrored by
 * savepoints on the data nodes that take part in them.  At commit, data
 * nodes that were written to commit with two-phase commit (see txn.c),
 * the others with a plain COMMIT, and so does a single written node when
 * nothing was written on the access node; at abort every participant is
 * rolled back without waiting.  Local PREPARE TRANSACTION is refused when data
 * nodes take part.
 */
#ifndef HYPERDIST_REMOTE_TXN_H
#define HYPERDIST_REMOTE_TXN_H

#include "access/xact.h"

typedef struct HdConn HdConn;

/* The transaction callbacks (registered by init.c). */
extern void hd_txn_xact_callback(XactEvent event, void *arg);
extern void hd_txn_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									SubTransactionId parentSubid, void *arg);

/*
 * Called by hd_conn_get: opens the remote transaction on conn if needed.
 * Also by a reader that joins one only where it is open (fdw/scan.c): for
 * a remote transaction in a state where nothing may run, an error says why.
 */
extern void hd_txn_begin_on(HdConn *conn);

/*
 * Called by remote/request.c before it sends work on conn's open remote
 * transaction: creates the remote savepoints of the nest levels the local
 * transaction entered since conn was last used.
 */
extern void hd_txn_sync_savepoints(HdConn *conn);

#endif							/* HYPERDIST_REMOTE_TXN_H */
