/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/committing.c — per backend, the full xid of the transaction it is
 * committing with two-phase commit, in shared memory (see committing.h).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/backendid.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "remote/committing.h"

/* by BackendId: full xid being committed with 2PC, 0 if none */
static pg_atomic_uint64 *committing = NULL;

static HdResolverWake resolver_wake = NULL;

Size
hd_committing_shmem_size(void)
{
	return mul_size(MaxBackends + 1, sizeof(pg_atomic_uint64));
}

/* Caller holds AddinShmemInitLock. */
void
hd_committing_shmem_init(void)
{
	bool		found;

	committing = ShmemInitStruct("hyperdist committing",
								 hd_committing_shmem_size(), &found);
	if (!found)
	{
		for (int i = 0; i <= MaxBackends; i++)
			pg_atomic_init_u64(&committing[i], 0);
	}
}

void
hd_committing_begin(FullTransactionId fxid)
{
	pg_atomic_write_u64(&committing[MyBackendId],
						U64FromFullTransactionId(fxid));
	/* visible before the local commit that follows */
	pg_memory_barrier();
}

void
hd_committing_end(void)
{
	if (committing != NULL && MyBackendId != InvalidBackendId)
		pg_atomic_write_u64(&committing[MyBackendId], 0);
}

bool
hd_committing(FullTransactionId fxid)
{
	uint64		value = U64FromFullTransactionId(fxid);

	pg_memory_barrier();
	for (int i = 1; i <= MaxBackends; i++)
		if (pg_atomic_read_u64(&committing[i]) == value)
			return true;
	return false;
}

void
hd_committing_set_wake(HdResolverWake wake)
{
	resolver_wake = wake;
}

void
hd_committing_wake(bool urgent)
{
	if (resolver_wake != NULL)
		resolver_wake(urgent);
}
