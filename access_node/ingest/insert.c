/* SPDX-License-Identifier: PostgreSQL */
/*
 * ingest/insert.c — batching rows per data node for distributed hypertables.
 *
 * A batch is one Exec request.  When every column travels in binary and
 * there is no ON CONFLICT clause, it is
 *   COPY root (c1, ..., cn) FROM STDIN (FORMAT binary)
 * with the rows as its data, which the data node inserts with COPY's
 * buffered multi-row inserts.  Otherwise it is
 *   INSERT INTO root (c1, ..., cn)
 *   SELECT u.c1, ..., u.cn FROM unnest($1::t1[], ..., $n::tn[]) AS u(c1, ..., cn)
 * where column k's parameter is a one-dimensional array in array_send format.
 * Either way a value is its length and its bytes, encoded once per row.
 * Built-in scalar types travel as their own binary format; any other type
 * (enums, arrays, composites, user types, whose OIDs differ between nodes)
 * travels as text[] of its output and is cast on the data node.  The data
 * node parses one statement per batch and its partitioning puts the rows
 * into the chunks.  An ON CONFLICT clause (deparsed by ingest/on_conflict.c) is
 * appended and arbitrated by the data node's unique indexes.
 *
 * COPY FROM into a hypertable (ingest/copy_from.c) brings its rows already
 * encoded, as lines of COPY's text format or tuples of its binary format,
 * and its own COPY statement; they are routed and batched the same way.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "deparse/deparse.h"
#include "metadata/dimension.h"
#include "metadata/invalidation.h"
#include "guc.h"
#include "ingest/codec.h"
#include "ingest/insert.h"
#include "placement/chunk_create.h"
#include "remote/connection.h"
#include "remote/fanout.h"

/* A batch is shipped at this size even below max_insert_batch_size rows. */
#define HD_BATCH_MAX_BYTES (16 * 1024 * 1024)

/* array_send's header for one dimension: ndim, flags, elemtype, dim, lbound */
#define ARRAY_HEADER_BYTES 20

/* A data node session and its batch in flight (at most one). */
typedef struct NodeConn
{
	Oid			serverid;
	HdConn	   *conn;
	bool		pending;
	uint32		seq;
	bool		pending_counts; /* its rows count as inserted */
	uint64	   *lines;			/* raw COPY in flight: each row's input line */
	int			nlines;
	int			lines_size;
} NodeConn;

typedef struct NodeBatch
{
	NodeConn   *node;
	bool		counts;			/* rows for read replicas (with count_rows) */
	int			nrows;
	size_t		bytes;
	StringInfoData copy;		/* COPY: header and rows */
	uint64	   *lines;			/* raw COPY: each row's input line */
	int			lines_size;
	StringInfoData *columns;	/* else per column: the array's elements */
	bool	   *hasnull;
} NodeBatch;

struct HdInsertState
{
	Relation	rel;
	HdHypertable *ht;
	HdChunkCache *chunks;
	HdInvalRange *inval;		/* the transaction's changed times, once a
								 * row is routed (ht->has_caggs) */
	MemoryContext cxt;
	MemoryContext row_cxt;
	bool		count_rows;
	int			ncolumns;
	HdColumnCodec *codecs;
	StringInfoData *row;		/* the current row's elements, per column */
	char	   *sql;
	char	   *copy_sql;		/* NULL: batches are INSERT ... unnest */
	bool		raw_copy;		/* copy_sql reads rows the caller encodes */
	bool		binary_copy;	/* copy_sql reads binary COPY data */
	List	   *nodes;			/* NodeConn */
	List	   *batches;		/* NodeBatch */
	uint64		inserted;
	/* ON CONFLICT with RETURNING: one row per statement, in text */
	const char *alias;
	const char *on_conflict;
	char	   *ret_sql;
	FmgrInfo   *ret_out;		/* per column: output function */
	FmgrInfo   *ret_in;			/* per column: input function */
	Oid		   *ret_ioparam;
	MemoryContext ret_cxt;		/* the returned row, until the next one */
};

