-- SPDX-License-Identifier: PostgreSQL
-- sql/hypertables.sql: create_distributed_hypertable, create_hypertable and the set_* functions.

-- Column, constraint, index and trigger definitions of a table, as
-- statements a data node can run: kind 'column' (DN form: defaults that
-- need other relations, such as sequences, identities and generation
-- expressions are left to the access node, which always sends every
-- column, so a data node never computes a second value), 'constraint'
-- (CHECK, UNIQUE, PRIMARY KEY, EXCLUDE, and FOREIGN KEY, which each data
-- node enforces against its own copy of the referenced table), 'index'
-- (indexes that back no constraint), 'trigger' (CREATE TRIGGER, then its
-- DISABLE if disabled; on a data node's root table these are the
-- hypertable's row triggers).  an_def is the column's definition on the
-- access node's foreign table, identity (with its sequence's name and
-- options) and generation expression included; of constraints, CHECK
-- only.
CREATE FUNCTION _hyperdist_functions.table_definition_sql()
RETURNS text LANGUAGE sql IMMUTABLE AS $q$ SELECT $sql$  SELECT 'column',
         format('%I %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attcollation <> t.typcollation
                     THEN ' COLLATE ' || a.attcollation::regcollation::text END,
                CASE WHEN d.oid IS NOT NULL AND a.attgenerated = '' AND NOT EXISTS (
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
                CASE WHEN a.attgenerated = 's'
                     THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                     WHEN a.attidentity <> ''
                     THEN format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %s INCREMENT BY %s'
                                 ' MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s)',
                                 CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                                 s.seqrelid::regclass,
                                 s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,
                                 CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END)
                     ELSE ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END,
                CASE WHEN a.attnotnull THEN ' NOT NULL' END),
         a.attnum::int
    FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_depend sd ON a.attidentity <> '' AND sd.classid = 'pg_class'::regclass
                          AND sd.refclassid = 'pg_class'::regclass AND sd.refobjid = a.attrelid
                          AND sd.refobjsubid = a.attnum AND sd.deptype = 'i'
    LEFT JOIN pg_sequence s ON s.seqrelid = sd.objid
   WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint', format('CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)),
         CASE WHEN c.contype = 'c'
              THEN format('CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) END,
         0
    FROM pg_constraint c
   WHERE c.conrelid = $1 AND c.contype IN ('c', 'u', 'p', 'x', 'f')
  UNION ALL
  SELECT 'index', replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '), NULL,
         i.indexrelid::int
    FROM pg_index i
   WHERE i.indrelid = $1
     AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                                 AND c.conrelid = $1)
  UNION ALL
  SELECT 'trigger',
         pg_get_triggerdef(g.oid)
         || CASE WHEN g.tgenabled = 'D'
                 THEN format('; ALTER TABLE %I.%I DISABLE TRIGGER %I',
                             n.nspname, c.relname, g.tgname) ELSE '' END,
         NULL, g.oid::int
    FROM pg_trigger g
    JOIN pg_class c ON c.oid = g.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE g.tgrelid = $1 AND NOT g.tgisinternal
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

