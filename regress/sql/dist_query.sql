--
-- Queries on distributed hypertables: WHERE clauses the data nodes can
-- evaluate are shipped, the rest is evaluated on the access node.  Every
-- query runs on two distributed hypertables (replication factor 1 and 2)
-- and on a local table holding the same rows, and must return the same
-- rows from all three.  Needs dn1..dn3 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TYPE kind AS ENUM ('a', 'b', 'c');
CALL distributed_exec($$CREATE TYPE kind AS ENUM ('a', 'b', 'c')$$);

CREATE TABLE loc (time timestamptz NOT NULL, dev int NOT NULL, host text,
                  val float8, n numeric, flag bool, note varchar(20), k kind);
-- 48 rows over 4 days, 2 hours apart, with NULLs in every nullable column
INSERT INTO loc
SELECT '2024-01-01'::timestamptz + i * interval '2 hours', i % 4,
       CASE WHEN i % 5 <> 0 THEN 'host_' || i % 3 END,
       CASE WHEN i % 7 <> 0 THEN i * 1.5 - 20 END,
       i / 4.0,
       CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END,
       CASE WHEN i % 4 <> 0 THEN 'note ' || i END,
       (ARRAY['a', 'b', 'c', NULL]::kind[])[i % 4 + 1]
  FROM generate_series(0, 47) i;

CREATE TABLE m1 (LIKE loc);
SELECT table_name, created FROM create_distributed_hypertable('m1', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '1 day',
  replication_factor => 1);
CREATE TABLE m2 (LIKE loc);
SELECT table_name, created FROM create_distributed_hypertable('m2', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '1 day',
  replication_factor => 2);
INSERT INTO m1 SELECT * FROM loc;
INSERT INTO m2 SELECT * FROM loc;
SELECT (SELECT count(*) FROM m1) AS m1, (SELECT count(*) FROM m2) AS m2,
       (SELECT count(*) FROM loc) AS loc;

-- not built in (and not inlined): evaluated on the access node
CREATE FUNCTION plus1(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS 'BEGIN RETURN $1 + 1; END';

-- The rows of m1 and m2 that pass cond, and how many of them differ from
-- those of loc (rows of one missing from the other, either way).
CREATE FUNCTION compare(cond text,
                        OUT m1 bigint, OUT m2 bigint, OUT loc bigint,
                        OUT mismatches bigint)
LANGUAGE plpgsql AS $$
DECLARE
  t text;
  d bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM m1 WHERE %s', cond) INTO m1;
  EXECUTE format('SELECT count(*) FROM m2 WHERE %s', cond) INTO m2;
  EXECUTE format('SELECT count(*) FROM loc WHERE %s', cond) INTO loc;
  mismatches := 0;
  FOREACH t IN ARRAY ARRAY['m1', 'm2'] LOOP
    EXECUTE format('SELECT count(*) FROM ((SELECT * FROM %1$I WHERE %2$s
                      EXCEPT ALL SELECT * FROM loc WHERE %2$s)
                    UNION ALL (SELECT * FROM loc WHERE %2$s
                      EXCEPT ALL SELECT * FROM %1$I WHERE %2$s)) d', t, cond)
      INTO d;
    mismatches := mismatches + d;
  END LOOP;
END
$$;

