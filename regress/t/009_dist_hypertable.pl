# SPDX-License-Identifier: PostgreSQL
# Distributed hypertables on a real cluster: concurrent writers creating the
# same chunks at once, replication factor 2 checked on each data node
# directly (psql to the data node's port), a rolled-back transaction that
# leaves no chunk anywhere, and attach_data_node sending new chunks to the
# new node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);

# rows of public.m per chunk on data node i, as "chunk:rows" lines
sub dn_chunks
{
	my ($i) = @_;
	return $c->psql_ok(
		"SELECT tableoid::regclass || ':' || count(*) FROM public.m GROUP BY tableoid ORDER BY 1",
		node => $i);
}

$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', 'device', replication_factor => 2,\n"
	  . "       data_nodes => '{dn1,dn2}');",
	name => 'create_distributed_hypertable with replication_factor 2');

# ---- concurrent writers creating the same chunks ---------------------------------
# Four autocommit writers at once, each needing the same new chunks.
my @s = map { $c->session(app => "hd_writer$_") } 1 .. 4;
for my $i (0 .. 2)
{
	$s[$i]->send("INSERT INTO m SELECT '2024-01-01'::timestamptz + g * interval '1 minute', g % 4, $i"
		  . " FROM generate_series(1, 5000) g");
}
for my $i (0 .. 2)
{
	my ($out, $err) = $s[$i]->wait(120);
	is(sqlstate($err), undef, "writer $i inserted") or diag($err);
}
# A transaction that created a chunk holds it back until it ends; a writer
# needing the same chunk waits, then finds it instead of creating another.
my ($o, $e) = $s[3]->query("BEGIN; INSERT INTO m VALUES ('2024-02-20', 1, 3)");
is(sqlstate($e), undef, 'open transaction created a chunk') or diag($e);
$s[0]->send("INSERT INTO m SELECT '2024-02-20'::timestamptz + g * interval '1 minute', g % 4, 3"
	  . " FROM generate_series(1, 4999) g");
ok(poll_until(sub {
			$c->psql_ok("SELECT count(*) FROM pg_stat_activity"
				  . " WHERE application_name = 'hd_writer1' AND wait_event_type = 'Lock'") eq '1'
		}, 30),
	'the second writer waits for the chunk');
($o, $e) = $s[3]->query('COMMIT');
is(sqlstate($e), undef, 'first writer committed') or diag($e);
($o, $e) = $s[0]->wait(120);
is(sqlstate($e), undef, 'second writer inserted into the chunk once it was committed') or diag($e);
is($c->psql_ok('SELECT count(*), count(DISTINCT v) FROM m'), '20000|4',
	'every row of every writer, once, on the access node');
my $nchunks = $c->psql_ok('SELECT count(*) FROM hyperdist_information.chunks');
is($c->psql_ok(
		'SELECT count(*) FROM (SELECT DISTINCT time_slice_id, space_partition FROM _hyperdist_catalog.chunk) s'),
	$nchunks, 'one chunk per slice: no duplicates from the concurrent writers');

# ---- replication factor 2, checked on the data nodes -----------------------------
my %rows;
my $total = 0;
for my $i (1 .. 2)
{
	for (split /\n/, dn_chunks($i))
	{
		my ($chunk, $n) = split /:/;
		$rows{$chunk}{$i} = $n;
		$total += $n;
	}
}
is($total, 40000, 'every row twice across the data nodes');
is(scalar(keys %rows), $nchunks, 'every chunk exists on the data nodes');
is(scalar(grep { keys %{ $rows{$_} } == 2 && $rows{$_}{1} == $rows{$_}{2} } keys %rows),
	$nchunks, 'each chunk has the same rows on both replicas');
is($c->psql_ok(
		"SELECT count(*) FROM pg_class WHERE relname = 'm'", node => 3),
	'0', 'dn3 is not a member and has nothing');

# ---- rollback leaves nothing -------------------------------------------------------
$c->psql_ok("BEGIN;\nINSERT INTO m VALUES ('2030-06-01', 1, 1);\nROLLBACK;");
is($c->psql_ok("SELECT count(*) FROM hyperdist_information.chunks WHERE range_end > '2030-01-01'"),
	'0', 'no chunk in the catalog after rollback');
for my $i (1 .. 2)
{
	is($c->psql_ok(
			"SELECT count(*) FROM pg_class WHERE relnamespace = '_hyperdist_internal'::regnamespace AND relkind IN ('r', 'p')",
			node => $i),
		$c->psql_ok("SELECT count(*) FROM hyperdist_information.chunks WHERE 'dn$i' = ANY (data_nodes)")
		  + $c->psql_ok(
			"SELECT count(DISTINCT time_slice_id) FROM _hyperdist_catalog.chunk c"
			  . " JOIN _hyperdist_catalog.chunk_data_node d ON d.chunk_id = c.id WHERE d.node_name = 'dn$i'"),
		"dn$i holds exactly the catalog's chunks (and their slice tables)");
}

# ---- attach: new chunks go to the new node, old ones stay -------------------------
$c->psql_ok("SELECT attach_data_node('dn3', 'm')", name => 'attach_data_node');
$c->psql_ok("INSERT INTO m SELECT '2024-03-01'::timestamptz + g * interval '1 minute', g % 12, 9"
	  . " FROM generate_series(1, 3000) g");
like(dn_chunks(3), qr/_dist_hyper_/, 'dn3 received new chunks');
is($c->psql_ok("SELECT count(*) FROM hyperdist_information.chunks"
		  . " WHERE 'dn3' = ANY (data_nodes) AND range_start < '2024-02-01'"),
	'0', 'existing chunks stayed where they were');
is($c->psql_ok('SELECT count(*) FROM m'), '23000', 'all rows readable after attach');

# ---- detach refuses to lose data unless forced --------------------------------------
$c->psql_error("SELECT detach_data_node('dn3', 'm')", '55000', 'detach of a node with chunks refused');
$c->psql_ok("SELECT detach_data_node('dn3', 'm', force => true, drop_remote_data => true)",
	name => 'forced detach with drop_remote_data');
is($c->psql_ok("SELECT count(*) FROM pg_class WHERE relname = 'm'", node => 3),
	'0', 'dn3 dropped its data');
is($c->psql_ok('SELECT count(*) FROM m'), '23000', 'no row lost: every chunk had another replica');

# ---- DROP TABLE removes it everywhere -------------------------------------------------
$c->psql_ok('DROP TABLE m', name => 'DROP TABLE');
for my $i (1 .. 3)
{
	is($c->psql_ok(
			"SELECT count(*) FROM pg_class WHERE relname = 'm'"
			  . " OR relnamespace = '_hyperdist_internal'::regnamespace",
			node => $i),
		'0', "nothing left on dn$i");
}

done_testing();
