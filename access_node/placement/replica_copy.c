/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/replica_copy.c — copying a chunk replica between data nodes
 * (see replica_copy.h).
 *
 * The source is read outside any remote transaction: each statement there
 * is a transaction of its own at READ COMMITTED, so the final comparison,
 * made once the writers in flight are gone, sees every committed row.  The
 * target is written in its remote transaction, which commits with the
 * catalog change; until then nothing reads it (its replica is stale, or not
 * in the catalog yet).
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "deparse/deparse.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"
#include "metadata/replica.h"
#include "placement/replica_copy.h"
#include "remote/connection.h"
#include "remote/fanout.h"

/* Copies in progress at one time, over all databases. */
#define HD_MAX_REPLICA_COPIES	64
/*
 * How long a copy waits for a lock, here (the final switch waits for the
 * writers in flight) and on the data nodes: a copy takes locks on two data
 * nodes and then here, DDL here and then on the data nodes, and the
 * deadlock this can make is seen by no server alone; the copy gives up
 * and is retried.
 */
#define HD_COPY_LOCK_TIMEOUT_MS	10000
/* Rows are sent to the target in COPY requests of about this size. */
#define HD_COPY_REQUEST_BYTES	(8 * 1024 * 1024)

/* The binary COPY header (signature, flags 0, no extension) and trailer. */
static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
static const char copy_trailer[2] = {'\377', '\377'};

/* ---- progress in shared memory --------------------------------------------- */

typedef struct CopySlot
{
	Oid			dboid;			/* InvalidOid: free */
	HdReplicaCopyProgress progress;
} CopySlot;

typedef struct CopyShared
{
	slock_t		mutex;
	CopySlot	slots[HD_MAX_REPLICA_COPIES];
} CopyShared;

static CopyShared *copy_shared = NULL;

Size
hd_replica_copy_shmem_size(void)
{
	return sizeof(CopyShared);
}

/* Caller holds AddinShmemInitLock. */
void
hd_replica_copy_shmem_init(void)
{
	bool		found;

	copy_shared = ShmemInitStruct("hyperdist replica copies", sizeof(CopyShared),
								  &found);
	if (!found)
	{
		memset(copy_shared, 0, sizeof(CopyShared));
		SpinLockInit(&copy_shared->mutex);
	}
}

/* Publishes a copy; the slot's index, or -1 when none is free (not shown). */
static int
progress_begin(int32 chunk_id, const char *source, const char *target)
{
	int			slot = -1;

	SpinLockAcquire(&copy_shared->mutex);
	for (int i = 0; i < HD_MAX_REPLICA_COPIES && slot < 0; i++)
	{
		CopySlot   *s = &copy_shared->slots[i];

		if (OidIsValid(s->dboid))
			continue;
		s->dboid = MyDatabaseId;
		s->progress.chunk_id = chunk_id;
		strlcpy(s->progress.source, source, NAMEDATALEN);
		strlcpy(s->progress.target, target, NAMEDATALEN);
		s->progress.bytes = 0;
		s->progress.rows = 0;
		s->progress.started = GetCurrentTimestamp();
		slot = i;
	}
	SpinLockRelease(&copy_shared->mutex);
	return slot;
}

/* What a copy has sent so far; reset starts counting again. */
static void
progress_count(int slot, uint64 bytes, uint64 rows, bool reset)
{
	CopySlot   *s;

	if (slot < 0)
		return;
	s = &copy_shared->slots[slot];
	SpinLockAcquire(&copy_shared->mutex);
	if (reset)
	{
		s->progress.bytes = 0;
		s->progress.rows = 0;
	}
	s->progress.bytes += bytes;
	s->progress.rows += rows;
	SpinLockRelease(&copy_shared->mutex);
}

static void
progress_end(int slot)
{
	if (slot < 0)
		return;
	SpinLockAcquire(&copy_shared->mutex);
	copy_shared->slots[slot].dboid = InvalidOid;
	SpinLockRelease(&copy_shared->mutex);
}

List *
hd_replica_copies(void)
{
	List	   *copies = NIL;

	for (int i = 0; i < HD_MAX_REPLICA_COPIES; i++)
	{
		HdReplicaCopyProgress p;
		bool		mine;

		SpinLockAcquire(&copy_shared->mutex);
		mine = copy_shared->slots[i].dboid == MyDatabaseId;
		if (mine)
			p = copy_shared->slots[i].progress;
		SpinLockRelease(&copy_shared->mutex);
		if (mine)
			copies = lappend(copies, memcpy(palloc(sizeof(p)), &p, sizeof(p)));
	}
	return copies;
}

