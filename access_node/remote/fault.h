/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/fault.h — fault injection in the distributed commit protocol, for tests.
 *
 * hyperdist.inject_fault (superuser only) names a point of the commit
 * protocol in remote/txn.c, a stage of a chunk copy, or a scan's start; when this backend's commit reaches it, the
 * backend either kills itself with SIGKILL (hyperdist.inject_fault_action
 * = crash: the postmaster then runs crash recovery, exactly as after a real
 * crash) or pauses there (pause: until pg_cancel_backend() releases it),
 * so that a test can kill an agent, a data node or the whole access node
 * at that stage.
 */
#ifndef HYPERDIST_REMOTE_FAULT_H
#define HYPERDIST_REMOTE_FAULT_H

#include "utils/guc.h"

typedef enum HdFaultPoint
{
	HD_FAULT_NONE,
	HD_FAULT_BEFORE_PREPARE,	/* commit records written, no PREPARE sent */
	HD_FAULT_AFTER_PREPARE_FIRST_NODE,	/* one data node acknowledged PREPARE */
	HD_FAULT_AFTER_PREPARE,		/* every data node prepared; no local commit */
	HD_FAULT_AFTER_LOCAL_COMMIT,	/* the COMMIT callback starts */
	HD_FAULT_BEFORE_COMMIT_PREPARED,	/* right before COMMIT PREPARED is sent
										 * (nothing happens in between today) */
	HD_FAULT_AFTER_COMMIT_PREPARED_FIRST_NODE,	/* one data node committed */
	HD_FAULT_BEFORE_ONE_PHASE_COMMIT,	/* the only writer's COMMIT not sent */
	HD_FAULT_AFTER_ONE_PHASE_COMMIT,	/* the only writer committed; no local
										 * commit yet */
	HD_FAULT_PASS_TRANSACTION_CONTROL,	/* not a commit point: distributed_exec
										 * lets COMMIT and the like through, so
										 * that a test sees the data nodes'
										 * transaction status checked */
	/* the stages of a chunk copy or move (placement/chunk_move.c) */
	HD_FAULT_MOVE_CREATED,		/* the destination's table committed */
	HD_FAULT_MOVE_COPIED,		/* the rows copied, not committed */
	HD_FAULT_MOVE_SWITCHING,	/* caught up under the chunk's lock */
	HD_FAULT_MOVE_SWITCHED,		/* the switch committed, source not dropped */
	HD_FAULT_MOVE_DETACHED,		/* a chunk's table detached, not dropped */
	HD_FAULT_SCAN_PLANNED		/* a scan chose its chunks, no query sent */
} HdFaultPoint;

typedef enum HdFaultAction
{
	HD_FAULT_ACTION_CRASH,
	HD_FAULT_ACTION_PAUSE
} HdFaultAction;

extern const struct config_enum_entry hd_fault_point_options[];
extern const struct config_enum_entry hd_fault_action_options[];

/* Called by the commit protocol at each point. */
extern void hd_fault(HdFaultPoint point);

/* True when point is the one injected (a check a test wants skipped). */
extern bool hd_fault_injected(HdFaultPoint point);

#endif							/* HYPERDIST_REMOTE_FAULT_H */
