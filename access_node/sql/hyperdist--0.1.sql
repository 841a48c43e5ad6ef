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

-- One row per data node.  Options are read with pg_options_to_table rather
-- than by splitting 'name=value' text, which cuts values holding '='.
CREATE VIEW hyperdist_information.data_nodes AS
SELECT s.srvname AS node_name,
       pg_catalog.pg_get_userbyid(s.srvowner) AS owner,
       s.srvoptions AS options,
       o.host,
       o.port,
       o.database,
       coalesce(o.available, true) AS available
  FROM pg_catalog.pg_foreign_server s
  JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
 CROSS JOIN LATERAL (
       SELECT max(option_value) FILTER (WHERE option_name = 'host') AS host,
              max(option_value) FILTER (WHERE option_name = 'port')::int AS port,
              max(option_value) FILTER (WHERE option_name = 'dbname')::name AS database,
              max(option_value) FILTER (WHERE option_name = 'available')::bool AS available
         FROM pg_catalog.pg_options_to_table(s.srvoptions)) o
 WHERE w.fdwname = 'hyperdist'
   AND s.srvname <> 'hyperdist_hypertables';

GRANT SELECT ON hyperdist_information.data_nodes TO PUBLIC;

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
    replication_factor smallint NOT NULL CHECK (replication_factor > 0));

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
    CHECK ((interval_length IS NULL) <> (num_partitions IS NULL)),
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

-- Replicas of a chunk; replica 0 is the one scans read.
CREATE TABLE _hyperdist_catalog.chunk_data_node (
    chunk_id int NOT NULL REFERENCES _hyperdist_catalog.chunk ON DELETE CASCADE,
    node_name name NOT NULL,
    replica smallint NOT NULL,
    PRIMARY KEY (chunk_id, node_name));
CREATE INDEX ON _hyperdist_catalog.chunk_data_node (node_name);

CREATE TABLE _hyperdist_catalog.hypertable_data_node (
    hypertable_id int NOT NULL
      REFERENCES _hyperdist_catalog.hypertable ON DELETE CASCADE,
    node_name name NOT NULL,
    block_chunks boolean NOT NULL DEFAULT false,
    PRIMARY KEY (hypertable_id, node_name));

-- Placement map: new chunks of partition p go to data_nodes (first one
-- first).  Rebuilt by _hyperdist_functions.recreate_placement.
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

-- Backends cache what statements read of these tables (metadata/cache.c):
-- any change invalidates those caches when it commits.
CREATE FUNCTION _hyperdist_functions.catalog_changed() RETURNS trigger
  AS 'MODULE_PATHNAME', 'hyperdist_catalog_changed' LANGUAGE C;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['hypertable', 'dimension', 'hypertable_data_node', 'time_slice',
                         'chunk', 'chunk_data_node'] LOOP
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
CREATE FUNCTION _hyperdist_functions.catalog_set_number_partitions(
    relation regclass, number_partitions int)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_set_number_partitions' LANGUAGE C STRICT VOLATILE;
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
      JOIN hyperdist_information.data_nodes dn ON dn.node_name = hdn.node_name
     WHERE hdn.hypertable_id = ht AND NOT hdn.block_chunks AND dn.available),
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

-- Column, constraint and index definitions of a table, as statements a
-- data node can run: kind 'column' (DN form: defaults that need other
-- relations, such as sequences, are left to the access node, which always
-- sends every column), 'constraint' (CHECK, UNIQUE, PRIMARY KEY,
-- EXCLUDE), 'index' (indexes that back no constraint).  an_def is the
-- column's definition on the access node's foreign table.
CREATE FUNCTION _hyperdist_functions.table_definition_sql()
RETURNS text LANGUAGE sql IMMUTABLE AS $q$ SELECT $sql$  SELECT 'column',
         format('%I %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attcollation <> t.typcollation
                     THEN ' COLLATE ' || a.attcollation::regcollation::text END,
                CASE WHEN d.oid IS NOT NULL AND NOT EXISTS (
                       SELECT FROM pg_depend dep
                        WHERE dep.classid = 'pg_attrdef'::regclass
                          AND dep.objid = d.oid
                          AND dep.refclassid = 'pg_class'::regclass
                          AND dep.refobjid <> a.attrelid)
                     THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END,
                CASE WHEN a.attnotnull THEN ' NOT NULL' END),
         format('%I %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attcollation <> t.typcollation
                     THEN ' COLLATE ' || a.attcollation::regcollation::text END,
                ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid),
                CASE WHEN a.attnotnull THEN ' NOT NULL' END),
         a.attnum::int
    FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint', format('CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)),
         CASE WHEN c.contype = 'c'
              THEN format('CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) END,
         0
    FROM pg_constraint c
   WHERE c.conrelid = $1 AND c.contype IN ('c', 'u', 'p', 'x')
  UNION ALL
  SELECT 'index', replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '), NULL,
         i.indexrelid::int
    FROM pg_index i
   WHERE i.indrelid = $1
     AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                                 AND c.conrelid = $1)
   ORDER BY 1, 4$sql$ $q$;

CREATE FUNCTION _hyperdist_functions.table_definition(rel regclass)
RETURNS TABLE(kind text, def text, an_def text, ord int)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN QUERY EXECUTE _hyperdist_functions.table_definition_sql() USING rel;
END $$;

-- A relation's name for messages (a regclass prints schema-qualified under
-- the functions' fixed search_path).
CREATE FUNCTION _hyperdist_functions.relname(rel regclass)
RETURNS name LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT relname FROM pg_class WHERE oid = rel $$;

CREATE FUNCTION _hyperdist_functions.hypertable_id(rel regclass)
RETURNS int LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int;
BEGIN
  SELECT id INTO ht FROM _hyperdist_catalog.hypertable WHERE relid = rel;
  IF ht IS NULL THEN
    RAISE EXCEPTION 'table "%" is not a distributed hypertable', _hyperdist_functions.relname(rel)
      USING ERRCODE = '42P01',
            HINT = 'Create it with create_distributed_hypertable().';
  END IF;
  RETURN ht;
END $$;

