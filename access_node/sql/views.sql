-- SPDX-License-Identifier: PostgreSQL
-- sql/views.sql: the hyperdist_information views of hypertables, dimensions and chunks.

-- ---- information views (columns as TimescaleDB 2.13's) ----------------

CREATE VIEW hyperdist_information.hypertables AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       (SELECT count(*) FROM _hyperdist_catalog.dimension d WHERE d.hypertable_id = h.id)::smallint
         AS num_dimensions,
       (SELECT count(*) FROM _hyperdist_catalog.chunk ch WHERE ch.hypertable_id = h.id) AS num_chunks,
       false AS compression_enabled,
       true AS is_distributed,
       h.replication_factor,
       (SELECT array_agg(hdn.node_name ORDER BY hdn.node_name)
          FROM _hyperdist_catalog.hypertable_data_node hdn WHERE hdn.hypertable_id = h.id)
         AS data_nodes,
       NULL::name[] AS tablespaces
  FROM _hyperdist_catalog.hypertable h
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;

CREATE VIEW hyperdist_information.dimensions AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       (row_number() OVER (PARTITION BY h.id ORDER BY d.interval_length IS NULL, d.id))::int
         AS dimension_number,
       a.attname AS column_name,
       d.column_type::regtype AS column_type,
       CASE WHEN d.interval_length IS NOT NULL THEN 'Time' ELSE 'Space' END AS dimension_type,
       CASE WHEN d.interval_length IS NOT NULL
             AND d.column_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
            THEN d.interval_length * interval '1 microsecond' END AS time_interval,
       CASE WHEN d.column_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
            THEN d.interval_length END AS integer_interval,
       CASE WHEN d.integer_now_func IS NOT NULL
            THEN pg_catalog.to_regprocedure(format('%I.%I()', d.integer_now_func_schema,
                                                   d.integer_now_func))::regproc
       END AS integer_now_func,
       d.num_partitions::smallint AS num_partitions
  FROM _hyperdist_catalog.dimension d
  JOIN _hyperdist_catalog.hypertable h ON h.id = d.hypertable_id
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = h.relid AND a.attnum = d.attnum;

-- A time range starts before the first timestamp (4714-11-24 BC,
-- -210866803200000000 microseconds from the Unix epoch) only where it has
-- no lower bound, and ends at the largest bigint only where it has no
-- upper bound (the slice was cut there): those show as infinite, as in
-- TimescaleDB.
CREATE VIEW hyperdist_information.chunks AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       ch.schema_name AS chunk_schema,
       ch.table_name AS chunk_name,
       a.attname AS primary_dimension,
       d.column_type::regtype AS primary_dimension_type,
       CASE WHEN int_time THEN NULL
            WHEN s.range_start < -210866803200000000 THEN '-infinity'
            ELSE timestamptz 'epoch' + s.range_start * interval '1 microsecond' END
         AS range_start,
       CASE WHEN int_time THEN NULL
            WHEN s.range_end = 9223372036854775807 THEN 'infinity'
            ELSE timestamptz 'epoch' + s.range_end * interval '1 microsecond' END
         AS range_end,
       CASE WHEN int_time THEN s.range_start END AS range_start_integer,
       CASE WHEN int_time THEN s.range_end END AS range_end_integer,
       false AS is_compressed,
       NULL::name AS chunk_tablespace,
       (SELECT array_agg(cdn.node_name ORDER BY cdn.replica)
          FROM _hyperdist_catalog.chunk_data_node cdn WHERE cdn.chunk_id = ch.id) AS data_nodes
  FROM _hyperdist_catalog.chunk ch
  JOIN _hyperdist_catalog.time_slice s ON s.id = ch.time_slice_id
  JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id
  JOIN _hyperdist_catalog.dimension d ON d.hypertable_id = h.id AND d.interval_length IS NOT NULL
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = h.relid AND a.attnum = d.attnum
 CROSS JOIN LATERAL (SELECT d.column_type IN ('smallint'::regtype, 'integer'::regtype,
                                               'bigint'::regtype) AS int_time) it;

GRANT SELECT ON hyperdist_information.hypertables, hyperdist_information.dimensions,
                hyperdist_information.chunks TO PUBLIC;
