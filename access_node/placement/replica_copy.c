/* SPDX-License-Identifier: PostgreSQL */
/*
 * placement/replica_copy.c — copying a chunk replica between data nodes
 * (see replica_copy.h).
 *
 * The source is read outside any remote transaction: each statement there
 * is a transaction of its own at READ COMMITTED, so the final comparison,
 * made once the writers in flight are gone, sees every committed row.  So
 * is the target, but to create its table (copy_begin says why).
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
#include "metadata/catalog.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"
#include "metadata/replica.h"
#include "placement/replica_copy.h"
#include "remote/connection.h"
#include "remote/fanout.h"
#include "remote/fault.h"

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
progress_begin(int32 op_id, int32 chunk_id, const char *source, const char *target)
{
	int			slot = -1;

	SpinLockAcquire(&copy_shared->mutex);
	for (int i = 0; i < HD_MAX_REPLICA_COPIES && slot < 0; i++)
	{
		CopySlot   *s = &copy_shared->slots[i];

		if (OidIsValid(s->dboid))
			continue;
		s->dboid = MyDatabaseId;
		s->progress.op_id = op_id;
		strlcpy(s->progress.phase, "creating", sizeof(s->progress.phase));
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
progress_phase(int slot, const char *phase)
{
	if (slot < 0)
		return;
	SpinLockAcquire(&copy_shared->mutex);
	strlcpy(copy_shared->slots[slot].progress.phase, phase,
			sizeof(copy_shared->slots[slot].progress.phase));
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

/* The catch-up compares the replicas in this many time buckets. */
#define HD_COPY_BUCKETS			1024
/* Catch-up rounds before the final switch, which makes the last one. */
#define HD_COPY_CATCH_UP_ROUNDS	5
/* Rows the catch-up replaces one by one; more: all of their buckets. */
#define HD_COPY_MAX_ROW_REPAIR	10000
/* Rows of the buckets the catch-up compares row by row at once. */
#define HD_COPY_REPAIR_BATCH_ROWS	(1024 * 1024)

/*
 * A replica's sums per time bucket, as text indexed by bucket (NULL: no
 * row): count(*), the rows' checksum, the physical sum (deparse/ddl.c).
 */
typedef struct BucketSums
{
	char	  **count;
	char	  **rows;
	char	  **physical;
} BucketSums;

typedef struct ReplicaCopy
{
	int32		chunk_id;
	const char *source;
	const char *target;
	int			target_status;	/* the status the target's replica must
								 * have (HdReplicaStatus), or -1: none */
	bool		retire_source;	/* a move: the source's replica retires */
	bool		unattached;		/* the target's table is filled before it
								 * has indexes and joins its parent */
	HdCatalogChunkPlace place;
	HdHypertable *ht;
	List	   *thresholds;		/* of the time buckets (deparse/ddl.c) */
	char	   *chunk_name;		/* schema.table, for messages */
	HdConn	   *src;			/* outside any remote transaction */
	HdConn	   *dst;			/* outside any remote transaction too,
								 * except to create the target's table */
	int			slot;			/* progress slot, -1: none */
	HdCopyStats stats;			/* what the copy sent */
	BucketSums	baseline;		/* the source's physical sums when last taken */
	ErrorContextCallback errcb;
} ReplicaCopy;

static void
copy_error_context(void *arg)
{
	ReplicaCopy *c = arg;

	errcontext("copying chunk %s from data node \"%s\" to data node \"%s\"",
			   c->chunk_name, c->source, c->target);
}

/*
 * Starts a copy: its error context, the chunk's place, its progress slot
 * and both sessions, each waiting at most HD_COPY_LOCK_TIMEOUT_MS for a
 * lock.  The target's is in its remote transaction only to create the
 * target's table (create), which then commits with the catalog's copying
 * replica; rows are written outside, each statement committed, as a
 * replica (no trigger fires for them, hd_deparse_replica_role): the rows
 * of a target that is not current are read by nobody, and are all there
 * when the switch commits the catalog here, so a reader that sees it
 * current finds them.  copy_end undoes the first two.
 */
