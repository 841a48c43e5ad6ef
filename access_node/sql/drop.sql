-- SPDX-License-Identifier: PostgreSQL
-- sql/drop.sql: distributed objects dropped by cascade.
--
-- DROP TABLE, DROP SCHEMA ... CASCADE, DROP OWNED BY and DROP MATERIALIZED
-- VIEW drop the data nodes' tables and the catalog rows of the distributed
-- objects they name, before they run.  Other statements reach them through
-- dependencies (DROP TYPE t CASCADE of a continuous aggregate's column
-- type, ...): this trigger sees what they dropped and does the same, in
-- their transaction, or refuses them when they dropped a column,
-- constraint or default of a distributed table that stays
-- (ddl/dropped.c).  ENABLE ALWAYS: it fires under session_replication_role
-- = replica too.
CREATE FUNCTION _hyperdist_functions.sql_drop() RETURNS event_trigger
  AS 'MODULE_PATHNAME', 'hyperdist_sql_drop' LANGUAGE C
  SET search_path = pg_catalog, pg_temp;
CREATE EVENT TRIGGER hyperdist_sql_drop ON sql_drop
  EXECUTE FUNCTION _hyperdist_functions.sql_drop();
ALTER EVENT TRIGGER hyperdist_sql_drop ENABLE ALWAYS;
