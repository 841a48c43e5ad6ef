--
-- Distributed objects dropped through a dependency, by statements that do
-- not name them (DROP FUNCTION, TYPE, DOMAIN, SEQUENCE, EXTENSION ...
-- CASCADE, ALTER TABLE ... DROP COLUMN ... CASCADE): their data nodes'
-- tables and catalog rows go with them, in the same transaction; a
-- column, constraint or default of a distributed table that stays is not
-- dropped by cascade (0A000), nothing is.  The statements that name the
-- objects still drop them once.  A role that is no superuser owns and
-- drops everything but the extension.  Needs dn1..dn3.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE ROLE regress_dc LOGIN;
CALL distributed_exec($$CREATE ROLE regress_dc LOGIN PASSWORD 'regress_dc_pw'$$);
GRANT USAGE ON FOREIGN SERVER dn1, dn2, dn3 TO regress_dc;
CREATE USER MAPPING FOR regress_dc SERVER dn1 OPTIONS (password 'regress_dc_pw');
CREATE USER MAPPING FOR regress_dc SERVER dn2 OPTIONS (password 'regress_dc_pw');
CREATE USER MAPPING FOR regress_dc SERVER dn3 OPTIONS (password 'regress_dc_pw');
GRANT CREATE ON SCHEMA public TO regress_dc;

-- the tables of these names on each data node
CREATE FUNCTION dc_nodes(VARIADIC names text[]) RETURNS TABLE (node name, tables text)
LANGUAGE sql SECURITY DEFINER AS $$
  SELECT n.node_name, q.t
    FROM hyperdist_information.data_nodes n,
         _hyperdist_functions.data_node_query(n.node_name,
           format($q$SELECT coalesce(string_agg(schemaname || '.' || tablename, ','
                                                ORDER BY schemaname, tablename), '')
                       FROM pg_tables WHERE tablename = ANY (%L)$q$, names)) AS q(t text)
   ORDER BY 1
$$;
-- catalog rows whose relation is gone: a new relation taking its OID
-- would be taken for a hypertable, reference table or continuous aggregate
CREATE FUNCTION dc_orphans() RETURNS TABLE (hypertables bigint, chunks bigint,
  reference_tables bigint, caggs bigint, cagg_policies bigint)
LANGUAGE sql SECURITY DEFINER AS $$
  SELECT (SELECT count(*) FROM _hyperdist_catalog.hypertable h
           WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = h.relid)),
         (SELECT count(*) FROM _hyperdist_catalog.chunk ch
           WHERE NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE c.relname = ch.table_name AND n.nspname = ch.schema_name)),
         (SELECT count(*) FROM _hyperdist_catalog.reference_table r
           WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = r.relid)),
         (SELECT count(*) FROM _hyperdist_catalog.continuous_agg ca
           WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = ca.view_relid)),
         (SELECT count(*) FROM _hyperdist_catalog.bgw_job j
           WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
             AND NOT EXISTS (SELECT FROM _hyperdist_catalog.continuous_agg ca
                              WHERE ca.id = (j.config->>'mat_hypertable_id')::int))
$$;

