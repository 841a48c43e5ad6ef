-- SPDX-License-Identifier: PostgreSQL
-- sql/catalog.sql: the catalog of distributed hypertables and its C entry points.

-- ---- distributed hypertables ---------------------------------------------
--
-- The access node keeps only metadata.  A distributed hypertable is a
-- foreign table on the server hyperdist_hypertables (not a data node); its
-- rows live on the data nodes in a table of the same name, partitioned by
-- range on the time column (and, with a space dimension, each time slice by
-- hash on the partitioning column).  Chunks are those partitions.  See
-- docs/ARCHITECTURE.md, "Distributed hypertables".

CREATE SCHEMA IF NOT EXISTS _hyperdist_catalog;
CREATE SCHEMA _hyperdist_functions;

-- distributed_exec for the extension's own statements: the same, but the
-- data nodes' notices ("already exists, skipping") are not relayed.
CREATE PROCEDURE _hyperdist_functions.exec_on_data_nodes(
    query TEXT,
    node_list NAME[] = NULL,
    transactional BOOLEAN = TRUE)
AS 'MODULE_PATHNAME', 'hyperdist_exec_on_data_nodes'
LANGUAGE C;

CREATE SERVER hyperdist_hypertables FOREIGN DATA WRAPPER hyperdist
  OPTIONS (hypertables 'true');
GRANT USAGE ON FOREIGN SERVER hyperdist_hypertables TO PUBLIC;

CREATE TABLE _hyperdist_catalog.hypertable (
    id serial PRIMARY KEY,
    relid oid NOT NULL UNIQUE,          -- the foreign table on this node
    associated_schema_name name NOT NULL,
    associated_table_prefix name NOT NULL,
    replication_factor smallint NOT NULL CHECK (replication_factor > 0),
    -- storage parameters of its chunks' tables (ALTER TABLE ... SET), in
    -- reloptions' form; the data nodes' root table, partitioned, has none
    chunk_options text[]);

-- One time dimension (interval_length, in microseconds for timestamps and
-- dates, raw units for integers) and at most one space dimension
-- (num_partitions hash partitions).
CREATE TABLE _hyperdist_catalog.dimension (
    id serial PRIMARY KEY,
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    attnum smallint NOT NULL,
    column_type regtype NOT NULL,
    interval_length bigint CHECK (interval_length > 0),
    num_partitions smallint CHECK (num_partitions > 0),
    -- set_integer_now_func's function, by name as in TimescaleDB
    integer_now_func_schema name,
    integer_now_func name,
    CHECK ((interval_length IS NULL) <> (num_partitions IS NULL)),
    CHECK ((integer_now_func IS NULL) = (integer_now_func_schema IS NULL)),
    UNIQUE (hypertable_id, attnum));

-- Time ranges [range_start, range_end) in internal time (microseconds since
-- the Unix epoch for timestamps and dates, as TimescaleDB).  Slices never
-- overlap; all chunks of a slice share its range, and its chunks are the
-- num_partitions hash partitions the space dimension had when the slice
-- was created (1 without a space dimension).
CREATE TABLE _hyperdist_catalog.time_slice (
    id serial PRIMARY KEY,
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    range_start bigint NOT NULL,
    range_end bigint NOT NULL,
    num_partitions smallint NOT NULL CHECK (num_partitions > 0),
    CHECK (range_start < range_end),
    UNIQUE (hypertable_id, range_start));

CREATE TABLE _hyperdist_catalog.chunk (
    id serial PRIMARY KEY,
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    time_slice_id int NOT NULL
      REFERENCES _hyperdist_catalog.time_slice ON DELETE CASCADE,
    space_partition smallint NOT NULL,  -- hash remainder; 0 without space
    schema_name name NOT NULL,
    table_name name NOT NULL,
    creation_time timestamptz NOT NULL DEFAULT now(),
    UNIQUE (time_slice_id, space_partition),
    UNIQUE (schema_name, table_name));

