--
-- UPDATE and DELETE on distributed hypertables ("direct modify": each data
-- node with chunks to change runs one statement on its root table, on
-- every replica).  Every statement also runs on a local table with the
-- same rows: row counts, RETURNING rows and contents must be identical.
-- Rows on each data node are checked through
-- _hyperdist_functions.data_node_query.  Runs before dist_query, whose
-- expected output names chunks: the catalog's sequences are put back at
-- the end.
--
-- show command tags: row counts are part of the result
\set QUIET off
SET timezone = 'UTC';
SET datestyle = 'ISO';

SELECT (SELECT last_value FROM _hyperdist_catalog.hypertable_id_seq) AS ht_seq,
       (SELECT last_value FROM _hyperdist_catalog.dimension_id_seq) AS dim_seq,
       (SELECT last_value FROM _hyperdist_catalog.time_slice_id_seq) AS slice_seq,
       (SELECT last_value FROM _hyperdist_catalog.chunk_id_seq) AS chunk_seq \gset

CREATE TABLE dm (time timestamptz NOT NULL, dev int NOT NULL, v float8 CHECK (v >= 0),
                 n int NOT NULL DEFAULT 0, note text);
CREATE TABLE dm_local (LIKE dm INCLUDING ALL);
SELECT table_name, created
  FROM create_distributed_hypertable('dm', 'time', 'dev', number_partitions => 3,
                                     replication_factor => 2,
                                     chunk_time_interval => interval '1 day');
-- replication factor 1, time only
CREATE TABLE dm1 (time timestamptz NOT NULL, dev int NOT NULL, v float8);
CREATE TABLE dm1_local (LIKE dm1 INCLUDING ALL);
SELECT table_name, created
  FROM create_distributed_hypertable('dm1', 'time', chunk_time_interval => interval '1 day');

-- rows of dm on every data node, per chunk
CREATE VIEW dm_dn AS
SELECT n.node_name, q.*
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT tableoid::regclass::text, time, dev, v, n, note FROM public.dm')
       AS q(chunk text, time timestamptz, dev int, v float8, n int, note text);

-- each chunk's replicas, identical (a chunk is shown by its first time and
-- its devices: ids depend on earlier suites)
CREATE VIEW dm_replicas AS
SELECT min(first_time) AS first_time, min(devs) AS devs, count(*) AS replicas,
       count(DISTINCT rows) AS distinct_contents, min(nrows) AS rows
  FROM (SELECT node_name, chunk, min(time) AS first_time, count(*) AS nrows,
               string_agg(DISTINCT dev::text, ',') AS devs,
               string_agg(format('%s|%s|%s|%s|%s', time, dev, v, n, note), ','
                          ORDER BY time, dev) AS rows
          FROM dm_dn GROUP BY 1, 2) s
 GROUP BY chunk ORDER BY 1, 2;

-- replicas that differ, or rows of dm (read on the data nodes, each chunk
-- from every replica) that differ from dm_local: none
CREATE VIEW dm_check AS
SELECT 'replicas differ' AS problem, first_time::text AS what
  FROM dm_replicas WHERE distinct_contents <> 1 OR replicas <> 2
UNION ALL
(SELECT 'only on data nodes', format('%s|%s|%s|%s|%s', time, dev, v, n, note)
   FROM (SELECT DISTINCT ON (chunk, time, dev) time, dev, v, n, note FROM dm_dn) d
 EXCEPT ALL
 SELECT 'only on data nodes', format('%s|%s|%s|%s|%s', time, dev, v, n, note) FROM dm_local)
UNION ALL
(SELECT 'only in dm_local', format('%s|%s|%s|%s|%s', time, dev, v, n, note) FROM dm_local
 EXCEPT ALL
 SELECT 'only in dm_local', format('%s|%s|%s|%s|%s', time, dev, v, n, note)
   FROM (SELECT DISTINCT ON (chunk, time, dev) time, dev, v, n, note FROM dm_dn) d);

