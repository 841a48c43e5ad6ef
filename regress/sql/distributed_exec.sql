--
-- distributed_exec: SQL on every data node or on a node list, errors raised
-- on a data node (with the node named in the context), transactions that
-- commit or roll back on every node, and transactional => false.
-- Needs dn1..dn3 from the data_nodes suite.  Data nodes have cluster_name
-- set to their own name (tools/cluster), so rows can say where they live.
--
-- Reading the data nodes' tables back goes through foreign tables (one per
-- node) and a view over them.
CALL distributed_exec($$CREATE TABLE de_t (node text, x int)$$);
CREATE FOREIGN TABLE de_dn1 (node text, x int) SERVER dn1 OPTIONS (table_name 'de_t');
CREATE FOREIGN TABLE de_dn2 (node text, x int) SERVER dn2 OPTIONS (table_name 'de_t');
CREATE FOREIGN TABLE de_dn3 (node text, x int) SERVER dn3 OPTIONS (table_name 'de_t');
CREATE VIEW de_all AS
  SELECT 'dn1' AS via, * FROM de_dn1 UNION ALL
  SELECT 'dn2', * FROM de_dn2 UNION ALL
  SELECT 'dn3', * FROM de_dn3;

-- every node, then a node list
CALL distributed_exec($$INSERT INTO de_t VALUES (current_setting('cluster_name'), 1)$$);
CALL distributed_exec($$INSERT INTO de_t VALUES (current_setting('cluster_name'), 2)$$,
                      node_list => '{dn1,dn3}');
CALL distributed_exec(query => $$INSERT INTO de_t VALUES (current_setting('cluster_name'), 3)$$,
                      node_list => ARRAY['dn2']::name[]);
SELECT * FROM de_all ORDER BY via, x;
-- several statements in one string
CALL distributed_exec($$INSERT INTO de_t VALUES ('multi', 4); INSERT INTO de_t VALUES ('multi', 5)$$,
                      node_list => '{dn1}');
SELECT * FROM de_all WHERE node = 'multi' ORDER BY via, x;
-- statements that return rows: the rows are discarded
CALL distributed_exec($$SELECT * FROM de_t$$);
-- utility statements
CALL distributed_exec($$CREATE INDEX de_t_x ON de_t (x)$$);
CALL distributed_exec($$COMMENT ON TABLE de_t IS 'distributed'$$);
CALL distributed_exec($x$DO $d$ BEGIN
  IF obj_description('de_t'::regclass) IS DISTINCT FROM 'distributed' THEN
    RAISE EXCEPTION 'comment missing on %', current_setting('cluster_name');
  END IF; END $d$$x$);

-- errors raised on a data node keep their SQLSTATE and name the node
CALL distributed_exec($$SELECT 1/0$$, node_list => '{dn2}');
\echo :SQLSTATE
CALL distributed_exec($$SELEKT 1$$, node_list => '{dn3}');
\echo :SQLSTATE
CALL distributed_exec($$INSERT INTO no_such_table VALUES (1)$$, node_list => '{dn1}');
\echo :SQLSTATE
CALL distributed_exec($x$DO $d$ BEGIN RAISE EXCEPTION USING ERRCODE = 'P0001',
  MESSAGE = 'raised on ' || current_setting('cluster_name'),
  DETAIL = 'some detail', HINT = 'some hint'; END $d$$x$, node_list => '{dn1}');
\echo :SQLSTATE
-- bad arguments
CALL distributed_exec($$SELECT 1$$, node_list => '{dn1,nosuch}');
\echo :SQLSTATE
CALL distributed_exec(NULL);
\echo :SQLSTATE
CALL distributed_exec('');
\echo :SQLSTATE
CALL distributed_exec($$SELECT 1$$, node_list => '{}');
\echo :SQLSTATE
CALL distributed_exec($$SELECT 1$$, node_list => '{NULL}');
\echo :SQLSTATE

-- a failure on one node rolls back the statement on every node
CALL distributed_exec($$INSERT INTO de_t
  VALUES ('fails', 1 / (current_setting('cluster_name') <> 'dn3')::int)$$);
\echo :SQLSTATE
SELECT count(*) AS fails_rows FROM de_all WHERE node = 'fails';

-- transactions: ROLLBACK undoes the work on every node, COMMIT keeps it
BEGIN;
CALL distributed_exec($$INSERT INTO de_t VALUES ('rolled back', 6)$$);
CALL distributed_exec($$CREATE TABLE de_gone (x int)$$);
SELECT count(*) AS in_txn FROM de_all WHERE node = 'rolled back';
ROLLBACK;
SELECT count(*) AS after_rollback FROM de_all WHERE node = 'rolled back';
CALL distributed_exec($x$DO $d$ BEGIN
  IF to_regclass('de_gone') IS NOT NULL THEN
    RAISE EXCEPTION 'de_gone exists on %', current_setting('cluster_name');
  END IF; END $d$$x$);
