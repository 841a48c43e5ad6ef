--
-- Filters through reference tables: `x IN (SELECT k FROM ref ...)` and
-- inner joins `x = ref.k` with conditions on ref give the scan of the
-- distributed hypertable `x = ANY (ARRAY(SELECT k FROM ref ...))`, which it
-- ships with the array as a parameter (fdw/reference_filter.c).  Every query
-- runs on two distributed hypertables (replication factor 1 and 2) and on a
-- local table with the same rows, with the same tags in a reference table
-- and in a local one, and must return the same rows.  Needs dn1..dn3.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE rf_tags_loc (id int PRIMARY KEY, hostname text, region text, threshold float8);
INSERT INTO rf_tags_loc
SELECT g, CASE WHEN g <> 7 THEN 'host_' || g END, 'r' || g % 3, g * 10
  FROM generate_series(1, 12) g;
CREATE TABLE rf_tags (LIKE rf_tags_loc INCLUDING ALL);
INSERT INTO rf_tags SELECT * FROM rf_tags_loc;
SELECT create_reference_table('rf_tags');

-- 12 hosts' rows every 5 minutes for 10 hours, tags_id 1..12 and NULL
CREATE TABLE rf_loc (time timestamptz NOT NULL, tags_id int, hostname text, val float8);
INSERT INTO rf_loc
SELECT '2024-01-01'::timestamptz + (i / 13) * interval '5 minutes',
       NULLIF(i % 13, 0), 'host_' || i % 13, (i * 37) % 101
  FROM generate_series(0, 1559) i;
CREATE TABLE rf1 (LIKE rf_loc);
SELECT table_name FROM create_distributed_hypertable('rf1', 'time', 'hostname',
  number_partitions => 3, chunk_time_interval => interval '3 hours',
  replication_factor => 1);
CREATE TABLE rf2 (LIKE rf_loc);
SELECT table_name FROM create_distributed_hypertable('rf2', 'time', 'hostname',
  number_partitions => 3, chunk_time_interval => interval '3 hours',
  replication_factor => 2);
INSERT INTO rf1 SELECT * FROM rf_loc;
INSERT INTO rf2 SELECT * FROM rf_loc;
ANALYZE rf1, rf2, rf_loc, rf_tags, rf_tags_loc;

-- The filter ships: the data nodes receive the keys as an array parameter.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time_bucket('1 hour', time) AS h, max(val) FROM rf1
 WHERE tags_id IN (SELECT id FROM rf_tags WHERE hostname IN ('host_1', 'host_5'))
   AND time >= '2024-01-01 02:00' AND time < '2024-01-01 05:00'
 GROUP BY h ORDER BY h;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT r.time, t.hostname, r.val FROM rf2 r JOIN rf_tags t ON t.id = r.tags_id
 WHERE t.region = 'r1' AND r.time < '2024-01-01 00:30';
-- on the space column, the keys prune chunks when the scan starts: only the
-- node of host_3's partition is read (not shown by plain EXPLAIN, which
-- does not run the InitPlan)
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM rf1 WHERE hostname IN (SELECT hostname FROM rf_tags WHERE id = 3);
-- as does any InitPlan of the statement: an uncorrelated scalar subquery
-- bounding time reads only the chunks after it
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM rf2 WHERE time > (SELECT max(time) - interval '1 hour' FROM rf_loc);
-- a local table is not a reference table: the semi-join stays here
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rf1 WHERE tags_id IN (SELECT id FROM rf_tags_loc WHERE region = 'r1');

-- each query with TBL and TAGS the local tables, then the distributed
-- hypertables with the reference table
CREATE FUNCTION variants(q text) RETURNS text[] LANGUAGE sql AS $$
  SELECT ARRAY[replace(replace(q, 'TBL', 'rf_loc'), 'TAGS', 'rf_tags_loc'),
               replace(replace(q, 'TBL', 'rf1'), 'TAGS', 'rf_tags'),
               replace(replace(q, 'TBL', 'rf2'), 'TAGS', 'rf_tags')]
$$;

