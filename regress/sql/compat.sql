--
-- hyperdist_timescaledb_compat: a TimescaleDB 2.13 multi-node script run
-- through the compatibility names (views read after chunks exist, a chunk
-- copied and moved, new chunks blocked and allowed), the views' columns
-- checked against 2.13's, and DROP EXTENSION leaving hyperdist working.
-- Runs on the data nodes dn1..dn3 data_nodes leaves; the catalog's
-- sequences are set for chunk names that do not depend on earlier suites,
-- and put back at the end.
--
\set SHOW_CONTEXT never
SET timezone = 'UTC';

SELECT (SELECT last_value FROM _hyperdist_catalog.hypertable_id_seq) AS ht_seq,
       (SELECT last_value FROM _hyperdist_catalog.dimension_id_seq) AS dim_seq,
       (SELECT last_value FROM _hyperdist_catalog.time_slice_id_seq) AS slice_seq,
       (SELECT last_value FROM _hyperdist_catalog.chunk_id_seq) AS chunk_seq \gset
SELECT setval('_hyperdist_catalog.hypertable_id_seq', 300) AS ht_seq,
       setval('_hyperdist_catalog.chunk_id_seq', 3000) AS chunk_seq;

CREATE EXTENSION hyperdist_timescaledb_compat;
SELECT pg_catalog.pg_describe_object(classid, objid, 0) AS member
  FROM pg_catalog.pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'hyperdist_timescaledb_compat')
 ORDER BY 1;

