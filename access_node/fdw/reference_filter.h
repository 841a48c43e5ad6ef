/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/reference_filter.h — filters through reference tables (see the .c).
 */
#ifndef HYPERDIST_FDW_REFERENCE_FILTER_H
#define HYPERDIST_FDW_REFERENCE_FILTER_H

#include "nodes/parsenodes.h"

extern void hd_add_reference_filters(Query *parse);

#endif							/* HYPERDIST_FDW_REFERENCE_FILTER_H */