-- ---- the corpus ------------------------------------------------------------
SELECT c.cond, r.*
  FROM (VALUES
    ('true'),
    ($$time >= '2024-01-02' AND time < '2024-01-03'$$),
    ($$time > '2024-01-03 12:00+02'$$),
    ($$time BETWEEN '2024-01-01 06:00' AND '2024-01-01 18:00'$$),
    ($$time < now()$$),
    ($$time > now() - interval '100 years' AND time <= '2024-01-02'$$),
    ($$time < '2024-01-02'::timestamptz + interval '6 hours'$$),
    ('dev = 2'),
    ('dev IN (1, 3)'),
    ('dev NOT IN (1, 3)'),
    ('dev = ANY (ARRAY[0, 2, NULL])'),
    ('dev <> ALL (ARRAY[0, 2])'),
    ($$dev = 1 OR host = 'host_2'$$),
    ($$NOT (dev = 1 OR host = 'host_2')$$),
    ('host IS NULL'),
    ('host IS NOT NULL AND val IS NULL'),
    ($$host LIKE '%_1'$$),
    ($$host NOT LIKE 'host\_2'$$),
    ($$note ILIKE 'NOTE 1%'$$),
    ($$note = 'note 7'$$),
    ('length(note) > 6'),
    ($$lower(host) = 'host_0'$$),
    ($$host < 'host_1' COLLATE "C"$$),
    ($$host IS DISTINCT FROM 'host_1'$$),
    ('val > 10'),
    ('val * 2 < -10 OR val IS NULL'),
    ('abs(val) < 5'),
    ('n >= 5.5'),
    ('n::int = 3'),
    ('dev % 2 = 0 AND n < 10'),
    ('flag'),
    ('NOT flag'),
    ('flag IS NULL'),
    ('flag IS NOT TRUE'),
    ($$k = 'b'$$),
    ($$k IN ('a', 'c')$$),
    ('plus1(dev) = 2'),
    ('dev = plus1(1)'),
    ('time < clock_timestamp()'),
    ($$time::text LIKE '2024-01-02%'$$),
    ($$to_char(time, 'HH24') = '10'$$),
    ('val::numeric = n'),
    ('dev = 1 AND plus1(dev) = 2 AND val > 0'),
    ($$CASE time WHEN '2024-01-02'::date THEN true ELSE dev = 1 END$$),
    ($$CASE dev WHEN 1 THEN time > now() - interval '100 years' ELSE host = 'host_1' END$$)
  ) c(cond), LATERAL compare(c.cond) r;

-- ---- what is shipped ---------------------------------------------------------
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time, val FROM m1
 WHERE time >= '2024-01-02' AND time < '2024-01-03' AND dev IN (1, 3);
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM m2 WHERE (host LIKE 'host%' OR note IS NULL) AND NOT flag
   AND val IS DISTINCT FROM 1.5 AND n <> 2.25;
-- user-defined, volatile and collation-dependent quals stay here; a value
-- without a column (now() - ...) is computed here and sent as a parameter
EXPLAIN (VERBOSE, COSTS OFF)
SELECT dev FROM m1 WHERE plus1(dev) = 2 AND time < clock_timestamp()
   AND time > now() - interval '100 years' AND host < 'host_1' COLLATE "C"
   AND k = 'b' AND dev = 1;
-- no column needed remotely but the quals'
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM m1 WHERE val > 10;
SELECT count(*) FROM m1 WHERE val > 10;

-- ---- chunk pruning: only the data nodes with chunks left are queried -----------
-- all chunks: 4 days, 3 space partitions (replication factor 2: each chunk
-- is read from one of its replicas)
EXPLAIN (COSTS OFF) SELECT * FROM m1;
EXPLAIN (COSTS OFF) SELECT * FROM m2;
-- time: one day, then one day and a half (slices are days)
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time >= '2024-01-02' AND time < '2024-01-03';
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE '2024-01-03 12:00' < time;
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time <= '2024-01-01 00:00';
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time = '2024-01-04 10:00';
-- space: a value, an IN list, an array with NULL
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE dev = 2;
EXPLAIN (COSTS OFF) SELECT * FROM m2 WHERE dev = 2;
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE dev IN (1, 3) AND time < '2024-01-02';
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE dev = ANY (ARRAY[0, NULL]);
-- stable expressions, computed when the scan starts
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time > now();
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time > now() - interval '100 years';
EXPLAIN (COSTS OFF) SELECT * FROM m1
 WHERE time >= '2024-01-02'::timestamptz + interval '2 days';
