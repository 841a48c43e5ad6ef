-- SPDX-License-Identifier: PostgreSQL
-- tools/ts213-export.sql: prints, on a TimescaleDB 2.13 multi-node access
-- node, the SQL that recreates its distributed hypertables on a hyperdist
-- access node (docs/MIGRATING.md):
--
--   psql -XAtq -d OLD -v pattern='public.%' -f tools/ts213-export.sql > schema.sql
--   psql -X -v ON_ERROR_STOP=1 -d NEW -f schema.sql
--
-- For each distributed hypertable whose schema-qualified name is LIKE
-- :pattern (default every one): its schema, the table (columns, types,
-- collations, NOT NULL, defaults), its primary key, unique and check
-- constraints, create_distributed_hypertable with the same dimensions,
-- chunk interval, replication factor and data nodes, then its other
-- indexes and its integer_now function.  Only 2.13's public views and
-- pg_catalog are read, so the same script runs on hyperdist with
-- hyperdist_timescaledb_compat (how it is tested).  Triggers, ownership,
-- grants, and foreign keys are not exported.

\if :{?pattern}
\else
\set pattern '%'
\endif

WITH ht AS (
  SELECT h.hypertable_schema AS sch, h.hypertable_name AS tab,
         format('%I.%I', h.hypertable_schema, h.hypertable_name) AS qname,
         format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass AS rel,
         h.replication_factor, h.data_nodes
    FROM timescaledb_information.hypertables h
   WHERE h.is_distributed
     AND format('%s.%s', h.hypertable_schema, h.hypertable_name) LIKE :'pattern'),
stmt AS (
  SELECT ht.rel, 1 AS step, 0::oid AS ord,
         format('CREATE SCHEMA IF NOT EXISTS %I;', ht.sch) AS sql
    FROM ht
  UNION ALL
  SELECT ht.rel, 2, 0,
         format(E'CREATE TABLE %s (\n%s);', ht.qname,
                (SELECT string_agg(
                          format('    %I %s', a.attname,
                                 pg_catalog.format_type(a.atttypid, a.atttypmod))
                          || CASE WHEN a.attcollation <> t.typcollation
                                  THEN format(' COLLATE %s', a.attcollation::regcollation)
                                  ELSE '' END
                          || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                          || coalesce(' DEFAULT ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                                      ''),
                          E',\n' ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                   JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                   LEFT JOIN pg_catalog.pg_attrdef d
                     ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE a.attrelid = ht.rel AND a.attnum > 0 AND NOT a.attisdropped))
    FROM ht
  UNION ALL
  SELECT ht.rel, 3, c.oid,
         format('ALTER TABLE %s ADD CONSTRAINT %I %s;', ht.qname, c.conname,
                pg_catalog.pg_get_constraintdef(c.oid))
    FROM ht
    JOIN pg_catalog.pg_constraint c ON c.conrelid = ht.rel AND c.contype IN ('p', 'u', 'c')
  UNION ALL
  SELECT ht.rel, 4, 0,
         format('SELECT create_distributed_hypertable(%L, %L%s, chunk_time_interval => %s, '
                'replication_factor => %s, data_nodes => %L);',
                ht.qname, t.column_name,
                CASE WHEN s.column_name IS NOT NULL
                     THEN format(', partitioning_column => %L, number_partitions => %s',
                                 s.column_name, s.num_partitions) ELSE '' END,
                coalesce(format('interval %L', t.time_interval), t.integer_interval::text),
                ht.replication_factor, ht.data_nodes)
    FROM ht
    JOIN timescaledb_information.dimensions t
      ON t.hypertable_schema = ht.sch AND t.hypertable_name = ht.tab
     AND t.dimension_type = 'Time'
    LEFT JOIN timescaledb_information.dimensions s
      ON s.hypertable_schema = ht.sch AND s.hypertable_name = ht.tab
     AND s.dimension_type = 'Space'
  UNION ALL
  -- create_distributed_hypertable may have made an index of the same name
  -- (the default one on time): IF NOT EXISTS keeps it.
  SELECT ht.rel, 5, i.indexrelid,
         regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid),
                        '^CREATE (UNIQUE )?INDEX ', 'CREATE \1INDEX IF NOT EXISTS ') || ';'
    FROM ht
    JOIN pg_catalog.pg_index i ON i.indrelid = ht.rel
   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  -- an integer time column's integer_now function (2.13 names it without
  -- its schema: the search_path finds it)
  SELECT ht.rel, 6, 0,
         format('SELECT set_integer_now_func(%L, %L);', ht.qname, t.integer_now_func)
    FROM ht
    JOIN timescaledb_information.dimensions t
      ON t.hypertable_schema = ht.sch AND t.hypertable_name = ht.tab
     AND t.dimension_type = 'Time'
   WHERE t.integer_now_func IS NOT NULL)
SELECT sql FROM stmt ORDER BY rel, step, ord;
