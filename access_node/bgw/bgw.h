/*
 * bgw/bgw.h — hyperdist's background workers and the shared memory they share
 * with backends.
 *
 * A launcher (a static background worker registered from _PG_init) starts
 * and supervises one worker per database that has the extension.  The
 * worker resolves in-doubt two-phase transactions (remote/txn_resolve.c).
 */
#ifndef HYPERDIST_BGW_BGW_H
#define HYPERDIST_BGW_BGW_H

#include "access/transam.h"

/* From _PG_init: shared memory, the launcher, the utility hook. */
extern void hd_bgw_init(void);

/*
 * Makes sure this database's worker runs (it is started on first use);
 * with urgent, it also runs a resolution pass at once.  Never waits or
 * raises: callable from the COMMIT callback.
 */
extern void hd_bgw_wake(bool urgent);

extern PGDLLEXPORT void hyperdist_launcher_main(Datum arg);
extern PGDLLEXPORT void hyperdist_worker_main(Datum arg);

#endif							/* HYPERDIST_BGW_BGW_H */
