--
-- Continuous aggregates on distributed hypertables (docs/ARCHITECTURE.md,
-- "Continuous aggregates").  Every aggregate is compared with its own
-- definition run on the raw rows (cagg_diff: rows only in one of the two,
-- EXCEPT ALL both ways), after refreshes following inserts into old ranges,
-- COPY, UPDATE, DELETE and drop_chunks.  Values are multiples of 1/4, so
-- sums and averages of float8 are exact whatever the order the data nodes
-- add them in.  Needs dn1..dn3 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE cm (time timestamptz NOT NULL, dev int NOT NULL, v float8);
SELECT table_name FROM create_distributed_hypertable('cm', 'time', 'dev',
                                                     chunk_time_interval => interval '1 day');
INSERT INTO cm SELECT t, i % 5, (i % 97) / 4.0
  FROM generate_series(timestamptz '2026-01-01', '2026-01-05 23:59', '7 min')
       WITH ORDINALITY AS g(t, i);

-- ---- create, refresh, query -----------------------------------------------------
CREATE MATERIALIZED VIEW c_hour_dev WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time) AS bucket, dev, count(*) AS n, sum(v) AS total, avg(v),
       min(v), max(v), first(v, time), last(v, time)
  FROM cm GROUP BY 1, 2 WITH NO DATA;
CREATE MATERIALIZED VIEW c_day WITH (timescaledb.continuous) AS
SELECT time_bucket(interval '1 day', time), count(*), sum(v), avg(v), max(v)
  FROM cm GROUP BY 1;
CREATE MATERIALIZED VIEW c_month (month, rows, total) WITH (timescaledb.continuous) AS
SELECT time_bucket('1 month', time), count(*), sum(v) FROM cm GROUP BY 1 WITH NO DATA;
CREATE MATERIALIZED VIEW c_filtered WITH (timescaledb.continuous, timescaledb.create_group_indexes = false) AS
SELECT dev, time_bucket('6 hours', time) AS b, count(*), min(v) FROM cm
 WHERE v > 3 GROUP BY dev, b HAVING count(*) > 5 WITH NO DATA;

SELECT view_name, view_owner, materialized_only, materialization_hypertable_schema,
       hypertable_name, finalized
  FROM hyperdist_information.continuous_aggregates ORDER BY view_name;
-- WITH DATA refreshed c_day; WITH NO DATA left the others empty
SELECT (SELECT count(*) FROM c_hour_dev) AS hour_dev, (SELECT count(*) FROM c_day) AS day,
       cagg_diff('c_day') AS day_diff;
-- the refresh's query: time range, grouping and partial aggregates on the data nodes
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time_bucket('1 hour', time), dev, count(*), avg(v) FROM cm
 WHERE time >= '2026-01-02' AND time < '2026-01-03' GROUP BY 1, 2;
CALL refresh_continuous_aggregate('c_hour_dev', NULL, NULL);
CALL refresh_continuous_aggregate('c_month', NULL, '2027-01-01');
CALL refresh_continuous_aggregate('c_filtered', '2025-12-31', NULL);
SELECT c, cagg_diff(c) FROM unnest('{c_hour_dev,c_day,c_month,c_filtered}'::regclass[]) c;
SELECT * FROM c_month ORDER BY month;
SELECT * FROM c_hour_dev ORDER BY bucket, dev LIMIT 3;

-- a window is cut to the whole buckets inside it
INSERT INTO cm VALUES ('2026-01-02 10:30', 1, 1000), ('2026-01-03 10:30', 1, 1000);
CALL refresh_continuous_aggregate('c_hour_dev', '2026-01-02 10:00', '2026-01-03 10:59');
SELECT bucket, dev, n, max FROM c_hour_dev WHERE max = 1000 ORDER BY bucket;
SELECT cagg_diff('c_hour_dev');
CALL refresh_continuous_aggregate('c_hour_dev', '2026-01-03 10:00', '2026-01-03 11:00');
SELECT cagg_diff('c_hour_dev');

