--
-- DISTINCT ON (k) ... ORDER BY k, ... as a walk of the keys on each data
-- node (the lastpoint query), and ORDER BY <grouping keys> LIMIT n shipped
-- with the partial aggregation, a time bucket's newest buckets read alone.
-- Every query runs on two distributed hypertables (replication factor 1
-- and 2: nodes holding replicas they are not read from filter chunks in
-- every part of the query) and on a local table with the same rows, and
-- must return the same rows in the same order.  Needs dn1..dn3.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

-- 7 hosts, one of them NULL, 2 rows per host and minute (ties in time, with
-- different dev), over 16 hours; partitioned by dev, so every host's rows
-- are on every node and in every chunk
CREATE TABLE sk_loc (time timestamptz NOT NULL, host text, dev int, val float8);
INSERT INTO sk_loc
SELECT '2024-01-01'::timestamptz + (i / 14) * interval '1 minute',
       CASE WHEN i % 7 <> 6 THEN 'h' || i % 7 END, i % 5,
       CASE WHEN i % 11 <> 0 THEN i END
  FROM generate_series(0, 13439) i;
CREATE TABLE sk1 (LIKE sk_loc);
SELECT table_name FROM create_distributed_hypertable('sk1', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '6 hours',
  replication_factor => 1);
CREATE TABLE sk2 (LIKE sk_loc);
SELECT table_name FROM create_distributed_hypertable('sk2', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '6 hours',
  replication_factor => 2);
INSERT INTO sk1 SELECT * FROM sk_loc;
INSERT INTO sk2 SELECT * FROM sk_loc;

-- without statistics the access node cannot tell keys are few: plain DISTINCT ON
EXPLAIN (VERBOSE, COSTS OFF)
SELECT DISTINCT ON (host) * FROM sk1 ORDER BY host, time DESC;
ANALYZE sk1, sk2, sk_loc;

SELECT left(c.q, 70) AS query, r.*
  FROM (VALUES
    ('SELECT DISTINCT ON (host) * FROM TBL ORDER BY host, time DESC, dev'),
    ('SELECT DISTINCT ON (host) * FROM TBL ORDER BY host DESC, time, dev DESC'),
    ('SELECT DISTINCT ON (host) * FROM TBL ORDER BY host NULLS FIRST, time DESC, dev'),
    ('SELECT DISTINCT ON (host) * FROM TBL ORDER BY host DESC NULLS LAST, time DESC, dev'),
    ('SELECT DISTINCT ON (host) host, val FROM TBL ORDER BY host, val DESC NULLS FIRST'),
    ('SELECT DISTINCT ON (host) host, val FROM TBL ORDER BY host, val NULLS FIRST'),
    ('SELECT DISTINCT ON (host) * FROM TBL WHERE val > 100 AND dev <> 2
      ORDER BY host, time DESC, dev'),
    ($$SELECT DISTINCT ON (host) * FROM TBL WHERE time < '2024-01-01 07:00'
      ORDER BY host, time DESC, dev$$),
    ($$SELECT DISTINCT ON (host) * FROM TBL WHERE host > 'h2'
      ORDER BY host, time DESC, dev$$),
    ('SELECT DISTINCT ON (host) * FROM TBL ORDER BY host, time DESC, dev LIMIT 3 OFFSET 2'),
    ('SELECT DISTINCT ON (host) * FROM TBL ORDER BY host DESC, time DESC, dev LIMIT 2'),
    ('SELECT DISTINCT ON (host) * FROM TBL WHERE val > 1e9 ORDER BY host, time DESC'),
    ($$SELECT time_bucket('1 hour', time) AS b, max(val), count(*) FROM TBL
      GROUP BY b ORDER BY b DESC LIMIT 3$$),
    ($$SELECT time_bucket('90 minutes', time) AS b, max(val), count(*) FROM TBL
      WHERE time < '2024-01-01 07:10' AND dev <> 1 GROUP BY b ORDER BY b DESC LIMIT 4 OFFSET 1$$),
    ($$SELECT time_bucket('1 hour', time) AS b, sum(val) FROM TBL
      GROUP BY b ORDER BY b DESC LIMIT 100$$),
    ($$SELECT time_bucket('1 hour', time) AS b, min(val), count(*) FROM TBL
      GROUP BY b ORDER BY b LIMIT 3$$),
    ('SELECT host, count(*), max(time) FROM TBL GROUP BY host ORDER BY host NULLS FIRST LIMIT 2'),
    ('SELECT host, dev, count(*) FROM TBL GROUP BY host, dev ORDER BY dev DESC, host LIMIT 4 OFFSET 3'),
    ('SELECT host, dev, count(*) FROM TBL GROUP BY host, dev ORDER BY host, count(*), dev LIMIT 4'),
    ('SELECT host, count(*) FROM TBL GROUP BY host HAVING max(val) > 13400 ORDER BY host LIMIT 2')
  ) c(q), LATERAL same_rows(replace(c.q, 'TBL', 'sk_loc'), replace(c.q, 'TBL', 'sk1'),
                            replace(c.q, 'TBL', 'sk2')) r;

-- the lastpoint query: one row per key from each node
EXPLAIN (VERBOSE, COSTS OFF)
SELECT DISTINCT ON (host) * FROM sk1 ORDER BY host, time DESC;
-- EXPLAIN (VERBOSE, COSTS OFF) of q, chunk names without their numbers
CREATE FUNCTION explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, '_dist_hyper_\d+_\d+_chunk', '_dist_hyper_N_N_chunk', 'g');
  END LOOP;
