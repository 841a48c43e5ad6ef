--
-- Privileges (docs/SECURITY.md): the owner of a table may make it a
-- distributed hypertable and manage it without being a superuser; whatever
-- the extension does as the catalog's owner on its behalf never runs an
-- operator, function or setting of the caller's; other roles are refused
-- with 42501.  Names that need quoting reach every node quoted once.
-- Needs dn1..dn3 from the data_nodes suite.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE ROLE "Ann Lee" LOGIN;
CALL distributed_exec($$CREATE ROLE alice LOGIN PASSWORD 'alice_pw';
                        CREATE ROLE bob LOGIN PASSWORD 'bob_pw';
                        CREATE ROLE "Ann Lee" LOGIN PASSWORD 'ann_pw';
                        GRANT CREATE ON SCHEMA _hyperdist_internal TO alice, "Ann Lee"$$);
GRANT USAGE ON FOREIGN SERVER dn1, dn2, dn3 TO alice, bob, "Ann Lee";
CREATE USER MAPPING FOR alice SERVER dn1 OPTIONS (password 'alice_pw');
CREATE USER MAPPING FOR alice SERVER dn2 OPTIONS (password 'alice_pw');
CREATE USER MAPPING FOR alice SERVER dn3 OPTIONS (password 'alice_pw');
CREATE USER MAPPING FOR bob SERVER dn1 OPTIONS (password 'bob_pw');
CREATE USER MAPPING FOR bob SERVER dn2 OPTIONS (password 'bob_pw');
CREATE USER MAPPING FOR bob SERVER dn3 OPTIONS (password 'bob_pw');
CREATE USER MAPPING FOR "Ann Lee" SERVER dn1 OPTIONS (password 'ann_pw');
CREATE USER MAPPING FOR "Ann Lee" SERVER dn2 OPTIONS (password 'ann_pw');
CREATE USER MAPPING FOR "Ann Lee" SERVER dn3 OPTIONS (password 'ann_pw');
CREATE SCHEMA alice AUTHORIZATION alice;
CREATE SCHEMA bob AUTHORIZATION bob;
GRANT USAGE ON SCHEMA alice TO bob;
CALL distributed_exec($$CREATE SCHEMA alice AUTHORIZATION alice;
                        GRANT USAGE ON SCHEMA alice TO bob$$);

-- ---- a table owner's operators never run as the catalog's owner ----------
-- Every operator and function the catalog's SQL could pick from the
-- caller's search_path is shadowed in schema alice, ahead of pg_catalog.
-- Each records who called it, and makes alice a superuser if that was one.
SET ROLE alice;
CREATE TABLE alice.trap_log (who name, what text);
CREATE FUNCTION alice.trap(what text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO alice.trap_log VALUES (current_user, what);
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user) THEN
    EXECUTE 'ALTER ROLE alice SUPERUSER';
  END IF;
END $f$;
DO $d$
DECLARE
  op text;
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['bigint', 'integer', 'smallint', 'oid', 'name', 'text'] LOOP
    FOREACH op IN ARRAY ARRAY['=', '<', '<=', '>', '>=', '<>'] LOOP
      EXECUTE format($q$CREATE FUNCTION alice.%I(a %s, b %s) RETURNS boolean LANGUAGE plpgsql AS
                        $b$BEGIN PERFORM alice.trap(%L); RETURN a OPERATOR(pg_catalog.%s) b; END$b$$q$,
                     'op_' || md5(op || t), t, t, op || ' ' || t, op);
      EXECUTE format('CREATE OPERATOR alice.%s (FUNCTION = alice.%I, LEFTARG = %s, RIGHTARG = %s)',
                     op, 'op_' || md5(op || t), t, t);
    END LOOP;
  END LOOP;
END $d$;
CREATE FUNCTION alice.max(bigint) RETURNS bigint LANGUAGE plpgsql AS
  'BEGIN PERFORM alice.trap(''max''); RETURN $1; END';
