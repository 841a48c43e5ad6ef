# SPDX-License-Identifier: PostgreSQL
# The retired source of a move is detached from its parent concurrently
# before it is dropped, so that the move's end does not stall the
# hypertable on the source data node.
#
# A session on the source data node holds a transaction that has read
# another chunk of the same hypertable there (it holds ACCESS SHARE on the
# node's root table) while a move of a chunk finishes.  The retired table's
# detach then waits for that transaction, pending; meanwhile new readers
# and writers of the root table on that node are not blocked: a second
# session's read and write succeed under lock_timeout.  Once the long
# transaction ends, the move completes and the retired table is gone.
#
# The same for a chunk of a hypertable partitioned by time and space, whose
# parent on the data node is its time slice's table.
#
# Then a detach left pending by a crash: the access node's PostgreSQL, or
# the source's agent, or the source data node's PostgreSQL is killed while
# the detach waits; the background worker completes the detach (FINALIZE)
# and the move by itself.  Each time: the chunk has exactly one replica,
# current, on the destination, with all its rows there, and no data node
# keeps a table the catalog does not know.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistMove;
use Test::More;

# A session whose server is killed is gone: writing to its psql must not
# kill the test.
$SIG{PIPE} = 'IGNORE';

my $c = HyperdistTest->new(data_nodes => 2);

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.health_check_interval = '200ms';\n"
	  . "ALTER SYSTEM SET hyperdist.connect_timeout = 2;\n"
	  . "SELECT pg_reload_conf();",
	name => 'fast failure detection for the test');

# Six chunks of 2,000 rows each, one per day, spread over both data nodes.
my $DAYS = 6;
my $PER_DAY = 2000;
$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, id bigint NOT NULL, v bigint);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', replication_factor => 1,\n"
	  . "       chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2026-01-01'::timestamptz + (g - 1) / $PER_DAY * interval '1 day'\n"
	  . "                     + (g - 1) % $PER_DAY * interval '40 s', g, g\n"
	  . "  FROM generate_series(1, $DAYS * $PER_DAY) g;",
	name => "hypertable m: $DAYS chunks of $PER_DAY rows");
my $total = $DAYS * $PER_DAY;
my $expect = "$total|" . ($total * ($total + 1) / 2);
my @chunks = map { [ chunk_of($c, 'm', "2026-01-0$_ 12:00") ] } 1 .. $DAYS;

