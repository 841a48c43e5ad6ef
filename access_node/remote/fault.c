/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/fault.c — fault injection in the distributed commit protocol, for tests.
 *
 * The crash action is SIGKILL on the backend itself, not an exit or a
 * PANIC: the postmaster sees a backend die abnormally and runs crash
 * recovery, which is what a real crash at that point does.  The pause
 * action waits on the latch (wait event PgSleep, which the tests look for in
 * pg_stat_activity) until pg_cancel_backend() sets QueryCancelPending.  It
 * consumes that cancel, so the commit then continues as if nothing
 * happened: some points are inside the COMMIT callback, where interrupts
 * are held anyway.
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "remote/fault.h"
#include "guc.h"

/* A paused backend continues on its own after this long. */
#define HD_FAULT_MAX_PAUSE_MS	(10 * 60 * 1000)

const struct config_enum_entry hd_fault_point_options[] = {
	{"none", HD_FAULT_NONE, false},
	{"before_prepare", HD_FAULT_BEFORE_PREPARE, false},
	{"after_prepare_first_node", HD_FAULT_AFTER_PREPARE_FIRST_NODE, false},
	{"after_prepare", HD_FAULT_AFTER_PREPARE, false},
	{"after_local_commit", HD_FAULT_AFTER_LOCAL_COMMIT, false},
	{"before_commit_prepared", HD_FAULT_BEFORE_COMMIT_PREPARED, false},
	{"after_commit_prepared_first_node", HD_FAULT_AFTER_COMMIT_PREPARED_FIRST_NODE, false},
	{"before_one_phase_commit", HD_FAULT_BEFORE_ONE_PHASE_COMMIT, false},
	{"after_one_phase_commit", HD_FAULT_AFTER_ONE_PHASE_COMMIT, false},
	{"pass_transaction_control", HD_FAULT_PASS_TRANSACTION_CONTROL, false},
	{"move_created", HD_FAULT_MOVE_CREATED, false},
	{"move_copied", HD_FAULT_MOVE_COPIED, false},
	{"move_switching", HD_FAULT_MOVE_SWITCHING, false},
	{"move_switched", HD_FAULT_MOVE_SWITCHED, false},
	{"move_detached", HD_FAULT_MOVE_DETACHED, false},
	{"scan_planned", HD_FAULT_SCAN_PLANNED, false},
	{NULL, 0, false}
};

const struct config_enum_entry hd_fault_action_options[] = {
	{"crash", HD_FAULT_ACTION_CRASH, false},
	{"pause", HD_FAULT_ACTION_PAUSE, false},
	{NULL, 0, false}
};

static const char *
fault_name(HdFaultPoint point)
{
	for (const struct config_enum_entry *e = hd_fault_point_options; e->name; e++)
		if (e->val == (int) point)
			return e->name;
	return "?";
}

static void
fault_pause(const char *name)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  HD_FAULT_MAX_PAUSE_MS);

	ereport(LOG,
			(errmsg("hyperdist: fault point \"%s\" reached, pausing until pg_cancel_backend(%d)",
					name, MyProcPid)));
	while (!QueryCancelPending && !ProcDiePending && GetCurrentTimestamp() < end)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, WAIT_EVENT_PG_SLEEP);
		ResetLatch(MyLatch);
	}
	/* the cancel was only the release signal */
	QueryCancelPending = false;
	ereport(LOG,
			(errmsg("hyperdist: fault point \"%s\" released", name)));
}

bool
hd_fault_injected(HdFaultPoint point)
{
	return hd_inject_fault == (int) point;
}

void
hd_fault(HdFaultPoint point)
{
	const char *name;

	if (likely(hd_inject_fault != (int) point))
		return;
	name = fault_name(point);
	if (hd_inject_fault_action == HD_FAULT_ACTION_PAUSE)
	{
		fault_pause(name);
		return;
	}
	ereport(LOG,
			(errmsg("hyperdist: fault point \"%s\" reached, killing the backend", name)));
	(void) kill(MyProcPid, SIGKILL);
	for (;;)
		pause();
}