-- ---- old ranges change: INSERT, COPY, UPDATE, DELETE, drop_chunks -------------------
INSERT INTO cm SELECT t, 7, 2.5 FROM generate_series(timestamptz '2026-01-02', '2026-01-02 05:00', '1 hour') t;
COPY cm FROM stdin;
2026-01-03 01:02:03+00	3	11.25
2026-01-04 23:59:59+00	8	0.5
\.
UPDATE cm SET v = v + 0.25 WHERE dev = 2 AND time < '2026-01-03';
DELETE FROM cm WHERE dev = 4 AND time >= '2026-01-04 06:00' AND time < '2026-01-04 18:00';
-- stale until refreshed
SELECT c, cagg_diff(c) > 0 AS stale FROM unnest('{c_hour_dev,c_day,c_month,c_filtered}'::regclass[]) c;
CALL refresh_continuous_aggregate('c_hour_dev', '2026-01-02', '2026-01-05');
CALL refresh_continuous_aggregate('c_day', '2026-01-01', '2026-01-06');
CALL refresh_continuous_aggregate('c_month', NULL, NULL);
CALL refresh_continuous_aggregate('c_filtered', NULL, NULL);
-- c_hour_dev's window left out the UPDATE's rows of 2026-01-01
SELECT c, cagg_diff(c) FROM unnest('{c_hour_dev,c_day,c_month,c_filtered}'::regclass[]) c;
SELECT count(*) AS stale FROM c_hour_dev WHERE dev = 2 AND bucket < '2026-01-02'
   AND (bucket, total) NOT IN (SELECT time_bucket('1 hour', time), sum(v) FROM cm
                                WHERE dev = 2 GROUP BY 1);
CALL refresh_continuous_aggregate('c_hour_dev', '2026-01-01', '2026-01-02');
SELECT cagg_diff('c_hour_dev');
SELECT count(*) AS dropped FROM drop_chunks('cm', older_than => timestamptz '2026-01-02');
SELECT c, cagg_diff(c) > 0 AS stale FROM unnest('{c_hour_dev,c_day,c_month,c_filtered}'::regclass[]) c;
CALL refresh_continuous_aggregate('c_hour_dev', NULL, NULL);
CALL refresh_continuous_aggregate('c_day', NULL, NULL);
CALL refresh_continuous_aggregate('c_month', NULL, NULL);
CALL refresh_continuous_aggregate('c_filtered', NULL, NULL);
SELECT c, cagg_diff(c) FROM unnest('{c_hour_dev,c_day,c_month,c_filtered}'::regclass[]) c;
SELECT min(bucket) FROM c_hour_dev;

-- ---- real-time aggregation ------------------------------------------------------------
CREATE MATERIALIZED VIEW c_rt WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('30 minutes', time) AS b, dev, count(*), sum(v) FROM cm GROUP BY 1, 2 WITH NO DATA;
SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS rt_mat
  FROM hyperdist_information.continuous_aggregates WHERE view_name = 'c_rt' \gset
-- nothing materialized: all of it from the raw rows
SELECT cagg_diff('c_rt'), (SELECT count(*) FROM :rt_mat) AS materialized;
CALL refresh_continuous_aggregate('c_rt', NULL, '2026-01-04');
INSERT INTO cm VALUES ('2026-01-07 00:10', 1, 4), ('2026-01-07 00:20', 1, 8), ('2026-01-08', 2, 1);
-- materialized below the watermark, the newest rows from the data nodes
SELECT cagg_diff('c_rt');
SELECT * FROM c_rt WHERE b >= '2026-01-07' ORDER BY b, dev;
-- below the watermark, unrefreshed changes do not show (as in TimescaleDB)
INSERT INTO cm VALUES ('2026-01-02 00:01', 1, 4);
SELECT cagg_diff('c_rt') AS stale_rows;
CALL refresh_continuous_aggregate('c_rt', '2026-01-02', '2026-01-03');
SELECT cagg_diff('c_rt');
ALTER MATERIALIZED VIEW c_rt SET (timescaledb.materialized_only = true);
SELECT materialized_only FROM hyperdist_information.continuous_aggregates WHERE view_name = 'c_rt';
SELECT count(*) AS newest FROM c_rt WHERE b >= '2026-01-07';
ALTER MATERIALIZED VIEW c_rt SET (timescaledb.materialized_only = false);
SELECT count(*) AS newest FROM c_rt WHERE b >= '2026-01-07';

-- ---- integer time --------------------------------------------------------------------
CREATE TABLE ci (t bigint NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('ci', 't', chunk_time_interval => 1000);
INSERT INTO ci SELECT i, i % 13 FROM generate_series(-2500, 4999) i;
CREATE MATERIALIZED VIEW c_int WITH (timescaledb.continuous) AS
SELECT time_bucket(100, t) AS b, count(*), sum(v), max(v) FROM ci GROUP BY 1;
SELECT cagg_diff('c_int'), (SELECT count(*) FROM c_int) AS buckets;
DELETE FROM ci WHERE t BETWEEN 10 AND 250;
CALL refresh_continuous_aggregate('c_int', 0, 300);
SELECT cagg_diff('c_int');

-- ---- refresh policies (run with run_job; jobs see hyperdist.debug_job_now) -------------
SET hyperdist.debug_job_now = '2026-01-08 12:30:00+00';
CREATE MATERIALIZED VIEW c_pol WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time) AS bucket, count(*), max(v) FROM cm GROUP BY 1 WITH NO DATA;
SELECT add_continuous_aggregate_policy('c_pol', start_offset => interval '3 days',
         end_offset => interval '1 hour', schedule_interval => '1 hour',
         initial_start => '2100-01-01 00:00+00') AS pol \gset
