--
-- Distributed hypertables: creation, placement, chunks on demand, INSERT
-- and COPY routing with replication, reads, chunk management, DDL, errors.
-- Needs dn1..dn3 from the data_nodes suite.  Rows and chunk tables on each
-- data node are checked through _hyperdist_functions.data_node_query.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE VIEW dn_rows AS
SELECT n.node_name, q.chunk, q.rows
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT tableoid::regclass::text, count(*) FROM public.cpu GROUP BY 1')
       AS q(chunk text, rows bigint)
 ORDER BY 1, 2;

-- ---- bad input: each a clear error, nothing left behind ------------------
CREATE TABLE cpu (time timestamptz, tags_id int, hostname text NOT NULL,
                  usage_user float8 DEFAULT 0 CHECK (usage_user >= 0),
                  note varchar(20), PRIMARY KEY (hostname, time));
SELECT create_distributed_hypertable('cpu', 'nosuch');
SELECT create_distributed_hypertable('cpu', 'note');
SELECT create_distributed_hypertable('cpu', 'time', 'nosuch');
SELECT create_distributed_hypertable('cpu', 'time', 'hostname', replication_factor => 4);
SELECT create_distributed_hypertable('cpu', 'time', 'hostname', replication_factor => 0);
SELECT create_distributed_hypertable('cpu', 'time', 'hostname', data_nodes => '{dn1,dn9}');
SELECT create_distributed_hypertable('cpu', 'time', 'tags_id');
CREATE TABLE ti (t int NOT NULL, v int);
SELECT create_distributed_hypertable('ti', 't');
SELECT create_distributed_hypertable('ti', 't', chunk_time_interval => interval '1 day');
INSERT INTO ti VALUES (1, 1);
SELECT create_distributed_hypertable('ti', 't', chunk_time_interval => 10);
DELETE FROM ti;
CREATE VIEW cpu_v AS SELECT * FROM cpu;
SELECT create_distributed_hypertable('cpu', 'time', 'hostname');
DROP VIEW cpu_v;
-- nothing was created anywhere
SELECT count(*) FROM _hyperdist_catalog.hypertable;
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  $$SELECT count(*) FROM pg_class WHERE relname IN ('cpu', 'ti') AND relnamespace = 'public'::regnamespace$$)
  AS t(n bigint);

-- ---- creation ------------------------------------------------------------
SELECT * FROM create_distributed_hypertable('cpu', 'time', 'hostname',
                                             replication_factor => 2);
SELECT * FROM create_distributed_hypertable('cpu', 'time', if_not_exists => true);
SELECT create_distributed_hypertable('cpu', 'time');
\d cpu
SELECT * FROM hyperdist_information.hypertables;
SELECT * FROM hyperdist_information.dimensions;
SELECT * FROM _hyperdist_catalog.dimension_partition ORDER BY partition;
-- the data nodes' root table: columns, defaults, constraints, indexes
SELECT * FROM _hyperdist_functions.data_node_query('dn2',
  $$SELECT kind || ': ' || def FROM (SELECT 'column' AS kind, a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
      || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END AS def, a.attnum AS o
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = 'public.cpu'::regclass AND a.attnum > 0
    UNION ALL SELECT 'constraint', conname || ' ' || pg_get_constraintdef(oid), 100 FROM pg_constraint WHERE conrelid = 'public.cpu'::regclass
    UNION ALL SELECT 'index', indexrelid::regclass::text, 200 FROM pg_index WHERE indrelid = 'public.cpu'::regclass
    UNION ALL SELECT 'partition key', pg_get_partkeydef('public.cpu'::regclass), 300) s ORDER BY o, 1$$)
  AS t(line text);
SELECT * FROM create_distributed_hypertable('ti', 't', chunk_time_interval => 10,
                                             data_nodes => '{dn3,dn1}');

-- ---- INSERT: multi-row, RETURNING, defaults, routing, replicas -----------
INSERT INTO cpu (time, tags_id, hostname, usage_user) VALUES
  ('2024-01-01 10:00', 1, 'host_1', 1.5),
  ('2024-01-02 10:00', 2, 'host_2', 2.5)
RETURNING *;
INSERT INTO cpu (time, tags_id, hostname) VALUES ('2024-01-20', 3, 'host_3') RETURNING usage_user, note;
INSERT INTO cpu SELECT '2024-01-01'::timestamptz + g * interval '1 hour', g, 'host_' || (g % 7), g % 10
  FROM generate_series(1, 1000) g;
