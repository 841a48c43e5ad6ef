--
-- INSERT ... ON CONFLICT with an arbiter (DO NOTHING, DO UPDATE SET ...
-- WHERE ..., ON CONSTRAINT name) and COPY FROM (FORMAT binary) into
-- distributed hypertables.
-- Every statement also runs on a local table with the same unique index:
-- row counts and rows must be identical.  Runs after dist_hypertable (uses
-- the data nodes it leaves); rows on each data node are checked through
-- _hyperdist_functions.data_node_query.
--
-- show command tags: row counts are part of the result
\set QUIET off
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE up (time timestamptz NOT NULL, dev int NOT NULL, v float8,
                 n int DEFAULT 0, note text, UNIQUE (time, dev));
CREATE TABLE up_local (LIKE up INCLUDING ALL);
SELECT table_name, created
  FROM create_distributed_hypertable('up', 'time', 'dev', replication_factor => 2);

-- rows of up on every data node, per chunk
CREATE VIEW up_dn AS
SELECT n.node_name, q.*
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT tableoid::regclass::text, time, dev, v, n, note FROM public.up')
       AS q(chunk text, time timestamptz, dev int, v float8, n int, note text);

-- differences between up (read through the access node) and up_local: none
CREATE VIEW up_diff AS
(SELECT 'only in up' AS side, * FROM up EXCEPT ALL SELECT 'only in up', * FROM up_local)
UNION ALL
(SELECT 'only in up_local', * FROM up_local EXCEPT ALL SELECT 'only in up_local', * FROM up);

-- every chunk has replication_factor replicas, all identical (a chunk is
-- shown by its first time and its devices: ids depend on earlier suites)
CREATE VIEW up_replicas AS
SELECT min(first_time) AS first_time, min(devs) AS devs, count(*) AS replicas,
       count(DISTINCT rows) AS distinct_contents, min(nrows) AS rows
  FROM (SELECT node_name, chunk, min(time) AS first_time, count(*) AS nrows,
               string_agg(DISTINCT dev::text, ',') AS devs,
               string_agg(format('%s|%s|%s|%s|%s', time, dev, v, n, note), ','
                          ORDER BY time, dev) AS rows
          FROM up_dn GROUP BY 1, 2) s
 GROUP BY chunk ORDER BY 1, 2;

INSERT INTO up VALUES ('2024-01-01', 1, 1.0), ('2024-01-01', 2, 2.0), ('2024-01-09', 1, 3.0);
INSERT INTO up_local VALUES ('2024-01-01', 1, 1.0), ('2024-01-01', 2, 2.0), ('2024-01-09', 1, 3.0);

-- ---- no ON CONFLICT: the data node's unique index refuses (23505) ---------
\set VERBOSITY sqlstate
INSERT INTO up VALUES ('2024-01-01', 1, 9.0);
INSERT INTO up_local VALUES ('2024-01-01', 1, 9.0);
\set VERBOSITY default

-- ---- DO NOTHING with a conflict target: counts only the rows inserted -----
INSERT INTO up VALUES ('2024-01-01', 1, 10.0), ('2024-01-02', 1, 5.0)
  ON CONFLICT (time, dev) DO NOTHING;
INSERT INTO up_local VALUES ('2024-01-01', 1, 10.0), ('2024-01-02', 1, 5.0)
  ON CONFLICT (time, dev) DO NOTHING;
INSERT INTO up VALUES ('2024-01-01', 1, 10.0) ON CONFLICT (dev, time) DO NOTHING;
INSERT INTO up_local VALUES ('2024-01-01', 1, 10.0) ON CONFLICT (dev, time) DO NOTHING;

-- ---- DO UPDATE: EXCLUDED, the target's columns, an alias, WHERE ----------
INSERT INTO up VALUES ('2024-01-01', 1, 10.0, 0, 'a'), ('2024-01-03', 1, 5.0, 0, NULL)
  ON CONFLICT (time, dev) DO UPDATE SET v = up.v + excluded.v, n = up.n + 1,
                                        note = coalesce(excluded.note, up.note);
INSERT INTO up_local VALUES ('2024-01-01', 1, 10.0, 0, 'a'), ('2024-01-03', 1, 5.0, 0, NULL)
  ON CONFLICT (time, dev) DO UPDATE SET v = up_local.v + excluded.v, n = up_local.n + 1,
                                        note = coalesce(excluded.note, up_local.note);