-- ---- the views' columns are 2.13's, in 2.13's order -------------------------
CREATE TEMP TABLE ts213_columns (view_name name, pos int, column_name name, udt_name name);
INSERT INTO ts213_columns VALUES
  ('hypertables', 1, 'hypertable_schema', 'name'),
  ('hypertables', 2, 'hypertable_name', 'name'),
  ('hypertables', 3, 'owner', 'name'),
  ('hypertables', 4, 'num_dimensions', 'int2'),
  ('hypertables', 5, 'num_chunks', 'int8'),
  ('hypertables', 6, 'compression_enabled', 'bool'),
  ('hypertables', 7, 'is_distributed', 'bool'),
  ('hypertables', 8, 'replication_factor', 'int2'),
  ('hypertables', 9, 'data_nodes', '_name'),
  ('hypertables', 10, 'tablespaces', '_name'),
  ('dimensions', 1, 'hypertable_schema', 'name'),
  ('dimensions', 2, 'hypertable_name', 'name'),
  ('dimensions', 3, 'dimension_number', 'int8'),
  ('dimensions', 4, 'column_name', 'name'),
  ('dimensions', 5, 'column_type', 'regtype'),
  ('dimensions', 6, 'dimension_type', 'text'),
  ('dimensions', 7, 'time_interval', 'interval'),
  ('dimensions', 8, 'integer_interval', 'int8'),
  ('dimensions', 9, 'integer_now_func', 'name'),
  ('dimensions', 10, 'num_partitions', 'int2'),
  ('chunks', 1, 'hypertable_schema', 'name'),
  ('chunks', 2, 'hypertable_name', 'name'),
  ('chunks', 3, 'chunk_schema', 'name'),
  ('chunks', 4, 'chunk_name', 'name'),
  ('chunks', 5, 'primary_dimension', 'name'),
  ('chunks', 6, 'primary_dimension_type', 'regtype'),
  ('chunks', 7, 'range_start', 'timestamptz'),
  ('chunks', 8, 'range_end', 'timestamptz'),
  ('chunks', 9, 'range_start_integer', 'int8'),
  ('chunks', 10, 'range_end_integer', 'int8'),
  ('chunks', 11, 'is_compressed', 'bool'),
  ('chunks', 12, 'chunk_tablespace', 'name'),
  ('chunks', 13, 'data_nodes', '_name'),
  ('chunks', 14, 'chunk_creation_time', 'timestamptz'),
  ('data_nodes', 1, 'node_name', 'name'),
  ('data_nodes', 2, 'owner', 'name'),
  ('data_nodes', 3, 'options', '_text'),
  ('chunk_replication_status', 1, 'hypertable_schema', 'name'),
  ('chunk_replication_status', 2, 'hypertable_name', 'name'),
  ('chunk_replication_status', 3, 'chunk_schema', 'name'),
  ('chunk_replication_status', 4, 'chunk_name', 'name'),
  ('chunk_replication_status', 5, 'desired_num_replicas', 'int2'),
  ('chunk_replication_status', 6, 'num_replicas', 'int8'),
  ('chunk_replication_status', 7, 'replica_nodes', '_name'),
  ('chunk_replication_status', 8, 'non_replica_nodes', '_name'),
  ('jobs', 1, 'job_id', 'int4'),
  ('jobs', 2, 'application_name', 'name'),
  ('jobs', 3, 'schedule_interval', 'interval'),
  ('jobs', 4, 'max_runtime', 'interval'),
  ('jobs', 5, 'max_retries', 'int4'),
  ('jobs', 6, 'retry_period', 'interval'),
  ('jobs', 7, 'proc_schema', 'name'),
  ('jobs', 8, 'proc_name', 'name'),
  ('jobs', 9, 'owner', 'name'),
  ('jobs', 10, 'scheduled', 'bool'),
  ('jobs', 11, 'fixed_schedule', 'bool'),
  ('jobs', 12, 'config', 'jsonb'),
  ('jobs', 13, 'next_start', 'timestamptz'),
  ('jobs', 14, 'initial_start', 'timestamptz'),
  ('jobs', 15, 'hypertable_schema', 'name'),
  ('jobs', 16, 'hypertable_name', 'name'),
  ('jobs', 17, 'check_schema', 'name'),
  ('jobs', 18, 'check_name', 'name'),
  ('job_stats', 1, 'hypertable_schema', 'name'),
  ('job_stats', 2, 'hypertable_name', 'name'),
  ('job_stats', 3, 'job_id', 'int4'),
  ('job_stats', 4, 'last_run_started_at', 'timestamptz'),
  ('job_stats', 5, 'last_successful_finish', 'timestamptz'),
  ('job_stats', 6, 'last_run_status', 'text'),
  ('job_stats', 7, 'job_status', 'text'),
  ('job_stats', 8, 'last_run_duration', 'interval'),
  ('job_stats', 9, 'next_start', 'timestamptz'),
  ('job_stats', 10, 'total_runs', 'int8'),
  ('job_stats', 11, 'total_successes', 'int8'),
  ('job_stats', 12, 'total_failures', 'int8'),
  ('job_errors', 1, 'job_id', 'int4'),
  ('job_errors', 2, 'proc_schema', 'name'),
  ('job_errors', 3, 'proc_name', 'name'),
  ('job_errors', 4, 'pid', 'int4'),
  ('job_errors', 5, 'start_time', 'timestamptz'),
  ('job_errors', 6, 'finish_time', 'timestamptz'),
  ('job_errors', 7, 'sqlerrcode', 'text'),
  ('job_errors', 8, 'err_message', 'text'),
  ('continuous_aggregates', 1, 'hypertable_schema', 'name'),
  ('continuous_aggregates', 2, 'hypertable_name', 'name'),
  ('continuous_aggregates', 3, 'view_schema', 'name'),
  ('continuous_aggregates', 4, 'view_name', 'name'),
  ('continuous_aggregates', 5, 'view_owner', 'name'),
  ('continuous_aggregates', 6, 'materialized_only', 'bool'),
  ('continuous_aggregates', 7, 'compression_enabled', 'bool'),
  ('continuous_aggregates', 8, 'materialization_hypertable_schema', 'name'),
  ('continuous_aggregates', 9, 'materialization_hypertable_name', 'name'),
  ('continuous_aggregates', 10, 'view_definition', 'text'),
  ('continuous_aggregates', 11, 'finalized', 'bool');