-- Data nodes named in a call, checked; NULL: every data node the caller may use.
CREATE FUNCTION _hyperdist_functions.check_data_nodes(nodes name[])
RETURNS name[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n name;
  result name[] := '{}';
BEGIN
  IF nodes IS NULL THEN
    SELECT coalesce(array_agg(node_name ORDER BY node_name), '{}') INTO result
      FROM hyperdist_information.data_nodes
     WHERE has_server_privilege(node_name, 'USAGE');
    IF cardinality(result) = 0 THEN
      RAISE EXCEPTION 'no data nodes can be used'
        USING ERRCODE = '55000', HINT = 'Add data nodes with add_data_node().';
    END IF;
    RETURN result;
  END IF;
  FOREACH n IN ARRAY nodes LOOP
    IF n IS NULL OR NOT EXISTS (SELECT FROM hyperdist_information.data_nodes d
                                 WHERE d.node_name = n) THEN
      RAISE EXCEPTION 'data node "%" does not exist', n USING ERRCODE = '42704';
    END IF;
    IF NOT has_server_privilege(n, 'USAGE') THEN
      RAISE EXCEPTION 'permission denied for data node "%"', n USING ERRCODE = '42501';
    END IF;
    IF NOT n = ANY (result) THEN
      result := result || n;
    END IF;
  END LOOP;
  IF cardinality(result) = 0 THEN
    RAISE EXCEPTION 'data_nodes must name at least one data node' USING ERRCODE = '22023';
  END IF;
  RETURN result;
END $$;

-- Statements for a data node creating the schemas that do not exist there
-- (CREATE SCHEMA IF NOT EXISTS would need CREATE on the database even when
-- the schema exists).
CREATE FUNCTION _hyperdist_functions.schemas_ddl(VARIADIC schemas name[])
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(format('DO %L; ',
                           format('BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace'
                                  ' WHERE nspname = %L) THEN CREATE SCHEMA %I; END IF; END', n, n)),
                    '')
    FROM (SELECT DISTINCT unnest(schemas) AS n) s
$$;

-- On a data node the hypertable's root table and its chunks belong to the
-- hypertable's owner, who (and whose members) create the chunks in the
-- associated schema there, in their own sessions; a role that could not is
-- refused now rather than at its first insert.
CREATE FUNCTION _hyperdist_functions.owner_ddl(qualified text, assoc_schema name, owner name)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN owner <> current_user
              THEN format('ALTER TABLE %s OWNER TO %I; GRANT USAGE, CREATE ON SCHEMA %I TO %I; ',
                          qualified, owner, assoc_schema, owner)
              ELSE '' END
         || format('DO %L; ',
                   format('BEGIN IF NOT (pg_catalog.has_schema_privilege(%1$L, %2$L, ''CREATE'')'
                          ' AND pg_catalog.has_schema_privilege(%1$L, %2$L, ''USAGE'')) THEN'
                          ' RAISE EXCEPTION USING ERRCODE = ''42501'', MESSAGE = %L, HINT = %L;'
                          ' END IF; END',
                          owner, assoc_schema,
                          format('role "%s" cannot create chunks in schema "%s" on this data node',
                                 owner, assoc_schema),
                          format('Grant it there: GRANT USAGE, CREATE ON SCHEMA %I TO %I.',
                                 assoc_schema, owner)))
$$;

-- Grants on rel what acl grants to others than owner.
CREATE FUNCTION _hyperdist_functions.grant_acl(acl aclitem[], owner regrole, rel text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  g record;
BEGIN
  FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
             FROM aclexplode(acl) a WHERE a.grantee <> owner LOOP
    EXECUTE format('GRANT %s ON %s TO %s%s', g.privilege_type, rel,
                   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
END $$;

-- The statements that create the hypertable's root table on a data node:
-- schemas, the table partitioned by range on the time column, its indexes.
CREATE FUNCTION _hyperdist_functions.root_table_ddl(
    rel regclass, qualified text, time_column name, assoc_schema name, owner name)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT format('%sCREATE TABLE %s (%s) PARTITION BY RANGE (%I); %s%s',
                _hyperdist_functions.schemas_ddl((parse_ident(qualified))[1], assoc_schema),
                qualified,
                (SELECT string_agg(def, ', ' ORDER BY kind, ord)
                   FROM _hyperdist_functions.table_definition(rel)
                  WHERE kind IN ('column', 'constraint')),
                time_column,
                (SELECT string_agg(def || '; ', '' ORDER BY ord)
                   FROM _hyperdist_functions.table_definition(rel)
                  WHERE kind = 'index'),
                _hyperdist_functions.owner_ddl(qualified, assoc_schema, owner))
$$;

CREATE FUNCTION create_distributed_hypertable(
    relation REGCLASS,
    time_column_name NAME,
    partitioning_column NAME = NULL,
    number_partitions INTEGER = NULL,
    associated_schema_name NAME = NULL,
    associated_table_prefix NAME = NULL,
    chunk_time_interval ANYELEMENT = NULL::bigint,
    create_default_indexes BOOLEAN = TRUE,
    if_not_exists BOOLEAN = FALSE,
    partitioning_func REGPROC = NULL,
    migrate_data BOOLEAN = FALSE,
    chunk_target_size TEXT = NULL,
    chunk_sizing_func REGPROC = NULL,
    time_partitioning_func REGPROC = NULL,
    replication_factor INTEGER = NULL,
    data_nodes NAME[] = NULL)
RETURNS TABLE(hypertable_id INT, schema_name NAME, table_name NAME, created BOOL)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  nsp name;
  rel name;
  qualified text;
  relkind "char";
  owner name;
  owner_id regrole;
  acl aclitem[];
  time_att record;
  space_att record;
  nodes name[];
  rf int := coalesce(replication_factor, 1);
  nparts int;
  ival bigint;
  ht int;
  dn_ddl text;
  an_cols text;
  tmp_name name;
  seq record;
  nonempty boolean;
  space_attnum int2;
  seqs text[] := '{}';
  seq_cols name[] := '{}';
  index_names name[];
  g record;
BEGIN
  SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relowner, c.relacl
    INTO nsp, rel, relkind, owner, owner_id, acl
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = relation;
  qualified := format('%I.%I', nsp, rel);

  IF EXISTS (SELECT FROM _hyperdist_catalog.hypertable h WHERE h.relid = relation) THEN
    IF if_not_exists THEN
      RAISE NOTICE 'table "%" is already a hypertable, skipping', rel;
      RETURN QUERY SELECT h.id, nsp, rel, false
                     FROM _hyperdist_catalog.hypertable h WHERE h.relid = relation;
      RETURN;
    END IF;
    RAISE EXCEPTION 'table "%" is already a hypertable', rel USING ERRCODE = '42710';
  END IF;
  IF relkind <> 'r' THEN
    RAISE EXCEPTION '"%" is not an ordinary table', rel
      USING ERRCODE = '42809',
            DETAIL = 'Only ordinary tables can become distributed hypertables.';
  END IF;
  IF NOT pg_has_role(owner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', rel USING ERRCODE = '42501';
  END IF;
  IF partitioning_func IS NOT NULL OR time_partitioning_func IS NOT NULL
     OR chunk_sizing_func IS NOT NULL OR chunk_target_size IS NOT NULL THEN
    RAISE EXCEPTION 'custom partitioning and adaptive chunking are not supported on distributed hypertables'
      USING ERRCODE = '0A000';
  END IF;

  SELECT a.attnum, a.atttypid::regtype AS typ INTO time_att
    FROM pg_attribute a
   WHERE a.attrelid = relation AND a.attname = time_column_name AND NOT a.attisdropped
     AND a.attnum > 0;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" does not exist', time_column_name USING ERRCODE = '42703';
  END IF;
  IF time_att.typ NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                          'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
    RAISE EXCEPTION 'invalid type for dimension "%"', time_column_name
      USING ERRCODE = '42804',
            HINT = 'Use an integer, timestamp, timestamptz or date column.';
  END IF;

  IF partitioning_column IS NOT NULL THEN
    SELECT a.attnum, a.atttypid::regtype AS typ INTO space_att
      FROM pg_attribute a
     WHERE a.attrelid = relation AND a.attname = partitioning_column
       AND NOT a.attisdropped AND a.attnum > 0;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'column "%" does not exist', partitioning_column USING ERRCODE = '42703';
    END IF;
    space_attnum := space_att.attnum;
    IF space_att.attnum = time_att.attnum THEN
      RAISE EXCEPTION 'the partitioning column must differ from the time column'
        USING ERRCODE = '22023';
    END IF;
    IF NOT _hyperdist_functions.type_is_hashable(space_att.typ) THEN
      RAISE EXCEPTION 'invalid type for dimension "%"', partitioning_column
        USING ERRCODE = '42804',
              DETAIL = format('Type %s has no default hash operator class.', space_att.typ);
    END IF;
  ELSIF number_partitions IS NOT NULL THEN
    RAISE EXCEPTION 'number_partitions needs a partitioning_column' USING ERRCODE = '22023';
  END IF;

  nodes := _hyperdist_functions.check_data_nodes(data_nodes);
  IF rf < 1 THEN
    RAISE EXCEPTION 'invalid replication factor %', rf
      USING ERRCODE = '22023', HINT = 'A replication factor is at least 1.';
  END IF;
  IF rf > cardinality(nodes) THEN
    RAISE EXCEPTION 'replication factor too large for hypertable "%"', rel
      USING ERRCODE = '22023',
            DETAIL = format('The hypertable has %s data nodes, but the replication factor is %s.',
                            cardinality(nodes), rf),
            HINT = 'Decrease the replication factor or add data nodes.';
  END IF;
  IF partitioning_column IS NOT NULL THEN
    nparts := coalesce(number_partitions, cardinality(nodes));
    IF nparts < 1 OR nparts > 32767 THEN
      RAISE EXCEPTION 'invalid number of partitions: %', nparts
        USING ERRCODE = '22023', HINT = 'A number of partitions is between 1 and 32767.';
    END IF;
  END IF;

  ival := _hyperdist_functions.interval_to_internal(time_att.typ, chunk_time_interval);

  -- what a data node cannot reproduce, or a foreign table cannot be
  IF EXISTS (SELECT FROM pg_constraint c
              WHERE (c.conrelid = relation OR c.confrelid = relation) AND c.contype = 'f') THEN
    RAISE EXCEPTION 'foreign keys are not supported on distributed hypertables'
      USING ERRCODE = '0A000', DETAIL = format('Table "%s" has or is referenced by a foreign key.', rel);
  END IF;
  IF EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = relation AND a.attnum > 0
               AND (a.attidentity <> '' OR a.attgenerated <> '')) THEN
    RAISE EXCEPTION 'identity and generated columns are not supported on distributed hypertables'
      USING ERRCODE = '0A000';
  END IF;
  IF EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = relation OR i.inhparent = relation) THEN
    RAISE EXCEPTION 'table "%" takes part in inheritance', rel USING ERRCODE = '0A000';
  END IF;
  FOR g IN SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS obj
             FROM pg_depend d
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = relation
              AND d.deptype = 'n'
              AND NOT (d.classid = 'pg_class'::regclass AND d.objid = relation)
              -- the table's own constraints, defaults and statistics go with it
              AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (
                         SELECT FROM pg_constraint c WHERE c.oid = d.objid AND c.conrelid = relation))
              AND d.classid NOT IN ('pg_attrdef'::regclass, 'pg_statistic_ext'::regclass) LOOP
    RAISE EXCEPTION 'cannot make table "%" a distributed hypertable because other objects depend on it', rel
      USING ERRCODE = '2BP01', DETAIL = format('%s depends on table %s.', g.obj, rel),
            HINT = 'Drop the dependent objects first, and recreate them afterwards.';
  END LOOP;

  EXECUTE format('SELECT EXISTS (SELECT FROM %s)', qualified) INTO nonempty;
  IF nonempty AND NOT migrate_data THEN
    RAISE EXCEPTION 'table "%" is not empty', rel
      USING ERRCODE = '55000',
            HINT = 'You can migrate data by specifying migrate_data => true when calling this function.';
  END IF;

  -- TimescaleDB's rules: the time column is NOT NULL, unique indexes
  -- include every partitioning column, and default indexes exist.
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', qualified, time_column_name);
  FOR g IN SELECT i.indexrelid::regclass AS idx,
                  CASE WHEN NOT time_att.attnum = ANY (i.indkey::int2[]) THEN time_column_name
                       ELSE partitioning_column END AS missing
             FROM pg_index i
            WHERE i.indrelid = relation AND i.indisunique
              AND (NOT time_att.attnum = ANY (i.indkey::int2[])
                   OR NOT space_attnum = ANY (i.indkey::int2[])) LOOP
    RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', g.missing
      USING ERRCODE = '42P16', DETAIL = format('Index %s does not include it.', g.idx);
  END LOOP;
  IF create_default_indexes THEN
    IF NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = relation
                                            AND i.indkey[0] = time_att.attnum) THEN
      EXECUTE format('CREATE INDEX ON %s (%I DESC)', qualified, time_column_name);
    END IF;
    IF partitioning_column IS NOT NULL AND NOT EXISTS (
         SELECT FROM pg_index i WHERE i.indrelid = relation
                                  AND i.indkey[0] = space_attnum
                                  AND i.indkey[1] = time_att.attnum) THEN
      EXECUTE format('CREATE INDEX ON %s (%I, %I DESC)', qualified,
                     partitioning_column, time_column_name);
    END IF;
  END IF;

  associated_schema_name := coalesce(associated_schema_name, '_hyperdist_internal');
  associated_table_prefix := coalesce(associated_table_prefix, '_dist_hyper');
  -- the chunks' relations here go to the associated schema, which the
  -- owner must be able to create tables in (as in TimescaleDB)
  IF associated_schema_name <> '_hyperdist_internal'
     AND NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = associated_schema_name) THEN
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', associated_schema_name, owner);
  END IF;

  -- the data nodes' root tables, in this transaction
  dn_ddl := _hyperdist_functions.root_table_ddl(relation, qualified, time_column_name,
                                                associated_schema_name, owner);
  CALL _hyperdist_functions.exec_on_data_nodes(dn_ddl, nodes);

  index_names := ARRAY(SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                        WHERE i.indrelid = relation);

  -- replace the table by a foreign table of the same name and columns
  SELECT string_agg(an_def, ', ' ORDER BY kind, ord) INTO an_cols
    FROM _hyperdist_functions.table_definition(relation) WHERE an_def IS NOT NULL;
  FOR seq IN SELECT d.objid::regclass AS s, a.attname
               FROM pg_depend d JOIN pg_attribute a
                 ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.refobjid = relation
                AND d.deptype = 'a'
                AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S' LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNED BY NONE', seq.s);
    seqs := seqs || seq.s::text;
    seq_cols := seq_cols || seq.attname;
  END LOOP;
  IF nonempty THEN
    tmp_name := left('_hd_migrate_' || rel, 63);
    EXECUTE format('ALTER TABLE %s RENAME TO %I', qualified, tmp_name);
  ELSE
    EXECUTE format('DROP TABLE %s', qualified);
  END IF;
  EXECUTE format('CREATE FOREIGN TABLE %s (%s) SERVER hyperdist_hypertables', qualified, an_cols);
  ht := _hyperdist_functions.catalog_add_hypertable(
          qualified::regclass, time_column_name, partitioning_column, nparts, ival,
          associated_schema_name, associated_table_prefix, rf, nodes, index_names);
  PERFORM _hyperdist_functions.sync_constraint_mirrors(qualified::regclass);
  -- the catalog is complete: from here on DDL on the table is distributed
  IF owner <> current_user THEN
    EXECUTE format('ALTER TABLE %s OWNER TO %I', qualified, owner);
  END IF;
  PERFORM _hyperdist_functions.grant_acl(acl, owner_id, qualified);
  FOR i IN 1 .. coalesce(cardinality(seqs), 0) LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', seqs[i], qualified, seq_cols[i]);
  END LOOP;

  IF tmp_name IS NOT NULL THEN
    EXECUTE format('INSERT INTO %s SELECT * FROM %I.%I', qualified, nsp, tmp_name);
    EXECUTE format('DROP TABLE %I.%I', nsp, tmp_name);
  END IF;

  RETURN QUERY SELECT ht, nsp, rel, true;
