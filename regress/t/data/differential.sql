-- The corpus of regress/t/013_differential.pl: each entry (entries are
-- separated by blank lines) runs on a distributed hypertable and on a
-- plain table with the same rows (:T), and must return the same rows.
-- :L is the local table hosts.  Directives (see 013_differential.pl): -- @todo REASON,
-- -- @requires time_bucket|first, -- @ordered, -- @unordered, -- @errors,
-- -- @section NAME.
-- Columns of :T: time timestamptz, tags_id int, hostname text, usage_user,
-- usage_system, usage_idle, usage_nice, usage_iowait, usage_irq,
-- usage_softirq, usage_steal, usage_guest, usage_guest_nice float8,
-- n numeric, big bigint, small smallint, flag bool, d date, ts timestamp,
-- note text, js jsonb, arr int[], id uuid, iv interval, vc varchar(20),
-- fx float8.  Rows from 2024-01-01 00:00 to 2024-01-03 23:50 UTC, hosts
-- host_0 to host_15 and NULL; chunks of 6 hours.

-- @section whole table
SELECT * FROM :T;

SELECT count(*) FROM :T;

SELECT time, hostname, usage_user FROM :T ORDER BY time, hostname, usage_user LIMIT 50;

-- @section TSBS devops queries (date_trunc / date_bin for time_bucket)
-- single-groupby-1-1-1
SELECT date_trunc('minute', time) AS minute, max(usage_user) AS max_usage_user
  FROM :T WHERE hostname IN ('host_3') AND time >= '2024-01-02 01:00' AND time < '2024-01-02 02:00'
 GROUP BY minute ORDER BY minute;

-- single-groupby-1-1-12
SELECT date_trunc('minute', time) AS minute, max(usage_user) AS max_usage_user
  FROM :T WHERE hostname IN ('host_9') AND time >= '2024-01-01 06:00' AND time < '2024-01-01 18:00'
 GROUP BY minute ORDER BY minute;

-- single-groupby-1-8-1
SELECT date_trunc('minute', time) AS minute, max(usage_user) AS max_usage_user
  FROM :T WHERE hostname IN ('host_1', 'host_2', 'host_3', 'host_5', 'host_7', 'host_8', 'host_11', 'host_13')
   AND time >= '2024-01-03 05:30' AND time < '2024-01-03 06:30'
 GROUP BY minute ORDER BY minute;

-- single-groupby-5-1-1
SELECT date_trunc('minute', time) AS minute, max(usage_user), max(usage_system), max(usage_idle),
       max(usage_nice), max(usage_iowait)
  FROM :T WHERE hostname IN ('host_4') AND time >= '2024-01-01 23:30' AND time < '2024-01-02 00:30'
 GROUP BY minute ORDER BY minute;

-- single-groupby-5-8-1
SELECT date_bin('5 minutes', time, '2024-01-01') AS five_min, max(usage_user), max(usage_system),
       max(usage_idle), max(usage_nice), max(usage_iowait)
  FROM :T WHERE hostname IN ('host_0', 'host_2', 'host_4', 'host_6', 'host_10', 'host_12', 'host_14', 'host_15')
   AND time >= '2024-01-02 11:00' AND time < '2024-01-02 12:00'
 GROUP BY five_min ORDER BY five_min;

-- single-groupby-5-1-12
SELECT date_trunc('minute', time) AS minute, max(usage_user), max(usage_system), max(usage_idle),
       max(usage_nice), max(usage_iowait)
  FROM :T WHERE hostname = 'host_7' AND time >= '2024-01-02 06:00' AND time < '2024-01-02 18:00'
 GROUP BY minute ORDER BY minute;

-- cpu-max-all-1
SELECT date_trunc('hour', time) AS hour, max(usage_user), max(usage_system), max(usage_idle),
       max(usage_nice), max(usage_iowait), max(usage_irq), max(usage_softirq), max(usage_steal),
       max(usage_guest), max(usage_guest_nice)
  FROM :T WHERE hostname IN ('host_1') AND time >= '2024-01-01 08:00' AND time < '2024-01-01 16:00'
 GROUP BY hour ORDER BY hour;

-- cpu-max-all-8
SELECT date_trunc('hour', time) AS hour, max(usage_user), max(usage_system), max(usage_idle),
       max(usage_nice), max(usage_iowait), max(usage_irq), max(usage_softirq), max(usage_steal),
       max(usage_guest), max(usage_guest_nice)
  FROM :T WHERE hostname IN ('host_1', 'host_3', 'host_4', 'host_6', 'host_9', 'host_10', 'host_12', 'host_15')
   AND time >= '2024-01-02 20:00' AND time < '2024-01-03 04:00'
 GROUP BY hour ORDER BY hour;

-- double-groupby-1
SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user
  FROM :T WHERE time >= '2024-01-01 12:00' AND time < '2024-01-02 00:00'
 GROUP BY hour, hostname ORDER BY hour, hostname;

-- double-groupby-5
SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user), avg(usage_system),
       avg(usage_idle), avg(usage_nice), avg(usage_iowait)
  FROM :T WHERE time >= '2024-01-02 00:00' AND time < '2024-01-02 12:00'
 GROUP BY 1, 2 ORDER BY 1, 2;

-- double-groupby-all
SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user), avg(usage_system),
       avg(usage_idle), avg(usage_nice), avg(usage_iowait), avg(usage_irq), avg(usage_softirq),
       avg(usage_steal), avg(usage_guest), avg(usage_guest_nice)
  FROM :T WHERE time >= '2024-01-01 00:00' AND time < '2024-01-04 00:00'
 GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST;

-- double-groupby-1 with the TSBS join on the hosts table
SELECT date_trunc('hour', t.time) AS hour, h.hostname, avg(usage_user)
  FROM :T t JOIN :L h ON t.hostname = h.hostname
 WHERE t.time >= '2024-01-03 00:00' AND t.time < '2024-01-03 06:00'
 GROUP BY 1, 2 ORDER BY 1, 2;

-- high-cpu-1
SELECT * FROM :T WHERE usage_user > 90.0 AND time >= '2024-01-01 00:00' AND time < '2024-01-03 00:00'
   AND hostname IN ('host_5') ORDER BY time;

-- high-cpu-all
SELECT * FROM :T WHERE usage_user > 90.0 AND time >= '2024-01-02 12:00' AND time < '2024-01-03 00:00';

-- lastpoint
SELECT DISTINCT ON (hostname) * FROM :T
 ORDER BY hostname, time DESC, usage_user DESC NULLS LAST;

-- lastpoint, TSBS style with a join
SELECT DISTINCT ON (t.hostname) t.hostname, h.region, t.time, t.usage_user
  FROM :T t JOIN :L h USING (hostname)
 ORDER BY t.hostname, t.time DESC, t.usage_user DESC;

-- groupby-orderby-limit
SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM :T
 WHERE time < '2024-01-02 10:00' GROUP BY minute ORDER BY minute DESC LIMIT 5;

SELECT date_bin('15 minutes', time, '2024-01-01 00:05') AS b, count(*), max(usage_user)
  FROM :T WHERE time < '2024-01-01 06:00' GROUP BY b ORDER BY b;

SELECT date_bin('1 hour', time, '2000-01-01') AS b, hostname, min(usage_idle), max(usage_idle)
  FROM :T WHERE hostname IN ('host_2', 'host_12') AND time >= '2024-01-02 22:00' GROUP BY 1, 2 ORDER BY 1, 2;

-- @section time_bucket (skipped until time_bucket exists)
-- @requires time_bucket
SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM :T
 WHERE hostname = 'host_3' AND time >= '2024-01-02 01:00' AND time < '2024-01-02 02:00'
 GROUP BY minute ORDER BY minute;

-- @requires time_bucket
SELECT time_bucket('1 hour', time) AS hour, hostname, avg(usage_user), avg(usage_system)
  FROM :T WHERE time >= '2024-01-01 12:00' AND time < '2024-01-02 00:00'
 GROUP BY 1, 2 ORDER BY 1, 2;

-- @requires time_bucket
SELECT time_bucket('6 hours', time) AS b, count(*), count(DISTINCT hostname), sum(usage_user)
  FROM :T GROUP BY b ORDER BY b;

-- @requires time_bucket
SELECT time_bucket('15 minutes', time) AS b, max(usage_user) FROM :T
 WHERE time < '2024-01-02 10:00' GROUP BY b ORDER BY b DESC LIMIT 5;

-- @requires time_bucket
SELECT time_bucket('1 day', time) AS day, hostname, max(usage_idle) FROM :T
 WHERE time_bucket('1 day', time) = '2024-01-02' GROUP BY 1, 2 ORDER BY 1, 2;

-- @requires time_bucket
SELECT time_bucket('1 hour', time) = date_trunc('hour', time) AS same, count(*) FROM :T GROUP BY 1 ORDER BY 1;

-- @requires time_bucket
SELECT time_bucket('1 hour', time, '2024-01-01 00:20'::timestamptz) AS b, count(*), min(time) FROM :T
 WHERE time < '2024-01-01 06:00' GROUP BY b ORDER BY b;

-- @requires time_bucket
SELECT time_bucket('1 hour', time, interval '15 minutes') AS b, hostname, count(*) FROM :T
 WHERE time < '2024-01-01 04:00' AND hostname IN ('host_1', 'host_2') GROUP BY 1, 2 ORDER BY 1, 2;

-- @requires time_bucket
SELECT time_bucket('1 day', time, 'America/New_York') AS b, count(*), sum(usage_user) FROM :T GROUP BY b ORDER BY b;

-- @requires time_bucket
SET timezone = 'Asia/Kolkata';
SELECT time_bucket('1 day', time) AS b, count(*), max(usage_user) FROM :T GROUP BY b ORDER BY b;

-- @requires time_bucket
SELECT time_bucket('1 month', time) AS b, count(*) FROM :T GROUP BY b ORDER BY b;

-- @requires time_bucket
SELECT time_bucket('2 days', d) AS b, count(*) FROM :T WHERE d IS NOT NULL AND isfinite(d) AND d > '2000-01-01' GROUP BY b ORDER BY b;

-- @requires time_bucket
SELECT time_bucket('90 minutes', ts) AS b, count(*) FROM :T WHERE ts BETWEEN '2023-12-31' AND '2024-02-01' GROUP BY b ORDER BY b;

-- @requires time_bucket
SELECT time_bucket(5, tags_id) AS b, count(*) FROM :T GROUP BY b ORDER BY b NULLS FIRST;

-- @requires time_bucket
SELECT time_bucket(7::smallint, small) AS b, count(*) FROM :T WHERE small > -32000 GROUP BY b ORDER BY b NULLS FIRST;

-- @requires time_bucket
SELECT time_bucket(1000000000::bigint, big, 12345::bigint) AS b, count(*) FROM :T
 WHERE big BETWEEN -9000000000000000000 AND 9000000000000000000 GROUP BY b ORDER BY b NULLS FIRST;

-- @requires time_bucket
SELECT count(*) FROM :T WHERE time_bucket('1 hour', time) = '2024-01-02 05:00';

-- @requires time_bucket
SELECT hostname, count(*) FROM :T WHERE time_bucket('6 hours', time) >= '2024-01-03' GROUP BY 1 ORDER BY 1;

-- @requires time_bucket
PREPARE p(interval, timestamptz) AS SELECT time_bucket($1, time) AS b, count(*) FROM :T
 WHERE time >= $2 AND time < $2 + interval '3 hours' GROUP BY b ORDER BY b;
EXECUTE p('1 hour', '2024-01-01 00:00');
EXECUTE p('30 minutes', '2024-01-02 05:00');
EXECUTE p('2 hours', '2024-01-03 22:00');
EXECUTE p('1 day', '2024-01-01 23:00');
EXECUTE p('45 minutes', '2024-01-02 17:30');
EXECUTE p('1 hour', NULL);
SET plan_cache_mode = force_generic_plan;
EXECUTE p('20 minutes', '2024-01-02 01:00');
EXECUTE p('1 hour', '2024-01-03 06:00');

-- @requires time_bucket
SELECT time_bucket('15 minutes', time) AS b, hostname, last(usage_user, time), first(usage_user, time) FROM :T
 WHERE hostname IN ('host_5', 'host_6') AND time < '2024-01-01 03:00' GROUP BY 1, 2 ORDER BY 1, 2;

-- @requires first
SELECT hostname, first(usage_user, time), last(usage_user, time), first(note, time), last(js, time),
       first(time, usage_user), last(hostname, time) FROM :T WHERE hostname <> 'host_7' GROUP BY hostname ORDER BY hostname;

-- @requires first
SELECT last(hostname, time), first(hostname, time) FROM :T WHERE time::time <> '00:00' AND time::time <> '23:50' AND hostname IS NOT NULL
 AND time < '2024-01-01 00:30' AND hostname = 'host_9';

