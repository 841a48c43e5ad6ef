# SPDX-License-Identifier: PostgreSQL
# Replicas heal: with replication factor 2 on 3 data nodes, replicas made
# stale by hand (and changed on their node behind the access node's back)
# are copied up to date by the background worker's healer, also while
# writers insert into the chunks being healed; delete_data_node(force =>
# true) of a dead node drops the chunks whose only replica was there,
# naming each, and gives the others new replicas on the remaining nodes.
# After each step every replica of every chunk is compared, row count and
# checksum, on the data nodes themselves.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);

# (chunk, node number, status) of every replica of hypertable $ht
sub replicas
{
	my ($ht) = @_;
	my $out = $c->psql_ok(
		"SELECT format('%I.%I', ch.schema_name, ch.table_name), cdn.node_name, cdn.status"
		  . "  FROM _hyperdist_catalog.chunk ch"
		  . "  JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id"
		  . "  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = ch.id"
		  . " WHERE h.relid = '$ht'::regclass ORDER BY ch.id, cdn.replica");
	return map { my @f = split /\|/; $f[1] =~ s/^dn//; [@f] } grep { $_ ne '' } split /\n/, $out;
}

# "rows|checksum" of chunk $chunk on data node $i
sub node_sum
{
	my ($i, $chunk) = @_;
	return $c->psql_ok(
		"SELECT count(*), coalesce(sum(hashtextextended(c::text, 0)), 0) FROM $chunk c",
		node => $i);
}

# Every chunk of $ht has $rf current replicas, all alike, and no stale one.
sub check_replicas
{
	my ($ht, $rf, $name) = @_;
	my (%sums, %count, @bad);
	for my $r (replicas($ht))
	{
		my ($chunk, $i, $status) = @$r;
		push @bad, "$chunk on dn$i is $status" if $status ne 'current';
		$count{$chunk}++;
		push @{ $sums{$chunk} }, "dn$i:" . node_sum($i, $chunk);
	}
	for my $chunk (sort keys %sums)
	{
		push @bad, "$chunk has $count{$chunk} replicas" if $count{$chunk} != $rf;
		my %distinct = map { (split /:/, $_, 2)[1] => 1 } @{ $sums{$chunk} };
		push @bad, "$chunk differs: @{ $sums{$chunk} }" if keys %distinct > 1;
	}
	ok(!@bad && %sums, $name) or diag(join("\n", @bad));
}

sub stale_count
{
	return $c->psql_ok("SELECT count(*) FROM hyperdist_information.chunk_replication_status"
		  . " WHERE stale_replica_nodes IS NOT NULL");
}

# Waits until chunk_replication_status lists no stale replica (a bound
# against hangs: the worker starts the healer within its pass interval).
sub wait_healed
{
	my ($name) = @_;
	ok(poll_until(sub { stale_count() eq '0' }, 180, 0.5), $name)
	  or diag($c->psql_ok("SELECT * FROM hyperdist_information.chunk_replication_status"));
}

$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', 'device', number_partitions => 3,\n"
	  . "       replication_factor => 2, chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2024-01-01'::timestamptz + g * interval '10 seconds', g % 6, g\n"
	  . "  FROM generate_series(0, 30000 - 1) g;",
	name => 'hypertable m with replication factor 2 on 3 data nodes');
my $expect = '30000|449985000';
is($c->psql_ok('SELECT count(*), sum(v) FROM m'), $expect, 'rows of m through the access node');
check_replicas('m', 2, 'replicas alike after the load');

is($c->psql_ok("SELECT count(*) FROM hyperdist_information.chunk_replication_status"
		  . " WHERE desired_num_replicas = 2 AND num_replicas = 2 AND stale_replica_nodes IS NULL"
		  . "   AND cardinality(non_replica_nodes) = 1 AND copy_target IS NULL"),
	$c->psql_ok("SELECT count(*) FROM show_chunks('m')"),
	'chunk_replication_status: one row per chunk, every replica current');

# ---- stale replicas made by hand ---------------------------------------------------
# dn3's replicas get their rows changed on dn3 itself, then are marked
# stale (before that, the healer leaves them alone).
$c->psql_ok("DELETE FROM public.m WHERE v::int % 7 = 0; UPDATE public.m SET v = -v WHERE device = 1",
	node => 3);
my @dn3 = grep { $_->[1] == 3 } replicas('m');
ok(@dn3 > 0, 'dn3 holds replicas');
my $changed = grep {
	my $chunk = $_->[0];
	my ($other) = grep { $_->[0] eq $chunk && $_->[1] != 3 } replicas('m');
	node_sum(3, $chunk) ne node_sum($other->[1], $chunk)
} @dn3;
is($changed, scalar @dn3, 'every replica on dn3 differs from its peer');
# hyperdist.enable_replica_healing = off: the worker starts no healer (its
# passes come every resolve_interval, 5 s: two go by)
$c->psql_ok("ALTER SYSTEM SET hyperdist.enable_replica_healing = off; SELECT pg_reload_conf();");
$c->psql_ok("UPDATE _hyperdist_catalog.chunk_data_node SET status = 'stale' WHERE node_name = 'dn3'");
sleep 12;
is(stale_count(), scalar(@dn3), 'with healing off, the stale replicas stay stale');
is($c->psql_ok("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'hyperdist replica healer'"),
	'0', '... and no healer runs');
