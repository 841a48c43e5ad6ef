# SPDX-License-Identifier: PostgreSQL
# Rebalance and drain: a hypertable on two data nodes gets a third
# (attach_data_node); rebalance() moves chunks to it, while a writer
# inserts, until the nodes hold about the same bytes (each within 10% of
# the mean, or one chunk of each other), with every row still there
# exactly once, read through the access
# node and counted on the data nodes themselves; then drain_data_node()
# empties one node, delete_data_node() of it succeeds, and every row is
# still there exactly once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);

# Per data node: (rows of m there, its chunk tables there, the chunks the
# catalog says it holds), read on the node itself for the first two.
sub node_state
{
	my ($i) = @_;
	my $rows = $c->psql_ok('SELECT count(*) FROM public.m', node => $i);
	my $tables = $c->psql_ok(
		"SELECT count(*) FROM pg_partition_tree('public.m') WHERE isleaf", node => $i);
	my $catalog = $c->psql_ok(
		"SELECT count(*) FROM _hyperdist_catalog.chunk_data_node WHERE node_name = 'dn$i'");
	return ($rows, $tables, $catalog);
}

# Every row once: the access node reads what was loaded, the nodes' rows add
# up to it, every chunk has one replica, and each node holds exactly the
# tables the catalog gives it.
sub check_rows
{
	my ($nodes, $expect, $name) = @_;
	is($c->psql_ok('SELECT count(*), sum(v) FROM m'), $expect, "$name: rows through the access node");
	my ($total, @bad) = (0);
	for my $i (@$nodes)
	{
		my ($rows, $tables, $catalog) = node_state($i);
		$total += $rows;
		push @bad, "dn$i has $tables chunk tables, the catalog $catalog"
		  if $tables != $catalog;
	}
	is($total, (split /\|/, $expect)[0], "$name: the data nodes' rows add up to them");
	is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk c"
			  . " WHERE (SELECT count(*) FROM _hyperdist_catalog.chunk_data_node cdn"
			  . "         WHERE cdn.chunk_id = c.id AND cdn.status = 'current') <> 1"
			  . "    OR EXISTS (SELECT FROM _hyperdist_catalog.chunk_data_node cdn"
			  . "                WHERE cdn.chunk_id = c.id AND cdn.status <> 'current')"),
		'0', "$name: one current replica per chunk, no other");
	ok(!@bad, "$name: each node holds the tables of its replicas, no more") or diag(join "\n", @bad);
}

# Waits until no move of any rebalance is left to run (a bound against
# hangs, not a timing check); returns the progress rows.
sub wait_moves
{
	my ($name) = @_;
	my $open = "SELECT coalesce(sum(planned + running), 0) FROM hyperdist_information.rebalance_progress";
	ok(poll_until(sub { $c->psql_ok($open) eq '0' }, 600, 0.5), $name)
	  or diag($c->psql_ok("SELECT * FROM hyperdist_information.chunk_copy_operations"));
}

$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', data_nodes => '{dn1,dn2}',\n"
	  . "       chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2024-01-01'::timestamptz + g * interval '10 seconds', g % 6, g\n"
	  . "  FROM generate_series(0, 12 * 8640 - 1) g;",
	name => 'hypertable m on dn1 and dn2, twelve chunks');
my $expect = $c->psql_ok('SELECT count(*), sum(v) FROM m');
is($expect, '103680|5374719360', 'every row loaded');
check_rows([ 1, 2 ], $expect, 'loaded');

# ---- a third node, and a rebalance -------------------------------------------------
$c->psql_ok("SELECT * FROM attach_data_node('dn3', 'm')", name => 'dn3 attached');
my $moves = $c->psql_ok("SELECT count(*) FROM rebalance('m')");
ok($moves >= 3, "rebalance plans moves to dn3 ($moves)");
# meanwhile a writer inserts a row an hour, into the chunks being moved, the
# others, and a new one
my $n = 300;
my $w = $c->session(app => 'hd_rebalance_writer');
$w->send(join('', map {
			"INSERT INTO m VALUES ('2024-01-01 00:00:05'::timestamptz + interval '$_ hours', 7, "
			  . (1000000 + $_) . ");\n"
		} 1 .. $n));
wait_moves('the moves end');
my ($wout, $werr) = $w->wait(600);
is(sqlstate($werr), undef, 'every insert of the writer succeeded') or diag($werr);
$w->quit;
is($c->psql_ok('SELECT count(*), count(DISTINCT v), min(v), max(v) FROM m WHERE v >= 1000000'),
	"$n|$n|1000001|" . (1000000 + $n), "every row of the writer, once");
$expect = '103980|5674764510';
is($c->psql_ok("SELECT done, failed, cancelled, bytes_done = bytes_total, finished IS NOT NULL"
		  . " FROM hyperdist_information.rebalance_progress"),
	"$moves|0|0|t|t", 'every move done');

my %bytes = map { split /\|/ } split /\n/, $c->psql_ok(
	"SELECT node_name, sum(total_bytes) FROM chunks_detailed_size('m') GROUP BY 1");
my $chunk = $c->psql_ok("SELECT max(total_bytes) FROM chunks_detailed_size('m')");
my $mean = 0;
$mean += $_ / 3 for values %bytes;
my @far = grep { abs($bytes{$_} - $mean) > $mean * 0.10 } sort keys %bytes;
my ($min, $max) = (sort { $a <=> $b } values %bytes)[ 0, -1 ];
ok(keys %bytes == 3 && (!@far || $max - $min <= $chunk),
	'each node within 10% of the mean, or within one chunk of the others')
  or diag(explain \%bytes);
check_rows([ 1, 2, 3 ], $expect, 'rebalanced');
is($c->psql_ok("SELECT count(*) FROM rebalance('m', dry_run => true)"), '0',
	'a balanced hypertable needs no move');

# ---- retiring dn1 ----------------------------------------------------------------------
my $held = $c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk_data_node WHERE node_name = 'dn1'");
ok($held > 0, "dn1 holds chunks ($held)");
$c->psql_error("SELECT delete_data_node('dn1')", '55000', 'delete_data_node refuses a node holding chunks');
is($c->psql_ok("CALL drain_data_node('dn1')", timeout => 900), $held,
	'drain_data_node moves each of them, and returns once they are gone');
is($c->psql_ok("SELECT block_chunks FROM _hyperdist_catalog.hypertable_data_node WHERE node_name = 'dn1'"),
	't', 'dn1 takes no new chunks');
my ($rows, $tables) = node_state(1);
is("$rows|$tables", '0|0', 'dn1 holds no rows and no chunk table');
check_rows([ 2, 3 ], $expect, 'drained');
$c->psql_ok("SELECT delete_data_node('dn1')", name => 'delete_data_node succeeds');
check_rows([ 2, 3 ], $expect, 'dn1 deleted');
$c->psql_ok("INSERT INTO m VALUES ('2024-02-01', 1, 1)", name => 'new chunks go to the nodes left');

done_testing();