-- Replicas of a chunk, in replica order (scans read the first current one
-- on a node that is up).  A current replica holds every committed row of
-- its chunk; a write that cannot reach a replica marks it stale in the same
-- transaction, and a stale replica is neither read nor written until the
-- background worker has copied it up to date.  A copying replica is the
-- destination of a chunk copy or move in progress (its table exists, empty
-- to everyone else); a retired one is the source of a finished move, whose
-- table is dropped once no older snapshot can read it.  Neither is read,
-- written or healed, but their nodes hold a table of the chunk, so scans
-- there name their chunks.
CREATE TABLE _hyperdist_catalog.chunk_data_node (
    chunk_id int NOT NULL REFERENCES _hyperdist_catalog.chunk ON DELETE CASCADE,
    node_name name NOT NULL,
    replica smallint NOT NULL,
    status text NOT NULL DEFAULT 'current'
      CHECK (status IN ('current', 'stale', 'copying', 'retired')),
    PRIMARY KEY (chunk_id, node_name));
CREATE INDEX ON _hyperdist_catalog.chunk_data_node (node_name);

CREATE TABLE _hyperdist_catalog.hypertable_data_node (
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    node_name name NOT NULL,
    block_chunks boolean NOT NULL DEFAULT false,
    PRIMARY KEY (hypertable_id, node_name));

-- Placement map: new chunks of partition p go to data_nodes (first one
-- first), those of them that can take one when it is made
-- (_hyperdist_functions.new_chunk_nodes).  Rebuilt by
-- _hyperdist_functions.recreate_placement.
CREATE TABLE _hyperdist_catalog.dimension_partition (
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    partition int NOT NULL,
    data_nodes name[] NOT NULL,
    PRIMARY KEY (hypertable_id, partition));

-- Names of the data-node indexes of each hypertable, to resolve DROP INDEX.
CREATE TABLE _hyperdist_catalog.hypertable_index (
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    index_name name NOT NULL,
    PRIMARY KEY (hypertable_id, index_name));

-- Chunk copies and moves (copy_chunk, move_chunk, rebalance, drain), one
-- row each, run by the background worker (placement/chunk_move.c).  Stages:
-- planned (recorded, waiting for a worker), copying (the destination
-- replica exists, copying), switched (the destination is current; for a
-- move the source is retired and still to drop), then complete, failed or
-- cancelled.  Each stage commits, so a crash resumes from the last one.
CREATE TABLE _hyperdist_catalog.chunk_copy_operation (
    id serial PRIMARY KEY,
    operation_id name NOT NULL UNIQUE,
    backend_pid int,                    -- the worker running it, if any
    completed_stage name NOT NULL DEFAULT 'planned'
      CHECK (completed_stage IN ('planned', 'copying', 'switched',
                                 'complete', 'failed', 'cancelled')),
    time_start timestamptz NOT NULL DEFAULT now(),
    time_end timestamptz,
    chunk_id int NOT NULL,              -- no reference: a dropped chunk fails it
    source_node_name name NOT NULL,
    dest_node_name name NOT NULL,
    delete_on_source_node boolean NOT NULL,
    rebalance_id int,                   -- NULL: by hand
    attempts int NOT NULL DEFAULT 0,
    rows_copied bigint,                 -- what the copy sent, once switched
    bytes_copied bigint,
    copy_time interval,
    error_code text,                    -- the last failure's SQLSTATE
    error_message text,
    CHECK (source_node_name <> dest_node_name));
CREATE INDEX ON _hyperdist_catalog.chunk_copy_operation (chunk_id);

-- Continuous aggregates (cagg/): the view a role created, the local table
-- holding its finalized rows (materialized on the access node: a cagg has
-- few rows, buckets times groups, and reading it needs no data node), the
-- distributed hypertable it aggregates, and the statements refresh and the
-- real-time view run, deparsed when it was created with every name
-- qualified, so that they mean the same under any search_path.
CREATE TABLE _hyperdist_catalog.continuous_agg (
    id serial PRIMARY KEY,
    view_relid oid NOT NULL UNIQUE,
    mat_relid oid NOT NULL UNIQUE,
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    bucket_column name NOT NULL,        -- in the view and the local table
    bucket_sql text NOT NULL,           -- the bucket of time $1
    bucket_width_sql text NOT NULL,     -- the width: bucket + width is the next one
    refresh_sql text NOT NULL,          -- the query on time in [$1, $2)
    realtime_sql text NOT NULL,         -- the query on time >= the watermark
    definition text NOT NULL,           -- the query as the role wrote it
    materialized_only boolean NOT NULL);