-- functions, types and a sequence the distributed objects use, on every node
CREATE FUNCTION dc_twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE FUNCTION dc_positive(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
CREATE TYPE dc_mood AS ENUM ('low', 'high');
CREATE DOMAIN dc_code AS int CHECK (VALUE > 0);
CALL distributed_exec($$
  CREATE FUNCTION dc_twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
  CREATE FUNCTION dc_positive(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
  CREATE TYPE dc_mood AS ENUM ('low', 'high');
  CREATE DOMAIN dc_code AS int CHECK (VALUE > 0);
  CREATE SEQUENCE dc_seq$$);
CREATE TYPE dc_pair AS (k int, v int);
CREATE SEQUENCE dc_seq;
ALTER FUNCTION dc_twice(int) OWNER TO regress_dc;
ALTER FUNCTION dc_positive(int) OWNER TO regress_dc;
ALTER TYPE dc_mood OWNER TO regress_dc;
ALTER DOMAIN dc_code OWNER TO regress_dc;
ALTER TYPE dc_pair OWNER TO regress_dc;
ALTER SEQUENCE dc_seq OWNER TO regress_dc;

-- a hypertable of the role's on two data nodes, a real-time continuous
-- aggregate calling dc_twice with a refresh policy, reference tables
CREATE TABLE dc_ht (time timestamptz NOT NULL, dev int, v int);
ALTER TABLE dc_ht OWNER TO regress_dc;
SELECT table_name FROM create_distributed_hypertable('dc_ht', 'time', 'dev',
  number_partitions => 2, data_nodes => '{dn1,dn2}');
CREATE TABLE dc_ref OF dc_pair (PRIMARY KEY (k));
ALTER TABLE dc_ref OWNER TO regress_dc;
INSERT INTO dc_ref VALUES (1, 10), (2, 20);
SELECT create_reference_table('dc_ref');
CREATE TABLE dc_ref2 (id dc_code PRIMARY KEY, name text);
ALTER TABLE dc_ref2 OWNER TO regress_dc;
SELECT create_reference_table('dc_ref2');
SET ROLE regress_dc;
INSERT INTO dc_ht SELECT timestamptz '2026-01-01' + g * interval '1 hour', g % 2, g
  FROM generate_series(0, 47) g;
CREATE MATERIALIZED VIEW dc_daily
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('1 day', time) AS day, dev, sum(dc_twice(v)) AS s FROM dc_ht GROUP BY 1, 2;
SELECT add_continuous_aggregate_policy('dc_daily', start_offset => interval '10 days',
  end_offset => interval '1 hour', schedule_interval => interval '1 hour') > 0 AS policy;
CREATE MATERIALIZED VIEW dc_by_v
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('1 day', time) AS day, max(v) AS top FROM dc_ht GROUP BY 1;
SELECT * FROM dc_daily ORDER BY day, dev;
SELECT view_name FROM hyperdist_information.continuous_aggregates
 WHERE view_name LIKE 'dc%' ORDER BY 1;
SELECT * FROM dc_nodes('dc_ht', 'dc_ref', 'dc_ref2');
SELECT * FROM dc_orphans();

-- ---- DROP FUNCTION ... CASCADE of a continuous aggregate's function --------------
SELECT mat_relid AS dc_daily_mat FROM _hyperdist_catalog.continuous_agg
 WHERE view_relid = 'dc_daily'::regclass \gset
DROP FUNCTION dc_twice(int) CASCADE;
SELECT view_name FROM hyperdist_information.continuous_aggregates
 WHERE view_name LIKE 'dc%' ORDER BY 1;
SELECT * FROM dc_orphans();
-- its table went with its view
SELECT count(*) AS mat_tables FROM pg_class WHERE oid = :dc_daily_mat;

-- ---- a column, constraint or default of a distributed table is not dropped by cascade
ALTER TABLE dc_ht ADD COLUMN mood dc_mood;
ALTER TABLE dc_ht ADD CONSTRAINT dc_v_positive CHECK (dc_positive(v + 1));
ALTER TABLE dc_ht ALTER COLUMN dev SET DEFAULT nextval('dc_seq');
-- (the NOTICEs name chunks)
SET client_min_messages = warning;
DROP TYPE dc_mood CASCADE;
\echo :LAST_ERROR_SQLSTATE
DROP FUNCTION dc_positive(int) CASCADE;
\echo :LAST_ERROR_SQLSTATE
DROP SEQUENCE dc_seq CASCADE;
\echo :LAST_ERROR_SQLSTATE
DROP DOMAIN dc_code CASCADE;
\echo :LAST_ERROR_SQLSTATE
RESET client_min_messages;
-- nothing was dropped, here or on the data nodes
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid IN ('dc_ht'::regclass, 'dc_ref2'::regclass) AND attnum > 0 AND NOT attisdropped
 ORDER BY attrelid, attnum;
SELECT conname FROM pg_constraint WHERE conrelid = 'dc_ht'::regclass ORDER BY 1;
SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'dc_ht'::regclass;
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  $$SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = 'public.dc_ht'::regclass AND attnum > 0 AND NOT attisdropped$$) AS q(cols text);
SELECT * FROM _hyperdist_functions.data_node_query('dn3',
  $$SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = 'public.dc_ref2'::regclass AND attnum > 0 AND NOT attisdropped$$) AS q(cols text);
-- the statements that apply to the data nodes first, then the drops go through
ALTER TABLE dc_ht DROP COLUMN mood;
ALTER TABLE dc_ht DROP CONSTRAINT dc_v_positive;
ALTER TABLE dc_ht ALTER COLUMN dev DROP DEFAULT;
ALTER TABLE dc_ref2 ALTER COLUMN id TYPE int;
DROP TYPE dc_mood CASCADE;
DROP FUNCTION dc_positive(int) CASCADE;
DROP SEQUENCE dc_seq CASCADE;
DROP DOMAIN dc_code CASCADE;
SELECT * FROM _hyperdist_functions.data_node_query('dn1',
  $$SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = 'public.dc_ht'::regclass AND attnum > 0 AND NOT attisdropped$$) AS q(cols text);
INSERT INTO dc_ht VALUES ('2026-01-03', 1, 5);
SELECT count(*) FROM dc_ht;

-- ---- DROP TYPE ... CASCADE of a reference table's row type -------------------------
DROP TYPE dc_pair CASCADE;
SELECT to_regclass('dc_ref') IS NULL AS gone;
SELECT * FROM dc_nodes('dc_ht', 'dc_ref', 'dc_ref2');
SELECT * FROM dc_orphans();

-- ---- ALTER TABLE ... DROP COLUMN ... CASCADE of a column a continuous aggregate reads
ALTER TABLE dc_ht DROP COLUMN v;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE dc_ht DROP COLUMN v CASCADE;
SELECT view_name FROM hyperdist_information.continuous_aggregates
 WHERE view_name LIKE 'dc%' ORDER BY 1;
SELECT * FROM dc_orphans();
SELECT * FROM _hyperdist_functions.data_node_query('dn2',
  $$SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = 'public.dc_ht'::regclass AND attnum > 0 AND NOT attisdropped$$) AS q(cols text);

-- a new table of a dropped one's name is an ordinary table
CREATE TABLE dc_ref (k int PRIMARY KEY);
INSERT INTO dc_ref VALUES (1);
SELECT count(*) FROM hyperdist_information.reference_tables WHERE table_name = 'dc_ref';
DROP TABLE dc_ref;
RESET ROLE;

-- ---- DROP EXTENSION: a hypertable and a reference table that were its members ----
CREATE EXTENSION citext;
CREATE TABLE dc_member (time timestamptz NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('dc_member', 'time', data_nodes => '{dn1,dn2}');
INSERT INTO dc_member VALUES ('2026-01-01', 1), ('2026-03-01', 2);
CREATE TABLE dc_member_ref (id int PRIMARY KEY);
SELECT create_reference_table('dc_member_ref');
ALTER EXTENSION citext ADD FOREIGN TABLE dc_member;
ALTER EXTENSION citext ADD TABLE dc_member_ref;
SELECT relid::regclass, (SELECT count(*) FROM _hyperdist_catalog.chunk c WHERE c.hypertable_id = h.id)
  FROM _hyperdist_catalog.hypertable h WHERE relid = 'dc_member'::regclass;
-- an error after the reference table's copies were dropped: everything stays
SELECT node_name, available FROM alter_data_node('dn2', available => false);
DROP EXTENSION citext;
\echo :LAST_ERROR_SQLSTATE
SELECT node_name, available FROM alter_data_node('dn2', available => true);
SELECT * FROM dc_nodes('dc_member', 'dc_member_ref');
SELECT count(*) AS hypertables FROM _hyperdist_catalog.hypertable WHERE relid = 'dc_member'::regclass;
SELECT count(*) AS reference_tables FROM _hyperdist_catalog.reference_table
 WHERE relid = 'dc_member_ref'::regclass;
SELECT count(*) FROM dc_member;
DROP EXTENSION citext;
SELECT to_regclass('dc_member') IS NULL AS ht_gone, to_regclass('dc_member_ref') IS NULL AS ref_gone;
SELECT * FROM dc_nodes('dc_member', 'dc_member_ref');
SELECT * FROM dc_orphans();
SELECT count(*) AS chunk_relations FROM pg_class
 WHERE relnamespace = '_hyperdist_internal'::regnamespace
   AND relname NOT IN (SELECT table_name FROM _hyperdist_catalog.chunk);

-- ---- the statements that name distributed objects drop them once ----------------
CREATE SCHEMA dc_s AUTHORIZATION regress_dc;
CALL distributed_exec($$CREATE SCHEMA dc_s AUTHORIZATION regress_dc$$);
CREATE TABLE dc_s.h (time timestamptz NOT NULL, v int);
ALTER TABLE dc_s.h OWNER TO regress_dc;
SELECT table_name FROM create_distributed_hypertable('dc_s.h', 'time', data_nodes => '{dn1,dn2}');
CREATE TABLE dc_s.r (id int PRIMARY KEY);
ALTER TABLE dc_s.r OWNER TO regress_dc;
SELECT create_reference_table('dc_s.r');
SET ROLE regress_dc;
INSERT INTO dc_s.h VALUES ('2026-01-01', 1);
CREATE MATERIALIZED VIEW dc_s.c WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', time) AS day, count(*) FROM dc_s.h GROUP BY 1;
CREATE VIEW dc_on_cagg AS SELECT * FROM dc_s.c;
DROP SCHEMA dc_s CASCADE;
SELECT * FROM dc_nodes('h', 'r');
CREATE MATERIALIZED VIEW dc_daily
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('1 day', time) AS day, count(*) FROM dc_ht GROUP BY 1;
SELECT add_continuous_aggregate_policy('dc_daily', start_offset => interval '10 days',
  end_offset => interval '1 hour', schedule_interval => interval '1 hour') > 0 AS policy;
-- an aggregate of materialized rows alone depends on its hypertable too
CREATE MATERIALIZED VIEW dc_mat_only WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', time) AS day, count(*) FROM dc_ht GROUP BY 1;
DROP TABLE dc_ht;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS caggs FROM hyperdist_information.continuous_aggregates
 WHERE hypertable_name = 'dc_ht';
DROP TABLE dc_ht CASCADE;
SELECT * FROM dc_nodes('dc_ht', 'dc_ref2');
SELECT to_regclass('dc_mat_only') AS view,
       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = '_hyperdist_cagg' AND c.relkind = 'r') AS materialized_tables;
DROP TABLE dc_ref2;
SELECT * FROM dc_nodes('dc_ht', 'dc_ref2');
SELECT * FROM dc_orphans();
RESET ROLE;
-- a reference table's foreign key to another goes with it everywhere
CREATE TABLE dc_parent (id int PRIMARY KEY);
CREATE TABLE dc_child (id int PRIMARY KEY, parent int REFERENCES dc_parent);
SELECT create_reference_table('dc_parent'), create_reference_table('dc_child');
DROP TABLE dc_parent CASCADE;
SELECT count(*) AS foreign_keys FROM pg_constraint WHERE conrelid = 'dc_child'::regclass AND contype = 'f';
SELECT * FROM _hyperdist_functions.data_node_query('dn3',
  $$SELECT count(*)::text FROM pg_constraint
     WHERE conrelid = 'public.dc_child'::regclass AND contype = 'f'$$) AS q(foreign_keys text);
DROP TABLE dc_child;
SELECT * FROM dc_nodes('dc_parent', 'dc_child');

DROP FUNCTION dc_nodes, dc_orphans;
REVOKE CREATE ON SCHEMA public FROM regress_dc;
DROP USER MAPPING FOR regress_dc SERVER dn1;
DROP USER MAPPING FOR regress_dc SERVER dn2;
DROP USER MAPPING FOR regress_dc SERVER dn3;
REVOKE USAGE ON FOREIGN SERVER dn1, dn2, dn3 FROM regress_dc;
DROP ROLE regress_dc;
CALL distributed_exec($$DROP FUNCTION dc_twice(int); DROP FUNCTION dc_positive(int);
  DROP TYPE dc_mood; DROP DOMAIN dc_code; DROP SEQUENCE dc_seq;
  DROP OWNED BY regress_dc; DROP ROLE regress_dc$$);