-- Data nodes named in a call, checked; NULL: every data node the caller
-- may use, with 2.13's NOTICE when it may not use them all.
CREATE FUNCTION _hyperdist_functions.check_data_nodes(nodes name[])
RETURNS name[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n name;
  result name[] := '{}';
  total int;
BEGIN
  IF nodes IS NULL THEN
    SELECT coalesce(array_agg(node_name ORDER BY node_name)
                      FILTER (WHERE has_server_privilege(node_name, 'USAGE')), '{}'),
           count(*)
      INTO result, total
      FROM hyperdist_information.data_nodes;
    IF cardinality(result) < total THEN
      RAISE NOTICE '% of % data nodes not used by this hypertable due to lack of permissions',
                   total - cardinality(result), total
        USING HINT = 'Grant USAGE on data nodes to attach them to a hypertable.';
    END IF;
    IF cardinality(result) = 0 THEN
      RAISE EXCEPTION 'no data nodes can be assigned to the hypertable'
        USING ERRCODE = '55000',
              DETAIL = CASE WHEN total = 0
                            THEN 'No data nodes were available to assign to the hypertable.'
                            ELSE 'Data nodes exist, but none have USAGE privilege.' END,
              HINT = CASE WHEN total = 0 THEN 'Add data nodes to the database.'
                          ELSE 'Grant USAGE on data nodes to attach them to the hypertable.' END;
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

-- The GRANT statements giving on rel what acl grants to others than owner.
CREATE FUNCTION _hyperdist_functions.grants_ddl(acl aclitem[], owner regrole, rel text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(string_agg(
           format('GRANT %s ON %s TO %s%s; ', a.privilege_type, rel,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), ''), '')
    FROM aclexplode(acl) a WHERE a.grantee <> owner
$$;

-- Grants on rel what acl grants to others than owner.
CREATE FUNCTION _hyperdist_functions.grant_acl(acl aclitem[], owner regrole, rel text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ddl text := _hyperdist_functions.grants_ddl(acl, owner, rel);
BEGIN
  IF ddl <> '' THEN
    EXECUTE ddl;
  END IF;
END $$;

-- A table's columns and constraints in a data node's form, for its
-- CREATE TABLE there (table_definition).
CREATE FUNCTION _hyperdist_functions.table_elements(rel regclass)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(def, ', ' ORDER BY kind, ord)
    FROM _hyperdist_functions.table_definition(rel)
   WHERE kind IN ('column', 'constraint')
$$;

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
                _hyperdist_functions.table_elements(rel),
                time_column,
                (SELECT string_agg(def || '; ', '' ORDER BY ord)
                   FROM _hyperdist_functions.table_definition(rel)
                  WHERE kind = 'index'),
                _hyperdist_functions.owner_ddl(qualified, assoc_schema, owner))
$$;

-- ---- create_distributed_hypertable, step by step --------------------------

-- The caller may make rel a distributed hypertable: an ordinary table whose
-- owner role it has, without custom partitioning or adaptive chunking (the
-- other arguments, create_distributed_hypertable's).
CREATE FUNCTION _hyperdist_functions.check_may_distribute(
    rel regclass, partitioning_func regproc, time_partitioning_func regproc,
    chunk_sizing_func regproc, chunk_target_size text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t record;
BEGIN
  SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner INTO t
    FROM pg_class c WHERE c.oid = rel;
  IF t.relkind <> 'r' THEN
    RAISE EXCEPTION '"%" is not an ordinary table', t.relname
      USING ERRCODE = '42809',
            DETAIL = 'Only ordinary tables can become distributed hypertables.';
  END IF;
  IF NOT pg_has_role(t.owner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', t.relname USING ERRCODE = '42501';
  END IF;
  IF partitioning_func IS NOT NULL OR time_partitioning_func IS NOT NULL
     OR chunk_sizing_func IS NOT NULL OR chunk_target_size IS NOT NULL THEN
    RAISE EXCEPTION 'custom partitioning and adaptive chunking are not supported on distributed hypertables'
      USING ERRCODE = '0A000';
  END IF;
END $$;

-- The column col of rel that a dimension partitions by.
CREATE FUNCTION _hyperdist_functions.dimension_column(
    rel regclass, col name, OUT attnum int2, OUT typ regtype)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  SELECT a.attnum, a.atttypid::regtype INTO attnum, typ
    FROM pg_attribute a
   WHERE a.attrelid = rel AND a.attname = col AND NOT a.attisdropped AND a.attnum > 0;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" does not exist', col USING ERRCODE = '42703';
  END IF;
END $$;

-- The time dimension's column: an integer, timestamp, timestamptz or date.
CREATE FUNCTION _hyperdist_functions.time_dimension(
    rel regclass, col name, OUT attnum int2, OUT typ regtype)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  d record := _hyperdist_functions.dimension_column(rel, col);
BEGIN
  attnum := d.attnum;
  typ := d.typ;
  IF typ NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
    RAISE EXCEPTION 'invalid type for dimension "%"', col
      USING ERRCODE = '42804',
            HINT = 'Use an integer, timestamp, timestamptz or date column.';
  END IF;
END $$;

-- The space dimension's column: not the time column, of a type with a
-- default hash operator class.
CREATE FUNCTION _hyperdist_functions.space_dimension(
    rel regclass, col name, time_attnum int2, OUT attnum int2, OUT typ regtype)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  d record := _hyperdist_functions.dimension_column(rel, col);
BEGIN
  attnum := d.attnum;
  typ := d.typ;
  IF attnum = time_attnum THEN
    RAISE EXCEPTION 'the partitioning column must differ from the time column'
      USING ERRCODE = '22023';
  END IF;
  IF NOT _hyperdist_functions.type_is_hashable(typ) THEN
    RAISE EXCEPTION 'invalid type for dimension "%"', col
      USING ERRCODE = '42804',
            DETAIL = format('Type %s has no default hash operator class.', typ);
  END IF;
END $$;

-- A new hypertable's replication factor, with nnodes data nodes.
CREATE FUNCTION _hyperdist_functions.check_replication_factor(rel regclass, rf int, nnodes int)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF rf < 1 THEN
    RAISE EXCEPTION 'invalid replication factor %', rf
      USING ERRCODE = '22023', HINT = 'A replication factor is at least 1.';
  END IF;
  IF rf > nnodes THEN
    RAISE EXCEPTION 'replication factor too large for hypertable "%"', _hyperdist_functions.relname(rel)
      USING ERRCODE = '22023',
            DETAIL = format('The hypertable has %s data nodes, but the replication factor is %s.',
                            nnodes, rf),
            HINT = 'Decrease the replication factor or add data nodes.';
  END IF;
END $$;

-- A number of partitions of the space column: 1 to 32767, and, as in
-- TimescaleDB 2.13, a WARNING when fewer than the data nodes (some of them
-- would then hold none of the hypertable's new chunks).
CREATE FUNCTION _hyperdist_functions.check_partitions(nparts int, nnodes int, space_column name)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF nparts IS NULL OR nparts < 1 OR nparts > 32767 THEN
    RAISE EXCEPTION 'invalid number of partitions: %', nparts
      USING ERRCODE = '22023', HINT = 'A number of partitions is between 1 and 32767.';
  END IF;
  IF nparts < nnodes THEN
    RAISE WARNING 'insufficient number of partitions for dimension "%"', space_column
      USING DETAIL = 'There are not enough partitions to make use of all data nodes.',
            HINT = format('Increase the number of partitions in dimension "%s" to match or exceed the number of attached data nodes.',
                          space_column);
  END IF;
END $$;

-- The WARNING that a foreign key of a distributed hypertable is enforced
-- by each data node against its own table (ddl/utility.c).
CREATE FUNCTION _hyperdist_functions.warn_foreign_key(tab name, conname name, referenced text)
RETURNS void AS 'MODULE_PATHNAME', 'hyperdist_warn_foreign_key'
LANGUAGE C STRICT;

-- What a data node cannot reproduce, or a foreign table cannot be.
-- Foreign keys from the table are kept for the data nodes, with a WARNING.
CREATE FUNCTION _hyperdist_functions.check_table_features(rel regclass)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  tab name := _hyperdist_functions.relname(rel);
  g record;
BEGIN
  FOR g IN SELECT c.conname, c.conrelid::regclass AS referencing
             FROM pg_constraint c WHERE c.confrelid = rel AND c.contype = 'f' LOOP
    RAISE EXCEPTION 'foreign keys to hypertables are not supported'
      USING ERRCODE = '0A000',
            DETAIL = format('Foreign key "%s" of table %s references table "%s".',
                            g.conname, g.referencing, tab);
  END LOOP;
  IF EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = rel OR i.inhparent = rel) THEN
    RAISE EXCEPTION 'table "%" takes part in inheritance', tab USING ERRCODE = '0A000';
  END IF;
  FOR g IN SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS obj
             FROM pg_depend d
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = rel
              AND d.deptype = 'n'
              AND NOT (d.classid = 'pg_class'::regclass AND d.objid = rel)
              -- the table's own constraints, defaults and statistics go with it
              AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (
                         SELECT FROM pg_constraint c WHERE c.oid = d.objid AND c.conrelid = rel))
              AND d.classid NOT IN ('pg_attrdef'::regclass, 'pg_statistic_ext'::regclass) LOOP
    RAISE EXCEPTION 'cannot make table "%" a distributed hypertable because other objects depend on it', tab
      USING ERRCODE = '2BP01', DETAIL = format('%s depends on table %s.', g.obj, tab),
            HINT = 'Drop the dependent objects first, and recreate them afterwards.';
  END LOOP;
  IF EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = rel AND NOT t.tgisinternal
                                       AND t.tgenabled IN ('A', 'R')) THEN
    RAISE EXCEPTION 'triggers enabled ALWAYS or REPLICA are not supported on distributed hypertables'
      USING ERRCODE = '0A000',
            DETAIL = 'A copy of a chunk to another data node writes its rows as a replica, where such a trigger would fire for rows that are not new.';
  END IF;
  -- a reference table has its copies on the data nodes
  FOR g IN SELECT c.conname, c.confrelid::regclass AS referenced
             FROM pg_constraint c WHERE c.conrelid = rel AND c.contype = 'f'
              AND NOT EXISTS (SELECT FROM _hyperdist_catalog.reference_table r
                               WHERE r.relid = c.confrelid) LOOP
    PERFORM _hyperdist_functions.warn_foreign_key(tab, g.conname, g.referenced::text);
  END LOOP;
END $$;

-- TimescaleDB's rules: the time column is NOT NULL, unique indexes include
-- every partitioning column, and default indexes exist.
CREATE FUNCTION _hyperdist_functions.prepare_table(
    rel regclass, qualified text, time_column name, time_attnum int2,
    space_column name, space_attnum int2, default_indexes boolean)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  g record;
BEGIN
  IF NOT (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum = time_attnum) THEN
    RAISE NOTICE 'adding not-null constraint to column "%"', time_column
      USING DETAIL = 'Time dimensions cannot have NULL values.';
  END IF;
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', qualified, time_column);
  FOR g IN SELECT i.indexrelid::regclass AS idx,
                  CASE WHEN NOT time_attnum = ANY (i.indkey::int2[]) THEN time_column
                       ELSE space_column END AS missing
             FROM pg_index i
            WHERE i.indrelid = rel AND i.indisunique
              AND (NOT time_attnum = ANY (i.indkey::int2[])
                   OR NOT space_attnum = ANY (i.indkey::int2[])) LOOP
    RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', g.missing
      USING ERRCODE = '42P16', DETAIL = format('Index %s does not include it.', g.idx);
  END LOOP;
  IF default_indexes THEN
    IF NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = rel
                                            AND i.indkey[0] = time_attnum) THEN
      EXECUTE format('CREATE INDEX ON %s (%I DESC)', qualified, time_column);
    END IF;
    IF space_column IS NOT NULL AND NOT EXISTS (
         SELECT FROM pg_index i WHERE i.indrelid = rel
                                  AND i.indkey[0] = space_attnum
                                  AND i.indkey[1] = time_attnum) THEN
      EXECUTE format('CREATE INDEX ON %s (%I, %I DESC)', qualified, space_column, time_column);
    END IF;
  END IF;
END $$;

-- Replaces rel (qualified) by a foreign table of the same name and columns.
-- The sequences its columns own are freed first (they would go with it),
-- for the caller to give them back; with migrate rel is kept, renamed to
-- tmp_name, for its rows to be moved (migrate_rows).  An identity column's
-- sequence cannot be freed: the foreign table's gets its name and options
-- (table_definition), and goes on from where it was.
CREATE FUNCTION _hyperdist_functions.replace_by_foreign_table(
    rel regclass, qualified text, migrate boolean,
    OUT tmp_name name, OUT seqs text[], OUT seq_cols name[])
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  an_cols text;
  seq record;
  ident_seqs text[];
  ident_values bigint[];
  seq_old text;
BEGIN
  seqs := '{}';
  seq_cols := '{}';
  SELECT string_agg(an_def, ', ' ORDER BY kind, ord) INTO an_cols
    FROM _hyperdist_functions.table_definition(rel) WHERE an_def IS NOT NULL;
  -- the identity sequences' names, as text: the relations go with rel
  SELECT coalesce(array_agg(d.objid::regclass::text), '{}'),
         coalesce(array_agg(pg_sequence_last_value(d.objid::regclass)), '{}')
    INTO ident_seqs, ident_values
    FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
     AND d.refobjid = rel AND d.deptype = 'i';
  FOR seq IN SELECT d.objid::regclass AS s, a.attname
               FROM pg_depend d JOIN pg_attribute a
                 ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.refobjid = rel
                AND d.deptype = 'a'
                AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S' LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNED BY NONE', seq.s);
    seqs := seqs || seq.s::text;
    seq_cols := seq_cols || seq.attname;
  END LOOP;
  IF migrate THEN
    tmp_name := left('_hd_migrate_' || _hyperdist_functions.relname(rel), 63);
    EXECUTE format('ALTER TABLE %s RENAME TO %I', qualified, tmp_name);
    FOREACH seq_old IN ARRAY ident_seqs LOOP
      EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', seq_old,
                     left('_hd_migrate_' || _hyperdist_functions.relname(seq_old::regclass), 63));
    END LOOP;
  ELSE
    EXECUTE format('DROP TABLE %s', qualified);
  END IF;
  EXECUTE format('CREATE FOREIGN TABLE %s (%s) SERVER hyperdist_hypertables', qualified, an_cols);
  FOR i IN 1 .. cardinality(ident_seqs) LOOP
    IF ident_values[i] IS NOT NULL THEN
      PERFORM setval(ident_seqs[i]::regclass, ident_values[i]);
    END IF;
  END LOOP;
