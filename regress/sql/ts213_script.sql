-- A TimescaleDB 2.13 multi-node user's script, run unchanged through the
-- compatibility extension: create_hypertable with replication_factor, a
-- trigger whose function the data nodes have, a retention policy, a
-- continuous aggregate with its refresh policy, integer time with
-- set_integer_now_func.  Policies are run with run_job, as a user checking
-- them would; every result is compared with the same query on the raw data.
\set VERBOSITY terse
SET timezone = 'UTC';
CREATE EXTENSION IF NOT EXISTS hyperdist_timescaledb_compat;

-- ---- the script --------------------------------------------------------------
CREATE TABLE conditions (
  time        timestamptz NOT NULL,
  device      int NOT NULL,
  temperature float8,
  reading_f   float8
);
SELECT table_name, created
  FROM create_hypertable('conditions', 'time', 'device', replication_factor => 2,
                         chunk_time_interval => interval '1 day');

CREATE FUNCTION to_fahrenheit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.reading_f := NEW.temperature * 9 / 5 + 32;
  RETURN NEW;
END $$;
CALL distributed_exec($$
CREATE FUNCTION to_fahrenheit() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  NEW.reading_f := NEW.temperature * 9 / 5 + 32;
  RETURN NEW;
END $f$
$$);
CREATE TRIGGER conditions_f BEFORE INSERT ON conditions
  FOR EACH ROW EXECUTE FUNCTION to_fahrenheit();

-- a year-old week, and the last three days
INSERT INTO conditions (time, device, temperature)
SELECT date_trunc('hour', now()) - interval '365 days' + g * interval '10 min', g % 4, (g % 37) * 0.5
  FROM generate_series(1, 7 * 144) g;
INSERT INTO conditions (time, device, temperature)
SELECT date_trunc('hour', now()) - interval '3 days' + g * interval '10 min', g % 4, (g % 41) * 0.5
  FROM generate_series(1, 3 * 144 - 1) g;
-- the trigger ran on the data nodes, for every row
SELECT count(*) AS rows, count(*) FILTER (WHERE reading_f = temperature * 9 / 5 + 32) AS converted
  FROM conditions;

-- (first runs a day away: the test runs them itself with run_job)
SELECT add_retention_policy('conditions', interval '30 days',
                            initial_start => now() + interval '1 day') AS retention_job \gset

CREATE MATERIALIZED VIEW conditions_hourly WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time) AS bucket, device,
       avg(temperature) AS avg_temp, max(temperature) AS max_temp, count(*) AS n
  FROM conditions
 GROUP BY 1, 2
WITH NO DATA;
SELECT add_continuous_aggregate_policy('conditions_hourly',
         start_offset => interval '400 days', end_offset => interval '1 hour',
         schedule_interval => interval '1 hour',
         initial_start => now() + interval '1 day') AS cagg_job \gset

SELECT proc_name, schedule_interval, hypertable_name
  FROM timescaledb_information.jobs
 WHERE job_id IN (:retention_job, :cagg_job) ORDER BY job_id;

-- ---- the policies run ------------------------------------------------------
CALL run_job(:cagg_job);
-- the materialized buckets are the raw data's, up to the policy's end
CREATE VIEW hourly_raw AS
SELECT time_bucket('1 hour', time) AS bucket, device,
       avg(temperature) AS avg_temp, max(temperature) AS max_temp, count(*) AS n
  FROM conditions
 WHERE time < date_trunc('hour', now()) - interval '1 hour'
 GROUP BY 1, 2;
SELECT count(*) AS buckets FROM conditions_hourly;
(SELECT * FROM conditions_hourly EXCEPT SELECT * FROM hourly_raw)
UNION ALL
(SELECT * FROM hourly_raw EXCEPT SELECT * FROM conditions_hourly);

-- a late reading into an old hour, then the policy again
INSERT INTO conditions (time, device, temperature)
VALUES (date_trunc('hour', now()) - interval '2 days' + interval '5 min', 1, 99.5);
CALL run_job(:cagg_job);
(SELECT * FROM conditions_hourly EXCEPT SELECT * FROM hourly_raw)
UNION ALL
(SELECT * FROM hourly_raw EXCEPT SELECT * FROM conditions_hourly);

-- retention drops the year-old week on every data node
CALL run_job(:retention_job);
SELECT count(*) AS rows, min(time) > now() - interval '30 days' AS only_recent FROM conditions;
SELECT count(*) AS old_chunks
  FROM timescaledb_information.chunks
 WHERE hypertable_name = 'conditions' AND range_end < now() - interval '30 days';

-- ---- integer time ----------------------------------------------------------
CREATE TABLE metrics (t bigint NOT NULL, sensor int, value float8);
SELECT table_name, created
  FROM create_hypertable('metrics', 't', chunk_time_interval => 1000, replication_factor => 2);
CREATE FUNCTION metrics_now() RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT coalesce(max(t), 0) FROM metrics $$;
SELECT set_integer_now_func('metrics', 'metrics_now');
SELECT integer_now_func FROM timescaledb_information.dimensions WHERE hypertable_name = 'metrics';
INSERT INTO metrics SELECT g, g % 3, g * 0.25 FROM generate_series(0, 9999) g;
SELECT add_retention_policy('metrics', 5000::bigint,
                            initial_start => now() + interval '1 day') AS int_retention_job \gset
CALL run_job(:int_retention_job);
SELECT min(t), max(t), count(*) FROM metrics;

-- ---- clean up --------------------------------------------------------------
SELECT delete_job(:retention_job);
SELECT delete_job(:int_retention_job);
SELECT remove_continuous_aggregate_policy('conditions_hourly');
DROP VIEW hourly_raw;
DROP MATERIALIZED VIEW conditions_hourly;
DROP TABLE conditions;
DROP TABLE metrics;
DROP FUNCTION metrics_now();
DROP FUNCTION to_fahrenheit();
CALL distributed_exec('DROP FUNCTION to_fahrenheit()');
DROP EXTENSION hyperdist_timescaledb_compat;