-- @requires first
SELECT hostname, first(usage_user, time) FILTER (WHERE usage_user > 50), last(n, time) FILTER (WHERE n IS NOT NULL)
  FROM :T WHERE hostname IN ('host_1', 'host_2', 'host_4') GROUP BY 1 ORDER BY 1;

-- @requires first
SELECT first(usage_user, time), last(usage_user, time) FROM :T WHERE time > '2030-01-01';

-- @section aggregates
SELECT count(*), count(tags_id), count(hostname), count(usage_user), count(usage_system),
       count(usage_idle), count(usage_nice), count(usage_iowait), count(usage_irq),
       count(usage_softirq), count(usage_steal), count(usage_guest), count(usage_guest_nice)
  FROM :T;

SELECT count(n), count(big), count(small), count(flag), count(d), count(ts), count(note),
       count(js), count(arr), count(id), count(iv), count(vc), count(fx)
  FROM :T;

SELECT count(DISTINCT hostname), count(DISTINCT tags_id), count(DISTINCT note), count(DISTINCT d),
       count(DISTINCT flag), count(DISTINCT id), count(DISTINCT js), count(DISTINCT arr),
       count(DISTINCT (hostname, flag)), count(DISTINCT time)
  FROM :T;

SELECT sum(usage_user), avg(usage_user), min(usage_user), max(usage_user),
       sum(usage_system), avg(usage_system), min(usage_system), max(usage_system)
  FROM :T;

SELECT sum(usage_guest), avg(usage_steal), min(usage_guest), max(usage_steal), sum(fx), avg(fx), max(fx)
  FROM :T;

SELECT sum(n), avg(n), min(n), max(n), sum(big), avg(big), min(big), max(big) FROM :T;

SELECT sum(small), avg(small), min(small), max(small), sum(tags_id), avg(tags_id),
       min(tags_id), max(tags_id) FROM :T;

SELECT hostname, sum(n), avg(n), sum(big), avg(small), sum(usage_irq), avg(usage_irq)
  FROM :T GROUP BY hostname ORDER BY hostname;

SELECT min(time), max(time), min(d), max(d), min(ts), max(ts), min(note), max(note),
       min(vc), max(vc), min(hostname), max(hostname) FROM :T;

SELECT sum(iv), avg(iv), min(iv), max(iv), min(arr), max(arr) FROM :T;

SELECT hostname, stddev(usage_user), variance(usage_user), stddev_pop(usage_user),
       var_samp(usage_user), var_pop(usage_system), stddev_samp(usage_system)
  FROM :T GROUP BY hostname ORDER BY hostname;

SELECT stddev(n), variance(n), stddev_pop(big), var_samp(small), stddev(tags_id) FROM :T;

SELECT corr(usage_user, usage_system), covar_pop(usage_user, usage_idle),
       covar_samp(usage_nice, usage_irq), regr_slope(usage_user, usage_system),
       regr_intercept(usage_user, usage_system), regr_count(usage_user, usage_system),
       regr_r2(usage_idle, usage_nice), regr_avgx(usage_user, usage_system) FROM :T;

SELECT bool_and(flag), bool_or(flag), every(flag), bool_and(usage_user > 0),
       bool_or(usage_user > 100) FROM :T;

SELECT hostname, bool_and(flag), bool_or(flag), bool_and(usage_user >= 0) FROM :T
 GROUP BY hostname ORDER BY hostname;

SELECT hostname, bit_and(tags_id), bit_or(small), bit_xor(big), bit_or(tags_id) FROM :T
 GROUP BY hostname ORDER BY hostname;

SELECT hostname, string_agg(note, ',' ORDER BY time, note) FROM :T
 WHERE time >= '2024-01-02' AND time < '2024-01-02 02:00' GROUP BY hostname ORDER BY hostname;

SELECT string_agg(DISTINCT note, '|' ORDER BY note) FROM :T;

SELECT hostname, array_agg(usage_user ORDER BY time, usage_user) FROM :T
 WHERE time >= '2024-01-03 12:00' AND time < '2024-01-03 14:00' GROUP BY hostname ORDER BY hostname;

SELECT array_agg(DISTINCT tags_id ORDER BY tags_id), array_agg(DISTINCT flag ORDER BY flag) FROM :T;

SELECT date_trunc('hour', time), jsonb_agg(js ORDER BY time, hostname, js::text)
  FROM :T WHERE time >= '2024-01-01 05:00' AND time < '2024-01-01 06:00' AND hostname < 'host_3'
 GROUP BY 1 ORDER BY 1;

SELECT jsonb_object_agg(hostname, m) FROM (SELECT hostname, max(usage_user) AS m FROM :T
 WHERE hostname IS NOT NULL GROUP BY hostname) s;

SELECT hostname, percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY usage_system),
       percentile_cont(ARRAY[0.1, 0.5, 0.99]) WITHIN GROUP (ORDER BY usage_idle)
  FROM :T GROUP BY hostname ORDER BY hostname;

SELECT mode() WITHIN GROUP (ORDER BY note), mode() WITHIN GROUP (ORDER BY small),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY time),
       percentile_disc(0.25) WITHIN GROUP (ORDER BY n), percentile_cont(0.3) WITHIN GROUP (ORDER BY iv)
  FROM :T;

SELECT rank(50.0) WITHIN GROUP (ORDER BY usage_user), dense_rank(50.0) WITHIN GROUP (ORDER BY usage_user),
       percent_rank('host_5') WITHIN GROUP (ORDER BY hostname), cume_dist(10) WITHIN GROUP (ORDER BY tags_id)
  FROM :T;

SELECT hostname, count(*), avg(usage_user) FROM :T GROUP BY hostname
HAVING count(*) > 400 AND avg(usage_user) > 49 ORDER BY hostname;

SELECT hostname, max(usage_user) FROM :T GROUP BY hostname HAVING max(usage_user) = 100 ORDER BY 1;

SELECT flag, note IS NULL AS nonote, count(*), sum(usage_user) FROM :T GROUP BY flag, nonote
HAVING sum(usage_user) > 1000;

SELECT count(*) FILTER (WHERE flag), count(*) FILTER (WHERE NOT flag), count(*) FILTER (WHERE flag IS NULL),
       sum(usage_user) FILTER (WHERE hostname < 'host_5'), avg(n) FILTER (WHERE small > 0),
       max(time) FILTER (WHERE usage_idle > 99), array_agg(DISTINCT hostname ORDER BY hostname) FILTER (WHERE tags_id IS NULL)
  FROM :T;

SELECT hostname, count(*) FILTER (WHERE usage_user > 50) AS busy,
       min(usage_idle) FILTER (WHERE time >= '2024-01-02') FROM :T GROUP BY hostname ORDER BY hostname;

-- aggregates on no rows
SELECT count(*), count(usage_user), sum(usage_user), avg(n), min(time), max(note),
       bool_and(flag), string_agg(note, ','), array_agg(tags_id), stddev(usage_user)
  FROM :T WHERE time > '2030-01-01';

SELECT hostname, count(*) FROM :T WHERE time > '2030-01-01' GROUP BY hostname;

-- @section grouping
SELECT hostname, count(*), sum(usage_user) FROM :T GROUP BY hostname ORDER BY hostname NULLS FIRST;

SELECT note, count(*), min(time) FROM :T GROUP BY note;

SELECT flag, vc, count(*) FROM :T GROUP BY flag, vc ORDER BY flag NULLS FIRST, vc NULLS LAST;

SELECT d, count(*), count(DISTINCT hostname) FROM :T GROUP BY d ORDER BY d DESC NULLS LAST;

SELECT js->>'b' AS b, count(*) FROM :T GROUP BY 1;

SELECT arr, count(*) FROM :T GROUP BY arr;

SELECT id, count(*), min(time) FROM :T WHERE id IS NULL OR id::text < '1' GROUP BY id;

SELECT h.region, t.flag, count(*), sum(t.usage_user), GROUPING(h.region, t.flag) FROM :T t JOIN :L h USING (hostname)
 GROUP BY ROLLUP (h.region, t.flag) ORDER BY 5, 1, 2;

SELECT hostname, flag, count(*), max(usage_user), GROUPING(hostname, flag) FROM :T
 WHERE hostname IN ('host_1', 'host_2') OR hostname IS NULL
 GROUP BY CUBE (hostname, flag) ORDER BY 1, 2, 5;

SELECT date_trunc('day', time) AS day, hostname, note IS NULL AS nn, count(*), GROUPING(date_trunc('day', time), hostname, note IS NULL)
  FROM :T WHERE hostname < 'host_2'
 GROUP BY GROUPING SETS ((1), (hostname), (note IS NULL), ()) ORDER BY 5, 1, 2, 3;

SELECT tags_id % 3, small > 0, count(*) FROM :T GROUP BY GROUPING SETS ((tags_id % 3), (small > 0), (tags_id % 3, small > 0));

SELECT CASE WHEN usage_user > 50 THEN 'high' WHEN usage_user > 20 THEN 'mid' ELSE 'low' END AS lvl,
       count(*), avg(usage_user) FROM :T GROUP BY 1 ORDER BY 1;

SELECT COALESCE(hostname, 'unknown') AS h, count(*) FROM :T GROUP BY 1 ORDER BY 1;

SELECT GREATEST(usage_user, usage_system)::int / 10 AS decile, count(*) FROM :T GROUP BY 1 ORDER BY 1 NULLS LAST;

SELECT extract(hour FROM time) AS h, count(*), sum(usage_user), avg(usage_idle) FROM :T GROUP BY 1 ORDER BY 1;

SELECT time, count(*) FROM :T GROUP BY time HAVING count(*) > 16;

-- @section DISTINCT, ORDER BY, LIMIT
SELECT DISTINCT hostname FROM :T;

SELECT DISTINCT hostname, flag FROM :T ORDER BY hostname, flag;

SELECT DISTINCT note FROM :T ORDER BY note NULLS FIRST;

SELECT DISTINCT d, vc FROM :T WHERE hostname = 'host_3';

SELECT DISTINCT ON (note) note, time, hostname FROM :T ORDER BY note, time, hostname;

SELECT DISTINCT ON (date_trunc('hour', time)) date_trunc('hour', time), hostname, usage_user
  FROM :T WHERE time < '2024-01-02' ORDER BY date_trunc('hour', time), usage_user DESC NULLS LAST, hostname, time;

SELECT time, hostname, usage_user FROM :T ORDER BY usage_user DESC NULLS LAST, time, hostname LIMIT 10;

SELECT time, hostname, usage_user FROM :T WHERE hostname IS NOT NULL
 ORDER BY time DESC, hostname DESC, usage_user LIMIT 10 OFFSET 100;

SELECT hostname, time, n FROM :T ORDER BY n NULLS FIRST, time, hostname LIMIT 20;

SELECT time, hostname FROM :T WHERE hostname = 'host_0' ORDER BY time LIMIT 5 OFFSET 420;

SELECT time, hostname FROM :T ORDER BY time, hostname LIMIT 0;

SELECT note, time, hostname FROM :T WHERE note IS NOT NULL ORDER BY note DESC, time, hostname LIMIT 15;

SELECT note, hostname, time FROM :T WHERE time = '2024-01-01 00:00' ORDER BY note COLLATE "C", hostname;

SELECT note, count(*) FROM :T GROUP BY note ORDER BY lower(note) NULLS FIRST, note COLLATE "C";

SELECT hostname FROM :T GROUP BY hostname ORDER BY length(hostname), hostname;

SELECT time, hostname, usage_user FROM :T ORDER BY time, hostname, usage_user FETCH FIRST 7 ROWS ONLY;

SELECT time, hostname, usage_user FROM :T WHERE hostname = 'host_3'
 ORDER BY time FETCH FIRST 3 ROWS WITH TIES;

SELECT js, hostname, time FROM :T WHERE js IS NOT NULL ORDER BY js, hostname, time LIMIT 12;

SELECT arr, time, hostname FROM :T ORDER BY arr DESC NULLS FIRST, time, hostname LIMIT 12;

SELECT id, time, hostname FROM :T ORDER BY id, time, hostname LIMIT 12;

SELECT iv, time, hostname FROM :T ORDER BY iv DESC NULLS LAST, time, hostname LIMIT 12;

-- @section window functions
SELECT time, hostname, usage_user, row_number() OVER (PARTITION BY hostname ORDER BY time, usage_user)
  FROM :T WHERE time < '2024-01-01 02:00';

SELECT hostname, time, rank() OVER w, dense_rank() OVER w FROM :T
 WHERE time >= '2024-01-02 06:00' AND time < '2024-01-02 07:00'
WINDOW w AS (PARTITION BY hostname ORDER BY usage_user DESC NULLS LAST);