-- the WHERE skips (2024-01-01, 2) (v = 2): 1 row updated, 1 inserted
INSERT INTO up AS t VALUES ('2024-01-01', 2, 1.0), ('2024-01-09', 1, 1.0), ('2024-01-10', 2, 7.5)
  ON CONFLICT (time, dev) DO UPDATE SET v = t.v * 2 + excluded.v, note = 'upd ' || t.dev::text
  WHERE t.v > 2.5;
INSERT INTO up_local AS t VALUES ('2024-01-01', 2, 1.0), ('2024-01-09', 1, 1.0), ('2024-01-10', 2, 7.5)
  ON CONFLICT (time, dev) DO UPDATE SET v = t.v * 2 + excluded.v, note = 'upd ' || t.dev::text
  WHERE t.v > 2.5;
-- all skipped: INSERT 0 0
INSERT INTO up AS t VALUES ('2024-01-01', 2, 1.0)
  ON CONFLICT (time, dev) DO UPDATE SET v = 0 WHERE t.v < 0;
INSERT INTO up_local AS t VALUES ('2024-01-01', 2, 1.0)
  ON CONFLICT (time, dev) DO UPDATE SET v = 0 WHERE t.v < 0;

-- ---- many batches: exact counts (inserted + updated) --------------------
SET hyperdist.max_insert_batch_size = 7;
INSERT INTO up SELECT '2024-01-01'::timestamptz + (i % 40) * interval '6 hours', i % 3, i
  FROM generate_series(1, 40) i
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v + up.v, n = up.n + 10;
INSERT INTO up_local SELECT '2024-01-01'::timestamptz + (i % 40) * interval '6 hours', i % 3, i
  FROM generate_series(1, 40) i
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v + up_local.v, n = up_local.n + 10;
INSERT INTO up SELECT '2024-01-01'::timestamptz + (i % 40) * interval '6 hours', i % 3, -i
  FROM generate_series(21, 60) i
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v + up.v WHERE up.dev <> 0;
INSERT INTO up_local SELECT '2024-01-01'::timestamptz + (i % 40) * interval '6 hours', i % 3, -i
  FROM generate_series(21, 60) i
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v + up_local.v WHERE up_local.dev <> 0;
INSERT INTO up SELECT '2024-01-01'::timestamptz + i * interval '6 hours', 1, 0
  FROM generate_series(0, 50) i ON CONFLICT (time, dev) DO NOTHING;
INSERT INTO up_local SELECT '2024-01-01'::timestamptz + i * interval '6 hours', 1, 0
  FROM generate_series(0, 50) i ON CONFLICT (time, dev) DO NOTHING;
RESET hyperdist.max_insert_batch_size;

-- a prepared statement, planned again (generic plan after five executions)
PREPARE ups(timestamptz, float8) AS
  INSERT INTO up VALUES ($1, 1, $2) ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v * 2;
PREPARE ups_local(timestamptz, float8) AS
  INSERT INTO up_local VALUES ($1, 1, $2) ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v * 2;
EXECUTE ups('2024-01-01', 1); EXECUTE ups('2024-01-01', 2); EXECUTE ups('2024-01-01', 3);
EXECUTE ups('2024-01-01', 4); EXECUTE ups('2024-01-01', 5); EXECUTE ups('2024-01-20', 6);
EXECUTE ups_local('2024-01-01', 1); EXECUTE ups_local('2024-01-01', 2); EXECUTE ups_local('2024-01-01', 3);
EXECUTE ups_local('2024-01-01', 4); EXECUTE ups_local('2024-01-01', 5); EXECUTE ups_local('2024-01-20', 6);
DEALLOCATE ups;
DEALLOCATE ups_local;

-- the same row twice in one statement: as locally (21000)
\set VERBOSITY sqlstate
INSERT INTO up VALUES ('2024-01-01', 1, 1), ('2024-01-01', 1, 2)
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v;
INSERT INTO up_local VALUES ('2024-01-01', 1, 1), ('2024-01-01', 1, 2)
  ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v;
-- a conflict target without a matching unique index (42P10, from the data node)
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (v) DO NOTHING;
INSERT INTO up_local VALUES ('2024-01-01', 1, 1) ON CONFLICT (v) DO NOTHING;
\set VERBOSITY default

SELECT * FROM up_diff;
SELECT count(*) FROM up;
SELECT * FROM up ORDER BY time, dev LIMIT 8;
SELECT * FROM up_replicas;

-- ---- RETURNING: the rows as the data node stored them -------------------
INSERT INTO up AS t VALUES ('2024-01-01', 1, 1, 0, NULL), ('2024-01-01', 2, 4, 0, NULL), ('2024-01-25', 3, 7, 0, 'r')
  ON CONFLICT (time, dev) DO UPDATE SET v = t.v + excluded.v, n = t.n + 1 WHERE t.dev = 1
  RETURNING *, v * 2 AS v2;
