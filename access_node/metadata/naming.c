/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/naming.c — the names of chunks' and time slices' tables.
 *
 * On a data node a chunk is the table <prefix>_<hypertable id>_<chunk
 * id>_chunk, and with a space dimension each time slice the table
 * <prefix>_<hypertable id>_<slice id>_slice whose hash partitions the
 * chunks are, both in the hypertable's associated schema with its
 * associated_table_prefix (docs/ARCHITECTURE.md, "Chunks on the data
 * nodes").  The rules are here alone:
 *
 *  - a chunk's name is made once, when the chunk is created
 *    (hd_catalog_add_chunk, metadata/catalog.c), and kept in its catalog
 *    row, where everything else (its relation on the access node,
 *    show_chunks, drop_chunks, sizes) reads it;
 *  - a slice's table has no catalog row: chunk creation names it
 *    (chunk_create_sql, placement/chunk_create.c), and drop_chunks
 *    (sql/chunks.sql) through _hyperdist_functions.slice_table_name when it
 *    drops a slice's last chunks.
 *
 * A name longer than NAMEDATALEN - 1 bytes is cut the same way wherever it
 * goes, as an identifier: by the data node's parser when the table is
 * created and dropped, by the catalog's name column.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "metadata/naming.h"

char *
hd_chunk_table_name(const char *prefix, int32 ht_id, int32 chunk_id)
{
	return psprintf("%s_%d_%d_chunk", prefix, ht_id, chunk_id);
}

char *
hd_slice_table_name(const char *prefix, int32 ht_id, int32 slice_id)
{
	return psprintf("%s_%d_%d_slice", prefix, ht_id, slice_id);
}

/* _hyperdist_functions.slice_table_name(prefix, hypertable id, slice id) */
PG_FUNCTION_INFO_V1(hyperdist_slice_table_name);
Datum
hyperdist_slice_table_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(hd_slice_table_name(NameStr(*PG_GETARG_NAME(0)),
														 PG_GETARG_INT32(1),
														 PG_GETARG_INT32(2))));
}