CREATE VIEW dm1_check AS
(SELECT 'only in dm1' AS side, * FROM dm1 EXCEPT ALL SELECT 'only in dm1', * FROM dm1_local)
UNION ALL
(SELECT 'only in dm1_local', * FROM dm1_local EXCEPT ALL SELECT 'only in dm1_local', * FROM dm1);

-- 4 days, 4 devices (3 space partitions), every 6 hours
INSERT INTO dm SELECT t, d, d * 10 + extract(day FROM t), 0, 'dev ' || d
  FROM generate_series('2024-01-01'::timestamptz, '2024-01-04 18:00', '6 hours') t,
       generate_series(1, 4) d;
INSERT INTO dm_local SELECT * FROM dm;
INSERT INTO dm1 SELECT t, 1, extract(hour FROM t)
  FROM generate_series('2024-01-01'::timestamptz, '2024-01-04 18:00', '6 hours') t;
INSERT INTO dm1_local SELECT * FROM dm1;
SELECT * FROM dm_replicas;
SELECT * FROM dm_check;

-- ---- UPDATE and DELETE: row counts count each row once -------------------
UPDATE dm SET n = n + 1;
UPDATE dm_local SET n = n + 1;
UPDATE dm SET v = v * 2, note = note || ' x2' WHERE dev = 2;
UPDATE dm_local SET v = v * 2, note = note || ' x2' WHERE dev = 2;
UPDATE dm SET note = NULL WHERE v > 40 AND n = 1 AND time >= '2024-01-03';
UPDATE dm_local SET note = NULL WHERE v > 40 AND n = 1 AND time >= '2024-01-03';
UPDATE dm SET note = 'none' WHERE note IS NULL OR dev IN (3, 4) AND v::int % 2 = 0;
UPDATE dm_local SET note = 'none' WHERE note IS NULL OR dev IN (3, 4) AND v::int % 2 = 0;
DELETE FROM dm WHERE time >= '2024-01-04 12:00' AND dev <> 1;
DELETE FROM dm_local WHERE time >= '2024-01-04 12:00' AND dev <> 1;
-- no row matches
UPDATE dm SET v = 0 WHERE dev = 5;
UPDATE dm_local SET v = 0 WHERE dev = 5;
DELETE FROM dm WHERE time < '2023-01-01';
DELETE FROM dm_local WHERE time < '2023-01-01';
-- the planner proves no row matches
UPDATE dm SET v = 0 WHERE false;
UPDATE dm_local SET v = 0 WHERE false;
-- a qual reading no column gates the statement on the access node
DELETE FROM dm WHERE now() < '2000-01-01';
DELETE FROM dm_local WHERE now() < '2000-01-01';
SELECT * FROM dm_replicas;
SELECT * FROM dm_check;

-- ---- what runs where: only the data nodes with chunks left ---------------
-- every chunk: every node, with each replica it holds
EXPLAIN (COSTS OFF) UPDATE dm SET n = 0;
-- one device: its space partition's two replicas
EXPLAIN (COSTS OFF) UPDATE dm SET n = 0 WHERE dev = 3;
-- one day: its three chunks, on their replicas
EXPLAIN (COSTS OFF) DELETE FROM dm WHERE time >= '2024-01-02' AND time < '2024-01-03';
-- nothing to change: no data node
EXPLAIN (COSTS OFF) DELETE FROM dm WHERE time < '2000-01-01';
-- the statement shipped (replication factor 1: no chunk filter, no
-- RETURNING filter); a stable expression is computed here and sent as $1
EXPLAIN (VERBOSE, COSTS OFF)
UPDATE dm1 SET v = v + 1 WHERE dev = 1 AND time < now() RETURNING time, v;
EXPLAIN (VERBOSE, COSTS OFF)
DELETE FROM dm1 WHERE time > '2024-01-01'::date::timestamptz AND v IS NULL;
-- replication factor 2: every replica changes, each node counts the rows
-- of the chunks it is the primary replica of
EXPLAIN (VERBOSE, COSTS OFF) UPDATE dm SET n = 0;

