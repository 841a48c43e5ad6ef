--
-- Triggers on distributed hypertables, as TimescaleDB 2.13 ran them: row
-- triggers fire on the data nodes, on the chunks the rows reach (their
-- functions exist there, made with distributed_exec); statement triggers
-- fire once per statement on the access node.  CREATE, DROP, RENAME,
-- ENABLE/DISABLE; triggers of a table made a distributed hypertable; a new
-- chunk, a moved chunk and an attached data node get them, and a move
-- fires none; what is refused, with SQLSTATEs.
-- Runs on the data nodes dn1..dn3 data_nodes leaves; the catalog's
-- sequences are set for chunk names that do not depend on earlier suites,
-- and put back at the end.
--
\set SHOW_CONTEXT never
SELECT (SELECT last_value FROM _hyperdist_catalog.hypertable_id_seq) AS ht_seq,
       (SELECT last_value FROM _hyperdist_catalog.dimension_id_seq) AS dim_seq,
       (SELECT last_value FROM _hyperdist_catalog.time_slice_id_seq) AS slice_seq,
       (SELECT last_value FROM _hyperdist_catalog.chunk_id_seq) AS chunk_seq \gset
SELECT setval('_hyperdist_catalog.hypertable_id_seq', 400) AS ht_seq,
       setval('_hyperdist_catalog.chunk_id_seq', 4000) AS chunk_seq;

-- On dn1 and dn2 (dn3 gets them when it is attached): a log of row events,
-- a function that logs, one that changes the row.
SELECT $dn$
CREATE TABLE trg_events (tg_when text, tg_op text, tg_name text, dev text);
CREATE FUNCTION trg_log() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO public.trg_events
  VALUES (TG_WHEN, TG_OP, TG_NAME, CASE TG_OP WHEN 'DELETE' THEN OLD.dev ELSE NEW.dev END);
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $f$;
CREATE FUNCTION trg_bump() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  NEW.v := NEW.v + 100;
  RETURN NEW;
END $f$;
$dn$ AS trg_dn_objects \gset
CALL distributed_exec(:'trg_dn_objects', '{dn1, dn2}');
-- statement triggers log here
CREATE TABLE trg_statements (tg_when text, tg_op text, tg_name text);
CREATE FUNCTION trg_statement() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO trg_statements VALUES (TG_WHEN, TG_OP, TG_NAME);
  RETURN NULL;
END $f$;

-- the triggers of each data node's tables of trg (root, chunks)
CREATE VIEW trg_nodes AS
SELECT hdn.node_name
  FROM _hyperdist_catalog.hypertable_data_node hdn
  JOIN _hyperdist_catalog.hypertable h ON h.id = hdn.hypertable_id
 WHERE h.relid = to_regclass('trg');
CREATE VIEW trg_on_nodes AS
SELECT n.node_name, q.*
  FROM trg_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         $q$SELECT c.relname, t.tgname, t.tgenabled::text
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE c.oid IN (SELECT relid FROM pg_partition_tree('public.trg'))
               AND NOT t.tgisinternal$q$)
       AS q(rel name, tgname name, enabled text)
 ORDER BY 1, 2, 3;
-- the row events each data node logged
CREATE VIEW trg_logged AS
SELECT n.node_name, q.*
  FROM trg_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT tg_when, tg_op, tg_name, dev, count(*) FROM trg_events GROUP BY 1, 2, 3, 4')
       AS q(tg_when text, tg_op text, tg_name text, dev text, n bigint)
 ORDER BY 1, 2, 3, 4, 5;

-- ---- a table's triggers go with it when it is distributed ----------------------
CREATE TABLE trg (time int NOT NULL, dev text NOT NULL, v int);
-- a row trigger of a local table needs its function here too
CREATE FUNCTION trg_log() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION 'row triggers do not fire on the access node';
END $f$;
CREATE TRIGGER z_log AFTER INSERT OR UPDATE OR DELETE ON trg
  FOR EACH ROW EXECUTE FUNCTION trg_log();
CREATE TRIGGER s_before BEFORE INSERT OR UPDATE OR DELETE ON trg
  FOR EACH STATEMENT EXECUTE FUNCTION trg_statement();
CREATE TRIGGER s_after AFTER INSERT ON trg
  FOR EACH STATEMENT EXECUTE FUNCTION trg_statement();
ALTER TABLE trg DISABLE TRIGGER s_after;
SELECT table_name FROM create_distributed_hypertable('trg', 'time', chunk_time_interval => 10,
                                                     data_nodes => '{dn1, dn2}');
-- row triggers of the data nodes: the function need not exist here
CREATE TRIGGER a_bump BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION trg_bump();
CREATE TRIGGER w_dev1 AFTER INSERT ON trg
  FOR EACH ROW WHEN (NEW.dev = 'dev1') EXECUTE FUNCTION trg_log();
-- the access node keeps the statement triggers only
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'trg'::regclass ORDER BY 1;
SELECT * FROM trg_on_nodes;