END $$;

-- Moves the rows of the table source (create_distributed_hypertable's
-- migrate_data) into the distributed hypertable target, and drops source:
-- identity values as they are, generated columns computed again.
CREATE FUNCTION _hyperdist_functions.migrate_rows(target text, source text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cols text := (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                  FROM pg_attribute a
                 WHERE a.attrelid = target::regclass AND a.attnum > 0
                   AND NOT a.attisdropped AND a.attgenerated = '');
BEGIN
  EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %2$s FROM %s',
                 target, cols, source);
  EXECUTE format('DROP TABLE %s', source);
END $$;

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
  owner name;
  owner_id regrole;
  acl aclitem[];
  time_att record;
  space_att record;
  space_attnum int2;
  nodes name[];
  rf int := coalesce(replication_factor, 1);
  nparts int;
  ival bigint;
  nonempty boolean;
  index_names name[];
  triggers text[];
  trg text;
  replaced record;
  ht int;
BEGIN
  IF relation IS NULL OR time_column_name IS NULL THEN
    RAISE EXCEPTION 'invalid argument: relation and time_column_name are required'
      USING ERRCODE = '22004';
  END IF;
  SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner), c.relowner, c.relacl
    INTO nsp, rel, owner, owner_id, acl
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
  PERFORM _hyperdist_functions.check_may_distribute(relation, partitioning_func, time_partitioning_func,
                                                    chunk_sizing_func, chunk_target_size);
  time_att := _hyperdist_functions.time_dimension(relation, time_column_name);
  IF partitioning_column IS NOT NULL THEN
    space_att := _hyperdist_functions.space_dimension(relation, partitioning_column,
                                                      time_att.attnum);
    space_attnum := space_att.attnum;
  ELSIF number_partitions IS NOT NULL THEN
    RAISE EXCEPTION 'number_partitions needs a partitioning_column' USING ERRCODE = '22023';
  END IF;

  nodes := _hyperdist_functions.check_data_nodes(data_nodes);
  PERFORM _hyperdist_functions.check_replication_factor(relation, rf, cardinality(nodes));
  IF partitioning_column IS NOT NULL THEN
    nparts := coalesce(number_partitions, cardinality(nodes));
    PERFORM _hyperdist_functions.check_partitions(nparts, cardinality(nodes), partitioning_column);
  END IF;
  ival := _hyperdist_functions.interval_to_internal(time_att.typ, chunk_time_interval);
  PERFORM _hyperdist_functions.check_table_features(relation);
  EXECUTE format('SELECT EXISTS (SELECT FROM %s)', qualified) INTO nonempty;
  IF nonempty AND NOT migrate_data THEN
    RAISE EXCEPTION 'table "%" is not empty', rel
      USING ERRCODE = '55000',
            HINT = 'You can migrate data by specifying migrate_data => true when calling this function.';
  END IF;

  PERFORM _hyperdist_functions.prepare_table(relation, qualified, time_column_name, time_att.attnum,
                                             partitioning_column, space_attnum,
                                             create_default_indexes);
  associated_schema_name := coalesce(associated_schema_name, '_hyperdist_internal');
  associated_table_prefix := coalesce(associated_table_prefix, '_dist_hyper');
  -- the chunks' relations here go to the associated schema, which the
  -- owner must be able to create tables in (as in TimescaleDB)
  IF associated_schema_name <> '_hyperdist_internal'
     AND NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = associated_schema_name) THEN
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', associated_schema_name, owner);
  END IF;

  -- the data nodes' root tables, in this transaction
  CALL _hyperdist_functions.exec_on_data_nodes(
         _hyperdist_functions.root_table_ddl(relation, qualified, time_column_name,
                                             associated_schema_name, owner),
         nodes);

  index_names := ARRAY(SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                        WHERE i.indrelid = relation);
  triggers := ARRAY(SELECT t.def FROM _hyperdist_functions.table_definition(relation) t
                     WHERE t.kind = 'trigger' ORDER BY t.ord);
  replaced := _hyperdist_functions.replace_by_foreign_table(relation, qualified, nonempty);
  ht := _hyperdist_functions.catalog_add_hypertable(
          qualified::regclass, time_column_name, partitioning_column, nparts, ival,
          associated_schema_name, associated_table_prefix, rf, nodes, index_names);
  PERFORM _hyperdist_functions.sync_constraint_mirrors(qualified::regclass);
  -- the catalog is complete: from here on DDL on the table is distributed
  IF owner <> current_user THEN
    EXECUTE format('ALTER TABLE %s OWNER TO %I', qualified, owner);
  END IF;
  PERFORM _hyperdist_functions.grant_acl(acl, owner_id, qualified);
  FOR i IN 1 .. cardinality(replaced.seqs) LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', replaced.seqs[i], qualified,
                   replaced.seq_cols[i]);
  END LOOP;
  IF replaced.tmp_name IS NOT NULL THEN
    PERFORM _hyperdist_functions.migrate_rows(qualified, format('%I.%I', nsp, replaced.tmp_name));
  END IF;
  -- the table's triggers again, now distributed (row triggers to the data
  -- nodes): after the migrated rows, which are not new
  FOREACH trg IN ARRAY triggers LOOP
    EXECUTE trg;
  END LOOP;

  RETURN QUERY SELECT ht, nsp, rel, true;
