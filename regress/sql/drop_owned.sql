--
-- DROP OWNED BY drops a role's distributed hypertables and reference
-- tables everywhere: their tables on the data nodes and their catalog rows
-- go with the access node's relations.  REASSIGN OWNED BY gives them to
-- the new owner on the data nodes too, chunks included.  A caller without
-- the roles' privileges is refused before anything is sent.  Needs
-- dn1..dn3.
--
CREATE ROLE regress_owner;
CREATE ROLE regress_other;
CALL distributed_exec($$CREATE ROLE regress_owner$$);

CREATE TABLE do_ht (time timestamptz NOT NULL, dev int, v float8);
SELECT table_name FROM create_distributed_hypertable('do_ht', 'time', 'dev',
  number_partitions => 3, replication_factor => 2);
INSERT INTO do_ht SELECT '2024-01-01'::timestamptz + g * interval '1 hour', g % 3, g
  FROM generate_series(0, 99) g;
CREATE TABLE do_ref (id int PRIMARY KEY, name text);
INSERT INTO do_ref VALUES (1, 'a'), (2, 'b');
SELECT create_reference_table('do_ref');
ALTER TABLE do_ht OWNER TO regress_owner;
ALTER TABLE do_ref OWNER TO regress_owner;
-- a hypertable of another owner stays
CREATE TABLE do_kept (time timestamptz NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('do_kept', 'time');
INSERT INTO do_kept VALUES ('2024-01-01', 1);

-- the tables of those names on each data node, and the catalog's rows
CREATE FUNCTION do_state() RETURNS TABLE (node name, tables text)
LANGUAGE sql AS $$
  SELECT n.node_name, q.t
    FROM hyperdist_information.data_nodes n,
         _hyperdist_functions.data_node_query(n.node_name,
           $q$SELECT coalesce(string_agg(tablename::text, ',' ORDER BY tablename), '')
                FROM pg_tables WHERE tablename IN ('do_ht', 'do_ref', 'do_kept')$q$) AS q(t text)
   ORDER BY 1
$$;
SELECT * FROM do_state();
SELECT (SELECT count(*) FROM _hyperdist_catalog.hypertable) AS hypertables,
       (SELECT count(*) FROM _hyperdist_catalog.chunk) > 0 AS chunks,
       (SELECT count(*) FROM _hyperdist_catalog.reference_table) AS reference_tables;

-- without the role's privileges: refused, nothing dropped
SET ROLE regress_other;
DROP OWNED BY regress_owner;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM do_state();

DROP OWNED BY regress_owner;
SELECT * FROM do_state();
SELECT (SELECT count(*) FROM _hyperdist_catalog.hypertable) AS hypertables,
       (SELECT count(*) FROM _hyperdist_catalog.chunk c
          JOIN _hyperdist_catalog.hypertable h ON h.id = c.hypertable_id
         WHERE h.relid <> 'do_kept'::regclass) AS other_chunks,
       (SELECT count(*) FROM _hyperdist_catalog.reference_table) AS reference_tables;
SELECT to_regclass('do_ht') IS NULL AS ht_gone, to_regclass('do_ref') IS NULL AS ref_gone;
SELECT count(*) FROM do_kept;

-- REASSIGN OWNED BY: the data nodes' tables and chunks follow
ALTER TABLE do_kept OWNER TO regress_owner;
SET ROLE regress_other;
REASSIGN OWNED BY regress_owner TO regress_other;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
CALL distributed_exec($$CREATE ROLE regress_other$$);
REASSIGN OWNED BY regress_owner TO regress_other;
SELECT relowner::regrole FROM pg_class WHERE oid = 'do_kept'::regclass;
SELECT n.node_name, q.*
  FROM hyperdist_information.data_nodes n,
       _hyperdist_functions.data_node_query(n.node_name,
         $q$SELECT string_agg(DISTINCT c.relowner::regrole::text, ',')
              FROM pg_partition_tree('public.do_kept') t JOIN pg_class c ON c.oid = t.relid$q$)
         AS q(owners text)
 ORDER BY 1;
INSERT INTO do_kept VALUES ('2025-01-01', 2);
SELECT count(*) FROM do_kept;

DROP FUNCTION do_state;
DROP TABLE do_kept;
DROP ROLE regress_owner, regress_other;
CALL distributed_exec($$DROP OWNED BY regress_owner, regress_other; DROP ROLE regress_owner, regress_other$$);
