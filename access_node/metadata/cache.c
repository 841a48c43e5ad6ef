/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/cache.c — the backend's copy of the catalog every statement on a
 * distributed hypertable reads: the hypertable with its dimensions, and its
 * chunks with their replicas.
 *
 * Planning a statement and starting its executor need both, several times;
 * reading them with SPI each time was over a third of the access node's CPU
 * for a one-host TSBS query.  An entry is loaded on first use and kept until
 * the catalog changes:
 *
 *  - statement triggers on the catalog tables (hyperdist_catalog_changed)
 *    send a relcache invalidation of _hyperdist_catalog.hypertable, which
 *    every backend applies once the change commits (this one at its next
 *    command, and at abort, so an entry built from rolled-back rows goes);
 *  - a hypertable's own relcache invalidation (rename, column changes)
 *    drops its entry;
 *  - ALTER SERVER drops every entry, since a data node's availability
 *    decides which replica of a chunk is read.
 *
 * An invalidated entry is not freed at once: the statement whose catalog
 * change invalidated it (creating a chunk, say) may still use it, so its
 * memory goes to the current transaction, freed at the transaction's end.
 * Entries are read with the latest snapshot, not the transaction's: under
 * REPEATABLE READ a snapshot older than a committed change would cache the
 * catalog from before it, after its invalidation has been applied.  An
 * invalidation arriving while an entry loads leaves that entry uncached.
 */
#include "postgres.h"

#include "fmgr.h"
#include "commands/trigger.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "metadata/cache.h"
#include "metadata/chunk.h"

typedef struct CacheEntry
{
	Oid			relid;			/* hash key */
	MemoryContext cxt;			/* holds ht and chunks */
	HdHypertable *ht;
	HdChunkSet *chunks;			/* NULL until first needed */
} CacheEntry;

static HTAB *entries = NULL;

/* _hyperdist_catalog.hypertable once an entry was loaded, else InvalidOid */
static Oid	catalog_relid = InvalidOid;

/* Bumped by every invalidation: a load that sees it change is not kept. */
static uint64 generation = 0;

/*
 * Frees an entry's memory, or leaves it to the transaction when one runs
 * (it may still use it).
 */
static void
retire(MemoryContext cxt)
{
	if (TopTransactionContext != NULL)
		MemoryContextSetParent(cxt, TopTransactionContext);
	else
		MemoryContextDelete(cxt);
}

static void
forget_entry(CacheEntry *entry)
{
	retire(entry->cxt);
	hash_search(entries, &entry->relid, HASH_REMOVE, NULL);
}

static void
forget_all(void)
{
	HASH_SEQ_STATUS seq;
	CacheEntry *entry;

	generation++;
	catalog_relid = InvalidOid;
	if (entries == NULL)
		return;
	hash_seq_init(&seq, entries);
	while ((entry = hash_seq_search(&seq)) != NULL)
		forget_entry(entry);
}

void
hd_catalog_cache_relcache_callback(Datum arg, Oid relid)
{
	CacheEntry *entry;

	if (relid == InvalidOid || relid == catalog_relid)
		forget_all();
	else if (entries != NULL &&
			 (entry = hash_search(entries, &relid, HASH_FIND, NULL)) != NULL)
	{
		generation++;
		forget_entry(entry);
	}
}

void
hd_catalog_cache_server_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	forget_all();
}

static CacheEntry *
lookup(Oid relid)
{
	if (entries == NULL)
		return NULL;
	return hash_search(entries, &relid, HASH_FIND, NULL);
}

static CacheEntry *
insert(Oid relid, MemoryContext cxt, HdHypertable *ht)
{
	CacheEntry *entry;

	if (entries == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(CacheEntry);
		ctl.hcxt = CacheMemoryContext;
		entries = hash_create("hyperdist catalog cache", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(entries, &relid, HASH_ENTER, NULL);
	entry->cxt = cxt;
	entry->ht = ht;
	entry->chunks = NULL;
	MemoryContextSetParent(cxt, CacheMemoryContext);
	return entry;
}

HdHypertable *
hd_catalog_cache_hypertable(Oid relid)
{
	CacheEntry *entry = lookup(relid);
	MemoryContext cxt;
	uint64		gen;
	HdHypertable *ht;

	if (entry != NULL)
		return entry->ht;

	/*
	 * Known before the load starts (its lookup may apply invalidations): an
	 * entry's relcache callback must recognize the catalog.
	 */
	if (!OidIsValid(catalog_relid))
		catalog_relid = hd_catalog_relid();
	gen = generation;

	/* under the caller's context, so that an error frees it, until kept */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "hyperdist cached hypertable",
								ALLOCSET_SMALL_SIZES);
	PushActiveSnapshot(GetLatestSnapshot());
	ht = hd_hypertable_read(relid, cxt);
	PopActiveSnapshot();
	if (gen == generation)
		insert(relid, cxt, ht);
	return ht;
}

const HdChunkSet *
hd_catalog_cache_chunks(HdHypertable *ht)
{
	CacheEntry *entry = lookup(ht->relid);
	MemoryContext cxt;
	uint64		gen = generation;
	HdChunkSet *chunks;

	if (entry != NULL && entry->ht == ht && entry->chunks != NULL)
		return entry->chunks;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "hyperdist cached chunks",
								ALLOCSET_DEFAULT_SIZES);
	PushActiveSnapshot(GetLatestSnapshot());
	chunks = hd_chunk_set_read(ht, cxt);
	PopActiveSnapshot();
	if (gen == generation && entry != NULL && entry->ht == ht)
	{
		MemoryContextSetParent(cxt, entry->cxt);
		entry->chunks = chunks;
	}
	return chunks;
}

/*
 * Trigger function of the catalog tables: the cached catalog of every
 * backend is out of date once this transaction commits, and this
 * backend's now.
 */
PG_FUNCTION_INFO_V1(hyperdist_catalog_changed);

Datum
hyperdist_catalog_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hyperdist_catalog_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(hd_catalog_relid());
	forget_all();
	return PointerGetDatum(NULL);
}