INSERT INTO up_local AS t VALUES ('2024-01-01', 1, 1, 0, NULL), ('2024-01-01', 2, 4, 0, NULL), ('2024-01-25', 3, 7, 0, 'r')
  ON CONFLICT (time, dev) DO UPDATE SET v = t.v + excluded.v, n = t.n + 1 WHERE t.dev = 1
  RETURNING *, v * 2 AS v2;
INSERT INTO up VALUES ('2024-01-25', 3, 8), ('2024-01-26', 3, 9) ON CONFLICT (time, dev) DO NOTHING
  RETURNING time, v;
INSERT INTO up_local VALUES ('2024-01-25', 3, 8), ('2024-01-26', 3, 9) ON CONFLICT (time, dev) DO NOTHING
  RETURNING time, v;
WITH ins AS (INSERT INTO up VALUES ('2024-01-26', 3, 10), ('2024-01-27', 3, 11)
             ON CONFLICT DO NOTHING RETURNING v)
SELECT count(*), sum(v) FROM ins;
WITH ins AS (INSERT INTO up_local VALUES ('2024-01-26', 3, 10), ('2024-01-27', 3, 11)
             ON CONFLICT DO NOTHING RETURNING v)
SELECT count(*), sum(v) FROM ins;
SELECT * FROM up_diff;

-- ---- ON CONFLICT ON CONSTRAINT: the data nodes' constraint, by name -------
-- The unique constraints live on the data nodes; the access node's foreign
-- table names each with a CHECK constraint that is never evaluated.  (Rows
-- go to existing chunks only: dist_query shows chunk names.)
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'up'::regclass ORDER BY 1;
INSERT INTO up VALUES ('2024-01-01', 1, 100), ('2024-01-02 13:00', 1, 100)
  ON CONFLICT ON CONSTRAINT up_time_dev_key DO NOTHING;
INSERT INTO up_local VALUES ('2024-01-01', 1, 100), ('2024-01-02 13:00', 1, 100)
  ON CONFLICT ON CONSTRAINT up_local_time_dev_key DO NOTHING;
INSERT INTO up AS t VALUES ('2024-01-01', 1, 1), ('2024-01-01', 2, 1), ('2024-01-05 12:00', 2, 1)
  ON CONFLICT ON CONSTRAINT up_time_dev_key DO UPDATE SET v = t.v + excluded.v, n = t.n + 1
  WHERE t.dev = 1;
INSERT INTO up_local AS t VALUES ('2024-01-01', 1, 1), ('2024-01-01', 2, 1), ('2024-01-05 12:00', 2, 1)
  ON CONFLICT ON CONSTRAINT up_local_time_dev_key DO UPDATE SET v = t.v + excluded.v, n = t.n + 1
  WHERE t.dev = 1;
INSERT INTO up VALUES ('2024-01-02 12:00', 1, 5), ('2024-01-06 12:00', 0, 5)
  ON CONFLICT ON CONSTRAINT up_time_dev_key DO UPDATE SET v = excluded.v * 3
  RETURNING time, dev, v;
INSERT INTO up_local VALUES ('2024-01-02 12:00', 1, 5), ('2024-01-06 12:00', 0, 5)
  ON CONFLICT ON CONSTRAINT up_local_time_dev_key DO UPDATE SET v = excluded.v * 3
  RETURNING time, dev, v;
-- a constraint added later, without a name, and renamed: its mirror follows
ALTER TABLE up ADD UNIQUE (dev, time, note);
ALTER TABLE up_local ADD UNIQUE (dev, time, note);
ALTER TABLE up RENAME CONSTRAINT up_dev_time_note_key TO up_dtn;
ALTER TABLE up_local RENAME CONSTRAINT up_local_dev_time_note_key TO up_local_dtn;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'up'::regclass ORDER BY 1;
SELECT n.node_name, q.constraints
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT string_agg(conname, ', ' ORDER BY conname) FROM pg_constraint
            WHERE conrelid = 'public.up'::regclass AND contype = 'u'$$) AS q(constraints text)
 ORDER BY 1;
