/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/top_per_key.h — LATERAL first rows per key as one scan (see the .c).
 */
#ifndef HYPERDIST_FDW_TOP_PER_KEY_H
#define HYPERDIST_FDW_TOP_PER_KEY_H

#include "nodes/parsenodes.h"

extern void hd_rewrite_top_per_key(Query *parse);

#endif							/* HYPERDIST_FDW_TOP_PER_KEY_H */
