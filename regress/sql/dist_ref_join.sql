--
-- Joins with reference tables run on the data nodes (fdw/join.c): an inner
-- join, or a LEFT JOIN keeping the hypertable's rows, of a distributed
-- hypertable with reference tables ships "... FROM <hypertable> r1 JOIN
-- <reference table> r2 ON (...)" to each data node, which joins with its
-- copy; grouped, each node returns partial aggregates of its joined rows.
-- Semi- and anti-joins (EXISTS, NOT EXISTS, LEFT JOIN ... IS NULL) ship
-- "... WHERE [NOT] EXISTS (SELECT NULL FROM <reference table> ...)": each
-- node decides them alone with its copy.  EXPLAIN names the joined tables.
-- Every query runs on two distributed hypertables (replication factor 1 and
-- 2) and on a local table with the same rows, with the tags in reference
-- tables and in local ones, and must return the same rows.  Needs dn1..dn3.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

-- tags 1..10 (tag 4 without region), and no tag 11 or 12 for some rows
CREATE TABLE rj_tags_loc (id int PRIMARY KEY, hostname text, region text, weight int);
INSERT INTO rj_tags_loc
SELECT g, 'host_' || g, CASE WHEN g <> 4 THEN 'r' || g % 3 END, g * 10
  FROM generate_series(1, 10) g;
CREATE TABLE rj_regions_loc (region text PRIMARY KEY, zone text);
INSERT INTO rj_regions_loc VALUES ('r0', 'north'), ('r1', 'south');
CREATE TABLE rj_tags (LIKE rj_tags_loc INCLUDING ALL);
INSERT INTO rj_tags SELECT * FROM rj_tags_loc;
SELECT create_reference_table('rj_tags');
CREATE TABLE rj_regions (LIKE rj_regions_loc INCLUDING ALL);
INSERT INTO rj_regions SELECT * FROM rj_regions_loc;
SELECT create_reference_table('rj_regions');

-- rows every 10 minutes for 8 hours, tags_id 1..12 and NULL
CREATE TABLE rj_loc (time timestamptz NOT NULL, tags_id int, hostname text, val float8);
INSERT INTO rj_loc
SELECT '2024-01-01'::timestamptz + (i / 13) * interval '10 minutes',
       NULLIF(i % 13, 0), 'host_' || i % 13, (i * 37) % 101
  FROM generate_series(0, 623) i;
CREATE TABLE rj1 (LIKE rj_loc);
SELECT table_name FROM create_distributed_hypertable('rj1', 'time', 'hostname',
  number_partitions => 3, chunk_time_interval => interval '3 hours',
  replication_factor => 1);
CREATE TABLE rj2 (LIKE rj_loc);
SELECT table_name FROM create_distributed_hypertable('rj2', 'time', 'hostname',
  number_partitions => 3, chunk_time_interval => interval '3 hours',
  replication_factor => 2);
INSERT INTO rj1 SELECT * FROM rj_loc;
INSERT INTO rj2 SELECT * FROM rj_loc;
ANALYZE rj1, rj2, rj_loc, rj_tags, rj_tags_loc, rj_regions, rj_regions_loc;

-- The join runs on the data nodes: each joins its chunks' rows with its
-- copy of the reference table.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT r.time, t.hostname, r.val FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id
 WHERE t.region = 'r1' AND r.val > 50;
-- grouped by a column of the reference table and a bucket: partial
-- aggregates of the joined rows, combined here
EXPLAIN (VERBOSE, COSTS OFF)
SELECT t.region, time_bucket('1 hour', r.time) AS h, count(*), avg(r.val)
  FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id
 GROUP BY 1, 2 HAVING count(*) > 5;
-- LEFT JOIN keeping the hypertable's rows: the reference table's own
-- conditions stay in ON, a condition on the join's result goes to WHERE
EXPLAIN (VERBOSE, COSTS OFF)
SELECT t.hostname, count(*) FROM rj1 r
  LEFT JOIN rj_tags t ON t.id = r.tags_id AND t.weight > 20
 WHERE t.region IS NULL GROUP BY 1;
