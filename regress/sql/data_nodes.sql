--
-- add_data_node, alter_data_node, delete_data_node and the view
-- hyperdist_information.data_nodes.  Runs first, on a --bare cluster with
-- three data nodes; leaves dn1, dn2 and dn3 added (database hd_regress) for
-- the suites after it.  Ports come from the environment (cluster.env), and
-- are never printed.  After each expected error, \echo :SQLSTATE shows its
-- SQLSTATE.
--
\getenv agent1 AGENT1_PORT
\getenv agent2 AGENT2_PORT
\getenv agent3 AGENT3_PORT
CREATE EXTENSION hyperdist;
SELECT extname, extversion FROM pg_extension WHERE extname = 'hyperdist';
SELECT count(*) AS data_nodes FROM hyperdist_information.data_nodes;

-- add: bootstraps the data node (creates database hd_regress there)
SELECT node_name, host, database, node_created, database_created,
       extension_created, port = :agent1 AS port_is_agent1
  FROM add_data_node('dn1', host => '127.0.0.1', database => 'hd_regress',
                     port => :agent1);
SELECT node_name, host, database, node_created, database_created,
       extension_created
  FROM add_data_node('dn2', '127.0.0.1', database => 'hd_regress', port => :agent2);
-- the server's options: where the agent is, the database, the agent's key
SELECT srvname, fdwname,
       (SELECT array_agg(split_part(o, '=', 1) ORDER BY o) FROM unnest(srvoptions) o) AS option_names
  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
 ORDER BY srvname;
SELECT node_name, owner, host, port IN (:agent1, :agent2) AS port_ok, database, available
  FROM hyperdist_information.data_nodes ORDER BY node_name;

-- adding again: an error, or a notice with if_not_exists
SELECT * FROM add_data_node('dn1', '127.0.0.1', database => 'hd_regress', port => :agent1);
\echo :SQLSTATE
SELECT node_name, database, node_created, database_created
  FROM add_data_node('dn1', '127.0.0.1', database => 'hd_regress', port => :agent1,
                     if_not_exists => true);
-- a new node: its database is created
SELECT node_name, database, node_created, database_created
  FROM add_data_node('dn3', '127.0.0.1', database => 'hd_regress', port => :agent3);
-- deleted and added again: the database is there already (a notice), so
-- database_created is false
SELECT delete_data_node('dn3');
SELECT node_name, database, node_created, database_created
  FROM add_data_node('dn3', '127.0.0.1', database => 'hd_regress', port => :agent3);
-- without bootstrap: no database is created, the node is only validated
SELECT delete_data_node('dn3');
SELECT node_name, database, node_created, database_created
  FROM add_data_node('dn3', '127.0.0.1', database => 'hd_regress', port => :agent3,
                     bootstrap => false);
SELECT node_name FROM hyperdist_information.data_nodes ORDER BY 1;

-- bad arguments
SELECT * FROM add_data_node(NULL, '127.0.0.1', port => :agent1);
\echo :SQLSTATE
SELECT * FROM add_data_node('', '127.0.0.1', port => :agent1);
\echo :SQLSTATE
SELECT * FROM add_data_node('dnx', NULL, port => :agent1);
\echo :SQLSTATE
SELECT * FROM add_data_node('dnx', '', port => :agent1);
\echo :SQLSTATE
SELECT * FROM add_data_node('dnx', '127.0.0.1', database => '', port => :agent1);
\echo :SQLSTATE
SELECT * FROM add_data_node('dnx', '127.0.0.1', port => 0);
\echo :SQLSTATE
SELECT * FROM add_data_node('dnx', '127.0.0.1', port => 65536);
\echo :SQLSTATE
-- no key file for dnx's agent in the keys directory
\set VERBOSITY terse
SELECT * FROM add_data_node('dnx', '127.0.0.1', database => 'hd_regress', port => :agent1);
\echo :SQLSTATE
\set VERBOSITY default
-- bootstrap cannot run in a transaction block
BEGIN;
SELECT * FROM add_data_node('dnx', '127.0.0.1', database => 'hd_regress', port => :agent1);
\echo :SQLSTATE
ROLLBACK;
-- a foreign server of another wrapper with that name
CREATE FOREIGN DATA WRAPPER regress_other_fdw;
CREATE SERVER regress_other FOREIGN DATA WRAPPER regress_other_fdw;
SELECT * FROM add_data_node('regress_other', '127.0.0.1', port => :agent1);
\echo :SQLSTATE
SELECT delete_data_node('regress_other');
\echo :SQLSTATE
SELECT * FROM alter_data_node('regress_other', available => false);
\echo :SQLSTATE
DROP SERVER regress_other;
DROP FOREIGN DATA WRAPPER regress_other_fdw;
-- data nodes are made and removed by add_data_node and delete_data_node
-- only: CREATE SERVER with hyperdist's wrapper, DROP SERVER, RENAME and
-- VERSION of a data node are refused (0A000); other servers are untouched
CREATE SERVER dnz FOREIGN DATA WRAPPER hyperdist OPTIONS (host '127.0.0.1', port '1');
DROP SERVER dn1;
DROP SERVER IF EXISTS regress_other, dn2 CASCADE;
ALTER SERVER dn1 RENAME TO dn9;
ALTER SERVER dn1 VERSION '2';
-- nothing was left behind by the failures
SELECT srvname FROM pg_foreign_server ORDER BY 1;