-- Invalidation logs of continuous aggregates (metadata/invalidation.c,
-- cagg/refresh.c): ranges of a time dimension, in its internal int64 units,
-- lowest and greatest included, whose rows changed.  A transaction writing
-- a distributed hypertable that has continuous aggregates adds one row for
-- it when it commits; a refresh moves a hypertable's rows to the log of
-- each of its aggregates, then recomputes the buckets of its window that
-- its aggregate's log covers and cuts the window out of that log.  A new
-- aggregate's log starts with everything: nothing is materialized yet.
CREATE TABLE _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log (
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    lowest_modified_value bigint NOT NULL,
    greatest_modified_value bigint NOT NULL,
    CHECK (lowest_modified_value <= greatest_modified_value));
CREATE INDEX ON _hyperdist_catalog.continuous_aggs_hypertable_invalidation_log (hypertable_id);
CREATE TABLE _hyperdist_catalog.continuous_aggs_materialization_invalidation_log (
    materialization_id int NOT NULL
      REFERENCES _hyperdist_catalog.continuous_agg ON DELETE CASCADE,
    lowest_modified_value bigint NOT NULL,
    greatest_modified_value bigint NOT NULL,
    CHECK (lowest_modified_value <= greatest_modified_value));
CREATE INDEX ON _hyperdist_catalog.continuous_aggs_materialization_invalidation_log
  (materialization_id, lowest_modified_value);

-- Reference tables (create_reference_table): small tables kept on the
-- access node and, in full, on every data node, written on all of them in
-- the same transaction, so that queries of distributed hypertables can
-- filter or join through them on the data nodes.
CREATE TABLE _hyperdist_catalog.reference_table (
    relid oid PRIMARY KEY);             -- the table on this node

-- Backends cache what statements read of these tables (metadata/cache.c):
-- any change invalidates those caches when it commits.
CREATE FUNCTION _hyperdist_functions.catalog_changed() RETURNS trigger
  AS 'MODULE_PATHNAME', 'hyperdist_catalog_changed' LANGUAGE C;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['hypertable', 'dimension', 'hypertable_data_node', 'time_slice',
                         'chunk', 'chunk_data_node', 'continuous_agg'] LOOP
    EXECUTE format('CREATE TRIGGER catalog_changed'
                   ' AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON _hyperdist_catalog.%I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION _hyperdist_functions.catalog_changed()', t);
  END LOOP;
END $$;

GRANT USAGE ON SCHEMA _hyperdist_catalog, _hyperdist_functions TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA _hyperdist_catalog TO PUBLIC;

-- Only the catalog's owner writes the catalog.  These write it for the
-- owner of a distributed hypertable (or a member of its role), after
-- checking the caller, as the catalog's owner; the SQL functions below
-- call them for the catalog part of each operation (metadata/catalog.c).
CREATE FUNCTION _hyperdist_functions.catalog_add_hypertable(
    relation regclass, time_column name, partitioning_column name, number_partitions int,
    interval_length bigint, associated_schema_name name, associated_table_prefix name,
    replication_factor int, data_nodes name[], index_names name[])
RETURNS int AS 'MODULE_PATHNAME', 'hyperdist_catalog_add_hypertable' LANGUAGE C VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_set_chunk_interval(
    relation regclass, interval_length bigint)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_set_chunk_interval' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_set_integer_now_func(
    relation regclass, func regproc, replace_if_exists bool)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_set_integer_now_func' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_set_number_partitions(
    relation regclass, number_partitions int)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_set_number_partitions' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_add_space_dimension(
    relation regclass, column_name name, number_partitions int)
RETURNS int AS 'MODULE_PATHNAME', 'hyperdist_catalog_add_space_dimension' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_set_replication_factor(
    relation regclass, replication_factor int)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_set_replication_factor' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_attach_data_node(
    relation regclass, node_name name, repartition bool)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_attach_data_node' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_detach_data_node(
    relation regclass, node_name name, repartition bool)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_detach_data_node' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.catalog_delete_chunks(relation regclass, chunks int[])
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_delete_chunks' LANGUAGE C STRICT VOLATILE;
-- Chunk creation and removal of relation wait for the caller's transaction.
CREATE FUNCTION _hyperdist_functions.lock_chunks(relation regclass)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_lock_chunks' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _hyperdist_functions.lock_dropped_chunks(relation regclass, chunks int[])
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_lock_dropped_chunks' LANGUAGE C STRICT VOLATILE;