$c->psql_ok("ALTER SYSTEM RESET hyperdist.enable_replica_healing; SELECT pg_reload_conf();");
wait_healed('the healer brings the stale replicas up to date once healing is on');
check_replicas('m', 2, 'replicas alike after the heal');
is($c->psql_ok('SELECT count(*), sum(v) FROM m'), $expect, 'every row read through the access node');

# ---- writes while a heal runs --------------------------------------------------
# A writer inserts row after row into the day-1 chunks while dn1's replicas
# of them are changed there and made stale; none of its rows may be lost.
my $n = 400;
my $w = $c->session(app => 'hd_heal_writer');
$w->send(join('', map {
			"INSERT INTO m VALUES ('2024-01-01 12:00'::timestamptz + interval '$_ seconds', $_ % 6, "
			  . (1000000 + $_) . ");\n"
		} 1 .. $n));
ok(poll_until(sub { $c->psql_ok('SELECT count(*) FROM m WHERE v >= 1000000') > 20 }, 120),
	'the writer is running');
$c->psql_ok("DELETE FROM public.m WHERE time < '2024-01-02' AND v::int % 5 = 0", node => 1);
$c->psql_ok("UPDATE _hyperdist_catalog.chunk_data_node cdn SET status = 'stale'"
	  . "  FROM _hyperdist_catalog.chunk ch"
	  . "  JOIN _hyperdist_catalog.time_slice s ON s.id = ch.time_slice_id"
	  . " WHERE cdn.chunk_id = ch.id AND cdn.node_name = 'dn1'"
	  . "   AND s.range_start = (SELECT min(range_start) FROM _hyperdist_catalog.time_slice)");
my ($wout, $werr) = $w->wait(600);
is(sqlstate($werr), undef, 'every insert of the writer succeeded') or diag($werr);
$w->quit;
wait_healed('the replicas written during the heal are healed too');
check_replicas('m', 2, 'replicas alike after a heal under writes');
is($c->psql_ok('SELECT count(*), count(DISTINCT v), min(v), max(v) FROM m WHERE v >= 1000000'),
	"$n|$n|1000001|" . (1000000 + $n), 'every row of the writer, once');
is($c->psql_ok('SELECT count(*) FROM m WHERE v < 1000000'), '30000', 'and the older rows');
$expect = $c->psql_ok('SELECT count(*), sum(v) FROM m');

# ---- a dead node deleted with force ------------------------------------------------
# m1 has replication factor 1 on dn2 and dn3: its chunks on dn3 are lost
# with the node.
$c->psql_ok(
	"CREATE TABLE m1 (time timestamptz NOT NULL, v int);\n"
	  . "SELECT create_distributed_hypertable('m1', 'time', replication_factor => 1,\n"
	  . "       chunk_time_interval => interval '1 day', data_nodes => '{dn2,dn3}');\n"
	  . "INSERT INTO m1 SELECT '2024-01-01'::timestamptz + g * interval '1 hour', g\n"
	  . "  FROM generate_series(0, 4 * 24 - 1) g;",
	name => 'hypertable m1 with replication factor 1 on dn2 and dn3');
my @lost = map { $_->[0] } grep { $_->[1] == 3 } replicas('m1');
my @kept = map { $_->[0] } grep { $_->[1] == 2 } replicas('m1');
ok(@lost > 0 && @kept > 0, 'm1 has chunks on both nodes');
my $kept_rows = 0;
$kept_rows += (split /\|/, node_sum(2, $_))[0] for @kept;

ok($c->kill_agent(3, 'KILL'), 'agent of dn3 killed');
ok($c->stop_dn(3, 'immediate'), 'PostgreSQL of dn3 stopped');

$c->psql_error("SELECT delete_data_node('dn3')", '55000',
	'delete_data_node without force refuses a node that holds chunks');
my ($out, $err, $rc) = $c->psql("SELECT delete_data_node('dn3', force => true)");
is($rc, 0, 'delete_data_node with force deletes the dead node') or diag($err);
for my $chunk (@lost)
{
	like($err, qr/WARNING:\s+\S+:\s+chunk \Q$chunk\E is dropped: its only replica was on data node "dn3"/,
		"WARNING names the lost chunk $chunk");
}
is($c->psql_ok("SELECT count(*) FROM show_chunks('m1')"), scalar @kept,
	'the lost chunks are gone from the catalog');
is($c->psql_ok('SELECT count(*) FROM m1'), $kept_rows, 'm1 reads the chunks it kept');
is($c->psql_ok("SELECT count(*) FROM hyperdist_information.data_nodes WHERE node_name = 'dn3'"),
	'0', 'dn3 is no longer a data node');

ok(poll_until(sub {
			$c->psql_ok("SELECT count(*) FROM hyperdist_information.chunk_replication_status"
				  . " WHERE hypertable_name = 'm' AND (num_replicas < 2 OR copy_target IS NOT NULL)")
			  eq '0'
		}, 180, 0.5),
	'the under-replicated chunks get new replicas')
  or diag($c->psql_ok("SELECT * FROM hyperdist_information.chunk_replication_status"));
check_replicas('m', 2, 'new replicas alike their peers on dn1 and dn2');
is($c->psql_ok('SELECT count(*), sum(v) FROM m'), $expect, 'every row of m still read');
is($c->psql_ok("SELECT count(*) FROM hyperdist_information.chunk_replication_status"
		  . " WHERE hypertable_name = 'm' AND non_replica_nodes IS NOT NULL"),
	'0', 'every chunk of m on both remaining nodes');

done_testing();
