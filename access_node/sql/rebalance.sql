-- SPDX-License-Identifier: PostgreSQL
-- sql/rebalance.sql: block_new_chunks, allow_new_chunks, rebalance, drain_data_node,
-- cancel_rebalance and the rebalances' progress (docs/elasticity.md).

-- ---- block_new_chunks, allow_new_chunks --------------------------------------

CREATE FUNCTION _hyperdist_functions.catalog_block_new_chunks(
    relation regclass, node_name name, block bool)
RETURNS bool AS 'MODULE_PATHNAME', 'hyperdist_catalog_block_new_chunks' LANGUAGE C STRICT VOLATILE;

-- Blocks (or allows) new chunks of one hypertable, or of every hypertable
-- node is attached to, on node; returns how many hypertables changed.  As
-- TimescaleDB: with hypertable NULL, those the caller does not own are
-- skipped with a NOTICE; blocking a node leaving fewer nodes that take new
-- chunks than the replication factor is an error unless force (a WARNING
-- then).
CREATE FUNCTION _hyperdist_functions.block_new_chunks(
    node_name name, hypertable regclass, block boolean, force boolean)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  node name := (_hyperdist_functions.check_data_nodes(ARRAY[node_name]))[1];
  h record;
  remaining int;
  changed int := 0;
BEGIN
  IF hypertable IS NOT NULL THEN
    PERFORM _hyperdist_functions.hypertable_id(hypertable);
    IF NOT EXISTS (SELECT FROM _hyperdist_catalog.hypertable_data_node hdn
                     JOIN _hyperdist_catalog.hypertable ht ON ht.id = hdn.hypertable_id
                    WHERE ht.relid = hypertable AND hdn.node_name = node) THEN
      RAISE EXCEPTION 'data node "%" is not attached to hypertable "%"', node, _hyperdist_functions.relname(hypertable)
        USING ERRCODE = '42704';
    END IF;
  END IF;
  FOR h IN SELECT ht.id, ht.relid::regclass AS rel, ht.replication_factor, hdn.block_chunks
             FROM _hyperdist_catalog.hypertable ht
             JOIN _hyperdist_catalog.hypertable_data_node hdn ON hdn.hypertable_id = ht.id
            WHERE hdn.node_name = node AND (hypertable IS NULL OR ht.relid = hypertable)
            ORDER BY ht.id LOOP
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = h.rel), 'USAGE') THEN
      IF hypertable IS NULL THEN
        RAISE NOTICE 'skipping hypertable "%" due to missing permissions', _hyperdist_functions.relname(h.rel);
        CONTINUE;
      END IF;
      RAISE EXCEPTION 'must be owner of hypertable "%"', _hyperdist_functions.relname(h.rel) USING ERRCODE = '42501';
    END IF;
    IF h.block_chunks = block THEN
      IF block THEN
        RAISE NOTICE 'new chunks already blocked on data node "%" for hypertable "%"', node, _hyperdist_functions.relname(h.rel);
      END IF;
      CONTINUE;
    END IF;
    IF block THEN
      SELECT count(*) INTO remaining FROM _hyperdist_catalog.hypertable_data_node hdn
       WHERE hdn.hypertable_id = h.id AND hdn.node_name <> node AND NOT hdn.block_chunks
         AND _hyperdist_functions.node_available(hdn.node_name);
      IF remaining < h.replication_factor AND NOT force THEN
        RAISE EXCEPTION 'insufficient number of data nodes for distributed hypertable "%"', _hyperdist_functions.relname(h.rel)
          USING ERRCODE = '55000',
                DETAIL = format('Reducing the number of available data nodes on distributed hypertable "%s" prevents full replication of new chunks.',
                                _hyperdist_functions.relname(h.rel)),
                HINT = 'Use force => true to force this operation.';
      ELSIF remaining < h.replication_factor THEN
        RAISE WARNING 'insufficient number of data nodes for distributed hypertable "%"', _hyperdist_functions.relname(h.rel)
          USING DETAIL = format('Reducing the number of available data nodes on distributed hypertable "%s" prevents full replication of new chunks.',
                                _hyperdist_functions.relname(h.rel));
      END IF;
    END IF;
    IF _hyperdist_functions.catalog_block_new_chunks(h.rel, node, block) THEN
      changed := changed + 1;
    END IF;
  END LOOP;
  RETURN changed;
END $$;

CREATE FUNCTION block_new_chunks(
    data_node_name NAME, hypertable REGCLASS = NULL, force BOOLEAN = FALSE)
RETURNS INTEGER LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT _hyperdist_functions.block_new_chunks($1, $2, true, coalesce($3, false));
$$;

CREATE FUNCTION allow_new_chunks(data_node_name NAME, hypertable REGCLASS = NULL)
RETURNS INTEGER LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT _hyperdist_functions.block_new_chunks($1, $2, false, false);
$$;

-- ---- rebalances ----------------------------------------------------------------

