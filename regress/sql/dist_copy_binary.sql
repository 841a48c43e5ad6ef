--
-- COPY FROM in binary format into distributed hypertables: the access node
-- decodes only the dimension columns (to route the row) and forwards every
-- field's bytes unchanged; the data nodes' binary COPY decodes the rest.  A
-- file written by COPY TO (FORMAT binary) from a plain table is loaded into
-- a local table and into hypertables with replication factors 1 and 2: rows
-- must be identical.  A value of another column that a data node rejects
-- fails with the node named, which shows the row went there undecoded
-- (PostgreSQL's COPY through the foreign table rejects it on the access
-- node, as the fallback cases show).  Broken streams fail on the access node
-- with 22P04 and load nothing.
-- Runs after dist_copy (uses the data nodes dist_hypertable leaves).
--
-- show command tags: row counts are part of the result
\set QUIET off
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE cb_src (time timestamptz NOT NULL, dev int NOT NULL, v float8,
                     n numeric(12,4), ok bool, doc jsonb, note text,
                     ints int[], words text[], d date, big bigint,
                     span interval, id uuid, raw bytea, code varchar(5));
INSERT INTO cb_src
SELECT '2024-01-01'::timestamptz + i * interval '37 minutes', i % 7,
       CASE i % 50 WHEN 0 THEN 'NaN' WHEN 1 THEN '-Infinity' ELSE i / 3.0 END,
       i * 1.2345, CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END,
       jsonb_build_object('i', i, 'a', jsonb_build_array(i, 'x', NULL)),
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'n' || i || E'\t\\ ünï ✓ 雪\n' END,
       ARRAY[i, NULL, -i], CASE WHEN i % 4 = 0 THEN NULL ELSE ARRAY['a b', NULL, '{'] END,
       '2024-02-29'::date + i, i::bigint << 40, i * interval '1 day 3 seconds',
       md5(i::text)::uuid, decode(lpad(to_hex(i), 6, '0'), 'hex'), left('abcdefg', i % 6)
  FROM generate_series(1, 600) i;
INSERT INTO cb_src (time, dev) VALUES ('2024-01-01', 0);
-- rows larger than a read of the input
INSERT INTO cb_src (time, dev, note, words)
VALUES ('2024-01-02', 1, repeat('long ', 60000), ARRAY[repeat('x', 70000), repeat('y', 70000)]);
\copy cb_src TO 'dist_copy_binary.bin' (FORMAT binary)
-- the file in psql's directory, for the server too
\set cwd `pwd`
SELECT :'cwd' || '/dist_copy_binary.bin' AS bin_file \gset

CREATE TABLE cb1 (LIKE cb_src);
CREATE TABLE cb2 (LIKE cb_src);
CREATE TABLE cb_local (LIKE cb_src);
SELECT table_name FROM create_distributed_hypertable('cb1', 'time', 'dev', replication_factor => 1);
SELECT table_name FROM create_distributed_hypertable('cb2', 'time', 'dev', replication_factor => 2);

-- rows of a table (read through the access node) that cb_local lacks or has
-- more of: none
CREATE FUNCTION cb_diff(tab regclass) RETURNS TABLE (side text, n bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT ''only in %1$s'', count(*) FROM (SELECT * FROM %1$s EXCEPT ALL SELECT * FROM cb_local) a
     UNION ALL
     SELECT ''only in cb_local'', count(*) FROM (SELECT * FROM cb_local EXCEPT ALL SELECT * FROM %1$s) b',
    tab);
END $$;

-- rows stored on each data node
CREATE FUNCTION cb_stored(tab text) RETURNS TABLE (node_name name, stored bigint)
LANGUAGE sql AS $$
  SELECT n.node_name, q.rows
    FROM hyperdist_information.data_nodes n,
         LATERAL _hyperdist_functions.data_node_query(n.node_name,
           format('SELECT count(*) FROM public.%I', tab)) AS q(rows bigint)
   ORDER BY 1
$$;