END
$fn$;

-- Unique, primary key and exclusion constraints exist on the data nodes;
-- the access node's foreign table names each with a CHECK constraint on
-- unique_on_data_nodes(its columns), NOT VALID and never evaluated, so that
-- INSERT ... ON CONFLICT ON CONSTRAINT finds the name (see ddl/utility.c).
CREATE FUNCTION _hyperdist_functions.unique_on_data_nodes(VARIADIC "any")
RETURNS boolean AS 'MODULE_PATHNAME', 'hyperdist_unique_on_data_nodes'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION _hyperdist_functions.sync_constraint_mirrors(rel regclass)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_sync_constraint_mirrors'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION _hyperdist_functions.type_is_hashable(typ regtype)
RETURNS boolean AS 'MODULE_PATHNAME', 'hyperdist_type_is_hashable'
LANGUAGE C STRICT STABLE;

-- A chunk interval in internal units: microseconds for timestamp and date
-- columns (an interval, or an integer number of microseconds), the value
-- itself for integer columns.  NULL: 7 days, as TimescaleDB.
CREATE FUNCTION _hyperdist_functions.interval_to_internal(typ regtype, ival anyelement)
RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  argtype regtype := pg_typeof(ival);
  int_time boolean := typ IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
  result bigint;
  iv interval;