-- every difference, either way (none expected)
SELECT coalesce(t.view_name, c.table_name::name) AS view_name,
       coalesce(t.pos, c.ordinal_position) AS pos,
       t.column_name AS expected, t.udt_name AS expected_type,
       c.column_name AS actual, c.udt_name AS actual_type
  FROM ts213_columns t
  FULL JOIN information_schema.columns c
    ON c.table_name = t.view_name AND c.ordinal_position = t.pos
   AND c.table_schema = CASE t.view_name WHEN 'chunk_replication_status'
                                         THEN 'timescaledb_experimental'
                                         ELSE 'timescaledb_information' END
 WHERE (c.table_schema IS NULL
        OR c.table_schema IN ('timescaledb_information', 'timescaledb_experimental'))
   AND (t.view_name IS NULL OR c.column_name IS NULL
        OR (c.column_name, c.udt_name) IS DISTINCT FROM (t.column_name, t.udt_name))
 ORDER BY 1, 2;
-- others may read every view
SELECT table_schema, table_name,
       has_table_privilege('public', format('%I.%I', table_schema, table_name), 'SELECT')
         AS public_select
  FROM information_schema.views
 WHERE table_schema IN ('timescaledb_information', 'timescaledb_experimental')
 ORDER BY 1, 2;

-- ---- a 2.13 script, unchanged ----------------------------------------------
CREATE TABLE compat_ht (time timestamptz NOT NULL, dev int NOT NULL, v float8);
SELECT table_name, created
  FROM create_distributed_hypertable('compat_ht', 'time', 'dev', number_partitions => 2,
                                     replication_factor => 1,
                                     data_nodes => '{dn1, dn2, dn3}',
                                     chunk_time_interval => interval '1 day');
INSERT INTO compat_ht SELECT t, d, d FROM generate_series(timestamptz '2024-01-01',
                                                          '2024-01-02 23:00', '1 hour') t,
                                          generate_series(1, 4) d;

SELECT hypertable_name, owner = current_user AS own, num_dimensions, num_chunks,
       compression_enabled, is_distributed, replication_factor, data_nodes, tablespaces
  FROM timescaledb_information.hypertables WHERE hypertable_name = 'compat_ht';
SELECT hypertable_name, dimension_number, column_name, column_type, dimension_type,
       time_interval, integer_interval, integer_now_func, num_partitions
  FROM timescaledb_information.dimensions WHERE hypertable_name = 'compat_ht'
 ORDER BY dimension_number;
SELECT chunk_schema, chunk_name, primary_dimension, primary_dimension_type,
       range_start, range_end, range_start_integer, range_end_integer, is_compressed,
       chunk_tablespace, data_nodes, chunk_creation_time IS NOT NULL AS created
  FROM timescaledb_information.chunks WHERE hypertable_name = 'compat_ht'
 ORDER BY chunk_name;
SELECT node_name, owner = current_user AS own, options IS NOT NULL AS has_options
  FROM timescaledb_information.data_nodes ORDER BY node_name;
SELECT chunk_name, desired_num_replicas, num_replicas, replica_nodes, non_replica_nodes
  FROM timescaledb_experimental.chunk_replication_status
 WHERE hypertable_name = 'compat_ht' ORDER BY chunk_name;

-- copy_chunk and move_chunk: refused as hyperdist's are (inside a
-- transaction block 25001, an unknown node 42704), then run
BEGIN;
CALL timescaledb_experimental.copy_chunk('_hyperdist_internal._dist_hyper_301_3001_chunk',
                                         'dn1', 'dn3');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CALL timescaledb_experimental.move_chunk('_hyperdist_internal._dist_hyper_301_3001_chunk',
                                         'dn1', 'dn9');
\echo :LAST_ERROR_SQLSTATE
CALL timescaledb_experimental.copy_chunk('_hyperdist_internal._dist_hyper_301_3001_chunk',
                                         'dn1', 'dn3', 'compat_copy');
CALL timescaledb_experimental.move_chunk(chunk => '_hyperdist_internal._dist_hyper_301_3003_chunk',
                                         source_node => 'dn2', destination_node => 'dn3');
SELECT chunk_name, desired_num_replicas, num_replicas, replica_nodes, non_replica_nodes
  FROM timescaledb_experimental.chunk_replication_status
 WHERE hypertable_name = 'compat_ht' ORDER BY chunk_name;
SELECT chunk_name, data_nodes FROM timescaledb_information.chunks
 WHERE hypertable_name = 'compat_ht' ORDER BY chunk_name;
