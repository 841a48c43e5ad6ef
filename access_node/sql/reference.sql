-- SPDX-License-Identifier: PostgreSQL
-- sql/reference.sql: reference tables (create_reference_table), their
-- copies on new data nodes, hyperdist_information.reference_tables.
--
-- A reference table stays an ordinary table here and has a full copy of
-- the same name on every data node, written in the same transaction
-- (ingest/reference.c), so that queries of distributed hypertables can
-- filter and join through it on the data nodes, and foreign keys of
-- hypertables can reference it there.  See docs/ARCHITECTURE.md,
-- "Reference tables".

-- The statements that create rel's copy on a data node: its schema, the
-- table with its columns and constraints (no index, trigger or default
-- reading another relation: the access node sends every value), its
-- owner and grants.
CREATE FUNCTION _hyperdist_functions.reference_table_ddl(rel regclass)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT format('%sCREATE TABLE %s (%s); %s%s',
                _hyperdist_functions.schemas_ddl(n.nspname),
                format('%I.%I', n.nspname, c.relname),
                _hyperdist_functions.table_elements(rel),
                CASE WHEN c.relowner <> current_user::regrole
                     THEN format('ALTER TABLE %I.%I OWNER TO %I; ', n.nspname, c.relname,
                                 pg_get_userbyid(c.relowner)) ELSE '' END,
                _hyperdist_functions.grants_ddl(c.relacl, c.relowner::regrole,
                                                format('%I.%I', n.nspname, c.relname)))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = rel
$$;

-- Every row of rel into its copies on the data nodes named, one binary
-- COPY each; the caller has locked rel against writes.
CREATE FUNCTION _hyperdist_functions.reference_table_copy_rows(rel regclass, nodes name[])
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_reference_table_copy_rows'
LANGUAGE C STRICT VOLATILE;

-- Applies each statement's changes to the copies (one trigger per event,
-- with its transition tables).
CREATE FUNCTION _hyperdist_functions.reference_table_sync() RETURNS trigger
AS 'MODULE_PATHNAME', 'hyperdist_reference_table_sync' LANGUAGE C;

CREATE FUNCTION _hyperdist_functions.catalog_add_reference_table(relation regclass)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_catalog_add_reference_table'
LANGUAGE C STRICT VOLATILE;

-- The caller may make rel a reference table: an ordinary, permanent table
-- it owns, not yet one, whose rows the copies can hold as they are.
CREATE FUNCTION _hyperdist_functions.check_may_reference(rel regclass)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t record;
  g record;
BEGIN
  SELECT c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relowner INTO t
    FROM pg_class c WHERE c.oid = rel;
  IF EXISTS (SELECT FROM _hyperdist_catalog.hypertable h WHERE h.relid = rel) THEN
    RAISE EXCEPTION 'table "%" is a distributed hypertable', t.relname
      USING ERRCODE = '42809',
            DETAIL = 'Only ordinary tables can become reference tables.';
  END IF;
  IF t.relkind <> 'r' THEN
    RAISE EXCEPTION '"%" is not an ordinary table', t.relname
      USING ERRCODE = '42809',
            DETAIL = 'Only ordinary tables can become reference tables.';
  END IF;
  IF NOT pg_has_role(t.relowner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', t.relname USING ERRCODE = '42501';
  END IF;
  IF EXISTS (SELECT FROM _hyperdist_catalog.reference_table r WHERE r.relid = rel) THEN
    RAISE EXCEPTION 'table "%" is already a reference table', t.relname USING ERRCODE = '42710';
  END IF;
  IF t.relpersistence <> 'p' THEN
    RAISE EXCEPTION '% table "%" cannot be a reference table',
      CASE t.relpersistence WHEN 't' THEN 'temporary' ELSE 'unlogged' END, t.relname
      USING ERRCODE = '0A000',
            DETAIL = CASE t.relpersistence WHEN 't'
                          THEN 'A temporary table is this session''s alone.'
                          ELSE 'A crash would empty it here but not its copies on the data nodes.' END;
  END IF;
  IF EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = rel OR i.inhparent = rel) THEN
    RAISE EXCEPTION 'table "%" takes part in inheritance', t.relname USING ERRCODE = '0A000';
  END IF;
  IF t.relrowsecurity THEN
    RAISE EXCEPTION 'table "%" has row-level security enabled', t.relname
      USING ERRCODE = '0A000',
            DETAIL = 'Every row of a reference table is copied to the data nodes.';
  END IF;
  FOR g IN SELECT c.conname, c.confrelid::regclass AS referenced
             FROM pg_constraint c
            WHERE c.conrelid = rel AND c.contype = 'f' AND c.confrelid <> rel
              AND NOT EXISTS (SELECT FROM _hyperdist_catalog.reference_table r
                               WHERE r.relid = c.confrelid) LOOP
    RAISE EXCEPTION 'table "%" has a foreign key to a table that is not a reference table', t.relname
      USING ERRCODE = '0A000',
            DETAIL = format('Foreign key "%s" references table %s, which the data nodes do not have.',
                            g.conname, g.referenced),
            HINT = format('Make %s a reference table first.', g.referenced);
  END LOOP;
