-- Set-up for regress/t/013_differential.pl: the tables its corpus
-- (differential.sql) runs on.  cpu is a distributed hypertable over three
-- data nodes, cpu_rf2 another with replication factor 2, and cpu_local and
-- cpu_local_rev plain tables with the same rows (cpu_local_rev inserted in
-- another order: a corpus query whose result depends on the order of the
-- rows gives itself away).  hosts is a small local table for joins.
--
-- The rows are deterministic (generate_series and modular arithmetic, no
-- random()): 16 hosts every 10 minutes over 3 days (2024-01-01 to
-- 2024-01-04, so many rows lie exactly on the 6-hour chunk boundaries),
-- some (time, host) pairs left out, some rows twice, a few rows of a host
-- with no name, and NULLs in every nullable column.  The float8 columns
-- usage_* hold multiples of 1/16, so that their sums are exact whatever the order
-- of the summation.
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE cpu_local (
    time timestamptz NOT NULL,
    tags_id int,
    hostname text,
    usage_user float8, usage_system float8, usage_idle float8,
    usage_nice float8, usage_iowait float8, usage_irq float8,
    usage_softirq float8, usage_steal float8, usage_guest float8,
    usage_guest_nice float8,
    n numeric, big bigint, small smallint, flag bool, d date, ts timestamp,
    note text, js jsonb, arr int[], id uuid, iv interval, vc varchar(20), fx float8);

INSERT INTO cpu_local
SELECT '2024-01-01'::timestamptz + t * interval '10 minutes' AS time,
       CASE WHEN i % 61 <> 0 THEN h END AS tags_id,
       'host_' || h AS hostname,
       CASE WHEN i % 53 <> 1 THEN ((i * 7 + h * 13) % 1601) / 16.0 END,
       CASE WHEN i % 59 <> 2 THEN ((i * 11 + 5) % 1601) / 16.0 END,
       CASE WHEN i % 67 <> 3 THEN ((i * 17 + t) % 1601) / 16.0 END,
       CASE WHEN i % 71 <> 4 THEN ((i * 19 + 3 * h) % 1601) / 16.0 END,
       CASE WHEN i % 73 <> 5 THEN ((i * 23 + 11) % 1601) / 16.0 END,
       CASE WHEN i % 79 <> 6 THEN ((i * 29 + t * 3) % 1601) / 16.0 END,
       CASE WHEN i % 83 <> 7 THEN ((i * 31 + 7) % 1601) / 16.0 END,
       CASE WHEN i % 89 <> 8 THEN ((i * 37 + h) % 1601) / 16.0 END,
       CASE WHEN i % 97 <> 9 THEN ((i * 41 + 1) % 1601) / 16.0 END,
       CASE WHEN i % 101 <> 10 THEN ((i * 43 + 2 * t) % 1601) / 16.0 END,
       CASE WHEN i % 41 <> 0 THEN ((i * 37) % 10007) / 100.0 - 30 END AS n,
       CASE WHEN i % 43 <> 0 THEN (i::bigint * 2654435761) % 10000000007 - 5000000000 END AS big,
       CASE WHEN i % 47 <> 0 THEN (i % 200 - 100)::smallint END AS small,
       CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END AS flag,
       CASE WHEN i % 29 <> 0 THEN '2024-01-01'::date + (i % 10) END AS d,
       CASE WHEN i % 31 <> 0 THEN '2023-12-31 12:00'::timestamp + (i % 97) * interval '17 minutes' END AS ts,
       CASE WHEN i % 7 = 0 THEN NULL WHEN i % 7 = 1 THEN ''
            ELSE (ARRAY['alpha', 'Beta', 'gamma', 'Delta', 'épsilon', 'zeta_1', 'ZETA%2'])[i % 7 + 1] || (i % 5) END AS note,
       CASE WHEN i % 37 <> 0 THEN jsonb_build_object('a', i % 10,
            'b', CASE WHEN i % 4 <> 0 THEN 'x' || i % 3 END,
            'tags', jsonb_build_array(i % 2, i % 3)) END AS js,
       CASE WHEN i % 39 <> 0 THEN ARRAY[i % 5, i % 7, NULLIF(i % 3, 0)] END AS arr,
       CASE WHEN i % 26 <> 0 THEN md5((i % 500)::text)::uuid END AS id,
       CASE WHEN i % 59 <> 0 THEN make_interval(mins => i % 500, secs => i % 7) END AS iv,
       CASE WHEN i % 19 <> 0 THEN 'v' || (i % 13) END AS vc,
       CASE WHEN i % 23 <> 0 THEN i * 0.1 + h / 3.0 END AS fx
  FROM generate_series(0, 431) t, generate_series(0, 15) h,
       LATERAL (SELECT t * 16 + h AS i) x
 WHERE (t * 31 + h * 17) % 23 <> 0;

-- some rows twice (same values), some rows with the same time and host but
-- other values, some rows of a host without a name (the space dimension is
-- NULL)
INSERT INTO cpu_local SELECT * FROM cpu_local
 WHERE hostname IN ('host_3', 'host_11') AND extract(minute FROM time) = 30
   AND extract(hour FROM time)::int % 5 = 0;