CREATE FUNCTION alice.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS
  'BEGIN PERFORM alice.trap(''nextval''); RETURN 1; END';
CREATE FUNCTION alice.unnest(name[]) RETURNS SETOF name LANGUAGE plpgsql AS
  'BEGIN PERFORM alice.trap(''unnest''); END';
CREATE FUNCTION alice.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
  'BEGIN PERFORM alice.trap(''quote_ident''); RETURN $1; END';
SET search_path = alice, pg_catalog;
SET datestyle = 'SQL, DMY';
CREATE TABLE alice.m (t bigint NOT NULL, dev int NOT NULL, v int);
SELECT table_name FROM public.create_distributed_hypertable('alice.m', 't', 'dev',
         number_partitions => 2, chunk_time_interval => 10, replication_factor => 2);
-- new chunks: slices, placement, catalog rows, chunk relations
INSERT INTO alice.m VALUES (1, 1, 1), (2, 2, 2), (15, 1, 3), (105, 2, 4);
SELECT public.set_chunk_time_interval('alice.m', 20);
SELECT public.set_number_partitions('alice.m', 3);
SELECT public.set_replication_factor('alice.m', 1);
INSERT INTO alice.m VALUES (200, 3, 5);
SELECT * FROM public.detach_data_node('dn3', 'alice.m', force => true, drop_remote_data => true);
SELECT * FROM public.attach_data_node('dn3', 'alice.m');
INSERT INTO alice.m VALUES (300, 4, 6);
CREATE INDEX m_v ON alice.m (v);
ALTER INDEX alice.m_v RENAME TO m_v2;
DROP INDEX alice.m_v2;
ALTER TABLE alice.m ADD COLUMN w int;
SELECT count(*) FROM public.drop_chunks('alice.m', older_than => 100);
SELECT count(*) FROM alice.m;
TRUNCATE alice.m;
INSERT INTO alice.m VALUES (7, 1, 1, 1);
SELECT count(*) FROM alice.m;
DROP TABLE alice.m;
RESET search_path;
RESET datestyle;
RESET ROLE;
-- alice is no superuser, and nothing of hers ran as anyone
SELECT rolsuper FROM pg_roles WHERE rolname = 'alice';
SELECT who, what FROM alice.trap_log;
-- and the catalog forgot the table everywhere
SELECT count(*) FROM _hyperdist_catalog.hypertable h
 WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = h.relid);

-- ---- a non-superuser owner has distributed hypertables, others do not ----
CREATE TABLE alice.d (time timestamptz NOT NULL, v int);
ALTER TABLE alice.d OWNER TO alice;
-- bob may use the data nodes but does not own the table
SET ROLE bob;
SELECT create_distributed_hypertable('alice.d', 'time');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE alice;
SELECT table_name FROM create_distributed_hypertable('alice.d', 'time',
         data_nodes => '{dn1,dn2}', replication_factor => 2);
INSERT INTO alice.d VALUES ('2024-01-01', 1), ('2024-02-01', 2);
GRANT SELECT ON alice.d TO bob;
RESET ROLE;
SELECT n.node_name, q.*
  FROM unnest('{dn1,dn2}'::name[]) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT pg_get_userbyid(relowner), has_table_privilege('bob', oid, 'SELECT')
             FROM pg_class WHERE oid = 'alice.d'::regclass$$) AS q(owner name, bob_reads bool)
 ORDER BY 1;
