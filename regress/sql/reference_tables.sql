--
-- Reference tables (create_reference_table): an ordinary table here with a
-- copy on every data node, written in the same transaction.  Every write
-- (INSERT, UPDATE, DELETE, COPY, TRUNCATE, ON CONFLICT) is checked on each
-- node's copy; a rollback leaves nothing; each refusal has its SQLSTATE;
-- a distributed hypertable's foreign key to a reference table needs no
-- table made by hand; DDL reaches the copies; a non-owner is refused.
-- Needs the data nodes the data_nodes suite added.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET datestyle = 'ISO';

-- every copy of a table, with each node's rows: (node, rows as text)
CREATE FUNCTION ref_rows(tab text, cols text DEFAULT '*')
RETURNS TABLE(node name, rows text) LANGUAGE sql AS $$
  SELECT d.node_name, q.r
    FROM hyperdist_information.data_nodes d,
         LATERAL _hyperdist_functions.data_node_query(d.node_name,
           format('SELECT coalesce(string_agg(t::text, '' '' ORDER BY t::text), ''-'') FROM (SELECT %s FROM %s) t',
                  cols, tab)) AS q(r text)
   ORDER BY 1
$$;
-- the copies that differ from the access node's table: none when in step
CREATE FUNCTION ref_diff(tab text)
RETURNS TABLE(node name, rows text) LANGUAGE plpgsql AS $$
DECLARE
  here text;
BEGIN
  EXECUTE format('SELECT coalesce(string_agg(t::text, '' '' ORDER BY t::text), ''-'') FROM (SELECT * FROM %s) t', tab)
    INTO here;
  RETURN QUERY SELECT r.node, r.rows FROM ref_rows(tab) r WHERE r.rows IS DISTINCT FROM here;
END $$;

SELECT count(*) > 0 AS has_nodes FROM hyperdist_information.data_nodes;

-- ---- create ------------------------------------------------------------------
CREATE TABLE tags (id int PRIMARY KEY, hostname text NOT NULL UNIQUE,
                   region text DEFAULT 'eu', created timestamptz DEFAULT now(),
                   CHECK (id > 0));
INSERT INTO tags VALUES (1, 'host_1', 'us', '2024-01-01'), (2, 'host_2', 'eu', '2024-01-02');
SELECT create_reference_table('tags');
SELECT schema_name, table_name, owner,
       data_nodes = (SELECT array_agg(node_name ORDER BY node_name)
                       FROM hyperdist_information.data_nodes) AS on_every_node
  FROM hyperdist_information.reference_tables;
SELECT * FROM ref_rows('public.tags');
-- the copies have the columns, constraints and owner, no trigger or index of their own
SELECT d.node_name, q.*
  FROM hyperdist_information.data_nodes d,
       LATERAL _hyperdist_functions.data_node_query(d.node_name,
         $$SELECT pg_get_userbyid(c.relowner),
                  (SELECT string_agg(conname || ':' || contype::text, ',' ORDER BY conname)
                     FROM pg_constraint WHERE conrelid = c.oid),
                  (SELECT count(*) FROM pg_trigger WHERE tgrelid = c.oid)
             FROM pg_class c WHERE c.oid = 'public.tags'::regclass$$)
       AS q(owner name, constraints text, triggers bigint)
 ORDER BY 1;

-- ---- writes ---------------------------------------------------------------------
INSERT INTO tags (id, hostname) VALUES (3, 'host_3');
SELECT * FROM ref_diff('tags');
UPDATE tags SET region = 'ap' WHERE id >= 2;
SELECT * FROM ref_diff('tags');
-- a key changed, and another row takes the old key, in one statement
UPDATE tags SET id = CASE id WHEN 1 THEN 4 WHEN 2 THEN 1 END WHERE id IN (1, 2);
SELECT * FROM ref_rows('public.tags', 'id, hostname');
SELECT * FROM ref_diff('tags');
DELETE FROM tags WHERE id = 4;
SELECT * FROM ref_diff('tags');
INSERT INTO tags (id, hostname) VALUES (3, 'host_3b'), (5, 'host_5')
  ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname;
