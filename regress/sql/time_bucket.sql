--
-- time_bucket and the first/last aggregates (TimescaleDB 2.13): known
-- values, boundaries, NULLs, errors, inlining into built-ins, and the same
-- GROUP BY queries on a distributed hypertable and on a local table.
-- Needs dn1..dn3 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

-- ---- interval widths on timestamp ------------------------------------------
-- default origin 2000-01-03, a Monday: weeks start on Mondays
SELECT time_bucket('5 minutes', timestamp '2024-01-10 10:07:30') AS "5min",
       time_bucket('1 hour', timestamp '1999-12-31 23:30') AS before_origin,
       time_bucket('1 week', timestamp '2024-01-10 10:00') AS week,
       time_bucket('2 weeks', timestamp '2024-01-10 10:00') AS two_weeks,
       time_bucket('1 day', timestamp '2024-01-10 00:00') AS on_boundary,
       time_bucket('1 day', timestamp '2024-01-09 23:59:59.999999') AS just_before;
-- months count from 2000-01; origin's day and time are ignored
SELECT time_bucket('1 month', timestamp '2024-05-15 10:00') AS month,
       time_bucket('3 months', timestamp '2024-05-15') AS quarter,
       time_bucket('3 months', timestamp '1999-11-15') AS quarter_before_2000,
       time_bucket('1 year', timestamp '2024-05-15') AS year,
       time_bucket('1 year', timestamp '2024-05-15', timestamp '2023-07-09 12:00') AS year_from_july,
       time_bucket('5 months', timestamp '1990-01-01', timestamp '2000-01-20') AS months_before_origin;
-- origin and offset
SELECT time_bucket('1 hour', timestamp '2024-01-10 10:07', timestamp '2024-01-01 00:30') AS origin,
       time_bucket('1 hour', timestamp '2024-01-10 10:07', timestamp '2030-01-01 00:30') AS later_origin,
       time_bucket('5 minutes', timestamp '2024-01-10 10:07', interval '-2.5 minutes') AS neg_offset,
       time_bucket('1 day', timestamp '2024-01-10 10:07', interval '6 hours') AS offset_6h,
       time_bucket('1 month', timestamp '2024-01-10 10:07', interval '15 days') AS month_offset;

-- ---- timestamptz: UTC buckets, time zones --------------------------------
SELECT time_bucket('1 day', timestamptz '2024-01-10 23:30-05') AS day_utc,
       time_bucket('1 month', timestamptz '2024-02-01 01:00+03') AS month_utc,
       time_bucket('1 hour', timestamptz '2024-01-10 10:07+00', timestamptz '2024-01-01 00:15+00') AS origin,
       time_bucket('1 hour', timestamptz '2024-01-10 10:07+00', interval '15 minutes') AS "offset";
-- the result does not depend on the session's time zone
SET timezone = 'America/New_York';
SELECT time_bucket('1 day', timestamptz '2024-01-10 23:30-05') AT TIME ZONE 'UTC' AS day_utc,
       time_bucket('1 month', timestamptz '2024-02-01 01:00+03') AT TIME ZONE 'UTC' AS month_utc;
SET timezone = 'UTC';
-- in a time zone, across the DST change of 2024-03-31 in Berlin
SELECT time_bucket('1 day', timestamptz '2024-03-31 12:00+00', 'Europe/Berlin') AS day_berlin,
       time_bucket('1 day', timestamptz '2024-04-01 12:00+00', 'Europe/Berlin') AS next_day,
       time_bucket('1 month', timestamptz '2024-03-31 23:30+00', 'Europe/Berlin') AS month_berlin,
       time_bucket('1 day', timestamptz '2024-03-31 12:00+00', 'Europe/Berlin',
                   "offset" => interval '6 hours') AS offset_6h,
       time_bucket('1 day', timestamptz '2024-03-31 12:00+00', 'Europe/Berlin',
                   origin => timestamptz '2024-01-01 12:00+01') AS noon_origin,
       time_bucket('1 hour', timestamptz '2024-01-10 10:07+00', 'Asia/Kolkata') AS half_hour_zone;