sub num { my ($node) = @_; $node =~ s/^dn//; return $node }
sub other { return $_[0] eq 'dn1' ? 'dn2' : 'dn1' }
sub holder { my @r = replicas($c, $_[0][0]); return @r == 1 ? $r[0][0] : '' }
sub table_of { my ($name) = @_; $name =~ s/^.*\.//; $name =~ s/"//g; return $name }

my %held;
$held{ holder($_) }++ for @chunks;
ok($held{dn1} && $held{dn2} && $held{dn1} + $held{dn2} == $DAYS,
	'both data nodes hold chunks of m');

# A chunk of m on $node other than $not: [id, name].
sub other_chunk
{
	my ($node, $not) = @_;
	my ($ch) = grep { $_->[0] != $not->[0] && holder($_) eq $node } @chunks;
	return $ch;
}

# The range of chunk $ch's day, as a WHERE condition on time.
sub day_of
{
	my ($ch) = @_;
	my ($i) = grep { $chunks[$_][0] == $ch->[0] } 0 .. $#chunks;
	my $d = $i + 1;
	return "time >= '2026-01-0$d' AND time < '2026-01-0$d'::timestamptz + interval '1 day'";
}

# Waits until a backend of data node $i drops or detaches $table, waiting
# for a lock; true then.
sub wait_detach_waiting
{
	my ($i, $table) = @_;
	return poll_until(
		sub {
			my ($out, $err, $rc) = $c->psql(
				"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
				  . " AND (query LIKE 'ALTER TABLE % DETACH PARTITION %$table%'"
				  . "      OR query LIKE 'DROP TABLE %$table%')",
				node => $i);
			return $rc == 0 && $out > 0;
		},
		120, 0.2);
}

# Whether $table on data node $i is a partition pending detach: 't', 'f'
# (attached), or '' (not a partition, or gone).
sub detach_pending
{
	my ($i, $table) = @_;
	return $c->psql_ok("SELECT i.inhdetachpending FROM pg_inherits i"
		  . " WHERE i.inhrelid = to_regclass('_hyperdist_internal.$table')",
		node => $i);
}

# Starts move $n of chunk $ch from its holder while a session on the
# source holds a transaction that read another chunk of m there, and waits
# until the retired table's detach waits for it.  Returns (source,
# destination, the long session, the CALL's session).
sub start_move_under_reader
{
	my ($n, $ch, $what) = @_;
	my $src = holder($ch);
	my $dst = other($src);
	my $long = $c->session(node => num($src), app => "hd_long_$n");
	my $other = other_chunk($src, $ch);
	my ($out, $err) = $long->query("BEGIN; SELECT count(*) FROM m WHERE " . day_of($other));
	is($out, $PER_DAY, "$what: a transaction on $src read another chunk of m there");
	my $s = $c->session(app => "hd_move_$n");
	$s->send("CALL move_chunk('$ch->[1]', '$src', '$dst', operation_id => 'hd_detach_$n')");
	ok(wait_detach_waiting(num($src), table_of($ch->[1])),
		"$what: the retired table's detach on $src waits for that transaction");
	return ($src, $dst, $long, $s);
}

# Checks a move of chunk $ch to $dst that ended.
sub check_moved
{
	my ($n, $ch, $src, $dst, $what) = @_;
	my %row = op_row($c, "hd_detach_$n");
	is($row{completed_stage}, 'complete', "$what: the move completed");
	is(replica_string($c, $ch->[0]), "$dst:current",
		"$what: the chunk has exactly one replica, current, on $dst");
	is(node_count($c, num($dst), $ch->[1]), $PER_DAY, "$what: $dst holds the chunk's rows");
	is(node_count($c, num($src), $ch->[1]), 'error', "$what: the retired table is gone from $src");
	is($c->psql_ok("SELECT count(*), sum(v) FROM m"), $expect, "$what: every row once through the access node");
	check_no_orphans($c, "$what: no table is left on a data node without its replica");
}

# ---- readers and writers of the source's root table are not blocked --------

{
	my $what = 'long transaction on the source';
	my $ch = $chunks[0];
	my ($src, $dst, $long, $s) = start_move_under_reader(1, $ch, $what);
	my $table = table_of($ch->[1]);
	is(detach_pending(num($src), $table), 't',
		"$what: the retired table is pending detach from m on $src");

	my $other = other_chunk($src, $ch);
	my ($out, $err, $rc) = $c->psql(
		"SET lock_timeout = '2s';\n"
		  . "SELECT count(*) FROM m WHERE " . day_of($other) . ";\n"
		  . "BEGIN;\n"
		  . "INSERT INTO m SELECT time + interval '1 ms', -id, -v FROM m WHERE " . day_of($other) . " LIMIT 1;\n"
		  . "ROLLBACK;",
		node => num($src));
	is($rc, 0, "$what: a new reader and writer of m on $src are not blocked meanwhile")
	  or diag($err);
	is($out, $PER_DAY, "$what: the reader on $src counted the other chunk's rows");

	$long->query('COMMIT');
	ok(wait_op_ended($c, 'hd_detach_1'), "$what: the move ended once the transaction did")
	  or diag(join ' ', op_row($c, 'hd_detach_1'));
	my ($cout, $cerr) = $s->wait(60);
	ok(!defined sqlstate($cerr), "$what: the CALL succeeded") or diag($cerr);
	check_moved(1, $ch, $src, $dst, $what);
	$long->quit;
	$s->quit;
}

# ---- a chunk of a space-partitioned hypertable: its parent is a slice's table --

{
	my $what = 'space partitions';
	$c->psql_ok(
		"CREATE TABLE s (time timestamptz NOT NULL, dev int NOT NULL, v bigint);\n"
		  . "SELECT create_distributed_hypertable('s', 'time', 'dev', number_partitions => 2,\n"
		  . "       replication_factor => 1, chunk_time_interval => interval '1 day');\n"
		  . "INSERT INTO s SELECT '2026-01-01'::timestamptz + g * interval '1 min', g % 4, g\n"
		  . "  FROM generate_series(1, 3000) g;",
		name => "$what: hypertable s, partitioned by time and space");
	my ($id, $name) = split /\|/, $c->psql_ok(
		"SELECT ch.id, format('%I.%I', ch.schema_name, ch.table_name)"
		  . "  FROM _hyperdist_catalog.chunk ch"
		  . "  JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id"
		  . " WHERE h.relid = 's'::regclass ORDER BY ch.id LIMIT 1");
	my $ch = [ $id, $name ];
	my $src = holder($ch);
	my $dst = other($src);
	my $table = table_of($name);
	my $rows = node_count($c, num($src), $name);
	my $parent = $c->psql_ok("SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
		  . " WHERE i.inhrelid = to_regclass('_hyperdist_internal.$table')", node => num($src));
	ok($parent ne '' && $parent ne 's', "$what: the chunk's parent on $src is a slice's table ($parent)");

	my $long = $c->session(node => num($src), app => 'hd_long_s');
	my ($out) = $long->query("BEGIN; SELECT count(*) FROM s");
	ok($out > $rows, "$what: a transaction on $src read s there, more than the chunk");
	my $s = $c->session(app => 'hd_move_s');
	$s->send("CALL move_chunk('$name', '$src', '$dst', operation_id => 'hd_detach_s')");
	ok(wait_detach_waiting(num($src), $table), "$what: the retired table's detach waits for it");
	is(detach_pending(num($src), $table), 't', "$what: the retired table is pending detach from $parent");
	my ($o, $err, $rc) = $c->psql(
		"SET lock_timeout = '2s';\n"
		  . "SELECT count(*) FROM s;\n"
		  . "BEGIN;\n"
		  . "INSERT INTO s SELECT time + interval '1 ms', dev, -v FROM s LIMIT 1;\n"
		  . "ROLLBACK;",
		node => num($src));
	is($rc, 0, "$what: a new reader and writer of s on $src are not blocked meanwhile") or diag($err);
	$long->query('COMMIT');
	ok(wait_op_ended($c, 'hd_detach_s'), "$what: the move ended once the transaction did");
	my ($cout, $cerr) = $s->wait(60);
	ok(!defined sqlstate($cerr), "$what: the CALL succeeded") or diag($cerr);
	is(replica_string($c, $id), "$dst:current", "$what: the chunk has one replica, current, on $dst");
	is(node_count($c, num($dst), $name), $rows, "$what: $dst holds the chunk's $rows rows");
	is(node_count($c, num($src), $name), 'error', "$what: the retired table is gone from $src");
	check_no_orphans($c, "$what: no table is left on a data node without its replica");
	$long->quit;
	$s->quit;
}

# ---- a detach left pending by a crash is completed ---------------------------

my %kills = (
	'access node killed' => sub {
		my ($src) = @_;
		return $c->stop_an('immediate') && $c->start_an && $c->wait_an_ready;
	},
	'source agent killed' => sub {
		my ($src) = @_;
		my $ok = $c->kill_agent(num($src), 'KILL');
		return $c->start_agent(num($src)) && $ok;
	},
	'source data node killed' => sub {
		my ($src) = @_;
		return $c->stop_dn(num($src), 'immediate') && $c->start_dn(num($src));
	});

my $n = 1;
for my $kill ('access node killed', 'source agent killed', 'source data node killed')
{
	$n++;
	my $what = "detach pending, $kill";
	my $ch = $chunks[$n - 1];
	my ($src, $dst, $long, $s) = start_move_under_reader($n, $ch, $what);
	my $table = table_of($ch->[1]);
	is(detach_pending(num($src), $table), 't', "$what: the retired table is pending detach on $src");
	ok($kills{$kill}->($src), "$what: done, and restarted");
	# the long transaction ends (with its server, if that was killed)
	eval { $long->query('COMMIT', 30) };
	$long->quit;
	ok(wait_op_ended($c, "hd_detach_$n", 180), "$what: the operation ended by itself")
	  or diag(join ' ', op_row($c, "hd_detach_$n"));
	check_moved($n, $ch, $src, $dst, $what);
	$s->quit;
}

$c->teardown;
done_testing();