SELECT count(*), count(DISTINCT hostname), sum(tags_id) FROM cpu;
SELECT chunk_name, range_start, range_end, data_nodes FROM hyperdist_information.chunks
 ORDER BY range_start, chunk_name LIMIT 6;
-- every row twice across the data nodes, once per replica
SELECT sum(rows) FROM dn_rows;
SELECT count(*) FROM hyperdist_information.chunks c
 WHERE cardinality(c.data_nodes) <> 2;
-- each chunk's replicas hold the same rows
SELECT chunk, count(DISTINCT rows) AS row_counts, count(*) AS replicas
  FROM dn_rows GROUP BY chunk HAVING count(DISTINCT rows) <> 1 OR count(*) <> 2;
-- the data nodes are where the placement map says
SELECT count(*) FROM hyperdist_information.chunks c
  JOIN _hyperdist_catalog.chunk ch ON ch.table_name = c.chunk_name
  JOIN _hyperdist_catalog.dimension_partition p
    ON p.hypertable_id = ch.hypertable_id AND p.partition = ch.space_partition
 WHERE c.hypertable_name = 'cpu' AND p.data_nodes <> c.data_nodes;
SELECT node_name, count(*) FROM dn_rows GROUP BY 1 ORDER BY 1;
-- time-only hypertable: chunks spread over its nodes
INSERT INTO ti SELECT g, g FROM generate_series(0, 59) g;
SELECT chunk_name, range_start_integer, range_end_integer, data_nodes
  FROM hyperdist_information.chunks WHERE hypertable_name = 'ti' ORDER BY 2;
SELECT count(*), sum(v) FROM ti;

-- ---- constraint violations raised on the data nodes ----------------------
INSERT INTO cpu VALUES ('2024-01-01 10:00', 9, 'host_1', 1);
INSERT INTO cpu VALUES (NULL, 9, 'host_1', 1);
INSERT INTO cpu VALUES ('2024-01-01 11:00', 9, 'host_1', -1);
INSERT INTO cpu VALUES ('2024-01-01 11:00', 9, NULL, 1);
-- ON CONFLICT DO NOTHING counts only the rows inserted
INSERT INTO cpu VALUES ('2024-01-01 10:00', 9, 'host_1', 1), ('2024-06-01', 9, 'host_9', 1)
  ON CONFLICT DO NOTHING;
INSERT INTO cpu VALUES ('2024-01-01 10:00', 9, 'host_1', 1) ON CONFLICT DO NOTHING RETURNING *;
UPDATE cpu SET usage_user = 0;
DELETE FROM cpu;

-- ---- rollback leaves no chunk anywhere -----------------------------------
BEGIN;
INSERT INTO cpu VALUES ('2030-01-01', 1, 'host_1', 1);
SELECT count(*) FROM hyperdist_information.chunks WHERE range_end > '2030-01-01';
SELECT count(*) FROM dn_rows WHERE chunk NOT IN (
  SELECT format('%I.%I', chunk_schema, chunk_name) FROM hyperdist_information.chunks
   WHERE range_end <= '2030-01-01');
ROLLBACK;
SELECT count(*) FROM hyperdist_information.chunks WHERE range_end > '2030-01-01';
SELECT count(*) FROM dn_rows WHERE chunk NOT IN (
  SELECT format('%I.%I', chunk_schema, chunk_name) FROM hyperdist_information.chunks);

-- ---- COPY -----------------------------------------------------------------
COPY cpu (time, tags_id, hostname, usage_user) FROM stdin;
2024-02-01 00:00:00+00	100	host_a	1
2024-02-01 00:00:01+00	101	host_b	\N
2024-02-08 00:00:00+00	102	host_c	3
\.
COPY cpu (time, hostname) FROM stdin (FORMAT csv);
2024-02-09 00:00:00+00,host_d
\.
SELECT time, tags_id, hostname, usage_user FROM cpu WHERE hostname >= 'host_a' ORDER BY time;
COPY (SELECT * FROM cpu WHERE hostname >= 'host_a' ORDER BY time) TO stdout;
COPY cpu (time, hostname) FROM stdin;
\N	host_e
\.
SELECT sum(rows) FROM dn_rows;

