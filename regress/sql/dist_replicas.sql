--
-- Writes while data nodes are unavailable (alter_data_node(available =>
-- false)): INSERT, COPY, UPDATE, DELETE and ON CONFLICT write every usable
-- replica (current, on an available node that is not down) and mark the
-- current replicas on unavailable nodes stale; stale replicas are neither
-- read nor written, also once their node is available again; new chunks go
-- to available nodes only, with fewer replicas and a WARNING when too few
-- are; a chunk without a usable replica fails reads and writes with 08001.
-- Every statement also runs on a local table: rows must be identical.
-- Runs on the data nodes dn1..dn3 data_nodes leaves; the catalog's
-- sequences are set for chunk names that do not depend on earlier suites,
-- and put back at the end.
--
-- show command tags: row counts are part of the result
\set QUIET off
SET timezone = 'UTC';
SET datestyle = 'ISO';

SELECT (SELECT last_value FROM _hyperdist_catalog.hypertable_id_seq) AS ht_seq,
       (SELECT last_value FROM _hyperdist_catalog.dimension_id_seq) AS dim_seq,
       (SELECT last_value FROM _hyperdist_catalog.time_slice_id_seq) AS slice_seq,
       (SELECT last_value FROM _hyperdist_catalog.chunk_id_seq) AS chunk_seq \gset
SELECT setval('_hyperdist_catalog.hypertable_id_seq', 100) AS ht_seq,
       setval('_hyperdist_catalog.chunk_id_seq', 1000) AS chunk_seq;

CREATE TABLE rp (time timestamptz NOT NULL, dev int NOT NULL, v float8,
                 UNIQUE (time, dev));
CREATE TABLE rp_local (LIKE rp INCLUDING ALL);
SELECT table_name, created
  FROM create_distributed_hypertable('rp', 'time', 'dev', number_partitions => 3,
                                     replication_factor => 2,
                                     chunk_time_interval => interval '1 day');

-- each chunk (by its day and space partition) with its replicas in order,
-- and their status
CREATE VIEW rp_catalog AS
SELECT to_char(timestamptz 'epoch' + ts.range_start * interval '1 microsecond', 'MM-DD') AS day,
       c.space_partition AS part,
       string_agg(cdn.node_name || CASE WHEN cdn.status = 'stale' THEN ' (stale)' ELSE '' END,
                  ', ' ORDER BY cdn.replica) AS replicas
  FROM _hyperdist_catalog.chunk c
  JOIN _hyperdist_catalog.time_slice ts ON ts.id = c.time_slice_id
  JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id
  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
 WHERE h.relid = 'rp'::regclass
 GROUP BY 1, 2 ORDER BY 1, 2;

-- rows of each replica, read on its data node
CREATE VIEW rp_rows AS
SELECT day, part, string_agg(format('%s: %s', node_name, nrows), ', ' ORDER BY node_name) AS rows
  FROM (SELECT to_char(min(q.time), 'MM-DD') AS day, c.space_partition AS part,
               n.node_name, count(*) AS nrows
          FROM hyperdist_information.data_nodes n,
               LATERAL _hyperdist_functions.data_node_query(n.node_name,
                 'SELECT tableoid::regclass::text, time FROM public.rp')
               AS q(chunk text, time timestamptz)
          JOIN _hyperdist_catalog.chunk c ON format('%I.%I', c.schema_name, c.table_name) = q.chunk
         GROUP BY c.id, n.node_name) s
 GROUP BY 1, 2 ORDER BY 1, 2;

-- rows read through the access node that differ from rp_local: none
CREATE VIEW rp_diff AS
(SELECT 'only in rp' AS side, * FROM rp EXCEPT ALL SELECT 'only in rp', * FROM rp_local)
UNION ALL
(SELECT 'only in rp_local', * FROM rp_local EXCEPT ALL SELECT 'only in rp_local', * FROM rp);

-- four days, devices 0..5: every chunk on two of the three nodes
INSERT INTO rp SELECT timestamptz '2024-01-01' + d * interval '1 day' + h * interval '1 hour', dev, d * 100 + h
  FROM generate_series(0, 3) d, generate_series(0, 3) h, generate_series(0, 5) dev;
INSERT INTO rp_local SELECT * FROM rp;
SELECT * FROM rp_catalog;

-- ---- dn2 unavailable: writes go on, dn2's replicas of the chunks written go stale
SELECT node_name, available FROM alter_data_node('dn2', available => false);

INSERT INTO rp VALUES ('2024-01-01 10:00', 0, 1), ('2024-01-01 10:00', 1, 1),
                      ('2024-01-01 10:00', 2, 1), ('2024-01-01 10:00', 3, 1);
INSERT INTO rp_local VALUES ('2024-01-01 10:00', 0, 1), ('2024-01-01 10:00', 1, 1),
                            ('2024-01-01 10:00', 2, 1), ('2024-01-01 10:00', 3, 1);
SELECT * FROM rp_catalog WHERE day = '01-01';

COPY rp FROM STDIN;
2024-01-02 10:00:00+00	4	2
2024-01-02 10:00:00+00	5	2
\.
COPY rp_local FROM STDIN;
2024-01-02 10:00:00+00	4	2
2024-01-02 10:00:00+00	5	2
\.
SELECT * FROM rp_catalog WHERE day = '01-02';

