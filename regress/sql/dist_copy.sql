--
-- COPY FROM in text and CSV into distributed hypertables: the access node
-- splits each line, parses only the dimension columns (to route the row) and
-- forwards the fields as text; the data nodes' COPY parses the rest.  Every
-- COPY also loads a local table: rows and row counts must be identical.  A
-- value of another column that a data node rejects fails with the node named,
-- which shows the row went there unparsed (PostgreSQL's COPY through the
-- foreign table rejects it on the access node, as the fallback cases show).
-- Runs after dist_hypertable (uses the data nodes it leaves).
--
-- show command tags: row counts are part of the result
\set QUIET off
SET timezone = 'UTC';
SET datestyle = 'ISO';

CREATE TABLE cf (time timestamptz NOT NULL, dev int NOT NULL, v float8,
                 note text, tags text[], d date);
CREATE TABLE cf_local (LIKE cf);
SELECT table_name FROM create_distributed_hypertable('cf', 'time', 'dev', replication_factor => 2);

-- differences between cf (read through the access node) and cf_local: none
CREATE VIEW cf_diff AS
(SELECT 'only in cf' AS side, * FROM cf EXCEPT ALL SELECT 'only in cf', * FROM cf_local)
UNION ALL
(SELECT 'only in cf_local', * FROM cf_local EXCEPT ALL SELECT 'only in cf_local', * FROM cf);

-- rows stored on the data nodes: every row twice (replication_factor 2)
CREATE VIEW cf_stored AS
SELECT sum(q.rows) AS stored, (SELECT count(*) FROM cf) AS rows
  FROM hyperdist_information.data_nodes n,
       LATERAL _hyperdist_functions.data_node_query(n.node_name,
         'SELECT count(*) FROM public.cf') AS q(rows bigint);

-- ---- CSV: HEADER, quotes, escapes, NULL vs empty string, newlines, UTF-8 ---
COPY cf FROM STDIN (FORMAT csv, HEADER);
time,dev,v,note,tags,d
2024-01-01 00:00:00+00,1,1.5,"a ""quoted"", value","{a,b}",2024-01-01
2024-01-02 00:00:00+00,2,,"",,
2024-01-03 00:00:00+00,3,2.5,"two
lines",{},2024-01-03
2024-01-04 00:00:00+00,4,-0,tab	and \N and \\,"{""x y"",NULL}",
2024-01-05 00:00:00+00,5,1e300,ünïcødé ✓ 雪,,2024-02-29
"2024-01-06 00:00:00+00","6","7","\r\n",,"2024-01-06"
\.
COPY cf_local FROM STDIN (FORMAT csv, HEADER);
time,dev,v,note,tags,d
2024-01-01 00:00:00+00,1,1.5,"a ""quoted"", value","{a,b}",2024-01-01
2024-01-02 00:00:00+00,2,,"",,
2024-01-03 00:00:00+00,3,2.5,"two
lines",{},2024-01-03
2024-01-04 00:00:00+00,4,-0,tab	and \N and \\,"{""x y"",NULL}",
2024-01-05 00:00:00+00,5,1e300,ünïcødé ✓ 雪,,2024-02-29
"2024-01-06 00:00:00+00","6","7","\r\n",,"2024-01-06"
\.

-- ---- text: backslash escapes, \N -------------------------------------------
COPY cf FROM STDIN;
2024-01-07 00:00:00+00	1	\N	back\\slash \t tab \n newline \r cr	{}	\N
2024-01-07 01:00:00+00	2	3	octal \101 hex \x42 \v\b\f	\N	2024-01-07
2024-01-07 02:00:00+00	3	4		{""}	2024-01-07
\.
COPY cf_local FROM STDIN;
2024-01-07 00:00:00+00	1	\N	back\\slash \t tab \n newline \r cr	{}	\N
2024-01-07 01:00:00+00	2	3	octal \101 hex \x42 \v\b\f	\N	2024-01-07
2024-01-07 02:00:00+00	3	4		{""}	2024-01-07
\.