END
$fn$;

-- TimescaleDB 2.13's create_hypertable with its multi-node arguments: a
-- distributed hypertable when distributed is true, or when it is not given
-- and replication_factor is, or hyperdist.hypertable_distributed_default
-- says 'distributed'.  hyperdist has no local hypertables: what would be
-- one is refused.
CREATE FUNCTION create_hypertable(
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
    data_nodes NAME[] = NULL,
    distributed BOOLEAN = NULL)
RETURNS TABLE(hypertable_id INT, schema_name NAME, table_name NAME, created BOOL)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF NOT coalesce(distributed, replication_factor IS NOT NULL
                  OR current_setting('hyperdist.hypertable_distributed_default') = 'distributed') THEN
    RAISE EXCEPTION 'hyperdist has no local hypertables'
      USING ERRCODE = '0A000',
            DETAIL = 'create_hypertable makes a distributed hypertable only with distributed => true or a replication_factor.',
            HINT = 'Give replication_factor, or set hyperdist.hypertable_distributed_default to ''distributed''.';
  END IF;
  RETURN QUERY
    SELECT * FROM @extschema@.create_distributed_hypertable(
      relation, time_column_name, partitioning_column, number_partitions,
      associated_schema_name, associated_table_prefix, chunk_time_interval,
      create_default_indexes, if_not_exists, partitioning_func, migrate_data,
      chunk_target_size, chunk_sizing_func, time_partitioning_func,
      replication_factor, data_nodes);
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