static void
copy_begin(ReplicaCopy *c, int32 op_id, bool create)
{
	c->chunk_name = psprintf("%d", c->chunk_id);
	c->slot = -1;
	c->errcb.callback = copy_error_context;
	c->errcb.arg = c;
	c->errcb.previous = error_context_stack;
	error_context_stack = &c->errcb;

	if (!hd_catalog_chunk_place(c->chunk_id, &c->place) ||
		(c->ht = hd_hypertable_load(c->place.hypertable_relid)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk %d no longer exists", c->chunk_id)));
	c->chunk_name = quote_qualified_identifier(c->place.schema_name, c->place.table_name);
	c->stats.started = GetCurrentTimestamp();
	c->slot = progress_begin(op_id, c->chunk_id, c->source, c->target);
	c->src = hd_conn_get(get_foreign_server_oid(c->source, false), false);
	c->dst = hd_conn_get(get_foreign_server_oid(c->target, false), create);
	hd_exec(c->src, hd_deparse_lock_timeout(HD_COPY_LOCK_TIMEOUT_MS), 0, NULL, NULL, NULL);
	hd_exec(c->dst, hd_deparse_lock_timeout(HD_COPY_LOCK_TIMEOUT_MS), 0, NULL, NULL, NULL);
	hd_exec(c->dst, hd_deparse_replica_role(), 0, NULL, NULL, NULL);
}

static void
copy_end(ReplicaCopy *c)
{
	progress_end(c->slot);
	error_context_stack = c->errcb.previous;
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

/* The statement creating the chunk's table on the target. */
static char *
create_target_sql(ReplicaCopy *c, bool attached)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *owner = GetUserNameFromId(hd_rel_owner(c->ht->relid), false);

	if (attached)
		return hd_deparse_create_chunk(c->ht, p->slice_id, p->range_start, p->range_end,
									   p->num_partitions, p->space_partition,
									   p->table_name, owner);
	return hd_deparse_create_chunk_unattached(c->ht, p->slice_id, p->range_start,
											  p->range_end, p->num_partitions,
											  p->space_partition, p->table_name, owner);
}

/*
 * The chunk's table on the target, created if missing (the hypertable's
 * owner owns it, as at creation).  An existing one is a stale replica's,
 * emptied, unless the target holds no replica of the chunk (may_exist
 * false): then a table of that name is not the chunk's, and is left alone,
 * and the new replica's table is made unattached (empty_target).
 */
static void
prepare_target(ReplicaCopy *c, bool may_exist)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *exists;

	query_row(hd_query_start(c->dst, hd_deparse_chunk_exists(p->schema_name, p->table_name),
							 0, NULL, NULL, HD_ROWS_TEXT), &exists, 1);
	if (strcmp(exists, "t") != 0)
		hd_exec(c->dst, create_target_sql(c, may_exist), 0, NULL, NULL, NULL);
	else if (may_exist)
		hd_exec(c->dst, hd_deparse_truncate_chunk(p->schema_name, p->table_name),
				0, NULL, NULL, NULL);
	else
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("data node \"%s\" already has a table named %s", c->target,
						c->chunk_name),
				 errdetail("The data node holds no replica of the chunk, so the table is not the chunk's."),
				 errhint("Drop or rename that table on the data node, then copy the chunk again.")));
}

/*
 * The copying replica's table, rid of what an interrupted run left.  While
 * it is not attached, nobody but the copy uses it: it is made again, LIKE
 * its parent as it is now (DDL may have changed the parent since), and has
 * no index; the copy fills it, then builds its indexes in bulk and attaches
 * it (attach_target), which costs less than inserting every row into every
 * index.  One attached already (a run got that far) is truncated.
 */
static void
empty_target(ReplicaCopy *c)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *attached;

	query_row(hd_query_start(c->dst, hd_deparse_chunk_attached(p->schema_name, p->table_name),
							 0, NULL, NULL, HD_ROWS_TEXT), &attached, 1);
	c->unattached = attached == NULL || strcmp(attached, "t") != 0;
	if (!c->unattached)
	{
		hd_exec(c->dst, hd_deparse_truncate_chunk(p->schema_name, p->table_name),
				0, NULL, NULL, NULL);
		return;
	}
	/* unattached: dropping it locks no other table */
	if (attached != NULL)
		hd_exec(c->dst, hd_deparse_drop_chunk_table(p->schema_name, p->table_name),
				0, NULL, NULL, NULL);
	hd_exec(c->dst, create_target_sql(c, false), 0, NULL, NULL, NULL);
}

