-- TimescaleDB 2.13's API beyond create_distributed_hypertable:
-- create_hypertable with its multi-node arguments, set_integer_now_func
-- and a retention policy on an integer time column.
\set VERBOSITY terse
-- ---- create_hypertable: 2.13's multi-node arguments -------------------------
CREATE TABLE ch (time timestamptz NOT NULL, dev int, v float8);
-- a local hypertable: none in hyperdist
\set VERBOSITY default
SELECT create_hypertable('ch', 'time');
SELECT create_hypertable('ch', 'time', replication_factor => 2, distributed => false);
\set VERBOSITY terse
-- replication_factor alone makes it distributed, with its data nodes
SELECT table_name, created FROM create_hypertable('ch', 'time', 'dev', replication_factor => 2,
                                             data_nodes => '{dn1,dn2}',
                                             chunk_time_interval => interval '1 day');
SELECT hypertable_name, is_distributed, replication_factor, data_nodes
  FROM hyperdist_information.hypertables WHERE hypertable_name = 'ch';
SELECT table_name, created FROM create_hypertable('ch', 'time', replication_factor => 2, if_not_exists => true);
INSERT INTO ch VALUES ('2026-01-01 10:00', 1, 1.5), ('2026-01-02 10:00', 2, 2.5);
SELECT count(*), sum(v) FROM ch;
-- fewer partitions than data nodes: a WARNING, as in 2.13
SELECT set_number_partitions('ch', 1);
-- create_distributed_hypertable's checks apply
CREATE TABLE ch2 (time bigint, v int);
SELECT create_hypertable(NULL, 'time', replication_factor => 1);
SELECT create_hypertable('ch2', NULL, replication_factor => 1);
SELECT create_hypertable('ch2', 'time', replication_factor => 0);
SELECT create_hypertable('ch2', 'time', replication_factor => 5);
-- distributed => true with the default replication factor
SELECT table_name, created FROM create_hypertable('ch2', 'time', chunk_time_interval => 100, distributed => true);
-- or the default kind set to distributed
CREATE TABLE ch3 (time date NOT NULL);
SET hyperdist.hypertable_distributed_default = 'distributed';
SELECT table_name, created FROM create_hypertable('ch3', 'time');
RESET hyperdist.hypertable_distributed_default;
SET hyperdist.hypertable_distributed_default = 'sometimes';
SELECT hypertable_name, is_distributed, replication_factor, num_dimensions
  FROM hyperdist_information.hypertables WHERE hypertable_name IN ('ch2', 'ch3') ORDER BY 1;

-- ---- integer time: set_integer_now_func and a retention policy -------------
CREATE TABLE iret (time int NOT NULL, v int);
SELECT table_name FROM create_hypertable('iret', 'time', chunk_time_interval => 10,
                                         replication_factor => 2, data_nodes => '{dn1, dn2}');
INSERT INTO iret SELECT t, 1 FROM generate_series(1, 59) t;
CREATE FUNCTION iret_now() RETURNS int LANGUAGE sql STABLE AS 'SELECT 55';
CREATE FUNCTION iret_now_big() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 55::bigint';
CREATE FUNCTION iret_now_volatile() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 55';
-- no integer_now function yet: a policy is refused (22023)
SELECT add_retention_policy('iret', 20);
\echo :LAST_ERROR_SQLSTATE
-- refused: another return type, a volatile function, a time column of timestamps
SELECT set_integer_now_func('iret', 'iret_now_big');
\echo :LAST_ERROR_SQLSTATE
SELECT set_integer_now_func('iret', 'iret_now_volatile');
\echo :LAST_ERROR_SQLSTATE
SELECT set_integer_now_func('ch', 'iret_now');
\echo :LAST_ERROR_SQLSTATE
SELECT set_integer_now_func('iret', NULL);
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE ts_api_other;
SET ROLE ts_api_other;
SELECT set_integer_now_func('iret', 'iret_now');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE ts_api_other;
SELECT set_integer_now_func('iret', 'iret_now');
SELECT integer_now_func FROM hyperdist_information.dimensions WHERE hypertable_name = 'iret';
-- set already: refused (42710) unless replace_if_exists
SELECT set_integer_now_func('iret', 'iret_now');
\echo :LAST_ERROR_SQLSTATE
SELECT set_integer_now_func('iret', 'iret_now', replace_if_exists => true);
-- an interval for an integer column is refused
SELECT add_retention_policy('iret', INTERVAL '1 day');
\echo :LAST_ERROR_SQLSTATE
-- (first run in a day: only run_job runs it here)
SELECT add_retention_policy('iret', 20, initial_start => now() + interval '1 day') AS iret_job \gset
SELECT config - 'hypertable_id' AS config FROM hyperdist_information.jobs WHERE job_id = :iret_job;
-- its run drops the chunks entirely before 55 - 20 = 35: [0, 10) to [20, 30)
CALL run_job(:iret_job);
SELECT last_run_status FROM hyperdist_information.job_stats WHERE job_id = :iret_job;
SELECT min(time), count(*) FROM iret;

-- ---- tablespaces: none on a distributed hypertable, as in 2.13 ---------------
SELECT attach_tablespace('pg_default', 'ch');
\echo :LAST_ERROR_SQLSTATE
SELECT attach_tablespace('nosuch', 'ch');
\echo :LAST_ERROR_SQLSTATE
SELECT attach_tablespace('pg_default', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT detach_tablespace('pg_default', 'ch');
\echo :LAST_ERROR_SQLSTATE
SELECT detach_tablespace('pg_default', 'ch', if_attached => true);
SELECT detach_tablespace('pg_default');
SELECT detach_tablespaces('ch');
SELECT count(*) FROM show_tablespaces('ch');
SELECT show_tablespaces('pg_class');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE iret, ch, ch2, ch3;
DROP FUNCTION iret_now, iret_now_big, iret_now_volatile;
