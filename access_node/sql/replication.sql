-- SPDX-License-Identifier: PostgreSQL
-- sql/replication.sql: the replicas of chunks: their state, and bringing them up to date.

-- The replica copies running in this database, from shared memory
-- (api/replication.c): the healer's (op_id 0) and those of chunk copy
-- operations, with what each does now (phase).
CREATE FUNCTION _hyperdist_functions.replica_copies()
RETURNS TABLE(chunk_id INTEGER, source_node NAME, target_node NAME,
              bytes BIGINT, rows BIGINT, started TIMESTAMPTZ,
              op_id INTEGER, phase TEXT)
AS 'MODULE_PATHNAME', 'hyperdist_replica_copies'
LANGUAGE C STRICT VOLATILE;

-- One row per chunk: its desired and current replicas (TimescaleDB's
-- timescaledb_experimental.chunk_replication_status, whose num_replicas
-- and replica_nodes count current replicas here), its stale ones, the
-- hypertable's data nodes without a replica of it, and the copy running
-- for it, if any.
CREATE VIEW hyperdist_information.chunk_replication_status AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       ch.schema_name AS chunk_schema,
       ch.table_name AS chunk_name,
       h.replication_factor AS desired_num_replicas,
       r.num_replicas,
       r.replica_nodes,
       (SELECT array_agg(hdn.node_name ORDER BY hdn.node_name)
          FROM _hyperdist_catalog.hypertable_data_node hdn
         WHERE hdn.hypertable_id = h.id
           AND NOT EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                            WHERE cdn.chunk_id = ch.id AND cdn.node_name = hdn.node_name))
         AS non_replica_nodes,
       r.stale_replica_nodes,
       p.target_node AS copy_target,
       p.bytes AS copy_bytes,
       p.rows AS copy_rows,
       p.started AS copy_started
  FROM _hyperdist_catalog.chunk ch
  JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE cdn.status = 'current') AS num_replicas,
              array_agg(cdn.node_name ORDER BY cdn.replica)
                FILTER (WHERE cdn.status = 'current') AS replica_nodes,
              array_agg(cdn.node_name ORDER BY cdn.replica)
                FILTER (WHERE cdn.status = 'stale') AS stale_replica_nodes
         FROM _hyperdist_catalog.chunk_data_node cdn
        WHERE cdn.chunk_id = ch.id) r
  LEFT JOIN _hyperdist_functions.replica_copies() p ON p.chunk_id = ch.id
 ORDER BY ch.id;

GRANT SELECT ON hyperdist_information.chunk_replication_status TO PUBLIC;