-- ---- RETURNING: each changed row once, as the data node stored it --------
UPDATE dm SET v = v + 0.5 WHERE time = '2024-01-02 06:00' AND dev = 3 RETURNING *;
UPDATE dm_local SET v = v + 0.5 WHERE time = '2024-01-02 06:00' AND dev = 3 RETURNING *;
WITH u AS (UPDATE dm SET n = n * 10 WHERE time < '2024-01-02' RETURNING time, dev, v, n)
SELECT * FROM u ORDER BY time, dev;
WITH u AS (UPDATE dm_local SET n = n * 10 WHERE time < '2024-01-02' RETURNING time, dev, v, n)
SELECT * FROM u ORDER BY time, dev;
-- expressions over the returned row, a whole-row reference, no column
WITH d AS (DELETE FROM dm WHERE time = '2024-01-03 18:00'
           RETURNING dev * 100 + n AS x, dm, tableoid = 'dm'::regclass AS t)
SELECT * FROM d ORDER BY x;
WITH d AS (DELETE FROM dm_local WHERE time = '2024-01-03 18:00'
           RETURNING dev * 100 + n AS x, dm_local AS dm, true AS t)
SELECT * FROM d ORDER BY x;
WITH u AS (UPDATE dm SET n = n + 1 WHERE dev = 4 RETURNING 1) SELECT count(*) FROM u;
WITH u AS (UPDATE dm_local SET n = n + 1 WHERE dev = 4 RETURNING 1) SELECT count(*) FROM u;
-- the command tag counts rows, not replicas
UPDATE dm SET n = n - 1 WHERE dev = 4 RETURNING NULL;
UPDATE dm_local SET n = n - 1 WHERE dev = 4;
-- replication factor 1
WITH u AS (UPDATE dm1 SET v = v * 3 WHERE time < '2024-01-02 12:00' RETURNING *)
SELECT * FROM u ORDER BY time;
UPDATE dm1_local SET v = v * 3 WHERE time < '2024-01-02 12:00';
WITH d AS (DELETE FROM dm1 WHERE time >= '2024-01-04' RETURNING v)
SELECT v FROM d ORDER BY v;
DELETE FROM dm1_local WHERE time >= '2024-01-04';
-- the SET expressions are not computed again here on the new values
-- (36 / (6 - 6) would fail)
UPDATE dm1 SET v = 36 / (v - 6) WHERE v = 12 RETURNING time, v;
UPDATE dm1_local SET v = 36 / (v - 6) WHERE v = 12 RETURNING time, v;
-- under a qual gating the statement
WITH u AS (UPDATE dm SET n = n + 1 WHERE now() > '2000-01-01' AND dev = 1
             AND time < '2024-01-02' RETURNING time, n)
SELECT * FROM u ORDER BY time;
WITH u AS (UPDATE dm_local SET n = n + 1 WHERE now() > '2000-01-01' AND dev = 1
             AND time < '2024-01-02' RETURNING time, n)
SELECT * FROM u ORDER BY time;
SELECT * FROM dm_replicas;
SELECT * FROM dm_check;
SELECT * FROM dm1_check;

-- ---- parameters: prepared statements, generic plans prune too ------------
PREPARE upd(timestamptz, int, float8) AS
  UPDATE dm SET v = v + $3 WHERE time >= $1 AND time < $1 + interval '1 day' AND dev = $2;
PREPARE upd_local(timestamptz, int, float8) AS
  UPDATE dm_local SET v = v + $3 WHERE time >= $1 AND time < $1 + interval '1 day' AND dev = $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE upd('2024-01-02', 1, 1);
EXECUTE upd('2024-01-02', 1, 1);
EXECUTE upd('2024-01-03', 2, 0.25);
EXECUTE upd('2023-01-03', 2, 0.25);
EXECUTE upd_local('2024-01-02', 1, 1);
EXECUTE upd_local('2024-01-03', 2, 0.25);
EXECUTE upd_local('2023-01-03', 2, 0.25);
RESET plan_cache_mode;
DEALLOCATE upd;
DEALLOCATE upd_local;
-- a value computed here (now(), a subquery): the same for every row
DELETE FROM dm WHERE time < now() - interval '1000 years';
UPDATE dm SET note = (SELECT 'from subquery') WHERE dev = (SELECT min(dev) FROM dm_local);
UPDATE dm_local SET note = (SELECT 'from subquery') WHERE dev = (SELECT min(dev) FROM dm_local);
SELECT * FROM dm_check;

