--
-- block_new_chunks and allow_new_chunks (the placement map without the
-- blocked node, new chunks elsewhere, the replication factor's check),
-- rebalance's plans (dry runs over a lopsided hypertable: their shape, not
-- their byte counts), moves recorded and cancelled inside one transaction
-- (the background worker never sees them), drain_data_node's refusals,
-- the hint to drain before detaching, and the caller checks.  Runs on the
-- data nodes dn1..dn3 data_nodes leaves; the catalog's sequences are set
-- for chunk names that do not depend on earlier suites, and put back.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

SELECT (SELECT last_value FROM _hyperdist_catalog.hypertable_id_seq) AS ht_seq,
       (SELECT last_value FROM _hyperdist_catalog.dimension_id_seq) AS dim_seq,
       (SELECT last_value FROM _hyperdist_catalog.time_slice_id_seq) AS slice_seq,
       (SELECT last_value FROM _hyperdist_catalog.chunk_id_seq) AS chunk_seq \gset
SELECT setval('_hyperdist_catalog.hypertable_id_seq', 200) AS ht_seq,
       setval('_hyperdist_catalog.chunk_id_seq', 2000) AS chunk_seq;

-- six days of the same rows, a chunk a day, three on dn1 and three on dn2
CREATE TABLE rb (time timestamptz NOT NULL, dev int NOT NULL, v float8);
SELECT table_name FROM create_distributed_hypertable('rb', 'time', data_nodes => '{dn1,dn2}',
                                                     chunk_time_interval => interval '1 day');
INSERT INTO rb SELECT t, 1, 1.0
  FROM generate_series(timestamptz '2024-01-01', '2024-01-06 23:59:50', interval '10 s') t;

CREATE VIEW rb_chunks AS
SELECT to_char(timestamptz 'epoch' + ts.range_start * interval '1 microsecond', 'MM-DD') AS day,
       string_agg(cdn.node_name, ', ' ORDER BY cdn.replica) AS nodes
  FROM _hyperdist_catalog.chunk c
  JOIN _hyperdist_catalog.time_slice ts ON ts.id = c.time_slice_id
  JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id
  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
 WHERE h.relid = 'rb'::regclass
 GROUP BY 1 ORDER BY 1;
CREATE VIEW rb_placement AS
SELECT dp.partition, dp.data_nodes, hdn.blocked
  FROM _hyperdist_catalog.dimension_partition dp
  JOIN _hyperdist_catalog.hypertable h ON h.id = dp.hypertable_id
 CROSS JOIN LATERAL (SELECT array_agg(node_name ORDER BY node_name) FILTER (WHERE block_chunks) AS blocked
                       FROM _hyperdist_catalog.hypertable_data_node
                      WHERE hypertable_id = h.id) hdn
 WHERE h.relid = 'rb'::regclass
 ORDER BY dp.partition;
SELECT * FROM rb_chunks;
SELECT * FROM rb_placement;

-- ---- block_new_chunks, allow_new_chunks -------------------------------------
SELECT block_new_chunks('dn1', 'rb');
SELECT * FROM rb_placement;
-- again: nothing changes
SELECT block_new_chunks('dn1', 'rb');
-- a new chunk goes to dn2, whatever its slot in the map was
INSERT INTO rb VALUES ('2024-01-07 00:00', 1, 1.0), ('2024-01-08 00:00', 1, 1.0);
SELECT * FROM rb_chunks WHERE day >= '01-07';
SELECT allow_new_chunks('dn1', 'rb');
SELECT allow_new_chunks('dn1', 'rb');
SELECT * FROM rb_placement;
-- with replication factor 2 on two nodes, blocking one leaves too few
SELECT set_replication_factor('rb', 2);
SELECT block_new_chunks('dn2', 'rb');
\echo :LAST_ERROR_SQLSTATE
SELECT block_new_chunks('dn2', 'rb', force => true);
SELECT * FROM rb_placement;
-- every hypertable dn2 is attached to: rb is the one blocked
SELECT allow_new_chunks('dn2');
SELECT set_replication_factor('rb', 1);
-- errors
SELECT block_new_chunks('dn3', 'rb');
\echo :LAST_ERROR_SQLSTATE
SELECT block_new_chunks('nonexistent');
\echo :LAST_ERROR_SQLSTATE
SELECT block_new_chunks('dn1', 'pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT allow_new_chunks(NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---- rebalance: plans --------------------------------------------------------
-- a third node holds nothing yet: one chunk comes from each of the others
SELECT node_name FROM attach_data_node('dn3', 'rb');
SELECT source_node, destination_node, count(*)
  FROM rebalance('rb', dry_run => true) GROUP BY 1, 2 ORDER BY 1, 2;
-- the same with every hypertable: rb's rows are the same
SELECT source_node, destination_node, count(*)
  FROM rebalance(dry_run => true) WHERE hypertable = 'rb'::regclass GROUP BY 1, 2 ORDER BY 1, 2;
-- the plan names chunks of rb that its source holds and its destination does not
SELECT count(*) AS moves,
       bool_and(p.bytes > 0) AS sized,
       bool_and(EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                          JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id
                         WHERE c.table_name = p.chunk_name AND cdn.node_name = p.source_node))
         AS on_source,
       bool_and(NOT EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                              JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id
                             WHERE c.table_name = p.chunk_name
                               AND cdn.node_name = p.destination_node)) AS not_on_destination
  FROM rebalance('rb', dry_run => true) p;
