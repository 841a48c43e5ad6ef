--
-- The invalidation logs of continuous aggregates (docs/ARCHITECTURE.md,
-- "Continuous aggregates"): every write logs the range of time it changed,
-- and a refresh recomputes only the buckets of its window that were changed
-- since they were last materialized.  rematerialized() lists the buckets
-- whose rows in the materialized table were written since its last call
-- (their xmin changed); cagg_diff compares the aggregate with its
-- definition on the raw rows.  Needs dn1..dn3 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE ci (time timestamptz NOT NULL, dev int NOT NULL, v float8);
SELECT table_name FROM create_distributed_hypertable('ci', 'time', 'dev',
                                                     chunk_time_interval => interval '1 day');
INSERT INTO ci SELECT t, i % 3, (i % 17) / 4.0
  FROM generate_series(timestamptz '2026-03-01', '2026-03-04 23:59', '10 min')
       WITH ORDINALITY AS g(t, i);
-- a hypertable without continuous aggregates logs nothing
SELECT count(*) FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log;

-- The pending ranges, as times.
CREATE VIEW pending AS
SELECT view_name,
       timestamptz 'epoch' + lowest_modified_value * interval '1 microsecond' AS lowest,
       timestamptz 'epoch' + greatest_modified_value * interval '1 microsecond' AS greatest
  FROM hyperdist_information.continuous_aggregate_invalidations
 WHERE hypertable_name = 'ci'
   AND lowest_modified_value > -9223372036854775808
   AND greatest_modified_value < 9223372036854775807
 ORDER BY view_name NULLS FIRST, lowest_modified_value;

CREATE TABLE seen (bucket timestamptz, dev int, x text);
CREATE FUNCTION rematerialized(mat regclass)
RETURNS TABLE (bucket timestamptz, rows bigint) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT m.bucket, count(*) FROM %s m LEFT JOIN seen s USING (bucket, dev)'
    ' WHERE s.x IS DISTINCT FROM m.xmin::text GROUP BY m.bucket ORDER BY 1', mat);
  TRUNCATE seen;
  EXECUTE format('INSERT INTO seen SELECT bucket, dev, xmin::text FROM %s', mat);
END $$;

CREATE MATERIALIZED VIEW ci_hour WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time) AS bucket, dev, count(*) AS n, sum(v) AS total
  FROM ci GROUP BY 1, 2 WITH NO DATA;
SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS mat
  FROM hyperdist_information.continuous_aggregates WHERE view_name = 'ci_hour' \gset
-- a new aggregate has everything pending
SELECT view_name, lowest_modified_value, greatest_modified_value
  FROM hyperdist_information.continuous_aggregate_invalidations;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT count(*) AS buckets, sum(rows) AS rows FROM rematerialized(:'mat');
SELECT count(*) AS pending FROM hyperdist_information.continuous_aggregate_invalidations;

-- ---- nothing changed: nothing recomputed ------------------------------------------
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
CALL refresh_continuous_aggregate('ci_hour', '2026-03-02', '2026-03-03');
SELECT * FROM rematerialized(:'mat');
-- the window is still checked
CALL refresh_continuous_aggregate('ci_hour', '2026-03-02 10:10', '2026-03-02 10:50');

-- ---- INSERT into an old range: only its bucket -------------------------------------
INSERT INTO ci VALUES ('2026-03-02 10:30', 1, 100), ('2026-03-02 10:45', 2, 100);
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', '2026-03-01', '2026-03-05');
SELECT * FROM rematerialized(:'mat');
SELECT * FROM pending;
SELECT cagg_diff('ci_hour');

-- ---- a window covering part of the changes: the rest stays pending -----------------
INSERT INTO ci VALUES ('2026-03-01 05:10', 0, 7);
INSERT INTO ci VALUES ('2026-03-03 20:20', 0, 7), ('2026-03-03 22:00', 0, 7);
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', '2026-03-01', '2026-03-02');
SELECT * FROM rematerialized(:'mat');
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', '2026-03-03 21:00', '2026-03-04');
SELECT * FROM rematerialized(:'mat');
-- an entry the window cuts keeps its parts outside it
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT * FROM rematerialized(:'mat');
SELECT cagg_diff('ci_hour');

