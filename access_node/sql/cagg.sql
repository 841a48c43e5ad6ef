-- SPDX-License-Identifier: PostgreSQL
-- sql/cagg.sql: continuous aggregates (cagg/; docs/ARCHITECTURE.md,
-- "Continuous aggregates").

-- The materialized tables and watermark functions, made by
-- CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous) as the catalog's
-- owner and given to the view's owner.
CREATE SCHEMA _hyperdist_cagg;
GRANT USAGE ON SCHEMA _hyperdist_cagg TO PUBLIC;

CREATE PROCEDURE refresh_continuous_aggregate(
    continuous_aggregate regclass, window_start "any", window_end "any")
LANGUAGE C AS 'MODULE_PATHNAME', 'hyperdist_refresh_continuous_aggregate';

-- TimescaleDB 2.13's columns.  The materialized table is not a hypertable
-- here; its schema and name stand where 2.13 names the materialization
-- hypertable.
CREATE VIEW hyperdist_information.continuous_aggregates AS
SELECT hn.nspname AS hypertable_schema,
       hc.relname AS hypertable_name,
       vn.nspname AS view_schema,
       vc.relname AS view_name,
       pg_catalog.pg_get_userbyid(vc.relowner) AS view_owner,
       ca.materialized_only,
       false AS compression_enabled,
       mn.nspname AS materialization_hypertable_schema,
       mc.relname AS materialization_hypertable_name,
       ca.definition AS view_definition,
       true AS finalized
  FROM _hyperdist_catalog.continuous_agg ca
  JOIN _hyperdist_catalog.hypertable h ON h.id = ca.hypertable_id
  JOIN pg_catalog.pg_class hc ON hc.oid = h.relid
  JOIN pg_catalog.pg_namespace hn ON hn.oid = hc.relnamespace
  JOIN pg_catalog.pg_class vc ON vc.oid = ca.view_relid
  JOIN pg_catalog.pg_namespace vn ON vn.oid = vc.relnamespace
  JOIN pg_catalog.pg_class mc ON mc.oid = ca.mat_relid
  JOIN pg_catalog.pg_namespace mn ON mn.oid = mc.relnamespace;
GRANT SELECT ON hyperdist_information.continuous_aggregates TO PUBLIC;