-- a blocked node, or one that is unavailable, takes no part: two nodes
-- three chunks each are balanced
SELECT block_new_chunks('dn3', 'rb');
SELECT count(*) FROM rebalance('rb', dry_run => true);
SELECT allow_new_chunks('dn3', 'rb');
SELECT node_name, available FROM alter_data_node('dn3', available => false);
SELECT count(*) FROM rebalance('rb', dry_run => true);
SELECT node_name, available FROM alter_data_node('dn3', available => true);
-- a dry run records nothing
SELECT count(*) FROM hyperdist_information.rebalance_progress;
-- errors
SELECT * FROM rebalance('rb', strategy => 'by_count');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM rebalance('rb', dry_run => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM rebalance('pg_class');
\echo :LAST_ERROR_SQLSTATE

-- ---- rebalance: moves recorded, then cancelled, in one transaction ----------
BEGIN;
SELECT source_node, destination_node, count(*) FROM rebalance('rb') GROUP BY 1, 2 ORDER BY 1, 2;
SELECT kind, drained_node, planned, running, done, failed, cancelled,
       bytes_total > 0 AS bytes_total, bytes_done, finished IS NULL AS unfinished
  FROM hyperdist_information.rebalance_progress;
SELECT o.completed_stage, o.delete_on_source_node, o.source_node_name, o.dest_node_name
  FROM _hyperdist_catalog.chunk_copy_operation o
  JOIN _hyperdist_catalog.rebalance r ON r.id = o.rebalance_id ORDER BY o.id;
-- one rebalance at a time
SAVEPOINT second;
SELECT * FROM rebalance('rb');
ROLLBACK TO second;
SAVEPOINT drain;
CALL drain_data_node('dn3', wait => false);
ROLLBACK TO drain;
-- moves go only to a rebalance of this transaction's
SELECT _hyperdist_functions.rebalance_add_move(
         (SELECT max(id) FROM _hyperdist_catalog.rebalance) + 1, 1, 'dn1', 'dn3', 1);
ROLLBACK TO drain;
SELECT cancel_rebalance();
SELECT kind, planned, running, done, failed, cancelled, finished IS NOT NULL AS finished
  FROM hyperdist_information.rebalance_progress;
-- nothing left under way: a new rebalance may begin
SELECT count(*) FROM rebalance('rb');
ROLLBACK;
SELECT count(*) FROM hyperdist_information.rebalance_progress;

-- ---- drain_data_node ------------------------------------------------------------
-- waiting commits: not in a transaction block
BEGIN;
CALL drain_data_node('dn1');
ROLLBACK;
-- without waiting, in a transaction: dn1 is blocked for rb, its chunks planned
BEGIN;
CALL drain_data_node('dn1', wait => false);
SELECT * FROM rb_placement;
SELECT kind, drained_node, planned, bytes_total > 0 AS bytes_total
  FROM hyperdist_information.rebalance_progress;
-- each chunk of dn1 goes to a node of rb without it, least loaded first
SELECT o.source_node_name, o.dest_node_name, count(*)
  FROM _hyperdist_catalog.chunk_copy_operation o
  JOIN _hyperdist_catalog.rebalance r ON r.id = o.rebalance_id GROUP BY 1, 2 ORDER BY 1, 2;
ROLLBACK;
-- a chunk no other node can take: all of it is refused
CREATE TABLE rb2 (time timestamptz NOT NULL, v float8);
SELECT table_name FROM create_distributed_hypertable('rb2', 'time', data_nodes => '{dn1,dn2}',
                                                     replication_factor => 2);
INSERT INTO rb2 VALUES ('2024-01-01', 1);
CALL drain_data_node('dn1', wait => false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM rb_placement;
DROP TABLE rb2;
CALL drain_data_node('nonexistent');
\echo :LAST_ERROR_SQLSTATE

-- ---- detaching a node that holds chunks: the hint says to drain it ----------
\set VERBOSITY default
SELECT detach_data_node('dn1', 'rb');
\echo :LAST_ERROR_SQLSTATE

-- ---- roles that do not own the hypertable -----------------------------------
CREATE ROLE regress_rb_other;
GRANT USAGE ON FOREIGN SERVER dn1, dn2, dn3 TO regress_rb_other;
SET ROLE regress_rb_other;
SELECT block_new_chunks('dn1', 'rb');
\echo :LAST_ERROR_SQLSTATE
SELECT allow_new_chunks('dn1', 'rb');
\echo :LAST_ERROR_SQLSTATE
-- every hypertable: those of others are skipped
SELECT block_new_chunks('dn1');
SELECT * FROM rebalance('rb', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM rebalance(dry_run => true) WHERE hypertable = 'rb'::regclass;
CALL drain_data_node('dn1', wait => false);
\echo :LAST_ERROR_SQLSTATE
-- the internal entry points check too
SELECT _hyperdist_functions.catalog_block_new_chunks('rb', 'dn1', true);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.rebalance_begin('{rb}', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT cancel_rebalance();
RESET ROLE;
REVOKE ALL ON FOREIGN SERVER dn1, dn2, dn3 FROM regress_rb_other;
DROP ROLE regress_rb_other;

-- ---- clean up ------------------------------------------------------------------
DROP VIEW rb_chunks, rb_placement;
DROP TABLE rb;
SELECT setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq) AS ht_seq,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq) AS dim_seq,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq) AS slice_seq,
       setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq) AS chunk_seq \gset