SELECT * FROM ref_rows('public.tags', 'id, hostname');
SELECT * FROM ref_diff('tags');
INSERT INTO tags (id, hostname) VALUES (5, 'host_5x') ON CONFLICT DO NOTHING;
SELECT * FROM ref_diff('tags');
COPY tags (id, hostname, region, created) FROM STDIN;
6	host_6	eu	2024-02-01 00:00:00+00
7	host_7	\N	2024-02-02 00:00:00+00
\.
SELECT * FROM ref_rows('public.tags', 'id, hostname, region');
SELECT * FROM ref_diff('tags');
-- the access node's default, computed once
SELECT count(DISTINCT q.c) FROM hyperdist_information.data_nodes d,
  LATERAL _hyperdist_functions.data_node_query(d.node_name,
    'SELECT created::text FROM public.tags WHERE id = 3') AS q(c text);
-- an UPDATE touching no row changes nothing
UPDATE tags SET region = 'x' WHERE id = 100;
SELECT * FROM ref_diff('tags');

-- ---- rollback ---------------------------------------------------------------------
BEGIN;
INSERT INTO tags (id, hostname) VALUES (8, 'host_8');
DELETE FROM tags WHERE id = 1;
UPDATE tags SET region = 'rolled back';
SELECT count(*) FROM ref_rows('public.tags', 'id') WHERE rows LIKE '%8%';
ROLLBACK;
SELECT * FROM ref_diff('tags');
SELECT * FROM ref_rows('public.tags', 'id');
-- an error on a data node fails the statement and rolls back everything
BEGIN;
INSERT INTO tags (id, hostname) VALUES (9, 'host_9');
CALL distributed_exec('ALTER TABLE public.tags ADD CONSTRAINT no_ten CHECK (id <> 10)');
\set VERBOSITY sqlstate
INSERT INTO tags (id, hostname) VALUES (10, 'host_10');
\set VERBOSITY default
ROLLBACK;
SELECT * FROM ref_diff('tags');
SELECT count(*) FROM ref_rows('public.tags', 'id') WHERE rows LIKE '%9%';

-- ---- TRUNCATE -----------------------------------------------------------------------
BEGIN;
TRUNCATE tags;
SELECT * FROM ref_rows('public.tags');
ROLLBACK;
SELECT * FROM ref_diff('tags');

-- ---- a distributed hypertable's foreign key to it: no WARNING ---------------------
CREATE TABLE cpu (time timestamptz NOT NULL, tags_id int REFERENCES tags (id), usage float8);
SELECT table_name FROM create_distributed_hypertable('cpu', 'time');
INSERT INTO cpu VALUES ('2024-01-01', 1, 0.5), ('2024-01-02', 3, 0.7);
-- queries filtering the hypertable through the reference table
SELECT count(*) FROM cpu WHERE tags_id IN (SELECT id FROM tags WHERE hostname = 'host_2');
SELECT t.hostname, c.usage FROM cpu c JOIN tags t ON t.id = c.tags_id
 WHERE t.hostname LIKE 'host_3%' ORDER BY 1;
\set VERBOSITY sqlstate
INSERT INTO cpu VALUES ('2024-01-03', 99, 0.1);
\set VERBOSITY default
SELECT count(*) FROM cpu;
-- a foreign key added afterwards: no WARNING either
ALTER TABLE cpu DROP CONSTRAINT cpu_tags_id_fkey;
ALTER TABLE cpu ADD CONSTRAINT cpu_tags FOREIGN KEY (tags_id) REFERENCES tags (id);
\set VERBOSITY sqlstate
INSERT INTO cpu VALUES ('2024-01-03', 99, 0.1);
\set VERBOSITY default
DROP TABLE cpu;

