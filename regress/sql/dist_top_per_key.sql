--
-- A LATERAL subquery taking the first row of a distributed hypertable per
-- row of the outer query, `JOIN LATERAL (SELECT ... WHERE c.k = t.x ORDER BY
-- ... LIMIT 1)`, runs as one scan of the first row of every key (DISTINCT ON
-- (k), shipped as the skip scan) joined on k = t.x (fdw/top_per_key.c),
-- instead of one remote query per outer row.  Every query runs on two
-- distributed hypertables (replication factor 1 and 2) and on a local table
-- with the same rows, and must return the same rows.  Needs dn1..dn3.
--
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE tk_hosts (id int PRIMARY KEY, name text, grp int);
INSERT INTO tk_hosts SELECT g, 'host_' || g, g % 3 FROM generate_series(0, 14) g;
INSERT INTO tk_hosts VALUES (100, 'no rows', 0);

-- 12 hosts (ids 0..11; 12..14 have no rows), one row per host and minute,
-- no two rows of a host at the same time; some values NULL
CREATE TABLE tk_loc (time timestamptz NOT NULL, host_id int, val float8, note text);
INSERT INTO tk_loc
SELECT '2024-01-01'::timestamptz + (i / 12) * interval '1 minute', i % 12,
       CASE WHEN i % 17 <> 0 THEN (i * 31) % 97 END, 'n' || i % 5
  FROM generate_series(0, 12 * 600 - 1) i;
-- host 11's rows stop early, and a NULL host_id
DELETE FROM tk_loc WHERE host_id = 11 AND time > '2024-01-01 03:00';
INSERT INTO tk_loc VALUES ('2024-01-01 12:00', NULL, 1, 'null host');
CREATE TABLE tk1 (LIKE tk_loc);
SELECT table_name FROM create_distributed_hypertable('tk1', 'time', 'host_id',
  number_partitions => 3, chunk_time_interval => interval '3 hours',
  replication_factor => 1);
CREATE TABLE tk2 (LIKE tk_loc);
SELECT table_name FROM create_distributed_hypertable('tk2', 'time', 'host_id',
  number_partitions => 3, chunk_time_interval => interval '3 hours',
  replication_factor => 2);
INSERT INTO tk1 SELECT * FROM tk_loc;
INSERT INTO tk2 SELECT * FROM tk_loc;
ANALYZE tk1, tk2, tk_loc, tk_hosts;

-- one scan of every key's newest row, joined here, instead of a nested loop
EXPLAIN (COSTS OFF)
SELECT DISTINCT ON (h.name) * FROM tk_hosts h
  JOIN LATERAL (SELECT * FROM tk1 c WHERE c.host_id = h.id ORDER BY time DESC LIMIT 1) b ON true
 ORDER BY h.name, b.time DESC;
-- the key not among the subquery's columns: it is added, the query's columns unchanged
EXPLAIN (VERBOSE, COSTS OFF)
SELECT h.name, b.* FROM tk_hosts h
  LEFT JOIN LATERAL (SELECT time, val FROM tk1 c WHERE h.id = c.host_id ORDER BY time LIMIT 1) b ON true;
-- not the first row alone: left as it is
EXPLAIN (COSTS OFF)
SELECT * FROM tk_hosts h
  JOIN LATERAL (SELECT * FROM tk1 c WHERE c.host_id = h.id ORDER BY time DESC LIMIT 2) b ON true;

SELECT left(regexp_replace(c.q, '\s+', ' ', 'g'), 100) AS query, r.*
  FROM (VALUES
    ($$SELECT DISTINCT ON (h.name) * FROM tk_hosts h JOIN LATERAL
      (SELECT * FROM TBL c WHERE c.host_id = h.id ORDER BY time DESC LIMIT 1) b ON true
      ORDER BY h.name, b.time DESC$$),
    ($$SELECT h.name, b.* FROM tk_hosts h LEFT JOIN LATERAL
      (SELECT time, val FROM TBL c WHERE h.id = c.host_id ORDER BY time LIMIT 1) b ON true
      ORDER BY 1$$),
    ($$SELECT h.name, b.* FROM tk_hosts h LEFT JOIN LATERAL
      (SELECT time, val FROM TBL c WHERE c.host_id = h.id AND val > 90 AND time < '2024-01-01 05:00'
       ORDER BY time DESC LIMIT 1) b ON b.val > 95 ORDER BY 1$$),
    ($$SELECT h.name, b.time FROM tk_hosts h, LATERAL
      (SELECT time FROM TBL c WHERE c.host_id = h.id + 1 ORDER BY val DESC NULLS LAST, time LIMIT 1) b
      WHERE h.grp = 1 ORDER BY 1$$),
    -- the subquery's rows read whole: no column may be added, left as it is
    ($$SELECT h.name, b FROM tk_hosts h LEFT JOIN LATERAL
      (SELECT time, val FROM TBL c WHERE c.host_id = h.id ORDER BY time LIMIT 1) b ON true
      ORDER BY 1$$),
    ($$SELECT h.name, b FROM tk_hosts h LEFT JOIN LATERAL
      (SELECT time, host_id FROM TBL c WHERE c.host_id = h.id ORDER BY time LIMIT 1) b ON true
      ORDER BY 1$$),
    ($$SELECT h.name, b.note, b.time FROM tk_hosts h JOIN LATERAL
      (SELECT note, time FROM TBL c WHERE c.host_id = h.id ORDER BY note DESC, time DESC LIMIT 1) b
      ON true ORDER BY 1$$),
    -- left alone: a second outer reference, LIMIT 2, no ORDER BY key condition
    ($$SELECT h.name, b.time FROM tk_hosts h JOIN LATERAL
      (SELECT time FROM TBL c WHERE c.host_id = h.id AND c.val < h.id * 10 ORDER BY time DESC LIMIT 1) b
      ON true ORDER BY 1$$),
    ($$SELECT h.name, b.time FROM tk_hosts h JOIN LATERAL
      (SELECT time FROM TBL c WHERE c.host_id = h.id ORDER BY time DESC LIMIT 2) b
      ON true ORDER BY 1, 2$$),
    ($$SELECT h.name, b.time FROM tk_hosts h JOIN LATERAL
      (SELECT time FROM TBL c WHERE c.host_id > h.id ORDER BY time DESC, host_id LIMIT 1) b
      ON true ORDER BY 1$$)
  ) AS c(q), LATERAL same_rows(replace(c.q, 'TBL', 'tk_loc'), replace(c.q, 'TBL', 'tk1'),
                               replace(c.q, 'TBL', 'tk2')) r;

DROP TABLE tk1, tk2, tk_loc, tk_hosts;
