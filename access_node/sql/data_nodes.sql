-- SPDX-License-Identifier: PostgreSQL
-- sql/data_nodes.sql: the hyperdist FDW, data node management, distributed_exec, health.
-- hyperdist 0.1: data nodes, distributed_exec, the hyperdist FDW.
-- Function names and signatures follow TimescaleDB 2.13 multi-node.

\echo Use "CREATE EXTENSION hyperdist" to load this file. \quit

CREATE FUNCTION hyperdist_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME', 'hyperdist_fdw_handler'
LANGUAGE C STRICT;

CREATE FUNCTION hyperdist_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME', 'hyperdist_fdw_validator'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER hyperdist
  HANDLER hyperdist_fdw_handler
  VALIDATOR hyperdist_fdw_validator;

-- add/delete/alter_data_node raise 42501 for non-superusers themselves, as
-- TimescaleDB does, so EXECUTE stays granted to PUBLIC.
CREATE FUNCTION add_data_node(
    node_name NAME,
    host TEXT,
    database NAME = NULL,
    port INTEGER = NULL,
    if_not_exists BOOLEAN = FALSE,
    bootstrap BOOLEAN = TRUE,
    password TEXT = NULL)
RETURNS TABLE(node_name NAME, host TEXT, port INTEGER, database NAME,
              node_created BOOL, database_created BOOL, extension_created BOOL)
AS 'MODULE_PATHNAME', 'hyperdist_add_data_node'
LANGUAGE C VOLATILE;

CREATE FUNCTION delete_data_node(
    node_name NAME,
    if_exists BOOLEAN = FALSE,
    force BOOLEAN = FALSE,
    repartition BOOLEAN = TRUE,
    drop_database BOOLEAN = FALSE)
RETURNS BOOLEAN
AS 'MODULE_PATHNAME', 'hyperdist_delete_data_node'
LANGUAGE C VOLATILE;

CREATE FUNCTION alter_data_node(
    node_name NAME,
    host TEXT = NULL,
    database NAME = NULL,
    port INTEGER = NULL,
    available BOOLEAN = NULL)
RETURNS TABLE(node_name NAME, host TEXT, port INTEGER, database NAME, available BOOLEAN)
AS 'MODULE_PATHNAME', 'hyperdist_alter_data_node'
LANGUAGE C VOLATILE;

-- Each data node's health as this role sees it (agent answers, session
-- opens, in recovery or not, else the error), then the access node's row
-- with node_name NULL (api/health.c).
CREATE FUNCTION health()
RETURNS TABLE(node_name NAME, healthy BOOLEAN, in_recovery BOOLEAN, error TEXT)
AS 'MODULE_PATHNAME', 'hyperdist_health'
LANGUAGE C VOLATILE;

CREATE PROCEDURE distributed_exec(
    query TEXT,
    node_list NAME[] = NULL,
    transactional BOOLEAN = TRUE)
AS 'MODULE_PATHNAME', 'hyperdist_distributed_exec'
LANGUAGE C;

CREATE SCHEMA hyperdist_information;
GRANT USAGE ON SCHEMA hyperdist_information TO PUBLIC;

-- hyperdist_information.data_nodes comes with the nodes' health, in node_health.sql.