INSERT INTO up VALUES ('2024-01-26 12:00', 3, 6, 0, 'x') ON CONFLICT ON CONSTRAINT up_dtn DO UPDATE SET n = 99;
INSERT INTO up_local VALUES ('2024-01-26 12:00', 3, 6, 0, 'x') ON CONFLICT ON CONSTRAINT up_local_dtn DO UPDATE SET n = 99;
INSERT INTO up VALUES ('2024-01-26 12:00', 3, 7, 0, 'x') ON CONFLICT ON CONSTRAINT up_dtn DO UPDATE SET n = 99;
INSERT INTO up_local VALUES ('2024-01-26 12:00', 3, 7, 0, 'x') ON CONFLICT ON CONSTRAINT up_local_dtn DO UPDATE SET n = 99;
ALTER TABLE up DROP CONSTRAINT up_dtn;
ALTER TABLE up_local DROP CONSTRAINT up_local_dtn;
-- an unknown name: as locally, from parse analysis (42704); the dropped
-- constraint is gone on the data nodes too
\set VERBOSITY sqlstate
INSERT INTO up VALUES ('2024-01-26 12:00', 3, 8, 0, 'x') ON CONFLICT ON CONSTRAINT up_dtn DO NOTHING;
INSERT INTO up_local VALUES ('2024-01-26 12:00', 3, 8, 0, 'x') ON CONFLICT ON CONSTRAINT up_local_dtn DO NOTHING;
-- a CHECK constraint is no arbiter: refused by the data node as locally (42809)
ALTER TABLE up ADD CONSTRAINT up_n_check CHECK (n >= 0);
ALTER TABLE up_local ADD CONSTRAINT up_n_check CHECK (n >= 0);
INSERT INTO up VALUES ('2024-01-26 12:00', 3, 8, 0, 'x') ON CONFLICT ON CONSTRAINT up_n_check DO NOTHING;
INSERT INTO up_local VALUES ('2024-01-26 12:00', 3, 8, 0, 'x') ON CONFLICT ON CONSTRAINT up_n_check DO NOTHING;
ALTER TABLE up DROP CONSTRAINT up_n_check;
ALTER TABLE up_local DROP CONSTRAINT up_n_check;
-- a partitioning column cannot be set, by name as by columns (0A000)
INSERT INTO up VALUES ('2024-01-26 12:00', 3, 8) ON CONFLICT ON CONSTRAINT up_time_dev_key
  DO UPDATE SET dev = 4;
\set VERBOSITY default
SELECT n.node_name, q.constraints
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT string_agg(conname, ', ' ORDER BY conname) FROM pg_constraint
            WHERE conrelid = 'public.up'::regclass AND contype = 'u'$$) AS q(constraints text)
 ORDER BY 1;
SELECT * FROM up_diff;
SELECT * FROM up_replicas;

-- ---- refused before anything is sent (0A000) -----------------------------
SELECT count(*), sum(v), sum(n) FROM up;
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev) DO UPDATE SET v = random();
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev) DO UPDATE SET note = now()::text;
-- text || int is only stable
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev) DO UPDATE SET note = 'x' || up.n;
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev)
  DO UPDATE SET v = (SELECT max(v) FROM up_local);
CREATE FUNCTION twice(float8) RETURNS float8 IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev) DO UPDATE SET v = twice(up.v);
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev)
  DO UPDATE SET v = 1 WHERE twice(up.v) > 0;
DROP FUNCTION twice(float8);
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev) DO UPDATE SET dev = 5;
INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev)
  DO UPDATE SET time = excluded.time + interval '1 day';
-- not yet: a conflict target in WITH
WITH ins AS (INSERT INTO up VALUES ('2024-01-01', 1, 1) ON CONFLICT (time, dev)
             DO UPDATE SET v = 1 RETURNING v)
SELECT * FROM ins;
SELECT count(*), sum(v), sum(n) FROM up;

-- ---- COPY FROM (FORMAT binary) ----------------------------------------------
\copy (SELECT '2024-02-01'::timestamptz + i * interval '1 hour', i % 4, (i / 2.0)::float8, i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'c' || i END FROM generate_series(1, 30) i) TO 'dist_insert.bin' (FORMAT binary)
\copy up FROM 'dist_insert.bin' (FORMAT binary)
\copy up_local FROM 'dist_insert.bin' (FORMAT binary)
SELECT count(*) FROM up WHERE time >= '2024-02-01';
SELECT * FROM up_diff;
SELECT * FROM up_replicas;
-- binary COPY of rows already there: 23505
\set VERBOSITY sqlstate
\copy up FROM 'dist_insert.bin' (FORMAT binary)
\set VERBOSITY default
SELECT count(*) FROM up WHERE time >= '2024-02-01';

DROP VIEW up_replicas, up_diff, up_dn;
DROP TABLE up, up_local;