SELECT hostname, time, usage_user, lag(usage_user) OVER w, lead(usage_user, 2) OVER w,
       first_value(usage_user) OVER w, usage_user - lag(usage_user) OVER w AS delta
  FROM :T WHERE hostname IN ('host_4', 'host_9') AND time < '2024-01-01 12:00'
WINDOW w AS (PARTITION BY hostname ORDER BY time) ORDER BY hostname, time;

SELECT hostname, time, sum(usage_user) OVER (PARTITION BY hostname ORDER BY time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW),
       avg(usage_system) OVER (PARTITION BY hostname ORDER BY time RANGE BETWEEN interval '30 minutes' PRECEDING AND CURRENT ROW)
  FROM :T WHERE hostname = 'host_10' ORDER BY time;

SELECT hostname, count(*) OVER (), sum(usage_user) OVER (PARTITION BY hostname),
       ntile(4) OVER (PARTITION BY hostname ORDER BY time) FROM :T WHERE time = '2024-01-02 12:00';

SELECT * FROM (SELECT hostname, time, usage_user,
                      row_number() OVER (PARTITION BY hostname ORDER BY usage_user DESC NULLS LAST, time) AS rn
                 FROM :T) s WHERE rn <= 2 ORDER BY hostname, rn;

SELECT date_trunc('hour', time) AS hour, max(usage_user),
       rank() OVER (ORDER BY max(usage_user) DESC, date_trunc('hour', time))
  FROM :T WHERE time < '2024-01-01 12:00' GROUP BY 1 ORDER BY 3;

SELECT hostname, time, percent_rank() OVER w, cume_dist() OVER w, nth_value(usage_user, 3) OVER w
  FROM :T WHERE hostname = 'host_6' AND time < '2024-01-01 06:00'
WINDOW w AS (ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) ORDER BY time;

-- @section CTEs
WITH busy AS (SELECT hostname, time FROM :T WHERE usage_user > 95)
SELECT hostname, count(*) FROM busy GROUP BY hostname ORDER BY hostname;

WITH m AS MATERIALIZED (SELECT * FROM :T WHERE time >= '2024-01-03')
SELECT (SELECT count(*) FROM m), (SELECT max(usage_user) FROM m WHERE hostname = 'host_1'),
       (SELECT min(time) FROM m);

WITH m AS NOT MATERIALIZED (SELECT * FROM :T) SELECT count(*) FROM m WHERE hostname = 'host_8';

WITH a AS (SELECT hostname, avg(usage_user) AS au FROM :T GROUP BY hostname),
     b AS (SELECT hostname, avg(usage_system) AS au FROM :T GROUP BY hostname)
SELECT a.hostname, a.au, b.au FROM a FULL JOIN b USING (hostname) ORDER BY 1;

WITH RECURSIVE r(k) AS (SELECT 0 UNION ALL SELECT k + 3 FROM r WHERE k < 12)
SELECT r.k, count(t.*) FROM r LEFT JOIN :T t ON t.tags_id = r.k GROUP BY r.k ORDER BY r.k;

WITH RECURSIVE chain(hostname, depth) AS (
  SELECT hostname, 0 FROM :L WHERE hostname = 'host_0'
  UNION ALL
  SELECT h.hostname, c.depth + 1 FROM chain c JOIN :L h
      ON h.hostname = 'host_' || (substring(c.hostname from 6)::int + 4) WHERE c.depth < 5)
SELECT c.hostname, c.depth, count(t.*), max(t.usage_user)
  FROM chain c LEFT JOIN :T t USING (hostname) GROUP BY 1, 2 ORDER BY 2;

WITH RECURSIVE hours(h) AS (SELECT '2024-01-01 00:00'::timestamptz UNION ALL
                            SELECT h + interval '8 hours' FROM hours WHERE h < '2024-01-03')
SELECT h, (SELECT count(*) FROM :T WHERE time >= h AND time < h + interval '8 hours') FROM hours ORDER BY h;

-- @section subqueries
SELECT count(*), sum(usage_user) FROM :T WHERE hostname IN (SELECT hostname FROM :L WHERE region = 'eu-west-1');

SELECT count(*) FROM :T WHERE hostname NOT IN (SELECT hostname FROM :L WHERE os = 'Ubuntu');

SELECT count(*) FROM :T WHERE tags_id NOT IN (SELECT rack FROM :L);

SELECT count(*) FROM :T t WHERE EXISTS (SELECT 1 FROM :L h WHERE h.hostname = t.hostname AND h.rack = 2);

SELECT count(*) FROM :T t WHERE NOT EXISTS (SELECT 1 FROM :L h WHERE h.hostname = t.hostname);

SELECT time, hostname FROM :T WHERE usage_user = (SELECT max(usage_user) FROM :T) ORDER BY time, hostname;

SELECT (SELECT count(*) FROM :T) - (SELECT count(*) FROM :T WHERE hostname IS NOT NULL) AS nameless;

SELECT h.hostname, (SELECT count(*) FROM :T t WHERE t.hostname = h.hostname),
       (SELECT max(t.time) FROM :T t WHERE t.hostname = h.hostname AND t.usage_user > 90)
  FROM :L h ORDER BY h.hostname;

SELECT h.hostname, l.time, l.usage_user FROM :L h,
       LATERAL (SELECT time, usage_user FROM :T t WHERE t.hostname = h.hostname
                 ORDER BY usage_user DESC NULLS LAST, time LIMIT 2) l
 ORDER BY h.hostname, l.usage_user DESC, l.time;

SELECT h.hostname, l.* FROM :L h LEFT JOIN LATERAL
       (SELECT count(*) AS c, min(time) AS first FROM :T t WHERE t.hostname = h.hostname AND t.time < '2024-01-01 03:00') l ON true
 ORDER BY h.hostname;

SELECT time, hostname, usage_user FROM :T t1 WHERE usage_user > (SELECT avg(usage_user) + 45 FROM :T t2 WHERE t2.hostname = t1.hostname)
   AND t1.time < '2024-01-01 04:00' ORDER BY time, hostname, usage_user;

SELECT count(*) FROM :T WHERE usage_user > ALL (SELECT usage_system FROM :T WHERE hostname = 'host_1' AND time < '2024-01-01 01:00');

SELECT count(*) FROM :T WHERE tags_id = ANY (SELECT rack FROM :L WHERE os = 'Debian');

SELECT hostname, time FROM :T WHERE (hostname, time) IN (SELECT hostname, max(time) FROM :T GROUP BY hostname);

SELECT s.hostname, s.c FROM (SELECT hostname, count(*) AS c FROM :T GROUP BY hostname) s
 WHERE s.c < (SELECT avg(c) FROM (SELECT count(*) AS c FROM :T GROUP BY hostname) a) ORDER BY 1;

-- @section joins
SELECT h.region, count(*), avg(t.usage_user) FROM :T t JOIN :L h USING (hostname) GROUP BY h.region ORDER BY 1 NULLS FIRST;

SELECT h.hostname, h.region, count(t.time) FROM :L h LEFT JOIN :T t ON t.hostname = h.hostname GROUP BY 1, 2 ORDER BY 1;

SELECT t.hostname, h.region, count(*) FROM :T t LEFT JOIN :L h USING (hostname) GROUP BY 1, 2 ORDER BY 1 NULLS FIRST;

SELECT COALESCE(t.hostname, h.hostname), h.os, count(t.*) FROM :T t FULL JOIN :L h ON t.hostname = h.hostname
 WHERE t.time IS NULL OR t.time < '2024-01-01 01:00' GROUP BY 1, 2 ORDER BY 1 NULLS FIRST;

SELECT t.time, t.hostname, h.rack FROM :T t JOIN :L h ON t.hostname = h.hostname AND t.tags_id = h.rack + 10
 WHERE t.time < '2024-01-01 04:00' ORDER BY 1, 2;

SELECT t.time, t.hostname, h.datacenter FROM :T t, :L h WHERE t.hostname = h.hostname AND h.datacenter LIKE 'dc-a%'
   AND t.time BETWEEN '2024-01-02 23:00' AND '2024-01-03 01:00';

-- self-joins: two scans of the table at once
SELECT a.time, a.usage_user, b.usage_user FROM :T a JOIN :T b ON a.time = b.time
 WHERE a.hostname = 'host_1' AND b.hostname = 'host_2' AND a.time < '2024-01-01 12:00' ORDER BY a.time;

SELECT a.hostname, b.hostname, count(*) FROM :T a JOIN :T b ON a.time = b.time AND a.usage_user = b.usage_user AND a.hostname < b.hostname
 GROUP BY 1, 2;

SET enable_hashjoin = off;
SET enable_nestloop = off;
SELECT a.time, a.hostname, b.hostname FROM :T a JOIN :T b ON a.time = b.time AND a.tags_id + 1 = b.tags_id
 WHERE a.time < '2024-01-01 03:00';

SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT a.time, a.usage_user, b.usage_user FROM :T a JOIN :T b ON b.time = a.time AND b.hostname = 'host_5'
 WHERE a.hostname = 'host_4' AND a.time < '2024-01-01 08:00';

SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT h.hostname, count(*) FROM :L h JOIN :T t ON t.hostname = h.hostname AND t.time < '2024-01-01 06:00'
 GROUP BY h.hostname ORDER BY 1;

SELECT a.hostname, a.time, a.usage_user, b.time AS prev FROM :T a JOIN :T b
    ON b.hostname = a.hostname AND b.time = a.time - interval '10 minutes'
 WHERE a.hostname = 'host_13' AND a.usage_user > 80 ORDER BY 2, 3;

SELECT t.hostname, t.time, l.usage_user AS local_value FROM :T t JOIN cpu_local l USING (hostname, time)
 WHERE t.hostname = 'host_3' AND t.usage_user IS DISTINCT FROM l.usage_user AND t.time < '2024-01-02';

-- @section set operations
SELECT hostname FROM :T WHERE usage_user > 99 UNION SELECT hostname FROM :T WHERE usage_system > 99;

SELECT hostname, time FROM :T WHERE usage_user > 99 UNION ALL SELECT hostname, time FROM :T WHERE usage_system > 99;

SELECT hostname FROM :T WHERE flag INTERSECT SELECT hostname FROM :L WHERE region = 'us-east-1';

SELECT hostname FROM :L EXCEPT SELECT hostname FROM :T;

SELECT hostname, tags_id FROM :T WHERE time < '2024-01-01 01:00' EXCEPT ALL SELECT hostname, tags_id FROM :T WHERE time < '2024-01-01 00:30';

-- the table against the local copy: nothing on either side
(SELECT * FROM :T EXCEPT ALL SELECT * FROM cpu_local) UNION ALL (SELECT * FROM cpu_local EXCEPT ALL SELECT * FROM :T);

SELECT time, hostname FROM :T WHERE hostname = 'host_1' INTERSECT ALL SELECT time, hostname FROM :T WHERE time < '2024-01-01 06:00'
 ORDER BY 1;

-- @section expressions
SELECT time, hostname, CASE WHEN flag THEN usage_user WHEN NOT flag THEN -usage_user END,
       COALESCE(note, vc, 'none'), NULLIF(tags_id, 3), GREATEST(usage_user, usage_system, usage_idle),
       LEAST(n, small, big)
  FROM :T WHERE time < '2024-01-01 01:00';

SELECT count(*) FROM :T WHERE CASE WHEN hostname = 'host_1' THEN usage_user > 50 ELSE usage_system > 90 END;

SELECT count(*) FROM :T WHERE COALESCE(usage_user, -1) < 0;

SELECT count(*) FROM :T WHERE NULLIF(small, 0) IS NULL;

SELECT count(*) FROM :T WHERE GREATEST(usage_user, usage_system) > 95 AND LEAST(usage_idle, usage_nice) < 5;

SELECT count(*) FROM :T WHERE flag IS DISTINCT FROM true;

SELECT count(*) FROM :T WHERE hostname IS NOT DISTINCT FROM NULL;

SELECT count(*) FROM :T WHERE note IS DISTINCT FROM '';

SELECT count(*), sum(usage_user) FROM :T WHERE tags_id IN (1, 3, 5, 99) AND hostname NOT IN ('host_3');

SELECT count(*) FROM :T WHERE hostname IN ('host_1', NULL);

SELECT count(*) FROM :T WHERE hostname NOT IN ('host_1', NULL);

SELECT count(*) FROM :T WHERE small BETWEEN -10 AND 10;

SELECT count(*) FROM :T WHERE usage_user BETWEEN SYMMETRIC 60 AND 40;

SELECT count(*) FROM :T WHERE flag IS UNKNOWN;

SELECT count(*) FROM :T WHERE (usage_user > 50) IS NOT TRUE;