static void
init_codecs(HdInsertState *state)
{
	TupleDesc	tupdesc = RelationGetDescr(state->rel);
	int			n = 0;

	state->codecs = palloc(sizeof(HdColumnCodec) * tupdesc->natts);
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped)
			hd_codec_init(&state->codecs[n++], att);
	}
	state->ncolumns = n;
}

/* Whether every column travels in binary (COPY's format is all or none). */
static bool
all_binary(HdInsertState *state)
{
	for (int i = 0; i < state->ncolumns; i++)
	{
		if (state->codecs[i].kind == HD_CODEC_OUTPUT)
			return false;
	}
	return true;
}

/* The attribute numbers of the columns sent, in order. */
static AttrNumber *
column_attnums(HdInsertState *state)
{
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * Max(state->ncolumns, 1));

	for (int i = 0; i < state->ncolumns; i++)
		attnums[i] = state->codecs[i].attnum;
	return attnums;
}

/*
 * The batches' statement: INSERT ... unnest of one array per column, text
 * ones cast to their column's type; or COPY in binary, when every column
 * travels in binary and there is no ON CONFLICT clause.
 */
static void
init_statements(HdInsertState *state, const char *alias,
				const char *on_conflict)
{
	TupleDesc	tupdesc = RelationGetDescr(state->rel);
	int			n = state->ncolumns;
	AttrNumber *attnums = column_attnums(state);
	Oid		   *elemtypes = palloc(sizeof(Oid) * Max(n, 1));
	bool	   *as_text = palloc(sizeof(bool) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		elemtypes[i] = state->codecs[i].elemtype;
		as_text[i] = state->codecs[i].kind == HD_CODEC_OUTPUT;
	}
	state->sql = hd_deparse_insert_batch(state->ht, alias, tupdesc, n, attnums,
										 elemtypes, as_text, on_conflict);
	state->copy_sql = on_conflict == NULL && all_binary(state) ?
		hd_deparse_copy_from(state->ht, tupdesc, n, attnums, "FORMAT binary") : NULL;
	state->binary_copy = state->copy_sql != NULL;
}

/*
 * The line of a batch that a data node's COPY context names ("COPY t, line
 * n, ..."), or 0.
 */
static long
batch_line(const char *context)
{
	const char *line;

	if (context == NULL || strncmp(context, "COPY ", 5) != 0 ||
		(line = strstr(context, ", line ")) == NULL)
		return 0;
	return strtol(line + strlen(", line "), NULL, 10);
}

/*
 * Waits for a raw COPY batch.  A data node's error on one of its rows
 * names the row's line within the batch; the input's line is added.
 */
static uint64
wait_raw_copy(HdInsertState *state, NodeConn *node)
{
	MemoryContext cxt = CurrentMemoryContext;
	uint64		rows = 0;

	PG_TRY();
	{
		rows = hd_exec_wait(node->conn, node->seq, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		long		line;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		line = batch_line(edata->context);
		if (line < 1 || line > node->nlines)
			PG_RE_THROW();
		FlushErrorState();
		edata->context = psprintf("%s\nCOPY %s, line %llu of the input",
								  edata->context,
								  RelationGetRelationName(state->rel),
								  (unsigned long long) node->lines[line - 1]);
		ReThrowError(edata);
	}
	PG_END_TRY();
	return rows;
}

static void
wait_node(HdInsertState *state, NodeConn *node)
{
	uint64		rows;

	if (!node->pending)
		return;
	node->pending = false;
	if (state->raw_copy)
		rows = wait_raw_copy(state, node);
	else
		rows = hd_exec_wait(node->conn, node->seq, NULL);
	if (node->pending_counts)
		state->inserted += rows;
}

static void
wait_all(void *arg)
{
	HdInsertState *state = arg;
	ListCell   *lc;

	foreach(lc, state->nodes)
		wait_node(state, lfirst(lc));
}

/* A state in its own memory context, which is current on return. */
static HdInsertState *
create_state(Relation rel, HdHypertable *ht, bool count_rows)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "hyperdist insert",
											  ALLOCSET_DEFAULT_SIZES);
	HdInsertState *state;

	MemoryContextSwitchTo(cxt);
	state = palloc0(sizeof(HdInsertState));
	state->rel = rel;
	state->ht = ht;
	state->cxt = cxt;
	state->row_cxt = AllocSetContextCreate(cxt, "hyperdist insert row",
										   ALLOCSET_SMALL_SIZES);
	state->count_rows = count_rows;
	state->chunks = hd_chunk_cache_create(ht, cxt, wait_all, state);
	return state;
}