-- Whether data node `node` takes new chunks as far as alter_data_node(available
-- => ...) is concerned (hyperdist_information.data_nodes, which shows the same,
-- is made later, with the nodes' health).
CREATE FUNCTION _hyperdist_functions.node_available(node name)
RETURNS bool LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce((SELECT o.option_value::bool
                     FROM pg_catalog.pg_options_to_table(s.srvoptions) o
                    WHERE o.option_name = 'available'), true)
    FROM pg_catalog.pg_foreign_server s WHERE s.srvname = node
$$;

-- Placement (docs/ARCHITECTURE.md): the hypertable's data nodes that are
-- available and not blocked, sorted by name, are n0..nk-1.  Partition p
-- (the space partition, or for time-only hypertables the time slice's
-- ordinal plus the hypertable id, modulo k) goes to n[p mod k] and its
-- replicas to the next replication_factor - 1 nodes.
CREATE FUNCTION _hyperdist_functions.recreate_placement(ht int)
RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM _hyperdist_catalog.dimension_partition WHERE hypertable_id = ht;
  WITH nodes AS (
    SELECT array_agg(hdn.node_name ORDER BY hdn.node_name) AS n
      FROM _hyperdist_catalog.hypertable_data_node hdn
     WHERE hdn.hypertable_id = ht AND NOT hdn.block_chunks
       AND _hyperdist_functions.node_available(hdn.node_name)),
  parts AS (
    SELECT coalesce((SELECT num_partitions FROM _hyperdist_catalog.dimension
                      WHERE hypertable_id = ht AND num_partitions IS NOT NULL),
                    cardinality(n)) AS np, n,
           least(h.replication_factor, cardinality(n)) AS rf
      FROM nodes, _hyperdist_catalog.hypertable h
     WHERE h.id = ht AND cardinality(n) > 0)
  INSERT INTO _hyperdist_catalog.dimension_partition
  SELECT ht, p, ARRAY(SELECT n[1 + (p + k) % cardinality(n)]
                        FROM generate_series(0, rf - 1) k ORDER BY k)
    FROM parts, generate_series(0, np - 1) p;
$$;
REVOKE EXECUTE ON FUNCTION _hyperdist_functions.recreate_placement(int) FROM PUBLIC;

-- The data nodes a new chunk goes to (metadata/catalog_read.c): of the
-- placement map's entry for key (the space partition, or a time slice's
-- key; modulo the map's size), those that still take new chunks (attached,
-- not blocked, available) and are not in down (nodes the caller found
-- unreachable), in the entry's order; then the hypertable's other nodes
-- that take new chunks, in name order from the entry's first node on,
-- wrapping around; at most replication_factor of them.  Fewer when fewer
-- nodes can take the chunk, none when no node can.
CREATE FUNCTION _hyperdist_functions.new_chunk_nodes(ht int, key bigint, down name[])
RETURNS name[] LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH entry AS (
    SELECT data_nodes FROM _hyperdist_catalog.dimension_partition
     WHERE hypertable_id = ht
       AND partition = key % nullif((SELECT count(*) FROM _hyperdist_catalog.dimension_partition
                                      WHERE hypertable_id = ht), 0)),
  usable AS (
    SELECT hdn.node_name
      FROM _hyperdist_catalog.hypertable_data_node hdn
     WHERE hdn.hypertable_id = ht AND NOT hdn.block_chunks
       AND _hyperdist_functions.node_available(hdn.node_name)
       AND hdn.node_name <> ALL (coalesce(down, '{}'))),
  anchor AS (
    SELECT coalesce((SELECT data_nodes[1] FROM entry),
                    (SELECT node_name FROM usable ORDER BY node_name LIMIT 1
                     OFFSET key % nullif((SELECT count(*) FROM usable), 0))) AS first)
  SELECT ARRAY(
    SELECT u.node_name
      FROM usable u CROSS JOIN anchor a LEFT JOIN entry e ON true
     ORDER BY array_position(e.data_nodes, u.node_name) NULLS LAST,
              u.node_name < a.first, u.node_name
     LIMIT (SELECT replication_factor FROM _hyperdist_catalog.hypertable WHERE id = ht));
$$;