-- One row per rebalance() that planned moves or drain_data_node(); its
-- moves are the chunk_copy_operation rows with its id (api/rebalance_run.c).
CREATE TABLE _hyperdist_catalog.rebalance (
    id serial PRIMARY KEY,
    drained_node name,                  -- drain_data_node's node; NULL: rebalance()
    time_start timestamptz NOT NULL DEFAULT now());

-- The bytes each move of a rebalance was planned for (the chunk's size on
-- its source node then).
CREATE TABLE _hyperdist_catalog.rebalance_move (
    operation int PRIMARY KEY,          -- chunk_copy_operation.id
    bytes bigint NOT NULL);

GRANT SELECT ON _hyperdist_catalog.rebalance, _hyperdist_catalog.rebalance_move TO PUBLIC;

CREATE FUNCTION _hyperdist_functions.plan_moves(hypertable regclass, drained name)
RETURNS TABLE(chunk_id int, source_node name, destination_node name, bytes bigint)
AS 'MODULE_PATHNAME', 'hyperdist_plan_moves' LANGUAGE C VOLATILE;

CREATE FUNCTION _hyperdist_functions.rebalance_begin(hypertables regclass[], drained name)
RETURNS int AS 'MODULE_PATHNAME', 'hyperdist_rebalance_begin' LANGUAGE C VOLATILE;

CREATE FUNCTION _hyperdist_functions.rebalance_add_move(
    rebalance_id int, chunk_id int, source_node name, destination_node name, bytes bigint)
RETURNS int AS 'MODULE_PATHNAME', 'hyperdist_rebalance_add_move' LANGUAGE C VOLATILE;

-- rebalance(): per hypertable (the one named, or every one the caller
-- owns), the moves that bring its data nodes that take new chunks within
-- 10% of their mean size, or as near as moving whole chunks gets them
-- (api/rebalance.c); recorded for the background worker unless dry_run.
CREATE FUNCTION _hyperdist_functions.rebalance(
    hypertable regclass, strategy text, dry_run boolean)
