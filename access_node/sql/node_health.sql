-- SPDX-License-Identifier: PostgreSQL
-- sql/node_health.sql: the data nodes' health, as the background worker's monitor and
-- the backends see it.

-- The transitions the background worker's health monitor saw: a node that
-- went down, or came back, since when, and why it went down.  Written only
-- at a transition (no catalog_changed trigger: no backend caches it), and
-- read when the monitor starts, so that a restarted access node still
-- treats a node that was down as down until it answers a check.
CREATE TABLE _hyperdist_catalog.data_node_status (
    node_name name PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('available', 'unavailable')),
    since timestamptz NOT NULL,
    last_error text);

GRANT SELECT ON _hyperdist_catalog.data_node_status TO PUBLIC;

-- What this server's shared memory says of a data node's health
-- (api/health.c): down, since when it is down (or up again), the last
-- failure's error, the last successful check; all NULL while nothing was
-- recorded for it.
CREATE FUNCTION _hyperdist_functions.data_node_health(server oid,
    OUT down boolean, OUT since timestamptz, OUT last_error text,
    OUT last_check timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'hyperdist_data_node_health'
LANGUAGE C STRICT VOLATILE;

-- One row per data node, with its health.  Options are read with
-- pg_options_to_table rather than by splitting 'name=value' text, which cuts
-- values holding '='.  status: 'unavailable' when the node is down or
-- alter_data_node(available => false) was set, 'syncing' when it answers but
-- holds stale replicas (the background worker is bringing them up to date),
-- else 'available'.
CREATE VIEW hyperdist_information.data_nodes AS
SELECT s.srvname AS node_name,
       pg_catalog.pg_get_userbyid(s.srvowner) AS owner,
       s.srvoptions AS options,
       o.host,
       o.port,
       o.database,
       coalesce(o.available, true) AS available,
       CASE
         WHEN NOT coalesce(o.available, true) OR coalesce(h.down, st.status = 'unavailable', false)
           THEN 'unavailable'
         WHEN EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                       WHERE cdn.node_name = s.srvname AND cdn.status = 'stale')
           THEN 'syncing'
         ELSE 'available'
       END AS status,
       coalesce(h.since, st.since) AS status_since,
       coalesce(h.last_error, st.last_error) AS last_error,
       h.last_check
  FROM pg_catalog.pg_foreign_server s
  JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
 CROSS JOIN LATERAL (
       SELECT max(option_value) FILTER (WHERE option_name = 'host') AS host,
              max(option_value) FILTER (WHERE option_name = 'port')::int AS port,
              max(option_value) FILTER (WHERE option_name = 'dbname')::name AS database,
              max(option_value) FILTER (WHERE option_name = 'available')::bool AS available
         FROM pg_catalog.pg_options_to_table(s.srvoptions)) o
  LEFT JOIN LATERAL _hyperdist_functions.data_node_health(s.oid) h ON true
  LEFT JOIN _hyperdist_catalog.data_node_status st ON st.node_name = s.srvname
 WHERE w.fdwname = 'hyperdist'
   AND s.srvname <> 'hyperdist_hypertables';

GRANT SELECT ON hyperdist_information.data_nodes TO PUBLIC;