END $$;

-- UPDATE and DELETE find the old rows on the data nodes by the replica
-- identity, as logical replication does: warned of now, refused then.
CREATE FUNCTION _hyperdist_functions.warn_no_replica_identity(rel regclass)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid
                  WHERE c.oid = rel
                    AND (c.relreplident = 'd' AND i.indisprimary
                         OR c.relreplident = 'i' AND i.indisreplident)) THEN
    RAISE WARNING 'reference table "%" has no replica identity', _hyperdist_functions.relname(rel)
      USING DETAIL = 'UPDATE and DELETE of its rows will be refused.',
            HINT = 'Add a primary key, or set REPLICA IDENTITY USING INDEX with ALTER TABLE.';
  END IF;
END $$;

-- Makes relation a reference table, in the caller's transaction: its
-- copies on every data node, filled with its rows, its catalog row and
-- the triggers that keep the copies.  Writers wait meanwhile.
CREATE FUNCTION create_reference_table(relation REGCLASS)
RETURNS VOID LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  nodes name[];
  qualified text;
  ev text;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'invalid argument: relation is required' USING ERRCODE = '22004';
  END IF;
  PERFORM _hyperdist_functions.check_may_reference(relation);
  SELECT coalesce(array_agg(d.node_name ORDER BY d.node_name), '{}') INTO nodes
    FROM hyperdist_information.data_nodes d;
  IF cardinality(nodes) = 0 THEN
    RAISE EXCEPTION 'no data nodes to hold reference table "%"', _hyperdist_functions.relname(relation)
      USING ERRCODE = '55000',
            DETAIL = 'A reference table has a copy on every data node.',
            HINT = 'Add data nodes to the database.';
  END IF;
  -- the caller writes every copy, in its own sessions
  nodes := _hyperdist_functions.check_data_nodes(nodes);
  PERFORM _hyperdist_functions.warn_no_replica_identity(relation);
  SELECT format('%I.%I', n.nspname, c.relname) INTO qualified
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = relation;
  EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', qualified);

  CALL _hyperdist_functions.exec_on_data_nodes(
         _hyperdist_functions.reference_table_ddl(relation), nodes);
  PERFORM _hyperdist_functions.catalog_add_reference_table(relation);
  FOREACH ev IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION _hyperdist_functions.reference_table_sync()',
                   'hyperdist_reference_' || ev, upper(ev), qualified,
                   CASE ev WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                           WHEN 'update' THEN 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
                           ELSE 'OLD TABLE AS old_rows' END);
  END LOOP;
  EXECUTE format('CREATE TRIGGER hyperdist_reference_truncate AFTER TRUNCATE ON %s'
                 ' FOR EACH STATEMENT EXECUTE FUNCTION _hyperdist_functions.reference_table_sync()',
                 qualified);
  PERFORM _hyperdist_functions.reference_table_copy_rows(relation, nodes);
END $$;

-- add_data_node (api/node_admin.c): every reference table on the new data
-- node, created and filled in its transaction; a table referencing
-- another by a foreign key after it.
CREATE FUNCTION _hyperdist_functions.add_reference_tables(node name)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rel regclass;
BEGIN
  FOR rel IN WITH RECURSIVE dep(relid, depth) AS (
               SELECT r.relid, 0 FROM _hyperdist_catalog.reference_table r
                WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = r.relid)
               UNION ALL
               SELECT c.conrelid, d.depth + 1
                 FROM dep d
                 JOIN pg_constraint c ON c.confrelid = d.relid AND c.contype = 'f'
                                     AND c.conrelid <> c.confrelid
                 JOIN _hyperdist_catalog.reference_table r ON r.relid = c.conrelid
                WHERE d.depth < 100)
             SELECT relid::regclass FROM dep GROUP BY relid ORDER BY max(depth), relid LOOP
    EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', rel);
    CALL _hyperdist_functions.exec_on_data_nodes(
           _hyperdist_functions.reference_table_ddl(rel), ARRAY[node]);
    PERFORM _hyperdist_functions.reference_table_copy_rows(rel, ARRAY[node]);
  END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION _hyperdist_functions.add_reference_tables(name) FROM PUBLIC;

CREATE VIEW hyperdist_information.reference_tables AS
SELECT n.nspname AS schema_name, c.relname AS table_name,
       pg_get_userbyid(c.relowner) AS owner,
       ARRAY(SELECT d.node_name FROM hyperdist_information.data_nodes d
              ORDER BY d.node_name) AS data_nodes
  FROM _hyperdist_catalog.reference_table r
  JOIN pg_catalog.pg_class c ON c.oid = r.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
GRANT SELECT ON hyperdist_information.reference_tables TO PUBLIC;