SELECT time, hostname, usage_user + usage_system AS us, usage_user * 2 - 1, usage_idle / 4, -usage_nice, abs(n), n % 7,
       big / 1000, small * small, tags_id % 4, round(usage_user), ceil(n), floor(n), sqrt(usage_idle), power(usage_user, 0.5)
  FROM :T WHERE hostname = 'host_12' AND time < '2024-01-01 02:00';

SELECT count(*) FROM :T WHERE usage_user + usage_system > 150;

SELECT count(*) FROM :T WHERE n * 2 > 100 OR big % 3 = 0;

-- @section text
SELECT count(*) FROM :T WHERE note LIKE 'zeta%';

SELECT count(*) FROM :T WHERE note ILIKE 'ZETA%';

SELECT count(*) FROM :T WHERE note LIKE 'ZETA\%2%';

SELECT count(*) FROM :T WHERE note LIKE 'zeta\_1_';

SELECT count(*) FROM :T WHERE note NOT LIKE '%a%';

SELECT count(*) FROM :T WHERE note ~ '^[A-Z]';

SELECT count(*) FROM :T WHERE note ~* 'ALPHA[0-2]';

SELECT count(*) FROM :T WHERE note !~ 'e' ;

SELECT count(*) FROM :T WHERE note SIMILAR TO '(alpha|gamma)%';

SELECT count(*) FROM :T WHERE hostname ~ '_1[0-9]$';

SELECT count(*) FROM :T WHERE note = 'épsilon3';

SELECT count(*) FROM :T WHERE upper(note) = 'ÉPSILON3';

SELECT count(*) FROM :T WHERE length(note) = 0;

SELECT count(*) FROM :T WHERE note < 'b';

SELECT count(*) FROM :T WHERE note < 'b' COLLATE "C";

SELECT count(*) FROM :T WHERE vc = 'v3';

SELECT count(*) FROM :T WHERE vc::text LIKE 'v1%';

SELECT count(*) FROM :T WHERE hostname || '/' || vc = 'host_2/v5';

SELECT hostname, substr(note, 2, 3), left(hostname, 6), lower(note), initcap(note), replace(note, 'a', 'A'),
       split_part(hostname, '_', 2), position('t' IN note), reverse(vc), concat_ws('-', hostname, vc, note)
  FROM :T WHERE time = '2024-01-02 00:00';

SELECT note, count(*) FROM :T GROUP BY note ORDER BY note COLLATE "C" NULLS FIRST;

SELECT note FROM :T WHERE note IS NOT NULL GROUP BY note ORDER BY note DESC;

SELECT DISTINCT vc COLLATE "C" AS v FROM :T ORDER BY 1 DESC NULLS LAST;

SELECT min(note COLLATE "C"), max(note COLLATE "C") FROM :T;

-- @section jsonb
SELECT count(*) FROM :T WHERE js->>'a' = '3';

SELECT count(*) FROM :T WHERE (js->>'a')::int > 6;

SELECT count(*) FROM :T WHERE js @> '{"b": "x1"}';

SELECT count(*) FROM :T WHERE js ? 'b';

SELECT count(*) FROM :T WHERE js->'b' = 'null'::jsonb;

SELECT count(*) FROM :T WHERE js ?| ARRAY['x', 'tags'];

SELECT count(*) FROM :T WHERE js #>> '{tags,1}' = '2';

SELECT count(*) FROM :T WHERE jsonb_path_exists(js, '$.tags[*] ? (@ == 1)');

SELECT count(*) FROM :T WHERE js <@ '{"a": 1, "b": "x1", "tags": [1, 1]}';

SELECT js->'tags', count(*) FROM :T GROUP BY 1 ORDER BY 1 NULLS FIRST;

SELECT time, hostname, js->'a', js->>'b', js #> '{tags}', jsonb_array_length(js->'tags'), js - 'tags', js || '{"z": 1}'
  FROM :T WHERE hostname = 'host_14' AND time < '2024-01-01 03:00';

SELECT jsonb_typeof(js->'b'), count(*) FROM :T GROUP BY 1;

-- @section arrays
SELECT count(*) FROM :T WHERE arr @> ARRAY[1];

SELECT count(*) FROM :T WHERE arr && ARRAY[2, 6];

SELECT count(*) FROM :T WHERE 4 = ANY (arr);

SELECT count(*) FROM :T WHERE arr[1] = arr[2];

SELECT count(*) FROM :T WHERE arr = '{0,0,NULL}';

SELECT count(*) FROM :T WHERE arr <@ ARRAY[0, 1, 2, 3];

SELECT count(*) FROM :T WHERE CASE WHEN array_ndims(arr) = 1 THEN array_position(arr, 2) END = 2;

SELECT arr[3], count(*) FROM :T GROUP BY 1 ORDER BY 1 NULLS FIRST;

SELECT time, hostname, arr, arr || 9, array_length(arr, 1), array_remove(arr, 0), arr[2:3], array_to_string(arr, ';', '*')
  FROM :T WHERE hostname = 'host_15' AND time < '2024-01-01 02:00';

SELECT hostname, unnest(arr) AS v, count(*) FROM :T WHERE time < '2024-01-01 12:00' GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST;

SELECT count(*) FROM :T WHERE hostname = ANY (ARRAY['host_1', 'host_2']);

SELECT count(*) FROM :T WHERE hostname = ANY ('{host_1,NULL}');

SELECT count(*) FROM :T WHERE tags_id <> ALL (ARRAY[1, 2, 3]);

SELECT count(*) FROM :T WHERE tags_id = ANY ('{}'::int[]);

-- @section types and casts
SELECT count(*) FROM :T WHERE usage_user::int = 50;

-- @errors
SELECT count(*) FROM :T WHERE n::int = 10;

SELECT count(*) FROM :T WHERE CASE WHEN n IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE n::int END = 10;

SELECT count(*) FROM :T WHERE big::numeric > 4000000000;

SELECT count(*) FROM :T WHERE small::float8 / 3 > 30;

SELECT count(*) FROM :T WHERE id = 'c4ca4238-a0b9-2382-0dcc-509a6f75849b';

SELECT count(*) FROM :T WHERE id::text LIKE 'c4%';

SELECT count(*) FROM :T WHERE iv > interval '8 hours';

SELECT count(*) FROM :T WHERE iv = '00:05:01';

SELECT count(*) FROM :T WHERE d = '2024-01-05';

SELECT count(*) FROM :T WHERE ts > '2024-01-01 10:00';

SELECT count(*) FROM :T WHERE fx > 500.5;

SELECT count(*) FROM :T WHERE fx = 'Infinity' OR usage_guest = 'NaN';

SELECT count(*) FROM :T WHERE n = 'NaN';

SELECT count(*) FROM :T WHERE usage_steal < 0;

SELECT time::date, time::text, d::timestamptz, ts::timestamptz, iv::text, id::text, n::text, big::text,
       small::int, flag::int, vc::char(3), note::varchar(2), js::text, arr::text, fx::numeric(12, 3),
       usage_user::numeric, tags_id::float8, n::float8
  FROM :T WHERE hostname = 'host_11' AND time >= '2024-01-03 20:00';

SELECT to_char(time, 'YYYY-MM-DD HH24:MI Dy'), to_char(n, 'FM999990.00'), to_char(d, 'DD/MM/YYYY'),
       to_char(iv, 'HH24:MI:SS'), format('%s-%s', hostname, tags_id)
  FROM :T WHERE hostname = 'host_8' AND time < '2024-01-01 01:00';

SELECT hostname, time, fx FROM :T WHERE hostname = 'host_5' AND time < '2024-01-01 02:00' ORDER BY time;

-- @section time and dates
SELECT count(*) FROM :T WHERE time >= '2024-01-02' AND time < '2024-01-03';

SELECT count(*) FROM :T WHERE time = '2024-01-02 06:00';

SELECT count(*) FROM :T WHERE time < '2024-01-01 06:00';

SELECT count(*) FROM :T WHERE time <= '2024-01-01 06:00';

SELECT count(*) FROM :T WHERE time > '2024-01-03 18:00';

SELECT count(*) FROM :T WHERE time >= '2024-01-03 18:00';

SELECT count(*) FROM :T WHERE time BETWEEN '2024-01-01 06:00' AND '2024-01-01 12:00';

SELECT count(*) FROM :T WHERE time IN ('2024-01-01 06:00', '2024-01-02 12:00', '2024-01-03 23:50');

SELECT count(*) FROM :T WHERE time = ANY (ARRAY['2024-01-01 00:00', '2024-01-02 00:00']::timestamptz[]);

SELECT count(*) FROM :T WHERE time > '2024-01-02 08:00+05';

SELECT count(*) FROM :T WHERE time < '2024-01-02'::date;

SELECT count(*) FROM :T WHERE time < '2024-01-02 03:00'::timestamp;

SELECT count(*) FROM :T WHERE time > '-infinity' AND time < 'infinity';

SELECT count(*) FROM :T WHERE time > '2024-01-03' AND time < '2024-01-02';

SELECT count(*) FROM :T WHERE time >= '2024-01-01'::timestamptz + interval '2 days 6 hours';

SELECT count(*) FROM :T WHERE time - interval '1 day' >= '2024-01-02';

SELECT count(*) FROM :T WHERE time > now() - interval '100 years' AND time < now();

SELECT count(*) FROM :T WHERE time > '2024-01-02' OR hostname = 'host_1';

SELECT count(*) FROM :T WHERE NOT (time < '2024-01-02' AND hostname = 'host_1');

SELECT time + interval '1 day 3 hours', time - '2024-01-01'::timestamptz, d - 1, d + 7, d - '2024-01-01'::date,
       ts + iv, extract(epoch FROM time), extract(dow FROM d), date_part('doy', ts), age(ts, '2024-01-01'),
       justify_interval(iv * 10), make_date(2024, 2, extract(day FROM time)::int), time::timestamp AT TIME ZONE 'Asia/Tokyo'
  FROM :T WHERE hostname = 'host_2' AND time BETWEEN '2024-01-01 23:30' AND '2024-01-02 00:30';

SELECT count(*) FROM :T WHERE d > time::date;

SELECT count(*) FROM :T WHERE ts < time::timestamp;

SELECT count(*) FROM :T WHERE extract(hour FROM time) = 6 AND extract(minute FROM time) = 0;

SELECT date_trunc('day', time) AS day, count(*), min(time), max(time) FROM :T GROUP BY 1 ORDER BY 1;

SET timezone = 'America/New_York';
SELECT date_trunc('day', time) AS day, count(*), min(time), max(time) FROM :T GROUP BY 1 ORDER BY 1;

SET timezone = 'Asia/Kolkata';
SELECT time::date, count(*) FROM :T WHERE time < '2024-01-02 12:00' GROUP BY 1 ORDER BY 1;

SET timezone = 'Europe/Paris';
SELECT time, hostname, ts, time::text FROM :T WHERE hostname = 'host_6' AND time >= '2024-01-03 20:00' ORDER BY 1;

SET datestyle = 'SQL, DMY';
SELECT time, d, ts, hostname FROM :T WHERE time >= '03/01/2024 22:00' AND hostname = 'host_6' ORDER BY time;

SET intervalstyle = 'iso_8601';
SELECT iv, count(*) FROM :T WHERE iv < '00:03:00' GROUP BY iv ORDER BY iv;

-- @section other client encodings and styles (values read as text)
SET client_encoding = 'LATIN1';
SELECT * FROM :T WHERE hostname = 'host_9' AND time < '2024-01-01 08:00' ORDER BY time;

SET client_encoding = 'LATIN1';
SELECT note, count(*) FROM :T WHERE hostname IS NOT NULL GROUP BY note ORDER BY note;

SET client_encoding = 'LATIN1';
SET datestyle = 'German';
SET intervalstyle = 'sql_standard';
SET timezone = 'Pacific/Auckland';
SET extra_float_digits = 3;
SELECT * FROM :T WHERE hostname = 'host_10' AND time < '2024-01-01 04:00' ORDER BY time;

SET extra_float_digits = 3;
SELECT time, hostname, fx, usage_user FROM :T WHERE hostname IN ('host_1', 'host_13') AND time < '2024-01-01 04:00' ORDER BY time, hostname;

-- @section non-shippable conditions
SELECT count(*) FROM :T WHERE plus1(tags_id) = 4;

SELECT count(*) FROM :T WHERE is_even_vol(tags_id) AND time < '2024-01-02';

SELECT count(*) FROM :T WHERE host_no(hostname) < 5;

SELECT count(*) FROM :T WHERE random() >= 0 AND hostname = 'host_2';

SELECT count(*) FROM :T WHERE time < clock_timestamp() AND usage_user > 50;

SELECT count(*) FROM :T WHERE time::date = '2024-01-02';

SELECT count(*) FROM :T WHERE date_trunc('hour', time) = '2024-01-02 05:00';

SELECT count(*) FROM :T WHERE to_char(time, 'HH24') = '10';