UPDATE rp SET v = v + 0.5 WHERE time >= '2024-01-03' AND time < '2024-01-04';
UPDATE rp_local SET v = v + 0.5 WHERE time >= '2024-01-03' AND time < '2024-01-04';
SELECT * FROM rp_catalog WHERE day = '01-03';

-- DELETE ... RETURNING counts each row once
WITH d AS (DELETE FROM rp WHERE time >= '2024-01-04' AND dev < 2 RETURNING dev, v)
SELECT * FROM d ORDER BY 1, 2;
DELETE FROM rp_local WHERE time >= '2024-01-04' AND dev < 2;
SELECT * FROM rp_catalog WHERE day = '01-04';

-- ON CONFLICT: with a count, and with RETURNING (row by row)
INSERT INTO rp VALUES ('2024-01-04 00:00', 3, -1), ('2024-01-04 11:00', 3, -1)
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v;
INSERT INTO rp_local VALUES ('2024-01-04 00:00', 3, -1), ('2024-01-04 11:00', 3, -1)
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v;
INSERT INTO rp VALUES ('2024-01-04 01:00', 4, -2) ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v
  RETURNING *;
INSERT INTO rp_local VALUES ('2024-01-04 01:00', 4, -2) ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v;
SELECT * FROM rp_catalog WHERE day = '01-04';

-- stale replicas miss the rows written since; reads see every row
SELECT * FROM rp_rows;
SELECT * FROM rp_diff;

-- a new chunk goes to the available nodes only
INSERT INTO rp VALUES ('2024-01-10', 0, 10), ('2024-01-10', 1, 10), ('2024-01-10', 2, 10);
INSERT INTO rp_local VALUES ('2024-01-10', 0, 10), ('2024-01-10', 1, 10), ('2024-01-10', 2, 10);
SELECT * FROM rp_catalog WHERE day = '01-10';

-- ---- dn3 unavailable too: a new chunk has one replica of two, with a WARNING
SELECT node_name, available FROM alter_data_node('dn3', available => false);
INSERT INTO rp VALUES ('2024-01-11', 0, 11);
INSERT INTO rp_local VALUES ('2024-01-11', 0, 11);
SELECT * FROM rp_catalog WHERE day = '01-11';
-- a chunk whose current replicas are all on unavailable nodes: 08001
SELECT count(*) FROM rp;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO rp VALUES ('2024-01-03 10:00', 0, 1), ('2024-01-03 10:00', 1, 1),
                      ('2024-01-03 10:00', 2, 1), ('2024-01-03 10:00', 3, 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE rp SET v = 0;
\echo :LAST_ERROR_SQLSTATE
-- the failed statements marked nothing
SELECT * FROM rp_catalog WHERE day = '01-03';
-- The replica healer would bring stale replicas up to date, and give the
-- 01-11 chunk its second replica on dn3, at any moment from here: it is
-- paused, and gone once the reload reached it.
ALTER SYSTEM SET hyperdist.enable_replica_healing = off;
SELECT pg_reload_conf();
DO $$
BEGIN
  FOR i IN 1 .. 600 LOOP
    EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity
                           WHERE backend_type = 'hyperdist replica healer');
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT count(*) AS healers FROM pg_stat_activity WHERE backend_type = 'hyperdist replica healer';
SELECT node_name, available FROM alter_data_node('dn3', available => true);

-- ---- dn2 available again: its stale replicas are neither read nor written
SELECT node_name, available FROM alter_data_node('dn2', available => true);
SELECT * FROM rp_diff;
SELECT count(*), sum(v) FROM rp;
SELECT count(*), sum(v) FROM rp_local;
INSERT INTO rp VALUES ('2024-01-01 12:00', 0, 3), ('2024-01-01 12:00', 1, 3),
                      ('2024-01-01 12:00', 2, 3), ('2024-01-01 12:00', 3, 3);
INSERT INTO rp_local VALUES ('2024-01-01 12:00', 0, 3), ('2024-01-01 12:00', 1, 3),
                            ('2024-01-01 12:00', 2, 3), ('2024-01-01 12:00', 3, 3);
UPDATE rp SET v = v * 2 WHERE time < '2024-01-02';
UPDATE rp_local SET v = v * 2 WHERE time < '2024-01-02';
DELETE FROM rp WHERE time >= '2024-01-02' AND time < '2024-01-03' AND dev = 5;
DELETE FROM rp_local WHERE time >= '2024-01-02' AND time < '2024-01-03' AND dev = 5;
SELECT * FROM rp_catalog;
SELECT * FROM rp_rows;
SELECT * FROM rp_diff;

-- ---- clean up; the next suites' chunk names do not depend on this one ----
ALTER SYSTEM RESET hyperdist.enable_replica_healing;
SELECT pg_reload_conf();
DROP VIEW rp_catalog, rp_rows, rp_diff;
DROP TABLE rp;
DROP TABLE rp_local;
SELECT setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq) AS ht_seq,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq) AS dim_seq,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq) AS slice_seq,
       setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq) AS chunk_seq \gset
