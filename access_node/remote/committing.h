/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/committing.h — which transactions backends are committing with
 * two-phase commit right now, in shared memory, and the resolver's wake-up.
 *
 * A backend registers the transaction it is committing with two-phase
 * commit from before its local commit until it has sent COMMIT PREPARED
 * everywhere (or aborted): the resolver (remote/txn_resolve.c) leaves such
 * transactions to it, so the two never finish the same prepared
 * transaction at once.
 */
#ifndef HYPERDIST_REMOTE_COMMITTING_H
#define HYPERDIST_REMOTE_COMMITTING_H

#include "access/transam.h"

/* Shared memory: its size, and attaching to it (shmem_startup_hook). */
extern Size hd_committing_shmem_size(void);
extern void hd_committing_shmem_init(void);

extern void hd_committing_begin(FullTransactionId fxid);
extern void hd_committing_end(void);
extern bool hd_committing(FullTransactionId fxid);

/*
 * Wakes whatever resolves this database's in-doubt transactions; with
 * urgent, a branch was handed over and should be resolved at once.  Must
 * neither wait nor raise: called from the COMMIT callback.  The background
 * worker (bgw/bgw.c) registers it; without one, nothing is woken.
 */
typedef void (*HdResolverWake) (bool urgent);
extern void hd_committing_set_wake(HdResolverWake wake);
extern void hd_committing_wake(bool urgent);

#endif							/* HYPERDIST_REMOTE_COMMITTING_H */