-- ---- a transaction: rolled back, nothing changed on any node -------------
BEGIN;
UPDATE dm SET v = 0, note = 'rolled back';
DELETE FROM dm WHERE dev = 1;
SELECT count(*), count(*) FILTER (WHERE note = 'rolled back') FROM dm_dn;
ROLLBACK;
SELECT * FROM dm_replicas;
SELECT * FROM dm_check;
-- with a savepoint: only the part after it is undone
BEGIN;
DELETE FROM dm WHERE dev = 4;
DELETE FROM dm_local WHERE dev = 4;
SAVEPOINT s;
UPDATE dm SET note = 'undone';
ROLLBACK TO SAVEPOINT s;
UPDATE dm SET n = n + 100 WHERE dev = 3;
UPDATE dm_local SET n = n + 100 WHERE dev = 3;
COMMIT;
SELECT * FROM dm_replicas;
SELECT * FROM dm_check;

-- ---- errors on a data node: the node's SQLSTATE, nothing applied ---------
\set VERBOSITY sqlstate
-- 22012 from a SET expression
UPDATE dm SET v = v / (n - n);
UPDATE dm_local SET v = v / (n - n);
-- 23514 and 23502: the data nodes' constraints
UPDATE dm SET v = v - 30;
UPDATE dm_local SET v = v - 30;
UPDATE dm SET n = NULL WHERE dev = 2;
UPDATE dm_local SET n = NULL WHERE dev = 2;
-- in a transaction, after a change that succeeded: all rolled back
BEGIN;
DELETE FROM dm WHERE dev = 1;
UPDATE dm SET v = -1 WHERE dev = 2;
COMMIT;
\set VERBOSITY default
-- the error names the data node (the first one waited for)
UPDATE dm1 SET v = 1 / (v - v);
UPDATE dm1_local SET v = 1 / (v - v);
SELECT * FROM dm_replicas;
SELECT * FROM dm_check;

-- ---- refused: what the data nodes cannot do on their own (0A000) ---------
\set SHOW_CONTEXT never
CREATE FUNCTION twice(float8) RETURNS float8 IMMUTABLE LANGUAGE plpgsql
  AS 'BEGIN RETURN $1 * 2; END';
UPDATE dm SET v = random();
\echo :LAST_ERROR_SQLSTATE
UPDATE dm SET v = twice(v) WHERE dev = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dm WHERE twice(v) > 10;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dm WHERE v < random();
\echo :LAST_ERROR_SQLSTATE
UPDATE dm SET v = 0 FROM dm_local l WHERE dm.time = l.time AND dm.dev = l.dev;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dm WHERE dev IN (SELECT dev FROM dm_local WHERE v > 30);
\echo :LAST_ERROR_SQLSTATE
-- a dimension column: the row could have to move to another chunk
UPDATE dm SET time = time + interval '1 hour';
\echo :LAST_ERROR_SQLSTATE
UPDATE dm SET dev = 1 WHERE dev = 2;
\echo :LAST_ERROR_SQLSTATE
-- foreign tables of data nodes stay read-only
CREATE FOREIGN TABLE dm_dn1 (time timestamptz, dev int) SERVER dn1
  OPTIONS (schema_name 'public', table_name 'dm');
DELETE FROM dm_dn1;
\echo :LAST_ERROR_SQLSTATE
DROP FOREIGN TABLE dm_dn1;
DROP FUNCTION twice(float8);
\set SHOW_CONTEXT errors
SELECT * FROM dm_check;
SELECT * FROM dm1_check;

-- ---- clean up; the next suites' chunk names do not depend on this one ----
DROP VIEW dm_check, dm1_check, dm_replicas, dm_dn;
DROP TABLE dm;
DROP TABLE dm1;
DROP TABLE dm_local, dm1_local;
SELECT setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq) AS ht_seq,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq) AS dim_seq,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq) AS slice_seq,
       setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq) AS chunk_seq \gset
