--
-- remote_txn: distributed transactions.  Data nodes written to commit with
-- two-phase commit, a single one with one phase; savepoints reach the data
-- nodes that took part in a subtransaction; errors roll back everywhere; the
-- isolation level maps to the data nodes; PREPARE TRANSACTION is refused; the GUCs, the view and
-- remote_txn_heal_data_node.  Crashes and recovery are in the TAP tests
-- (regress/t/01*_2pc_*.pl).  Needs dn1..dn3 from the data_nodes suite.
--
CALL distributed_exec($$CREATE TABLE rt_t (id int PRIMARY KEY, note text)$$);
CALL distributed_exec($$CREATE VIEW rt_iso AS
  SELECT current_setting('transaction_isolation') AS isolation,
         current_setting('transaction_read_only') AS read_only$$);
CREATE FOREIGN TABLE rt_dn1 (id int, note text) SERVER dn1 OPTIONS (table_name 'rt_t');
CREATE FOREIGN TABLE rt_dn2 (id int, note text) SERVER dn2 OPTIONS (table_name 'rt_t');
CREATE FOREIGN TABLE rt_dn3 (id int, note text) SERVER dn3 OPTIONS (table_name 'rt_t');
CREATE VIEW rt_all AS
  SELECT 'dn1' AS node, * FROM rt_dn1 UNION ALL
  SELECT 'dn2', * FROM rt_dn2 UNION ALL
  SELECT 'dn3', * FROM rt_dn3;
CREATE FOREIGN TABLE rt_iso_dn1 (isolation text, read_only text)
  SERVER dn1 OPTIONS (table_name 'rt_iso');

-- ---- the parameters --------------------------------------------------------
SHOW hyperdist.enable_2pc;
SHOW hyperdist.inject_fault;
SHOW hyperdist.inject_fault_action;
SHOW hyperdist.resolve_interval;
SET hyperdist.inject_fault = 'after_prepare';
RESET hyperdist.inject_fault;
SET hyperdist.inject_fault = 'nowhere';
-- fault injection is for superusers only
CREATE ROLE regress_hd_user;
SET ROLE regress_hd_user;
SET hyperdist.inject_fault = 'after_prepare';
SET hyperdist.inject_fault_action = 'pause';
RESET ROLE;

-- ---- commit and rollback on every node ----------------------------------------
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (1, 'committed')$$);
COMMIT;
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (2, 'rolled back')$$);
ROLLBACK;
-- an error on one node rolls the transaction back on all of them
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (3, 'never')$$, node_list => '{dn1,dn2}');
CALL distributed_exec($$INSERT INTO rt_t VALUES (1, 'duplicate')$$, node_list => '{dn3}');
COMMIT;
-- an error while the nodes prepare: dn3 refuses PREPARE after a temp table
-- (terse: the context would show the remote SQL, with the gid)
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (4, 'never either')$$);
CALL distributed_exec($$CREATE TEMP TABLE rt_tmp (x int)$$, node_list => '{dn3}');
\set VERBOSITY terse
COMMIT;
\set VERBOSITY default
SELECT * FROM rt_all ORDER BY id, node;

-- ---- savepoints ------------------------------------------------------------------
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (10, 'top level')$$, node_list => '{dn1}');
SAVEPOINT a;
CALL distributed_exec($$INSERT INTO rt_t VALUES (11, 'in a')$$);
SAVEPOINT b;
CALL distributed_exec($$INSERT INTO rt_t VALUES (12, 'in b, rolled back')$$, node_list => '{dn2}');
ROLLBACK TO SAVEPOINT b;
CALL distributed_exec($$INSERT INTO rt_t VALUES (13, 'in b again')$$, node_list => '{dn3}');
RELEASE SAVEPOINT b;
SAVEPOINT c;
CALL distributed_exec($$INSERT INTO rt_t VALUES (14, 'in c, rolled back')$$);
ROLLBACK TO SAVEPOINT c;
-- the transaction sees its own work, without what was rolled back
SELECT * FROM rt_all WHERE id >= 10 ORDER BY id, node;
COMMIT;
SELECT * FROM rt_all WHERE id >= 10 ORDER BY id, node;

-- a data node error inside a savepoint: roll back to it and go on
BEGIN;
SAVEPOINT s;
CALL distributed_exec($$INSERT INTO rt_t VALUES (15, 'one'), (15, 'two')$$, node_list => '{dn2}');
ROLLBACK TO SAVEPOINT s;
CALL distributed_exec($$INSERT INTO rt_t VALUES (16, 'after the error')$$, node_list => '{dn2}');
COMMIT;
SELECT * FROM rt_all WHERE id IN (15, 16) ORDER BY id, node;

-- a node first used inside a subtransaction that rolls back
BEGIN;
SAVEPOINT s;
CALL distributed_exec($$INSERT INTO rt_t VALUES (17, 'gone')$$, node_list => '{dn1}');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT count(*) AS id_17 FROM rt_all WHERE id = 17;

