-- SPDX-License-Identifier: PostgreSQL
-- hyperdist_timescaledb_compat: TimescaleDB 2.13's multi-node names in
-- schemas timescaledb_information and timescaledb_experimental, over
-- hyperdist's own.  The views select from hyperdist_information, naming
-- and casting columns as 2.13 did; the wrappers call hyperdist's
-- functions and procedures as the caller (SECURITY INVOKER), so that they
-- grant nothing the caller could not do through hyperdist's names.

\echo Use "CREATE EXTENSION hyperdist_timescaledb_compat" to load this file. \quit

CREATE SCHEMA timescaledb_information;
CREATE SCHEMA timescaledb_experimental;
GRANT USAGE ON SCHEMA timescaledb_information, timescaledb_experimental TO PUBLIC;

-- ---- timescaledb_information ---------------------------------------------

-- Columns are listed rather than taken with *, so that a column hyperdist
-- adds to its own views does not change these.
CREATE VIEW timescaledb_information.hypertables AS
SELECT hypertable_schema, hypertable_name, owner, num_dimensions, num_chunks,
       compression_enabled, is_distributed, replication_factor, data_nodes, tablespaces
  FROM hyperdist_information.hypertables;

-- 2.13 numbered dimensions with rank() (bigint) and named integer_now_func
-- by its name alone.
CREATE VIEW timescaledb_information.dimensions AS
SELECT d.hypertable_schema, d.hypertable_name, d.dimension_number::bigint AS dimension_number,
       d.column_name, d.column_type, d.dimension_type, d.time_interval, d.integer_interval,
       p.proname AS integer_now_func, d.num_partitions
  FROM hyperdist_information.dimensions d
  LEFT JOIN pg_catalog.pg_proc p ON p.oid = d.integer_now_func;

-- chunk_creation_time is the catalog's creation time of the chunk (2.13's
-- view shows the same).
CREATE VIEW timescaledb_information.chunks AS
SELECT i.hypertable_schema, i.hypertable_name, i.chunk_schema, i.chunk_name,
       i.primary_dimension, i.primary_dimension_type, i.range_start, i.range_end,
       i.range_start_integer, i.range_end_integer, i.is_compressed, i.chunk_tablespace,
       i.data_nodes, c.creation_time AS chunk_creation_time
  FROM hyperdist_information.chunks i
  JOIN _hyperdist_catalog.chunk c
    ON c.schema_name = i.chunk_schema AND c.table_name = i.chunk_name;

CREATE VIEW timescaledb_information.data_nodes AS
SELECT node_name, owner, options
  FROM hyperdist_information.data_nodes;

-- Jobs: hyperdist's views have 2.13's columns already.
CREATE VIEW timescaledb_information.jobs AS
SELECT job_id, application_name, schedule_interval, max_runtime, max_retries,
       retry_period, proc_schema, proc_name, owner, scheduled, fixed_schedule,
       config, next_start, initial_start, hypertable_schema, hypertable_name,
       check_schema, check_name
  FROM hyperdist_information.jobs;

CREATE VIEW timescaledb_information.job_stats AS
SELECT hypertable_schema, hypertable_name, job_id, last_run_started_at,
       last_successful_finish, last_run_status, job_status, last_run_duration,
       next_start, total_runs, total_successes, total_failures
  FROM hyperdist_information.job_stats;

CREATE VIEW timescaledb_information.job_errors AS
SELECT job_id, proc_schema, proc_name, pid, start_time, finish_time,
       sqlerrcode, err_message
  FROM hyperdist_information.job_errors;

-- Continuous aggregates: hyperdist's view has 2.13's columns already (the
-- materialization "hypertable" is the local table holding the rows).
CREATE VIEW timescaledb_information.continuous_aggregates AS
SELECT hypertable_schema, hypertable_name, view_schema, view_name, view_owner,
       materialized_only, compression_enabled, materialization_hypertable_schema,
       materialization_hypertable_name, view_definition, finalized
  FROM hyperdist_information.continuous_aggregates;

GRANT SELECT ON ALL TABLES IN SCHEMA timescaledb_information TO PUBLIC;

-- ---- timescaledb_experimental --------------------------------------------

-- 2.13's columns only: hyperdist's view adds stale replicas and the copy
-- in progress.
CREATE VIEW timescaledb_experimental.chunk_replication_status AS
SELECT hypertable_schema, hypertable_name, chunk_schema, chunk_name,
       desired_num_replicas, num_replicas, replica_nodes, non_replica_nodes
  FROM hyperdist_information.chunk_replication_status;

GRANT SELECT ON timescaledb_experimental.chunk_replication_status TO PUBLIC;

-- hyperdist's functions and procedures live in the schema its extension
-- was created in, known only now: the wrappers are created with that
-- schema in their text.  The procedures are PL/pgSQL because the ones they
-- call commit (the wait for a copy or move), which a SQL-language body or
-- a SET clause would forbid.
DO $do$
DECLARE
  s name := (SELECT n.nspname
               FROM pg_catalog.pg_extension e
               JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
              WHERE e.extname = 'hyperdist');
  proc text;
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION timescaledb_experimental.block_new_chunks(
        data_node_name NAME, hypertable REGCLASS = NULL, force BOOLEAN = FALSE)
    RETURNS INTEGER LANGUAGE sql VOLATILE
    AS $b$SELECT %1$I.block_new_chunks($1, $2, $3)$b$ $f$, s);
  EXECUTE format($f$
    CREATE FUNCTION timescaledb_experimental.allow_new_chunks(
        data_node_name NAME, hypertable REGCLASS = NULL)
    RETURNS INTEGER LANGUAGE sql VOLATILE
    AS $b$SELECT %1$I.allow_new_chunks($1, $2)$b$ $f$, s);
  FOREACH proc IN ARRAY ARRAY['move_chunk', 'copy_chunk'] LOOP
    EXECUTE format($f$
      CREATE PROCEDURE timescaledb_experimental.%2$I(
          chunk REGCLASS, source_node NAME = NULL, destination_node NAME = NULL,
          operation_id NAME = NULL)
      LANGUAGE plpgsql
      AS $b$BEGIN CALL %1$I.%2$I(chunk, source_node, destination_node, operation_id); END$b$ $f$,
      s, proc);
  END LOOP;
  EXECUTE format($f$
    CREATE PROCEDURE timescaledb_experimental.cleanup_copy_chunk_operation(operation_id NAME)
    LANGUAGE plpgsql
    AS $b$BEGIN CALL %1$I.cleanup_copy_chunk_operation(operation_id); END$b$ $f$, s);
END $do$;