-- ---- refusals --------------------------------------------------------------------------
\set VERBOSITY sqlstate
SELECT create_reference_table('tags');
SELECT create_reference_table(NULL);
CREATE TABLE ht (time timestamptz NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('ht', 'time');
SELECT create_reference_table('ht');
DROP TABLE ht;
CREATE VIEW tags_view AS SELECT * FROM tags;
SELECT create_reference_table('tags_view');
DROP VIEW tags_view;
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
SELECT create_reference_table('parted');
DROP TABLE parted;
CREATE TEMP TABLE temp_tab (id int PRIMARY KEY);
SELECT create_reference_table('temp_tab');
CREATE UNLOGGED TABLE unlogged_tab (id int PRIMARY KEY);
SELECT create_reference_table('unlogged_tab');
DROP TABLE unlogged_tab;
CREATE TABLE plain_parent (id int PRIMARY KEY, label text);
CREATE TABLE referencing (id int PRIMARY KEY, p int REFERENCES plain_parent);
SELECT create_reference_table('referencing');
-- to another reference table: allowed
SELECT create_reference_table('plain_parent');
SELECT create_reference_table('referencing');
-- a row another copy references is updated in place there
INSERT INTO plain_parent VALUES (1, 'a'), (2, 'b');
INSERT INTO referencing VALUES (1, 1), (2, 2);
UPDATE plain_parent SET label = label || '2';
DELETE FROM referencing WHERE id = 2;
UPDATE plain_parent SET id = 3 WHERE id = 2;
SELECT * FROM ref_diff('plain_parent');
SELECT * FROM ref_rows('public.plain_parent');
CREATE TABLE enum_tab (id int PRIMARY KEY, c int4range);
SELECT create_reference_table('enum_tab');
SELECT count(*) FROM _hyperdist_catalog.reference_table WHERE relid = 'enum_tab'::regclass;
DROP TABLE enum_tab;
CREATE TABLE rls_tab (id int PRIMARY KEY);
ALTER TABLE rls_tab ENABLE ROW LEVEL SECURITY;
SELECT create_reference_table('rls_tab');
DROP TABLE rls_tab;
-- the copy of a table's rows is only for reference tables (it reads the heap)
CREATE TABLE not_ref (id int PRIMARY KEY);
SELECT _hyperdist_functions.reference_table_copy_rows('not_ref', '{dn1}');
DROP TABLE not_ref;
-- DDL that cannot reach the copies
ALTER TABLE tags ADD COLUMN serial_col serial;
ALTER TABLE tags ADD COLUMN vol timestamptz DEFAULT clock_timestamp();
ALTER TABLE tags ADD COLUMN stable_default timestamptz DEFAULT now();
ALTER TABLE tags ALTER COLUMN region TYPE text USING region || random()::text;
ALTER TABLE tags ADD COLUMN gen int GENERATED ALWAYS AS (id * 2) STORED;
ALTER TABLE tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tags ALTER COLUMN region SET DEFAULT 'us', ALTER COLUMN region SET NOT NULL;
DROP TRIGGER hyperdist_reference_insert ON tags;
\set VERBOSITY default

-- ---- no replica identity: WARNING, then UPDATE/DELETE refused --------------------------
CREATE TABLE nokey (id int, v text);
INSERT INTO nokey VALUES (1, 'a');
SELECT create_reference_table('nokey');
INSERT INTO nokey VALUES (2, 'b');
\set VERBOSITY sqlstate
UPDATE nokey SET v = 'c';
DELETE FROM nokey;
\set VERBOSITY default
UPDATE nokey SET v = 'c';
SELECT * FROM ref_diff('nokey');
-- REPLICA IDENTITY USING INDEX will do
CREATE UNIQUE INDEX nokey_id ON nokey (id);
ALTER TABLE nokey ALTER COLUMN id SET NOT NULL;
ALTER TABLE nokey REPLICA IDENTITY USING INDEX nokey_id;
UPDATE nokey SET v = 'c' WHERE id = 2;
DELETE FROM nokey WHERE id = 1;
SELECT * FROM ref_rows('public.nokey');
SELECT * FROM ref_diff('nokey');

-- ---- DDL reaches the copies ---------------------------------------------------------------
ALTER TABLE tags ADD COLUMN weight int DEFAULT 1;
ALTER TABLE tags ALTER COLUMN region SET DEFAULT 'us';
ALTER TABLE tags ALTER COLUMN region TYPE varchar(20) USING upper(region);
INSERT INTO tags (id, hostname) VALUES (11, 'host_11');
SELECT * FROM ref_diff('tags');
ALTER TABLE tags RENAME COLUMN weight TO w;
ALTER TABLE tags RENAME TO host_tags;
CREATE SCHEMA refs;
ALTER TABLE host_tags SET SCHEMA refs;
SELECT * FROM ref_rows('refs.host_tags', 'id, w');
ALTER TABLE refs.host_tags DROP COLUMN w;
UPDATE refs.host_tags SET region = 'moved' WHERE id = 11;
SELECT * FROM ref_diff('refs.host_tags');
SELECT schema_name, table_name FROM hyperdist_information.reference_tables ORDER BY 1, 2;

-- ---- another role ---------------------------------------------------------------------------
CREATE ROLE ref_other LOGIN;
CALL distributed_exec($$CREATE ROLE ref_other LOGIN PASSWORD 'ref_pw'$$);
DO $$
DECLARE n name;
BEGIN
  FOR n IN SELECT node_name FROM hyperdist_information.data_nodes LOOP
    EXECUTE format('GRANT USAGE ON FOREIGN SERVER %I TO ref_other', n);
    EXECUTE format('CREATE USER MAPPING FOR ref_other SERVER %I OPTIONS (password %L)', n, 'ref_pw');
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA refs TO ref_other;
CALL distributed_exec($$GRANT USAGE ON SCHEMA refs TO ref_other$$);
-- GRANT ... ON ALL TABLES IN SCHEMA reaches the copies
GRANT SELECT ON ALL TABLES IN SCHEMA refs TO ref_other;
SELECT d.node_name, q.* FROM hyperdist_information.data_nodes d,
  LATERAL _hyperdist_functions.data_node_query(d.node_name,
    $$SELECT has_table_privilege('ref_other', 'refs.host_tags', 'SELECT')$$) AS q(may_read bool)
 ORDER BY 1;
REVOKE SELECT ON ALL TABLES IN SCHEMA refs FROM ref_other;
SELECT d.node_name, q.* FROM hyperdist_information.data_nodes d,
  LATERAL _hyperdist_functions.data_node_query(d.node_name,
    $$SELECT has_table_privilege('ref_other', 'refs.host_tags', 'SELECT')$$) AS q(may_read bool)
 ORDER BY 1;
CREATE TABLE other_tab (id int PRIMARY KEY);
SET ROLE ref_other;
\set VERBOSITY sqlstate
-- not the owner
SELECT create_reference_table('other_tab');
DROP TABLE refs.host_tags;
ALTER TABLE refs.host_tags ADD COLUMN x int;
-- no privilege on the table: refused here
INSERT INTO refs.host_tags (id, hostname) VALUES (20, 'host_20');
\set VERBOSITY default
RESET ROLE;
-- a GRANT reaches the copies: the writer's own sessions write them
GRANT SELECT, INSERT, UPDATE, DELETE ON refs.host_tags TO ref_other;
SET ROLE ref_other;
INSERT INTO refs.host_tags (id, hostname) VALUES (20, 'host_20');
UPDATE refs.host_tags SET region = 'other' WHERE id = 20;
RESET ROLE;
SELECT * FROM ref_diff('refs.host_tags');
SELECT * FROM ref_rows('refs.host_tags', 'id, region') ;
DROP TABLE other_tab;

-- ---- DROP TABLE, DROP SCHEMA ... CASCADE -----------------------------------------------------
DROP TABLE nokey;
SELECT * FROM ref_rows('pg_class', 'count(*) FILTER (WHERE relname = ''nokey'')');
DROP TABLE referencing, plain_parent;
DROP SCHEMA refs CASCADE;
SELECT * FROM ref_rows('pg_class', 'count(*) FILTER (WHERE relname IN (''host_tags'', ''referencing'', ''plain_parent''))');
SELECT count(*) FROM _hyperdist_catalog.reference_table;
SELECT * FROM hyperdist_information.reference_tables;

-- ---- clean up ---------------------------------------------------------------------------------
DO $$
DECLARE n name;
BEGIN
  FOR n IN SELECT node_name FROM hyperdist_information.data_nodes LOOP
    EXECUTE format('DROP USER MAPPING FOR ref_other SERVER %I', n);
    EXECUTE format('REVOKE USAGE ON FOREIGN SERVER %I FROM ref_other', n);
  END LOOP;
END $$;
DROP ROLE ref_other;
CALL distributed_exec($$DROP SCHEMA refs; DROP ROLE ref_other$$);
DROP FUNCTION ref_rows(text, text), ref_diff(text);