SELECT left(regexp_replace(c.q, '\s+', ' ', 'g'), 90) AS query, r.*
  FROM (VALUES
    ($$SELECT time_bucket('1 hour', time) AS h, max(val) FROM TBL
      WHERE tags_id IN (SELECT id FROM TAGS WHERE hostname IN ('host_1', 'host_5'))
      GROUP BY h ORDER BY h$$),
    -- NULL keys in the reference table, NULL tags_id in the hypertable
    ($$SELECT count(*), sum(val) FROM TBL
      WHERE hostname IN (SELECT hostname FROM TAGS WHERE region = 'r1')$$),
    ($$SELECT count(*) FROM TBL WHERE tags_id IN (SELECT id FROM TAGS WHERE id > 100)$$),
    ($$SELECT count(*) FROM TBL WHERE tags_id NOT IN (SELECT id FROM TAGS WHERE region = 'r1')$$),
    ($$SELECT count(*) FROM TBL
      WHERE tags_id IN (SELECT id FROM TAGS WHERE region = 'r1') OR val > 95$$),
    ($$SELECT count(*) FROM TBL r
      WHERE hostname IN (SELECT hostname FROM TAGS t WHERE t.id = r.tags_id)$$),
    ($$SELECT count(*) FROM TBL WHERE tags_id IN (SELECT id FROM TAGS WHERE random() < 2)$$),
    ($$SELECT count(*) FROM TBL WHERE tags_id + 1 IN (SELECT id FROM TAGS WHERE region = 'r2')$$),
    ($$SELECT count(*) FROM TBL WHERE tags_id IN (SELECT max(id) FROM TAGS GROUP BY region)$$),
    -- inner joins, the condition in WHERE or in ON, either side first
    ($$SELECT r.time, t.hostname, r.val FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      WHERE t.region = 'r1' ORDER BY 1, 2$$),
    ($$SELECT r.time, t.hostname, r.val FROM TAGS t, TBL r
      WHERE r.tags_id = t.id AND t.hostname LIKE 'host_1%' ORDER BY 1, 2$$),
    ($$SELECT r.time, t.hostname FROM TBL r JOIN TAGS t ON r.tags_id = t.id AND t.region = 'r2'
      ORDER BY 1, 2$$),
    ($$SELECT count(*) FROM TBL r JOIN TAGS t ON r.val < t.threshold WHERE t.id = 3$$),
    -- outer joins keep the rows the filter would drop
    ($$SELECT count(*), count(t.id) FROM TBL r LEFT JOIN TAGS t
      ON r.tags_id = t.id AND t.region = 'r1'$$),
    ($$SELECT count(*), count(r.val) FROM TAGS t LEFT JOIN TBL r ON r.tags_id = t.id
      WHERE t.region = 'r0'$$),
    ($$SELECT t.hostname, a.n FROM TAGS t JOIN (SELECT tags_id, count(*) AS n FROM TBL
      GROUP BY tags_id) a ON a.tags_id = t.id WHERE t.region = 'r0' ORDER BY 1$$),
    ($$WITH w AS (SELECT * FROM TBL WHERE tags_id IN (SELECT id FROM TAGS WHERE region = 'r2'))
      SELECT count(*), max(val) FROM w$$),
    -- a subquery's value per outer row prunes nothing
    ($$SELECT t.id, (SELECT count(*) FROM TBL r WHERE r.time > (SELECT '2024-01-01'::timestamptz
      + t.id * interval '40 minutes')) FROM TAGS t ORDER BY 1$$),
    ($$SELECT count(*) FROM TBL WHERE time > (SELECT max(time) - interval '1 hour' FROM TBL)$$),
    -- a condition on the reference table reading an outer query is not copied
    ($$SELECT t0.region, (SELECT count(*) FROM TBL r JOIN TAGS t ON r.tags_id = t.id
      WHERE t.region = t0.region AND r.val > 90) FROM TAGS t0 ORDER BY 1, 2$$)
  ) AS c(q), LATERAL same_rows(VARIADIC variants(c.q)) r;

-- UPDATE and DELETE through the filter change the same rows
UPDATE rf1 SET val = -1 WHERE tags_id IN (SELECT id FROM rf_tags WHERE region = 'r2');
UPDATE rf_loc SET val = -1 WHERE tags_id IN (SELECT id FROM rf_tags_loc WHERE region = 'r2');
DELETE FROM rf2 WHERE tags_id IN (SELECT id FROM rf_tags WHERE region = 'r1');
SELECT (SELECT count(*) FROM rf1 WHERE val = -1) = (SELECT count(*) FROM rf_loc WHERE val = -1) AS same_updates,
       (SELECT count(*) FROM rf2) AS rf2_left,
       (SELECT count(*) FROM rf_loc WHERE tags_id NOT IN (SELECT id FROM rf_tags_loc WHERE region = 'r1')
           OR tags_id IS NULL) AS expected_left;

DROP FUNCTION variants;
DROP TABLE rf1, rf2, rf_loc, rf_tags, rf_tags_loc;