SELECT count(*), sum(v) FROM compat_ht;
-- an ended operation has nothing to clean up; an unknown one is 42704
CALL timescaledb_experimental.cleanup_copy_chunk_operation('compat_copy');
CALL timescaledb_experimental.cleanup_copy_chunk_operation('compat_none');
\echo :LAST_ERROR_SQLSTATE

-- block_new_chunks and allow_new_chunks: new chunks skip a blocked node
SELECT timescaledb_experimental.block_new_chunks('dn3', 'compat_ht');
SELECT node_name, block_chunks FROM _hyperdist_catalog.hypertable_data_node
 WHERE hypertable_id = 301 ORDER BY node_name;
INSERT INTO compat_ht SELECT '2024-01-05', d, d FROM generate_series(1, 4) d;
SELECT chunk_name, data_nodes FROM timescaledb_information.chunks
 WHERE hypertable_name = 'compat_ht' AND range_start = '2024-01-05' ORDER BY chunk_name;
SELECT timescaledb_experimental.allow_new_chunks('dn3', 'compat_ht');
SELECT node_name, block_chunks FROM _hyperdist_catalog.hypertable_data_node
 WHERE hypertable_id = 301 ORDER BY node_name;

-- ---- migration ---------------------------------------------------------------
-- tools/ts213-export.sql reads only 2.13's views and pg_catalog, so here it
-- prints what recreates compat_ht.  The data is saved with \copy, the table
-- dropped, the printed SQL run and the data copied back.
ALTER TABLE compat_ht ADD CONSTRAINT compat_v_range CHECK (v >= 0);
ALTER TABLE compat_ht ALTER COLUMN v SET DEFAULT 0;
SELECT count(*) AS n, md5(string_agg(t::text, ',' ORDER BY time, dev)) AS digest
  FROM compat_ht t \gset
\pset format unaligned
\pset tuples_only on
\set pattern 'public.compat_ht'
\set ECHO none
\i ../tools/ts213-export.sql
\o compat_schema.sql
\i ../tools/ts213-export.sql
\o
\set ECHO all
\pset format aligned
\pset tuples_only off
\copy (SELECT * FROM compat_ht) TO 'compat_ht.copy' (FORMAT binary)
DROP TABLE compat_ht;
\i compat_schema.sql
\copy compat_ht FROM 'compat_ht.copy' (FORMAT binary)
\! rm compat_schema.sql compat_ht.copy
SELECT count(*) = :n AS same_count,
       md5(string_agg(t::text, ',' ORDER BY time, dev)) = :'digest' AS same_rows
  FROM compat_ht t;
SELECT hypertable_name, num_dimensions, is_distributed, replication_factor, data_nodes
  FROM timescaledb_information.hypertables WHERE hypertable_name = 'compat_ht';
SELECT dimension_number, column_name, time_interval, num_partitions
  FROM timescaledb_information.dimensions WHERE hypertable_name = 'compat_ht'
 ORDER BY dimension_number;
-- what the export prints for an index (pg_get_indexdef's form, IF NOT
-- EXISTS added): the default index is kept, another one made
CREATE INDEX IF NOT EXISTS compat_ht_time_idx ON public.compat_ht USING btree ("time" DESC);
CREATE INDEX IF NOT EXISTS compat_ht_v_idx ON public.compat_ht USING btree (v);
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  'SELECT indexname::text FROM pg_indexes WHERE tablename = ''compat_ht'' ORDER BY 1')
  AS q(indexname text);
INSERT INTO compat_ht (time, dev) VALUES ('2024-01-01', 1);
INSERT INTO compat_ht VALUES ('2024-01-01', 1, -1);
\echo :LAST_ERROR_SQLSTATE

-- ---- DROP EXTENSION removes it all; hyperdist works on -----------------------
DROP EXTENSION hyperdist_timescaledb_compat;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'timescaledb%';
SELECT count(*) FROM hyperdist_information.chunks WHERE hypertable_name = 'compat_ht';
SELECT count(*), sum(v) FROM compat_ht;

-- ---- clean up; the next suites' chunk names do not depend on this one ----
DROP TABLE compat_ht;
SELECT setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq) AS ht_seq,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq) AS dim_seq,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq) AS slice_seq,
       setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq) AS chunk_seq \gset