BEGIN
  IF ival IS NULL THEN
    IF int_time THEN
      RAISE EXCEPTION 'integer dimensions require an explicit interval'
        USING ERRCODE = '22023', HINT = 'Give chunk_time_interval as an integer.';
    END IF;
    RETURN 7 * 86400 * 1000000::bigint;
  END IF;
  IF argtype = 'interval'::regtype THEN
    IF int_time THEN
      RAISE EXCEPTION 'invalid interval type for % dimension', typ
        USING ERRCODE = '42804', HINT = 'Use an integer interval for an integer time column.';
    END IF;
    iv := ival::text::interval;
    IF extract(month FROM iv) <> 0 OR extract(year FROM iv) <> 0 THEN
      RAISE EXCEPTION 'chunk intervals of months or years are not supported'
        USING ERRCODE = '22023', HINT = 'Use days, e.g. ''30 days''.';
    END IF;
    result := (extract(epoch FROM iv) * 1000000)::bigint;
  ELSIF argtype IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
    result := ival::text::bigint;
  ELSE
    RAISE EXCEPTION 'invalid interval type %', argtype
      USING ERRCODE = '42804', HINT = 'Use an interval or an integer.';
  END IF;
  IF result <= 0 THEN
    RAISE EXCEPTION 'invalid interval: must be positive' USING ERRCODE = '22023';
  END IF;
  IF typ = 'smallint'::regtype AND result > 32767 OR typ = 'integer'::regtype AND result > 2147483647 THEN
    RAISE EXCEPTION 'invalid interval: must be below the maximum of type %', typ
      USING ERRCODE = '22023';
  END IF;
  RETURN result;
END $$;

CREATE FUNCTION set_chunk_time_interval(
    hypertable REGCLASS, chunk_time_interval ANYELEMENT, dimension_name NAME = NULL)
RETURNS VOID LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int := _hyperdist_functions.hypertable_id(hypertable);
  d record;
BEGIN
  SELECT dim.id, dim.column_type, a.attname INTO d
    FROM _hyperdist_catalog.dimension dim
    JOIN pg_attribute a ON a.attrelid = hypertable AND a.attnum = dim.attnum
   WHERE dim.hypertable_id = ht AND dim.interval_length IS NOT NULL;
  IF dimension_name IS NOT NULL AND dimension_name <> d.attname THEN
    RAISE EXCEPTION 'time dimension "%" does not exist in hypertable "%"', dimension_name, _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '42703';
  END IF;
  IF chunk_time_interval IS NULL THEN
    RAISE EXCEPTION 'invalid interval: an explicit interval must be specified' USING ERRCODE = '22023';
  END IF;
  PERFORM _hyperdist_functions.catalog_set_chunk_interval(
            hypertable, _hyperdist_functions.interval_to_internal(d.column_type, chunk_time_interval));
END $$;

CREATE FUNCTION set_number_partitions(
    hypertable REGCLASS, number_partitions INTEGER, dimension_name NAME = NULL)
RETURNS VOID LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int := _hyperdist_functions.hypertable_id(hypertable);
  d record;
BEGIN
  SELECT dim.id, a.attname INTO d
    FROM _hyperdist_catalog.dimension dim
    JOIN pg_attribute a ON a.attrelid = hypertable AND a.attnum = dim.attnum
   WHERE dim.hypertable_id = ht AND dim.num_partitions IS NOT NULL;
  IF NOT FOUND OR (dimension_name IS NOT NULL AND dimension_name <> d.attname) THEN
    RAISE EXCEPTION 'hypertable "%" has no space dimension%', _hyperdist_functions.relname(hypertable),
      CASE WHEN dimension_name IS NOT NULL THEN format(' "%s"', dimension_name) ELSE '' END
      USING ERRCODE = '42703';
  END IF;
  IF number_partitions IS NULL OR number_partitions < 1 OR number_partitions > 32767 THEN
    RAISE EXCEPTION 'invalid number of partitions: %', number_partitions
      USING ERRCODE = '22023', HINT = 'A number of partitions is between 1 and 32767.';
  END IF;
  PERFORM _hyperdist_functions.catalog_set_number_partitions(hypertable, number_partitions);
END $$;

CREATE FUNCTION set_replication_factor(hypertable REGCLASS, replication_factor INTEGER)
RETURNS VOID LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int := _hyperdist_functions.hypertable_id(hypertable);
  nnodes int;
  under int;
BEGIN
  SELECT count(*) INTO nnodes FROM _hyperdist_catalog.hypertable_data_node WHERE hypertable_id = ht;
  IF replication_factor IS NULL OR replication_factor < 1 OR replication_factor > nnodes THEN
    RAISE EXCEPTION 'invalid replication factor %', replication_factor
      USING ERRCODE = '22023',
            DETAIL = format('Hypertable "%s" has %s data nodes.', _hyperdist_functions.relname(hypertable), nnodes),
            HINT = 'A replication factor is between 1 and the number of the hypertable''s data nodes.';
  END IF;
  PERFORM _hyperdist_functions.catalog_set_replication_factor(hypertable, replication_factor);
  SELECT count(*) INTO under FROM _hyperdist_catalog.chunk c
   WHERE c.hypertable_id = ht
     AND (SELECT count(*) FROM _hyperdist_catalog.chunk_data_node cdn WHERE cdn.chunk_id = c.id)
         < set_replication_factor.replication_factor;
  IF under > 0 THEN
    RAISE WARNING 'hypertable "%" is under-replicated', _hyperdist_functions.relname(hypertable)
      USING DETAIL = format('%s existing chunks have fewer replicas than the new replication factor; only new chunks get %s.',
                            under, replication_factor);
  END IF;
END $$;

