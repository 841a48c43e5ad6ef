/* SPDX-License-Identifier: PostgreSQL */
/*
 * cagg/cagg.h — continuous aggregates on distributed hypertables.
 *
 * A continuous aggregate is a view named as the role asked, over a local
 * table in _hyperdist_cagg holding its finalized rows (one per bucket and
 * group), owned by the view's owner.  Refreshing computes the buckets of a
 * time window on the data nodes (the FDW pushes the grouping and partial
 * aggregates down) and replaces the table's rows of that window.
 * docs/ARCHITECTURE.md, "Continuous aggregates", has the design.
 */
#ifndef HYPERDIST_CAGG_CAGG_H
#define HYPERDIST_CAGG_CAGG_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/jsonb.h"

#include "metadata/catalog_read.h"

/* The schema of the tables and functions behind continuous aggregates. */
#define HD_CAGG_SCHEMA "_hyperdist_cagg"

/*
 * CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous): creates the
 * continuous aggregate and returns true; false when stmt is another
 * statement, left to PostgreSQL.  top_level as ProcessUtility's context.
 */
extern bool hd_cagg_create(CreateTableAsStmt *stmt, const char *query_string,
						   bool top_level);

/*
 * DROP MATERIALIZED VIEW: drops the continuous aggregates stmt names and
 * takes them out of stmt->objects; true when none is left for PostgreSQL.
 * DROP VIEW of a continuous aggregate is refused.
 */
extern bool hd_cagg_drop(DropStmt *stmt);

/*
 * DROP SCHEMA ... CASCADE of schema nspid, or DROP OWNED BY role owner
 * (InvalidOid: any), is about to drop the views of the continuous
 * aggregates in it or of that owner: their catalog rows and policies go
 * (their materialized tables go with their views).
 */
extern void hd_cagg_forget_in(Oid nspid, Oid owner);

/*
 * The view view_relid is about to go, or went with the running statement
 * (a cascade, ddl/dropped.c): the catalog rows and policy of its
 * continuous aggregate, if it is one, go too.
 */
extern void hd_cagg_forget(Oid view_relid);

/*
 * ALTER MATERIALIZED VIEW ... SET (timescaledb.materialized_only = ...) of
 * a continuous aggregate; false when stmt is about something else.
 */
extern bool hd_cagg_alter(AlterTableStmt *stmt);

/*
 * Refreshes the continuous aggregate of view view_relid on the window
 * [start, end) of its time column's type (NULL: open), aligned inward to
 * whole buckets, as the view's owner: the buckets its invalidation log
 * covers are recomputed.  The caller checked who may.
 */
extern void hd_cagg_refresh(Oid view_relid, Datum start, Oid start_type, bool start_null,
							Datum end, Oid end_type, bool end_null);

/*
 * The config of a refresh policy of cagg, its offsets checked (an error
 * when they do not fit the time column or span less than two buckets).
 */
extern Jsonb *hd_cagg_policy_config(const HdCatalogCagg *cagg,
									Datum start, Oid start_type, bool start_null,
									Datum end, Oid end_type, bool end_null);

#endif							/* HYPERDIST_CAGG_CAGG_H */
