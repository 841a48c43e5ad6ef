/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/dimension.h — time and space dimensions: internal time, slices, hashing.
 *
 * Internal time is TimescaleDB's: microseconds since the Unix epoch for
 * timestamptz, timestamp and date values, the value itself for integers.
 * A time slice is [k * interval, (k + 1) * interval) in internal time.
 * The space partition of a value is PostgreSQL's hash partitioning of it
 * (the type's default hash operator class, seeded as partitioning does),
 * modulo the number of partitions: data nodes route rows into chunks by
 * the same rule, since their chunks are hash partitions.
 */
#ifndef HYPERDIST_METADATA_DIMENSION_H
#define HYPERDIST_METADATA_DIMENSION_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "metadata/hypertable.h"

/* PostgreSQL's epoch (2000-01-01) in Unix-epoch microseconds. */
#define PG_EPOCH_UNIX_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* Sets up dim->hash_proc and dim->collation for the space column. */
extern void hd_dimension_init_hash(HdDimension *dim, Oid relid, MemoryContext cxt);

/* Internal time of a non-NULL value of a time column of type typid. */
extern int64 hd_time_to_internal(Datum value, Oid typid);

/*
 * The value of time type typid at internal time (the inverse of
 * hd_time_to_internal; a date is the day holding it); an error when the
 * type cannot hold it.
 */
extern Datum hd_time_from_internal(int64 internal, Oid typid);

/*
 * The aligned slice holding value: [*start, *end), clamped to the int64
 * range (and so never overflowing).
 */
extern void hd_time_slice_align(int64 value, int64 interval, int64 *start, int64 *end);


/* Space partition (0 .. modulus-1) of a value, NULL included. */
extern int	hd_space_partition(HdDimension *dim, Datum value, bool isnull, int modulus);

/*
 * An older_than/newer_than argument of show_chunks or drop_chunks in the
 * hypertable's internal time: an interval counts back from now(), a
 * timestamp or date is converted to the column's type, an integer is
 * taken as is for integer columns.
 */
extern int64 hd_time_arg_to_internal(Datum arg, Oid argtype, const HdHypertable *ht,
									 const char *argname);

/*
 * A created_before/created_after argument of show_chunks or drop_chunks: an
 * interval counts back from now(), a timestamp or date is a point in time.
 */
extern TimestampTz hd_creation_time_arg(Datum arg, Oid argtype, const char *argname);

#endif							/* HYPERDIST_METADATA_DIMENSION_H */