SET ROLE bob;
SELECT count(*) FROM alice.d;
-- its sizes too, without USAGE on the data nodes (the statement is ours)
RESET ROLE;
REVOKE USAGE ON FOREIGN SERVER dn1, dn2, dn3 FROM bob;
SET ROLE bob;
SELECT hypertable_size('alice.d') > 0 AS has_size;
SELECT node_name, total_bytes > 0 AS has_size FROM hypertable_detailed_size('alice.d');
SELECT chunk_name IS NOT NULL AS named, node_name FROM chunks_detailed_size('alice.d');
CALL distributed_exec('SELECT 1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER dn1, dn2, dn3 TO bob;
REVOKE SELECT ON alice.d FROM bob;
SET ROLE bob;
SELECT hypertable_size('alice.d');
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.data_node_sizes('alice.d', false);
\echo :LAST_ERROR_SQLSTATE
-- every catalog operation of bob's on alice's table: 42501
SELECT set_chunk_time_interval('alice.d', interval '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT set_replication_factor('alice.d', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM attach_data_node('dn3', 'alice.d');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM detach_data_node('dn2', 'alice.d', force => true);
\echo :LAST_ERROR_SQLSTATE
SELECT drop_chunks('alice.d', older_than => now());
\echo :LAST_ERROR_SQLSTATE
INSERT INTO alice.d VALUES ('2024-01-02', 3);
\echo :LAST_ERROR_SQLSTATE
-- and so is every entry point called directly
SELECT _hyperdist_functions.catalog_set_chunk_interval('alice.d', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_set_number_partitions('alice.d', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_add_space_dimension('alice.d', 'v', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_set_replication_factor('alice.d', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_attach_data_node('alice.d', 'dn3', true);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_detach_data_node('alice.d', 'dn2', true);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_delete_chunks('alice.d', '{1,2,3}');
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.lock_chunks('alice.d');
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.recreate_placement(1);
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.create_chunk_relation(1);
\echo :LAST_ERROR_SQLSTATE
-- the catalog itself is read-only to him
INSERT INTO _hyperdist_catalog.hypertable_data_node VALUES (1, 'dn3');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM _hyperdist_catalog.chunk;
\echo :LAST_ERROR_SQLSTATE
-- a foreign table of his own on the hypertables' server is not enough:
-- not a data node he may use, not a schema he may create in
CREATE FOREIGN TABLE bob.bobs (t int NOT NULL) SERVER hyperdist_hypertables;
RESET ROLE;
REVOKE USAGE ON FOREIGN SERVER dn3 FROM bob;
SET ROLE bob;
SELECT _hyperdist_functions.catalog_add_hypertable('bob.bobs', 't', NULL, NULL, 10,
         '_hyperdist_internal', 'b', 1, '{dn3}', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_add_hypertable('bob.bobs', 't', NULL, NULL, 10,
         'alice', 'b', 1, '{dn1}', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT _hyperdist_functions.catalog_add_hypertable('bob.bobs', 't', NULL, NULL, 10,
         NULL, 'b', 1, '{dn1}', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM _hyperdist_catalog.hypertable WHERE relid = 'bob.bobs'::regclass;
DROP FOREIGN TABLE bob.bobs;
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER dn3 TO bob;
-- without data_nodes a hypertable gets the nodes its creator may use, with
-- 2.13's NOTICE
REVOKE USAGE ON FOREIGN SERVER dn3 FROM alice;
SET ROLE alice;
CREATE TABLE alice.few (t int NOT NULL);
SELECT table_name FROM public.create_distributed_hypertable('alice.few', 't', chunk_time_interval => 10);
SELECT data_nodes FROM hyperdist_information.hypertables WHERE hypertable_name = 'few';
DROP TABLE alice.few;
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER dn3 TO alice;
-- alice manages hers
SET ROLE alice;
SELECT set_chunk_time_interval('alice.d', interval '1 day');
SELECT * FROM attach_data_node('dn3', 'alice.d');
SELECT set_replication_factor('alice.d', 3);
INSERT INTO alice.d VALUES ('2024-03-01', 3);
SELECT data_nodes FROM hyperdist_information.chunks
 WHERE hypertable_name = 'd' ORDER BY range_start;
SELECT count(*) FROM drop_chunks('alice.d', older_than => '2024-01-15'::timestamptz);
SELECT * FROM detach_data_node('dn1', 'alice.d', force => true);
SELECT count(*) FROM alice.d;
DROP TABLE alice.d;
RESET ROLE;

-- ---- names that need quoting ---------------------------------------------
CREATE SCHEMA "Upper";
CREATE SCHEMA "sp ace";
GRANT USAGE, CREATE ON SCHEMA "Upper", "sp ace" TO "Ann Lee";
CALL distributed_exec($$CREATE SCHEMA "Upper"; CREATE SCHEMA "sp ace";
                        GRANT USAGE, CREATE ON SCHEMA "Upper", "sp ace" TO "Ann Lee"$$);
CREATE TABLE "Upper"."Mixed Case" ("Time Col" timestamptz NOT NULL, "Dev" text, v int);
ALTER TABLE "Upper"."Mixed Case" OWNER TO "Ann Lee";
GRANT SELECT ON "Upper"."Mixed Case" TO "Ann Lee", bob;
SELECT schema_name, table_name
  FROM create_distributed_hypertable('"Upper"."Mixed Case"', 'Time Col', 'Dev',
                                     associated_schema_name => 'sp ace',
                                     associated_table_prefix => 'Chunk "x"',
                                     replication_factor => 2);
SET ROLE "Ann Lee";
INSERT INTO "Upper"."Mixed Case" VALUES ('2024-01-01', 'a b', 1), ('2024-01-09', 'C"d', 2);
SELECT "Dev", v FROM "Upper"."Mixed Case" ORDER BY 1;
CREATE INDEX "Idx ""q""" ON "Upper"."Mixed Case" (v);
RESET ROLE;
SELECT chunk_schema, data_nodes FROM hyperdist_information.chunks
 WHERE hypertable_schema = 'Upper' ORDER BY range_start;
SELECT n.node_name, q.*
  FROM unnest('{dn1,dn2,dn3}'::name[]) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $$SELECT pg_get_userbyid(c.relowner), has_table_privilege('bob', c.oid, 'SELECT'),
                  (SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
                    WHERE p.relnamespace = '"sp ace"'::regnamespace),
                  (SELECT count(*) FROM pg_indexes WHERE indexname = 'Idx "q"')
             FROM pg_class c WHERE c.oid = '"Upper"."Mixed Case"'::regclass$$)
       AS q(owner name, bob_reads bool, chunks bigint, idx bigint)
 ORDER BY 1;
SET ROLE "Ann Lee";
SELECT count(*) FROM drop_chunks('"Upper"."Mixed Case"', older_than => '2024-01-05'::timestamptz);
DROP TABLE "Upper"."Mixed Case";
RESET ROLE;

-- ---- clean up ---------------------------------------------------------------
DROP SCHEMA "Upper", "sp ace";
CALL distributed_exec($$DROP SCHEMA "Upper", "sp ace"; DROP SCHEMA alice CASCADE;
                        REVOKE CREATE ON SCHEMA _hyperdist_internal FROM alice, "Ann Lee"$$);
SET client_min_messages = warning;
DROP SCHEMA alice CASCADE;
RESET client_min_messages;
DROP SCHEMA bob;
DROP USER MAPPING FOR alice SERVER dn1;
DROP USER MAPPING FOR alice SERVER dn2;
DROP USER MAPPING FOR alice SERVER dn3;
DROP USER MAPPING FOR bob SERVER dn1;
DROP USER MAPPING FOR bob SERVER dn2;
DROP USER MAPPING FOR bob SERVER dn3;
DROP USER MAPPING FOR "Ann Lee" SERVER dn1;
DROP USER MAPPING FOR "Ann Lee" SERVER dn2;
DROP USER MAPPING FOR "Ann Lee" SERVER dn3;
REVOKE USAGE ON FOREIGN SERVER dn1, dn2, dn3 FROM alice, bob, "Ann Lee";
DROP ROLE alice, bob, "Ann Lee";
CALL distributed_exec($$DROP ROLE alice, bob, "Ann Lee"$$);
