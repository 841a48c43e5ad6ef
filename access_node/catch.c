/* SPDX-License-Identifier: PostgreSQL */
/*
 * catch.c — going on after an error (see catch.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/snapmgr.h"

#include "catch.h"

ErrorData *
hd_catch_abort_xact(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(cxt);
	return edata;
}

long
hd_catch_xact_step(long (*step) (void), const char *what)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile long result = -1;

	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		result = step();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata = hd_catch_abort_xact(cxt);

		ereport(LOG, (errmsg("hyperdist: %s: %s", what, edata->message)));
		FreeErrorData(edata);
		result = -1;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return result;
}

void
hd_subxact_commit(MemoryContext cxt, ResourceOwner owner)
{
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

ErrorData *
hd_catch_abort_subxact(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}