-- nothing can match
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time > '2024-01-03' AND time < '2024-01-02';
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE dev = ANY ('{}');
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE dev = NULL::int;
-- not pruning: OR, a function of the column, another type, infinity
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE dev = 1 OR time < '2024-01-02';
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE plus1(dev) = 2;
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time < '2024-01-02'::date;
EXPLAIN (COSTS OFF) SELECT * FROM m1 WHERE time < 'infinity';
SELECT c.cond, r.*
  FROM (VALUES
    ($$time <= '2024-01-01 00:00'$$),
    ($$time = '2024-01-04 10:00'$$),
    ('dev IN (1, 3) AND time < $$2024-01-02$$'),
    ($$time > now()$$),
    ($$time >= '2024-01-02'::timestamptz + interval '2 days'$$),
    ($$time > '2024-01-03' AND time < '2024-01-02'$$),
    ($$dev = ANY ('{}')$$),
    ('dev = NULL::int'),
    ($$time < '2024-01-02'::date$$),
    ($$time < 'infinity' AND time > '-infinity'$$)
  ) c(cond), LATERAL compare(c.cond) r;

-- ---- joins with the local table ----------------------------------------------
SELECT count(*), sum(m1.val)
  FROM m1 JOIN loc USING (time, dev) WHERE m1.dev = 2 AND loc.flag;
SELECT count(*), sum(loc.val)
  FROM loc WHERE dev = 2 AND flag;
-- a correlated subquery: the outer row's values are remote parameters
EXPLAIN (VERBOSE, COSTS OFF)
SELECT l.time, (SELECT count(*) FROM m2 WHERE m2.dev = l.dev AND m2.time <= l.time)
  FROM loc l WHERE l.time < '2024-01-01 08:00';
SELECT l.time, l.dev,
       (SELECT count(*) FROM m2 WHERE m2.dev = l.dev AND m2.time <= l.time) AS m2,
       (SELECT count(*) FROM loc x WHERE x.dev = l.dev AND x.time <= l.time) AS loc
  FROM loc l WHERE l.time < '2024-01-01 08:00' ORDER BY 1;

-- ---- prepared statements: parameters are sent to the data nodes ------------
PREPARE q(int, timestamptz, text) AS
SELECT count(*) FROM ((SELECT * FROM m1 WHERE dev = $1 AND time >= $2
                        AND (host = $3 OR host IS NULL)
                        EXCEPT ALL SELECT * FROM loc WHERE dev = $1 AND time >= $2
                        AND (host = $3 OR host IS NULL))
                      UNION ALL (SELECT * FROM loc WHERE dev = $1 AND time >= $2
                        AND (host = $3 OR host IS NULL)
                        EXCEPT ALL SELECT * FROM m1 WHERE dev = $1 AND time >= $2
                        AND (host = $3 OR host IS NULL))) d;
PREPARE c(int, timestamptz, text) AS
SELECT count(*) FROM m2 WHERE dev = $1 AND time >= $2 AND (host = $3 OR host IS NULL);
PREPARE e(int[]) AS SELECT time, dev FROM m1 WHERE dev = ANY ($1) AND val > 20 ORDER BY 1;
EXECUTE q(1, '2024-01-02', 'host_1');
EXECUTE c(1, '2024-01-02', 'host_1');
EXECUTE c(2, '2024-01-03 12:00', 'host_2');
EXECUTE c(2, NULL, 'host_2');
EXECUTE e('{1,3}');
SET plan_cache_mode = force_generic_plan;
-- the chunks are chosen as each execution starts
EXPLAIN (COSTS OFF) EXECUTE c(2, '2024-01-03 12:00', 'host_2');
EXPLAIN (COSTS OFF) EXECUTE c(2, NULL, 'host_2');
EXECUTE c(2, NULL, 'host_2');
EXPLAIN (COSTS OFF) EXECUTE e('{}');
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE c(1, '2024-01-02', 'host_1');
EXECUTE q(1, '2024-01-02', 'host_1');
EXECUTE q(3, '2024-01-01 12:00', 'host_0');
EXECUTE c(1, '2024-01-02', 'host_1');
EXECUTE c(2, '2024-01-03 12:00', 'host_2');
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE e('{1,3}');
EXECUTE e('{1,3}');
EXECUTE e('{}');
-- scans run as COPY, which takes no parameters: their values are written
-- into the statement as literals; quotes, backslashes and "$1" stay data
EXECUTE q(1, '2024-01-02', E'o''ne\\il"$1');
EXECUTE c(1, '2024-01-02', E'o''ne\\il"$1');
EXECUTE c(1, NULL, E'$1$2');
-- the parameters are printed for the data nodes whatever the local DateStyle
SET datestyle = 'SQL, DMY';
EXECUTE c(1, '2024-01-02', 'host_1');
EXECUTE c(2, '03/01/2024 12:00', 'host_2');
SELECT count(*) FROM m1 WHERE time >= '02/01/2024';
RESET datestyle;
RESET plan_cache_mode;
DEALLOCATE q;
DEALLOCATE c;
DEALLOCATE e;