-- two reference tables, one after the other
EXPLAIN (VERBOSE, COSTS OFF)
SELECT g.zone, sum(r.val) FROM rj1 r
  JOIN rj_tags t ON t.id = r.tags_id
  LEFT JOIN rj_regions g ON g.region = t.region
 GROUP BY 1;
-- EXISTS on a column that is no key of the reference table: a semi-join,
-- its subquery's quals on the reference table inside EXISTS
EXPLAIN (VERBOSE, COSTS OFF)
SELECT r.time, r.val FROM rj1 r
 WHERE EXISTS (SELECT 1 FROM rj_tags t WHERE t.hostname = r.hostname AND t.region = 'r1')
   AND r.val > 50;
-- NOT EXISTS after an inner join, grouped
EXPLAIN (VERBOSE, COSTS OFF)
SELECT t.region, count(*) FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id
 WHERE NOT EXISTS (SELECT 1 FROM rj_regions g WHERE g.region = t.region)
 GROUP BY 1;
-- LEFT JOIN ... IS NULL is the anti-join
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM rj1 r LEFT JOIN rj_tags t ON t.id = r.tags_id AND t.weight > 20
 WHERE t.id IS NULL;
-- plain EXPLAIN: the relations, as postgres_fdw shows them
EXPLAIN (COSTS OFF)
SELECT r.time FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id
 WHERE NOT EXISTS (SELECT 1 FROM rj_regions g WHERE g.region = t.region);
EXPLAIN (COSTS OFF)
SELECT r.hostname, count(*) FROM rj1 r
 WHERE EXISTS (SELECT 1 FROM rj_tags t WHERE t.weight > r.val) GROUP BY 1;
-- stay here: NOT IN (NULLs make it no anti-join), a subquery reading the
-- hypertable's row besides its join columns (SubPlan), an anti-join
-- returning the reference table's (NULL) columns
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rj1 r WHERE r.tags_id NOT IN (SELECT id FROM rj_tags WHERE region = 'r1');
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rj1 r WHERE r.tags_id IN (SELECT id FROM rj_tags t WHERE t.weight > r.val);
EXPLAIN (COSTS OFF)
SELECT r.time, t.hostname FROM rj1 r LEFT JOIN rj_tags t ON t.hostname = r.hostname
 WHERE t.hostname IS NULL;