SELECT count(*) FROM :T WHERE plus1(tags_id) = 4 AND hostname = 'host_3' AND usage_user > 10;

SELECT time, hostname, plus1(tags_id) FROM :T WHERE plus1(tags_id) > 14 AND time < '2024-01-01 02:00';

SELECT count(*) FROM :T WHERE hostname = (SELECT min(hostname) FROM :L WHERE region = 'ap-south-1');

SELECT count(*) FROM :T t WHERE t.hostname = 'host_' || (SELECT max(rack) FROM :L);

-- @section prepared statements
PREPARE p(text, timestamptz, timestamptz) AS
SELECT count(*), sum(usage_user), max(time) FROM :T WHERE hostname = $1 AND time >= $2 AND time < $3;
EXECUTE p('host_1', '2024-01-01', '2024-01-02');
EXECUTE p('host_2', '2024-01-02 06:00', '2024-01-02 12:00');
EXECUTE p('host_3', '2024-01-01', '2024-01-04');
EXECUTE p('host_15', '2024-01-03 23:50', '2024-01-04');
EXECUTE p(NULL, '2024-01-01', '2024-01-04');
EXECUTE p('host_4', '2024-01-01 06:00', '2024-01-01 06:00:01');
EXECUTE p('host_5', '2024-01-02', '2024-01-01');
EXECUTE p('host_0', '2024-01-01', 'infinity');

SET plan_cache_mode = force_generic_plan;
PREPARE p(text, timestamptz, timestamptz) AS
SELECT count(*), sum(usage_user), max(time) FROM :T WHERE hostname = $1 AND time >= $2 AND time < $3;
EXECUTE p('host_1', '2024-01-01', '2024-01-02');
EXECUTE p('host_2', '2024-01-02 06:00', '2024-01-02 12:00');
EXECUTE p('host_3', '2024-01-01', '2024-01-04');
EXECUTE p('host_15', '2024-01-03 23:50', '2024-01-04');
EXECUTE p(NULL, '2024-01-01', '2024-01-04');
EXECUTE p('host_4', '2024-01-01 06:00', '2024-01-01 06:00:01');
EXECUTE p('host_5', '2024-01-02', '2024-01-01');

PREPARE p(text[], int) AS
SELECT hostname, count(*) FROM :T WHERE hostname = ANY ($1) AND tags_id > $2 GROUP BY hostname ORDER BY hostname;
EXECUTE p('{host_1,host_2}', 0);
EXECUTE p('{host_3}', 0);
EXECUTE p('{}', 0);
EXECUTE p(ARRAY['host_4', NULL], -1);
EXECUTE p('{host_5,host_6,host_7}', 6);
EXECUTE p('{host_8}', NULL);
EXECUTE p('{host_9,host_10}', 9);

SET plan_cache_mode = force_generic_plan;
PREPARE p(text[], int) AS
SELECT hostname, count(*) FROM :T WHERE hostname = ANY ($1) AND tags_id > $2 GROUP BY hostname ORDER BY hostname;
EXECUTE p('{host_1,host_2}', 0);
EXECUTE p('{host_3}', 0);
EXECUTE p('{}', 0);
EXECUTE p(ARRAY['host_4', NULL], -1);
EXECUTE p('{host_5,host_6,host_7}', 6);
EXECUTE p('{host_9,host_10}', 9);

PREPARE p(numeric, bigint, smallint, bool, date, timestamp, interval) AS
SELECT count(*) FROM :T WHERE n > $1 AND big < $2 AND small >= $3 AND flag = $4 AND d <= $5 AND ts > $6 AND iv < $7;
EXECUTE p(0, 0, 0, true, '2024-01-05', '2024-01-01', '02:00');
EXECUTE p(-10.5, 4000000000, -50, false, '2024-01-10', '2023-12-31', '08:00');
EXECUTE p(20, 5000000000, 10, true, '2024-01-03', '2024-01-01 08:00', '04:00');
EXECUTE p(NULL, 0, 0, true, '2024-01-05', '2024-01-01', '02:00');
EXECUTE p(50.25, 1, -100, false, '2024-01-08', '2024-01-01 12:00', '1 day');
EXECUTE p(0, 0, 0, true, '2024-01-05', '2024-01-01', '02:00');
EXECUTE p(-30, 5000000000, -100, true, '2024-12-31', '2000-01-01', '10 days');

SET plan_cache_mode = force_generic_plan;
PREPARE p(jsonb, uuid, int[], text, varchar) AS
SELECT count(*), min(time), max(hostname) FROM :T WHERE (js @> $1 OR id = $2 OR arr && $3) AND (note LIKE $4 OR vc = $5);
EXECUTE p('{"a": 1}', NULL, '{}', 'alpha%', 'v1');
EXECUTE p('{}', NULL, NULL, '%', NULL);
EXECUTE p(NULL, 'c4ca4238-a0b9-2382-0dcc-509a6f75849b', '{6}', '', 'v12');
EXECUTE p('{"b": "x2"}', NULL, '{1,2}', 'Z%', 'v0');
EXECUTE p('{"tags": [1]}', 'c81e728d-9d4c-2f63-6f06-7f89cc14862c', '{4}', '%1', 'v3');
EXECUTE p('{"a": 9}', NULL, NULL, NULL, 'v9');
EXECUTE p('{"a": 9}', NULL, '{3}', 'gamma%', NULL);

PREPARE p(int, int) AS SELECT time, hostname, usage_user FROM :T WHERE hostname = 'host_11'
 ORDER BY time DESC, usage_user LIMIT $1 OFFSET $2;
EXECUTE p(3, 0);
EXECUTE p(2, 10);
EXECUTE p(0, 0);
EXECUTE p(5, 400);
EXECUTE p(NULL, 415);
EXECUTE p(1, 1);
EXECUTE p(4, 4);

SET plan_cache_mode = force_generic_plan;
PREPARE p(timestamptz) AS SELECT date_trunc('hour', time), count(*), max(usage_user) FROM :T
 WHERE time >= $1 AND time < $1 + interval '2 hours' GROUP BY 1 ORDER BY 1;
EXECUTE p('2024-01-01 00:00');
EXECUTE p('2024-01-01 05:00');
EXECUTE p('2024-01-02 11:00');
EXECUTE p('2024-01-03 23:00');
EXECUTE p('2024-01-05 00:00');
EXECUTE p(NULL);
EXECUTE p('2024-01-02 17:00+03');

SET plan_cache_mode = force_custom_plan;
PREPARE p(text) AS SELECT count(*) FROM :T t JOIN :L h USING (hostname) WHERE h.region = $1 AND t.usage_user > 50;
EXECUTE p('eu-west-1');
EXECUTE p('us-east-1');
EXECUTE p('ap-south-1');
EXECUTE p(NULL);
EXECUTE p('nowhere');
EXECUTE p('eu-west-1');

-- @section cursors
BEGIN;
DECLARE c CURSOR FOR SELECT time, hostname, usage_user FROM :T WHERE hostname = 'host_2' ORDER BY time;
FETCH 5 FROM c;
FETCH 3 FROM c;
MOVE 100 IN c;
FETCH 2 FROM c;
CLOSE c;
COMMIT;

BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT time, hostname, usage_user FROM :T WHERE hostname = 'host_12' AND time < '2024-01-02' ORDER BY time;
FETCH 3 FROM c;
FETCH BACKWARD 2 FROM c;
FETCH ABSOLUTE 50 FROM c;
FETCH LAST FROM c;
FETCH PRIOR FROM c;
FETCH FIRST FROM c;
FETCH RELATIVE 7 FROM c;
COMMIT;

BEGIN;
DECLARE c1 CURSOR FOR SELECT time, usage_user FROM :T WHERE hostname = 'host_3' ORDER BY time, usage_user;
DECLARE c2 CURSOR FOR SELECT time, usage_system FROM :T WHERE hostname = 'host_4' ORDER BY time;
FETCH 3 FROM c1;
FETCH 3 FROM c2;
FETCH 3 FROM c1;
SELECT count(*) FROM :T WHERE hostname = 'host_5';
FETCH 3 FROM c2;
COMMIT;

-- @unordered
BEGIN;
DECLARE c CURSOR FOR SELECT hostname, count(*) FROM :T GROUP BY hostname;
FETCH ALL FROM c;
COMMIT;

BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT time, hostname, n FROM :T WHERE hostname = 'host_6' ORDER BY time;
FETCH 4 FROM c;
COMMIT;
FETCH 4 FROM c;
CLOSE c;

BEGIN;
DECLARE c CURSOR FOR SELECT time, hostname FROM :T WHERE hostname = 'host_7' ORDER BY time, usage_user;
FETCH 2 FROM c;
COMMIT;
SELECT count(*) FROM :T WHERE hostname = 'host_7';

-- @errors
BEGIN;
SELECT count(*) FROM :T WHERE hostname = 'host_1';
SAVEPOINT s;
SELECT 1 / 0;
ROLLBACK TO s;
SELECT count(*) FROM :T WHERE hostname = 'host_2';
COMMIT;

-- @section limits: scans left unfinished
SELECT time, hostname FROM :T WHERE hostname = 'host_1' ORDER BY time LIMIT 1;

SELECT count(*) FROM (SELECT * FROM :T LIMIT 10) s;

SELECT EXISTS (SELECT 1 FROM :T WHERE usage_user > 99.9);

SELECT (SELECT time FROM :T WHERE hostname = 'host_1' ORDER BY time LIMIT 1),
       (SELECT time FROM :T WHERE hostname = 'host_2' ORDER BY time DESC LIMIT 1);

SELECT h.hostname, (SELECT t.usage_user FROM :T t WHERE t.hostname = h.hostname ORDER BY t.time, t.usage_user LIMIT 1)
  FROM :L h ORDER BY 1;

-- @section other statement kinds
CREATE TEMP TABLE tmp AS SELECT hostname, count(*) AS c FROM :T GROUP BY hostname;
SELECT * FROM tmp ORDER BY hostname;

CREATE TEMP TABLE tmp (LIKE cpu_local);
INSERT INTO tmp SELECT * FROM :T WHERE hostname = 'host_9';
SELECT count(*), sum(usage_user), max(time) FROM tmp;

COPY (SELECT time, hostname, usage_user, note, js, arr FROM :T WHERE hostname = 'host_4' AND time < '2024-01-01 03:00' ORDER BY time) TO STDOUT WITH (FORMAT csv);

CREATE FUNCTION pg_temp.cnt(h text) RETURNS bigint LANGUAGE plpgsql AS
$$BEGIN RETURN (SELECT count(*) FROM :T WHERE hostname = h); END$$;
SELECT hostname, pg_temp.cnt(hostname) FROM :L ORDER BY 1;

CREATE FUNCTION pg_temp.rows_of(h text) RETURNS SETOF :T LANGUAGE sql STABLE AS
$$SELECT * FROM :T WHERE hostname = h$$;
SELECT time, usage_user FROM pg_temp.rows_of('host_1') WHERE time < '2024-01-01 04:00';

DO $$DECLARE r record; s float8 := 0; BEGIN
  FOR r IN SELECT usage_user FROM :T WHERE hostname = 'host_8' LOOP s := s + COALESCE(r.usage_user, 0); END LOOP;
  PERFORM set_config('hd.sum', s::text, false); END$$;
SELECT current_setting('hd.sum');

SELECT t FROM :T t WHERE hostname = 'host_5' AND time < '2024-01-01 01:00';

SELECT row_to_json(t) FROM :T t WHERE hostname = 'host_13' AND time < '2024-01-01 01:00';

SELECT count(*) FROM :T t WHERE t IS NOT NULL;

SELECT to_jsonb(t) - 'time' FROM :T t WHERE time = '2024-01-02 12:00' AND hostname > 'host_5';

VALUES ((SELECT count(*) FROM :T WHERE hostname = 'host_0'), (SELECT count(*) FROM :T WHERE hostname = 'host_1'));

SELECT count(*) FROM :T, generate_series(1, 3) g WHERE hostname = 'host_2' AND g < 3;

SELECT * FROM :T WHERE false;

SELECT count(*) FROM :T WHERE hostname = NULL;

SELECT count(*) FROM :T WHERE hostname IS NULL;

SELECT time, usage_user, note FROM :T WHERE hostname IS NULL ORDER BY time;

SELECT count(*) FROM :T WHERE hostname IS NULL OR hostname = 'host_3';

SELECT count(*) FROM :T WHERE tags_id IS NULL;

SELECT count(*) FROM :T WHERE hostname > 'host_5';

-- @section chunk pruning edge cases
SELECT count(*) FROM :T WHERE time >= '2024-01-02 06:00' AND time <= '2024-01-02 06:00';

SELECT count(*) FROM :T WHERE time > '2024-01-02 05:50' AND time < '2024-01-02 06:00';