-- ---- the file, several batches per data node ------------------------------
-- (read by the server, and sent by psql as COPY FROM STDIN)
SET hyperdist.max_insert_batch_size = 7;
COPY cb1 FROM :'bin_file' (FORMAT binary);
\copy cb2 FROM 'dist_copy_binary.bin' (FORMAT binary)
RESET hyperdist.max_insert_batch_size;
\copy cb_local FROM 'dist_copy_binary.bin' (FORMAT binary)
SELECT * FROM cb_diff('cb1');
SELECT * FROM cb_diff('cb2');
SELECT * FROM cb_stored('cb1');
SELECT * FROM cb_stored('cb2');
SELECT sum(stored) = 2 * (SELECT count(*) FROM cb2) AS every_row_twice FROM cb_stored('cb2');

-- ---- a column list in another order ---------------------------------------
\copy (SELECT note, dev, v, time FROM cb_src WHERE dev = 3) TO 'dist_copy_binary.bin' (FORMAT binary)
\copy cb2 (note, dev, v, time) FROM 'dist_copy_binary.bin' (FORMAT binary)
\copy cb_local (note, dev, v, time) FROM 'dist_copy_binary.bin' (FORMAT binary)
SELECT * FROM cb_diff('cb2');

-- ---- streams written here: (time, dev, v) rows ----------------------------
-- A field: its length and bytes, or -1 for NULL.  A row: the field count and
-- its fields.  The files are written into the access node's data directory,
-- which is where COPY FROM reads a relative path.
CREATE FUNCTION cb_field(b bytea) RETURNS bytea LANGUAGE sql AS $$
  SELECT CASE WHEN b IS NULL THEN '\xffffffff'::bytea ELSE int4send(length(b)) || b END
$$;
CREATE FUNCTION cb_row(t timestamptz, d int, v float8) RETURNS bytea LANGUAGE sql AS $$
  SELECT int2send(3::int2) || cb_field(timestamptz_send(t)) || cb_field(int4send(d))
         || cb_field(float8send(v))
$$;
CREATE PROCEDURE cb_write(name text, rows bytea,
                          header bytea DEFAULT '\x5047434f50590aff0d0a000000000000000000',
                          trailer bytea DEFAULT '\xffff')
LANGUAGE plpgsql AS $$
DECLARE
  o oid := lo_from_bytea(0, header || rows || trailer);
BEGIN
  PERFORM lo_export(o, name);
  PERFORM lo_unlink(o);
END $$;
-- rows for every data node, then one that goes wrong
CREATE FUNCTION cb_good() RETURNS bytea LANGUAGE sql AS $$
  SELECT string_agg(cb_row('2024-05-01'::timestamptz + i * interval '1 hour', i, i), ''::bytea)
    FROM generate_series(1, 12) i
$$;

CALL cb_write('cb_ok.bin', cb_good());
SET hyperdist.max_insert_batch_size = 2;
COPY cb2 (time, dev, v) FROM 'cb_ok.bin' (FORMAT binary);
SELECT count(*) FROM cb2 WHERE time >= '2024-05-01';
BEGIN;
COPY cb2 (time, dev, v) FROM 'cb_ok.bin' (FORMAT binary);
SELECT count(*) FROM cb2 WHERE time >= '2024-05-01';
ROLLBACK;
SELECT count(*) FROM cb2 WHERE time >= '2024-05-01';

-- a forwarded value a data node rejects (9 bytes for a float8): the node
-- is named, with the line of its batch and of the input
CALL cb_write('cb_bad.bin', cb_good() || int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1))
  || cb_field(float8send(1) || '\x00'::bytea));
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- a dimension value decoded here: COPY's context, no data node
CALL cb_write('cb_bad.bin', cb_good() || int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02') || '\x00'::bytea) || cb_field(int4send(1))
  || cb_field(float8send(1)));
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
CALL cb_write('cb_bad.bin', cb_good() || cb_row(NULL, 1, 1));
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- a wrong signature
CALL cb_write('cb_bad.bin', cb_good(), '\x5047434f50590aff0d0a010000000000000000');
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- a row with one field too few
CALL cb_write('cb_bad.bin', cb_good() || int2send(2::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1)));
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- a field length below -1
CALL cb_write('cb_bad.bin', cb_good() || int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1)) || int4send(-2));
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- a field length past MaxAllocSize
CALL cb_write('cb_bad.bin', cb_good() || int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1))
  || int4send(1073741824) || '\x00'::bytea);
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- the stream ends within a field
CALL cb_write('cb_bad.bin', cb_good() || int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1))
  || int4send(8) || '\x0000'::bytea, trailer => '');
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- data after the trailer
CALL cb_write('cb_bad.bin', cb_good(), trailer => '\xffff00');
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- the same from the client (psql's \copy sends the file as COPY FROM STDIN)
CALL cb_write(:'bin_file', cb_good() || int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1))
  || int4send(8) || '\x0000'::bytea, trailer => '');