/* ---- the copy ------------------------------------------------------------------ */

typedef struct ReplicaCopy
{
	int32		chunk_id;
	const char *source;
	const char *target;
	bool		new_replica;
	HdCatalogChunkPlace place;
	char	   *chunk_name;		/* schema.table, for messages */
	HdConn	   *src;			/* outside any remote transaction */
	HdConn	   *dst;			/* in its remote transaction */
	int			slot;			/* progress slot, -1: none */
} ReplicaCopy;

static void
copy_error_context(void *arg)
{
	ReplicaCopy *c = arg;

	errcontext("copying chunk %s from data node \"%s\" to data node \"%s\"",
			   c->chunk_name, c->source, c->target);
}

/*
 * The one row of a text query, into nfields C strings.  The stream is read
 * to its end: in a remote transaction, a stream closed early would be left
 * to later waits to drain.
 */
static void
query_row(HdStream *stream, char **fields, int nfields)
{
	char	  **extra = palloc(sizeof(char *) * nfields);

	if (!hd_stream_next_text_row(stream, fields, nfields) ||
		hd_stream_next_text_row(stream, extra, nfields))
		elog(ERROR, "query on data node returned other than one row");
	hd_stream_close(stream);
	pfree(extra);
}

/*
 * The target's table, created if missing (for a new replica, or one whose
 * table was dropped there) and emptied.
 */
static void
prepare_target(ReplicaCopy *c)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *exists;

	query_row(hd_query_start(c->dst, hd_deparse_chunk_exists(p->schema_name, p->table_name),
							 0, NULL, NULL, HD_ROWS_TEXT), &exists, 1);
	if (strcmp(exists, "t") != 0)
	{
		HdHypertable *ht = hd_hypertable_load(p->hypertable_relid);

		if (ht == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("the hypertable of chunk %s is gone", c->chunk_name)));
		/* the chunk belongs to the hypertable's owner, as at creation */
		hd_exec(c->dst,
				hd_deparse_create_chunk(ht, p->slice_id, p->range_start, p->range_end,
										p->num_partitions, p->space_partition,
										p->table_name,
										GetUserNameFromId(hd_rel_owner(ht->relid), false)),
				0, NULL, NULL, NULL);
	}
	hd_exec(c->dst, hd_deparse_truncate_chunk(p->schema_name, p->table_name),
			0, NULL, NULL, NULL);
}

/*
 * Sends buf's tuples to the target as one COPY (after the previous one's
 * answer: at most one in flight) and starts the next buffer.
 */
static void
send_copy(ReplicaCopy *c, const char *sql, StringInfo buf, uint32 *pending)
{
	appendBinaryStringInfo(buf, copy_trailer, sizeof(copy_trailer));
	if (*pending != 0)
		(void) hd_exec_wait(c->dst, *pending, NULL);
	/* the request is encoded before this returns: buf may be reused */
	*pending = hd_exec_send_copy(c->dst, sql, buf->data, buf->len);
	resetStringInfo(buf);
	appendBinaryStringInfo(buf, copy_header, sizeof(copy_header));
}

/*
 * Streams the source's rows into the target's (empty) table, batch by
 * batch as the source's agent sends them, in COPY requests of about
 * HD_COPY_REQUEST_BYTES.
 */
static void
copy_rows(ReplicaCopy *c)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *sql = hd_deparse_chunk_copy_in(p->schema_name, p->table_name);
	HdStream   *rows = hd_query_start(c->src,
									  hd_deparse_chunk_rows(p->schema_name, p->table_name),
									  0, NULL, NULL, HD_ROWS_COPY);
	StringInfoData buf;
	uint32		pending = 0;
	const uint8 *data;
	size_t		len;
	uint32		nrows;
	bool		any = false;

	progress_count(c->slot, 0, 0, true);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, copy_header, sizeof(copy_header));
	while (hd_stream_next_batch(rows, &data, &len, &nrows))
	{
		CHECK_FOR_INTERRUPTS();
		if (any && buf.len + len > HD_COPY_REQUEST_BYTES)
		{
			send_copy(c, sql, &buf, &pending);
			any = false;
		}
		appendBinaryStringInfo(&buf, (const char *) data, len);
		any = true;
		progress_count(c->slot, len, nrows, false);
	}
	hd_stream_close(rows);
	if (any)
		send_copy(c, sql, &buf, &pending);
	if (pending != 0)
		(void) hd_exec_wait(c->dst, pending, NULL);
	pfree(buf.data);
}