SELECT count(*) FROM :T WHERE time < '2024-01-02 06:00' AND time < '2024-01-01 12:00' AND time >= '2023-12-31';

SELECT count(*) FROM :T WHERE time > '2024-01-01 12:00' AND time > '2024-01-03 12:00';

SELECT count(*) FROM :T WHERE time <> '2024-01-02 06:00';

SELECT count(*) FROM :T WHERE NOT (time < '2024-01-03 06:00');

SELECT count(*) FROM :T WHERE time < '2024-01-01 06:00' OR time >= '2024-01-03 18:00';

SELECT count(*) FROM :T WHERE time = NULL::timestamptz;

SELECT count(*) FROM :T WHERE time < NULL;

SELECT count(*) FROM :T WHERE '2024-01-02 12:00' <= time AND '2024-01-02 18:00' > time;

SELECT count(*) FROM :T WHERE time = '2024-01-02 06:00'::timestamp;

SELECT count(*) FROM :T WHERE time >= '2024-01-02'::date + 1;

SELECT count(*) FROM :T WHERE time >= date_trunc('day', '2024-01-02 13:00'::timestamptz);

SELECT count(*) FROM :T WHERE time > now() - interval '1000 years' AND time < '2024-01-01 06:00';

SELECT count(*) FROM :T WHERE time = (SELECT max(time) FROM :T);

SELECT count(*) FROM :T WHERE time >= (SELECT min(time) + interval '2 days' FROM :T);

SELECT count(*) FROM :T WHERE time = ANY (ARRAY['2024-01-01 06:00', NULL, '2024-01-03 06:00']::timestamptz[]);

SELECT count(*) FROM :T WHERE time > ALL (ARRAY['2024-01-01 06:00', '2024-01-03 06:00']::timestamptz[]);

SELECT count(*) FROM :T WHERE time IN (SELECT '2024-01-01'::timestamptz + g * interval '7 hours' FROM generate_series(0, 10) g);

SELECT count(*) FROM :T WHERE hostname = 'host_1' AND hostname = 'host_2';

SELECT count(*) FROM :T WHERE hostname IN ('host_1', 'host_2') AND hostname IN ('host_2', 'host_3');

SELECT count(*) FROM :T WHERE hostname = ANY (NULL::text[]);

SELECT count(*) FROM :T WHERE hostname = ANY (ARRAY['host_1', 'host_1', 'host_7', 'nohost']);

SELECT count(*) FROM :T WHERE hostname = 'host_1' COLLATE "C";

SELECT count(*) FROM :T WHERE hostname COLLATE "C" IN ('host_1', 'host_4');

SELECT count(*) FROM :T WHERE hostname <> 'host_1';

SELECT count(*) FROM :T WHERE hostname = 'host_' || '12';

SELECT count(*) FROM :T WHERE hostname = lower('HOST_13');

SELECT count(*) FROM :T WHERE hostname = (SELECT hostname FROM :L WHERE rack = 3 ORDER BY hostname LIMIT 1);

SELECT count(*) FROM :T WHERE hostname IN (SELECT hostname FROM :L WHERE rack = 3) AND time < '2024-01-02';

SELECT count(*) FROM :T WHERE (hostname = 'host_1' AND time < '2024-01-02') OR (hostname = 'host_2' AND time >= '2024-01-03');

SELECT count(*) FROM :T WHERE hostname IN (SELECT 'host_' || g FROM generate_series(0, 200) g);

SELECT count(*) FROM :T WHERE hostname = ANY ((SELECT array_agg('host_' || g) FROM generate_series(0, 15, 3) g)::text[]);

PREPARE p(text[]) AS SELECT count(*) FROM :T WHERE hostname = ANY ($1);
EXECUTE p(array_fill('host_0'::text, ARRAY[1000]) || '{host_1,host_2}'::text[]);
EXECUTE p(ARRAY[NULL]::text[]);
EXECUTE p('{host_5}');
EXECUTE p(NULL);
EXECUTE p('{host_6}');
EXECUTE p('{host_7,host_7}');
SET plan_cache_mode = force_generic_plan;
EXECUTE p('{host_8}');
EXECUTE p(array_fill('host_3'::text, ARRAY[1000]) || '{host_4,NULL}'::text[]);

-- @section transactions and sessions
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM :T WHERE hostname = 'host_1';
SELECT count(*) FROM :T WHERE hostname = 'host_2';
COMMIT;

BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*), max(usage_user) FROM :T WHERE time < '2024-01-02';
COMMIT;

BEGIN READ ONLY;
SELECT count(*) FROM :T WHERE hostname = 'host_3';
SELECT max(time) FROM :T;
COMMIT;

SET default_transaction_read_only = on;
SELECT count(*) FROM :T WHERE hostname = 'host_4';

SET search_path = pg_catalog;
SELECT count(*), max(usage_user) FROM public.:T WHERE hostname = 'host_5' AND note LIKE 'a%';

SET search_path = pg_catalog, public;
SELECT count(*) FROM :T WHERE plus1(tags_id) = 7 AND hostname ~ '6$';

-- a data node's error in a subtransaction, then more queries in the transaction
-- @errors
BEGIN;
SELECT count(*) FROM :T WHERE hostname = 'host_1';
SAVEPOINT s;
SELECT count(*) FROM :T WHERE n::int = 10;
ROLLBACK TO s;
SELECT count(*) FROM :T WHERE hostname = 'host_2';
COMMIT;

-- @errors
BEGIN;
SELECT count(*) FROM :T WHERE hostname = 'host_1';
SAVEPOINT s;
SELECT count(*) FROM :T WHERE n::int = 10;
ROLLBACK TO s;
RELEASE s;
SAVEPOINT s2;
SELECT count(*) FROM :T WHERE hostname = 'host_3';
RELEASE s2;
SELECT count(*) FROM :T WHERE hostname = 'host_4';
COMMIT;

-- @errors
SELECT count(*) FROM :T WHERE n::int = 10;
SELECT count(*) FROM :T WHERE hostname = 'host_5';

BEGIN;
SELECT count(*) FROM :T WHERE hostname = 'host_1';
SAVEPOINT s;
SELECT count(*) FROM :T WHERE hostname = 'host_2';
ROLLBACK TO s;
SELECT count(*) FROM :T WHERE hostname = 'host_3';
COMMIT;

-- rows written in the transaction are read by it; nothing is left after
BEGIN;
INSERT INTO :T (time, tags_id, hostname, usage_user) VALUES ('2024-01-02 01:01', 5, 'host_5', 42.5), ('2030-06-01', 1, 'host_1', 1);
SELECT count(*), sum(usage_user) FROM :T WHERE hostname = 'host_5';
SELECT time, usage_user FROM :T WHERE time > '2029-01-01';
ROLLBACK;
SELECT count(*) FROM :T WHERE time > '2029-01-01';

BEGIN;
INSERT INTO :T (time, tags_id, hostname, usage_user) VALUES ('2024-01-02 01:01', 5, 'host_5', 42.5);
SAVEPOINT s;
INSERT INTO :T (time, tags_id, hostname, usage_user) VALUES ('2024-01-02 01:02', 5, 'host_5', 43.5);
ROLLBACK TO s;
SELECT time, usage_user FROM :T WHERE hostname = 'host_5' AND time BETWEEN '2024-01-02 01:00' AND '2024-01-02 01:10' ORDER BY time, usage_user;
ROLLBACK;

-- @section more expressions and plans
SELECT count(*) FROM ONLY :T WHERE hostname = 'host_9';

SELECT time, hostname, usage_user FROM :T WHERE hostname = 'host_1' AND time < '2024-01-01 01:00' ORDER BY time FOR SHARE;

SELECT count(*) FROM :T t1 WHERE t1.hostname = 'host_2' AND t1.time IN (SELECT t2.time FROM :T t2 WHERE t2.hostname = 'host_3' AND t2.usage_user > 50);

SELECT substring(note FROM 2 FOR 3), count(*) FROM :T WHERE substring(note FROM 1 FOR 1) = 'a' GROUP BY 1;

SELECT count(*) FROM :T WHERE extract(hour FROM ts) = 13;

SELECT count(*) FROM :T WHERE trim(BOTH 'a' FROM note) = 'lpha1';

SELECT count(*) FROM :T WHERE position('et' IN note) > 0;

SELECT count(*) FROM :T WHERE overlay(hostname PLACING 'X' FROM 1 FOR 1) = 'Xost_3';

SELECT count(*) FROM :T WHERE note IS NOT NULL AND note NOT IN ('', 'x');

SELECT count(*) FROM :T WHERE (usage_user, usage_system) > (50, 50);

SELECT count(*) FROM :T WHERE ROW(hostname, tags_id) = ROW('host_1', 1);

SELECT count(*) FROM :T WHERE flag IS TRUE AND usage_user IS NOT NULL;

SELECT count(*) FROM :T WHERE timezone('Asia/Tokyo', time) < '2024-01-02 09:00';

SELECT count(*) FROM :T WHERE time AT TIME ZONE 'America/New_York' >= '2024-01-02';

SELECT count(*) FROM :T WHERE d - 3 > '2024-01-04';

SELECT count(*) FROM :T WHERE ts + interval '1 hour' < '2024-01-01 00:00';

SELECT count(*) FROM :T WHERE iv * 2 > interval '10 hours';

SELECT count(*) FROM :T WHERE CASE WHEN fx < 1e10 THEN fx::numeric(20, 5) END > 400;

SELECT count(*) FROM :T WHERE usage_user::text = '50';

SELECT count(*) FROM :T WHERE big::text LIKE '-%' AND small::text LIKE '1%';

SELECT count(*) FROM :T WHERE vc::varchar(1) = 'v' AND length(vc) = 2;

SELECT count(*) FROM :T WHERE js::text LIKE '%x2%';

SELECT count(*) FROM :T WHERE arr::text = '{1,1,1}';

SELECT count(*) FROM :T WHERE id::text = md5('7');

SELECT count(*) FROM :T WHERE id = md5('7')::uuid;

SELECT count(*) FROM :T WHERE usage_user > 99.5 AND usage_user < 99.9375;

SELECT count(*) FROM :T WHERE usage_user = 0.0625 OR usage_user = 1e-5;

SELECT count(*) FROM :T WHERE fx = 0.1 * 3;

SELECT count(*) FROM :T WHERE fx > 1e300 OR fx < 1e-299;

SELECT count(*) FROM :T WHERE n > 1e6 OR n < -29.5;

SELECT count(*) FROM :T WHERE big > 9223372036854775000 OR big < -9223372036854775000;

SELECT count(*) FROM :T WHERE small IN (-32768, 32767, 0);

SELECT count(*) FROM :T WHERE d = 'infinity' OR d < '0001-01-01';

SELECT count(*) FROM :T WHERE ts = '-infinity' OR ts > '294000-01-01' OR ts < '0001-01-01';

SELECT count(*) FROM :T WHERE iv > '999 years' OR iv < '1 second';

SELECT count(*) FROM :T WHERE js @> '{"nested": {"deep": [1]}}' OR js = '"scalar"' OR js = '[]';

SELECT count(*) FROM :T WHERE array_ndims(arr) = 2 OR arr = '{}' OR array_lower(arr, 1) = 0;

SELECT count(*) FROM :T WHERE note LIKE E'%\t%' OR note LIKE '%日本%' OR length(note) > 1000;

SELECT time, n, big, small, d, ts, note, js, arr, iv, vc, fx, usage_guest, usage_steal FROM :T
 WHERE hostname IS NULL ORDER BY time;

SET jit = on;
SET jit_above_cost = 0;
SET jit_inline_above_cost = 0;
SET jit_optimize_above_cost = 0;
SELECT hostname, count(*), sum(usage_user), avg(n) FROM :T WHERE usage_system > 10 GROUP BY hostname ORDER BY hostname;

SET work_mem = '64kB';
SELECT hostname, time, usage_user FROM :T ORDER BY usage_user DESC NULLS LAST, time DESC, hostname LIMIT 5 OFFSET 3000;

SET work_mem = '64kB';
SELECT count(*), count(DISTINCT (a.time, a.hostname)) FROM :T a JOIN :T b ON a.time = b.time AND a.hostname = b.hostname;

SET enable_sort = off;
SET enable_hashagg = on;
SELECT hostname, note, count(*) FROM :T GROUP BY hostname, note HAVING count(*) > 70;

SET enable_hashagg = off;
SELECT hostname, note, count(*) FROM :T GROUP BY hostname, note HAVING count(*) > 70;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT l.hostname, count(*) FROM cpu_local l JOIN :T t ON t.time = l.time AND t.hostname = l.hostname
 WHERE l.usage_user > 90 GROUP BY l.hostname ORDER BY 1;

-- @section scans stopped early and restarted
SELECT h.hostname, EXISTS (SELECT 1 FROM :T t WHERE t.hostname = h.hostname AND t.usage_user > 90) FROM :L h ORDER BY 1;

