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

-- Pending invalidations: ranges of the time column, in its internal units
-- (microseconds since 1970 for timestamps and dates, the value for
-- integers; lowest and greatest included), whose rows changed since the
-- aggregate's last refresh covering them.  A row without view_name is
-- still in the hypertable's log (a transaction logged it since the last
-- refresh of any of its aggregates): it is pending for each of them.
-- TimescaleDB 2.13 kept the same in
-- _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log and
-- ..._materialization_invalidation_log, whose names and columns
-- _hyperdist_catalog has.
CREATE VIEW hyperdist_information.continuous_aggregate_invalidations AS
SELECT hn.nspname AS hypertable_schema,
       hc.relname AS hypertable_name,
       NULL::name AS view_schema,
       NULL::name AS view_name,
       l.lowest_modified_value,
       l.greatest_modified_value
  FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log l
  JOIN _hyperdist_catalog.hypertable h ON h.id = l.hypertable_id
  JOIN pg_catalog.pg_class hc ON hc.oid = h.relid
  JOIN pg_catalog.pg_namespace hn ON hn.oid = hc.relnamespace
UNION ALL
SELECT hn.nspname, hc.relname, vn.nspname, vc.relname,
       l.lowest_modified_value, l.greatest_modified_value
  FROM _hyperdist_catalog.continuous_aggs_materialization_invalidation_log l
  JOIN _hyperdist_catalog.continuous_agg ca ON ca.id = l.materialization_id
  JOIN _hyperdist_catalog.hypertable h ON h.id = ca.hypertable_id
  JOIN pg_catalog.pg_class hc ON hc.oid = h.relid
  JOIN pg_catalog.pg_namespace hn ON hn.oid = hc.relnamespace
  JOIN pg_catalog.pg_class vc ON vc.oid = ca.view_relid
  JOIN pg_catalog.pg_namespace vn ON vn.oid = vc.relnamespace;
GRANT SELECT ON hyperdist_information.continuous_aggregate_invalidations TO PUBLIC;

-- ---- refresh policies (jobs: api/jobs.c, cagg/policy.c) ---------------------

CREATE FUNCTION add_continuous_aggregate_policy(
    continuous_aggregate regclass,
    start_offset "any",
    end_offset "any",
    schedule_interval interval,
    if_not_exists bool = false,
    initial_start timestamptz = NULL,
    timezone text = NULL)
RETURNS integer AS 'MODULE_PATHNAME', 'hyperdist_add_continuous_aggregate_policy'
LANGUAGE C VOLATILE;

CREATE FUNCTION remove_continuous_aggregate_policy(
    continuous_aggregate regclass, if_not_exists bool = false, if_exists bool = NULL)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_remove_continuous_aggregate_policy'
LANGUAGE C VOLATILE;

CREATE FUNCTION _hyperdist_functions.cagg_policy_refresh(
    continuous_aggregate regclass, window_start "any", window_end "any")
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_cagg_policy_refresh' LANGUAGE C VOLATILE;

-- A refresh policy's run: the window [now - start_offset, now - end_offset)
-- (an offset that is null leaves its end open).  For an integer time
-- column, "now" is its integer_now function's.  It runs as the policy's
-- owner, who owns the continuous aggregate.
CREATE PROCEDURE _hyperdist_functions.policy_refresh_continuous_aggregate(job_id int, config jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  view regclass;
  ht int;
  int_time bool;
  now_value bigint;
BEGIN
  SELECT ca.view_relid::regclass, ca.hypertable_id,
         d.column_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
    INTO view, ht, int_time
    FROM _hyperdist_catalog.continuous_agg ca
    JOIN _hyperdist_catalog.dimension d
      ON d.hypertable_id = ca.hypertable_id AND d.interval_length IS NOT NULL
   WHERE ca.id = (config->>'mat_hypertable_id')::int;
  IF view IS NULL THEN
    RAISE EXCEPTION 'the continuous aggregate of refresh policy % does not exist', job_id
      USING ERRCODE = '42P01';
  END IF;
  IF int_time THEN
    now_value := _hyperdist_functions.integer_now_value(ht);
    PERFORM _hyperdist_functions.cagg_policy_refresh(view,
              now_value - (config->>'start_offset')::bigint,
              now_value - (config->>'end_offset')::bigint);
  ELSE
    PERFORM _hyperdist_functions.cagg_policy_refresh(view,
              _hyperdist_functions.job_now() - (config->>'start_offset')::interval,
              _hyperdist_functions.job_now() - (config->>'end_offset')::interval);
  END IF;
END $$;