END
$$;
-- quals in every part, and the chunk filter of a node holding replicas
SELECT explain($$SELECT DISTINCT ON (host) host, time, val FROM sk2 WHERE val > 100
 ORDER BY host DESC NULLS LAST, time, dev LIMIT 2 OFFSET 1$$);
-- many rows per key only: DISTINCT ON over a nearly unique column stays
EXPLAIN (VERBOSE, COSTS OFF)
SELECT DISTINCT ON (val) val, time FROM sk1 ORDER BY val, time DESC;
-- an ORDER BY the walk's UNION cannot name, and the setting: DISTINCT ON stays
EXPLAIN (VERBOSE, COSTS OFF)
SELECT DISTINCT ON (host) host, val FROM sk1 ORDER BY host, val * 2;
SET hyperdist.enable_skip_scan = off;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT DISTINCT ON (host) * FROM sk1 ORDER BY host, time DESC;
RESET hyperdist.enable_skip_scan;

-- groupby-orderby-limit: each node returns its newest 5 buckets, from the
-- rows after the start of its 5th newest
SELECT explain($$SELECT time_bucket('1 hour', time) AS b, max(val) FROM sk2
 WHERE time < '2024-01-01 09:00' GROUP BY b ORDER BY b DESC LIMIT 3 OFFSET 2$$);
-- oldest first, or grouped by more than the bucket: the groups are limited
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time_bucket('1 hour', time) AS b, max(val) FROM sk1 GROUP BY b ORDER BY b LIMIT 2;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, dev, count(*) FROM sk1 GROUP BY host, dev ORDER BY dev DESC, host LIMIT 4;
-- ORDER BY not all the keys, an aggregate, or HAVING: each node sends every group
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, dev, count(*) FROM sk1 GROUP BY host, dev ORDER BY host LIMIT 4;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, count(*) FROM sk1 GROUP BY host ORDER BY count(*) DESC, host LIMIT 2;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, count(*) FROM sk1 GROUP BY host HAVING max(val) > 0 ORDER BY host LIMIT 2;

-- ---- clean up -------------------------------------------------------------------
DROP TABLE sk1, sk2, sk_loc;
DROP FUNCTION explain(text);