-- Runs sql on node and returns its rows (columns in text format, typed by
-- the caller's column definition list).
CREATE FUNCTION _hyperdist_functions.data_node_query(node NAME, sql TEXT)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'hyperdist_data_node_query'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION _hyperdist_functions.attach_data_node(
    node_name NAME, hypertable REGCLASS, if_not_attached BOOLEAN, repartition BOOLEAN)
RETURNS TABLE(hypertable_id INTEGER, node_hypertable_id INTEGER, node NAME)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int := _hyperdist_functions.hypertable_id(hypertable);
  node name := (_hyperdist_functions.check_data_nodes(ARRAY[node_name]))[1];
  source name;
  qualified text := (SELECT format('%I.%I', n.nspname, c.relname)
                       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.oid = hypertable);
  h record;
  ddl text;
BEGIN
  IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = hypertable), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of hypertable "%"', _hyperdist_functions.relname(hypertable) USING ERRCODE = '42501';
  END IF;
  IF EXISTS (SELECT FROM _hyperdist_catalog.hypertable_data_node hdn
              WHERE hdn.hypertable_id = ht AND hdn.node_name = node) THEN
    IF if_not_attached THEN
      RAISE NOTICE 'data node "%" is already attached to hypertable "%", skipping', node, _hyperdist_functions.relname(hypertable);
      RETURN QUERY SELECT ht, ht, node;
      RETURN;
    END IF;
    RAISE EXCEPTION 'data node "%" is already attached to hypertable "%"', node, _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '42710';
  END IF;
  PERFORM _hyperdist_functions.lock_chunks(hypertable);
  SELECT * INTO h FROM _hyperdist_catalog.hypertable WHERE id = ht;
  SELECT min(hdn.node_name) INTO source FROM _hyperdist_catalog.hypertable_data_node hdn
   WHERE hdn.hypertable_id = ht;

  -- the root table as it is now on a member, with the same partitioning
  SELECT format('%sCREATE TABLE %s (%s) PARTITION BY RANGE (%I); %s',
                _hyperdist_functions.schemas_ddl((parse_ident(qualified))[1], h.associated_schema_name),
                qualified,
                string_agg(t.def, ', ' ORDER BY t.kind, t.ord) FILTER (WHERE t.kind <> 'index'),
                (SELECT a.attname FROM _hyperdist_catalog.dimension dim
                   JOIN pg_attribute a ON a.attrelid = hypertable AND a.attnum = dim.attnum
                  WHERE dim.hypertable_id = ht AND dim.interval_length IS NOT NULL),
                coalesce(string_agg(t.def || '; ', '' ORDER BY t.ord) FILTER (WHERE t.kind = 'index'), ''))
           || _hyperdist_functions.owner_ddl(qualified, h.associated_schema_name,
                         (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = hypertable))
    INTO ddl
    FROM _hyperdist_functions.data_node_query(source,
           replace(_hyperdist_functions.table_definition_sql(), '$1',
                   quote_literal(qualified) || '::regclass'))
         AS t(kind text, def text, an_def text, ord int);
  CALL _hyperdist_functions.exec_on_data_nodes(ddl, ARRAY[node]);
  PERFORM _hyperdist_functions.catalog_attach_data_node(hypertable, node, repartition);
  RETURN QUERY SELECT ht, ht, node;
END $$;

-- A SQL wrapper: PL/pgSQL cannot have an argument and a result column of
-- the same name, as TimescaleDB's signature does (node_name).
CREATE FUNCTION attach_data_node(
    node_name NAME, hypertable REGCLASS, if_not_attached BOOLEAN = FALSE,
    repartition BOOLEAN = TRUE)
RETURNS TABLE(hypertable_id INTEGER, node_hypertable_id INTEGER, node_name NAME)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT * FROM _hyperdist_functions.attach_data_node($1, $2, $3, $4);
$$;

-- Detaches node from one hypertable or, with hypertable NULL, from all.
-- Refuses when a chunk would lose its last replica, or when the node holds
-- chunks at all unless force; drop_remote_data drops the node's table.
CREATE FUNCTION detach_data_node(
    node_name NAME, hypertable REGCLASS = NULL, if_attached BOOLEAN = FALSE,
    force BOOLEAN = FALSE, repartition BOOLEAN = TRUE, drop_remote_data BOOLEAN = FALSE)
RETURNS INTEGER LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  node name := (_hyperdist_functions.check_data_nodes(ARRAY[node_name]))[1];
  h record;
  nchunks int;
  lost int;
  nnodes int;
  detached int := 0;
BEGIN
  IF hypertable IS NOT NULL THEN
    PERFORM _hyperdist_functions.hypertable_id(hypertable);
    IF NOT EXISTS (SELECT FROM _hyperdist_catalog.hypertable_data_node hdn
                     JOIN _hyperdist_catalog.hypertable ht ON ht.id = hdn.hypertable_id
                    WHERE ht.relid = hypertable AND hdn.node_name = node) THEN
      IF if_attached THEN
        RAISE NOTICE 'data node "%" is not attached to hypertable "%", skipping', node, _hyperdist_functions.relname(hypertable);
        RETURN 0;
      END IF;
      RAISE EXCEPTION 'data node "%" is not attached to hypertable "%"', node, _hyperdist_functions.relname(hypertable)
        USING ERRCODE = '42704';
    END IF;
  END IF;
  FOR h IN SELECT ht.id, ht.relid::regclass AS rel,
                  format('%I.%I', n.nspname, c.relname) AS qualified
             FROM _hyperdist_catalog.hypertable ht
             JOIN _hyperdist_catalog.hypertable_data_node hdn ON hdn.hypertable_id = ht.id
             JOIN pg_class c ON c.oid = ht.relid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE hdn.node_name = node AND (hypertable IS NULL OR ht.relid = hypertable)
            ORDER BY ht.id LOOP
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = h.rel), 'USAGE') THEN
      RAISE EXCEPTION 'must be owner of hypertable "%"', _hyperdist_functions.relname(h.rel) USING ERRCODE = '42501';
    END IF;
    PERFORM _hyperdist_functions.lock_chunks(h.rel);
    SELECT count(*) INTO nnodes FROM _hyperdist_catalog.hypertable_data_node hdn
     WHERE hdn.hypertable_id = h.id;
    SELECT count(*) INTO nchunks FROM _hyperdist_catalog.chunk_data_node cdn
      JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id
     WHERE c.hypertable_id = h.id AND cdn.node_name = node;
    SELECT count(*) INTO lost FROM _hyperdist_catalog.chunk c
     WHERE c.hypertable_id = h.id
       AND EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                    WHERE cdn.chunk_id = c.id AND cdn.node_name = node)
       AND NOT EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                        WHERE cdn.chunk_id = c.id AND cdn.node_name <> node);
    IF nnodes = 1 THEN
      RAISE EXCEPTION 'cannot detach the last data node of hypertable "%"', _hyperdist_functions.relname(h.rel)
        USING ERRCODE = '55000', HINT = 'Drop the hypertable instead.';
    END IF;
    IF lost > 0 AND NOT force THEN
      RAISE EXCEPTION 'detaching data node "%" would mean a data loss for hypertable "%"', node, _hyperdist_functions.relname(h.rel)
        USING ERRCODE = '55000',
              DETAIL = format('%s chunks of the hypertable have no other replica.', lost),
              HINT = 'Drop those chunks or copy them to other data nodes first, or use force => true to lose them.';
    END IF;
    IF nchunks > 0 AND NOT force THEN
      RAISE EXCEPTION 'data node "%" still holds data of hypertable "%"', node, _hyperdist_functions.relname(h.rel)
        USING ERRCODE = '55000',
              DETAIL = format('It holds replicas of %s chunks.', nchunks),
              HINT = 'Use force => true to detach it anyway; the chunks become under-replicated.';
    END IF;
    IF lost > 0 THEN
      RAISE WARNING 'data of hypertable "%" is lost', _hyperdist_functions.relname(h.rel)
        USING DETAIL = format('%s chunks had their only replica on data node "%s".', lost, node);
    ELSIF nchunks > 0 THEN
      RAISE WARNING 'hypertable "%" is under-replicated', _hyperdist_functions.relname(h.rel)
        USING DETAIL = format('%s chunks lose their replica on data node "%s".', nchunks, node);
    END IF;
    IF drop_remote_data THEN
      CALL _hyperdist_functions.exec_on_data_nodes(format('DROP TABLE IF EXISTS %s', h.qualified),
                                                   ARRAY[node]);
    END IF;
    PERFORM _hyperdist_functions.catalog_detach_data_node(h.rel, node, repartition);
    detached := detached + 1;
  END LOOP;
  IF detached = 0 AND hypertable IS NULL AND NOT if_attached THEN
    RAISE EXCEPTION 'data node "%" is not attached to any hypertable', node USING ERRCODE = '42704';
  END IF;
  RETURN detached;
END $$;

-- Chunks of ht whose time range lies before older_than / from newer_than
-- (internal time), or that were created before created_before / from
-- created_after; NULL: no bound.  Oldest first.
CREATE FUNCTION _hyperdist_functions.chunks_in_range(
    ht int, older_than bigint, newer_than bigint,
    created_before timestamptz, created_after timestamptz)