-- ---- rows fire the row triggers where they are stored --------------------------
INSERT INTO trg VALUES (1, 'dev1', 1), (2, 'dev2', 2), (11, 'dev1', 3);
SELECT * FROM trg ORDER BY time;
SELECT c.table_name, cdn.node_name
  FROM _hyperdist_catalog.chunk c JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
 WHERE c.table_name LIKE '_dist_hyper_401_%' ORDER BY 1;
-- the new chunks have the clones of the root's triggers
SELECT * FROM trg_on_nodes;
UPDATE trg SET v = v + 1 WHERE dev = 'dev2';
DELETE FROM trg WHERE time = 11;
COPY trg FROM STDIN;
12	dev3	5
\.
SELECT * FROM trg ORDER BY time;
SELECT * FROM trg_logged;
SELECT tg_when, tg_op, tg_name, count(*) FROM trg_statements GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- ---- RENAME, DISABLE, ENABLE, DROP ---------------------------------------------
ALTER TRIGGER z_log ON trg RENAME TO z_logged;
ALTER TABLE trg DISABLE TRIGGER a_bump;
ALTER TABLE trg ENABLE TRIGGER s_after;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'trg'::regclass ORDER BY 1;
SELECT * FROM trg_on_nodes;
-- into existing chunks: a_bump is off there too
INSERT INTO trg VALUES (3, 'dev4', 1), (13, 'dev4', 1);
SELECT * FROM trg WHERE dev = 'dev4' ORDER BY time;
ALTER TABLE trg DISABLE TRIGGER USER;
INSERT INTO trg VALUES (4, 'dev5', 1);
ALTER TABLE trg ENABLE TRIGGER ALL;
INSERT INTO trg VALUES (5, 'dev6', 1);
SELECT * FROM trg WHERE dev IN ('dev5', 'dev6') ORDER BY time;
SELECT * FROM trg_logged;
DROP TRIGGER w_dev1 ON trg;
DROP TRIGGER IF EXISTS w_dev1 ON trg;
DROP TRIGGER s_after ON trg;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'trg'::regclass ORDER BY 1;
SELECT * FROM trg_on_nodes;

-- ---- a moved chunk keeps its triggers, and the move fires none -----------------
TRUNCATE trg_statements;
CALL distributed_exec('TRUNCATE trg_events', '{dn1, dn2}');
CALL move_chunk('_hyperdist_internal._dist_hyper_401_4001_chunk', 'dn2', 'dn1');
SELECT c.table_name, cdn.node_name
  FROM _hyperdist_catalog.chunk c JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
 WHERE c.table_name LIKE '_dist_hyper_401_%' ORDER BY 1;
SELECT * FROM trg_logged;
SELECT * FROM trg ORDER BY time;
SELECT * FROM trg_on_nodes;
INSERT INTO trg VALUES (6, 'dev7', 1);
SELECT * FROM trg WHERE dev = 'dev7';
SELECT * FROM trg_logged;

-- ---- a heal copies a stale replica's rows, and fires no trigger ----------------
CREATE TABLE trg_rep (time int NOT NULL, dev text NOT NULL, v int);
SELECT table_name FROM create_distributed_hypertable('trg_rep', 'time', chunk_time_interval => 100,
                                                     replication_factor => 2,
                                                     data_nodes => '{dn1, dn2}');
CREATE TRIGGER z_log AFTER INSERT OR DELETE ON trg_rep FOR EACH ROW EXECUTE FUNCTION trg_log();
INSERT INTO trg_rep VALUES (1, 'h1', 1);
CALL distributed_exec('TRUNCATE trg_events', '{dn1, dn2}');
SELECT node_name, available FROM alter_data_node('dn2', available => false);
INSERT INTO trg_rep VALUES (2, 'h2', 2), (3, 'h3', 3);
SELECT node_name, available FROM alter_data_node('dn2', available => true);
-- the healer copies dn1's replica to dn2 (waited for, at most two minutes)
DO $$
BEGIN
  FOR i IN 1 .. 600 LOOP
    EXIT WHEN NOT EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn
                            JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id
                           WHERE c.table_name LIKE '_dist_hyper_402_%'
                             AND cdn.status <> 'current');
    PERFORM pg_sleep(0.2);
  END LOOP;
END $$;
SELECT cdn.node_name, cdn.status
  FROM _hyperdist_catalog.chunk_data_node cdn
  JOIN _hyperdist_catalog.chunk c ON c.id = cdn.chunk_id
 WHERE c.table_name LIKE '_dist_hyper_402_%' ORDER BY 1;