SELECT application_name = 'Refresh Continuous Aggregate Policy [' || job_id || ']' AS named,
       schedule_interval, proc_schema, proc_name, hypertable_name, config ? 'mat_hypertable_id' AS by_id,
       config->'start_offset' AS start_offset, config->'end_offset' AS end_offset
  FROM hyperdist_information.jobs WHERE job_id = :pol;
CALL run_job(:pol);
-- [12:30 three days before, 11:30) cut to whole buckets: [2026-01-05 13:00, 2026-01-08 11:00)
SELECT min(bucket), max(bucket) FROM c_pol;
SELECT count(*) AS differences FROM (
  (TABLE c_pol EXCEPT ALL
   SELECT time_bucket('1 hour', time), count(*), max(v) FROM cm
    WHERE time >= '2026-01-05 13:00' AND time < '2026-01-08 11:00' GROUP BY 1)
  UNION ALL
  (SELECT time_bucket('1 hour', time), count(*), max(v) FROM cm
    WHERE time >= '2026-01-05 13:00' AND time < '2026-01-08 11:00' GROUP BY 1
   EXCEPT ALL TABLE c_pol)) d;
SELECT add_continuous_aggregate_policy('c_pol', interval '3 days', interval '1 hour', '1 hour');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT add_continuous_aggregate_policy('c_pol', interval '3 days', interval '1 hour', '1 hour',
                                       if_not_exists => true);
SELECT add_continuous_aggregate_policy('c_pol', interval '2 days', interval '1 hour', '1 hour',
                                       if_not_exists => true);
SELECT remove_continuous_aggregate_policy('c_pol');
SELECT remove_continuous_aggregate_policy('c_pol');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT remove_continuous_aggregate_policy('c_pol', if_exists => true);
SELECT add_continuous_aggregate_policy('c_pol', interval '90 minutes', NULL, '1 hour',
                                       initial_start => '2100-01-01 00:00+00') AS pol \gset