RETURNS TABLE(rel regclass, chunk_schema name, chunk_name name, source_node name,
              destination_node name, bytes bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  hts regclass[] := '{}';
  h record;
  rid int;
  m record;
BEGIN
  IF strategy IS DISTINCT FROM 'by_size' THEN
    RAISE EXCEPTION 'unknown rebalance strategy "%"', strategy
      USING ERRCODE = '22023', HINT = 'The strategy is by_size.';
  END IF;
  IF dry_run IS NULL THEN
    RAISE EXCEPTION 'dry_run must not be NULL' USING ERRCODE = '22004';
  END IF;
  FOR h IN SELECT ht.relid::regclass AS rel FROM _hyperdist_catalog.hypertable ht
            WHERE hypertable IS NULL OR ht.relid = hypertable ORDER BY ht.id LOOP
    IF pg_has_role((SELECT relowner FROM pg_class WHERE oid = h.rel), 'USAGE') THEN
      hts := hts || h.rel;
    ELSIF hypertable IS NULL THEN
      RAISE NOTICE 'skipping hypertable "%" due to missing permissions', _hyperdist_functions.relname(h.rel);
    ELSE
      RAISE EXCEPTION 'must be owner of hypertable "%"', _hyperdist_functions.relname(h.rel) USING ERRCODE = '42501';
    END IF;
  END LOOP;
  IF hypertable IS NOT NULL AND cardinality(hts) = 0 THEN
    PERFORM _hyperdist_functions.hypertable_id(hypertable);
  END IF;
  IF cardinality(hts) = 0 THEN
    RETURN;
  END IF;
  IF NOT dry_run THEN
    rid := _hyperdist_functions.rebalance_begin(hts, NULL);
  END IF;
  FOR h IN SELECT unnest(hts) AS rel LOOP
    FOR m IN SELECT p.*, c.schema_name, c.table_name
               FROM _hyperdist_functions.plan_moves(h.rel, NULL) WITH ORDINALITY p
               JOIN _hyperdist_catalog.chunk c ON c.id = p.chunk_id
              ORDER BY p.ordinality LOOP
      IF NOT dry_run THEN
        PERFORM _hyperdist_functions.rebalance_add_move(rid, m.chunk_id, m.source_node,
                                                        m.destination_node, m.bytes);
      END IF;
      rel := h.rel;
      chunk_schema := m.schema_name;
      chunk_name := m.table_name;
      source_node := m.source_node;
      destination_node := m.destination_node;
      bytes := m.bytes;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;

-- A SQL wrapper: PL/pgSQL cannot have an argument and a result column of
-- the same name (hypertable).
CREATE FUNCTION rebalance(
    hypertable REGCLASS = NULL, strategy TEXT = 'by_size', dry_run BOOLEAN = FALSE)
RETURNS TABLE(hypertable REGCLASS, chunk_schema NAME, chunk_name NAME, source_node NAME,
              destination_node NAME, bytes BIGINT)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT * FROM _hyperdist_functions.rebalance($1, $2, $3);
$$;

CREATE FUNCTION cancel_rebalance() RETURNS INTEGER
AS 'MODULE_PATHNAME', 'hyperdist_cancel_rebalance' LANGUAGE C VOLATILE;

-- ---- drain_data_node -------------------------------------------------------------

-- Blocks new chunks on node for every hypertable it is attached to (all
-- owned by the caller) and records a move of each of its replicas
-- (api/rebalance.c); returns the rebalance (NULL when the node belongs to
-- no hypertable) and its number of moves.
CREATE FUNCTION _hyperdist_functions.drain_start(node_name name,
    OUT rebalance_id int, OUT moves int)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  node name := (_hyperdist_functions.check_data_nodes(ARRAY[node_name]))[1];
  hts regclass[];
  h regclass;
  m record;
BEGIN
  moves := 0;
  SELECT coalesce(array_agg(ht.relid::regclass ORDER BY ht.id), '{}') INTO hts
    FROM _hyperdist_catalog.hypertable ht
    JOIN _hyperdist_catalog.hypertable_data_node hdn ON hdn.hypertable_id = ht.id
   WHERE hdn.node_name = node;
  IF cardinality(hts) = 0 THEN
    RETURN;
  END IF;
  rebalance_id := _hyperdist_functions.rebalance_begin(hts, node);
  FOREACH h IN ARRAY hts LOOP
    PERFORM _hyperdist_functions.lock_chunks(h);
    PERFORM _hyperdist_functions.block_new_chunks(node, h, true, true);
  END LOOP;
  FOREACH h IN ARRAY hts LOOP
    FOR m IN SELECT * FROM _hyperdist_functions.plan_moves(h, node) LOOP
      PERFORM _hyperdist_functions.rebalance_add_move(rebalance_id, m.chunk_id, m.source_node,
                                                      m.destination_node, m.bytes);
      moves := moves + 1;
    END LOOP;
  END LOOP;
END $$;

-- What drain_data_node waits for: the replicas left on node, the moves of
-- rebalance rid not ended and cancelled, and the first failed one.
CREATE FUNCTION _hyperdist_functions.drain_status(node name, rid int,
    OUT replicas bigint, OUT open_moves bigint, OUT cancelled bigint,
    OUT failed_chunk text, OUT error_code text, OUT error_message text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (SELECT count(*) FROM _hyperdist_catalog.chunk_data_node cdn WHERE cdn.node_name = node),
         count(*) FILTER (WHERE o.completed_stage IN ('planned', 'copying', 'switched')),
         count(*) FILTER (WHERE o.completed_stage = 'cancelled'),
         (array_agg(coalesce(format('%I.%I', c.schema_name, c.table_name), 'with id ' || o.chunk_id)
                    ORDER BY o.id) FILTER (WHERE o.completed_stage = 'failed'))[1],
         (array_agg(o.error_code ORDER BY o.id) FILTER (WHERE o.completed_stage = 'failed'))[1],
         (array_agg(o.error_message ORDER BY o.id) FILTER (WHERE o.completed_stage = 'failed'))[1]
    FROM _hyperdist_catalog.chunk_copy_operation o
    LEFT JOIN _hyperdist_catalog.chunk c ON c.id = o.chunk_id
   WHERE o.rebalance_id = rid;
$$;

CREATE PROCEDURE drain_data_node(node NAME, wait BOOLEAN = TRUE, INOUT moves INTEGER = NULL)
AS 'MODULE_PATHNAME', 'hyperdist_drain_data_node' LANGUAGE C;

-- ---- progress ---------------------------------------------------------------------

-- One row per rebalance: its moves by stage (running: copying, or switched
-- and dropping the source's table), the bytes planned in all and those of
-- the moves that switched, when it started and, once no move is left to
-- run, when its last one ended.
CREATE VIEW hyperdist_information.rebalance_progress AS
SELECT r.id AS rebalance_id,
       CASE WHEN r.drained_node IS NULL THEN 'rebalance' ELSE 'drain' END AS kind,
       r.drained_node,
       count(o.id) FILTER (WHERE o.completed_stage = 'planned') AS planned,
       count(o.id) FILTER (WHERE o.completed_stage IN ('copying', 'switched')) AS running,
       count(o.id) FILTER (WHERE o.completed_stage = 'complete') AS done,
       count(o.id) FILTER (WHERE o.completed_stage = 'failed') AS failed,
       count(o.id) FILTER (WHERE o.completed_stage = 'cancelled') AS cancelled,
       coalesce(sum(m.bytes), 0)::bigint AS bytes_total,
       coalesce(sum(m.bytes) FILTER (WHERE o.completed_stage IN ('switched', 'complete')), 0)::bigint
         AS bytes_done,
       r.time_start AS started,
       CASE WHEN count(o.id) FILTER (WHERE o.completed_stage IN ('planned', 'copying', 'switched')) = 0
            THEN coalesce(max(o.time_end), r.time_start) END AS finished
  FROM _hyperdist_catalog.rebalance r
  LEFT JOIN _hyperdist_catalog.chunk_copy_operation o ON o.rebalance_id = r.id
  LEFT JOIN _hyperdist_catalog.rebalance_move m ON m.operation = o.id
 GROUP BY r.id;

GRANT SELECT ON hyperdist_information.rebalance_progress TO PUBLIC;
