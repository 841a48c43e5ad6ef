/*
 * remote/txn.h — remote transactions tied to the local one.
 *
 * A session joins the local transaction the first time it is used with
 * transactional = true (hd_conn_get).  At PRE_COMMIT every participant is
 * committed (one-phase for now; the two-phase protocol replaces this), at
 * abort every participant is rolled back without waiting.  Local PREPARE
 * TRANSACTION is refused when data nodes take part.
 */
#ifndef HYPERDIST_REMOTE_TXN_H
#define HYPERDIST_REMOTE_TXN_H

typedef struct HdConn HdConn;

extern void hd_txn_init(void);	/* from _PG_init: registers the callbacks */

/* Called by hd_conn_get: opens the remote transaction on conn if needed. */
extern void hd_txn_begin_on(HdConn *conn);

#endif							/* HYPERDIST_REMOTE_TXN_H */