-- the FDW validates options given directly
ALTER SERVER dn1 OPTIONS (SET port '70000');
\echo :SQLSTATE
ALTER SERVER dn1 OPTIONS (SET port 'many');
\echo :SQLSTATE
ALTER SERVER dn1 OPTIONS (ADD frobnicate 'yes');
\echo :SQLSTATE
ALTER SERVER dn1 OPTIONS (SET agent_public_key 'not a key');
\echo :SQLSTATE
ALTER SERVER dn1 OPTIONS (DROP host);
\echo :SQLSTATE
ALTER SERVER dn1 OPTIONS (ADD available 'maybe');
\echo :SQLSTATE

-- alter_data_node: NULL keeps a value; the result shows the new ones
SELECT node_name, host, database, available FROM alter_data_node('dn2');
SELECT node_name, host, database, available FROM alter_data_node('dn2', available => false);
SELECT node_name, available FROM hyperdist_information.data_nodes ORDER BY 1;
SELECT node_name, host, database, available FROM alter_data_node('dn2', available => true);
SELECT node_name, host, database, port = :agent1 AS port_is_agent1
  FROM alter_data_node('dn2', host => 'localhost', database => 'other_db', port => :agent1);
SELECT node_name, host, database, port = :agent1 AS port_is_agent1
  FROM hyperdist_information.data_nodes WHERE node_name = 'dn2';
SELECT node_name, host, database, port = :agent2 AS port_is_agent2
  FROM alter_data_node('dn2', host => '127.0.0.1', database => 'hd_regress', port => :agent2);
SELECT * FROM alter_data_node('nosuch');
\echo :SQLSTATE
SELECT * FROM alter_data_node(NULL);
\echo :SQLSTATE
SELECT * FROM alter_data_node('dn2', port => -1);
\echo :SQLSTATE
SELECT * FROM alter_data_node('dn2', host => '');
\echo :SQLSTATE

-- delete_data_node
SELECT delete_data_node('nosuch');
\echo :SQLSTATE
SELECT delete_data_node('nosuch', if_exists => true);
SELECT delete_data_node(NULL);
\echo :SQLSTATE
-- the last data node of a hypertable: refused, unless force, which leaves
-- the hypertable without data nodes and loses its rows, with 2.13's WARNING
CREATE TABLE lastn (time bigint NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('lastn', 'time', chunk_time_interval => 10,
                                                     data_nodes => '{dn3}');
INSERT INTO lastn VALUES (1, 1), (15, 2);
SELECT detach_data_node('dn3', 'lastn');
\echo :SQLSTATE
SELECT delete_data_node('dn3');
\echo :SQLSTATE
SELECT delete_data_node('dn3', force => true);
SELECT data_nodes, num_chunks FROM hyperdist_information.hypertables WHERE hypertable_name = 'lastn';
SELECT count(*) FROM lastn;
INSERT INTO lastn VALUES (1, 1);
\echo :SQLSTATE
SELECT node_name, database_created
  FROM add_data_node('dn3', '127.0.0.1', database => 'hd_regress', port => :agent3);
-- its definition went with the node: attaching one is refused
SELECT * FROM attach_data_node('dn3', 'lastn');
\echo :SQLSTATE
CALL distributed_exec('DROP TABLE lastn', '{dn3}');
DROP TABLE lastn;
-- detach_data_node with force does the same
CREATE TABLE lastn (time bigint NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('lastn', 'time', chunk_time_interval => 10,
                                                     data_nodes => '{dn2}');
SELECT detach_data_node('dn2', 'lastn', force => true, drop_remote_data => true);
SELECT data_nodes FROM hyperdist_information.hypertables WHERE hypertable_name = 'lastn';
DROP TABLE lastn;
-- (the catalog's ids start over for the suites that follow)
SELECT setval('_hyperdist_catalog.hypertable_id_seq', 1, false) IS NOT NULL,
       setval('_hyperdist_catalog.dimension_id_seq', 1, false) IS NOT NULL,
       setval('_hyperdist_catalog.time_slice_id_seq', 1, false) IS NOT NULL,
       setval('_hyperdist_catalog.chunk_id_seq', 1, false) IS NOT NULL;
-- a node that foreign tables use is kept unless forced
CREATE FOREIGN TABLE regress_dn3_t (x int) SERVER dn3;
SELECT delete_data_node('dn3');
\echo :SQLSTATE
SELECT delete_data_node('dn3', force => true);
SELECT count(*) AS foreign_tables_left FROM pg_foreign_table;
-- drop_database removes the database on the data node, which a new add
-- creates again
SELECT node_name, database_created
  FROM add_data_node('dn3', '127.0.0.1', database => 'hd_regress', port => :agent3);
BEGIN;
SELECT delete_data_node('dn3', drop_database => true);
\echo :SQLSTATE
ROLLBACK;
SELECT delete_data_node('dn3', drop_database => true);
SELECT node_name, database_created
  FROM add_data_node('dn3', '127.0.0.1', database => 'hd_regress', port => :agent3);

-- only superusers manage data nodes; anyone may read the view
CREATE ROLE regress_hd_user;
SET ROLE regress_hd_user;
SELECT * FROM add_data_node('dnx', '127.0.0.1', port => :agent1);
\echo :SQLSTATE
SELECT * FROM alter_data_node('dn1', available => false);
\echo :SQLSTATE
SELECT delete_data_node('dn1');
\echo :SQLSTATE
SELECT node_name, host, database, available
  FROM hyperdist_information.data_nodes ORDER BY node_name;
RESET ROLE;
DROP ROLE regress_hd_user;

SELECT node_name, host, database, available
  FROM hyperdist_information.data_nodes ORDER BY node_name;

-- health(): every data node answers and is a primary; the access node's row
-- has node_name NULL
SELECT * FROM health();
