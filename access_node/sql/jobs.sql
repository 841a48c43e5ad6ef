-- SPDX-License-Identifier: PostgreSQL
-- sql/jobs.sql: jobs run by the background worker, and retention policies.
--
-- A job calls a function or procedure (job_id int, config jsonb) on a
-- schedule, as the role that added it (docs/ARCHITECTURE.md, "Jobs").
-- The API and the views' columns are TimescaleDB 2.13's.

-- Ids from 1000 on, as TimescaleDB's jobs of users; below are the
-- extension's own.
CREATE SEQUENCE _hyperdist_catalog.bgw_job_id_seq MINVALUE 1000;

CREATE TABLE _hyperdist_catalog.bgw_job (
    id int PRIMARY KEY DEFAULT pg_catalog.nextval('_hyperdist_catalog.bgw_job_id_seq'),
    application_name name NOT NULL,
    schedule_interval interval NOT NULL CHECK (schedule_interval > interval '0'),
    max_runtime interval NOT NULL CHECK (max_runtime >= interval '0'),
    max_retries int NOT NULL CHECK (max_retries >= -1),
    retry_period interval NOT NULL CHECK (retry_period > interval '0'),
    proc_schema name NOT NULL,          -- resolved when the job runs
    proc_name name NOT NULL,
    owner regrole NOT NULL,
    scheduled bool NOT NULL,
    fixed_schedule bool NOT NULL,
    initial_start timestamptz,
    hypertable_id int REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    config jsonb,
    check_schema name,
    check_name name,
    timezone text);
ALTER SEQUENCE _hyperdist_catalog.bgw_job_id_seq OWNED BY _hyperdist_catalog.bgw_job.id;
CREATE INDEX ON _hyperdist_catalog.bgw_job (hypertable_id);

-- A job's runs.  runner_pid is set while a run goes on; a run whose
-- runner exits without finishing it counts as a crash (and a failure).
CREATE TABLE _hyperdist_catalog.bgw_job_stat (
    job_id int PRIMARY KEY REFERENCES _hyperdist_catalog.bgw_job ON DELETE CASCADE,
    next_start timestamptz NOT NULL,
    last_start timestamptz,
    last_finish timestamptz,
    last_successful_finish timestamptz,
    last_run_success bool,
    runner_pid int,
    last_runner_pid int,
    total_runs bigint NOT NULL DEFAULT 0,
    total_successes bigint NOT NULL DEFAULT 0,
    total_failures bigint NOT NULL DEFAULT 0,
    total_crashes bigint NOT NULL DEFAULT 0,
    consecutive_failures int NOT NULL DEFAULT 0);

-- The errors of a job's failed runs, the last 100 per job.
CREATE TABLE _hyperdist_catalog.job_errors (
    job_id int NOT NULL REFERENCES _hyperdist_catalog.bgw_job ON DELETE CASCADE,
    pid int,
    start_time timestamptz,
    finish_time timestamptz NOT NULL,
    sqlerrcode text,
    err_message text);
CREATE INDEX ON _hyperdist_catalog.job_errors (job_id, finish_time);

GRANT SELECT ON _hyperdist_catalog.bgw_job, _hyperdist_catalog.bgw_job_stat,
  _hyperdist_catalog.job_errors TO PUBLIC;

-- ---- the API ---------------------------------------------------------------

CREATE FUNCTION add_job(
    proc regproc,
    schedule_interval interval,
    config jsonb = NULL,
    initial_start timestamptz = NULL,
    scheduled bool = true,
    check_config regproc = NULL,
    fixed_schedule bool = true,
    timezone text = NULL)
RETURNS integer AS 'MODULE_PATHNAME', 'hyperdist_add_job' LANGUAGE C VOLATILE;

CREATE FUNCTION alter_job(
    job_id integer,
    schedule_interval interval = NULL,
    max_runtime interval = NULL,
    max_retries integer = NULL,
    retry_period interval = NULL,
    scheduled bool = NULL,
    config jsonb = NULL,
    next_start timestamptz = NULL,
    if_exists bool = false,
    check_config regproc = NULL,
    fixed_schedule bool = NULL,
    initial_start timestamptz = NULL,
    timezone text = NULL)
RETURNS TABLE (job_id integer, schedule_interval interval, max_runtime interval,
               max_retries integer, retry_period interval, scheduled bool, config jsonb,
               next_start timestamptz, check_config text, fixed_schedule bool,
               initial_start timestamptz, timezone text)