-- TimescaleDB 2.13's set_integer_now_func: the function that gives "now"
-- in an integer time column's unit, for retention policies.
CREATE FUNCTION set_integer_now_func(
    hypertable REGCLASS, integer_now_func REGPROC, replace_if_exists BOOLEAN = false)
RETURNS VOID LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF hypertable IS NULL OR integer_now_func IS NULL THEN
    RAISE EXCEPTION 'invalid argument: hypertable and integer_now_func are required'
      USING ERRCODE = '22004';
  END IF;
  PERFORM _hyperdist_functions.catalog_set_integer_now_func(
            hypertable, integer_now_func, coalesce(replace_if_exists, false));
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
  PERFORM _hyperdist_functions.check_partitions(
            number_partitions,
            (SELECT count(*)::int FROM _hyperdist_catalog.hypertable_data_node n
              WHERE n.hypertable_id = ht),
            d.attname);
  PERFORM _hyperdist_functions.catalog_set_number_partitions(hypertable, number_partitions);
END $$;

-- ---- add_dimension ------------------------------------------------------------
-- TimescaleDB 2.13's add_dimension, in both its forms.  A hypertable here
-- has one time dimension and at most one space dimension (the data nodes'
-- root table is partitioned by range on time, each time slice by hash on
-- the space column), so only a space dimension can be added, and only
-- while the hypertable has no chunk: existing slices were made without it.