-- ---- COPY, UPDATE and DELETE -------------------------------------------------------
COPY ci FROM stdin;
2026-03-04 01:02:03+00	1	11.25
2026-03-04 01:59:59+00	2	0.5
\.
-- the data nodes run UPDATE and DELETE: the range of their quals
UPDATE ci SET v = v + 0.25 WHERE time >= '2026-03-02 03:00' AND time < '2026-03-02 05:00';
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT * FROM rematerialized(:'mat');
-- without a time qual, the range of every chunk it may touch
DELETE FROM ci WHERE dev = 2 AND v = 4;
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT count(*) AS buckets FROM rematerialized(:'mat');
SELECT cagg_diff('ci_hour');

-- ---- transactions ------------------------------------------------------------------
-- a rolled-back transaction logs nothing
BEGIN;
INSERT INTO ci VALUES ('2026-03-01 01:00', 0, 1);
ROLLBACK;
-- one row per hypertable and transaction, over all its statements
BEGIN;
INSERT INTO ci VALUES ('2026-03-01 02:00', 0, 1);
INSERT INTO ci VALUES ('2026-03-01 03:00', 0, 1);
COMMIT;
-- a rolled-back subtransaction keeps what it logged (too much is harmless)
BEGIN;
SAVEPOINT s;
INSERT INTO ci VALUES ('2026-03-04 12:00', 0, 1);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT * FROM rematerialized(:'mat');
SELECT cagg_diff('ci_hour');

-- ---- two aggregates: a refresh moves the hypertable's log to both -----------------
CREATE MATERIALIZED VIEW ci_day WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', time) AS bucket, count(*), max(v) FROM ci GROUP BY 1;
SELECT count(*) AS pending FROM hyperdist_information.continuous_aggregate_invalidations;
INSERT INTO ci VALUES ('2026-03-02 06:00', 1, 1);
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_day', NULL, NULL);
SELECT * FROM pending;
SELECT cagg_diff('ci_hour') AS hour_diff, cagg_diff('ci_day') AS day_diff;

-- an aggregate whose schema was dropped leaves nothing behind (catalog row,
-- policy, materialized table) and gets no more log rows
CREATE SCHEMA cs;
CREATE MATERIALIZED VIEW cs.ci_gone WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', time) AS bucket, count(*) FROM ci GROUP BY 1 WITH NO DATA;
SELECT add_continuous_aggregate_policy('cs.ci_gone', interval '3 days', interval '1 hour',
                                       interval '1 hour', initial_start => now() + interval '1 day')
  > 0 AS policy_added;
SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS gone_mat
  FROM hyperdist_information.continuous_aggregates WHERE view_name = 'ci_gone' \gset
DROP SCHEMA cs CASCADE;
SELECT count(*) AS catalog_rows FROM _hyperdist_catalog.continuous_agg ca
 WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = ca.view_relid);
SELECT count(*) AS orphan_policies FROM _hyperdist_catalog.bgw_job j
 WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
   AND NOT EXISTS (SELECT FROM _hyperdist_catalog.continuous_agg ca
                    JOIN pg_class c ON c.oid = ca.view_relid
                   WHERE ca.id::text = j.config->>'mat_hypertable_id');
SELECT to_regclass(:'gone_mat') AS materialized_table;
INSERT INTO ci VALUES ('2026-03-02 07:00', 1, 1);
CALL refresh_continuous_aggregate('ci_day', NULL, NULL);
SELECT count(*) AS logged_for_gone
  FROM _hyperdist_catalog.continuous_aggs_materialization_invalidation_log l
  JOIN _hyperdist_catalog.continuous_agg ca ON ca.id = l.materialization_id
 WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = ca.view_relid)
   AND l.lowest_modified_value > -9223372036854775808;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
SELECT cagg_diff('ci_hour') AS hour_diff, cagg_diff('ci_day') AS day_diff;

-- ---- drop_chunks: the dropped chunks' range ----------------------------------------
SELECT count(*) FROM drop_chunks('ci', older_than => timestamptz '2026-03-02');
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_hour', NULL, NULL);
CALL refresh_continuous_aggregate('ci_day', NULL, NULL);
SELECT min(bucket) FROM ci_hour;
SELECT cagg_diff('ci_hour') AS hour_diff, cagg_diff('ci_day') AS day_diff;

