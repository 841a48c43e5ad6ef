--
-- Foreign scans of the hyperdist FDW: a foreign table reads one table (or
-- view) on one data node.  Column types, NULLs, local filters, joins across
-- nodes, large results streamed in many batches, cursors closed early,
-- errors raised while scanning, and the FDW's option checks.
-- Needs dn1..dn3 from the data_nodes suite.
--
CALL distributed_exec($$CREATE TABLE fs_t (
    id int PRIMARY KEY, node text, t text, n numeric, f float8, b bool,
    ts timestamptz, d date, j jsonb, a int[], by bytea, u uuid, iv interval)$$);
CALL distributed_exec($$INSERT INTO fs_t
  SELECT g, current_setting('cluster_name'), 'text ' || g, g * 1.5, g / 4.0, g % 2 = 0,
         '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour',
         '2024-01-01'::date + g, jsonb_build_object('g', g), ARRAY[g, g * 2],
         decode(lpad(to_hex(g), 2, '0'), 'hex'), md5(g::text)::uuid, g * interval '1 minute'
    FROM generate_series(1, 5) g$$);
CALL distributed_exec($$INSERT INTO fs_t (id, node) VALUES (6, current_setting('cluster_name'))$$);

CREATE FOREIGN TABLE fs_dn1 (
    id int, node text, t text, n numeric, f float8, b bool, ts timestamptz,
    d date, j jsonb, a int[], by bytea, u uuid, iv interval)
  SERVER dn1 OPTIONS (table_name 'fs_t');
CREATE FOREIGN TABLE fs_dn2 (id int, node text, t text) SERVER dn2 OPTIONS (table_name 'fs_t');
CREATE FOREIGN TABLE fs_dn3 (id int, node text, t text) SERVER dn3
  OPTIONS (schema_name 'public', table_name 'fs_t');

SET timezone = 'UTC';
SELECT * FROM fs_dn1 ORDER BY id;
SELECT id, node, t FROM fs_dn2 WHERE id % 2 = 1 ORDER BY id;
SELECT count(*), count(t), sum(id) FROM fs_dn3;
SELECT id, t FROM fs_dn1 ORDER BY id DESC LIMIT 2;
-- rows from all three nodes, and a join across two of them
SELECT node, count(*) FROM (
  SELECT node FROM fs_dn1 UNION ALL SELECT node FROM fs_dn2 UNION ALL SELECT node FROM fs_dn3) s
GROUP BY node ORDER BY node;
SELECT a.id, a.node, b.node FROM fs_dn1 a JOIN fs_dn2 b USING (id) WHERE a.id <= 2 ORDER BY 1;
-- a parameter from the outer query, and a prepared statement
SELECT id, (SELECT t FROM fs_dn2 b WHERE b.id = a.id) FROM fs_dn1 a WHERE id <= 2 ORDER BY id;
PREPARE fs_q(int) AS SELECT id, t FROM fs_dn3 WHERE id = $1;
EXECUTE fs_q(3);
EXECUTE fs_q(4);
DEALLOCATE fs_q;
-- column_name maps a local column to a remote one; columns come in any order
CREATE FOREIGN TABLE fs_renamed (label text OPTIONS (column_name 't'), key int OPTIONS (column_name 'id'))
  SERVER dn1 OPTIONS (table_name 'fs_t');
SELECT key, label FROM fs_renamed WHERE key <= 2 ORDER BY key;
-- a foreign table over a view on the data node
CALL distributed_exec($$CREATE VIEW fs_v AS SELECT id, upper(t) AS t FROM fs_t WHERE id <= 2$$,
                      node_list => '{dn2}');
CREATE FOREIGN TABLE fs_v_dn2 (id int, t text) SERVER dn2 OPTIONS (table_name 'fs_v');
SELECT * FROM fs_v_dn2 ORDER BY id;
-- the scan sees the transaction's own remote writes
BEGIN;
CALL distributed_exec($$INSERT INTO fs_t (id, node) VALUES (100, 'in txn')$$, node_list => '{dn2}');
SELECT id, node FROM fs_dn2 WHERE id = 100;
ROLLBACK;
SELECT count(*) AS after_rollback FROM fs_dn2 WHERE id = 100;