-- What by_hash and by_range return, for add_dimension.
CREATE TYPE _hyperdist_functions.dimension_info AS (
    column_name name,
    number_partitions int,
    has_interval boolean,
    partition_func regproc);

CREATE FUNCTION by_hash(column_name NAME, number_partitions INTEGER,
                        partition_func REGPROC = NULL)
RETURNS _hyperdist_functions.dimension_info LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW($1, $2, false, $3)::_hyperdist_functions.dimension_info $$;

CREATE FUNCTION by_range(column_name NAME, partition_interval ANYELEMENT = NULL::bigint,
                         partition_func REGPROC = NULL)
RETURNS _hyperdist_functions.dimension_info LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW($1, NULL, true, $3)::_hyperdist_functions.dimension_info $$;

-- The unique and exclusion indexes of the hypertable's root table on
-- node that lack column col (which would become a partitioning column).
CREATE FUNCTION _hyperdist_functions.indexes_without(node name, qualified text, col name)
RETURNS SETOF text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT idx FROM _hyperdist_functions.data_node_query(node, format(
    'SELECT i.indexrelid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_index i'
    ' WHERE i.indrelid = %L::pg_catalog.regclass AND (i.indisunique OR i.indisexclusion)'
    '   AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indrelid'
    '                     AND a.attnum = ANY (i.indkey::pg_catalog.int2[]) AND a.attname = %L)'
    ' ORDER BY 1', qualified, col)) AS t(idx text)