HdInsertState *
hd_insert_begin(Relation rel, HdHypertable *ht, const char *alias,
				const char *on_conflict, bool count_rows)
{
	MemoryContext old = CurrentMemoryContext;
	HdInsertState *state = create_state(rel, ht, count_rows);

	init_codecs(state);
	init_statements(state, alias, on_conflict);
	state->alias = alias ? pstrdup(alias) : NULL;
	state->on_conflict = on_conflict ? pstrdup(on_conflict) : NULL;
	state->row = palloc(sizeof(StringInfoData) * state->ncolumns);
	for (int i = 0; i < state->ncolumns; i++)
		initStringInfo(&state->row[i]);
	MemoryContextSwitchTo(old);
	return state;
}

static NodeConn *
get_node(HdInsertState *state, Oid serverid)
{
	ListCell   *lc;
	NodeConn   *node;
	MemoryContext old;

	foreach(lc, state->nodes)
	{
		node = lfirst(lc);
		if (node->serverid == serverid)
			return node;
	}
	old = MemoryContextSwitchTo(state->cxt);
	node = palloc0(sizeof(NodeConn));
	node->serverid = serverid;
	node->conn = hd_conn_get(serverid, true);
	state->nodes = lappend(state->nodes, node);
	MemoryContextSwitchTo(old);
	return node;
}

/*
 * Empties a COPY batch.  Binary data starts with the header: signature,
 * flags 0, no header extension.
 */
static void
copy_batch_reset(HdInsertState *state, NodeBatch *batch)
{
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

	resetStringInfo(&batch->copy);
	if (state->binary_copy)
		appendBinaryStringInfo(&batch->copy, header, sizeof(header));
}

static NodeBatch *
get_batch(HdInsertState *state, Oid serverid, bool counts)
{
	ListCell   *lc;
	NodeConn   *node;
	NodeBatch  *batch;
	MemoryContext old;

	foreach(lc, state->batches)
	{
		batch = lfirst(lc);
		if (batch->node->serverid == serverid && batch->counts == counts)
			return batch;
	}

	node = get_node(state, serverid);
	old = MemoryContextSwitchTo(state->cxt);
	batch = palloc0(sizeof(NodeBatch));
	batch->node = node;
	batch->counts = counts;
	if (state->copy_sql != NULL)
	{
		initStringInfo(&batch->copy);
		copy_batch_reset(state, batch);
	}
	else
	{
		batch->columns = palloc(sizeof(StringInfoData) * state->ncolumns);
		batch->hasnull = palloc0(sizeof(bool) * state->ncolumns);
		for (int i = 0; i < state->ncolumns; i++)
		{
			initStringInfo(&batch->columns[i]);
			/* room for the header, written when the batch ships */
			appendStringInfoSpaces(&batch->columns[i], ARRAY_HEADER_BYTES);
		}
	}
	state->batches = lappend(state->batches, batch);
	MemoryContextSwitchTo(old);
	return batch;
}

static void
put_be32(StringInfo buf, int offset, uint32 v)
{
	uint32		be = pg_hton32(v);

	memcpy(buf->data + offset, &be, 4);
}

/*
 * A raw COPY batch's input lines go with it to its node, which has one
 * batch (rows are not counted apart); the node's former array, free since
 * its batch was awaited, is the batch's next.
 */