SELECT h.hostname FROM :L h WHERE EXISTS (SELECT 1 FROM :T t WHERE t.hostname = h.hostname AND t.usage_user > 99 OFFSET 0) ORDER BY 1;

SELECT h.hostname, (SELECT count(*) FROM (SELECT 1 FROM :T t WHERE t.hostname = h.hostname LIMIT 3) s) FROM :L h ORDER BY 1;

SELECT h.hostname, (SELECT count(*) FROM (SELECT 1 FROM :T t WHERE t.hostname >= h.hostname LIMIT 1000) s) FROM :L h ORDER BY 1;

SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT g, (SELECT count(*) FROM (SELECT 1 FROM :T t WHERE t.time >= '2024-01-01'::timestamptz + g * interval '5 hours' LIMIT 50) s)
  FROM generate_series(0, 20) g ORDER BY g;

SELECT g, l.* FROM generate_series(0, 11) g, LATERAL (SELECT min(time), max(time), count(*) FROM :T
  WHERE time >= '2024-01-01'::timestamptz + g * interval '6 hours' AND time < '2024-01-01'::timestamptz + (g + 1) * interval '6 hours') l ORDER BY g;

SELECT g, l.* FROM generate_series(0, 16) g, LATERAL (SELECT count(*), sum(usage_user) FROM :T WHERE hostname = 'host_' || g) l ORDER BY g;

SELECT g, l.* FROM generate_series(0, 16) g LEFT JOIN LATERAL (SELECT time, usage_user FROM :T WHERE hostname = 'host_' || g
  ORDER BY time DESC, usage_user LIMIT 1) l ON true ORDER BY g;

-- @section client encodings
SET client_encoding = 'SQL_ASCII';
SELECT time, hostname, note, js FROM :T WHERE note IS NOT NULL AND time < '2024-01-01 00:20' ORDER BY time, hostname;

SET client_encoding = 'WIN1252';
SELECT note, count(*) FROM :T WHERE note LIKE '_psilon%' GROUP BY note ORDER BY note;

SET client_encoding = 'LATIN1';
SELECT count(*) FROM :T WHERE note = 'épsilon3';

SET client_encoding = 'LATIN1';
PREPARE p(text) AS SELECT count(*), min(time) FROM :T WHERE note = $1;
EXECUTE p('épsilon4');
EXECUTE p('épsilon0');
EXECUTE p('alpha3');
EXECUTE p('épsilon2');
EXECUTE p('Beta1');
EXECUTE p('épsilon1');

SET client_encoding = 'LATIN1';
SET intervalstyle = 'sql_standard';
SELECT time, iv, d, ts, n, big, small, arr, vc, fx FROM :T WHERE hostname IS NULL ORDER BY time;

SET client_encoding = 'LATIN1';
SET datestyle = 'SQL, DMY';
SET intervalstyle = 'iso_8601';
SET timezone = 'Australia/Lord_Howe';
SELECT time, iv, d, ts, n, big, small, arr, vc, fx FROM :T WHERE hostname IS NULL ORDER BY time;

SET datestyle = 'Postgres, YMD';
SET intervalstyle = 'postgres_verbose';
SET timezone = 'America/St_Johns';
SELECT time, iv, d, ts FROM :T WHERE hostname IS NULL OR (hostname = 'host_3' AND time < '2024-01-01 01:00') ORDER BY time;

-- @section conditions a data node could evaluate differently (session settings)
SELECT count(*) FROM :T WHERE fx::text LIKE '%33333%';

SELECT count(*) FROM :T WHERE usage_user::text LIKE '%.0625';

SET timezone = 'Asia/Kolkata';
SELECT count(*) FROM :T WHERE date_trunc('day', time) = '2024-01-02';

SET timezone = 'America/New_York';
SELECT count(*) FROM :T WHERE time + interval '1 day' > '2024-01-03' AND time::date < '2024-01-03';

SET timezone = 'America/New_York';
SELECT count(*) FROM :T WHERE date_trunc('day', time, 'Asia/Tokyo') = '2024-01-02 00:00+09';

SET timezone = 'Asia/Tokyo';
SELECT count(*) FROM :T WHERE date_bin('1 day', time, '2024-01-01') = '2024-01-02 00:00+00';

SET timezone = 'Europe/Moscow';
SELECT count(*) FROM :T WHERE extract(hour FROM time) = 3 AND ts::timestamptz < '2024-01-01 12:00';

SET datestyle = 'SQL, DMY';
SELECT count(*) FROM :T WHERE ts::text LIKE '01/01/2024%' OR d::text LIKE '%/01/2024';

SET intervalstyle = 'sql_standard';
SELECT count(*) FROM :T WHERE iv::text LIKE '0:0%';

SELECT count(*) FROM :T WHERE hostname ^@ 'host_1';

SELECT count(*) FROM :T WHERE js @? '$.a ? (@ > 5)';

SELECT count(*) FROM :T WHERE usage_user = n;

SELECT count(*) FROM :T WHERE tags_id = small OR big > tags_id * 1000000;

SELECT count(*) FROM :T WHERE d > ts;

SELECT count(*) FROM :T WHERE vc || 'x' = 'v1x';

SELECT count(*) FROM :T WHERE note = 'alpha1' COLLATE "und-x-icu";

SELECT note, count(*) FROM :T WHERE hostname IS NOT NULL GROUP BY note ORDER BY note COLLATE "en-x-icu", note COLLATE "C";

SELECT count(*) FROM :T WHERE note COLLATE "en-x-icu" < 'beta';

-- @errors
SELECT count(*) FROM :T WHERE tags_id * 1000000000 > 0;

-- @section reading and writing the table in one transaction
BEGIN;
INSERT INTO :T SELECT * FROM :T WHERE hostname = 'host_1' AND time < '2024-01-02';
SELECT count(*), sum(usage_user) FROM :T WHERE hostname = 'host_1';
ROLLBACK;
SELECT count(*), sum(usage_user) FROM :T WHERE hostname = 'host_1';

BEGIN;
INSERT INTO :T SELECT time + interval '10 days', tags_id, hostname, usage_user, usage_system, usage_idle,
       usage_nice, usage_iowait, usage_irq, usage_softirq, usage_steal, usage_guest, usage_guest_nice,
       n, big, small, flag, d, ts, note, js, arr, id, iv, vc, fx FROM :T WHERE time < '2024-01-01 12:00';
SELECT date_trunc('day', time), count(*) FROM :T GROUP BY 1 ORDER BY 1;
ROLLBACK;

BEGIN;
WITH ins AS (INSERT INTO :T (time, hostname, usage_user) VALUES ('2024-01-01 00:05', 'host_2', 7) RETURNING time, hostname, usage_user)
SELECT * FROM ins;
SELECT count(*) FROM :T WHERE time = '2024-01-01 00:05';
ROLLBACK;

-- @section pushed-down grouping and ordering
SELECT hostname, count(*), sum(usage_user) FROM :T WHERE hostname = 'host_1' GROUP BY hostname;

SELECT hostname, max(time) FROM :T WHERE hostname IN ('host_1', 'host_5', 'host_9') GROUP BY hostname ORDER BY 2 DESC, 1 LIMIT 2;

SELECT hostname, count(*) FROM :T GROUP BY hostname ORDER BY count(*) DESC, hostname LIMIT 3;

SELECT date_bin('1 hour', time, '2024-01-01') AS b, count(*) FROM :T GROUP BY b HAVING max(usage_user) > 99 ORDER BY b DESC LIMIT 4;

SELECT flag, avg(big), sum(big), avg(small), sum(n), avg(n), avg(iv), sum(iv) FROM :T GROUP BY flag;

SELECT tags_id, stddev(usage_user), var_pop(usage_system), corr(usage_user, usage_idle) FROM :T GROUP BY tags_id;

SELECT note, min(note), max(note COLLATE "C"), min(vc), count(*) FROM :T GROUP BY note;

SELECT hostname, sum(usage_guest), avg(usage_steal), max(fx), min(fx), sum(fx) FROM :T GROUP BY hostname;

SELECT count(*), sum(usage_user) FROM :T WHERE time < '2024-01-01 06:00' GROUP BY ();

SELECT 1 AS one, count(*) FROM :T GROUP BY one;

SELECT hostname, count(*) FROM :T GROUP BY hostname, hostname;

SELECT upper(hostname), count(*) FROM :T GROUP BY 1;

SELECT hostname || '/' || flag, count(*) FROM :T GROUP BY hostname, flag;

SELECT (usage_user > 50)::int, count(*) FROM :T GROUP BY 1;

SELECT tags_id % 4 AS m, sum(tags_id) FROM :T GROUP BY m HAVING sum(tags_id) > 100;

SELECT hostname, count(*) FROM :T WHERE plus1(tags_id) > 5 GROUP BY hostname;

SELECT hostname, plus1(max(tags_id)), host_no(min(hostname)) FROM :T GROUP BY hostname;

SELECT hostname, count(*) FROM :T GROUP BY hostname HAVING plus1(count(*)::int) > 410;

SELECT hostname, array_agg(DISTINCT flag ORDER BY flag) FROM :T GROUP BY hostname;

SELECT hostname, count(*) FROM :T GROUP BY hostname ORDER BY hostname COLLATE "C" DESC LIMIT 5;

SELECT note FROM :T WHERE note IS NOT NULL ORDER BY note COLLATE "C" DESC, time, hostname LIMIT 7;

SELECT note FROM :T WHERE note IS NOT NULL ORDER BY note COLLATE "en-x-icu", time, hostname LIMIT 7;

SELECT time, hostname, usage_user + usage_system AS s FROM :T ORDER BY usage_user + usage_system DESC NULLS LAST, time, hostname LIMIT 6;

SELECT time, hostname, usage_user FROM :T ORDER BY usage_user NULLS FIRST, time, hostname LIMIT 6;

SELECT time, hostname, fx FROM :T ORDER BY fx DESC NULLS LAST, time, hostname LIMIT 4;

SELECT time, hostname, usage_guest FROM :T ORDER BY usage_guest DESC, time, hostname LIMIT 3;

SELECT time, note FROM :T ORDER BY lower(note) NULLS LAST, time, hostname, note COLLATE "C" LIMIT 5;

SELECT time, hostname FROM :T WHERE hostname = 'host_4' ORDER BY time LIMIT 3 OFFSET 2;

SELECT time, hostname FROM :T ORDER BY time DESC, hostname DESC NULLS LAST LIMIT ALL OFFSET 6640;

SELECT time, hostname FROM :T ORDER BY time, hostname NULLS FIRST OFFSET 6645;

SELECT time, hostname FROM :T ORDER BY time, hostname LIMIT 3 + 2;

SELECT time, hostname FROM :T ORDER BY time, hostname LIMIT (SELECT count(*) FROM :L WHERE rack = 1);

SELECT time, hostname FROM :T ORDER BY time, hostname LIMIT NULL OFFSET 6650;

SELECT time, hostname, usage_user FROM :T WHERE is_even_vol(tags_id) ORDER BY usage_user DESC NULLS LAST, time, hostname LIMIT 5;

SELECT time, hostname, usage_user FROM :T WHERE usage_user > 10 ORDER BY plus1(tags_id) DESC, time, hostname LIMIT 5;

SELECT DISTINCT hostname FROM :T ORDER BY hostname LIMIT 5;

SELECT DISTINCT ON (hostname) hostname, time FROM :T ORDER BY hostname, time DESC LIMIT 4;

SELECT time, hostname FROM :T ORDER BY time, hostname LIMIT 4 FOR SHARE;

SELECT * FROM (SELECT time, hostname, usage_user FROM :T ORDER BY time DESC, hostname LIMIT 10) s ORDER BY usage_user NULLS FIRST, time, hostname;

SELECT hostname, (SELECT max(usage_user) FROM :T t WHERE t.hostname = h.hostname), (SELECT count(*) FROM :T t WHERE t.hostname = h.hostname AND t.flag)
  FROM :L h ORDER BY 1;

SELECT h.region, s.* FROM :L h JOIN (SELECT hostname, count(*) AS c, max(time) AS m FROM :T GROUP BY hostname) s USING (hostname) ORDER BY 2;

SELECT * FROM (SELECT hostname, count(*) AS c FROM :T GROUP BY hostname) a JOIN (SELECT hostname, count(*) AS c FROM :T WHERE flag GROUP BY hostname) b USING (hostname) ORDER BY 1;

SELECT hostname, count(*) FROM :T GROUP BY hostname UNION ALL SELECT note, count(*) FROM :T GROUP BY note;

SELECT count(*) FROM (SELECT hostname, date_bin('1 hour', time, '2024-01-01') FROM :T GROUP BY 1, 2) s;