-- ---- another delimiter, NULL string and quote; a column list --------------
COPY cf (note, dev, time) FROM STDIN (FORMAT csv, DELIMITER ';', NULL 'NA', QUOTE '''');
'NA';1;2024-01-08 00:00:00+00
NA;2;2024-01-08 00:00:00+00
'a;b';3;2024-01-08 00:00:00+00
;4;2024-01-08 00:00:00+00
\.
COPY cf_local (note, dev, time) FROM STDIN (FORMAT csv, DELIMITER ';', NULL 'NA', QUOTE '''');
'NA';1;2024-01-08 00:00:00+00
NA;2;2024-01-08 00:00:00+00
'a;b';3;2024-01-08 00:00:00+00
;4;2024-01-08 00:00:00+00
\.
COPY cf (time, dev, note) FROM STDIN (DELIMITER '|', NULL '');
2024-01-09 00:00:00+00|1|
2024-01-09 00:00:00+00|2|x\|y
\.
COPY cf_local (time, dev, note) FROM STDIN (DELIMITER '|', NULL '');
2024-01-09 00:00:00+00|1|
2024-01-09 00:00:00+00|2|x\|y
\.

-- ---- the session's date order and time zone hold on the data nodes --------
SET datestyle = 'ISO, DMY';
SET timezone = 'America/New_York';
COPY cf (time, dev, d) FROM STDIN (FORMAT csv);
02/03/2024 10:00,1,04/05/2024
02/03/2024 23:30,2,31/12/2024
\.
COPY cf_local (time, dev, d) FROM STDIN (FORMAT csv);
02/03/2024 10:00,1,04/05/2024
02/03/2024 23:30,2,31/12/2024
\.
RESET datestyle;
SET datestyle = 'ISO';
SET timezone = 'UTC';
SELECT time, dev, d FROM cf WHERE time >= '2024-03-01' ORDER BY time, dev;

-- ---- many rows, several batches per data node -----------------------------
SET hyperdist.max_insert_batch_size = 7;
\copy (SELECT '2024-02-01'::timestamptz + i * interval '7 minutes', i % 5, i / 4.0, repeat('x', i % 3) || E'\t' || i, NULL, NULL FROM generate_series(1, 500) i) TO 'dist_copy.csv' (FORMAT csv)
\copy cf FROM 'dist_copy.csv' (FORMAT csv)
\copy cf_local FROM 'dist_copy.csv' (FORMAT csv)
RESET hyperdist.max_insert_batch_size;

SELECT * FROM cf_diff;
SELECT * FROM cf_stored;
SELECT * FROM cf WHERE time < '2024-01-10' ORDER BY time, dev;

-- ---- a value a data node rejects: the node is named, nothing is loaded ----
-- (with small batches the line within the node's batch is not the input's;
-- both are named)
SET hyperdist.max_insert_batch_size = 2;
COPY cf (time, dev, v) FROM STDIN (FORMAT csv);
2024-04-01 00:00:00+00,1,1
2024-04-01 00:00:00+00,2,2
2024-04-01 00:00:00+00,3,3
2024-04-01 00:00:00+00,4,4
2024-04-01 00:00:00+00,5,not a number
2024-04-01 00:00:00+00,6,6
\.
RESET hyperdist.max_insert_batch_size;
\set VERBOSITY sqlstate
COPY cf (time, dev, note, tags) FROM STDIN;
2024-04-01 00:00:00+00	1	ok	{}
2024-04-01 00:00:00+00	2	ok	{unbalanced
\.
\set VERBOSITY default
SELECT count(*) FROM cf WHERE time >= '2024-04-01';
SELECT * FROM cf_stored;

-- ---- rejected on the access node, with the line: dimension values, counts -
COPY cf (time, dev, v) FROM STDIN (FORMAT csv);
2024-04-01 00:00:00+00,1,1
not a time,2,2
\.
COPY cf (time, dev, v) FROM STDIN (FORMAT csv);
2024-04-01 00:00:00+00,1,1
2024-04-01 00:00:00+00,x,2
\.
COPY cf (time, dev, v) FROM STDIN (FORMAT csv);
,2,2
\.
COPY cf (time, dev, v) FROM STDIN (FORMAT csv);
2024-04-01 00:00:00+00,1,1,1
\.
COPY cf (time, dev, v) FROM STDIN (FORMAT csv);
2024-04-01 00:00:00+00,1
\.
SELECT count(*) FROM cf WHERE time >= '2024-04-01';

-- ---- rolled back with its transaction --------------------------------------
BEGIN;
COPY cf (time, dev) FROM STDIN;
2024-05-01 00:00:00+00	1
2024-05-01 00:00:00+00	2
\.
SELECT count(*) FROM cf WHERE time >= '2024-05-01';
ROLLBACK;
SELECT count(*) FROM cf WHERE time >= '2024-05-01';

-- ---- what the access node parses whole: FORCE_* options, a default ------
-- (a bad value is then rejected on the access node, no data node named)
COPY cf (time, dev, v, note) FROM STDIN (FORMAT csv, FORCE_NULL (note));
2024-06-01 00:00:00+00,1,1,""
2024-06-01 00:00:00+00,2,2,"x"
\.
COPY cf_local (time, dev, v, note) FROM STDIN (FORMAT csv, FORCE_NULL (note));
2024-06-01 00:00:00+00,1,1,""
2024-06-01 00:00:00+00,2,2,"x"
\.
COPY cf (time, dev, v) FROM STDIN (FORMAT csv, FORCE_NOT_NULL (v));
2024-06-02 00:00:00+00,1,not a number
\.
ALTER TABLE cf ALTER COLUMN note SET DEFAULT 'default';
ALTER TABLE cf_local ALTER COLUMN note SET DEFAULT 'default';
COPY cf (time, dev) FROM STDIN;
2024-06-03 00:00:00+00	1
\.
COPY cf_local (time, dev) FROM STDIN;
2024-06-03 00:00:00+00	1
\.
SELECT * FROM cf_diff;
SELECT * FROM cf_stored;

DROP VIEW cf_stored, cf_diff;
DROP TABLE cf, cf_local;
