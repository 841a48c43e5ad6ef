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
-- the chunks are relations on the access node too, as in TimescaleDB:
-- foreign tables on their first replica, owned by the hypertable's owner
SELECT DISTINCT pg_typeof(c) FROM show_chunks('ti') c;
SELECT ch.chunk_name, s.srvname = ch.data_nodes[1] AS on_first_replica,
       r.relowner = (SELECT relowner FROM pg_class WHERE oid = 'ti'::regclass) AS owner_ok
  FROM show_chunks('ti') c
  JOIN pg_class r ON r.oid = c
  JOIN pg_foreign_table ft ON ft.ftrelid = c
  JOIN pg_foreign_server s ON s.oid = ft.ftserver
  JOIN hyperdist_information.chunks ch
    ON ch.chunk_schema = r.relnamespace::regnamespace::name AND ch.chunk_name = r.relname
 ORDER BY ch.range_start_integer;
-- and each reads its chunk
SELECT c AS ti_chunk FROM show_chunks('ti') c LIMIT 1 \gset
SELECT * FROM :ti_chunk ORDER BY t LIMIT 3;
-- created_before / created_after select by the chunks' creation time
SELECT count(*) FROM show_chunks('cpu', created_before => now());
SELECT count(*) FROM show_chunks('cpu', created_after => now());
SELECT count(*) FROM show_chunks('cpu', created_after => interval '1 hour');
SELECT count(*) FROM show_chunks('cpu', created_before => '2000-01-01'::date);
SELECT show_chunks('cpu', older_than => now(), created_before => now());
\echo :LAST_ERROR_SQLSTATE
SELECT show_chunks('cpu', created_before => 10);
\echo :LAST_ERROR_SQLSTATE
SELECT drop_chunks('cpu');
\echo :LAST_ERROR_SQLSTATE
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
-- one row per data node, and the access node's own (node_name NULL: the
-- foreign tables here store nothing)
SELECT node_name, total_bytes > 0 AS has_bytes FROM hypertable_detailed_size('cpu');
SELECT * FROM hypertable_detailed_size('cpu') WHERE node_name IS NULL;
-- each data node's row is what that node stores for the hypertable
SELECT s.node_name, s.total_bytes = q.total AS matches_node
  FROM hypertable_detailed_size('cpu') s,
       LATERAL _hyperdist_functions.data_node_query(s.node_name,
         $$SELECT sum(pg_total_relation_size(relid))::bigint FROM pg_partition_tree('public.cpu')$$)
         AS q(total bigint)
 ORDER BY 1;
SELECT hypertable_size('cpu') = (SELECT sum(total_bytes) FROM hypertable_detailed_size('cpu'));
SELECT count(*) = (SELECT sum(cardinality(data_nodes)) FROM hyperdist_information.chunks
                    WHERE hypertable_name = 'cpu')
  FROM chunks_detailed_size('cpu');
SELECT count(*) FROM chunks_detailed_size('cpu') s
  JOIN hyperdist_information.chunks c
    ON c.chunk_schema = s.chunk_schema AND c.chunk_name = s.chunk_name
 WHERE c.hypertable_name = 'cpu' AND s.node_name = ANY (c.data_nodes) AND s.total_bytes > 0;

