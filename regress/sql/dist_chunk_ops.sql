--
-- copy_chunk, move_chunk, cleanup_copy_chunk_operation and
-- cancel_copy_chunk_operation: what they refuse (with SQLSTATEs), a copy
-- and a move run by the background worker's chunk movers (rows read on each
-- data node before and after), the operations' view, and the cancel of an
-- operation nobody runs yet.
-- Runs on the data nodes dn1..dn3 data_nodes leaves; the catalog's
-- sequences are set for chunk names that do not depend on earlier suites,
-- and put back at the end.
--
\set SHOW_CONTEXT never
SET timezone = 'UTC';

SELECT (SELECT last_value FROM _hyperdist_catalog.hypertable_id_seq) AS ht_seq,
       (SELECT last_value FROM _hyperdist_catalog.dimension_id_seq) AS dim_seq,
       (SELECT last_value FROM _hyperdist_catalog.time_slice_id_seq) AS slice_seq,
       (SELECT last_value FROM _hyperdist_catalog.chunk_id_seq) AS chunk_seq \gset
SELECT setval('_hyperdist_catalog.hypertable_id_seq', 200) AS ht_seq,
       setval('_hyperdist_catalog.chunk_id_seq', 2000) AS chunk_seq;

CREATE TABLE co (time timestamptz NOT NULL, dev int NOT NULL, v float8);
SELECT table_name, created
  FROM create_distributed_hypertable('co', 'time', 'dev', number_partitions => 2,
                                     replication_factor => 1,
                                     data_nodes => '{dn1, dn2, dn3}',
                                     chunk_time_interval => interval '1 day');
INSERT INTO co SELECT t, d, d FROM generate_series(timestamptz '2024-01-01',
                                                   '2024-01-02 23:00', '1 hour') t,
                                   generate_series(1, 4) d;

-- each chunk with its replicas and their status
CREATE VIEW co_catalog AS
SELECT c.table_name AS chunk,
       string_agg(cdn.node_name || ' (' || cdn.status || ')', ', ' ORDER BY cdn.node_name)
         AS replicas
  FROM _hyperdist_catalog.chunk c
  JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id
  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
 WHERE h.relid = 'co'::regclass
 GROUP BY c.id, c.table_name ORDER BY c.id;

-- rows of each chunk table, read on each data node
CREATE VIEW co_rows AS
SELECT q.chunk, string_agg(format('%s: %s', n.node_name, q.n), ', ' ORDER BY n.node_name) AS rows
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT tableoid::regclass::text, count(*) FROM public.co GROUP BY 1')
       AS q(chunk text, n bigint)
 GROUP BY q.chunk ORDER BY q.chunk;

SELECT * FROM co_catalog;
SELECT * FROM co_rows;

-- ---- refused ----------------------------------------------------------------
-- inside a transaction block (25001)
BEGIN;
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn1', 'dn3');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
CALL cleanup_copy_chunk_operation('co_none');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- an unknown data node (42704), a NULL one (22004), a relation that is no
-- chunk (42809), the same node twice (22023)
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn1', 'dn9');
\echo :LAST_ERROR_SQLSTATE
CALL move_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', NULL, 'dn3');
\echo :LAST_ERROR_SQLSTATE
CALL copy_chunk('co', 'dn1', 'dn3');
\echo :LAST_ERROR_SQLSTATE
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn1', 'dn1');
\echo :LAST_ERROR_SQLSTATE
-- no current replica on the source, a destination that holds the chunk (55000)
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn2', 'dn3');
\echo :LAST_ERROR_SQLSTATE
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn3', 'dn1');
\echo :LAST_ERROR_SQLSTATE
-- an operation that does not exist (42704)
CALL cleanup_copy_chunk_operation('co_none');
\echo :LAST_ERROR_SQLSTATE
CALL cancel_copy_chunk_operation('co_none');
\echo :LAST_ERROR_SQLSTATE
-- a role that does not own the hypertable (42501)
CREATE ROLE co_other;
SET ROLE co_other;
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn1', 'dn3');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- nothing was recorded
SELECT count(*) FROM hyperdist_information.chunk_copy_operations
 WHERE chunk_name LIKE '_dist_hyper_201_%';

-- ---- a copy and a move, run by the chunk movers -------------------------------
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2001_chunk', 'dn1', 'dn3', 'co_copy');
CALL move_chunk('_hyperdist_internal._dist_hyper_201_2003_chunk', 'dn2', 'dn3', 'co_move');
SELECT * FROM co_catalog;
SELECT * FROM co_rows;
SELECT count(*), sum(v) FROM co;
SELECT operation_id, chunk_schema, chunk_name, source_node, destination_node, kind, stage,
       phase, rows_copied, attempts, error, rebalance_id,
       time_end >= time_start AS ended
  FROM hyperdist_information.chunk_copy_operations
 WHERE chunk_name LIKE '_dist_hyper_201_%' ORDER BY operation_id;
-- a name already taken (42710); an ended operation has nothing to clean up
CALL copy_chunk('_hyperdist_internal._dist_hyper_201_2002_chunk', 'dn1', 'dn2', 'co_copy');
\echo :LAST_ERROR_SQLSTATE
CALL cleanup_copy_chunk_operation('co_move');
-- others may read the view, not cancel
SET ROLE co_other;
SELECT operation_id, stage FROM hyperdist_information.chunk_copy_operations
 WHERE chunk_name LIKE '_dist_hyper_201_%' ORDER BY operation_id;
CALL cancel_copy_chunk_operation('co_move');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ---- cancelling an operation no mover runs ---------------------------------------
-- While this session holds an operation's lock (what a running mover holds:
-- pg_advisory_lock(key, op id)), its movers cannot take it and exit; the
-- lock is this session's own, so the cancel here takes it too.
SELECT last_value + 1 AS next_op FROM _hyperdist_catalog.chunk_copy_operation_id_seq \gset
SELECT pg_advisory_lock(x'68646d76'::int, :next_op);
SELECT _hyperdist_functions.chunk_op_create('_hyperdist_internal._dist_hyper_201_2004_chunk',
                                            'dn2', 'dn1', 'co_cancel', true) = :next_op AS created;
SELECT operation_id, stage FROM hyperdist_information.chunk_copy_operations
 WHERE operation_id = 'co_cancel';
CALL cancel_copy_chunk_operation('co_cancel');
SELECT pg_advisory_unlock(x'68646d76'::int, :next_op);
SELECT operation_id, stage, attempts, error FROM hyperdist_information.chunk_copy_operations
 WHERE operation_id = 'co_cancel';
SELECT * FROM co_catalog;
SELECT * FROM co_rows;

-- ---- clean up; the next suites' chunk names do not depend on this one ----
DROP VIEW co_catalog, co_rows;
DROP TABLE co;
DROP ROLE co_other;
SELECT setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq) AS ht_seq,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq) AS dim_seq,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq) AS slice_seq,
       setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq) AS chunk_seq \gset
