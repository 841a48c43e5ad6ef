/* SPDX-License-Identifier: PostgreSQL */
/*
 * catch.h — going on after an error, in the two ways hyperdist does.
 *
 * A background process (the resolver, the health monitor, the replica
 * healer) that fails one step of its pass aborts that step's transaction,
 * logs or keeps the error, and goes on with the next.  A function that
 * must report one data node's failure as a value rather than fail
 * (health(), the health monitor's probe) runs that node's step in an
 * internal subtransaction, rolled back on error.  Both are called in
 * PG_CATCH; they return the error copied into cxt, which they leave
 * current.
 */
#ifndef HYPERDIST_CATCH_H
#define HYPERDIST_CATCH_H

#include "postgres.h"

#include "utils/resowner.h"

extern ErrorData *hd_catch_abort_xact(MemoryContext cxt);

/*
 * A background process's step of a pass, in a transaction of its own with
 * a snapshot: step's result, or -1 when it failed (logged, "hyperdist:
 * what: message", and its transaction aborted).
 */
extern long hd_catch_xact_step(long (*step) (void), const char *what);

/*
 * The step began with BeginInternalSubTransaction in cxt, under owner:
 * hd_subxact_commit after it succeeded, hd_catch_abort_subxact after it
 * failed, both returning to cxt and owner.
 */
extern void hd_subxact_commit(MemoryContext cxt, ResourceOwner owner);
extern ErrorData *hd_catch_abort_subxact(MemoryContext cxt, ResourceOwner owner);

#endif							/* HYPERDIST_CATCH_H */