-- ---- DDL ------------------------------------------------------------------
CREATE INDEX cpu_tags_idx ON cpu (tags_id, time);
CREATE INDEX ON cpu (note);
ALTER TABLE cpu ADD COLUMN usage_system float8 DEFAULT 1;
ALTER TABLE cpu ALTER COLUMN note TYPE text, ALTER COLUMN usage_system SET NOT NULL;
ALTER TABLE cpu ADD CONSTRAINT tags_positive CHECK (tags_id > 0);
ALTER TABLE cpu ADD CONSTRAINT cpu_host_time_tags UNIQUE (hostname, time, tags_id);
ALTER TABLE cpu RENAME COLUMN note TO comment;
-- the chunks' relations on the access node follow the columns
SELECT count(*) FROM show_chunks('cpu') c
 WHERE (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attname)
          FROM pg_attribute WHERE attrelid = c AND attnum > 0 AND NOT attisdropped)
       IS DISTINCT FROM
       (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attname)
          FROM pg_attribute WHERE attrelid = 'cpu'::regclass AND attnum > 0 AND NOT attisdropped);
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
-- ALTER INDEX ... RENAME reaches every node; renaming a constraint's index
-- renames the constraint, here too
ALTER INDEX cpu_tags_idx RENAME TO cpu_tags_time_idx;
ALTER INDEX cpu_host_time_tags RENAME TO cpu_htt;
SELECT n.node_name, q.indexes
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT string_agg(c.relname || coalesce(' ' || array_to_string(c.reloptions, ','), ''),
                             ', ' ORDER BY c.relname)
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'public.cpu'::regclass
              AND c.relname IN ('cpu_tags_idx', 'cpu_host_time_tags',
                                'cpu_tags_time_idx', 'cpu_htt')$$) AS q(indexes text)
 ORDER BY 1;
SELECT conname FROM pg_constraint WHERE conrelid = 'cpu'::regclass ORDER BY 1;
-- the rest is refused before anything runs: tablespaces are per node, and
-- a partitioned index (the data nodes') has no storage parameters
ALTER INDEX cpu_tags_time_idx SET TABLESPACE pg_default;
\echo :LAST_ERROR_SQLSTATE
ALTER INDEX cpu_tags_time_idx SET (fillfactor = 70);
\echo :LAST_ERROR_SQLSTATE
ALTER INDEX cpu_tags_time_idx RESET (fillfactor), SET TABLESPACE pg_default;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  $$SELECT reloptions FROM pg_class WHERE relname = 'cpu_tags_time_idx'$$) AS t(reloptions text[]);
ALTER INDEX cpu_tags_time_idx RENAME TO cpu_tags_idx;
ALTER INDEX cpu_htt RENAME TO cpu_host_time_tags;
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
CREATE RULE r AS ON INSERT TO cpu DO INSTEAD NOTHING;
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
-- the chunks' relations here get the grant too
SELECT count(*) FROM show_chunks('cpu') c WHERE NOT has_table_privilege('hd_reader', c, 'SELECT');
REVOKE SELECT ON cpu FROM hd_reader;
SELECT count(*) FROM show_chunks('cpu') c WHERE has_table_privilege('hd_reader', c, 'SELECT');
ALTER TABLE cpu RENAME TO cpu2;
CREATE SCHEMA metrics;
ALTER TABLE cpu2 SET SCHEMA metrics;
-- GRANT/REVOKE ON ALL TABLES IN SCHEMA reach the data nodes of the
-- distributed hypertables in the schema
CREATE VIEW reader_may AS
SELECT n.node_name, q.ok
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT has_table_privilege('hd_reader', 'metrics.cpu2', 'SELECT')$$) AS q(ok boolean)
 ORDER BY 1;
GRANT SELECT ON ALL TABLES IN SCHEMA metrics TO hd_reader;
SELECT has_table_privilege('hd_reader', 'metrics.cpu2', 'SELECT');
SELECT * FROM reader_may;
SELECT count(*) FROM show_chunks('metrics.cpu2') c WHERE NOT has_table_privilege('hd_reader', c, 'SELECT');
REVOKE SELECT ON ALL TABLES IN SCHEMA metrics FROM hd_reader;
SELECT has_table_privilege('hd_reader', 'metrics.cpu2', 'SELECT');
SELECT * FROM reader_may;
DROP VIEW reader_may;
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
-- the chunks' relations on the access node moved to the remaining replica
SELECT count(*) FROM show_chunks('ti') c
  JOIN pg_class r ON r.oid = c
  JOIN pg_foreign_table ft ON ft.ftrelid = c
  JOIN pg_foreign_server s ON s.oid = ft.ftserver
  JOIN hyperdist_information.chunks ch ON ch.chunk_name = r.relname
 WHERE s.srvname <> ch.data_nodes[1];
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

-- ---- chunks belong to the hypertable's owner, whoever inserts ------------
-- (the catalog's id sequences are put back at the end, so that chunk names
-- in later suites do not depend on this section)
SELECT last_value AS chunk_seq, is_called AS chunk_seq_called
  FROM _hyperdist_catalog.chunk_id_seq \gset