-- a large result, streamed in many small batches with a small window
CALL distributed_exec($$CREATE TABLE fs_big AS
  SELECT g AS x, repeat('x', 20) AS pad FROM generate_series(1, 200000) g$$,
  node_list => '{dn1}');
CREATE FOREIGN TABLE fs_big_dn1 (x int, pad text) SERVER dn1 OPTIONS (table_name 'fs_big');
SET hyperdist.batch_bytes = 4096;
SET hyperdist.stream_window = 1;
SELECT count(*), sum(x), min(x), max(x), sum(length(pad)) FROM fs_big_dn1;
RESET hyperdist.stream_window;
RESET hyperdist.batch_bytes;
SELECT count(*), sum(x) FROM fs_big_dn1;
-- stopping early (LIMIT, a cursor closed before the end) leaves the session
-- ready for the next query
SELECT x FROM fs_big_dn1 ORDER BY x LIMIT 3;
SELECT count(*) FROM (SELECT x FROM fs_big_dn1 LIMIT 1) s;
BEGIN;
DECLARE fs_c CURSOR FOR SELECT x FROM fs_big_dn1;
MOVE FORWARD 1000 IN fs_c;
CLOSE fs_c;
SELECT count(*) FROM fs_dn1;
COMMIT;
SELECT count(*) FROM fs_big_dn1;

-- errors while scanning name the data node
CALL distributed_exec($$CREATE VIEW fs_bad AS SELECT id, 1 / (id - 3) AS q FROM fs_t$$,
                      node_list => '{dn3}');
CREATE FOREIGN TABLE fs_bad_dn3 (id int, q int) SERVER dn3 OPTIONS (table_name 'fs_bad');
SELECT * FROM fs_bad_dn3 ORDER BY id;
\echo :SQLSTATE
CREATE FOREIGN TABLE fs_missing (x int) SERVER dn1 OPTIONS (table_name 'no_such_table');
SELECT * FROM fs_missing;
\echo :SQLSTATE
CREATE FOREIGN TABLE fs_wrong_column (id int, nope int) SERVER dn1 OPTIONS (table_name 'fs_t');
SELECT * FROM fs_wrong_column;
\echo :SQLSTATE
CREATE FOREIGN TABLE fs_wrong_type (id int, t int) SERVER dn1 OPTIONS (table_name 'fs_t');
SELECT * FROM fs_wrong_type;
\echo :SQLSTATE
-- and the session goes on afterwards
SELECT count(*) FROM fs_dn1;

-- writes through foreign tables are not supported (yet)
INSERT INTO fs_dn1 (id) VALUES (1000);
\echo :SQLSTATE

-- options
CREATE FOREIGN TABLE fs_opt (x int) SERVER dn1 OPTIONS (tablename 'fs_t');
\echo :SQLSTATE
CREATE FOREIGN TABLE fs_opt (x int OPTIONS (colname 'x')) SERVER dn1;
\echo :SQLSTATE
CREATE USER MAPPING FOR CURRENT_USER SERVER dn1 OPTIONS (dbname 'x');
\echo :SQLSTATE
-- without table_name, the foreign table's own name is used
CREATE FOREIGN TABLE fs_t (id int, t text) SERVER dn1;
SELECT id, t FROM fs_t WHERE id = 1;
DROP FOREIGN TABLE fs_t;
EXPLAIN (COSTS OFF) SELECT id FROM fs_dn1 WHERE id > 3;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, t FROM fs_dn1 WHERE id > 3;

-- clean up
DROP FOREIGN TABLE fs_dn1, fs_dn2, fs_dn3, fs_renamed, fs_v_dn2, fs_big_dn1,
  fs_bad_dn3, fs_missing, fs_wrong_column, fs_wrong_type;
CALL distributed_exec($$DROP TABLE fs_t CASCADE$$);
CALL distributed_exec($$DROP TABLE fs_big$$, node_list => '{dn1}');