$$;

-- Both forms: nparts for a space dimension, ranged for a time dimension.
CREATE FUNCTION _hyperdist_functions.add_dimension(
    hypertable regclass, col name, nparts int, ranged boolean, partfunc regproc,
    if_not_exists boolean)
RETURNS TABLE(dimension_id int, created boolean) LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ht int;
  att record;
  source name;
  idx text;
BEGIN
  IF hypertable IS NULL THEN
    RAISE EXCEPTION 'hypertable cannot be NULL' USING ERRCODE = '22023';
  END IF;
  IF nparts IS NULL AND NOT ranged THEN
    RAISE EXCEPTION 'must specify either the number of partitions or an interval'
      USING ERRCODE = '22023';
  END IF;
  ht := _hyperdist_functions.hypertable_id(hypertable);
  IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = hypertable), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of hypertable "%"', _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '42501';
  END IF;
  IF nparts IS NOT NULL AND ranged THEN
    RAISE EXCEPTION 'cannot specify both the number of partitions and an interval'
      USING ERRCODE = '22023';
  END IF;
  att := _hyperdist_functions.dimension_column(hypertable, col);
  SELECT d.id INTO dimension_id FROM _hyperdist_catalog.dimension d
   WHERE d.hypertable_id = ht AND d.attnum = att.attnum;
  IF FOUND THEN
    IF NOT if_not_exists THEN
      RAISE EXCEPTION 'column "%" is already a dimension', col USING ERRCODE = '42710';
    END IF;
    RAISE NOTICE 'column "%" is already a dimension, skipping', col;
    created := false;
    RETURN NEXT;
    RETURN;
  END IF;
  IF ranged THEN
    RAISE EXCEPTION 'cannot add a time dimension to distributed hypertable "%"', _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '0A000',
            DETAIL = 'A distributed hypertable has one time dimension and at most one space dimension.';
  END IF;
  IF partfunc IS NOT NULL THEN
    RAISE EXCEPTION 'custom partitioning and adaptive chunking are not supported on distributed hypertables'
      USING ERRCODE = '0A000';
  END IF;
  IF nparts < 1 OR nparts > 32767 THEN
    RAISE EXCEPTION 'invalid number of partitions for dimension "%"', col
      USING ERRCODE = '22023',
            HINT = 'A closed (space) dimension must specify between 1 and 32767 partitions.';
  END IF;
  IF EXISTS (SELECT FROM _hyperdist_catalog.dimension d
              WHERE d.hypertable_id = ht AND d.num_partitions IS NOT NULL) THEN
    RAISE EXCEPTION 'cannot add a second space dimension to distributed hypertable "%"', _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '0A000',
            DETAIL = 'A distributed hypertable has one time dimension and at most one space dimension.';
  END IF;
  PERFORM _hyperdist_functions.space_dimension(hypertable, col, 0::int2);
  -- no chunk is created meanwhile
  PERFORM _hyperdist_functions.lock_chunks(hypertable);
  IF EXISTS (SELECT FROM _hyperdist_catalog.chunk c WHERE c.hypertable_id = ht) THEN
    RAISE EXCEPTION 'hypertable "%" has data or empty chunks', _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '0A000',
            DETAIL = 'It is not possible to add dimensions to a hypertable that has chunks. Please truncate the table.';
  END IF;
  -- unique indexes include every partitioning column (the data nodes'
  -- slices could not be made otherwise); every member has the same ones
  SELECT min(n.node_name) INTO source FROM _hyperdist_catalog.hypertable_data_node n
   WHERE n.hypertable_id = ht;
  IF source IS NOT NULL THEN
    SELECT i INTO idx FROM _hyperdist_functions.indexes_without(
             source, hypertable::text, col) i LIMIT 1;
    IF idx IS NOT NULL THEN
      RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', col
        USING ERRCODE = '42P16', DETAIL = format('Index %s does not include it.', idx);
    END IF;
  END IF;
  dimension_id := _hyperdist_functions.catalog_add_space_dimension(hypertable, col, nparts);
  PERFORM _hyperdist_functions.check_partitions(
            nparts,
            (SELECT count(*)::int FROM _hyperdist_catalog.hypertable_data_node n
              WHERE n.hypertable_id = ht),
            col);
  created := true;
  RETURN NEXT;
