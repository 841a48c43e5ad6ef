--
-- Jobs (docs/ARCHITECTURE.md, "Jobs"): add_job, alter_job, delete_job,
-- run_job, the hyperdist_information views, schedules after success and
-- failure, who may do what, and retention policies dropping chunks on
-- every data node.  Times are hyperdist.debug_job_now's, never the clock's;
-- every job is added unscheduled, so only run_job runs it.
-- Needs dn1 and dn2 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';
SET hyperdist.debug_job_now = '2030-01-01 02:30:00+00';

CREATE TABLE job_log (job_id int, config jsonb, who name DEFAULT current_user);
CREATE PROCEDURE log_proc(job_id int, config jsonb) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_log VALUES (job_id, config);
  COMMIT;
  INSERT INTO job_log VALUES (job_id, '{"after": "commit"}');
END $$;
CREATE FUNCTION log_func(job_id int, config jsonb) RETURNS void LANGUAGE sql
AS $$ INSERT INTO job_log VALUES (job_id, config) $$;
CREATE FUNCTION fail_func(job_id int, config jsonb) RETURNS void LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'job % fails', job_id USING ERRCODE = 'division_by_zero'; END $$;
CREATE FUNCTION wrong_args(config jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION check_cfg(config jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF config ? 'bad' THEN
    RAISE EXCEPTION 'bad config' USING ERRCODE = 'invalid_parameter_value';
  END IF;
END $$;

-- ---- add_job ------------------------------------------------------------------
SELECT add_job('log_proc', '1 hour', '{"n": 1}', initial_start => '2030-01-01 00:00+00',
               scheduled => false) AS proc_job \gset
SELECT add_job('log_func', '1 hour', fixed_schedule => false, scheduled => false) AS func_job \gset
SELECT job_id = :proc_job AS first, application_name = 'User-Defined Action [' || job_id || ']' AS named,
       schedule_interval, max_runtime, max_retries, retry_period, proc_schema, proc_name, owner,
       scheduled, fixed_schedule, config, next_start, initial_start, hypertable_schema,
       hypertable_name, check_schema, check_name
  FROM hyperdist_information.jobs WHERE job_id >= 1000 ORDER BY job_id;
SELECT job_id = :func_job AS func_job, last_run_started_at, last_run_status, job_status,
       next_start, total_runs, total_successes, total_failures
  FROM hyperdist_information.job_stats WHERE job_id = :func_job;

-- refused: NULLs (22004), a signature other than (integer, jsonb), a schedule
-- that is not positive, a time zone nobody knows (22023), a check failing
SELECT add_job(NULL, '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT add_job('log_func', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT add_job('wrong_args', '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT add_job('log_func', '0');
\echo :LAST_ERROR_SQLSTATE
SELECT add_job('log_func', '1 hour', timezone => 'Nowhere/Atlantis');
\echo :LAST_ERROR_SQLSTATE
SELECT add_job('log_func', '1 hour', '{"bad": 1}', check_config => 'check_cfg');
\echo :LAST_ERROR_SQLSTATE
SELECT add_job('log_func', '1 hour', check_config => 'log_func');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS jobs FROM hyperdist_information.jobs WHERE job_id >= 1000;

-- ---- run_job: a procedure that commits, a function -----------------------------
CALL run_job(:proc_job);
CALL run_job(:func_job);
SELECT job_id = :proc_job AS proc_job, config, who FROM job_log ORDER BY job_id, config::text;
-- a fixed schedule's next start is its next slot after now (02:30 -> 03:00);
-- otherwise one schedule interval after the run (03:30)
SELECT job_id = :proc_job AS proc_job, last_run_started_at, last_successful_finish,
       last_run_status, job_status, last_run_duration, next_start,
       total_runs, total_successes, total_failures
  FROM hyperdist_information.job_stats WHERE job_id >= 1000 ORDER BY job_id;
SELECT next_start FROM hyperdist_information.jobs WHERE job_id >= 1000 ORDER BY job_id;

-- refused: inside a transaction block (25001), unknown jobs (42704)
BEGIN;
CALL run_job(:proc_job);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CALL run_job(999999);
\echo :LAST_ERROR_SQLSTATE
SELECT alter_job(999999);
\echo :LAST_ERROR_SQLSTATE
SELECT delete_job(999999);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM alter_job(999999, if_exists => true);

-- ---- failures, their errors, retries ----------------------------------------
SELECT add_job('fail_func', '1 hour', fixed_schedule => false, scheduled => false) AS fail_job \gset
-- run_job raises the job's error again, with its SQLSTATE
CALL run_job(:fail_job);
\echo :LAST_ERROR_SQLSTATE
-- a retry after consecutive failures * retry_period: 02:35, then 02:40
SELECT next_start FROM hyperdist_information.jobs WHERE job_id = :fail_job;
CALL run_job(:fail_job);
SELECT next_start FROM hyperdist_information.jobs WHERE job_id = :fail_job;
SELECT job_id = :fail_job AS fail_job, proc_schema, proc_name, pid IS NOT NULL AS has_pid,
       start_time, finish_time, sqlerrcode, err_message
  FROM hyperdist_information.job_errors ORDER BY finish_time;
-- never more than 5 schedule intervals (03:20 rather than 04:30)
SELECT next_start FROM alter_job(:fail_job, schedule_interval => '10 minutes',
                                 retry_period => '30 minutes');
CALL run_job(:fail_job);
SELECT next_start FROM hyperdist_information.jobs WHERE job_id = :fail_job;
-- a fixed schedule retries no later than its next slot (03:00)
SELECT next_start FROM alter_job(:fail_job, schedule_interval => '1 hour', fixed_schedule => true,
                                 initial_start => '2030-01-01 00:00+00');
CALL run_job(:fail_job);
SELECT next_start FROM hyperdist_information.jobs WHERE job_id = :fail_job;
-- with its retries used up, the job waits for its schedule
SELECT max_retries, next_start FROM alter_job(:fail_job, max_retries => 2, fixed_schedule => false);
CALL run_job(:fail_job);
SELECT next_start FROM hyperdist_information.jobs WHERE job_id = :fail_job;
SELECT last_run_status, total_runs, total_successes, total_failures
  FROM hyperdist_information.job_stats WHERE job_id = :fail_job;
-- a job whose function went away fails with 42883
DROP FUNCTION log_func;
CALL run_job(:func_job);
\echo :LAST_ERROR_SQLSTATE

-- alter_job: every column, and refusals
SELECT * FROM alter_job(:proc_job, schedule_interval => '1 day', max_runtime => '1 minute',
                        max_retries => 5, retry_period => '1 minute', config => '{"n": 2}',
                        next_start => '2030-02-01 00:00+00', check_config => 'check_cfg',
                        timezone => 'Europe/Paris');
SELECT alter_job(:proc_job, config => '{"bad": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT alter_job(:proc_job, max_retries => -2);
\echo :LAST_ERROR_SQLSTATE
SELECT alter_job(:proc_job, schedule_interval => '-1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT alter_job(:proc_job, max_runtime => '-1 second');
\echo :LAST_ERROR_SQLSTATE
-- a fixed schedule in a time zone keeps local times across a change of
-- offset: daily at 01:00 in Paris is 00:00 UTC in winter (from March 29),
-- 23:00 UTC the day before in summer (April 2)
SELECT next_start FROM alter_job(:proc_job, initial_start => '2030-03-29 00:00+00');
SET hyperdist.debug_job_now = '2030-04-01 12:00:00+00';
CALL run_job(:proc_job);
SELECT next_start FROM hyperdist_information.jobs WHERE job_id = :proc_job;
SET hyperdist.debug_job_now = '2030-01-01 02:30:00+00';

-- ---- who may do what ---------------------------------------------------------
CREATE ROLE job_owner LOGIN;
CREATE ROLE job_member LOGIN IN ROLE job_owner;
CREATE ROLE job_other LOGIN;
CREATE ROLE job_nologin NOLOGIN;
GRANT INSERT ON job_log TO job_owner, job_nologin;
SET ROLE job_owner;
SELECT add_job('log_proc', '1 hour', '{"by": "owner"}', scheduled => false) AS owner_job \gset
-- "now" for tests is the superuser's (42501)
SET hyperdist.debug_job_now = '2031-01-01 00:00:00+00';
\echo :LAST_ERROR_SQLSTATE
SET ROLE job_other;
SELECT alter_job(:owner_job, scheduled => true);
\echo :LAST_ERROR_SQLSTATE
CALL run_job(:owner_job);
\echo :LAST_ERROR_SQLSTATE
SELECT delete_job(:owner_job);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE EXECUTE ON FUNCTION fail_func FROM PUBLIC;
SET ROLE job_other;
-- a job calls only what its owner may execute
SELECT add_job('fail_func', '1 hour');
\echo :LAST_ERROR_SQLSTATE
-- a member of the owner's role may; the job runs as its owner all the same
SET ROLE job_member;
SELECT scheduled FROM alter_job(:owner_job, scheduled => false);
CALL run_job(:owner_job);
RESET ROLE;
CALL run_job(:owner_job);
SELECT config, who FROM job_log WHERE job_id = :owner_job ORDER BY config::text;
-- an owner that may not log in cannot run jobs (28000)
SET ROLE job_nologin;
SELECT add_job('log_proc', '1 hour', scheduled => false) AS nologin_job \gset
RESET ROLE;
CALL run_job(:nologin_job);
\echo :LAST_ERROR_SQLSTATE
SELECT delete_job(:nologin_job);
SET ROLE job_member;
SELECT delete_job(:owner_job);
RESET ROLE;

-- ---- retention policies ------------------------------------------------------
CREATE TABLE ret (time timestamptz NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('ret', 'time', replication_factor => 2,
                                                     data_nodes => '{dn1, dn2}',
                                                     chunk_time_interval => interval '1 day');
INSERT INTO ret SELECT t, 1 FROM generate_series(timestamptz '2029-12-27', '2029-12-31 23:00',
                                                 '1 hour') t;
-- the chunk tables on each data node
CREATE VIEW ret_nodes AS
SELECT n.node_name, count(*) AS chunks, sum(q.n) AS rows, min(q.first) AS first_row
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT tableoid::regclass::text, count(*), min(time) FROM public.ret GROUP BY 1')
       AS q(chunk text, n bigint, first timestamptz)
 WHERE n.node_name IN ('dn1', 'dn2')
 GROUP BY n.node_name ORDER BY n.node_name;
SELECT * FROM ret_nodes;

SELECT add_retention_policy('ret', INTERVAL '3 days') AS ret_job \gset
SELECT application_name = 'Retention Policy [' || job_id || ']' AS named, schedule_interval,
       max_runtime, max_retries, retry_period, proc_schema, proc_name, owner, scheduled,
       fixed_schedule, config - 'hypertable_id' AS config, hypertable_schema, hypertable_name
  FROM hyperdist_information.jobs WHERE job_id = :ret_job;
-- (unscheduled from here on: only run_job runs it)
SELECT scheduled FROM alter_job(:ret_job, scheduled => false);
SELECT hypertable_name, job_status, next_start FROM hyperdist_information.job_stats WHERE job_id = :ret_job;
-- the same policy again: an error (42710), or with if_not_exists a notice
-- (same arguments) or a warning (others), and -1
SELECT add_retention_policy('ret', INTERVAL '3 days');
\echo :LAST_ERROR_SQLSTATE
SELECT add_retention_policy('ret', INTERVAL '3 days', if_not_exists => true);
SELECT add_retention_policy('ret', INTERVAL '5 days', if_not_exists => true);
-- refused: an integer for a time column, a NULL, a table that is not a
-- distributed hypertable, a table of someone else's
SELECT add_retention_policy('ret', 10);
\echo :LAST_ERROR_SQLSTATE
SELECT add_retention_policy('ret', NULL::interval);
\echo :LAST_ERROR_SQLSTATE
SELECT add_retention_policy('job_log', INTERVAL '1 day');
\echo :LAST_ERROR_SQLSTATE
SET ROLE job_other;
SELECT add_retention_policy('ret', INTERVAL '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT remove_retention_policy('ret');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- its run drops the chunks older than 3 days before "now" (2030-01-01
-- 02:30): those of 2029-12-27 and 2029-12-28, on every node
CALL run_job(:ret_job);
SELECT last_run_status, total_successes FROM hyperdist_information.job_stats WHERE job_id = :ret_job;
SELECT min(time), count(*) FROM ret;
SELECT count(*) AS chunks FROM show_chunks('ret');
SELECT * FROM ret_nodes;

SELECT remove_retention_policy('ret');
SELECT count(*) AS policies FROM hyperdist_information.jobs WHERE hypertable_name = 'ret';
SELECT remove_retention_policy('ret');
\echo :LAST_ERROR_SQLSTATE
SELECT remove_retention_policy('ret', if_exists => true);

-- ---- the statistics job --------------------------------------------------------
-- the extension's own job (id 1) ANALYZEs the distributed hypertables never
-- analyzed, or whose row count moved by more than 10% since their last
-- ANALYZE
SELECT job_id, application_name, schedule_interval, proc_schema, proc_name, owner,
       scheduled, fixed_schedule, config
  FROM hyperdist_information.jobs WHERE job_id < 1000;
SELECT reltuples >= 0 AS analyzed FROM pg_class WHERE oid = 'ret'::regclass;
CALL run_job(1);
SELECT reltuples AS rows_seen FROM pg_class WHERE oid = 'ret'::regclass;
-- four more rows in a chunk of 24: not analyzed again
INSERT INTO ret SELECT t, 2 FROM generate_series(timestamptz '2029-12-29', '2029-12-29 03:00',
                                                 '1 hour') t;
CALL run_job(1);
SELECT reltuples AS rows_seen FROM pg_class WHERE oid = 'ret'::regclass;
-- three more days: analyzed again
INSERT INTO ret SELECT t, 3 FROM generate_series(timestamptz '2030-01-01', '2030-01-03 23:00',
                                                 '1 hour') t;
CALL run_job(1);
SELECT reltuples > 140 AS analyzed_again FROM pg_class WHERE oid = 'ret'::regclass;
SELECT total_runs, total_successes FROM hyperdist_information.job_stats WHERE job_id = 1;

-- dropping the hypertable drops its policy
SELECT add_retention_policy('ret', INTERVAL '3 days') > 0 AS added;
DROP TABLE ret;
SELECT count(*) AS policies FROM _hyperdist_catalog.bgw_job WHERE proc_name = 'policy_retention';

-- ---- delete_job --------------------------------------------------------------
SELECT delete_job(job_id) FROM hyperdist_information.jobs WHERE job_id >= 1000;
SELECT count(*) AS jobs, (SELECT count(*) FROM _hyperdist_catalog.bgw_job_stat) AS stats,
       (SELECT count(*) FROM _hyperdist_catalog.job_errors) AS errors
  FROM hyperdist_information.jobs;

DROP VIEW ret_nodes;
DROP TABLE job_log;
DROP PROCEDURE log_proc;
DROP FUNCTION fail_func, wrong_args, check_cfg;
DROP ROLE job_owner, job_member, job_other, job_nologin;
RESET hyperdist.debug_job_now;
