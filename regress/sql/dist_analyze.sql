--
-- ANALYZE of distributed hypertables: the access node's statistics come
-- from samples of the data nodes' rows (fdw/analyze.c), replicated chunks
-- counted once; a database-wide ANALYZE includes them.  Needs dn1..dn3.
--
SET timezone = 'UTC';

-- Statistics of a table as the planner sees them.
CREATE FUNCTION col_stats(tab regclass)
RETURNS TABLE (attname name, null_frac real, n_distinct real)
LANGUAGE sql AS $$
  SELECT s.attname, s.null_frac, s.n_distinct FROM pg_stats s
   WHERE s.schemaname = 'public' AND s.tablename = tab::text ORDER BY s.attname $$;
-- The planner's row estimate for a query.
CREATE FUNCTION estimated_rows(query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN (plan->0->'Plan'->>'Plan Rows')::bigint;
END $$;
-- The chunks of tab on a data node that were never analyzed there.
CREATE FUNCTION unanalyzed_chunks(node name, tab text) RETURNS bigint
LANGUAGE sql AS $$
  SELECT n FROM _hyperdist_functions.data_node_query(node,
    format('SELECT count(*) FROM pg_class c JOIN pg_partition_tree(%L) p ON p.relid = c.oid
             WHERE p.isleaf AND c.reltuples < 0', tab)) AS t(n bigint) $$;

-- 12,000 rows over 5 days: 20 devices, every 4th note NULL
CREATE TABLE small (time timestamptz NOT NULL, dev int NOT NULL, note text, v float8);
SELECT table_name FROM create_distributed_hypertable('small', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '1 day');
INSERT INTO small
SELECT '2024-01-01'::timestamptz + i * interval '36 s', i % 20,
       CASE WHEN i % 4 <> 0 THEN 'note ' || i % 7 END, i * 0.5
  FROM generate_series(0, 11999) i;
-- the same rows with every chunk on two data nodes
CREATE TABLE small_r2 (LIKE small);
SELECT table_name FROM create_distributed_hypertable('small_r2', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '1 day',
  replication_factor => 2);
INSERT INTO small_r2 SELECT * FROM small;

-- before ANALYZE: size unknown, no column statistics
SELECT relname, reltuples FROM pg_class WHERE relname IN ('small', 'small_r2') ORDER BY 1;
SELECT count(*) FROM col_stats('small');

-- Below ANALYZE's sample size every row is read: exact statistics, and the
-- replicated table's rows are not counted twice.
ANALYZE small;
ANALYZE small_r2;
SELECT relname, reltuples, relpages > 0 AS has_pages
  FROM pg_class WHERE relname IN ('small', 'small_r2') ORDER BY 1;
SELECT * FROM col_stats('small');
SELECT * FROM col_stats('small_r2');
-- the data nodes analyzed the chunks that never were
SELECT node, unanalyzed_chunks(node, 'public.small')
  FROM unnest(ARRAY['dn1', 'dn2', 'dn3']::name[]) node;
-- approximate_row_count asks the data nodes (which analyze the chunks they
-- never did, as above; small ones are read whole: exact); replicas count once
SELECT approximate_row_count('small') AS small, approximate_row_count('small_r2') AS small_r2;
-- estimates now follow the data (the default was 10 pages' worth)
SELECT estimated_rows('SELECT * FROM small WHERE dev = 3') AS dev3,
       (SELECT count(*) FROM small WHERE dev = 3) AS actual;
SELECT estimated_rows('SELECT * FROM small WHERE note IS NULL') AS null_notes,
       (SELECT count(*) FROM small WHERE note IS NULL) AS actual;
SELECT estimated_rows($$SELECT * FROM small WHERE time >= '2024-01-05'$$)
         BETWEEN 2000 AND 2800 AS last_day_close,
       (SELECT count(*) FROM small WHERE time >= '2024-01-05') AS actual;

-- Above it, a sample: 120,000 rows, of which ANALYZE keeps 30,000.
CREATE TABLE big (time timestamptz NOT NULL, dev int NOT NULL, v float8);
SELECT table_name FROM create_distributed_hypertable('big', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '1 day');
INSERT INTO big
SELECT '2024-01-01'::timestamptz + i * interval '3 s', i % 50, i
  FROM generate_series(0, 119999) i;
ANALYZE big;
SELECT reltuples BETWEEN 108000 AND 132000 AS rows_close FROM pg_class WHERE relname = 'big';
SELECT attname, n_distinct FROM col_stats('big') WHERE attname = 'dev';
SELECT estimated_rows('SELECT * FROM big WHERE dev < 10') BETWEEN 18000 AND 30000 AS dev_close;

SELECT approximate_row_count('big') BETWEEN 108000 AND 132000 AS big_close;
-- a chunk's relation on the access node reads that chunk's estimate
SELECT sum(approximate_row_count(c)) BETWEEN 108000 AND 132000 AS chunks_close
  FROM show_chunks('big') c;
-- a local table: the planner's estimate, from its own statistics
CREATE TABLE local_t AS SELECT g FROM generate_series(1, 1000) g;
SELECT approximate_row_count('local_t') AS before_analyze;
ANALYZE local_t;
SELECT approximate_row_count('local_t') AS after_analyze;
DROP TABLE local_t;
-- it needs SELECT on the table
CREATE ROLE row_counter;
SET ROLE row_counter;
SELECT approximate_row_count('big');
RESET ROLE;
DROP ROLE row_counter;

-- A database-wide ANALYZE (and VACUUM ANALYZE) includes distributed hypertables.
CREATE TABLE later (LIKE small);
SELECT table_name FROM create_distributed_hypertable('later', 'time');
INSERT INTO later SELECT * FROM small WHERE dev < 5;
SELECT reltuples FROM pg_class WHERE relname = 'later';
-- (on a hypertable no node has analyzed yet, too)
SELECT approximate_row_count('later');
ANALYZE;
SELECT reltuples FROM pg_class WHERE relname = 'later';
-- Chunks analyzed on the data nodes when smaller: their row density times
-- their size now, as the planner estimates a table.
INSERT INTO later SELECT * FROM small WHERE dev >= 5;
VACUUM ANALYZE;
SELECT reltuples BETWEEN 11000 AND 13000 AS close_to_12000 FROM pg_class WHERE relname = 'later';
-- in a transaction block, too
BEGIN;
INSERT INTO later SELECT * FROM small;
ANALYZE;
SELECT reltuples BETWEEN 21000 AND 27000 AS close_to_24000 FROM pg_class WHERE relname = 'later';
COMMIT;

-- VACUUM of a distributed hypertable runs on its data nodes (all of its
-- chunks there, replicas included); with ANALYZE, the access node samples
-- it afterwards.  Local tables in the same statement are vacuumed here.
CREATE FUNCTION vacuumed_chunks(node name, tab text) RETURNS text
LANGUAGE sql AS $$
  SELECT v FROM _hyperdist_functions.data_node_query(node,
    format('SELECT count(*) FILTER (WHERE s.last_vacuum IS NOT NULL) || '' of '' || count(*)
              FROM pg_stat_user_tables s JOIN pg_partition_tree(%L) p ON p.relid = s.relid
             WHERE p.isleaf', tab)) AS t(v text) $$;
DELETE FROM small_r2 WHERE dev < 10;
CREATE TABLE local_v (a int);
VACUUM small_r2, local_v;
SELECT node, vacuumed_chunks(node, 'public.small_r2')
  FROM unnest(ARRAY['dn1', 'dn2', 'dn3']::name[]) node;
SELECT last_vacuum IS NOT NULL AS local_vacuumed FROM pg_stat_user_tables WHERE relname = 'local_v';
SELECT reltuples FROM pg_class WHERE relname = 'small_r2';
VACUUM (ANALYZE, PARALLEL 1, INDEX_CLEANUP off) small_r2;
SELECT reltuples FROM pg_class WHERE relname = 'small_r2';
BEGIN;
VACUUM small_r2;
ROLLBACK;
DROP TABLE local_v;
DROP FUNCTION vacuumed_chunks(name, text);

-- ANALYZE needs the table's owner, as for any table
CREATE ROLE analyze_stranger;
SET ROLE analyze_stranger;
ANALYZE small;
VACUUM small;
RESET ROLE;
DROP ROLE analyze_stranger;

-- a foreign table of one data node, and one on a view there (no size known:
-- its first rows are the sample)
CALL distributed_exec($$CREATE TABLE plain_t AS SELECT g AS a FROM generate_series(1, 5000) g;
                        CREATE VIEW plain_v AS SELECT * FROM plain_t$$, ARRAY['dn1']);
CREATE FOREIGN TABLE ft (a int) SERVER dn1 OPTIONS (table_name 'plain_t');
CREATE FOREIGN TABLE fv (a int) SERVER dn1 OPTIONS (table_name 'plain_v');
ANALYZE ft, fv;
SELECT relname, reltuples FROM pg_class WHERE relname IN ('ft', 'fv') ORDER BY 1;
SELECT * FROM col_stats('ft');

DROP FOREIGN TABLE ft, fv;
CALL distributed_exec('DROP VIEW plain_v; DROP TABLE plain_t', ARRAY['dn1']);
DROP TABLE small, small_r2, big, later;
DROP FUNCTION col_stats(regclass), estimated_rows(text), unanalyzed_chunks(name, text);
