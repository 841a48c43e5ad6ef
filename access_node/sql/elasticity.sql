-- SPDX-License-Identifier: PostgreSQL
-- sql/elasticity.sql: copying and moving chunks between data nodes online.
--
-- An operation is recorded in _hyperdist_catalog.chunk_copy_operation and run
-- by a chunk mover of the database's background worker (bgw/chunk_mover.c),
-- agent to agent; the procedures here record it, commit, and wait for it.
-- They commit, so they cannot run inside a transaction block, and they carry
-- no SET clause (a procedure with one cannot commit): every name in their
-- bodies is qualified instead, and their C functions (api/chunk_move.c) run
-- their own SQL with search_path = pg_catalog, pg_temp.  Those functions
-- are called as the caller, so PUBLIC may execute them: each checks that its
-- caller owns the chunk's hypertable before changing anything.

-- Records a copy (move false) or move of chunk from source_node to
-- destination_node, to commit at once, and wakes the background worker when
-- it commits; returns the operation's id.
CREATE FUNCTION _hyperdist_functions.chunk_op_create(
    chunk REGCLASS, source_node NAME, destination_node NAME, operation_id NAME,
    move BOOLEAN)
RETURNS INTEGER
AS 'MODULE_PATHNAME', 'hyperdist_chunk_op_create' LANGUAGE C VOLATILE;

-- True once operation op has ended; false after a tenth of a second without.
CREATE FUNCTION _hyperdist_functions.chunk_op_wait(op INTEGER)
RETURNS BOOLEAN
AS 'MODULE_PATHNAME', 'hyperdist_chunk_op_wait' LANGUAGE C STRICT VOLATILE;

-- Raises how operation op ended, unless its chunk is in place.
CREATE FUNCTION _hyperdist_functions.chunk_op_check(op INTEGER)
RETURNS VOID
AS 'MODULE_PATHNAME', 'hyperdist_chunk_op_check' LANGUAGE C STRICT VOLATILE;

-- The id of the operation named operation_id, which the caller may cancel;
-- for procedure, which commits.
CREATE FUNCTION _hyperdist_functions.chunk_op_find(operation_id NAME, procedure TEXT)
RETURNS INTEGER
AS 'MODULE_PATHNAME', 'hyperdist_chunk_op_find' LANGUAGE C VOLATILE;

-- One step of cancelling operation op: true when done (the caller
-- commits), false when its mover was interrupted (commit, call again).
CREATE FUNCTION _hyperdist_functions.chunk_op_cancel(op INTEGER)
RETURNS BOOLEAN
AS 'MODULE_PATHNAME', 'hyperdist_chunk_op_cancel' LANGUAGE C STRICT VOLATILE;

-- Cancels operation op: undoes it unless it has switched (its chunk is
-- then in place, and its mover finishes it).
CREATE PROCEDURE _hyperdist_functions.chunk_op_stop(op INTEGER)
LANGUAGE plpgsql
AS $$
BEGIN
  LOOP
    EXIT WHEN _hyperdist_functions.chunk_op_cancel(op);
    COMMIT;
  END LOOP;
  COMMIT;
END $$;

-- Waits for operation op, committing every tenth of a second: the caller
-- then holds no snapshot that a stage of the operation would wait for, and
-- sees it as last committed.  A cancel of the wait (or statement_timeout)
-- cancels the operation, then raises.
CREATE PROCEDURE _hyperdist_functions.chunk_op_await(op INTEGER)
LANGUAGE plpgsql
AS $$
DECLARE
  interrupted boolean := false;
BEGIN
  LOOP
    COMMIT;
    BEGIN
      EXIT WHEN _hyperdist_functions.chunk_op_wait(op);
    EXCEPTION WHEN query_canceled THEN
      interrupted := true;
    END;
    EXIT WHEN interrupted;
  END LOOP;
  IF interrupted THEN
    CALL _hyperdist_functions.chunk_op_stop(op);
  END IF;
  PERFORM _hyperdist_functions.chunk_op_check(op);
END $$;

-- TimescaleDB 2.13's timescaledb_experimental.copy_chunk: a new replica of
-- chunk on destination_node, copied from source_node's, made current.
CREATE PROCEDURE copy_chunk(
    chunk REGCLASS,
    source_node NAME = NULL,
    destination_node NAME = NULL,
    operation_id NAME = NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  op integer := _hyperdist_functions.chunk_op_create(
    chunk, source_node, destination_node, operation_id, false);
BEGIN
  CALL _hyperdist_functions.chunk_op_await(op);
END $$;

-- TimescaleDB 2.13's timescaledb_experimental.move_chunk: the same, then
-- the replica on source_node is dropped once no query can read it.
CREATE PROCEDURE move_chunk(
    chunk REGCLASS,
    source_node NAME = NULL,
    destination_node NAME = NULL,
    operation_id NAME = NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  op integer := _hyperdist_functions.chunk_op_create(
    chunk, source_node, destination_node, operation_id, true);
BEGIN
  CALL _hyperdist_functions.chunk_op_await(op);
END $$;

-- Undoes an operation that failed or was interrupted and has not
-- switched, or finishes one that has (drops the source's replica).
CREATE PROCEDURE cleanup_copy_chunk_operation(operation_id NAME)
AS 'MODULE_PATHNAME', 'hyperdist_cleanup_copy_chunk_operation'
LANGUAGE C;

-- Cancels a running or planned operation (hyperdist's own): its mover is
-- interrupted and the operation undone, unless it has switched.
CREATE PROCEDURE cancel_copy_chunk_operation(operation_id NAME)
LANGUAGE plpgsql
AS $$
DECLARE
  op integer := _hyperdist_functions.chunk_op_find(
    operation_id, 'cancel_copy_chunk_operation');
BEGIN
  CALL _hyperdist_functions.chunk_op_stop(op);
END $$;

-- One row per chunk copy or move, oldest first; the progress of those
-- running, from shared memory (phase, rows and bytes so far, bytes/s).
CREATE VIEW hyperdist_information.chunk_copy_operations AS
SELECT o.operation_id,
       ch.schema_name AS chunk_schema,
       ch.table_name AS chunk_name,
       o.source_node_name AS source_node,
       o.dest_node_name AS destination_node,
       CASE WHEN o.delete_on_source_node THEN 'move' ELSE 'copy' END AS kind,
       o.completed_stage AS stage,
       p.phase,
       coalesce(p.rows, o.rows_copied) AS rows_copied,
       coalesce(p.bytes, o.bytes_copied) AS bytes_copied,
       coalesce(p.bytes / greatest(extract(epoch FROM clock_timestamp() - p.started), 0.001),
                o.bytes_copied / greatest(extract(epoch FROM o.copy_time), 0.001))::bigint
         AS rate,
       o.time_start,
       o.time_end,
       o.attempts,
       o.error_code || ': ' || o.error_message AS error,
       o.rebalance_id
  FROM _hyperdist_catalog.chunk_copy_operation o
  LEFT JOIN _hyperdist_catalog.chunk ch ON ch.id = o.chunk_id
  LEFT JOIN _hyperdist_functions.replica_copies() p ON p.op_id = o.id
 ORDER BY o.id;

GRANT SELECT ON hyperdist_information.chunk_copy_operations TO PUBLIC;