/*
 * The filled, unattached target gets its parent's indexes, built in bulk,
 * then joins its parent: the attach finds those indexes (it builds any it
 * could not be given, those of constraints), and its time range constraint
 * spares it a scan of the rows under the root.  Attaching takes SHARE
 * UPDATE EXCLUSIVE on the parent, which no read or write waits for.
 */
static void
attach_target(ReplicaCopy *c)
{
	HdCatalogChunkPlace *p = &c->place;
	HdStream   *indexes;
	char	   *f[3];
	List	   *builds = NIL;
	ListCell   *lc;

	progress_phase(c->slot, "building indexes");
	indexes = hd_query_start(c->dst, hd_deparse_chunk_parent_indexes(c->ht, p->slice_id),
							 0, NULL, NULL, HD_ROWS_TEXT);
	while (hd_stream_next_text_row(indexes, f, 3))
	{
		char	   *sql = hd_deparse_chunk_index(p->schema_name, p->table_name, f[0], f[1],
												 strcmp(f[2], "t") == 0);

		if (sql != NULL)
			builds = lappend(builds, sql);
	}
	hd_stream_close(indexes);
	foreach(lc, builds)
	{
		CHECK_FOR_INTERRUPTS();
		hd_exec(c->dst, lfirst(lc), 0, NULL, NULL, NULL);
	}
	hd_exec(c->dst, hd_deparse_attach_chunk(c->ht, p->slice_id, p->range_start, p->range_end,
											p->num_partitions, p->space_partition,
											p->table_name),
			0, NULL, NULL, NULL);
	c->unattached = false;
}

/*
 * COPY requests the target has at once: while it writes one, the next is
 * already queued in its agent, so that it never waits for this process.
 */
#define HD_COPY_IN_FLIGHT	2

/* COPY requests sent to the target and not yet answered, oldest first. */
typedef struct CopyPipe
{
	uint32		seq[HD_COPY_IN_FLIGHT];
	int			n;
} CopyPipe;

/* Waits for the oldest COPY request's answer. */
static void
pipe_wait_oldest(ReplicaCopy *c, CopyPipe *pipe)
{
	(void) hd_exec_wait(c->dst, pipe->seq[0], NULL);
	memmove(&pipe->seq[0], &pipe->seq[1], sizeof(uint32) * (pipe->n - 1));
	pipe->n--;
}

/*
 * Sends buf's tuples to the target as one COPY (once fewer than
 * HD_COPY_IN_FLIGHT are unanswered) and starts the next buffer.
 */
static void
send_copy(ReplicaCopy *c, const char *sql, StringInfo buf, CopyPipe *pipe)
{
	appendBinaryStringInfo(buf, copy_trailer, sizeof(copy_trailer));
	if (pipe->n == HD_COPY_IN_FLIGHT)
		pipe_wait_oldest(c, pipe);
	/* the request is encoded before this returns: buf may be reused */
	pipe->seq[pipe->n++] = hd_exec_send_copy(c->dst, sql, buf->data, buf->len);
	resetStringInfo(buf);
	appendBinaryStringInfo(buf, copy_header, sizeof(copy_header));
}

/*
 * Streams the rows of the source's query into the target's table, batch by
 * batch as the source's agent sends them, in COPY requests of about
 * HD_COPY_REQUEST_BYTES.
 */
static void
copy_rows(ReplicaCopy *c, const char *query)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *sql = hd_deparse_chunk_copy_in(p->schema_name, p->table_name);
	HdStream   *rows = hd_query_start(c->src, query, 0, NULL, NULL, HD_ROWS_COPY);
	StringInfoData buf;
	CopyPipe	pipe = {0};
	const uint8 *data;
	size_t		len;
	uint32		nrows;
	bool		any = false;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, copy_header, sizeof(copy_header));
	while (hd_stream_next_batch(rows, &data, &len, &nrows))
	{
		CHECK_FOR_INTERRUPTS();
		if (any && buf.len + len > HD_COPY_REQUEST_BYTES)
		{
			send_copy(c, sql, &buf, &pipe);
			any = false;
		}
		appendBinaryStringInfo(&buf, (const char *) data, len);
		any = true;
		progress_count(c->slot, len, nrows, false);
		c->stats.bytes += len;
		c->stats.rows += nrows;
	}
	hd_stream_close(rows);
	if (any)
		send_copy(c, sql, &buf, &pipe);
	while (pipe.n > 0)
		pipe_wait_oldest(c, &pipe);
	pfree(buf.data);
}

