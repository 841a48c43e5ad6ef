/* SPDX-License-Identifier: PostgreSQL */
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
#include "nodes/nodes.h"
#include "postmaster/bgworker.h"

/* Shared memory of the launcher and the workers (from init.c's hooks). */
extern Size hd_bgw_shmem_size(void);
extern void hd_bgw_shmem_init(void);

/* Registers the launcher (from _PG_init). */
extern void hd_bgw_register(void);

/*
 * A worker connected to a database keeps DROP DATABASE and a few ALTER and
 * CREATE DATABASE forms from working: hd_bgw_pause_for stops the worker of
 * the database stmt needs to itself, if any, and returns that database
 * (InvalidOid if none); hd_bgw_resume(that) lets it start again.
 */
extern Oid	hd_bgw_pause_for(Node *stmt);
extern void hd_bgw_resume(Oid dboid);

/*
 * Makes sure this database's worker runs (it is started on first use);
 * with urgent, it also runs a resolution pass at once.  Never waits or
 * raises: callable from the COMMIT callback.
 */
extern void hd_bgw_wake(bool urgent);

/*
 * For the main functions of hyperdist's processes: the start (signals, the
 * connection to dboid or to no database, the name), and the top of each
 * turn of their loops (interrupts, a pending reload).
 */
extern void hd_bgw_begin(Oid dboid, const char *name);

/*
 * Fills *w for a dynamic worker of hyperdist that connects to a database
 * and notifies this process when it starts and ends.  It is never
 * restarted by the postmaster: the process that starts it starts it
 * again when needed.  bgw_name is the type; callers make it more precise.
 */
extern void hd_bgw_dynamic_worker(BackgroundWorker *w, const char *type,
								  const char *function, Datum arg);
extern void hd_bgw_loop_top(void);

extern PGDLLEXPORT void hyperdist_launcher_main(Datum arg);
extern PGDLLEXPORT void hyperdist_worker_main(Datum arg);

#endif							/* HYPERDIST_BGW_BGW_H */