RETURNS TABLE(chunk_id int, time_slice_id int, chunk_name text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT c.id, c.time_slice_id, format('%I.%I', c.schema_name, c.table_name)
    FROM _hyperdist_catalog.chunk c
    JOIN _hyperdist_catalog.time_slice s ON s.id = c.time_slice_id
   WHERE c.hypertable_id = ht
     AND (older_than IS NULL OR s.range_end <= older_than)
     AND (newer_than IS NULL OR s.range_start >= newer_than)
     AND (created_before IS NULL OR c.creation_time < created_before)
     AND (created_after IS NULL OR c.creation_time >= created_after)
   ORDER BY s.range_start, c.space_partition;
$$;

CREATE FUNCTION _hyperdist_functions.show_chunks(
    ht int, older_than bigint, newer_than bigint,
    created_before timestamptz, created_after timestamptz)
RETURNS SETOF regclass LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT chunk_name::regclass
    FROM _hyperdist_functions.chunks_in_range(ht, older_than, newer_than,
                                              created_before, created_after);
$$;

-- Each chunk has a relation on the access node, as in TimescaleDB: a
-- foreign table of the same name on the chunk's first replica, with the
-- hypertable's columns, owner and grants (sync_chunk_relations keeps the
-- first two in step, ddl/utility.c the grants).  show_chunks returns it as a regclass, and it reads
-- that one chunk.

-- The columns of rel as a chunk relation declares them.
CREATE FUNCTION _hyperdist_functions.chunk_columns(rel regclass)
RETURNS TABLE(attname name, attnum int2, def text) LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT a.attname, a.attnum,
         format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attcollation <> t.typcollation
                 THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
   WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped;
$$;

-- Called with the chunk's catalog rows, which metadata/chunk.c writes as the
-- catalog's owner whichever role inserts; not for anyone else.
CREATE FUNCTION _hyperdist_functions.create_chunk_relation(chunk int)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c record;
BEGIN
  SELECT ch.schema_name, ch.table_name, h.relid, cl.relowner::regrole AS owner,
         (SELECT cdn.node_name FROM _hyperdist_catalog.chunk_data_node cdn
           WHERE cdn.chunk_id = ch.id ORDER BY cdn.replica LIMIT 1) AS node
    INTO c
    FROM _hyperdist_catalog.chunk ch
    JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id
    JOIN pg_class cl ON cl.oid = h.relid
   WHERE ch.id = chunk;
  IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = c.schema_name) THEN
    EXECUTE format('CREATE SCHEMA %I', c.schema_name);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO PUBLIC', c.schema_name);
  END IF;
  EXECUTE format('CREATE FOREIGN TABLE %I.%I (%s) SERVER %I OPTIONS (schema_name %L, table_name %L)',
                 c.schema_name, c.table_name,
                 (SELECT string_agg(format('%I %s', attname, def), ', ' ORDER BY attnum)
                    FROM _hyperdist_functions.chunk_columns(c.relid)),
                 c.node, c.schema_name, c.table_name);
  EXECUTE format('ALTER FOREIGN TABLE %I.%I OWNER TO %s', c.schema_name, c.table_name, c.owner);
  PERFORM _hyperdist_functions.grant_acl((SELECT relacl FROM pg_class WHERE oid = c.relid), c.owner,
                                         format('%I.%I', c.schema_name, c.table_name));
END $$;
REVOKE EXECUTE ON FUNCTION _hyperdist_functions.create_chunk_relation(int) FROM PUBLIC;

-- After DDL on hypertable rel: its chunk relations get its columns (a
-- renamed column is dropped and added: the relations hold no data) and
-- owner.
CREATE FUNCTION _hyperdist_functions.sync_chunk_relations(rel regclass)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chunk regclass;
  changes text;
BEGIN
  FOR chunk IN SELECT format('%I.%I', c.schema_name, c.table_name)::regclass
                 FROM _hyperdist_catalog.chunk c
                 JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id
                WHERE h.relid = rel ORDER BY c.id LOOP
    SELECT string_agg(cmd, ', ' ORDER BY o) INTO changes FROM (
      SELECT 1 AS o, format('DROP COLUMN %I', cc.attname) AS cmd
        FROM _hyperdist_functions.chunk_columns(chunk) cc
       WHERE cc.attname NOT IN (SELECT attname FROM _hyperdist_functions.chunk_columns(rel))
      UNION ALL
      SELECT 2, CASE WHEN cc.attname IS NULL THEN format('ADD COLUMN %I %s', hc.attname, hc.def)
                     ELSE format('ALTER COLUMN %I TYPE %s', hc.attname, hc.def) END
        FROM _hyperdist_functions.chunk_columns(rel) hc
        LEFT JOIN _hyperdist_functions.chunk_columns(chunk) cc ON cc.attname = hc.attname
       WHERE cc.def IS DISTINCT FROM hc.def
      UNION ALL
      SELECT 3, format('OWNER TO %s', h.relowner::regrole)
        FROM pg_class h, pg_class c
       WHERE h.oid = rel AND c.oid = chunk AND h.relowner <> c.relowner) cmds;
    IF changes IS NOT NULL THEN
      EXECUTE format('ALTER FOREIGN TABLE %s %s', chunk, changes);
    END IF;
  END LOOP;
END $$;

-- Drops the access node's relations of chunks (see create_chunk_relation).
CREATE FUNCTION _hyperdist_functions.drop_chunk_relations(chunks int[])
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  names text := (SELECT string_agg(format('%I.%I', schema_name, table_name), ', ')
                   FROM _hyperdist_catalog.chunk WHERE id = ANY (chunks));
BEGIN
  IF names IS NOT NULL THEN
    EXECUTE format('DROP FOREIGN TABLE IF EXISTS %s', names);
  END IF;
END $$;

-- Drops the chunks on every data node holding them, on the access node,
-- and from the catalog.  With a space dimension a time slice's chunks are
-- partitions of one table per node, which goes from every node with the
-- slice's last chunk (chunks chosen by time range take whole slices).
CREATE FUNCTION _hyperdist_functions.drop_chunks(
    ht int, older_than bigint, newer_than bigint,
    created_before timestamptz, created_after timestamptz)
RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rel regclass := (SELECT relid FROM _hyperdist_catalog.hypertable WHERE id = ht);
  r record;
  has_space boolean := EXISTS (SELECT FROM _hyperdist_catalog.dimension
                                WHERE hypertable_id = ht AND num_partitions IS NOT NULL);
  h record;
  dropped int[];
  emptied int[];
  slices text;
  nodes name[];