static List *buckets_written(ReplicaCopy *c, int64 *rows);

/*
 * The thresholds of the catch-up's time buckets.  They cut the span of the
 * source's rows within the chunk's range, not the range, which may be far
 * wider (a year's chunk holding a day): buckets of the range would hold
 * all rows in a few, and one write would have the catch-up compare a large
 * share of the chunk row by row, the last time under the switch's lock.
 * Rows written later outside the span fall in the first or last bucket.
 */
static List *
bucket_thresholds(ReplicaCopy *c)
{
	HdCatalogChunkPlace *p = &c->place;
	int64		start = p->range_start;
	int64		end = p->range_end;
	char	   *span[2];

	query_row(hd_query_start(c->src, hd_deparse_chunk_time_span(c->ht, p->schema_name,
																p->table_name),
							 0, NULL, NULL, HD_ROWS_TEXT), span, 2);
	if (span[0] != NULL && span[1] != NULL)
	{
		int64		first = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(span[0])));
		int64		last = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(span[1])));

		start = Max(start, first);
		if (last < end)
			end = last + 1;
	}
	return hd_deparse_time_thresholds(c->ht, start, end, HD_COPY_BUCKETS);
}

/*
 * Every row of the source, into the target's empty table.  The source's
 * physical sums are taken first: a bucket that is the same then and after
 * the copy was not written while the copy's snapshot was taken, so the
 * copy has it exactly.
 */
static void
copy_all_rows(ReplicaCopy *c)
{
	int64		rows;

	c->baseline.count = NULL;
	c->thresholds = bucket_thresholds(c);
	(void) buckets_written(c, &rows);
	progress_phase(c->slot, "copying rows");
	progress_count(c->slot, 0, 0, true);
	c->stats.bytes = 0;
	c->stats.rows = 0;
	copy_rows(c, hd_deparse_chunk_rows(c->place.schema_name, c->place.table_name));
}

/* Reads a stream of (bucket, count[, rows][, physical]) into sums. */
static void
read_bucket_sums(HdStream *stream, int nbuckets, bool rows, bool physical,
				 BucketSums *sums)
{
	int			ncols = 2 + (rows ? 1 : 0) + (physical ? 1 : 0);
	char	   *fields[4];

	sums->count = palloc0(sizeof(char *) * nbuckets);
	sums->rows = palloc0(sizeof(char *) * nbuckets);
	sums->physical = palloc0(sizeof(char *) * nbuckets);
	while (hd_stream_next_text_row(stream, fields, ncols))
	{
		int			b = pg_strtoint32(fields[0]);

		if (b < 0 || b >= nbuckets)
			elog(ERROR, "data node returned time bucket %d of %d", b, nbuckets);
		sums->count[b] = fields[1];
		if (rows)
			sums->rows[b] = fields[2];
		if (physical)
			sums->physical[b] = fields[ncols - 1];
	}
	hd_stream_close(stream);
}