static void
hand_lines_over(NodeBatch *batch)
{
	NodeConn   *node = batch->node;
	uint64	   *lines = node->lines;
	int			size = node->lines_size;

	node->lines = batch->lines;
	node->lines_size = batch->lines_size;
	node->nlines = batch->nrows;
	batch->lines = lines;
	batch->lines_size = size;
}

/*
 * Sends a COPY batch: its rows, then in binary the trailer (a field count
 * of -1); text ends with the data.
 */
static void
ship_copy_batch(HdInsertState *state, NodeBatch *batch)
{
	uint16		trailer = pg_hton16((uint16) -1);

	if (state->binary_copy)
		appendBinaryStringInfo(&batch->copy, (char *) &trailer, 2);
	wait_node(state, batch->node);
	batch->node->seq = hd_exec_send_copy(batch->node->conn, state->copy_sql,
										 batch->copy.data, batch->copy.len);
	if (state->raw_copy)
		hand_lines_over(batch);
	batch->node->pending = true;
	batch->node->pending_counts = batch->counts;
	copy_batch_reset(state, batch);
	batch->nrows = 0;
	batch->bytes = 0;
}

static void
ship_batch(HdInsertState *state, NodeBatch *batch)
{
	HdParamValue *params;

	if (batch->nrows == 0)
		return;
	if (state->copy_sql != NULL)
	{
		ship_copy_batch(state, batch);
		return;
	}
	params = palloc(sizeof(HdParamValue) * state->ncolumns);
	for (int i = 0; i < state->ncolumns; i++)
	{
		StringInfo	col = &batch->columns[i];

		put_be32(col, 0, 1);	/* ndim */
		put_be32(col, 4, batch->hasnull[i] ? 1 : 0);
		put_be32(col, 8, state->codecs[i].elemtype);
		put_be32(col, 12, batch->nrows);
		put_be32(col, 16, 1);	/* lower bound */
		params[i].type = get_array_type(state->codecs[i].elemtype);
		params[i].data = col->data;
		params[i].len = col->len;
		params[i].binary = true;
	}

	wait_node(state, batch->node);
	batch->node->seq = hd_exec_send_params(batch->node->conn, state->sql,
										   state->ncolumns, params);
	batch->node->pending = true;
	batch->node->pending_counts = batch->counts;
	pfree(params);

	for (int i = 0; i < state->ncolumns; i++)
	{
		batch->columns[i].len = ARRAY_HEADER_BYTES;
		batch->hasnull[i] = false;
	}
	batch->nrows = 0;
	batch->bytes = 0;
}

/* Encodes the row's columns as array elements into state->row. */
static size_t
encode_row(HdInsertState *state, Datum *values, bool *isnull)
{
	size_t		size = 0;
	MemoryContext old = MemoryContextSwitchTo(state->row_cxt);

	for (int i = 0; i < state->ncolumns; i++)
	{
		HdColumnCodec *codec = &state->codecs[i];
		StringInfo	buf = &state->row[i];
		int			k = codec->attnum - 1;

		resetStringInfo(buf);
		if (isnull[k])
			hd_codec_encode_null(buf);
		else
			hd_codec_encode(codec, buf, values[k]);
		size += buf->len;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->row_cxt);
	return size;
}

/* A row of binary COPY: the field count, then each field as encoded. */
static void
append_copy_row(HdInsertState *state, NodeBatch *batch)
{
	uint16		nfields = pg_hton16((uint16) state->ncolumns);

	appendBinaryStringInfo(&batch->copy, (char *) &nfields, 2);
	for (int i = 0; i < state->ncolumns; i++)
		appendBinaryStringInfo(&batch->copy, state->row[i].data,
							   state->row[i].len);
}

/*
 * Before a row of size bytes: a row that would take the batch past its size
 * goes in the next one, so a request exceeds the agent's frame limit only
 * for a row that does alone, whatever came before it.
 */
static void
make_room(HdInsertState *state, NodeBatch *batch, size_t size)
{
	if (batch->nrows > 0 && batch->bytes + size > HD_BATCH_MAX_BYTES)
		ship_batch(state, batch);
}

