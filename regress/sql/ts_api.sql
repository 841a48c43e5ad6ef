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

-- ---- add_dimension: a space dimension while the hypertable has no chunk ------
CREATE TABLE adim (time timestamptz NOT NULL, dev int, v float8, UNIQUE (time, v));
SELECT table_name FROM create_distributed_hypertable('adim', 'time', data_nodes => '{dn1, dn2}',
                                                     chunk_time_interval => interval '1 day');
-- bad input
SELECT add_dimension(NULL, 'dev', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', 'dev');
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', 'dev', 2, chunk_time_interval => 10);
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', 'nosuch', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', 'time', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', 'dev', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', 'dev', 2, partitioning_func => 'hashint4');
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('pg_class', 'relname', 2);
\echo :LAST_ERROR_SQLSTATE
-- a second range dimension: hyperdist's chunks have one time range (0A000)
SELECT add_dimension('adim', 'v', chunk_time_interval => 10);
\echo :LAST_ERROR_SQLSTATE
SELECT add_dimension('adim', by_range('v', 10));
\echo :LAST_ERROR_SQLSTATE
SELECT schema_name, table_name, column_name, created
  FROM add_dimension('adim', 'time', 2, if_not_exists => true);
-- only the owner
CREATE ROLE ts_api_dim;
SET ROLE ts_api_dim;
SELECT add_dimension('adim', 'dev', 2);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE ts_api_dim;
-- a unique index must include the new column (42P16)
\set VERBOSITY default
SELECT add_dimension('adim', 'dev', 2);
\set VERBOSITY terse
ALTER TABLE adim DROP CONSTRAINT adim_time_v_key;
CREATE UNIQUE INDEX adim_time_dev ON adim (time, dev);
-- not once it has chunks, even empty ones (0A000)
INSERT INTO adim VALUES ('2026-01-01 10:00', 1, 1);
\set VERBOSITY default
SELECT add_dimension('adim', 'dev', 2);
\set VERBOSITY terse
TRUNCATE adim;
SELECT schema_name, table_name, column_name, created FROM add_dimension('adim', 'dev', 2);
SELECT column_name, dimension_type, num_partitions
  FROM hyperdist_information.dimensions WHERE hypertable_name = 'adim' ORDER BY dimension_number;
-- one space dimension at most (0A000); the same column again is skipped
SELECT add_dimension('adim', by_hash('v', 2));
\echo :LAST_ERROR_SQLSTATE
SELECT created FROM add_dimension('adim', by_hash('dev', 2), if_not_exists => true);
-- rows are routed by dev: both nodes hold some, and read back the same
INSERT INTO adim SELECT timestamptz '2026-01-01 00:00' + g * interval '1 hour', g % 4, g
  FROM generate_series(0, 47) g;
SELECT data_nodes, count(*) FROM hyperdist_information.chunks
 WHERE hypertable_name = 'adim' GROUP BY 1 ORDER BY 1;
SELECT dev, count(*), sum(v) FROM adim GROUP BY dev ORDER BY dev;
SELECT count(*), sum(v) FROM adim WHERE dev = 3;
SELECT t.n FROM _hyperdist_functions.data_node_query('dn1', 'SELECT count(*) FROM public.adim') AS t(n bigint);
SELECT t.n FROM _hyperdist_functions.data_node_query('dn2', 'SELECT count(*) FROM public.adim') AS t(n bigint);
-- the generalized form, with fewer partitions than data nodes: 2.13's WARNING
CREATE TABLE adim2 (time bigint NOT NULL, dev text);
SELECT table_name FROM create_distributed_hypertable('adim2', 'time', data_nodes => '{dn1, dn2}',
                                                     chunk_time_interval => 10);
SELECT created FROM add_dimension('adim2', by_hash('dev', 1));
DROP TABLE adim, adim2;

-- ---- storage parameters: every chunk's, existing and new ----------------------
CREATE TABLE sp (time bigint NOT NULL, dev int, v int);
SELECT table_name FROM create_distributed_hypertable('sp', 'time', 'dev', number_partitions => 2,
                                                     chunk_time_interval => 10, replication_factor => 2,
                                                     data_nodes => '{dn1, dn2}');
INSERT INTO sp VALUES (1, 1, 1), (2, 2, 2);
CREATE VIEW sp_options AS
  SELECT n.node, t.reloptions, count(*) AS chunks
    FROM unnest('{dn1,dn2}'::name[]) n(node),
         LATERAL _hyperdist_functions.data_node_query(n.node,
           $$SELECT c.reloptions::text FROM pg_partition_tree('public.sp') p
               JOIN pg_class c ON c.oid = p.relid WHERE p.isleaf$$) AS t(reloptions text)
   GROUP BY 1, 2 ORDER BY 1, 2;
ALTER TABLE sp SET (fillfactor = 40, autovacuum_enabled = false);
-- a new chunk gets them too
INSERT INTO sp VALUES (15, 1, 3);
SELECT * FROM sp_options;
SELECT chunk_options FROM _hyperdist_catalog.hypertable WHERE relid = 'sp'::regclass;
ALTER TABLE sp RESET (fillfactor);
SELECT * FROM sp_options;
-- PostgreSQL's checks (22023); TOAST parameters and a mix with other
-- subcommands are refused (0A000)
ALTER TABLE sp SET (fillfactor = 5);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sp SET (nosuch = 1);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sp SET (toast.autovacuum_enabled = false);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sp SET (fillfactor = 50), ADD COLUMN w int;
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE ts_api_sp;
SET ROLE ts_api_sp;
ALTER TABLE sp SET (fillfactor = 50);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE ts_api_sp;
ALTER TABLE sp RESET (autovacuum_enabled);
SELECT * FROM sp_options;
SELECT chunk_options FROM _hyperdist_catalog.hypertable WHERE relid = 'sp'::regclass;
SELECT count(*), sum(v) FROM sp;
DROP VIEW sp_options;
DROP TABLE sp;

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
