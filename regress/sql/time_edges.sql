--
-- Times at the edges of their types: infinite values are refused with
-- 22008 naming their sign, the first and last timestamps and bigints find
-- chunks, and ranges beyond a type show as infinite.
-- Needs dn1..dn3 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE edge_ts (time timestamptz NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('edge_ts', 'time', data_nodes => '{dn1}');
INSERT INTO edge_ts VALUES ('-infinity', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO edge_ts VALUES ('infinity', 1);
INSERT INTO edge_ts VALUES ('4714-11-24 00:00:00+00 BC', 1), ('294246-12-31 00:00:00+00', 2);
SELECT * FROM edge_ts ORDER BY time;
-- a range beyond the type's first timestamp shows as infinite
SELECT range_start, range_end FROM hyperdist_information.chunks
 WHERE hypertable_name = 'edge_ts' ORDER BY range_end;
CREATE TABLE edge_int (t bigint NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('edge_int', 't', chunk_time_interval => 1000,
                                                     data_nodes => '{dn2}');
INSERT INTO edge_int VALUES (-9223372036854775808, 1), (9223372036854775806, 2);
-- the largest bigint is the open end of the last range
INSERT INTO edge_int VALUES (9223372036854775807, 3);
\echo :LAST_ERROR_SQLSTATE
SELECT range_start_integer, range_end_integer FROM hyperdist_information.chunks
 WHERE hypertable_name = 'edge_int' ORDER BY 1;
SELECT * FROM edge_int WHERE t > 9223372036854775806 OR t < -9223372036854775807;
SELECT * FROM edge_int WHERE t > 9223372036854775805 ORDER BY t;
DROP TABLE edge_ts, edge_int;