-- Joins that stay here: the reference table's unmatched rows would come
-- from every data node (its LEFT JOIN, FULL JOIN); a function the data
-- nodes do not know; a security_barrier view; a view's owner reading it
CREATE FUNCTION rj_plus(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS 'BEGIN RETURN $1; END';
CREATE VIEW rj_tags_sb WITH (security_barrier) AS SELECT * FROM rj_tags WHERE weight > 30;
CREATE VIEW rj_tags_v AS SELECT * FROM rj_tags;
CREATE VIEW rj_tags_loc_sb WITH (security_barrier) AS SELECT * FROM rj_tags_loc WHERE weight > 30;
CREATE VIEW rj_tags_loc_v AS SELECT * FROM rj_tags_loc;
EXPLAIN (COSTS OFF)
SELECT count(*), count(r.val) FROM rj_tags t LEFT JOIN rj1 r ON r.tags_id = t.id;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rj1 r FULL JOIN rj_tags t ON r.tags_id = t.id;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rj1 r JOIN rj_tags t ON rj_plus(r.tags_id) = t.id;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rj1 r JOIN rj_tags_sb t ON r.tags_id = t.id;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM rj1 r JOIN rj_tags_v t ON r.tags_id = t.id;
-- whole rows and system columns are not read from the data nodes
EXPLAIN (COSTS OFF)
SELECT t, r.val FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id;
EXPLAIN (COSTS OFF)
SELECT t.ctid, r.val FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id;

-- each query with TBL, TAGS and REGIONS the local tables, then the
-- distributed hypertables with the reference tables
CREATE FUNCTION variants(q text) RETURNS text[] LANGUAGE sql AS $$
  SELECT ARRAY[replace(replace(replace(q, 'TBL', 'rj_loc'), 'TAGS', 'rj_tags_loc'), 'REGIONS', 'rj_regions_loc'),
               replace(replace(replace(q, 'TBL', 'rj1'), 'TAGS', 'rj_tags'), 'REGIONS', 'rj_regions'),
               replace(replace(replace(q, 'TBL', 'rj2'), 'TAGS', 'rj_tags'), 'REGIONS', 'rj_regions')]
$$;

SELECT left(regexp_replace(c.q, '\s+', ' ', 'g'), 90) AS query, r.*
  FROM (VALUES
    ($$SELECT r.time, t.hostname, r.val FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      ORDER BY 1, 2$$),
    ($$SELECT r.time, t.hostname, r.val FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      WHERE t.region = 'r1' AND r.val > 50 AND r.time >= '2024-01-01 02:00' ORDER BY 1, 2$$),
    ($$SELECT r.time, t.id FROM TAGS t, TBL r WHERE r.tags_id = t.id
      AND t.hostname IN ('host_2', 'host_9') AND r.hostname = 'host_2' ORDER BY 1, 2$$),
    -- grouped by reference columns, with every combined aggregate
    ($$SELECT t.region, count(*), count(r.val), sum(r.val), avg(r.val), min(r.val), max(r.val),
      min(r.time), max(t.hostname) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      GROUP BY 1 ORDER BY 1$$),
    ($$SELECT t.region, t.weight, count(*), sum(r.val) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      WHERE r.val < 80 GROUP BY 1, 2 ORDER BY 1, 2$$),
    ($$SELECT t.region, time_bucket('1 hour', r.time) AS h, count(*), avg(r.val)
      FROM TBL r JOIN TAGS t ON t.id = r.tags_id GROUP BY 1, 2 ORDER BY 1, 2$$),
    ($$SELECT t.region, r.hostname, sum(r.val) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      GROUP BY 1, 2 HAVING sum(r.val) > 1000 ORDER BY 1, 2$$),
    ($$SELECT count(*), sum(t.weight) FROM TBL r JOIN TAGS t ON r.val < t.weight$$),
    ($$SELECT t, r.val FROM TBL r JOIN TAGS t ON t.id = r.tags_id ORDER BY 1, 2$$),
    -- LEFT JOIN: tags 11 and 12 and NULL tags_id have no match
    ($$SELECT r.time, r.tags_id, t.hostname FROM TBL r LEFT JOIN TAGS t ON t.id = r.tags_id
      ORDER BY 1, 2$$),
    ($$SELECT t.hostname, count(*), count(t.id), sum(r.val) FROM TBL r
      LEFT JOIN TAGS t ON t.id = r.tags_id AND t.weight > 20 GROUP BY 1 ORDER BY 1$$),
    ($$SELECT r.tags_id, count(*) FROM TBL r LEFT JOIN TAGS t ON t.id = r.tags_id
      WHERE t.region IS NULL GROUP BY 1 ORDER BY 1$$),
    ($$SELECT count(*) FROM TBL r LEFT JOIN TAGS t ON t.id = r.tags_id WHERE t.id IS NULL$$),
    -- two reference tables
    ($$SELECT g.zone, t.region, count(*), sum(r.val) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      JOIN REGIONS g ON g.region = t.region GROUP BY 1, 2 ORDER BY 1, 2$$),
    ($$SELECT g.zone, count(*), sum(r.val) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      LEFT JOIN REGIONS g ON g.region = t.region GROUP BY 1 ORDER BY 1$$),
    ($$SELECT g.zone, count(*) FROM TBL r LEFT JOIN TAGS t ON t.id = r.tags_id
      LEFT JOIN REGIONS g ON g.region = t.region WHERE r.val > 30 GROUP BY 1 ORDER BY 1$$),
    -- semi-joins: each row once however many rows of the reference table
    -- match, NULL tags_id never
    ($$SELECT r.time, r.val FROM TBL r WHERE EXISTS (SELECT 1 FROM TAGS t
      WHERE t.hostname = r.hostname AND t.region = 'r1') AND r.val > 50 ORDER BY 1, 2$$),
    ($$SELECT r.time, r.tags_id FROM TBL r WHERE EXISTS (SELECT 1 FROM TAGS t
      WHERE t.id = r.tags_id AND t.weight >= 50) ORDER BY 1, 2$$),
    ($$SELECT r.time, r.val FROM TBL r WHERE EXISTS (SELECT 1 FROM TAGS t
      WHERE t.weight > r.val AND t.region <> 'r0') ORDER BY 1, 2$$),
    ($$SELECT r.time, r.val FROM TBL r WHERE (r.hostname, r.tags_id % 5) IN
      (SELECT hostname, weight % 5 FROM TAGS) ORDER BY 1, 2$$),
    ($$SELECT r.hostname, count(*), sum(r.val) FROM TBL r WHERE EXISTS (SELECT 1 FROM TAGS t
      WHERE t.weight > r.val) AND r.time < '2024-01-01 05:00' GROUP BY 1 ORDER BY 1$$),
    ($$SELECT t.region, count(*) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      WHERE EXISTS (SELECT 1 FROM TAGS t2 WHERE t2.region = t.region AND t2.weight > r.val)
      GROUP BY 1 ORDER BY 1$$),
    -- anti-joins: NULL tags_id has no match, so its rows stay
    ($$SELECT r.time, r.tags_id FROM TBL r WHERE NOT EXISTS (SELECT 1 FROM TAGS t
      WHERE t.id = r.tags_id AND t.region = 'r1') ORDER BY 1, 2$$),
    ($$SELECT r.time, r.val FROM TBL r WHERE NOT EXISTS (SELECT 1 FROM TAGS t
      WHERE t.hostname = r.hostname) AND r.val < 30 ORDER BY 1, 2$$),
    ($$SELECT r.tags_id, count(*), sum(r.val) FROM TBL r LEFT JOIN TAGS t
      ON t.id = r.tags_id AND t.weight > 20 WHERE t.id IS NULL GROUP BY 1 ORDER BY 1$$),
    ($$SELECT t.region, count(*) FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      WHERE NOT EXISTS (SELECT 1 FROM REGIONS g WHERE g.region = t.region) GROUP BY 1 ORDER BY 1$$),
    -- the join column equal to a constant (PostgreSQL derives t's qual)
    ($$SELECT r.time, r.val FROM TBL r WHERE NOT EXISTS (SELECT 1 FROM TAGS t
      WHERE t.hostname = r.hostname AND t.weight > 50) AND r.hostname = 'host_3' ORDER BY 1, 2$$),
    ($$SELECT r.time, r.val FROM TBL r WHERE EXISTS (SELECT 1 FROM TAGS t
      WHERE t.hostname = r.hostname AND t.weight > 50) AND r.hostname = 'host_7' ORDER BY 1, 2$$),
    ($$SELECT g.zone, count(*) FROM TBL r LEFT JOIN TAGS t ON t.id = r.tags_id
      LEFT JOIN REGIONS g ON g.region = t.region
      WHERE NOT EXISTS (SELECT 1 FROM TAGS t2 WHERE t2.weight = r.val) GROUP BY 1 ORDER BY 1$$),
    -- not pushed down: NOT IN, with a NULL in its list too; a correlated
    -- IN (a SubPlan); an anti-join returning the reference table's columns
    ($$SELECT r.tags_id, count(*) FROM TBL r WHERE r.tags_id NOT IN
      (SELECT id FROM TAGS WHERE region = 'r1') GROUP BY 1 ORDER BY 1$$),
    ($$SELECT count(*) FROM TBL r WHERE r.tags_id NOT IN
      (SELECT CASE WHEN region IS NOT NULL THEN id END FROM TAGS)$$),
    ($$SELECT r.time, r.tags_id FROM TBL r WHERE r.tags_id IN
      (SELECT id FROM TAGS t WHERE t.weight > r.val) ORDER BY 1, 2$$),
    ($$SELECT r.time, r.hostname, t.hostname FROM TBL r LEFT JOIN TAGS t
      ON t.hostname = r.hostname WHERE t.hostname IS NULL ORDER BY 1, 2$$),
    -- not pushed down
    ($$SELECT t.id, count(r.val) FROM TAGS t LEFT JOIN TBL r ON r.tags_id = t.id
      GROUP BY 1 ORDER BY 1$$),
    ($$SELECT t.id, r.tags_id, count(*) FROM TBL r FULL JOIN TAGS t ON r.tags_id = t.id
      WHERE t.id IS NULL OR t.id > 8 GROUP BY 1, 2 ORDER BY 1, 2$$),
    ($$SELECT t.region, count(*) FROM TBL r JOIN TAGS t ON rj_plus(r.tags_id) = t.id
      GROUP BY 1 ORDER BY 1$$),
    ($$SELECT t.region, count(*) FROM TBL r JOIN TAGS_sb t ON r.tags_id = t.id
      GROUP BY 1 ORDER BY 1$$),
    ($$SELECT t.region, count(*) FROM TBL r JOIN TAGS_v t ON r.tags_id = t.id
      GROUP BY 1 ORDER BY 1$$),
    -- ORDER BY ... LIMIT above a join, a correlated subquery's parameter
    ($$SELECT r.time, t.hostname FROM TBL r JOIN TAGS t ON t.id = r.tags_id
      ORDER BY r.time DESC, t.hostname LIMIT 7$$),
    ($$SELECT t0.region, (SELECT count(*) FROM TBL r JOIN TAGS t ON r.tags_id = t.id
      WHERE t.region = t0.region AND r.val > 90) FROM TAGS t0 ORDER BY 1, 2$$)
  ) AS c(q), LATERAL same_rows(VARIADIC variants(c.q)) r;

-- in a transaction, the data nodes' copies have its writes
BEGIN;
INSERT INTO rj_tags VALUES (11, 'host_11', 'r9', 110);
INSERT INTO rj_tags_loc VALUES (11, 'host_11', 'r9', 110);
SELECT * FROM same_rows(VARIADIC variants($$SELECT t.region, count(*), sum(r.val)
  FROM TBL r JOIN TAGS t ON t.id = r.tags_id GROUP BY 1 ORDER BY 1$$));
ROLLBACK;

-- a prepared statement's parameter, in its generic plan too
SET plan_cache_mode = force_generic_plan;
PREPARE rj_q(text) AS
  SELECT t.hostname, count(*), sum(r.val) FROM rj1 r JOIN rj_tags t ON t.id = r.tags_id
   WHERE t.region = $1 GROUP BY 1 ORDER BY 1;
PREPARE rj_q_loc(text) AS
  SELECT t.hostname, count(*), sum(r.val) FROM rj_loc r JOIN rj_tags_loc t ON t.id = r.tags_id
   WHERE t.region = $1 GROUP BY 1 ORDER BY 1;
EXECUTE rj_q('r0');
EXECUTE rj_q_loc('r0');
EXECUTE rj_q('r2');
EXECUTE rj_q_loc('r2');
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE rj_q('r1');
-- inside NOT EXISTS
PREPARE rj_a(int) AS
  SELECT r.hostname, count(*) FROM rj1 r WHERE NOT EXISTS (SELECT 1 FROM rj_tags t
   WHERE t.hostname = r.hostname AND t.weight > $1) GROUP BY 1 ORDER BY 1;
PREPARE rj_a_loc(int) AS
  SELECT r.hostname, count(*) FROM rj_loc r WHERE NOT EXISTS (SELECT 1 FROM rj_tags_loc t
   WHERE t.hostname = r.hostname AND t.weight > $1) GROUP BY 1 ORDER BY 1;
EXECUTE rj_a(60);
EXECUTE rj_a_loc(60);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE rj_a(60);
RESET plan_cache_mode;
DEALLOCATE rj_q;
DEALLOCATE rj_q_loc;
DEALLOCATE rj_a;
DEALLOCATE rj_a_loc;

DROP FUNCTION variants;
DROP VIEW rj_tags_sb, rj_tags_v, rj_tags_loc_sb, rj_tags_loc_v;
DROP FUNCTION rj_plus;
DROP TABLE rj1, rj2, rj_loc, rj_tags, rj_tags_loc, rj_regions, rj_regions_loc;