-- ---- aggregates: computed partially on the data nodes, combined here -------
-- The rows of query q (with TBL for the table) on m1 and m2, and how many
-- differ from its rows on loc.  Floats are rounded by the queries: sums
-- combined from several nodes may differ in the last bits, as in a
-- parallel query.
CREATE FUNCTION compare_query(q text, OUT m1 bigint, OUT m2 bigint,
                              OUT loc bigint, OUT mismatches bigint)
LANGUAGE plpgsql AS $$
DECLARE
  t text;
  d bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) s', replace(q, 'TBL', 'm1')) INTO m1;
  EXECUTE format('SELECT count(*) FROM (%s) s', replace(q, 'TBL', 'm2')) INTO m2;
  EXECUTE format('SELECT count(*) FROM (%s) s', replace(q, 'TBL', 'loc')) INTO loc;
  mismatches := 0;
  FOREACH t IN ARRAY ARRAY['m1', 'm2'] LOOP
    EXECUTE format('SELECT count(*) FROM (((%1$s) EXCEPT ALL (%2$s))
                    UNION ALL ((%2$s) EXCEPT ALL (%1$s))) d',
                   replace(q, 'TBL', t), replace(q, 'TBL', 'loc'))
      INTO d;
    mismatches := mismatches + d;
  END LOOP;