BEGIN
  IF older_than IS NULL AND newer_than IS NULL AND created_before IS NULL AND created_after IS NULL THEN
    RAISE EXCEPTION 'invalid time range for dropping chunks'
      USING ERRCODE = '22023',
            HINT = 'At least one of older_than, newer_than, created_before and created_after must be provided.';
  END IF;
  PERFORM _hyperdist_functions.lock_chunks(rel);
  SELECT * INTO h FROM _hyperdist_catalog.hypertable WHERE id = ht;
  SELECT coalesce(array_agg(chunk_id), '{}') INTO dropped
    FROM _hyperdist_functions.chunks_in_range(ht, older_than, newer_than,
                                              created_before, created_after);
  SELECT coalesce(array_agg(DISTINCT c.time_slice_id), '{}') INTO emptied
    FROM _hyperdist_catalog.chunk c
   WHERE c.id = ANY (dropped)
     AND NOT EXISTS (SELECT FROM _hyperdist_catalog.chunk o
                      WHERE o.time_slice_id = c.time_slice_id AND NOT o.id = ANY (dropped));
  FOR r IN SELECT cdn.node_name,
                  string_agg(format('%I.%I', c.schema_name, c.table_name), ', ') AS tables
             FROM _hyperdist_catalog.chunk c
             JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
            WHERE c.id = ANY (dropped)
              AND NOT (has_space AND c.time_slice_id = ANY (emptied))
            GROUP BY cdn.node_name ORDER BY cdn.node_name LOOP
    CALL _hyperdist_functions.exec_on_data_nodes(format('DROP TABLE IF EXISTS %s', r.tables), ARRAY[r.node_name]);
  END LOOP;
  IF has_space AND cardinality(emptied) > 0 THEN
    SELECT string_agg(format('%I.%I', h.associated_schema_name,
                             format('%s_%s_%s_slice', h.associated_table_prefix, ht, e)), ', ')
      INTO slices FROM unnest(emptied) e;
    SELECT array_agg(hdn.node_name ORDER BY hdn.node_name) INTO nodes
      FROM _hyperdist_catalog.hypertable_data_node hdn WHERE hdn.hypertable_id = ht;
    CALL _hyperdist_functions.exec_on_data_nodes(format('DROP TABLE IF EXISTS %s', slices), nodes);
  END IF;
  PERFORM _hyperdist_functions.drop_chunk_relations(dropped);
  RETURN QUERY SELECT format('%I.%I', c.schema_name, c.table_name)
                 FROM _hyperdist_catalog.chunk c WHERE c.id = ANY (dropped) ORDER BY c.id;
  PERFORM _hyperdist_functions.catalog_delete_chunks(rel, dropped);
END $$;

CREATE FUNCTION show_chunks(relation REGCLASS, older_than "any" = NULL, newer_than "any" = NULL,
                            created_before "any" = NULL, created_after "any" = NULL)
RETURNS SETOF REGCLASS AS 'MODULE_PATHNAME', 'hyperdist_show_chunks'
LANGUAGE C VOLATILE;

CREATE FUNCTION drop_chunks(relation REGCLASS, older_than "any" = NULL, newer_than "any" = NULL,
                            verbose BOOLEAN = FALSE, created_before "any" = NULL,
                            created_after "any" = NULL)
RETURNS SETOF TEXT AS 'MODULE_PATHNAME', 'hyperdist_drop_chunks'
LANGUAGE C VOLATILE;

-- ---- sizes: one query per data node, all at once -------------------------

-- Per data node, the hypertable's total or each chunk's sizes, for any
-- role that may read it (api/size.c).
CREATE FUNCTION _hyperdist_functions.data_node_sizes(hypertable regclass, per_chunk boolean)
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

-- ---- information views (columns as TimescaleDB 2.13's) ----------------

CREATE VIEW hyperdist_information.hypertables AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       (SELECT count(*) FROM _hyperdist_catalog.dimension d WHERE d.hypertable_id = h.id)::smallint
         AS num_dimensions,
       (SELECT count(*) FROM _hyperdist_catalog.chunk ch WHERE ch.hypertable_id = h.id) AS num_chunks,
       false AS compression_enabled,
       true AS is_distributed,
       h.replication_factor,
       (SELECT array_agg(hdn.node_name ORDER BY hdn.node_name)
          FROM _hyperdist_catalog.hypertable_data_node hdn WHERE hdn.hypertable_id = h.id)
         AS data_nodes,
       NULL::name[] AS tablespaces
  FROM _hyperdist_catalog.hypertable h
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;

CREATE VIEW hyperdist_information.dimensions AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       (row_number() OVER (PARTITION BY h.id ORDER BY d.interval_length IS NULL, d.id))::int
         AS dimension_number,
       a.attname AS column_name,
       d.column_type::regtype AS column_type,
       CASE WHEN d.interval_length IS NOT NULL THEN 'Time' ELSE 'Space' END AS dimension_type,
       CASE WHEN d.interval_length IS NOT NULL
             AND d.column_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
            THEN d.interval_length * interval '1 microsecond' END AS time_interval,
       CASE WHEN d.column_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
            THEN d.interval_length END AS integer_interval,
       NULL::regproc AS integer_now_func,
       d.num_partitions::smallint AS num_partitions
  FROM _hyperdist_catalog.dimension d
  JOIN _hyperdist_catalog.hypertable h ON h.id = d.hypertable_id
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = h.relid AND a.attnum = d.attnum;

-- A time range starts before the first timestamp (4714-11-24 BC,
-- -210866803200000000 microseconds from the Unix epoch) only where it has
-- no lower bound, and ends at the largest bigint only where it has no
-- upper bound (the slice was cut there): those show as infinite, as in
-- TimescaleDB.
CREATE VIEW hyperdist_information.chunks AS
SELECT n.nspname AS hypertable_schema,
       c.relname AS hypertable_name,
       ch.schema_name AS chunk_schema,
       ch.table_name AS chunk_name,
       a.attname AS primary_dimension,
       d.column_type::regtype AS primary_dimension_type,
       CASE WHEN int_time THEN NULL
            WHEN s.range_start < -210866803200000000 THEN '-infinity'
            ELSE timestamptz 'epoch' + s.range_start * interval '1 microsecond' END
         AS range_start,
       CASE WHEN int_time THEN NULL
            WHEN s.range_end = 9223372036854775807 THEN 'infinity'
            ELSE timestamptz 'epoch' + s.range_end * interval '1 microsecond' END
         AS range_end,
       CASE WHEN int_time THEN s.range_start END AS range_start_integer,
       CASE WHEN int_time THEN s.range_end END AS range_end_integer,
       false AS is_compressed,
       NULL::name AS chunk_tablespace,
       (SELECT array_agg(cdn.node_name ORDER BY cdn.replica)
          FROM _hyperdist_catalog.chunk_data_node cdn WHERE cdn.chunk_id = ch.id) AS data_nodes
  FROM _hyperdist_catalog.chunk ch
  JOIN _hyperdist_catalog.time_slice s ON s.id = ch.time_slice_id
  JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id
  JOIN _hyperdist_catalog.dimension d ON d.hypertable_id = h.id AND d.interval_length IS NOT NULL
  JOIN pg_catalog.pg_class c ON c.oid = h.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = h.relid AND a.attnum = d.attnum
 CROSS JOIN LATERAL (SELECT d.column_type IN ('smallint'::regtype, 'integer'::regtype,
                                               'bigint'::regtype) AS int_time) it;

GRANT SELECT ON hyperdist_information.hypertables, hyperdist_information.dimensions,
                hyperdist_information.chunks TO PUBLIC;

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

-- ---- time_bucket (TimescaleDB 2.13) ----------------------------------------
--
-- Every time_bucket is an IMMUTABLE SQL function, neither STRICT nor with a
-- SET clause, whose body is one expression of built-in functions, operators
-- and CASE (or a call of another time_bucket that is itself such a
-- function), so the planner inlines it (inline_function() in clauses.c):
-- what reaches the FDW is built-ins only, which data nodes without the
-- extension can run.  With a constant bucket_width the CASE arms that test
-- only the width fold away; widths without months become a bare date_bin().
-- The bodies are SQL-standard (RETURN), parsed once at creation, so they do
-- not depend on the caller's search_path.
--
-- Semantics are TimescaleDB's: buckets are aligned on origin (default
-- 2000-01-03, a Monday), month widths count whole months from origin's
-- month (day and time of origin are ignored, so the default is 2000-01),
-- timestamptz buckets are computed in UTC, infinite times come back
-- unchanged, NULL in gives NULL out.
--
-- Errors come from built-ins, with TimescaleDB's SQLSTATE: a width <= 0 is
-- 22023 through date_part() with a unit that is the message (date_bin()
-- itself would raise 22008), months mixed with days or time are 0A000 from
-- date_bin().  The raising arms refer to bucket_width so that the planner
-- cannot fold them into a plan-time error when the width is not a constant;
-- with a constant invalid width the error does come at plan time.

