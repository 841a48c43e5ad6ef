# SPDX-License-Identifier: PostgreSQL
# Writes while a data node is down, replication factor 2 on three data
# nodes: with dn3's agent killed (kill -9), INSERT, COPY, UPDATE, DELETE and
# INSERT ... ON CONFLICT succeed; every row is read back through the access
# node; each chunk's current replicas on the live nodes hold its rows; dn3's
# replicas of the chunks written are stale in the catalog; a chunk created
# meanwhile has its replicas on the live nodes only.  Every statement also
# runs on a local table, which the distributed one must equal.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);
# the first statement after the kill waits one connect timeout at most
my %o = (options => '-c hyperdist.connect_timeout=2');

$c->psql_ok(<<'SQL', name => 'a hypertable with replication factor 2 on three nodes');
SET timezone = 'UTC';
CREATE TABLE w (time timestamptz NOT NULL, dev int NOT NULL, v float8, UNIQUE (time, dev));
CREATE TABLE w_local (LIKE w INCLUDING ALL);
SELECT create_distributed_hypertable('w', 'time', 'dev', number_partitions => 3,
  replication_factor => 2, chunk_time_interval => interval '1 day');
INSERT INTO w SELECT timestamptz '2024-01-01' + h * interval '1 hour', dev, h
  FROM generate_series(0, 71) h, generate_series(0, 5) dev;
INSERT INTO w_local SELECT * FROM w;
SQL
is( $c->psql_ok(
		"SELECT count(*) FROM _hyperdist_catalog.chunk_data_node WHERE node_name = 'dn3'"),
	6,
	'dn3 holds replicas of six of the nine chunks');

ok($c->kill_agent(3, 'KILL'), 'agent3 killed');

# Runs $sql on w and on w_local (the same statement with the table renamed).
sub on_both
{
	my ($sql, $name) = @_;
	(my $local = $sql) =~ s/\bw\b/w_local/g;
	$c->psql_ok("SET timezone = 'UTC';\n$sql;\n$local;", %o, name => $name);
}

on_both("INSERT INTO w SELECT timestamptz '2024-01-01 00:30' + h * interval '1 hour', dev, -h"
	  . " FROM generate_series(0, 71, 12) h, generate_series(0, 5) dev",
	'INSERT into chunks with replicas on dn3');
$c->psql_ok(
	"SET timezone = 'UTC';\n"
	  . "COPY w FROM STDIN;\n"
	  . join('', map { "2024-01-02 00:15:00+00\t$_\t7\n" } 0 .. 5)
	  . "\\.\n"
	  . "INSERT INTO w_local SELECT '2024-01-02 00:15:00+00', dev, 7 FROM generate_series(0, 5) dev;",
	%o,
	name => 'COPY into them');
on_both("UPDATE w SET v = v + 1000 WHERE dev % 2 = 0", 'UPDATE of every chunk');
on_both("DELETE FROM w WHERE dev = 5 AND time < '2024-01-02'", 'DELETE');
on_both("INSERT INTO w VALUES ('2024-01-01 00:00', 0, 1), ('2024-01-03 23:59', 1, 2)"
	  . " ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v",
	'INSERT ... ON CONFLICT DO UPDATE');
is( $c->psql_ok(
		"INSERT INTO w VALUES ('2024-01-03 00:00', 0, 3) ON CONFLICT (time, dev)"
		  . " DO UPDATE SET v = excluded.v RETURNING v",
		%o),
	3,
	'INSERT ... ON CONFLICT DO UPDATE ... RETURNING');
$c->psql_ok("UPDATE w_local SET v = 3 WHERE time = '2024-01-03 00:00+00' AND dev = 0");
on_both("INSERT INTO w SELECT timestamptz '2024-01-10' + h * interval '1 hour', dev, h"
	  . " FROM generate_series(0, 3) h, generate_series(0, 5) dev",
	'INSERT into new chunks');

is( $c->psql_ok(
		"SELECT count(*) FROM ((TABLE w EXCEPT ALL TABLE w_local)"
		  . " UNION ALL (TABLE w_local EXCEPT ALL TABLE w)) d",
		%o),
	0,
	'every row is read back through the access node');
is($c->psql_ok("SELECT count(*) FROM w", %o),
	$c->psql_ok("SELECT count(*) FROM w_local"), '... as many as in the local table');

# per chunk: its current replicas on dn1 and dn2 and their rows
my $replicas = $c->psql_ok(<<'SQL', %o);
WITH cur AS (
  SELECT c.id, format('%I.%I', c.schema_name, c.table_name) AS chunk, cdn.node_name
    FROM _hyperdist_catalog.chunk c
    JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
   WHERE cdn.status = 'current' AND cdn.node_name <> 'dn3'),
rows AS (
  SELECT n, q.chunk, q.nrows
    FROM unnest(ARRAY['dn1', 'dn2']) n,
         LATERAL _hyperdist_functions.data_node_query(n,
           'SELECT tableoid::regclass::text, count(*) FROM public.w GROUP BY 1')
         AS q(chunk text, nrows bigint)),
per AS (
  SELECT cur.id, cur.node_name, coalesce(rows.nrows, 0) AS nrows
    FROM cur LEFT JOIN rows ON rows.n = cur.node_name AND rows.chunk = cur.chunk)
SELECT (SELECT count(DISTINCT id) FROM per) || ' ' ||
       (SELECT count(*) FROM _hyperdist_catalog.chunk) || ' ' ||
       (SELECT count(*) FROM (SELECT id FROM per GROUP BY id HAVING min(nrows) <> max(nrows)) d)
       || ' ' || (SELECT sum(nrows) FROM (SELECT DISTINCT ON (id) id, nrows FROM per) s)
SQL
my ($with_live, $chunks, $differ, $rows) = split ' ', $replicas;
is($with_live, $chunks, 'every chunk has a current replica on a live node');
is($differ, 0, "... and those of each chunk hold the same number of rows");
is($rows, $c->psql_ok("SELECT count(*) FROM w_local"), '... which add up to every row');

is( $c->psql_ok(
		"SELECT count(*) FILTER (WHERE status = 'current') || ' ' || count(*)"
		  . " FROM _hyperdist_catalog.chunk_data_node WHERE node_name = 'dn3'"),
	'0 6',
	"dn3's replicas are stale, all of them (the UPDATE wrote every chunk)");
is( $c->psql_ok(<<'SQL'),
SELECT string_agg(DISTINCT cdn.node_name, ',' ORDER BY cdn.node_name) || ' ' || count(*)
  FROM _hyperdist_catalog.chunk c
  JOIN _hyperdist_catalog.time_slice ts ON ts.id = c.time_slice_id
  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = c.id
 WHERE ts.range_start >= extract(epoch FROM timestamptz '2024-01-10') * 1000000
SQL
	'dn1,dn2 6',
	'the chunks created meanwhile have both replicas, on dn1 and dn2 only');

$c->teardown;
done_testing();