SELECT last_value AS ht_seq, is_called AS ht_seq_called
  FROM _hyperdist_catalog.hypertable_id_seq \gset
SELECT last_value AS slice_seq, is_called AS slice_seq_called
  FROM _hyperdist_catalog.time_slice_id_seq \gset
SELECT last_value AS dim_seq, is_called AS dim_seq_called
  FROM _hyperdist_catalog.dimension_id_seq \gset
CREATE ROLE hd_owner LOGIN;
CREATE ROLE hd_writer LOGIN;
CALL distributed_exec($$CREATE ROLE hd_owner LOGIN PASSWORD 'hd_owner_pw';
                        CREATE ROLE hd_writer LOGIN PASSWORD 'hd_writer_pw'$$, '{dn1,dn3}');
GRANT USAGE ON FOREIGN SERVER dn1, dn3 TO hd_owner, hd_writer;
CREATE USER MAPPING FOR hd_owner SERVER dn1 OPTIONS (password 'hd_owner_pw');
CREATE USER MAPPING FOR hd_owner SERVER dn3 OPTIONS (password 'hd_owner_pw');
CREATE USER MAPPING FOR hd_writer SERVER dn1 OPTIONS (password 'hd_writer_pw');
CREATE USER MAPPING FOR hd_writer SERVER dn3 OPTIONS (password 'hd_writer_pw');
CREATE TABLE own (t int NOT NULL, v int);
ALTER TABLE own OWNER TO hd_owner;
GRANT SELECT, INSERT ON own TO hd_writer;
SELECT table_name FROM create_distributed_hypertable('own', 't', chunk_time_interval => 10,
                                                     data_nodes => '{dn1,dn3}');
CREATE VIEW own_chunks AS
SELECT n.node_name, q.owner, q.chunks
  FROM unnest('{dn1,dn3}'::name[]) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT pg_get_userbyid(c.relowner), count(*) FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'public.own'::regclass GROUP BY 1$$) AS q(owner name, chunks bigint)
 ORDER BY 1, 2;
-- a superuser's rows: the new chunks are the owner's on every node
INSERT INTO own VALUES (1, 1), (15, 2);
SELECT * FROM own_chunks;
-- and their relations here have the hypertable's owner and grants
SELECT DISTINCT pg_get_userbyid(relowner), has_table_privilege('hd_writer', oid, 'INSERT')
  FROM pg_class WHERE oid IN (SELECT show_chunks('own'));
-- so the owner's DDL, which recurses to the chunks, works; the owner
-- creates chunks too
SET ROLE hd_owner;
ALTER TABLE own ADD COLUMN w int;
INSERT INTO own VALUES (25, 3, 3);
RESET ROLE;
SELECT * FROM own_chunks;
SELECT n.node_name, q.*
  FROM unnest('{dn1,dn3}'::name[]) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT count(*) FROM pg_inherits i
             JOIN pg_attribute a ON a.attrelid = i.inhrelid AND a.attname = 'w'
            WHERE i.inhparent = 'public.own'::regclass$$) AS q(chunks_with_w bigint)
 ORDER BY 1;
-- a role that may insert but does not own the hypertable: rows for
-- existing chunks go in; a new chunk is refused before anything is sent
SET ROLE hd_writer;
INSERT INTO own VALUES (26, 4, 4);
INSERT INTO own VALUES (35, 5, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT drop_chunks('own', older_than => 100);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM own ORDER BY t;
SELECT * FROM own_chunks;
-- a new owner gets the chunks too, on the data nodes and here
ALTER TABLE own OWNER TO hd_writer;
SELECT * FROM own_chunks;
SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE oid IN (SELECT show_chunks('own'));
DROP VIEW own_chunks;
-- and, not a superuser, may drop chunks, truncate and drop it
SET ROLE hd_writer;
SELECT count(*) FROM drop_chunks('own', older_than => 20);
SELECT count(*) FROM own;
TRUNCATE own;
SELECT count(*) FROM own;
DROP TABLE own;
RESET ROLE;
SELECT n.node_name, q.gone
  FROM unnest('{dn1,dn3}'::name[]) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT to_regclass('public.own') IS NULL$$) AS q(gone boolean)
 ORDER BY 1;