-- ---- show_chunks, drop_chunks ---------------------------------------------
SELECT count(*) FROM show_chunks('cpu');
SELECT show_chunks('cpu', older_than => '2024-01-05'::timestamptz);
SELECT show_chunks('ti', newer_than => 50);
SELECT show_chunks('cpu', older_than => 10);
SELECT drop_chunks('cpu');
SELECT drop_chunks('cpu', older_than => '2024-01-11'::date);
SELECT count(*), min(time) FROM cpu;
SELECT count(*) FROM dn_rows WHERE chunk NOT IN (
  SELECT format('%I.%I', chunk_schema, chunk_name) FROM hyperdist_information.chunks);
SELECT drop_chunks('ti', older_than => 30);
SELECT count(*), min(t) FROM ti;
-- COPY TO from the hypertable itself (rows of one chunk, on one node)
COPY (SELECT t, v FROM ti WHERE t < 35 ORDER BY t) TO stdout;
COPY ti TO stdout (FORMAT csv, HEADER) \g /dev/null

-- ---- sizes ------------------------------------------------------------------
SELECT node_name, total_bytes > 0 AS has_bytes FROM hypertable_detailed_size('cpu');
SELECT hypertable_size('cpu') = (SELECT sum(total_bytes) FROM hypertable_detailed_size('cpu'));
SELECT count(*) = (SELECT sum(cardinality(data_nodes)) FROM hyperdist_information.chunks
                    WHERE hypertable_name = 'cpu')
  FROM chunks_detailed_size('cpu');

-- ---- DDL ------------------------------------------------------------------
CREATE INDEX cpu_tags_idx ON cpu (tags_id, time);
CREATE INDEX ON cpu (note);
ALTER TABLE cpu ADD COLUMN usage_system float8 DEFAULT 1;
ALTER TABLE cpu ALTER COLUMN note TYPE text, ALTER COLUMN usage_system SET NOT NULL;
ALTER TABLE cpu ADD CONSTRAINT tags_positive CHECK (tags_id > 0);
ALTER TABLE cpu ADD CONSTRAINT cpu_host_time_tags UNIQUE (hostname, time, tags_id);
ALTER TABLE cpu RENAME COLUMN note TO comment;
INSERT INTO cpu (time, tags_id, hostname) VALUES ('2024-03-01', 5, 'host_1') RETURNING usage_system, comment;
INSERT INTO cpu (time, tags_id, hostname) VALUES ('2024-03-02', -5, 'host_1');
\d cpu
-- every chunk on every node has the new index and column
SELECT n.node_name, q.*
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT count(*) FILTER (WHERE i.indexrelid IS NULL), count(*) FILTER (WHERE a.attname IS NULL)
             FROM pg_partition_tree('public.cpu') t
             LEFT JOIN pg_index i ON i.indrelid = t.relid AND i.indkey::text = '2 1'
             LEFT JOIN pg_attribute a ON a.attrelid = t.relid AND a.attname = 'usage_system'
            WHERE t.isleaf$$) AS q(missing_index bigint, missing_column bigint)
 ORDER BY 1;
DROP INDEX cpu_tags_idx;
ALTER TABLE cpu DROP CONSTRAINT cpu_host_time_tags, DROP CONSTRAINT tags_positive;
ALTER TABLE cpu DROP COLUMN usage_system;
SELECT * FROM _hyperdist_functions.data_node_query('dn3',
  $$SELECT string_agg(indexrelid::regclass::text, ', ' ORDER BY 1) FROM pg_index
     WHERE indrelid = 'public.cpu'::regclass$$) AS t(indexes text);
-- undistributable DDL is refused before anything runs
ALTER TABLE cpu DROP COLUMN hostname;
ALTER TABLE cpu ALTER COLUMN time TYPE timestamp;
ALTER TABLE cpu CLUSTER ON cpu_pkey;
CREATE TRIGGER t BEFORE INSERT ON cpu FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE INDEX CONCURRENTLY ON cpu (tags_id);
CREATE TABLE plain (x int);
TRUNCATE cpu, plain;
DROP TABLE plain;
-- rename, set schema, grant
CREATE ROLE hd_reader;
CALL distributed_exec('CREATE ROLE hd_reader');
GRANT SELECT ON cpu TO hd_reader;
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  $$SELECT has_table_privilege('hd_reader', 'public.cpu', 'SELECT')$$) AS t(ok boolean);
REVOKE SELECT ON cpu FROM hd_reader;
ALTER TABLE cpu RENAME TO cpu2;
CREATE SCHEMA metrics;
ALTER TABLE cpu2 SET SCHEMA metrics;
SELECT count(*) FROM metrics.cpu2;
SELECT * FROM _hyperdist_functions.data_node_query('dn2',
  $$SELECT count(*) FROM metrics.cpu2$$) AS t(n bigint);