-- ---- date --------------------------------------------------------------------
SELECT time_bucket('1 day', date '2024-01-10') AS day,
       time_bucket('1 week', date '2024-01-10') AS week,
       time_bucket('1 month', date '2024-01-31') AS month,
       time_bucket('7 days', date '2024-01-10', date '2024-01-05') AS origin,
       time_bucket('1 week', date '2024-01-10', interval '2 days') AS "offset",
       time_bucket('1 day', date '2024-01-31', interval '12 hours') AS half_day_offset,
       pg_typeof(time_bucket('1 day', date '2024-01-10')) AS type;

-- ---- integers: floor semantics -------------------------------------------------
SELECT t, time_bucket(10, t) AS b, time_bucket(10, t, 3) AS b_off3,
       time_bucket(10, t, -3) AS b_off_neg3, time_bucket(10, t, 23) AS b_off23
  FROM unnest(ARRAY[-11, -10, -1, 0, 1, 9, 10, 12]) t;
SELECT time_bucket(5::smallint, (-7)::smallint) AS int2,
       time_bucket(5::smallint, 7::smallint, 1::smallint) AS int2_off,
       time_bucket(1000000000000::bigint, 1234567890123456::bigint) AS int8,
       time_bucket(7::bigint, (-1)::bigint, 2::bigint) AS int8_off,
       pg_typeof(time_bucket(5::smallint, 7::smallint)) AS t2,
       pg_typeof(time_bucket(5::bigint, 7::bigint)) AS t8;
-- limits of the type: the last bucket, and overflow
SELECT time_bucket(10::smallint, 32767::smallint) AS int2_max,
       time_bucket(10, -2147483640) AS int4_min_bucket,
       time_bucket(10::bigint, 9223372036854775807::bigint) AS int8_max;

-- ---- NULLs and infinities ---------------------------------------------------------
SELECT time_bucket(NULL::interval, timestamp '2024-01-01') IS NULL AS width,
       time_bucket('1 day', NULL::timestamp) IS NULL AS ts,
       time_bucket('1 month', NULL::timestamptz) IS NULL AS ts_month,
       time_bucket('1 day', timestamp '2024-01-01', NULL::timestamp) IS NULL AS origin,
       time_bucket('1 day', timestamp '2024-01-01', NULL::interval) IS NULL AS "offset",
       time_bucket('1 day', now(), NULL::text) IS NULL AS zone,
       time_bucket(NULL::interval, timestamp 'infinity') IS NULL AS width_inf,
       time_bucket('1 month', date '2024-01-01', NULL::date) IS NULL AS date_origin,
       time_bucket(NULL::int, 5) IS NULL AS int_width,
       time_bucket(10, NULL::int) IS NULL AS int_ts,
       time_bucket(10, 5, NULL) IS NULL AS int_offset;
SELECT time_bucket('1 day', timestamp 'infinity') AS day,
       time_bucket('1 month', timestamptz '-infinity') AS month,
       time_bucket('1 month', date 'infinity') AS date_month,
       time_bucket('1 day', timestamptz 'infinity', 'Europe/Berlin') AS zone;

-- ---- errors, with TimescaleDB's SQLSTATEs ------------------------------------------
\set VERBOSITY sqlstate
SELECT time_bucket('0', timestamp '2024-01-01');
SELECT time_bucket('-1 hour', timestamptz '2024-01-01');
SELECT time_bucket('-1 month', timestamp '2024-01-01');
SELECT time_bucket('0', date '2024-01-01');
SELECT time_bucket(0, 5);
SELECT time_bucket(-10::bigint, 5::bigint);
SELECT time_bucket(0::smallint, 5::smallint, 1::smallint);
SELECT time_bucket(-10, 5, 1);
-- months with days or time
SELECT time_bucket('1 month 1 day', timestamp '2024-01-01');
SELECT time_bucket('1 month 1 hour', timestamptz '2024-01-01');
SELECT time_bucket('1 year 1 day', date '2024-01-01');
-- a date bucket is whole days
SELECT time_bucket('12 hours', date '2024-01-01');
-- unknown time zone, overflow
SELECT time_bucket('1 day', timestamptz '2024-01-01', 'Nowhere/Atlantis');
SELECT time_bucket(10::smallint, (-32767)::smallint);
-- widths that are not constants are checked row by row
SELECT w, time_bucket(w, timestamp '2024-05-15 10:00')
  FROM (VALUES (interval '1 hour'), (interval '2 months'), (NULL)) v(w);