SELECT add_continuous_aggregate_policy('c_pol', interval '2 hours', interval '1 hour', '1 hour');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT add_continuous_aggregate_policy('c_pol', 10, NULL, '1 hour');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT add_continuous_aggregate_policy('c_int', interval '1 day', NULL, '1 hour');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT add_continuous_aggregate_policy('c_pol', interval '3 days', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT add_continuous_aggregate_policy('cm', interval '3 days', NULL, '1 hour');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
-- integer time: "now" is the integer_now function's
CREATE FUNCTION ci_now() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 5000::bigint';
SELECT set_integer_now_func('ci', 'ci_now');
INSERT INTO ci VALUES (4000, 1000);
SELECT add_continuous_aggregate_policy('c_int', 2000, 500, '1 hour',
                                       initial_start => '2100-01-01 00:00+00') AS int_pol \gset
SELECT cagg_diff('c_int') AS stale_rows;
CALL run_job(:int_pol);
SELECT cagg_diff('c_int');
-- dropping a continuous aggregate removes its policy
DROP MATERIALIZED VIEW c_pol;
SELECT count(*) AS c_pol_policies, (SELECT count(*) FROM _hyperdist_catalog.bgw_job
                                    WHERE id = :int_pol) AS c_int_policies
  FROM _hyperdist_catalog.bgw_job WHERE id = :pol;
RESET hyperdist.debug_job_now;

-- ---- bad input ---------------------------------------------------------------------------
CREATE TABLE plain (time timestamptz NOT NULL, v int);
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time), count(*) FROM plain GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT dev, count(*) FROM cm GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time), count(*) FROM cm WHERE time < now() GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time), time_bucket('1 day', time), count(*) FROM cm GROUP BY 1, 2;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', cm.time), count(*) FROM cm JOIN plain USING (time) GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time), dev + 1, count(*) FROM cm GROUP BY 1, 2;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time), count(*) FROM cm GROUP BY 1 ORDER BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous, timescaledb.unknown = 1) AS
SELECT time_bucket('1 hour', time), count(*) FROM cm GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW bad WITH (timescaledb.continuous, fillfactor = 50) AS
SELECT time_bucket('1 hour', time), count(*) FROM cm GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CREATE MATERIALIZED VIEW IF NOT EXISTS c_day WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time), count(*) FROM cm GROUP BY 1;
BEGIN;
CALL refresh_continuous_aggregate('c_day', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
ROLLBACK;
CALL refresh_continuous_aggregate('c_day', '2026-01-02 01:00', '2026-01-02 23:00');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CALL refresh_continuous_aggregate('plain', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CALL refresh_continuous_aggregate(NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
CALL refresh_continuous_aggregate('c_day', 1, 2);
\echo :LAST_ERROR_SQLSTATE
DROP VIEW c_day;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS day_mat
  FROM hyperdist_information.continuous_aggregates WHERE view_name = 'c_day' \gset
DROP TABLE :day_mat;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
DROP TABLE cm;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS caggs FROM hyperdist_information.continuous_aggregates;

-- ---- a role that is no superuser ------------------------------------------------------
CREATE ROLE cagg_owner LOGIN;
CREATE ROLE cagg_other LOGIN;
CALL distributed_exec($$CREATE ROLE cagg_owner LOGIN PASSWORD 'cagg_owner_pw'$$, '{dn1,dn2}');
GRANT USAGE ON FOREIGN SERVER dn1, dn2 TO cagg_owner;
CREATE USER MAPPING FOR cagg_owner SERVER dn1 OPTIONS (password 'cagg_owner_pw');
CREATE USER MAPPING FOR cagg_owner SERVER dn2 OPTIONS (password 'cagg_owner_pw');
GRANT CREATE ON SCHEMA public TO cagg_owner, cagg_other;
CREATE TABLE co (time timestamptz NOT NULL, v int);
ALTER TABLE co OWNER TO cagg_owner;
SELECT table_name FROM create_distributed_hypertable('co', 'time', data_nodes => '{dn1,dn2}');
SET ROLE cagg_owner;
INSERT INTO co SELECT t, 1 FROM generate_series(timestamptz '2026-01-01', '2026-01-02', '1 hour') t;
CREATE MATERIALIZED VIEW c_owned WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', time) AS d, sum(v) FROM co GROUP BY 1;
SELECT * FROM c_owned ORDER BY d;
SELECT view_owner FROM hyperdist_information.continuous_aggregates WHERE view_name = 'c_owned';
SELECT tableowner FROM pg_tables WHERE schemaname = '_hyperdist_cagg' AND tablename =
  (SELECT materialization_hypertable_name FROM hyperdist_information.continuous_aggregates
    WHERE view_name = 'c_owned');
INSERT INTO co VALUES ('2026-01-01 00:30', 10);
GRANT SELECT ON c_owned TO cagg_other;
SET ROLE cagg_other;
SELECT * FROM c_owned ORDER BY d;
CALL refresh_continuous_aggregate('c_owned', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
DROP MATERIALIZED VIEW c_owned;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
-- a continuous aggregate needs the hypertable's owner
CREATE MATERIALIZED VIEW public.c_theirs WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', time) AS d, sum(v) FROM co GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
-- a superuser's refresh runs the definition as the view's owner (through its user mapping)
RESET ROLE;
CALL refresh_continuous_aggregate('c_owned', NULL, NULL);
SELECT * FROM c_owned ORDER BY d;
SET ROLE cagg_owner;
DROP MATERIALIZED VIEW c_owned;
DROP TABLE co;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM cagg_owner, cagg_other;
DROP USER MAPPING FOR cagg_owner SERVER dn1;
DROP USER MAPPING FOR cagg_owner SERVER dn2;
REVOKE USAGE ON FOREIGN SERVER dn1, dn2 FROM cagg_owner;
DROP ROLE cagg_owner, cagg_other;
CALL distributed_exec($$DROP OWNED BY cagg_owner; DROP ROLE cagg_owner$$, '{dn1,dn2}');

-- ---- DROP MATERIALIZED VIEW ------------------------------------------------------------
DROP MATERIALIZED VIEW c_hour_dev, c_day, c_month, c_filtered, c_rt, c_int;
SELECT count(*) AS caggs, (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = '_hyperdist_cagg') AS relations,
       (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = '_hyperdist_cagg') AS functions
  FROM _hyperdist_catalog.continuous_agg;
DROP MATERIALIZED VIEW IF EXISTS c_day;
DROP TABLE cm, ci, plain;
DROP FUNCTION ci_now;