/* After a row of size bytes: ships the batch when it is full. */
static void
row_added(HdInsertState *state, NodeBatch *batch, size_t size)
{
	batch->nrows++;
	batch->bytes += size;
	if (batch->nrows >= hd_max_insert_batch_size || batch->bytes >= HD_BATCH_MAX_BYTES)
		ship_batch(state, batch);
}

static void
append_row(HdInsertState *state, NodeBatch *batch, bool *isnull, size_t size)
{
	make_room(state, batch, size);
	if (state->copy_sql != NULL)
		append_copy_row(state, batch);
	else
	{
		for (int i = 0; i < state->ncolumns; i++)
		{
			appendBinaryStringInfo(&batch->columns[i], state->row[i].data,
								   state->row[i].len);
			if (isnull[state->codecs[i].attnum - 1])
				batch->hasnull[i] = true;
		}
	}
	row_added(state, batch, size);
}

/* The chunk of the row (created if missing). */
static HdChunk *
route_row(HdInsertState *state, Datum *values, bool *isnull)
{
	HdHypertable *ht = state->ht;
	AttrNumber	t = ht->time.attnum - 1;
	AttrNumber	s = ht->space.attnum - 1;
	int64		time;

	if (isnull[t])
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
						ht->time.column_name, RelationGetRelationName(state->rel)),
				 errdetail("The time column of a distributed hypertable cannot be NULL.")));

	time = hd_time_to_internal(values[t], ht->time.type);
	if (ht->has_caggs)
	{
		if (state->inval == NULL)
			state->inval = hd_inval_range(ht);
		hd_inval_add(state->inval, time, time);
	}
	return hd_chunk_for_point(state->chunks, time,
							  ht->has_space ? values[s] : (Datum) 0,
							  ht->has_space ? isnull[s] : true);
}

void
hd_insert_row(HdInsertState *state, Datum *values, bool *isnull)
{
	HdChunk    *chunk = route_row(state, values, isnull);
	size_t		size;

	size = encode_row(state, values, isnull);
	for (int i = 0; i < chunk->nnodes; i++)
		append_row(state,
				   get_batch(state, chunk->nodes[i], !state->count_rows || i == 0),
				   isnull, size);
}

/*
 * INSERT INTO root [AS alias] (c1, ..., cn) VALUES ($1::t1, ..., $n::tn)
 * ON CONFLICT ... RETURNING c1, ..., cn, with text parameters and results
 * (every type has a text form; the row is a single one).
 */
static void
init_returning(HdInsertState *state)
{
	TupleDesc	tupdesc = RelationGetDescr(state->rel);
	MemoryContext old = MemoryContextSwitchTo(state->cxt);

	state->ret_out = palloc(sizeof(FmgrInfo) * state->ncolumns);
	state->ret_in = palloc(sizeof(FmgrInfo) * state->ncolumns);
	state->ret_ioparam = palloc(sizeof(Oid) * state->ncolumns);
	for (int i = 0; i < state->ncolumns; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, state->codecs[i].attnum - 1);
		Oid			func;
		bool		varlena;

		getTypeOutputInfo(att->atttypid, &func, &varlena);
		fmgr_info(func, &state->ret_out[i]);
		getTypeInputInfo(att->atttypid, &func, &state->ret_ioparam[i]);
		fmgr_info(func, &state->ret_in[i]);
	}
	state->ret_sql = hd_deparse_insert_returning(state->ht, state->alias, tupdesc,
												 state->ncolumns, column_attnums(state),
												 state->on_conflict);
	state->ret_cxt = AllocSetContextCreate(state->cxt, "hyperdist insert returning",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(old);
}

/* Reads the stream to its end; the first row (if any) into out/outnull. */
static bool
read_returned(HdInsertState *state, HdStream *stream, Datum *out, bool *outnull)
{
	bool		found = false;
	char	  **fields = palloc(sizeof(char *) * state->ncolumns);

	while (hd_stream_next_text_row(stream, fields, state->ncolumns))
	{
		if (found)
			continue;
		for (int i = 0; i < state->ncolumns; i++)
		{
			int			k = state->codecs[i].attnum - 1;
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(state->rel), k);

			outnull[k] = fields[i] == NULL;
			out[k] = InputFunctionCall(&state->ret_in[i], fields[i],
									   state->ret_ioparam[i], att->atttypmod);
		}
		found = true;
	}
	return found;
}