END
$$;
SELECT left(c.q, 60) AS query, r.*
  FROM (VALUES
    ('SELECT count(*), count(val), count(host), sum(dev), sum(n), avg(n), avg(dev),
            round(avg(val)::numeric, 9), round(sum(val)::numeric, 9),
            min(host), max(note), min(time), max(n), bool_and(flag), bool_or(flag)
       FROM TBL'),
    ('SELECT dev, count(*), sum(n), round(avg(val)::numeric, 9) FROM TBL GROUP BY dev'),
    ('SELECT host, count(*), min(val), max(time) FROM TBL GROUP BY host'),
    ($$SELECT date_bin('6 hours', time, '2000-01-03'), host, max(val), count(*)
        FROM TBL WHERE time > '2024-01-02' GROUP BY 1, 2$$),
    ('SELECT dev, round(stddev(val)::numeric, 9), round(var_pop(val)::numeric, 9),
            stddev(n), variance(n), var_samp(dev), stddev_pop(dev)
       FROM TBL GROUP BY dev'),
    ('SELECT dev % 2, round(corr(val, dev)::numeric, 9),
            round(regr_slope(val, n::float8)::numeric, 9), count(*) FILTER (WHERE flag)
       FROM TBL GROUP BY 1'),
    ('SELECT upper(host), dev + 1, count(*) FROM TBL GROUP BY host, dev'),
    ('SELECT note, sum(dev) FROM TBL GROUP BY note HAVING count(*) > 0 AND sum(dev) > 1'),
    ('SELECT host, count(*) FROM TBL GROUP BY host HAVING avg(val) > 10 OR max(dev) = 0'),
    ($$SELECT dev, count(*) FROM TBL WHERE host = 'host_1' AND val IS NOT NULL GROUP BY dev$$),
    ($$SELECT count(*), sum(val) FROM TBL WHERE time > '2025-01-01'$$),
    ($$SELECT dev, count(*) FROM TBL WHERE time > '2025-01-01' GROUP BY dev$$),
    ('SELECT 1, count(*) FROM TBL GROUP BY 1'),
    ('SELECT CASE WHEN val > 0 THEN 1 ELSE 0 END, coalesce(host, $$none$$),
            count(*), sum(greatest(dev, 2)) FROM TBL GROUP BY 1, 2'),
    ('SELECT dev, count(DISTINCT host), string_agg(note, $$,$$ ORDER BY note) FROM TBL GROUP BY dev'),
    ('SELECT k, count(*), max(k) FROM TBL GROUP BY k'),
    ('SELECT dev, host, count(*) FROM TBL GROUP BY ROLLUP (dev, host)'),
    ('SELECT plus1(dev), count(*) FROM TBL GROUP BY 1'),
    ('SELECT dev, count(*) FROM TBL WHERE plus1(dev) > 1 GROUP BY dev'),
    ('SELECT dev, sum(n) FROM TBL GROUP BY dev ORDER BY 2 DESC, 1 LIMIT 2'),
    ('SELECT DISTINCT ON (dev) * FROM TBL ORDER BY dev, time DESC'),
    ('SELECT DISTINCT ON (host) host, time, val FROM TBL
      ORDER BY host, val DESC NULLS LAST, time'),
    ('SELECT DISTINCT ON (dev) dev, time FROM TBL ORDER BY dev, time LIMIT 2'),
    ('SELECT time, dev, val FROM TBL ORDER BY val DESC NULLS LAST, time LIMIT 5'),
    ($$SELECT time, dev FROM TBL WHERE host = 'host_1' ORDER BY time LIMIT 4 OFFSET 3$$),
    ('SELECT time, host FROM TBL ORDER BY host NULLS FIRST, time DESC LIMIT 7'),
    ('SELECT note, time FROM TBL ORDER BY note DESC, time LIMIT 6'),
    ('SELECT time FROM TBL WHERE plus1(dev) = 2 ORDER BY time LIMIT 3'),
    ('SELECT count(*) FROM (SELECT * FROM TBL LIMIT 10) s'),
    ('SELECT time, val FROM TBL ORDER BY val * 2, time LIMIT 0'),
    ('SELECT DISTINCT host FROM TBL'),
    ('SELECT DISTINCT host, dev FROM TBL ORDER BY host, dev LIMIT 5'),
    ('SELECT DISTINCT upper(host) FROM TBL ORDER BY 1 LIMIT 2'),
    ('SELECT DISTINCT dev % 2, flag FROM TBL'),
    ('SELECT dev, first(val, time), last(val, time), first(n, time), last(time, time)
       FROM TBL GROUP BY dev'),
    ('SELECT host, first(val, time) FILTER (WHERE val > 0), last(dev, n), first(flag, n)
       FROM TBL GROUP BY host'),
    ($$SELECT date_bin('1 day', time, '2000-01-03'), first(val, time), last(val, time)
        FROM TBL WHERE time > '2024-01-02' GROUP BY 1$$),
    ('SELECT first(note, time), last(k, time), first(val, time) FROM TBL')
  ) c(q), LATERAL compare_query(c.q) r;
-- the data nodes group and aggregate; one row per group and node comes back
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*), avg(n), sum(val) FROM m1;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT date_bin('1 hour', time, '2000-01-03'), dev, max(val) FROM m1
 GROUP BY 1, 2 HAVING count(*) > 1;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, stddev(n) FILTER (WHERE flag), count(*) FROM m2
 WHERE dev = 2 GROUP BY host;
-- first/last: each node sends the bytes of their state, built from min/max
EXPLAIN (VERBOSE, COSTS OFF) SELECT dev, last(val, time) FROM m1 GROUP BY dev;
-- what cannot be computed partially is computed here, on the rows
EXPLAIN (VERBOSE, COSTS OFF) SELECT dev, count(DISTINCT host) FROM m1 GROUP BY dev;
EXPLAIN (VERBOSE, COSTS OFF) SELECT dev, count(*) FROM m1 WHERE plus1(dev) > 1 GROUP BY dev;
-- DISTINCT ON and ORDER BY ... LIMIT: each data node sends its first rows
EXPLAIN (VERBOSE, COSTS OFF)
SELECT DISTINCT ON (dev) dev, time, val FROM m2 ORDER BY dev, time DESC;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time, val FROM m1 WHERE dev > 0 ORDER BY val DESC, time LIMIT 3 OFFSET 1;
-- DISTINCT: the nodes de-duplicate; LIMIT only when the columns are the list
EXPLAIN (VERBOSE, COSTS OFF) SELECT DISTINCT host, dev FROM m1 LIMIT 4;
EXPLAIN (VERBOSE, COSTS OFF) SELECT DISTINCT upper(host) FROM m1 LIMIT 4;
-- a local qual, or an order the data nodes could see differently: not shipped
EXPLAIN (VERBOSE, COSTS OFF) SELECT time FROM m1 WHERE plus1(dev) = 2 LIMIT 3;
EXPLAIN (VERBOSE, COSTS OFF) SELECT time FROM m1 ORDER BY host COLLATE "C" LIMIT 3;
-- EXPLAIN ANALYZE: the rows each data node sent
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*), max(val) FROM m1 WHERE dev <> 1;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT time FROM m2 ORDER BY time LIMIT 2;
-- hyperdist.enable_remote_explain: each data node's own plan
SET hyperdist.enable_remote_explain = on;
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM m1 WHERE val > 100;
RESET hyperdist.enable_remote_explain;
-- prepared, generic plan: parameters and pruning as in scans
PREPARE a(timestamptz) AS
SELECT dev, count(*), sum(n) FROM m2 WHERE time >= $1 GROUP BY dev ORDER BY dev;
SET plan_cache_mode = force_generic_plan;
EXECUTE a('2024-01-03');
SELECT dev, count(*), sum(n) FROM loc WHERE time >= '2024-01-03' GROUP BY dev ORDER BY dev;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE a('2024-01-04');
RESET plan_cache_mode;
DEALLOCATE a;
-- a remote error in an aggregate's argument names the data node
SELECT sum(1 / (dev - dev)) FROM m1 WHERE dev = 1;
-- the helper aggregates have the built-ins' combine functions: a data node
-- can compute partial states with a parallel plan (forced here)
BEGIN;
SELECT * FROM _hyperdist_functions.data_node_query('dn1', $$
  SELECT set_config('parallel_setup_cost', '0', true),
         set_config('parallel_tuple_cost', '0', true),
         set_config('min_parallel_table_scan_size', '0', true),
         set_config('max_parallel_workers_per_gather', '2', true)$$)
  AS t(a text, b text, c text, d text);
SELECT * FROM _hyperdist_functions.data_node_query('dn1', $$
  EXPLAIN (COSTS OFF) SELECT _hyperdist_partial.avg(val), _hyperdist_partial.stddev(n)
  FROM m1$$) AS t(plan text);
SELECT round(avg(val)::numeric, 9), round(stddev(n), 9), round(avg(val) FILTER (WHERE n > 10)::numeric, 9)
  FROM m1;
ROLLBACK;
SELECT round(avg(val)::numeric, 9), round(stddev(n), 9), round(avg(val) FILTER (WHERE n > 10)::numeric, 9)
  FROM loc;

-- a data node whose helper aggregates are missing or outdated (added by an
-- older build) cannot compute avg's state, and says so; add_data_node with
-- if_not_exists brings them up to date
CALL distributed_exec('DROP AGGREGATE _hyperdist_partial.avg(float8)', ARRAY['dn2']);
SELECT avg(val) FROM m1;
SELECT node_name, node_created FROM add_data_node('dn2', 'localhost', if_not_exists => true);
SELECT round(avg(val)::numeric, 9) FROM m1;

-- ---- clean up -------------------------------------------------------------------
DROP TABLE m1, m2, loc;
DROP FUNCTION compare(text), compare_query(text), plus1(int);
DROP TYPE kind;
CALL distributed_exec('DROP TYPE kind');