AS 'MODULE_PATHNAME', 'hyperdist_alter_job' LANGUAGE C VOLATILE;

CREATE FUNCTION delete_job(job_id integer) RETURNS void
AS 'MODULE_PATHNAME', 'hyperdist_delete_job' LANGUAGE C VOLATILE STRICT;

CREATE PROCEDURE run_job(job_id integer)
AS 'MODULE_PATHNAME', 'hyperdist_run_job' LANGUAGE C;

CREATE FUNCTION add_retention_policy(
    relation regclass,
    drop_after "any",
    if_not_exists bool = false,
    schedule_interval interval = NULL,
    initial_start timestamptz = NULL,
    timezone text = NULL)
RETURNS integer AS 'MODULE_PATHNAME', 'hyperdist_add_retention_policy' LANGUAGE C VOLATILE;

CREATE FUNCTION remove_retention_policy(relation regclass, if_exists bool = false)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_remove_retention_policy' LANGUAGE C VOLATILE;

-- "now" as jobs see it (hyperdist.debug_job_now when set, for tests).
CREATE FUNCTION _hyperdist_functions.job_now() RETURNS timestamptz
AS 'MODULE_PATHNAME', 'hyperdist_job_now' LANGUAGE C STABLE;

-- "Now" of hypertable ht's integer time column: the value of its
-- integer_now function (22023 if it has none), called as the user's own
-- session would call it: under the session's search_path (the value RESET
-- gives), not the fixed one of the policy that asks, since the function is
-- the user's and may name its tables without their schema.  It runs as the
-- caller, the policy's owner, who chose that function; the SET clause puts
-- the policy's search_path back on return.
CREATE FUNCTION _hyperdist_functions.integer_now_value(ht int) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rel regclass;
  func text;
  v bigint;
BEGIN
  SELECT h.relid, CASE WHEN d.integer_now_func IS NOT NULL
                        THEN format('%I.%I()', d.integer_now_func_schema, d.integer_now_func) END
    INTO rel, func
    FROM _hyperdist_catalog.hypertable h
    JOIN _hyperdist_catalog.dimension d ON d.hypertable_id = h.id AND d.interval_length IS NOT NULL
   WHERE h.id = ht;
  IF func IS NULL THEN
    RAISE EXCEPTION 'integer_now function not set for hypertable "%"', rel
      USING ERRCODE = '22023';
  END IF;
  PERFORM pg_catalog.set_config('search_path',
            (SELECT s.reset_val FROM pg_catalog.pg_settings s WHERE s.name = 'search_path'), true);
  EXECUTE 'SELECT ' || func INTO v;
  RETURN v;
END $$;

