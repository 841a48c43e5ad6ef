-- SPDX-License-Identifier: PostgreSQL
-- sql/remote_txn.sql: the commit records of two-phase commit and their resolution.

-- ---- distributed transactions: two-phase commit ---------------------------
--
-- See docs/ARCHITECTURE.md, "Remote transactions and two-phase commit".

CREATE SCHEMA IF NOT EXISTS _hyperdist_catalog;

-- The durable commit decision: one row per data node a committing
-- transaction prepared on, inserted by that transaction itself, so a row
-- exists exactly when the transaction committed.  The background worker
-- deletes rows once their prepared transaction is gone from the data node,
-- so the table only holds recent or unresolved commits; it is a queue, and
-- autovacuum is told to treat it as one.
CREATE TABLE _hyperdist_catalog.commit_record (
    gid text PRIMARY KEY,           -- hd_<sysid>_<database oid>_<xid>_<node oid>
    node oid NOT NULL,              -- the data node's foreign server
    xid xid8 NOT NULL,              -- the access node transaction
    created timestamptz NOT NULL)
  WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

-- Data nodes the background worker currently fails to resolve, and why.
CREATE TABLE _hyperdist_catalog.resolver_status (
    node oid PRIMARY KEY,
    failing_since timestamptz NOT NULL,
    last_error text NOT NULL,
    next_attempt timestamptz NOT NULL);

REVOKE ALL ON _hyperdist_catalog.commit_record, _hyperdist_catalog.resolver_status
  FROM PUBLIC;

-- Resolves the node's in-doubt prepared transactions now, as the background
-- worker does on its own; returns how many it committed or rolled back.
CREATE FUNCTION remote_txn_heal_data_node(node_name NAME)
RETURNS INTEGER
AS 'MODULE_PATHNAME', 'hyperdist_remote_txn_heal_data_node'
LANGUAGE C STRICT VOLATILE;

-- Distributed commits not yet confirmed complete on their data node.
-- 'pending': the access node committed; the data node's COMMIT PREPARED is
-- not yet confirmed (normal for up to hyperdist.resolve_interval).
-- 'retrying': the worker's last attempt on that data node failed
-- (last_error); it retries with backoff.
CREATE VIEW hyperdist_information.remote_transactions AS
SELECT r.gid,
       s.srvname AS node_name,
       r.xid,
       r.created,
       pg_catalog.now() - r.created AS age,
       CASE WHEN st.node IS NULL THEN 'pending' ELSE 'retrying' END AS state,
       st.last_error,
       st.next_attempt
  FROM _hyperdist_catalog.commit_record r
  LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid = r.node
  LEFT JOIN _hyperdist_catalog.resolver_status st ON st.node = r.node;

GRANT SELECT ON hyperdist_information.remote_transactions TO PUBLIC;