INSERT INTO cpu_local
SELECT time, tags_id, hostname, usage_user + 1, usage_system, usage_idle,
       usage_nice, usage_iowait, usage_irq, usage_softirq, usage_steal,
       usage_guest, usage_guest_nice, n, big, small, NOT flag, d, ts,
       note, js, arr, id, iv, vc, fx
  FROM cpu_local
 WHERE hostname = 'host_7' AND extract(hour FROM time) = 12
   AND extract(minute FROM time) = 0;
INSERT INTO cpu_local (time, tags_id, hostname, usage_user, usage_idle, note)
SELECT '2024-01-02'::timestamptz + g * interval '6 hours', 99, NULL,
       g * 2.5, 100 - g, 'nameless'
  FROM generate_series(-1, 4) g;
-- and special values (infinities, extremes, odd text and arrays), on the
-- nameless host only
INSERT INTO cpu_local (time, tags_id, hostname, usage_guest, usage_steal, n, fx, note)
VALUES ('2024-01-02 03:00', 99, NULL, 'NaN', '-Infinity', 'NaN', 'Infinity', 'special');
INSERT INTO cpu_local (time, tags_id, hostname, n, big, small, d, ts, note, js, arr, iv, vc, fx)
VALUES ('2024-01-02 09:00', 99, NULL, 'Infinity', 9223372036854775807, -32768, 'infinity', '-infinity',
        E'tab\there\nnew line \\ back ''quote'' "dq" 日本語 🙂',
        '{"nested": {"deep": [1, {"x": null}]}, "uni": "é日", "num": 1.5e300}',
        '{{1,2},{3,4}}', '-1 year -2 mons +3 days 04:05:06.789', '', 1e-300),
       ('2024-01-02 15:00', 99, NULL, '-Infinity', -9223372036854775808, 32767, '-infinity', 'infinity',
        'x', '[]', '{}', '1000 years', 'v', '-0'),
       ('2024-01-02 21:00', 99, NULL, 1234567.1234567890123456789012345, 0, 0, '4713-01-01 BC',
        '0044-03-15 12:00 BC', repeat('long', 1000), '"scalar"', '[0:2]={7,8,9}',
        '00:00:00.000001', 'vvvvvvvvvvvvvvvvvvvv', 5e-324),
       ('2024-01-03 03:00', 99, NULL, NULL, NULL, NULL, NULL, NULL, repeat('big', 70000),
        NULL, NULL, NULL, NULL, NULL);

CREATE TABLE cpu_local_rev (LIKE cpu_local);
INSERT INTO cpu_local_rev SELECT * FROM cpu_local ORDER BY time DESC, hostname DESC NULLS LAST, usage_user;

CREATE TABLE cpu (LIKE cpu_local);
SELECT table_name FROM create_distributed_hypertable('cpu', 'time', 'hostname',
  chunk_time_interval => interval '6 hours');
INSERT INTO cpu SELECT * FROM cpu_local;

-- cpu_rf2 went through DDL: a column dropped in the middle, fx added last
CREATE TABLE cpu_rf2 (
    time timestamptz NOT NULL,
    tags_id int,
    junk text,
    hostname text,
    usage_user float8, usage_system float8, usage_idle float8,
    usage_nice float8, usage_iowait float8, usage_irq float8,
    usage_softirq float8, usage_steal float8, usage_guest float8,
    usage_guest_nice float8,
    n numeric, big bigint, small smallint, flag bool, d date, ts timestamp,
    note text, js jsonb, arr int[], id uuid, iv interval, vc varchar(20));
SELECT table_name FROM create_distributed_hypertable('cpu_rf2', 'time', 'hostname',
  chunk_time_interval => interval '6 hours', replication_factor => 2);
ALTER TABLE cpu_rf2 DROP COLUMN junk;
ALTER TABLE cpu_rf2 ADD COLUMN fx float8;
INSERT INTO cpu_rf2 SELECT * FROM cpu_local_rev;

-- hosts without rows (host_20, host_21), hosts with rows missing here
-- (host_14, host_15), NULL regions
CREATE TABLE hosts (hostname text PRIMARY KEY, region text, datacenter text,
                    rack int, os text, service_version int);
INSERT INTO hosts
SELECT 'host_' || h,
       CASE WHEN h % 6 <> 5 THEN (ARRAY['eu-west-1', 'us-east-1', 'ap-south-1'])[h % 3 + 1] END,
       (ARRAY['dc-a', 'dc-b'])[h % 2 + 1] || '-' || h % 4,
       h % 5, CASE WHEN h % 2 = 0 THEN 'Ubuntu' ELSE 'Debian' END, 100 + h % 3
  FROM generate_series(0, 13) h
UNION ALL VALUES ('host_20', 'us-east-1', 'dc-z', 1, 'Ubuntu', 1),
                 ('host_21', NULL, 'dc-z', NULL, NULL, NULL);

-- local functions: never shipped to the data nodes
CREATE FUNCTION plus1(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS 'BEGIN RETURN $1 + 1; END';
CREATE FUNCTION is_even_vol(int) RETURNS bool LANGUAGE plpgsql VOLATILE
  AS 'BEGIN RETURN $1 % 2 = 0; END';
CREATE FUNCTION host_no(text) RETURNS int LANGUAGE sql IMMUTABLE
  AS $$SELECT substring($1 from '[0-9]+')::int$$;

ANALYZE cpu_local, cpu_local_rev, hosts;
SELECT (SELECT count(*) FROM cpu), (SELECT count(*) FROM cpu_rf2),
       (SELECT count(*) FROM cpu_local), (SELECT count(*) FROM cpu_local_rev);