-- A retention policy's run: the chunks of its hypertable older than
-- drop_after go, on every data node (drop_chunks).  For an integer time
-- column, "now" is its integer_now function's.  It runs as the policy's
-- owner, who owns the hypertable (and chose that function).
CREATE PROCEDURE _hyperdist_functions.policy_retention(job_id int, config jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ht int := (config->>'hypertable_id')::int;
  rel regclass := (SELECT h.relid FROM _hyperdist_catalog.hypertable h WHERE h.id = ht);
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'the hypertable of retention policy % does not exist', job_id
      USING ERRCODE = '42P01';
  END IF;
  IF jsonb_typeof(config->'drop_after') = 'number' THEN
    PERFORM @extschema@.drop_chunks(rel, older_than => _hyperdist_functions.integer_now_value(ht)
                                          - (config->>'drop_after')::bigint);
  ELSE
    PERFORM @extschema@.drop_chunks(rel, older_than => _hyperdist_functions.job_now()
                                          - (config->>'drop_after')::interval);
  END IF;
END $$;

-- The extension's own job (id 1): keeps the access node's statistics of
-- distributed hypertables fresh.  A hypertable never analyzed, or whose
-- row count on the data nodes moved by more than analyze_fraction from the
-- count its last ANALYZE saw (pg_class.reltuples), is analyzed (a sample of
-- every node, fdw/analyze.c).  It runs as the role that created the
-- extension, hourly from an hour after it was created.
CREATE PROCEDURE _hyperdist_functions.policy_statistics(job_id int, config jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  fraction float8 := coalesce((config->>'analyze_fraction')::float8, 0.1);
  r record;
  n float8;
BEGIN
  FOR r IN SELECT h.relid::regclass AS rel, c.reltuples
             FROM _hyperdist_catalog.hypertable h
             JOIN pg_catalog.pg_class c ON c.oid = h.relid
            ORDER BY h.id LOOP
    n := @extschema@.approximate_row_count(r.rel);
    IF r.reltuples < 0 OR abs(n - r.reltuples) > fraction * greatest(r.reltuples, 1) THEN
      EXECUTE format('ANALYZE %s', r.rel);
    END IF;
  END LOOP;
END $$;

INSERT INTO _hyperdist_catalog.bgw_job
  (id, application_name, schedule_interval, max_runtime, max_retries, retry_period,
   proc_schema, proc_name, owner, scheduled, fixed_schedule, config)
VALUES (1, 'Distributed Statistics [1]', interval '1 hour', interval '0', -1,
        interval '5 minutes', '_hyperdist_functions', 'policy_statistics',
        current_user::regrole, true, false, '{"analyze_fraction": 0.1}');
INSERT INTO _hyperdist_catalog.bgw_job_stat (job_id, next_start)
VALUES (1, now() + interval '1 hour');

-- ---- information views (columns as TimescaleDB 2.13's) ----------------------

-- The relation a job works on, as 2.13's views name it: a refresh policy's
-- continuous aggregate's materialized table, else the job's hypertable.
CREATE FUNCTION _hyperdist_functions.job_relid(proc_schema name, proc_name name, config jsonb,
                                                ht int)
RETURNS oid LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(
    (SELECT ca.mat_relid FROM _hyperdist_catalog.continuous_agg ca
      WHERE proc_schema = '_hyperdist_functions'
        AND proc_name = 'policy_refresh_continuous_aggregate'
        AND ca.hypertable_id = ht AND ca.id::text = config->>'mat_hypertable_id'),
    (SELECT h.relid FROM _hyperdist_catalog.hypertable h WHERE h.id = ht))
$$;

CREATE VIEW hyperdist_information.jobs AS
SELECT j.id AS job_id, j.application_name, j.schedule_interval, j.max_runtime,
       j.max_retries, j.retry_period, j.proc_schema, j.proc_name,
       j.owner::name AS owner, j.scheduled, j.fixed_schedule, j.config,
       js.next_start, j.initial_start,
       n.nspname AS hypertable_schema, c.relname AS hypertable_name,
       j.check_schema, j.check_name
  FROM _hyperdist_catalog.bgw_job j
  LEFT JOIN _hyperdist_catalog.bgw_job_stat js ON js.job_id = j.id
  LEFT JOIN pg_catalog.pg_class c
    ON c.oid = _hyperdist_functions.job_relid(j.proc_schema, j.proc_name, j.config,
                                              j.hypertable_id)
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;

CREATE VIEW hyperdist_information.job_stats AS
SELECT n.nspname AS hypertable_schema, c.relname AS hypertable_name,
       j.id AS job_id,
       js.last_start AS last_run_started_at,
       js.last_successful_finish,
       CASE js.last_run_success WHEN true THEN 'Success' WHEN false THEN 'Failed' END
         AS last_run_status,
       CASE WHEN js.runner_pid IS NOT NULL THEN 'Running'
            WHEN NOT j.scheduled THEN 'Paused'
            ELSE 'Scheduled' END AS job_status,
       CASE WHEN js.last_finish >= js.last_start THEN js.last_finish - js.last_start END
         AS last_run_duration,
       CASE WHEN j.scheduled THEN js.next_start END AS next_start,
       js.total_runs, js.total_successes, js.total_failures
  FROM _hyperdist_catalog.bgw_job j
  JOIN _hyperdist_catalog.bgw_job_stat js ON js.job_id = j.id
  LEFT JOIN pg_catalog.pg_class c
    ON c.oid = _hyperdist_functions.job_relid(j.proc_schema, j.proc_name, j.config,
                                              j.hypertable_id)
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;

CREATE VIEW hyperdist_information.job_errors AS
SELECT e.job_id, j.proc_schema, j.proc_name, e.pid, e.start_time, e.finish_time,
       e.sqlerrcode, e.err_message
  FROM _hyperdist_catalog.job_errors e
  JOIN _hyperdist_catalog.bgw_job j ON j.id = e.job_id;