\copy cb2 (time, dev, v) FROM 'dist_copy_binary.bin' (FORMAT binary)
\echo :LAST_ERROR_SQLSTATE
CALL cb_write(:'bin_file', cb_good(), trailer => '\xffff00');
\copy cb2 (time, dev, v) FROM 'dist_copy_binary.bin' (FORMAT binary)
\echo :LAST_ERROR_SQLSTATE
-- the session goes on
CALL cb_write(:'bin_file', cb_row('2024-05-02', 1, 1) || cb_row('2024-05-02', 2, 2));
\copy cb2 (time, dev, v) FROM 'dist_copy_binary.bin' (FORMAT binary)
DELETE FROM cb2 WHERE time >= '2024-05-02';
RESET hyperdist.max_insert_batch_size;
-- nothing of them was loaded
SELECT count(*) FROM cb2 WHERE time >= '2024-05-01';
SELECT * FROM cb_stored('cb2');

-- ---- what the access node decodes whole -----------------------------------
-- a WHERE clause: the value is rejected here, no data node named
CALL cb_write('cb_bad.bin', int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-02')) || cb_field(int4send(1))
  || cb_field(float8send(1) || '\x00'::bytea));
COPY cb2 (time, dev, v) FROM 'cb_bad.bin' (FORMAT binary) WHERE true;
\echo :LAST_ERROR_SQLSTATE
-- a client encoding not the database's: binary text arrives in it ('é' in
-- LATIN1 is the byte e9) and is converted here
CALL cb_write('cb_latin1.bin', int2send(3::int2)
  || cb_field(timestamptz_send('2024-05-03')) || cb_field(int4send(1))
  || cb_field('\x636166e9'::bytea));
SET client_encoding = 'LATIN1';
COPY cb2 (time, dev, note) FROM 'cb_latin1.bin' (FORMAT binary);
RESET client_encoding;
SELECT time, dev, note FROM cb2 WHERE time >= '2024-05-03';
-- a type that is not built in: its OID, which its arrays' binary form holds,
-- differs on the data nodes
CREATE TYPE cb_mood AS ENUM ('calm', 'busy');
CALL distributed_exec($$CREATE TYPE cb_mood AS ENUM ('calm', 'busy')$$);
CREATE TABLE cb_enum (time timestamptz NOT NULL, dev int, mood cb_mood, moods cb_mood[]);
CREATE TABLE cb_enum_local (LIKE cb_enum);
SELECT table_name FROM create_distributed_hypertable('cb_enum', 'time', 'dev', replication_factor => 2);
\copy (SELECT '2024-01-01'::timestamptz + i * interval '1 day', i, CASE WHEN i % 2 = 0 THEN 'calm' ELSE 'busy' END::cb_mood, ARRAY['busy', NULL]::cb_mood[] FROM generate_series(1, 20) i) TO 'dist_copy_binary.bin' (FORMAT binary)
\copy cb_enum FROM 'dist_copy_binary.bin' (FORMAT binary)
\copy cb_enum_local FROM 'dist_copy_binary.bin' (FORMAT binary)
SELECT count(*) FROM (SELECT * FROM cb_enum EXCEPT ALL SELECT * FROM cb_enum_local) a;
SELECT count(*) FROM (SELECT * FROM cb_enum_local EXCEPT ALL SELECT * FROM cb_enum) a;

DROP TABLE cb_src, cb1, cb2, cb_local, cb_enum, cb_enum_local;
DROP TYPE cb_mood;
CALL distributed_exec('DROP TYPE cb_mood');
DROP PROCEDURE cb_write;
DROP FUNCTION cb_diff, cb_stored, cb_field, cb_row, cb_good;