static bool
same_text(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

/* The rows of the source in buckets, by its sums. */
static int64
bucket_rows(const BucketSums *sums, List *buckets)
{
	int64		rows = 0;
	ListCell   *lc;

	foreach(lc, buckets)
		if (sums->count[lfirst_int(lc)] != NULL)
			rows += pg_strtoint64(sums->count[lfirst_int(lc)]);
	return rows;
}

/*
 * The time buckets (among only, NIL: all) in which the replicas' row
 * counts or checksums differ; both nodes are asked at once.  *rows is the
 * number of the source's rows in them.
 */
static List *
differing_buckets(ReplicaCopy *c, List *only, int64 *rows)
{
	HdCatalogChunkPlace *p = &c->place;
	int			nbuckets = list_length(c->thresholds) + 1;
	char	   *sql = hd_deparse_chunk_bucket_sums(c->ht, p->schema_name, p->table_name,
												   c->thresholds, only, true, false);
	HdRequestSet *set = hd_reqset_create();
	BucketSums	src;
	BucketSums	dst;
	List	   *differ = NIL;

	(void) hd_reqset_query(set, c->src, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	(void) hd_reqset_query(set, c->dst, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	read_bucket_sums(hd_reqset_stream(set, 0), nbuckets, true, false, &src);
	read_bucket_sums(hd_reqset_stream(set, 1), nbuckets, true, false, &dst);
	for (int b = 0; b < nbuckets; b++)
		if (!same_text(src.count[b], dst.count[b]) || !same_text(src.rows[b], dst.rows[b]))
			differ = lappend_int(differ, b);
	*rows = bucket_rows(&src, differ);
	return differ;
}

/*
 * The buckets of the source written since its physical sums were last
 * taken (all of them the first time), which become the new baseline: one
 * scan of the source, which converts no row to text.  *rows is the number
 * of the source's rows in them.
 */
static List *
buckets_written(ReplicaCopy *c, int64 *rows)
{
	HdCatalogChunkPlace *p = &c->place;
	int			nbuckets = list_length(c->thresholds) + 1;
	BucketSums	now;
	List	   *written = NIL;

	read_bucket_sums(hd_query_start(c->src,
									hd_deparse_chunk_bucket_sums(c->ht, p->schema_name,
																 p->table_name, c->thresholds,
																 NIL, false, true),
									0, NULL, NULL, HD_ROWS_TEXT),
					 nbuckets, false, true, &now);
	for (int b = 0; b < nbuckets; b++)
		if (c->baseline.count == NULL ||
			!same_text(now.count[b], c->baseline.count[b]) ||
			!same_text(now.physical[b], c->baseline.physical[b]))
			written = lappend_int(written, b);
	*rows = bucket_rows(&now, written);
	c->baseline = now;
	return written;
}

/*
 * Whether the target has, in every bucket, as many rows as the source had
 * at the baseline: the final switch's check of the whole chunk, one scan
 * of the target that converts no row to text.
 */
static bool
counts_match(ReplicaCopy *c)
{
	HdCatalogChunkPlace *p = &c->place;
	int			nbuckets = list_length(c->thresholds) + 1;
	BucketSums	dst;

	read_bucket_sums(hd_query_start(c->dst,
									hd_deparse_chunk_bucket_sums(c->ht, p->schema_name,
																 p->table_name, c->thresholds,
																 NIL, false, false),
									0, NULL, NULL, HD_ROWS_TEXT),
					 nbuckets, false, false, &dst);
	for (int b = 0; b < nbuckets; b++)
		if (!same_text(dst.count[b], c->baseline.count[b]))
			return false;
	return true;
}

/* The target's rows of buckets (with hashes: of those row hashes) replaced by the source's. */
static void
recopy_rows(ReplicaCopy *c, List *buckets, List *hashes)
{
	HdCatalogChunkPlace *p = &c->place;

	hd_exec(c->dst, hd_deparse_chunk_bucket_delete(c->ht, p->schema_name, p->table_name,
												   c->thresholds, buckets, hashes),
			0, NULL, NULL, NULL);
	copy_rows(c, hd_deparse_chunk_bucket_rows(c->ht, p->schema_name, p->table_name,
											  c->thresholds, buckets, hashes));
}

/* A replica's row hashes in one bucket, ascending, as the stream gives them. */
typedef struct RowHashes
{
	int			n;
	int			size;
	int64	   *h;
} RowHashes;

static void
read_hashes(HdStream *stream, RowHashes *rh)
{
	char	   *field;

	rh->n = 0;
	rh->size = 1024;
	rh->h = palloc(sizeof(int64) * rh->size);
	while (hd_stream_next_text_row(stream, &field, 1))
	{
		if (rh->n == rh->size)
		{
			rh->size *= 2;
			rh->h = repalloc_huge(rh->h, sizeof(int64) * rh->size);
		}
		rh->h[rh->n++] = pg_strtoint64(field);
	}
	hd_stream_close(stream);
}

/*
 * The hashes (as text) that occur a different number of times in the two
 * sorted lists: the rows with those hashes differ between the replicas,
 * and no others do.
 */
static List *
hashes_differing(const RowHashes *a, const RowHashes *b)
{
	List	   *differ = NIL;
	int			i = 0;
	int			j = 0;

	while (i < a->n || j < b->n)
	{
		int64		h = (j >= b->n || (i < a->n && a->h[i] < b->h[j])) ? a->h[i] : b->h[j];
		int			na = 0;
		int			nb = 0;

		while (i < a->n && a->h[i] == h)
			i++, na++;
		while (j < b->n && b->h[j] == h)
			j++, nb++;
		if (na != nb)
			differ = lappend(differ, psprintf(INT64_FORMAT, h));
	}
	return differ;
}

/*
 * Makes the target's rows in buckets the same as the source's: the rows
 * whose hash occurs a different number of times on the two (what was
 * written since they were last compared) are replaced, unless they are
 * many: then all of the buckets' rows are.  One scan of the buckets on
 * each node, at once; the access node holds 8 bytes per row of them.
 */
static void
repair_buckets(ReplicaCopy *c, List *buckets)
{
	HdCatalogChunkPlace *p = &c->place;
	char	   *sql;
	HdRequestSet *set;
	RowHashes	src;
	RowHashes	dst;
	List	   *differ;

	if (buckets == NIL)
		return;
	sql = hd_deparse_chunk_bucket_hashes(c->ht, p->schema_name, p->table_name,
										 c->thresholds, buckets);
	set = hd_reqset_create();
	(void) hd_reqset_query(set, c->src, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	(void) hd_reqset_query(set, c->dst, sql, 0, NULL, NULL, HD_ROWS_TEXT);
	read_hashes(hd_reqset_stream(set, 0), &src);
	read_hashes(hd_reqset_stream(set, 1), &dst);
	differ = hashes_differing(&src, &dst);
	if (list_length(differ) > HD_COPY_MAX_ROW_REPAIR ||
		list_length(differ) > src.n / 2)
		recopy_rows(c, buckets, NIL);
	else if (differ != NIL)
		recopy_rows(c, buckets, differ);
	pfree(src.h);
	pfree(dst.h);
	list_free_deep(differ);
}

/*
 * Repairs the buckets that differ, in groups of about
 * HD_COPY_REPAIR_BATCH_ROWS rows (counted on the source, rows in all).
 */
static void
repair(ReplicaCopy *c, List *buckets, int64 rows)
{
	int			ngroups;
	int			per_group;
	List	   *group = NIL;
	ListCell   *lc;

	if (buckets == NIL)
		return;
	ngroups = (int) Min(rows / HD_COPY_REPAIR_BATCH_ROWS + 1, list_length(buckets));
	per_group = (list_length(buckets) + ngroups - 1) / ngroups;

	foreach(lc, buckets)
	{
		CHECK_FOR_INTERRUPTS();
		group = lappend_int(group, lfirst_int(lc));
		if (list_length(group) == per_group)
		{
			repair_buckets(c, group);
			group = NIL;
		}
	}
	repair_buckets(c, group);
}

/*
 * Rounds of catch-up while writers go on: the buckets written since the
 * last round (since the copy, first) are repaired, until a round finds
 * none or the rounds run out (a chunk written all the time is left to the
 * switch).
 */
static void
catch_up(ReplicaCopy *c)
{
	progress_phase(c->slot, "catching up");
	for (int round = 0; round < HD_COPY_CATCH_UP_ROUNDS; round++)
	{
		int64		rows;
		List	   *written = buckets_written(c, &rows);

		if (written == NIL)
			return;
		repair(c, written, rows);
	}
}

/*
 * Under the chunk's lock: the source's replica must still be current and
 * the target's as expected, else another transaction changed them (a
 * write marked the source stale, the node was deleted, a second copy) and
 * the copy is no longer what is wanted.
 */
static void
check_unchanged(ReplicaCopy *c)
{
	char	   *source = hd_catalog_replica_status(c->chunk_id, c->source);
	char	   *target = hd_catalog_replica_status(c->chunk_id, c->target);
	bool		target_ok;

	if (c->target_status < 0)
		target_ok = target == NULL;
	else
		target_ok = target != NULL &&
			strcmp(target, hd_replica_status_name(c->target_status)) == 0;
	if (source == NULL ||
		strcmp(source, hd_replica_status_name(HD_REPLICA_CURRENT)) != 0 || !target_ok)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("the replicas of chunk %s changed while it was copied",
						c->chunk_name)));
}

/*
 * The final switch.  The chunk's lock in ShareLock waits for its writers
 * in flight and keeps new ones out (other chunks' writers never meet it);
 * the hypertable's AccessShareLock keeps DDL out.  The buckets written
 * since the last round are repaired and compared again; every other bucket
 * was copied or repaired exactly and not written since.  The target's row
 * count per bucket must then be the source's.  The catalog then says the
 * target is current.
 */
static void
final_switch(ReplicaCopy *c)
{
	List	   *written;
	int64		rows;

	progress_phase(c->slot, "switching");
	(void) set_config_option("lock_timeout",
							 psprintf("%d", HD_COPY_LOCK_TIMEOUT_MS),
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	LockRelationOid(c->place.hypertable_relid, AccessShareLock);
	(void) hd_catalog_lock_chunk(c->chunk_id, ShareLock);
	check_unchanged(c);
	written = buckets_written(c, &rows);
	repair(c, written, rows);
	if ((written != NIL && differing_buckets(c, written, &rows) != NIL) || !counts_match(c))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the copy of chunk %s differs from its source", c->chunk_name),
				 errdetail("Their row counts or checksums differ although no write ran.")));
	hd_fault(HD_FAULT_MOVE_SWITCHING);
	hd_replica_switch(c->chunk_id, c->target, c->retire_source ? c->source : NULL);
}

/*
 * Runs a copy's steps between copy_begin and copy_end, whatever happens.
 */
static void
run_copy(ReplicaCopy *c, int32 op_id, bool create, void (*steps) (ReplicaCopy *c))
{
	c->slot = -1;
	PG_TRY();
	{
		copy_begin(c, op_id, create);
		steps(c);
	}
	PG_CATCH();
	{
		copy_end(c);
		PG_RE_THROW();
	}
	PG_END_TRY();
	copy_end(c);
}

static void
heal_steps(ReplicaCopy *c)
{
	prepare_target(c, true);
	copy_all_rows(c);
	catch_up(c);
	final_switch(c);
}

void
hd_replica_copy(int32 chunk_id, const char *source, const char *target)
{
	ReplicaCopy c = {0};

	c.chunk_id = chunk_id;
	c.source = source;
	c.target = target;
	c.target_status = HD_REPLICA_STALE;
	run_copy(&c, 0, false, heal_steps);
}

/* The hypertable's lock keeps DDL out until the replica is in the catalog. */
static void
create_target_steps(ReplicaCopy *c)
{
	LockRelationOid(c->place.hypertable_relid, AccessShareLock);
	check_unchanged(c);
	prepare_target(c, false);
	hd_replica_add(c->chunk_id, c->target, HD_REPLICA_COPYING);
}

void
hd_replica_copy_create_target(int32 op_id, int32 chunk_id, const char *source,
							  const char *target)
{
	ReplicaCopy c = {0};

	c.chunk_id = chunk_id;
	c.source = source;
	c.target = target;
	c.target_status = -1;
	run_copy(&c, op_id, true, create_target_steps);
}

static void
to_target_steps(ReplicaCopy *c)
{
	empty_target(c);
	copy_all_rows(c);
	if (c->unattached)
		attach_target(c);
	hd_fault(HD_FAULT_MOVE_COPIED);
	catch_up(c);
	final_switch(c);
}

void
hd_replica_copy_to_target(int32 op_id, int32 chunk_id, const char *source,
						  const char *target, bool retire_source, HdCopyStats *stats)
{
	ReplicaCopy c = {0};

	c.chunk_id = chunk_id;
	c.source = source;
	c.target = target;
	c.target_status = HD_REPLICA_COPYING;
	c.retire_source = retire_source;
	run_copy(&c, op_id, false, to_target_steps);
	*stats = c.stats;
}
