/* SPDX-License-Identifier: PostgreSQL */
/*
 * cagg/internal.h — what the files of cagg/ share.
 */
#ifndef HYPERDIST_CAGG_INTERNAL_H
#define HYPERDIST_CAGG_INTERNAL_H

#include "postgres.h"

#include "metadata/catalog_read.h"

/*
 * The lowest (or highest) value of time type typid as an SQL literal:
 * infinity for timestamps and dates, the type's range for integers.
 */
extern const char *hd_cagg_time_bound(Oid typid, bool upper);

/* The quoted, qualified name of relation relid. */
extern char *hd_cagg_relation_name(Oid relid);

/* The statement defining the view of cagg (CREATE OR REPLACE VIEW). */
extern char *hd_cagg_view_sql(const HdCatalogCagg *cagg, const char *view_name);

#endif							/* HYPERDIST_CAGG_INTERNAL_H */