SELECT n.node_name, q.*
  FROM (VALUES ('dn1'), ('dn2')) n(node_name),
       LATERAL _hyperdist_functions.data_node_query(n.node_name::name,
         'SELECT (SELECT string_agg(dev, '','' ORDER BY dev) FROM trg_rep),
                 (SELECT string_agg(dev, '','' ORDER BY dev) FROM trg_events)')
       AS q(stored text, logged text)
 ORDER BY 1;
DROP TABLE trg_rep;

-- ---- an attached data node gets the row triggers -------------------------------
-- not while their functions are missing there: dn3's error, nothing attached
SELECT node_name FROM attach_data_node('dn3', 'trg');
\echo :LAST_ERROR_SQLSTATE
SELECT node_name FROM hyperdist_information.data_nodes n
 WHERE EXISTS (SELECT FROM _hyperdist_catalog.hypertable_data_node hdn
                WHERE hdn.node_name = n.node_name
                  AND hdn.hypertable_id = (SELECT id FROM _hyperdist_catalog.hypertable
                                            WHERE relid = 'trg'::regclass))
 ORDER BY 1;
CALL distributed_exec(:'trg_dn_objects', '{dn3}');
ALTER TABLE trg DISABLE TRIGGER a_bump;
SELECT node_name FROM attach_data_node('dn3', 'trg');
SELECT * FROM trg_on_nodes WHERE node_name = 'dn3';
-- a chunk placed on dn3
INSERT INTO trg SELECT t, 'dev8', 1 FROM generate_series(20, 60, 10) t;
SELECT * FROM trg_on_nodes WHERE node_name = 'dn3';
SELECT * FROM trg_logged WHERE node_name = 'dn3';

-- ---- refused, with SQLSTATEs; nothing applied anywhere -------------------------
-- a function missing on a data node: that node's error, no trigger anywhere
\set SHOW_CONTEXT errors
CREATE TRIGGER nofunc BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION trg_nowhere();
\set SHOW_CONTEXT never
\echo :LAST_ERROR_SQLSTATE
CALL distributed_exec('CREATE FUNCTION trg_partial() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$', '{dn1}');
CREATE TRIGGER partial BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION trg_partial();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM trg_on_nodes WHERE tgname IN ('nofunc', 'partial');
-- constraint triggers, transition tables, TRUNCATE triggers (0A000)
CREATE CONSTRAINT TRIGGER c_log AFTER INSERT ON trg FOR EACH ROW EXECUTE FUNCTION trg_log();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER t_log AFTER INSERT ON trg REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION trg_statement();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER t_trunc BEFORE TRUNCATE ON trg FOR EACH STATEMENT EXECUTE FUNCTION trg_statement();
\echo :LAST_ERROR_SQLSTATE
-- ENABLE ALWAYS/REPLICA, trigger subcommands with others (0A000)
ALTER TABLE trg ENABLE ALWAYS TRIGGER z_logged;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE trg ENABLE REPLICA TRIGGER s_before;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE trg ENABLE TRIGGER a_bump, ALTER COLUMN v SET DEFAULT 0;
\echo :LAST_ERROR_SQLSTATE
-- a name the other kind uses (42710)
CREATE TRIGGER z_logged AFTER INSERT ON trg FOR EACH STATEMENT EXECUTE FUNCTION trg_statement();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER s_before BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION trg_bump();
\echo :LAST_ERROR_SQLSTATE
ALTER TRIGGER a_bump ON trg RENAME TO s_before;
\echo :LAST_ERROR_SQLSTATE
-- a trigger nobody has (42704)
DROP TRIGGER nosuch ON trg;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE trg DISABLE TRIGGER nosuch;
\echo :LAST_ERROR_SQLSTATE
-- a role that does not own the hypertable (42501), even with TRIGGER
CREATE ROLE trg_other;
CALL distributed_exec('CREATE ROLE trg_other');
GRANT TRIGGER ON trg TO trg_other;
SET ROLE trg_other;
CREATE TRIGGER other_bump BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION trg_bump();
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER z_logged ON trg;
\echo :LAST_ERROR_SQLSTATE
ALTER TRIGGER z_logged ON trg RENAME TO other;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE trg DISABLE TRIGGER z_logged;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM trg_on_nodes WHERE node_name = 'dn1';

-- ---- clean up; the next suites' chunk names do not depend on this one ----
DROP VIEW trg_on_nodes, trg_logged, trg_nodes;
DROP TABLE trg;
DROP TABLE trg_statements;
DROP FUNCTION trg_statement(), trg_log();
DROP ROLE trg_other;
CALL distributed_exec('DROP TABLE trg_events; DROP FUNCTION trg_log(), trg_bump(); DROP ROLE trg_other');
CALL distributed_exec('DROP FUNCTION trg_partial()', '{dn1}');
SELECT setval('_hyperdist_catalog.hypertable_id_seq', :ht_seq) AS ht_seq,
       setval('_hyperdist_catalog.dimension_id_seq', :dim_seq) AS dim_seq,
       setval('_hyperdist_catalog.time_slice_id_seq', :slice_seq) AS slice_seq,
       setval('_hyperdist_catalog.chunk_id_seq', :chunk_seq) AS chunk_seq \gset