SELECT hostname, count(*), count(*) FILTER (WHERE plus1(tags_id) > 3) FROM :T GROUP BY hostname;

SELECT hostname, sum(usage_user ORDER BY time) FROM :T GROUP BY hostname;

SELECT hostname, percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user), count(*) FROM :T GROUP BY hostname HAVING count(*) > 0;

SELECT count(*) FROM (SELECT DISTINCT hostname, flag FROM :T) s;

SELECT hostname, count(*) FROM :T GROUP BY hostname HAVING count(*) > (SELECT count(*) / 17 FROM :T);

SELECT hostname, sum(usage_user) FROM :T WHERE time >= now() - interval '1000 years' GROUP BY hostname;

SELECT hostname, count(*) FROM :T WHERE time < clock_timestamp() GROUP BY hostname;

SET enable_partitionwise_aggregate = on;
SELECT hostname, count(*), sum(usage_user) FROM :T GROUP BY hostname;

SET plan_cache_mode = force_generic_plan;
PREPARE p(int, text) AS SELECT hostname, count(*), sum(usage_user) FROM :T WHERE tags_id > $1 AND note LIKE $2 GROUP BY hostname ORDER BY 2 DESC, 1 LIMIT 3;
EXECUTE p(0, 'a%');
EXECUTE p(5, '%');
EXECUTE p(NULL, '%');
EXECUTE p(10, 'Z%');
EXECUTE p(-1, '%1');
EXECUTE p(3, 'g%');
EXECUTE p(2, 'D%');

-- @section writes in a transaction, read back, rolled back
BEGIN;
UPDATE :T SET usage_user = usage_user + 1, note = 'updated' WHERE hostname = 'host_1' AND time < '2024-01-01 06:00';
SELECT count(*), sum(usage_user), count(*) FILTER (WHERE note = 'updated') FROM :T WHERE hostname = 'host_1';
ROLLBACK;
SELECT count(*), sum(usage_user), count(*) FILTER (WHERE note = 'updated') FROM :T WHERE hostname = 'host_1';

BEGIN;
DELETE FROM :T WHERE hostname = 'host_2' AND usage_user > 50;
SELECT count(*), sum(usage_user) FROM :T WHERE hostname = 'host_2';
SELECT count(*) FROM :T;
ROLLBACK;
SELECT count(*) FROM :T;

-- @unordered
BEGIN;
UPDATE :T SET n = n * 2 WHERE hostname IN ('host_3', 'host_4') AND time >= '2024-01-03 23:00' RETURNING time, hostname, n;
DELETE FROM :T WHERE hostname = 'host_5' AND time >= '2024-01-03 23:00' RETURNING time, hostname, usage_user;
SELECT hostname, count(*), sum(n) FROM :T WHERE time >= '2024-01-03 23:00' GROUP BY hostname ORDER BY 1 NULLS FIRST;
ROLLBACK;

-- @todo by design (fdw/direct_modify.c): UPDATE/DELETE whose WHERE the data nodes cannot evaluate (a local function) is refused with 0A000
BEGIN;
UPDATE :T SET flag = NOT flag WHERE plus1(tags_id) = 8 AND time < '2024-01-02';
DELETE FROM :T WHERE is_even_vol(tags_id) AND time >= '2024-01-03 12:00';
SELECT hostname, count(*), count(*) FILTER (WHERE flag) FROM :T GROUP BY hostname ORDER BY 1 NULLS FIRST;
ROLLBACK;

-- @todo by design (fdw/direct_modify.c): UPDATE ... FROM / DELETE ... USING another table is refused with 0A000
BEGIN;
UPDATE :T t SET usage_system = h.rack FROM :L h WHERE t.hostname = h.hostname AND t.time = '2024-01-02 12:00';
DELETE FROM :T t USING :L h WHERE t.hostname = h.hostname AND h.region IS NULL AND t.time < '2024-01-01 12:00';
SELECT hostname, count(*), sum(usage_system) FROM :T WHERE time <= '2024-01-02 12:00' GROUP BY hostname ORDER BY 1 NULLS FIRST;
ROLLBACK;

BEGIN;
DELETE FROM :T WHERE hostname IS NULL;
UPDATE :T SET js = js || '{"u": 1}', arr = arr || 0 WHERE hostname = 'host_6' AND time < '2024-01-01 01:00';
SELECT time, hostname, js, arr FROM :T WHERE (hostname = 'host_6' AND time < '2024-01-01 01:00') OR hostname IS NULL ORDER BY time;
ROLLBACK;

BEGIN;
UPDATE :T SET iv = iv + '1 hour'::interval, ts = ts + (now() - now()) WHERE hostname = 'host_8' AND time > now() - interval '1000 years' AND time < '2024-01-01 03:00';
SELECT time, iv, ts FROM :T WHERE hostname = 'host_8' AND time < '2024-01-01 03:00' ORDER BY time;
ROLLBACK;

-- @unordered
BEGIN;
PREPARE u(text, float8) AS UPDATE :T SET usage_user = $2 WHERE hostname = $1 AND time < '2024-01-01 01:00' RETURNING time, hostname, usage_user;
EXECUTE u('host_1', 1.5);
EXECUTE u('host_2', 2.5);
EXECUTE u('host_3', NULL);
EXECUTE u(NULL, 3);
EXECUTE u('host_1', 4.5);
EXECUTE u('host_4', 5.5);
SET LOCAL plan_cache_mode = force_generic_plan;
EXECUTE u('host_5', 6.5);
EXECUTE u('host_1', 7.5);
SELECT hostname, sum(usage_user), count(*) FROM :T WHERE time < '2024-01-01 01:00' GROUP BY hostname;
ROLLBACK;

BEGIN;
DELETE FROM :T WHERE time < '2024-01-02';
SELECT count(*), min(time) FROM :T;
DELETE FROM :T;
SELECT count(*) FROM :T;
ROLLBACK;
SELECT count(*), min(time) FROM :T;

-- @section pushed-down aggregates: more shapes
SELECT hostname, count(*) FROM :T GROUP BY hostname, tags_id;

SELECT count(*), sum(usage_user) FROM :T GROUP BY hostname, date_bin('1 day', time, '2024-01-01');

SELECT hostname || '!', count(*) FROM :T GROUP BY hostname;

SELECT tags_id + 1, max(usage_user) - min(usage_user), sum(usage_user) / count(*), CASE WHEN count(*) > 400 THEN 'many' ELSE 'few' END
  FROM :T GROUP BY tags_id + 1;

SELECT count(*) FROM :T HAVING count(*) > 100;

SELECT 1 FROM :T HAVING count(*) > 100000;

SELECT hostname, count(t.*) FROM :T t GROUP BY hostname;

SELECT tags_id::bit(8) AS b, count(*), sum(usage_user) FROM :T GROUP BY 1;

SELECT (tags_id % 4)::bit(3)::varbit AS b, count(*) FROM :T GROUP BY 1 ORDER BY 1 NULLS FIRST;

SELECT note, count(*) FROM :T WHERE hostname IS NOT NULL GROUP BY note ORDER BY note USING ~<~ NULLS FIRST;

SELECT time, note FROM :T WHERE note IS NOT NULL AND hostname IS NOT NULL ORDER BY note USING ~>~, time, hostname LIMIT 5;

SELECT hostname, sum(usage_user * 2), max(lower(note)), count(NULLIF(flag, true)), avg(usage_user + usage_system) FROM :T GROUP BY hostname;

SELECT sum(fx), avg(fx), max(fx), min(fx) FROM :T WHERE fx < 1e10 AND fx > 1e-10;

SELECT time, hostname, sum(fx)::numeric, avg(fx)::numeric, max(fx)::numeric, sum(usage_user) FROM :T
 WHERE time < '2024-01-01 03:00' GROUP BY time, hostname;

SELECT flag, count(*), avg(iv), sum(iv), min(iv), max(iv) FROM :T GROUP BY flag;

SELECT hostname, avg(big), sum(big), avg(n), sum(n), var_pop(n), avg(small) FROM :T GROUP BY hostname;

SELECT hostname, bool_and(flag), bool_or(flag), bit_or(tags_id), min(d), max(ts), min(time), max(note) FROM :T GROUP BY hostname;

-- the same, values read as text
SET client_encoding = 'LATIN1';
SELECT time, hostname, sum(fx)::numeric, avg(fx)::numeric, max(fx)::numeric, sum(usage_user) FROM :T
 WHERE time < '2024-01-01 03:00' GROUP BY time, hostname;

SET client_encoding = 'LATIN1';
SELECT time, hostname, fx::numeric FROM :T WHERE time < '2024-01-01 01:00';

SET client_encoding = 'LATIN1';
SET intervalstyle = 'sql_standard';
SELECT flag, count(*), avg(iv), sum(iv), min(iv), max(iv) FROM :T GROUP BY flag;

SET client_encoding = 'LATIN1';
SET bytea_output = 'escape';
SELECT hostname, avg(big), sum(big), avg(n), sum(n), var_pop(n), avg(small) FROM :T GROUP BY hostname;

SET client_encoding = 'LATIN1';
SET datestyle = 'German';
SET timezone = 'Asia/Kathmandu';
SELECT hostname, bool_and(flag), bool_or(flag), bit_or(tags_id), min(d), max(ts), min(time), max(time) FROM :T GROUP BY hostname;

SET client_encoding = 'LATIN1';
SELECT hostname, count(*), avg(usage_user), stddev(usage_system), corr(usage_user, usage_idle) FROM :T GROUP BY hostname;

SET client_encoding = 'LATIN1';
SELECT date_bin('6 hours', time, '2024-01-01') AS b, hostname, max(usage_user), count(*) FROM :T
 WHERE hostname IN ('host_1', 'host_2') GROUP BY 1, 2 ORDER BY 1, 2;

SET client_encoding = 'LATIN1';
SELECT time, hostname, usage_user FROM :T ORDER BY usage_user DESC NULLS LAST, time, hostname LIMIT 5;

SET client_encoding = 'LATIN1';
SELECT DISTINCT ON (hostname) hostname, time, fx::numeric FROM :T WHERE hostname IS NOT NULL ORDER BY hostname, time DESC;

SET extra_float_digits = 3;
SELECT time, hostname, sum(fx), avg(fx), max(fx) FROM :T WHERE time < '2024-01-01 02:00' GROUP BY time, hostname;

-- @section pushed-down queries rescanned and fetched piecemeal
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT hostname, count(*), avg(usage_user) FROM :T GROUP BY hostname ORDER BY hostname;
FETCH 3 FROM c;
FETCH BACKWARD 2 FROM c;
FETCH ABSOLUTE 10 FROM c;
FETCH LAST FROM c;
FETCH FIRST FROM c;
COMMIT;

BEGIN;
DECLARE c CURSOR FOR SELECT time, hostname, usage_user FROM :T ORDER BY usage_user DESC NULLS LAST, time, hostname LIMIT 20;
FETCH 5 FROM c;
DECLARE d CURSOR FOR SELECT DISTINCT ON (hostname) hostname, time FROM :T ORDER BY hostname, time DESC;
FETCH 2 FROM d;
FETCH 5 FROM c;
FETCH ALL FROM d;
COMMIT;

SELECT g, l.* FROM generate_series(0, 5) g, LATERAL (SELECT hostname, count(*), max(usage_user) FROM :T t
  WHERE t.time >= '2024-01-01'::timestamptz + g * interval '12 hours' AND t.time < '2024-01-01'::timestamptz + (g + 1) * interval '12 hours'
    AND t.hostname IN ('host_1', 'host_2') GROUP BY hostname) l ORDER BY 1, 2;

SELECT g, l.* FROM generate_series(0, 5) g, LATERAL (SELECT time, hostname FROM :T t
  WHERE t.time >= '2024-01-01'::timestamptz + g * interval '12 hours' ORDER BY time, hostname LIMIT 2) l ORDER BY 1, 2, 3;

SELECT h.hostname, (SELECT max(time) FROM :T t WHERE t.hostname = h.hostname AND t.usage_user > h.rack * 20),
       (SELECT time FROM :T t WHERE t.hostname = h.hostname ORDER BY usage_user DESC NULLS LAST, time LIMIT 1)
  FROM :L h ORDER BY 1;

CREATE TEMP VIEW v AS SELECT time, hostname, usage_user, usage_system FROM :T WHERE usage_user > 80;
SELECT hostname, count(*), avg(usage_system) FROM v GROUP BY hostname ORDER BY 1;
SELECT * FROM v ORDER BY usage_user DESC, time, hostname LIMIT 3;

BEGIN;
WITH d AS (DELETE FROM :T WHERE hostname = 'host_9' AND time < '2024-01-01 02:00' RETURNING time, usage_user)
SELECT count(*), sum(usage_user) FROM d;
SELECT count(*) FROM :T WHERE hostname = 'host_9';
ROLLBACK;