SELECT w, time_bucket(w, timestamp '2024-05-15 10:00')
  FROM (VALUES (interval '1 hour'), (interval '-2 months')) v(w);
\set VERBOSITY default

-- ---- inlining: only built-ins are left -----------------------------------------------
CREATE TABLE tb_types (ts timestamp, tz timestamptz, d date,
                       i2 smallint, i4 int, i8 bigint, w interval);
CREATE FUNCTION plan_output(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    IF line LIKE '%Output:%' THEN
      RETURN CASE WHEN line LIKE '%time_bucket%' THEN 'NOT INLINED: ' || line
                  ELSE 'inlined' END;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
SELECT v, plan_output('SELECT ' || v || ' FROM tb_types') FROM unnest(ARRAY[
  $$time_bucket('1 hour', ts)$$,
  $$time_bucket('1 month', ts)$$,
  $$time_bucket('1 hour', ts, timestamp '2001-01-01')$$,
  $$time_bucket('1 hour', ts, interval '5 minutes')$$,
  $$time_bucket('1 hour', tz)$$,
  $$time_bucket('3 months', tz)$$,
  $$time_bucket('1 hour', tz, timestamptz '2001-01-01')$$,
  $$time_bucket('1 hour', tz, interval '5 minutes')$$,
  $$time_bucket('1 day', tz, 'Europe/Berlin')$$,
  $$time_bucket('1 month', tz, 'Europe/Berlin', timestamptz '2001-01-01', interval '1 day')$$,
  $$time_bucket('1 day', d)$$,
  $$time_bucket('1 month', d)$$,
  $$time_bucket('1 week', d, date '2001-01-01')$$,
  $$time_bucket('1 day', d, interval '12 hours')$$,
  $$time_bucket(10::smallint, i2)$$,
  $$time_bucket(10, i4)$$,
  $$time_bucket(10::bigint, i8)$$,
  $$time_bucket(10::smallint, i2, 3::smallint)$$,
  $$time_bucket(10, i4, 3)$$,
  $$time_bucket(10::bigint, i8, 3::bigint)$$,
  $$time_bucket(w, ts)$$,
  $$time_bucket(w, tz)$$,
  $$time_bucket(w, d)$$,
  $$time_bucket(i4, i4)$$]) v;
-- a constant width without months leaves a bare date_bin()
EXPLAIN (VERBOSE, COSTS OFF) SELECT time_bucket('1 hour', tz) FROM tb_types;
EXPLAIN (VERBOSE, COSTS OFF) SELECT time_bucket('1 day', d) FROM tb_types;
DROP FUNCTION plan_output(text);
DROP TABLE tb_types;

-- ---- first and last ----------------------------------------------------------------------
CREATE TABLE fl (g int, t timestamptz, v text, n numeric);
INSERT INTO fl VALUES
  (1, '2024-01-01 10:00', 'b', 2), (1, '2024-01-01 09:00', 'a', 1),
  (1, '2024-01-01 11:00', 'c', 3), (1, NULL, 'null time', 99),
  (2, NULL, 'only null time', 5),
  (3, '2024-01-02', NULL, NULL), (3, '2024-01-01', 'x', 7),
  (4, '2024-01-01', 'y', 8);
SELECT g, first(v, t), last(v, t), first(n, t), last(n, t),
       first(t, v), last(t, v)
  FROM fl GROUP BY g ORDER BY g;
-- no rows, all NULL times
SELECT first(v, t) IS NULL AS no_rows FROM fl WHERE false;
SELECT first(v, t) IS NULL AS null_times, last(v, t) IS NULL AS null_times_last
  FROM fl WHERE t IS NULL;
-- other time types, the collation of text times, and windows
SELECT first(v, t AT TIME ZONE 'UTC'), last(v, extract(epoch FROM t)::bigint) FROM fl WHERE g = 1;
SELECT first(g, v COLLATE "C"), last(g, v COLLATE "C") FROM (VALUES (1, 'a'), (2, 'B')) x(g, v);
SELECT g, v, last(v, t) OVER (PARTITION BY g ORDER BY t) AS running_last
  FROM fl WHERE g = 1 AND t IS NOT NULL ORDER BY g, t;
-- a time type without an ordering
SELECT first(1, point(1, 1));
-- parallel workers: partial states are serialized and combined
CREATE TABLE fl_big AS
SELECT i % 10 AS g, '2024-01-01'::timestamptz + i * interval '1 second' AS t, 'v' || i AS v
  FROM generate_series(1, 100000) i;
ANALYZE fl_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT g, first(v, t), last(v, t) FROM fl_big GROUP BY g;
SELECT g, first(v, t), last(v, t), count(*) FROM fl_big GROUP BY g ORDER BY g;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE fl, fl_big;

-- ---- a distributed hypertable and a local table give the same buckets ---------------------
CREATE TABLE tb_loc (time timestamptz NOT NULL, dev int NOT NULL, val float8, note text);
-- 500 rows 97 minutes apart from late 2023, crossing month and year ends;
-- val is a multiple of 0.5, so sums are exact in any order of addition
INSERT INTO tb_loc
SELECT '2023-12-01'::timestamptz + i * interval '97 minutes', i % 5,
       CASE WHEN i % 11 <> 0 THEN i * 0.5 END,
       CASE WHEN i % 7 <> 0 THEN 'n' || i END
  FROM generate_series(0, 499) i;
CREATE TABLE tb_dist (LIKE tb_loc);
SELECT table_name, created FROM create_distributed_hypertable('tb_dist', 'time', 'dev',
  number_partitions => 3, chunk_time_interval => interval '7 days');
INSERT INTO tb_dist SELECT * FROM tb_loc;

CREATE FUNCTION tb_diff(q text) RETURNS TABLE (missing bigint, extra bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT (SELECT count(*) FROM ((%1$s) EXCEPT ALL (%2$s)) a),
            (SELECT count(*) FROM ((%2$s) EXCEPT ALL (%1$s)) b)',
    replace(q, 'TBL', 'tb_loc'), replace(q, 'TBL', 'tb_dist'));
END $$;
SELECT q, d.* FROM unnest(ARRAY[
  $$SELECT time_bucket('1 hour', time), count(*), sum(val), first(note, time), last(note, time) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket('1 day', time), dev, count(*), sum(val), first(val, time), last(val, time) FROM TBL GROUP BY 1, 2$$,
  $$SELECT time_bucket('1 week', time), count(*), first(dev, time), last(dev, time) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket('1 month', time), count(*), sum(val) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket('1 day', time, 'Europe/Berlin'), count(*), last(note, time) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket('1 day', time, interval '6 hours'), count(*) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket('1 day', time::date), count(*), first(val, time) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket(100, dev * 37 - 90), count(*) FROM TBL GROUP BY 1$$,
  $$SELECT time_bucket('1 day', time) FROM TBL WHERE time_bucket('1 day', time) = '2023-12-05' GROUP BY 1$$]) q,
  LATERAL tb_diff(q) d;
-- and read in order
SELECT time_bucket('1 month', time) AS month, count(*), round(sum(val)::numeric, 1) AS sum,
       first(note, time), last(note, time)
  FROM tb_dist GROUP BY 1 ORDER BY 1;
DROP FUNCTION tb_diff(text);
DROP TABLE tb_dist, tb_loc;