/*
 * Whether both replicas have the same row count and checksum; both nodes
 * are asked at once.
 */
static bool
replicas_match(ReplicaCopy *c)
{
	char	   *sql = hd_deparse_chunk_checksum(c->place.schema_name, c->place.table_name);
	HdRequestSet *set = hd_reqset_create();
	char	   *src[2];
	char	   *dst[2];

	(void) hd_reqset_query(set, c->src, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	(void) hd_reqset_query(set, c->dst, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	query_row(hd_reqset_stream(set, 0), src, 2);
	query_row(hd_reqset_stream(set, 1), dst, 2);
	for (int i = 0; i < 2; i++)
	{
		/* the sum is NULL for an empty chunk */
		if ((src[i] == NULL) != (dst[i] == NULL) ||
			(src[i] != NULL && strcmp(src[i], dst[i]) != 0))
			return false;
	}
	return true;
}

/*
 * Under the hypertable's lock: the source's replica must still be current
 * and the target's still stale (or absent, for a new one), else another
 * transaction changed them (a write marked the source stale, the node was
 * deleted) and the copy is no longer what is wanted.
 */
static void
check_unchanged(ReplicaCopy *c)
{
	char	   *source = hd_catalog_replica_status(c->chunk_id, c->source);
	char	   *target = hd_catalog_replica_status(c->chunk_id, c->target);
	const char *stale = hd_replica_status_name(HD_REPLICA_STALE);
	const char *current = hd_replica_status_name(HD_REPLICA_CURRENT);

	if (source == NULL || strcmp(source, current) != 0 ||
		(c->new_replica ? target != NULL : (target == NULL || strcmp(target, stale) != 0)))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("the replicas of chunk %s changed while it was copied",
						c->chunk_name)));
}

/*
 * The final switch: with writers kept out, the target must match the
 * source, copied again if it does not; then the catalog says so.
 */
static void
final_switch(ReplicaCopy *c)
{
	(void) set_config_option("lock_timeout",
							 psprintf("%d", HD_COPY_LOCK_TIMEOUT_MS),
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	LockRelationOid(c->place.hypertable_relid, ShareLock);
	check_unchanged(c);
	if (!replicas_match(c))
	{
		hd_exec(c->dst, hd_deparse_truncate_chunk(c->place.schema_name, c->place.table_name),
				0, NULL, NULL, NULL);
		copy_rows(c);
		if (!replicas_match(c))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the copy of chunk %s differs from its source", c->chunk_name),
					 errdetail("Their row counts or checksums differ although no write ran.")));
	}
	if (c->new_replica)
		hd_replica_add(c->chunk_id, c->target, HD_REPLICA_CURRENT);
	else
		hd_replica_mark_current(c->chunk_id, c->target);
}

void
hd_replica_copy(int32 chunk_id, const char *source, const char *target,
				bool new_replica)
{
	ReplicaCopy c = {0};
	ErrorContextCallback errcb;

	c.chunk_id = chunk_id;
	c.source = source;
	c.target = target;
	c.new_replica = new_replica;
	c.chunk_name = psprintf("%d", chunk_id);
	errcb.callback = copy_error_context;
	errcb.arg = &c;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (!hd_catalog_chunk_place(chunk_id, &c.place))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk %d no longer exists", chunk_id)));
	c.chunk_name = quote_qualified_identifier(c.place.schema_name, c.place.table_name);

	c.slot = progress_begin(chunk_id, source, target);
	PG_TRY();
	{
		c.src = hd_conn_get(get_foreign_server_oid(source, false), false);
		c.dst = hd_conn_get(get_foreign_server_oid(target, false), true);
		hd_exec(c.src, hd_deparse_lock_timeout(HD_COPY_LOCK_TIMEOUT_MS), 0, NULL, NULL, NULL);
		hd_exec(c.dst, hd_deparse_lock_timeout(HD_COPY_LOCK_TIMEOUT_MS), 0, NULL, NULL, NULL);
		prepare_target(&c);
		copy_rows(&c);
		final_switch(&c);
	}
	PG_FINALLY();
	{
		progress_end(c.slot);
	}
	PG_END_TRY();
	error_context_stack = errcb.previous;
}