END $$;

-- SQL wrappers: PL/pgSQL cannot have an argument and a result column of
-- the same name (column_name).
CREATE FUNCTION add_dimension(
    hypertable REGCLASS,
    column_name NAME,
    number_partitions INTEGER = NULL,
    chunk_time_interval ANYELEMENT = NULL::BIGINT,
    partitioning_func REGPROC = NULL,
    if_not_exists BOOLEAN = FALSE)
RETURNS TABLE(dimension_id INT, schema_name NAME, table_name NAME, column_name NAME, created BOOL)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT d.dimension_id,
         (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.oid = $1),
         _hyperdist_functions.relname($1), $2, d.created
    FROM _hyperdist_functions.add_dimension($1, $2, $3, $4 IS NOT NULL, $5,
                                            coalesce($6, false)) d
$$;

CREATE FUNCTION add_dimension(
    hypertable REGCLASS,
    dimension _hyperdist_functions.dimension_info,
    if_not_exists BOOLEAN = FALSE)
RETURNS TABLE(dimension_id INT, created BOOL)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT * FROM _hyperdist_functions.add_dimension(
    $1, ($2).column_name, ($2).number_partitions, coalesce(($2).has_interval, false),
    ($2).partition_func, coalesce($3, false))
$$;

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

-- ---- the tablespace API --------------------------------------------------------
-- TimescaleDB 2.13's attach_tablespace refused distributed hypertables,
-- and every hypertable here is one: attaching is refused, so none ever
-- has a tablespace, and the other three say so.  Their chunks live in the
-- data nodes' default tablespaces.

-- Checks a call's tablespace (which must exist) and hypertable (when given).
CREATE FUNCTION _hyperdist_functions.check_tablespace_call(tablespace name, hypertable regclass)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF tablespace IS NULL THEN
    RAISE EXCEPTION 'invalid tablespace name' USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_tablespace t WHERE t.spcname = tablespace) THEN
    RAISE EXCEPTION 'tablespace "%" does not exist', tablespace USING ERRCODE = '42704';
  END IF;
  IF hypertable IS NOT NULL THEN
    PERFORM _hyperdist_functions.hypertable_id(hypertable);
  END IF;
END $$;

CREATE FUNCTION attach_tablespace(
    tablespace NAME, hypertable REGCLASS, if_not_attached BOOLEAN = false)
RETURNS VOID LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF hypertable IS NULL THEN
    RAISE EXCEPTION 'invalid hypertable: NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM _hyperdist_functions.check_tablespace_call(tablespace, hypertable);
  RAISE EXCEPTION 'cannot attach tablespace to distributed hypertable'
    USING ERRCODE = '0A000',
          DETAIL = 'The chunks of a distributed hypertable are on its data nodes, in their default tablespace.';
END $$;

CREATE FUNCTION detach_tablespace(
    tablespace NAME, hypertable REGCLASS = NULL, if_attached BOOLEAN = false)
RETURNS INTEGER LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM _hyperdist_functions.check_tablespace_call(tablespace, hypertable);
  IF hypertable IS NULL THEN
    RETURN 0;
  END IF;
  IF coalesce(if_attached, false) THEN
    RAISE NOTICE 'tablespace "%" is not attached to hypertable "%", skipping',
      tablespace, _hyperdist_functions.relname(hypertable);
    RETURN 0;
  END IF;
  RAISE EXCEPTION 'tablespace "%" is not attached to hypertable "%"',
    tablespace, _hyperdist_functions.relname(hypertable) USING ERRCODE = '42704';
END $$;

CREATE FUNCTION detach_tablespaces(hypertable REGCLASS)
RETURNS INTEGER LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM _hyperdist_functions.hypertable_id(hypertable);
  RETURN 0;
END $$;

CREATE FUNCTION show_tablespaces(hypertable REGCLASS)
RETURNS SETOF NAME LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM _hyperdist_functions.hypertable_id(hypertable);
END $$;