BEGIN;
CALL distributed_exec($$INSERT INTO de_t VALUES ('committed', 7)$$, node_list => '{dn1}');
CALL distributed_exec($$INSERT INTO de_t VALUES ('committed', 8)$$, node_list => '{dn2}');
COMMIT;
SELECT * FROM de_all WHERE node = 'committed' ORDER BY via, x;
-- an error later in the transaction undoes what distributed_exec did
BEGIN;
CALL distributed_exec($$INSERT INTO de_t VALUES ('local error', 9)$$);
SELECT 1/0;
ROLLBACK;
SELECT count(*) AS local_error_rows FROM de_all WHERE node = 'local error';
-- a failed statement aborts the transaction, on every node
BEGIN;
CALL distributed_exec($$INSERT INTO de_t VALUES ('aborted', 10)$$, node_list => '{dn1}');
CALL distributed_exec($$SELECT 1/0$$, node_list => '{dn2}');
\echo :SQLSTATE
CALL distributed_exec($$SELECT 1$$);
\echo :SQLSTATE
COMMIT;
SELECT count(*) AS aborted_rows FROM de_all WHERE node = 'aborted';
-- the remote transaction is as isolated as the local one
BEGIN ISOLATION LEVEL REPEATABLE READ;
CALL distributed_exec($x$DO $d$ BEGIN
  IF current_setting('transaction_isolation') <> 'repeatable read' THEN
    RAISE EXCEPTION 'isolation is % on %', current_setting('transaction_isolation'),
      current_setting('cluster_name');
  END IF; END $d$$x$);
COMMIT;

-- transaction control would end or split the data nodes' part of this
-- transaction behind the access node's back: refused before anything is
-- sent, so a local ROLLBACK still undoes everything
BEGIN;
CALL distributed_exec($$INSERT INTO de_t VALUES ('txn control', 12)$$);
CALL distributed_exec('COMMIT');
\echo :SQLSTATE
ROLLBACK;
SELECT count(*) AS txn_control_rows FROM de_all WHERE node = 'txn control';
CALL distributed_exec($$INSERT INTO de_t VALUES ('txn control', 13); COMMIT$$);
\echo :SQLSTATE
CALL distributed_exec('SELECT 1; ROLLBACK');
CALL distributed_exec('BEGIN');
CALL distributed_exec('start transaction read only');
CALL distributed_exec('END');
CALL distributed_exec('ABORT');
CALL distributed_exec('SAVEPOINT s');
CALL distributed_exec('RELEASE SAVEPOINT s');
CALL distributed_exec('ROLLBACK TO s');
CALL distributed_exec($$PREPARE TRANSACTION 'x'$$);
CALL distributed_exec($$COMMIT PREPARED 'x'$$);
CALL distributed_exec($$ROLLBACK PREPARED 'x'$$);
CALL distributed_exec('COMMIT AND CHAIN', transactional => false);
SELECT * FROM _hyperdist_functions.data_node_query('dn1', 'SELECT 1; COMMIT') AS t(x int);
SELECT count(*) AS txn_control_rows FROM de_all WHERE node = 'txn control';

-- should transaction control reach a data node anyway (here through a
-- test fault that skips the refusal), the transaction status the node
-- reports with every answer shows it: the statement fails (2D000) and the
-- session is dropped, so nothing more commits with the local transaction
-- and a transaction left open there is rolled back
SET hyperdist.inject_fault = 'pass_transaction_control';
BEGIN;
CALL distributed_exec($$INSERT INTO de_t VALUES ('behind its back', 14)$$);
CALL distributed_exec('COMMIT', node_list => '{dn1}');
\echo :SQLSTATE
ROLLBACK;
SELECT node, via FROM de_all WHERE node = 'behind its back';
CALL distributed_exec($$BEGIN; INSERT INTO de_t VALUES ('left open', 15)$$,
                      node_list => '{dn2}', transactional => false);
\echo :SQLSTATE
RESET hyperdist.inject_fault;
SELECT count(*) AS left_open_rows FROM de_all WHERE node = 'left open';
CALL distributed_exec($$DELETE FROM de_t WHERE node = 'behind its back'$$);

-- transactional => false: each statement commits on its own, at once
CALL distributed_exec($$VACUUM de_t$$);
\echo :SQLSTATE
CALL distributed_exec($$VACUUM de_t$$, transactional => false);
CALL distributed_exec($$INSERT INTO de_t VALUES ('autocommit', 11)$$,
                      node_list => '{dn3}', transactional => false);
SELECT * FROM de_all WHERE node = 'autocommit';
-- but not inside a transaction block
BEGIN;
CALL distributed_exec($$VACUUM de_t$$, transactional => false);
\echo :SQLSTATE
ROLLBACK;
BEGIN;
DO $$ BEGIN CALL distributed_exec('SELECT 1', transactional => false); END $$;
\echo :SQLSTATE
ROLLBACK;

-- using a data node needs USAGE on its server
CREATE ROLE regress_hd_user;
SET ROLE regress_hd_user;
CALL distributed_exec($$SELECT 1$$);
\echo :SQLSTATE
RESET ROLE;
DROP ROLE regress_hd_user;

-- the data nodes' notices and warnings reach the client, each naming its
-- node (psql shows a notice's context with SHOW_CONTEXT always)
\set SHOW_CONTEXT always
CALL distributed_exec($$DO $x$ BEGIN
  RAISE NOTICE 'on %', current_database() USING HINT = 'a hint';
  RAISE WARNING 'careful' USING DETAIL = 'some detail';
END $x$ $$, node_list => '{dn1,dn2}');
CALL distributed_exec($$DROP TABLE IF EXISTS de_none$$, node_list => '{dn3}');
SET client_min_messages = warning;
CALL distributed_exec($$DO $x$ BEGIN RAISE NOTICE 'not shown'; RAISE WARNING 'shown'; END $x$ $$,
  node_list => '{dn1}');
RESET client_min_messages;
\set SHOW_CONTEXT errors

-- clean up
DROP VIEW de_all;
DROP FOREIGN TABLE de_dn1, de_dn2, de_dn3;
CALL distributed_exec($$DROP TABLE de_t$$);