bool
hd_insert_row_returning(HdInsertState *state, Datum *values, bool *isnull,
						Datum *out, bool *outnull)
{
	HdChunk    *chunk = route_row(state, values, isnull);
	const char **params;
	Oid		   *types;
	HdRequestSet *set;
	MemoryContext old;
	bool		found = false;

	if (state->ret_sql == NULL)
		init_returning(state);
	MemoryContextReset(state->ret_cxt);
	old = MemoryContextSwitchTo(state->ret_cxt);

	params = palloc(sizeof(char *) * state->ncolumns);
	types = palloc0(sizeof(Oid) * state->ncolumns);
	for (int i = 0; i < state->ncolumns; i++)
	{
		int			k = state->codecs[i].attnum - 1;

		params[i] = isnull[k] ? NULL : OutputFunctionCall(&state->ret_out[i], values[k]);
	}
	for (int k = 0; k < RelationGetDescr(state->rel)->natts; k++)
		outnull[k] = true;

	/* every replica runs it at once; replica 0's answer is the row's fate */
	set = hd_reqset_create();
	for (int i = 0; i < chunk->nnodes; i++)
	{
		NodeConn   *node = get_node(state, chunk->nodes[i]);

		wait_node(state, node);
		(void) hd_reqset_query(set, node->conn, state->ret_sql, state->ncolumns,
							   types, params, HD_ROWS_TEXT);
		hd_conn_mark_written(node->conn);
	}
	for (int i = 0; i < chunk->nnodes; i++)
	{
		HdStream   *stream = hd_reqset_stream(set, i);
		bool		got = read_returned(state, stream, out, outnull);

		if (i == 0)
			found = got;
		hd_stream_close(stream);
	}
	MemoryContextSwitchTo(old);
	return found;
}

HdInsertState *
hd_insert_begin_copy(Relation rel, HdHypertable *ht, const char *copy_sql,
					 bool binary)
{
	MemoryContext old = CurrentMemoryContext;
	HdInsertState *state = create_state(rel, ht, false);

	state->copy_sql = pstrdup(copy_sql);
	state->raw_copy = true;
	state->binary_copy = binary;
	MemoryContextSwitchTo(old);
	return state;
}

HdChunk *
hd_insert_route(HdInsertState *state, Datum *values, bool *isnull)
{
	return route_row(state, values, isnull);
}

/* Records the input line of the batch's next row. */
static void
add_line(HdInsertState *state, NodeBatch *batch, uint64 lineno)
{
	if (batch->nrows >= batch->lines_size)
	{
		int			size = Max(batch->lines_size * 2, 64);

		batch->lines = batch->lines ?
			repalloc(batch->lines, sizeof(uint64) * size) :
			MemoryContextAlloc(state->cxt, sizeof(uint64) * size);
		batch->lines_size = size;
	}
	batch->lines[batch->nrows] = lineno;
}

void
hd_insert_copy_row(HdInsertState *state, HdChunk *chunk, const char *row,
				   int len, uint64 lineno)
{
	Assert(state->raw_copy);
	for (int i = 0; i < chunk->nnodes; i++)
	{
		NodeBatch  *batch = get_batch(state, chunk->nodes[i], true);

		make_room(state, batch, len);
		add_line(state, batch, lineno);
		appendBinaryStringInfo(&batch->copy, row, len);
		row_added(state, batch, len);
	}
}

uint64
hd_insert_flush(HdInsertState *state)
{
	ListCell   *lc;
	uint64		inserted;

	foreach(lc, state->batches)
		ship_batch(state, lfirst(lc));
	wait_all(state);
	inserted = state->inserted;
	state->inserted = 0;
	return inserted;
}