-- The core for timestamp; the other interval variants reduce to it.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMP, origin TIMESTAMP)
RETURNS TIMESTAMP
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  -- no months: date_bin() is TimescaleDB's bucketing
  WHEN date_part('year', bucket_width) * 12 + date_part('month', bucket_width) = 0
       AND bucket_width > interval '0'
    THEN date_bin(bucket_width, ts, origin)
  WHEN bucket_width IS NULL OR origin IS NULL THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  -- months with days or time: date_bin() raises 0A000
  WHEN date_part('year', bucket_width) * 12 + date_part('month', bucket_width) <> 0
       AND (date_part('day', bucket_width) <> 0
            OR date_trunc('day', bucket_width) <> bucket_width)
    THEN date_bin(bucket_width, ts, origin)
  WHEN bucket_width <= interval '0'
    THEN ts + bucket_width * date_part('bucket_width must be greater than 0', bucket_width)
  -- whole months: the start of origin's month plus whole buckets
  ELSE date_trunc('month', origin)
       + bucket_width * floor(((date_part('year', ts) - date_part('year', origin)) * 12
                               + date_part('month', ts) - date_part('month', origin))
                              / (date_part('year', bucket_width) * 12
                                 + date_part('month', bucket_width)))
END;

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMP)
RETURNS TIMESTAMP
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts, timestamp '2000-01-03');

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMP, "offset" INTERVAL)
RETURNS TIMESTAMP
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset") + "offset";

-- Month buckets of a timestamptz are computed in UTC, as TimescaleDB does.
-- UTC is written as the zone interval '0': timezone(interval, ...) takes no
-- collation, which the FDW could not vouch for on the data nodes.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ, origin TIMESTAMPTZ)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN date_part('year', bucket_width) * 12 + date_part('month', bucket_width) = 0
       AND bucket_width > interval '0'
    THEN date_bin(bucket_width, ts, origin)
  ELSE time_bucket(bucket_width, ts AT TIME ZONE interval '0',
                   origin AT TIME ZONE interval '0')
       AT TIME ZONE interval '0'
END;

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00');

-- timestamptz +/- interval depends on the TimeZone setting (it is STABLE)
-- and would stop the inlining, so the offset is applied in UTC; TimescaleDB
-- applies it in the session's time zone, which differs only for offsets
-- with days or months across a DST change.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ, "offset" INTERVAL)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (time_bucket(bucket_width, (ts AT TIME ZONE interval '0') - "offset") + "offset")
       AT TIME ZONE interval '0';

-- Buckets in the given time zone: the local time there is bucketed and the
-- bucket's local start converted back.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ, timezone TEXT,
                            origin TIMESTAMPTZ DEFAULT NULL, "offset" INTERVAL DEFAULT NULL)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (time_bucket(bucket_width,
                    (ts AT TIME ZONE timezone) - coalesce("offset", interval '0'),
                    coalesce(origin AT TIME ZONE timezone, timestamp '2000-01-03'))
        + coalesce("offset", interval '0')) AT TIME ZONE timezone;

-- A date bucket is a whole number of days or of months (TimescaleDB raises
-- 0A000 for other widths; this is 22023, see above).
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts DATE, origin DATE)
RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN date_trunc('day', bucket_width) = bucket_width
       OR date_part('year', bucket_width) * 12 + date_part('month', bucket_width) <> 0
    THEN time_bucket(bucket_width, ts::timestamp, origin::timestamp)::date
  ELSE (ts + bucket_width * date_part('bucket_width must be a whole number of days',
                                      bucket_width))::date
END;

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts DATE)
RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts, date '2000-01-03');

-- As TimescaleDB: the shifted time is truncated to a date before bucketing.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts DATE, "offset" INTERVAL)
RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (time_bucket(bucket_width, (ts - "offset")::date) + "offset")::date;

-- Integer buckets start at multiples of bucket_width: ts minus its
-- remainder, made non-negative so that negative times round down.
-- Overflow near the type's limits raises 22003, as in TimescaleDB.
CREATE FUNCTION time_bucket(bucket_width SMALLINT, ts SMALLINT)
RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN bucket_width > 0
    THEN ts - CASE WHEN ts % bucket_width < 0 THEN ts % bucket_width + bucket_width
                   ELSE ts % bucket_width END
  ELSE date_part('bucket_width must be greater than 0',
                 bucket_width * interval '1 microsecond')::smallint
END;

CREATE FUNCTION time_bucket(bucket_width INTEGER, ts INTEGER)
RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN bucket_width > 0
    THEN ts - CASE WHEN ts % bucket_width < 0 THEN ts % bucket_width + bucket_width
                   ELSE ts % bucket_width END
  ELSE date_part('bucket_width must be greater than 0',
                 bucket_width * interval '1 microsecond')::integer
END;

CREATE FUNCTION time_bucket(bucket_width BIGINT, ts BIGINT)
RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN bucket_width > 0
    THEN ts - CASE WHEN ts % bucket_width < 0 THEN ts % bucket_width + bucket_width
                   ELSE ts % bucket_width END
  ELSE date_part('bucket_width must be greater than 0',
                 bucket_width * interval '1 microsecond')::bigint
END;

-- With an offset, buckets start at multiples of bucket_width plus offset;
-- the offset is first reduced modulo the width, as TimescaleDB does, so
-- that only times near the type's limits overflow.  NULLIF lets a zero
-- width reach the 22023 above instead of dividing by zero.
CREATE FUNCTION time_bucket(bucket_width SMALLINT, ts SMALLINT, "offset" SMALLINT)
RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset" % nullif(bucket_width, 0))
       + "offset" % nullif(bucket_width, 0);

CREATE FUNCTION time_bucket(bucket_width INTEGER, ts INTEGER, "offset" INTEGER)
RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset" % nullif(bucket_width, 0))
       + "offset" % nullif(bucket_width, 0);

CREATE FUNCTION time_bucket(bucket_width BIGINT, ts BIGINT, "offset" BIGINT)
RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset" % nullif(bucket_width, 0))
       + "offset" % nullif(bucket_width, 0);

-- ---- first and last (TimescaleDB 2.13) --------------------------------------
--
-- first(value, time): the value at the smallest time; last: at the largest.
-- Rows with a NULL time are ignored.  See agg/first_last.c.
CREATE FUNCTION _hyperdist_functions.first_transfn(internal, anyelement, "any")
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_first_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.last_transfn(internal, anyelement, "any")
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_last_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.first_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_first_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.last_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_last_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.bookend_serializefn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'hyperdist_bookend_serializefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.bookend_deserializefn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_bookend_deserializefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.bookend_finalfn(internal, anyelement, "any")
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hyperdist_bookend_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE first(anyelement, "any") (
    SFUNC = _hyperdist_functions.first_transfn,
    STYPE = internal,
    COMBINEFUNC = _hyperdist_functions.first_combinefn,
    SERIALFUNC = _hyperdist_functions.bookend_serializefn,
    DESERIALFUNC = _hyperdist_functions.bookend_deserializefn,
    FINALFUNC = _hyperdist_functions.bookend_finalfn,
    FINALFUNC_EXTRA,
    PARALLEL = SAFE);

CREATE AGGREGATE last(anyelement, "any") (
    SFUNC = _hyperdist_functions.last_transfn,
    STYPE = internal,
    COMBINEFUNC = _hyperdist_functions.last_combinefn,
    SERIALFUNC = _hyperdist_functions.bookend_serializefn,
    DESERIALFUNC = _hyperdist_functions.bookend_deserializefn,
    FINALFUNC = _hyperdist_functions.bookend_finalfn,
    FINALFUNC_EXTRA,
    PARALLEL = SAFE);