-- PL/pgSQL exception blocks are subtransactions too
DO $$
BEGIN
  FOR i IN 20..22 LOOP
    BEGIN
      CALL distributed_exec(format('INSERT INTO rt_t VALUES (%s, %L)', i, 'loop'),
                            node_list => '{dn1,dn2}');
      IF i = 21 THEN
        RAISE EXCEPTION 'undo %', i;
      END IF;
    EXCEPTION WHEN raise_exception THEN
      RAISE NOTICE 'caught: %', SQLERRM;
    END;
  END LOOP;
END $$;
SELECT * FROM rt_all WHERE id BETWEEN 20 AND 22 ORDER BY id, node;

-- ---- isolation levels and read-only transactions --------------------------------
BEGIN;
SELECT * FROM rt_iso_dn1;
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM rt_iso_dn1;
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY;
SELECT * FROM rt_iso_dn1;
COMMIT;
-- a read-only transaction cannot write on a data node
BEGIN READ ONLY;
CALL distributed_exec($$INSERT INTO rt_t VALUES (31, 'read only')$$, node_list => '{dn1}');
ROLLBACK;

-- ---- PREPARE TRANSACTION on the access node ----------------------------------------
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (40, 'prepare')$$, node_list => '{dn1}');
PREPARE TRANSACTION 'rt_gid';
-- also when the data nodes were only read from REPEATABLE READ up (at READ
-- COMMITTED a read runs as a statement of its own on a node where the
-- transaction has no remote transaction: PostgreSQL's own PREPARE then)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM rt_dn1 WHERE id = 40;
PREPARE TRANSACTION 'rt_gid';
BEGIN;
SELECT count(*) FROM rt_dn1 WHERE id = 40;
PREPARE TRANSACTION 'rt_gid';
SELECT count(*) AS prepared FROM pg_prepared_xacts;
SELECT count(*) AS id_40 FROM rt_all WHERE id = 40;

-- ---- one-phase commit ----------------------------------------------------------------
SET hyperdist.enable_2pc = off;
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (50, 'one phase')$$);
COMMIT;
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (51, 'one phase, error')$$, node_list => '{dn1,dn2}');
CALL distributed_exec($$INSERT INTO rt_t VALUES (50, 'duplicate')$$, node_list => '{dn3}');
COMMIT;
RESET hyperdist.enable_2pc;
SELECT * FROM rt_all WHERE id >= 50 ORDER BY id, node;

-- ---- one data node written: one-phase commit ---------------------------------------
SHOW hyperdist.enable_one_phase_commit;
CALL distributed_exec($$CREATE TABLE rt_deferred (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)$$,
                      node_list => '{dn1}');
BEGIN;
SELECT count(*) FROM rt_dn2;
CALL distributed_exec($$INSERT INTO rt_t VALUES (60, 'one node')$$, node_list => '{dn1}');
COMMIT;
-- the data node refuses the COMMIT: its error, naming it; nothing committed
BEGIN;
CALL distributed_exec($$INSERT INTO rt_t VALUES (61, 'never')$$, node_list => '{dn1}');
CALL distributed_exec($$INSERT INTO rt_deferred VALUES (1), (1)$$, node_list => '{dn1}');
COMMIT;
-- the same with two-phase commit: PREPARE refuses
SET hyperdist.enable_one_phase_commit = off;
BEGIN;
CALL distributed_exec($$INSERT INTO rt_deferred VALUES (2), (2)$$, node_list => '{dn1}');
\set VERBOSITY terse
COMMIT;
\set VERBOSITY default
RESET hyperdist.enable_one_phase_commit;
SELECT * FROM rt_all WHERE id >= 60 ORDER BY id, node;
CALL distributed_exec($$DROP TABLE rt_deferred$$, node_list => '{dn1}');

-- ---- resolution on demand, and the view ------------------------------------------------
SELECT remote_txn_heal_data_node('dn1') AS resolved_dn1,
       remote_txn_heal_data_node('dn2') AS resolved_dn2,
       remote_txn_heal_data_node('dn3') AS resolved_dn3;
SELECT remote_txn_heal_data_node('no_such_node');
SELECT remote_txn_heal_data_node('hyperdist_hypertables');
-- not in a transaction that uses the node
BEGIN;
CALL distributed_exec($$SELECT 1$$, node_list => '{dn1}');
SELECT remote_txn_heal_data_node('dn1');
ROLLBACK;
SET ROLE regress_hd_user;
SELECT remote_txn_heal_data_node('dn1');
-- everyone may look at what is pending
SELECT * FROM hyperdist_information.remote_transactions WHERE false;
RESET ROLE;
\d hyperdist_information.remote_transactions
DROP ROLE regress_hd_user;

-- no prepared transaction is left behind on the data nodes
CREATE FOREIGN TABLE rt_prepared_dn1 (gid text) SERVER dn1
  OPTIONS (schema_name 'pg_catalog', table_name 'pg_prepared_xacts');
SELECT count(*) AS prepared_on_dn1 FROM rt_prepared_dn1;

CALL distributed_exec($$DROP VIEW rt_iso; DROP TABLE rt_t$$);
DROP VIEW rt_all;
DROP FOREIGN TABLE rt_dn1, rt_dn2, rt_dn3, rt_iso_dn1, rt_prepared_dn1;