INSERT INTO metrics.cpu2 (time, tags_id, hostname) VALUES ('2024-03-03', 5, 'host_1');
ALTER TABLE metrics.cpu2 RENAME TO cpu;
ALTER TABLE metrics.cpu SET SCHEMA public;
-- TRUNCATE drops the chunks everywhere
BEGIN;
TRUNCATE cpu;
SELECT count(*) FROM cpu;
ROLLBACK;
SELECT count(*) > 0 FROM cpu;
TRUNCATE cpu;
SELECT count(*) FROM cpu;
SELECT count(*) FROM hyperdist_information.chunks WHERE hypertable_name = 'cpu';
SELECT sum(rows) FROM dn_rows;

-- ---- attach, detach, set_* -------------------------------------------------
-- ti lives on dn1 and dn3 with one replica per chunk
SELECT * FROM detach_data_node('dn1', 'ti');
SELECT * FROM detach_data_node('dn2', 'ti');
SELECT * FROM attach_data_node('dn9', 'ti');
SELECT * FROM attach_data_node('dn2', 'ti');
SELECT * FROM attach_data_node('dn2', 'ti');
SELECT * FROM attach_data_node('dn2', 'ti', if_not_attached => true);
SELECT data_nodes FROM hyperdist_information.hypertables WHERE hypertable_name = 'ti';
INSERT INTO ti SELECT g, g FROM generate_series(100, 159) g;
SELECT chunk_name, range_start_integer, data_nodes FROM hyperdist_information.chunks
 WHERE hypertable_name = 'ti' ORDER BY 2;
SELECT * FROM _hyperdist_functions.data_node_query('dn2', 'SELECT count(*) FROM public.ti') AS t(n bigint);
SELECT * FROM detach_data_node('dn1', 'ti', force => true, drop_remote_data => true);
SELECT * FROM detach_data_node('dn3', 'ti', force => true, drop_remote_data => true);
SELECT chunk_name, data_nodes FROM hyperdist_information.chunks
 WHERE hypertable_name = 'ti' ORDER BY range_start_integer;
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  $$SELECT count(*) FROM pg_class WHERE relname = 'ti'$$) AS t(n bigint);
SELECT count(*), sum(v) FROM ti;
SELECT set_replication_factor('ti', 3);
SELECT set_replication_factor('ti', 2);
SELECT replication_factor FROM hyperdist_information.hypertables WHERE hypertable_name = 'ti';
SELECT set_chunk_time_interval('ti', 100);
SELECT set_chunk_time_interval('ti', interval '1 day');
INSERT INTO ti VALUES (250, 1);
SELECT range_start_integer, range_end_integer FROM hyperdist_information.chunks
 WHERE hypertable_name = 'ti' AND range_start_integer >= 200;
SELECT set_number_partitions('cpu', 6);
SELECT set_number_partitions('ti', 2);
SELECT partition, data_nodes FROM _hyperdist_catalog.dimension_partition p
  JOIN _hyperdist_catalog.hypertable h ON h.id = p.hypertable_id
 WHERE h.relid = 'cpu'::regclass ORDER BY 1;
SELECT delete_data_node('dn2');

-- ---- DROP TABLE removes everything, everywhere -----------------------------
DROP TABLE cpu, ti;
SELECT count(*) FROM _hyperdist_catalog.hypertable;
SELECT count(*) FROM _hyperdist_catalog.chunk;
SELECT n.node_name, q.n
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
            WHERE s.nspname = '_hyperdist_internal' OR c.relname IN ('cpu', 'ti')$$) AS q(n bigint)
 ORDER BY 1;
DROP VIEW dn_rows;
DROP ROLE hd_reader;
CALL distributed_exec('DROP ROLE hd_reader');
DROP SCHEMA metrics;
