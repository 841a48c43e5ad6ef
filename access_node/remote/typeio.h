/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/typeio.h — binary formats the access node writes and reads itself.
 */
#ifndef HYPERDIST_REMOTE_TYPEIO_H
#define HYPERDIST_REMOTE_TYPEIO_H

#include "postgres.h"

#include "lib/stringinfo.h"

extern int16 hd_fixed_binary_len(Oid typid);
extern void hd_fixed_binary_append(StringInfo buf, Datum value, int16 len);
extern Datum hd_fixed_binary_datum(const uint8 *data, Oid typid);

#endif							/* HYPERDIST_REMOTE_TYPEIO_H */