-- ---- dropping an aggregate drops its log; dropping the hypertable, all ------------
INSERT INTO ci VALUES ('2026-03-03 06:00', 1, 1);
CALL refresh_continuous_aggregate('ci_day', NULL, NULL);
SELECT * FROM pending;
DROP MATERIALIZED VIEW ci_hour;
SELECT * FROM pending;
INSERT INTO ci VALUES ('2026-03-03 07:00', 1, 1);
SELECT * FROM pending;
-- the owner's TRUNCATE drops every chunk: their range
TRUNCATE ci;
SELECT * FROM pending;
CALL refresh_continuous_aggregate('ci_day', NULL, NULL);
SELECT count(*) AS buckets, cagg_diff('ci_day') AS day_diff FROM ci_day;
DROP TABLE ci CASCADE;
SELECT (SELECT count(*) FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log) AS ht_log,
       (SELECT count(*) FROM _hyperdist_catalog.continuous_aggs_materialization_invalidation_log) AS cagg_log;
-- ---- integer and date time ---------------------------------------------------------
CREATE TABLE ii (t int NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('ii', 't', chunk_time_interval => 100);
INSERT INTO ii SELECT i, i % 7 FROM generate_series(0, 499) i;
CREATE MATERIALIZED VIEW ii_10 WITH (timescaledb.continuous) AS
SELECT time_bucket(10, t) AS bucket, count(*), sum(v) FROM ii GROUP BY 1;
-- the last one's next bucket would be beyond int4
INSERT INTO ii VALUES (42, 100), (57, 100), (2147483000, 1), (2147483645, 1);
SELECT view_name, lowest_modified_value, greatest_modified_value
  FROM hyperdist_information.continuous_aggregate_invalidations WHERE hypertable_name = 'ii';
-- buckets 40 and 50 only; the rest of the row stays pending
CALL refresh_continuous_aggregate('ii_10', 0, 60);
SELECT view_name, lowest_modified_value, greatest_modified_value
  FROM hyperdist_information.continuous_aggregate_invalidations WHERE hypertable_name = 'ii';
SELECT * FROM ii_10 WHERE sum > 100 ORDER BY bucket;
-- an open end reaches the type's highest bucket
CALL refresh_continuous_aggregate('ii_10', 60, NULL);
SELECT * FROM ii_10 WHERE bucket > 1000 ORDER BY bucket;
SELECT count(*) AS pending FROM hyperdist_information.continuous_aggregate_invalidations
 WHERE hypertable_name = 'ii';
SELECT cagg_diff('ii_10');
-- the hypertable's log goes with its last aggregate
INSERT INTO ii VALUES (1, 1);
DROP MATERIALIZED VIEW ii_10;
SELECT count(*) AS pending FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log;
INSERT INTO ii VALUES (2, 1);
SELECT count(*) AS pending FROM _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log;
DROP TABLE ii CASCADE;

CREATE TABLE di (day date NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('di', 'day', chunk_time_interval => interval '30 days');
INSERT INTO di SELECT d, 1 FROM generate_series(date '2025-12-01', '2026-02-28', '1 day') d;
CREATE MATERIALIZED VIEW di_week WITH (timescaledb.continuous) AS
SELECT time_bucket('7 days', day) AS week, count(*), sum(v) FROM di GROUP BY 1;
INSERT INTO di VALUES ('2026-01-14', 10), ('1999-12-30', 5);
SELECT view_name, timestamptz 'epoch' + lowest_modified_value * interval '1 microsecond' AS lowest,
       timestamptz 'epoch' + greatest_modified_value * interval '1 microsecond' AS greatest
  FROM hyperdist_information.continuous_aggregate_invalidations WHERE hypertable_name = 'di'
 ORDER BY 2;
CALL refresh_continuous_aggregate('di_week', NULL, NULL);
SELECT * FROM di_week WHERE sum > count ORDER BY week;
SELECT cagg_diff('di_week');
DROP TABLE di CASCADE;

DROP VIEW pending;
DROP TABLE seen;
DROP FUNCTION rematerialized(regclass);