-- DROP SCHEMA ... CASCADE drops its distributed hypertables everywhere
CREATE SCHEMA dropme;
CREATE TABLE dropme.d (t int NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('dropme.d', 't', chunk_time_interval => 10,
                                                     data_nodes => '{dn1,dn3}');
INSERT INTO dropme.d VALUES (1, 1), (11, 2);
SELECT array_agg(c::text) AS d_chunks FROM show_chunks('dropme.d') c \gset
CREATE VIEW dropme_left AS
SELECT n.node_name, q.tables
  FROM unnest('{dn1,dn3}'::name[]) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         format($$SELECT count(*) FROM unnest(%L::text[] || '{dropme.d}') c
                   WHERE to_regclass(c) IS NOT NULL$$, :'d_chunks')) AS q(tables bigint)
 ORDER BY 1;
SELECT * FROM dropme_left;
DROP SCHEMA dropme;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DROP SCHEMA dropme CASCADE;
ROLLBACK;
SELECT count(*) FROM dropme.d;
SELECT * FROM dropme_left;
DROP SCHEMA dropme CASCADE;
SELECT * FROM dropme_left;
SELECT count(*) FROM _hyperdist_catalog.hypertable h
 WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = h.relid);
SELECT count(*) FROM unnest(:'d_chunks'::text[]) c WHERE to_regclass(c) IS NOT NULL;
CALL distributed_exec($$DROP SCHEMA dropme$$, '{dn1,dn3}');
DROP USER MAPPING FOR hd_owner SERVER dn1;
DROP USER MAPPING FOR hd_owner SERVER dn3;
DROP USER MAPPING FOR hd_writer SERVER dn1;
DROP USER MAPPING FOR hd_writer SERVER dn3;
REVOKE USAGE ON FOREIGN SERVER dn1, dn3 FROM hd_owner, hd_writer;
DROP ROLE hd_owner, hd_writer;
CALL distributed_exec($$DROP OWNED BY hd_owner, hd_writer; DROP ROLE hd_owner, hd_writer$$,
                      '{dn1,dn3}');

-- ---- migrate_data: the rows move, sequences stay their column's ------------
CREATE TABLE mig (id bigserial, t int NOT NULL, v text);
INSERT INTO mig (t, v) VALUES (1, 'a'), (15, 'b'), (27, 'c');
SELECT table_name, created
  FROM create_distributed_hypertable('mig', 't', chunk_time_interval => 10, migrate_data => true);
SELECT * FROM mig ORDER BY t;
SELECT count(*) FROM show_chunks('mig');
SELECT count(*) FROM pg_class WHERE relname LIKE '\_hd\_migrate\_%';
SELECT pg_get_serial_sequence('mig', 'id');
INSERT INTO mig (t, v) VALUES (30, 'd') RETURNING id;
DROP TABLE mig;
SELECT to_regclass('public.mig_id_seq');
-- the catalog's id sequences as they were before "chunks belong to the
-- hypertable's owner"
SELECT setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq, :'chunk_seq_called') IS NOT NULL,
       setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq, :'ht_seq_called') IS NOT NULL,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq, :'slice_seq_called') IS NOT NULL,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq, :'dim_seq_called') IS NOT NULL;

-- ---- drop_chunks by creation time ---------------------------------------
SELECT count(*) FROM drop_chunks('ti', created_after => now());
SELECT count(*) FROM drop_chunks('ti', created_before => now());
SELECT count(*) FROM show_chunks('ti');
SELECT n.node_name, q.n
  FROM hyperdist_information.hypertables h, unnest(h.data_nodes) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ti'::regclass$$) AS q(n bigint)
 WHERE h.hypertable_name = 'ti'
 ORDER BY 1;

-- ---- DROP TABLE removes everything, everywhere -----------------------------
DROP TABLE cpu, ti;
SELECT count(*) FROM pg_class WHERE relnamespace = '_hyperdist_internal'::regnamespace;
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
