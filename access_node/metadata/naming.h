/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/naming.h — the names of chunks' and time slices' tables.
 */
#ifndef HYPERDIST_METADATA_NAMING_H
#define HYPERDIST_METADATA_NAMING_H

#include "postgres.h"

/* <prefix>_<ht_id>_<chunk_id>_chunk, unquoted */
extern char *hd_chunk_table_name(const char *prefix, int32 ht_id, int32 chunk_id);

/* <prefix>_<ht_id>_<slice_id>_slice, unquoted */
extern char *hd_slice_table_name(const char *prefix, int32 ht_id, int32 slice_id);

#endif							/* HYPERDIST_METADATA_NAMING_H */
