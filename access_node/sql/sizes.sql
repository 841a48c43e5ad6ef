-- SPDX-License-Identifier: PostgreSQL
-- sql/sizes.sql: sizes and row estimates of distributed hypertables.

-- ---- sizes: one query per data node, all at once -------------------------

-- Per data node, the hypertable's total or each chunk's sizes, for any
-- role that may read it (api/size.c).
CREATE FUNCTION _hyperdist_functions.data_node_sizes(hypertable regclass, per_chunk boolean)
RETURNS TABLE(node_name name, chunk_schema name, chunk_name name, table_bytes bigint,
              index_bytes bigint, toast_bytes bigint, total_bytes bigint)
AS 'MODULE_PATHNAME', 'hyperdist_data_node_sizes' LANGUAGE C STRICT VOLATILE;
-- The same, asking only the data nodes named in nodes.
CREATE FUNCTION _hyperdist_functions.data_node_sizes(hypertable regclass, per_chunk boolean,
                                                     nodes name[])
RETURNS TABLE(node_name name, chunk_schema name, chunk_name name, table_bytes bigint,
              index_bytes bigint, toast_bytes bigint, total_bytes bigint)
AS 'MODULE_PATHNAME', 'hyperdist_data_node_sizes' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION hypertable_detailed_size(hypertable REGCLASS)
RETURNS TABLE(table_bytes BIGINT, index_bytes BIGINT, toast_bytes BIGINT,
              total_bytes BIGINT, node_name NAME)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int := _hyperdist_functions.hypertable_id(hypertable);
BEGIN
  RETURN QUERY
    SELECT s.table_bytes, s.index_bytes, s.toast_bytes, s.total_bytes, s.node_name
      FROM _hyperdist_functions.data_node_sizes(hypertable, false) s ORDER BY s.node_name;
  -- the access node's own part, with node_name NULL as in TimescaleDB: the
  -- hypertable and its chunks' relations here are foreign tables, whose
  -- size is reported as it is (nothing)
  RETURN QUERY
    SELECT coalesce(sum(pg_relation_size(r, 'main') + pg_relation_size(r, 'fsm')
                        + pg_relation_size(r, 'vm') + pg_relation_size(r, 'init')), 0)::bigint,
           coalesce(sum(pg_indexes_size(r)), 0)::bigint,
           coalesce(sum(CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) END), 0)::bigint,
           coalesce(sum(pg_total_relation_size(r)), 0)::bigint,
           NULL::name
      FROM (SELECT hypertable::oid AS r
            UNION ALL
            SELECT to_regclass(format('%I.%I', ch.schema_name, ch.table_name))::oid
              FROM _hyperdist_catalog.chunk ch WHERE ch.hypertable_id = ht) rels
      JOIN pg_class c ON c.oid = rels.r;
END $$;

-- Rows without counting them: for a distributed hypertable (or a chunk's
-- relation) the data nodes' estimate, as ANALYZE makes it; for a local
-- table the planner's (fdw/analyze.c).
CREATE FUNCTION approximate_row_count(relation REGCLASS) RETURNS BIGINT
  AS 'MODULE_PATHNAME', 'hyperdist_approximate_row_count' LANGUAGE C STRICT VOLATILE;

-- The sum over hypertable_detailed_size, as TimescaleDB.
CREATE FUNCTION hypertable_size(hypertable REGCLASS)
RETURNS BIGINT LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT sum(total_bytes)::bigint FROM @extschema@.hypertable_detailed_size(hypertable);
$$;

CREATE FUNCTION chunks_detailed_size(hypertable REGCLASS)
RETURNS TABLE(chunk_schema NAME, chunk_name NAME, table_bytes BIGINT, index_bytes BIGINT,
              toast_bytes BIGINT, total_bytes BIGINT, node_name NAME)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.chunk_schema, s.chunk_name, s.table_bytes, s.index_bytes, s.toast_bytes,
         s.total_bytes, s.node_name
    FROM _hyperdist_functions.data_node_sizes(hypertable, true) s
    JOIN _hyperdist_catalog.chunk c
      ON c.hypertable_id = _hyperdist_functions.hypertable_id(hypertable)
     AND c.schema_name = s.chunk_schema AND c.table_name = s.chunk_name
   ORDER BY s.node_name, c.id;
$$;
