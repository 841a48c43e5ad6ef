-- SPDX-License-Identifier: PostgreSQL
-- sql/chunks.sql: show_chunks, drop_chunks and the chunks' relations on the access node.

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

-- Called with the chunk's catalog rows, which placement/chunk_create.c writes
-- as the catalog's owner whichever role inserts; not for anyone else.
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

-- The name of a time slice's table on the data nodes, as chunk creation
-- makes it (metadata/naming.c).
CREATE FUNCTION _hyperdist_functions.slice_table_name(prefix name, ht int, slice int)
RETURNS text AS 'MODULE_PATHNAME', 'hyperdist_slice_table_name'
LANGUAGE C STRICT IMMUTABLE;

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
  PERFORM _hyperdist_functions.lock_dropped_chunks(rel, dropped);
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
                             _hyperdist_functions.slice_table_name(h.associated_table_prefix, ht, e)), ', ')
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
