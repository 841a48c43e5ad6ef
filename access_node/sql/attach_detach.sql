-- SPDX-License-Identifier: PostgreSQL
-- sql/attach_detach.sql: attach_data_node and detach_data_node.

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
  -- the root table's definition (indexes, unique constraints) is on the
  -- data nodes alone
  IF source IS NULL THEN
    RAISE EXCEPTION 'hypertable "%" has no data node to copy its definition from', _hyperdist_functions.relname(hypertable)
      USING ERRCODE = '55000',
            DETAIL = 'Its last data node was detached or deleted with force => true.',
            HINT = 'Drop the hypertable and create it again.';
  END IF;

  -- the root table as it is now on a member, with the same partitioning
  -- and row triggers (whose functions must exist on node)
  SELECT format('%sCREATE TABLE %s (%s) PARTITION BY RANGE (%I); %s',
                _hyperdist_functions.schemas_ddl((parse_ident(qualified))[1], h.associated_schema_name),
                qualified,
                string_agg(t.def, ', ' ORDER BY t.kind, t.ord)
                  FILTER (WHERE t.kind IN ('column', 'constraint')),
                (SELECT a.attname FROM _hyperdist_catalog.dimension dim
                   JOIN pg_attribute a ON a.attrelid = hypertable AND a.attnum = dim.attnum
                  WHERE dim.hypertable_id = ht AND dim.interval_length IS NOT NULL),
                coalesce(string_agg(t.def || '; ', '' ORDER BY t.ord) FILTER (WHERE t.kind = 'index'), '')
                || coalesce(string_agg(t.def || '; ', '' ORDER BY t.ord)
                              FILTER (WHERE t.kind = 'trigger'), ''))
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
      IF NOT force THEN
        RAISE EXCEPTION 'cannot detach the last data node of hypertable "%"', _hyperdist_functions.relname(h.rel)
          USING ERRCODE = '55000',
                HINT = 'Drop the hypertable instead, or use force => true to leave it without data nodes.';
      END IF;
      RAISE WARNING 'insufficient number of data nodes for distributed hypertable "%"', _hyperdist_functions.relname(h.rel)
        USING DETAIL = format('Reducing the number of available data nodes on distributed hypertable "%s" prevents full replication of new chunks.',
                              _hyperdist_functions.relname(h.rel));
    END IF;
    IF lost > 0 AND NOT force THEN
      RAISE EXCEPTION 'detaching data node "%" would mean a data loss for hypertable "%"', node, _hyperdist_functions.relname(h.rel)
        USING ERRCODE = '55000',
              DETAIL = format('%s chunks of the hypertable have no other replica.', lost),
              HINT = 'Move the node''s chunks to other data nodes first with drain_data_node(), or use force => true to lose them.';
    END IF;
    IF nchunks > 0 AND NOT force THEN
      RAISE EXCEPTION 'data node "%" still holds data of hypertable "%"', node, _hyperdist_functions.relname(h.rel)
        USING ERRCODE = '55000',
              DETAIL = format('It holds replicas of %s chunks.', nchunks),
              HINT = 'Move the node''s chunks to other data nodes first with drain_data_node(), or use force => true to detach it anyway; the chunks become under-replicated.';
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
