# SPDX-License-Identifier: PostgreSQL
# A data node dies or hangs while a chunk with replication factor 2 is
# moved, on 3 data nodes, while a writer inserts into that chunk (one row
# per statement) and a reader reads it:
#
# (a) the destination's agent is killed while the mover is paused after
#     the bulk copy: the move fails and is tried again; once the agent is
#     back it completes, or is undone without leaving a table behind;
# (b) the agent of the node holding the chunk's other replica (neither
#     source nor destination) is killed: the move completes, the writes go
#     on and mark that replica stale, and it is healed once the agent is
#     back;
# (c) the source's agent hangs (SIGSTOP): the move does not wait for it
#     forever, and reads fail over to the other replica; once it goes on
#     (SIGCONT) the move has completed, or failed and been undone (a write
#     that could not reach the source made it stale), and a move after the
#     heal completes.
#
# Each time: no read fails and every count is exact; a write fails only
# with a connection error (class 08) when the node it was writing to died
# under it, and only in (b) and (c); every write that succeeded is there
# once, on the access node and on every current replica; the catalog holds
# the replicas where the operation's end says, and no data node keeps a
# table the catalog does not know.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistMove;
use POSIX ();
use Test::More;

$SIG{PIPE} = 'IGNORE';

my $c = HyperdistTest->new(data_nodes => 3);

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.health_check_interval = '200ms';\n"
	  . "ALTER SYSTEM SET hyperdist.node_failure_timeout = '1s';\n"
	  . "ALTER SYSTEM SET hyperdist.connect_timeout = 2;\n"
	  . "SELECT pg_reload_conf();",
	name => 'fast failure detection for the test');
my $ROWS = 3000;
$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, id bigint NOT NULL, v bigint);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', replication_factor => 2,\n"
	  . "       chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2026-01-01'::timestamptz + (g - 1) / $ROWS * interval '1 day'\n"
	  . "                     + (g - 1) % $ROWS * interval '20 s', g, g\n"
	  . "  FROM generate_series(1, 3 * $ROWS) g;",
	name => "replication factor 2 on 3 data nodes: 3 chunks of $ROWS rows");
my ($chunk_id, $chunk) = chunk_of($c, 'm', '2026-01-01 12:00');
my $DAY1 = "time < '2026-01-02'";
my $setup = "$ROWS|" . ($ROWS * ($ROWS + 1) / 2);

sub num { my ($node) = @_; $node =~ s/^dn//; return $node }

# The chunk's replicas in replica order: the first is the one reads use.
sub in_order
{
	return split /\n/, $c->psql_ok("SELECT node_name FROM _hyperdist_catalog.chunk_data_node"
		  . " WHERE chunk_id = $chunk_id ORDER BY replica");
}

# ---- load: a writer into the chunk and a reader of it ------------------------

my $stop = $c->tmp . '/stop';

# Runs $body(n) until $stop exists, logging "n ok|SQLSTATE output" per
# statement into $log.
sub loop_child
{
	my ($log, $body) = @_;
	my $pid = fork() // die "fork: $!";
	return $pid if $pid;
	open my $fh, '>>', $log or POSIX::_exit(1);
	$fh->autoflush(1);
	for (my $n = 1; !-e $stop; $n++)
	{
		my ($out, $err, $rc) = $body->($n);
		$out =~ s/\s+/ /g;
		print $fh "$n " . ($rc == 0 ? 'ok' : sqlstate($err) // "exit$rc") . " $out\n";
	}
	POSIX::_exit(0);
}

# The writer inserts ids $base + n into the chunk; the reader counts the
# setup's rows of the chunk, then the writer's, in turn.
sub start_load
{
	my ($base) = @_;
	unlink $stop;
	my %l = (base => $base, wlog => $c->tmp . "/w$base.log", rlog => $c->tmp . "/r$base.log");
	$l{writer} = loop_child(
		$l{wlog},
		sub {
			my ($n) = @_;
			my $id = $base + $n;
			return $c->psql("INSERT INTO m VALUES ('2026-01-01 23:00'::timestamptz"
				  . " + $n * interval '1 ms', $id, $id)", timeout => 120);
		});
	$l{reader} = loop_child(
		$l{rlog},
		sub {
			my ($n) = @_;
			return $c->psql($n % 2
				? "SELECT count(*), sum(v) FROM m WHERE $DAY1 AND id <= $ROWS"
				: "SELECT count(*) FROM m WHERE $DAY1 AND id > $base", timeout => 120);
		});
	return \%l;
}

sub read_log
{
	my ($path) = @_;
	return map { my @f = split / /, $_, 3; { n => $f[0], st => $f[1], out => $f[2] // '' } }
	  split /\n/, (slurp($path) // '');
}

# Stops the load and checks it; $may_fail: writes may fail with class 08.
# Returns the ids of the writes that succeeded.
sub check_load
{
	my ($l, $what, $may_fail) = @_;
	open my $f, '>', $stop or die;
	close $f;
	waitpid($l->{$_}, 0) for qw(writer reader);
	my @w = read_log($l->{wlog});
	my @r = read_log($l->{rlog});
	ok(@w >= 5 && @r >= 5, "$what: the writer and the reader ran (" . @w . " writes, " . @r . " reads)");
	my @rfail = grep { $_->{st} ne 'ok' } @r;
	is(scalar @rfail, 0, "$what: no read failed") or diag(join "\n", map { "$_->{n}: $_->{st}" } @rfail);
	my @wrong = grep { $_->{st} eq 'ok' && $_->{n} % 2 && $_->{out} ne $setup } @r;
	is(scalar @wrong, 0, "$what: every read counted the setup's rows of the chunk exactly")
	  or diag(join "\n", map { "$_->{n}: $_->{out}" } @wrong);
	my @wfail = grep { $_->{st} ne 'ok' } @w;
	my @bad = grep { !$may_fail || $_->{st} !~ /^08/ } @wfail;
	is(scalar @bad, 0, "$what: " . ($may_fail ? 'a write failed only with a connection error'
		  : 'no write failed') . " (" . @wfail . " failed)")
	  or diag(join "\n", map { "$_->{n}: $_->{st}" } @bad);

	my %tried = map { ($l->{base} + $_->{n}) => $_->{st} } @w;
	my @got = split /\n/, $c->psql_ok("SELECT id FROM m WHERE id > $l->{base} AND id <= $l->{base} + 1000000");
	my %seen;
	my @twice = grep { $seen{$_}++ } @got;
	my @lost = grep { $tried{$_} eq 'ok' && !$seen{$_} } keys %tried;
	my @phantom = grep { !exists $tried{$_} } keys %seen;
	ok(!@twice && !@lost && !@phantom, "$what: every successful write is there once, and nothing else")
	  or diag("twice: @twice[0 .. 9]\nlost: @lost[0 .. 9]\nphantom: @phantom[0 .. 9]");
}

# Every current replica of the chunk holds the rows the access node reads.
sub check_nodes
{
	my ($what) = @_;
	my $want = $c->psql_ok("SELECT count(*) FROM m WHERE $DAY1");
	for my $r (replicas($c, $chunk_id))
	{
		next unless $r->[1] eq 'current';
		is(node_count($c, num($r->[0]), $chunk), $want, "$what: $r->[0] holds the chunk's $want rows");
	}
	check_no_orphans($c, "$what: no table is left on a data node without its replica");
	is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk_copy_operation"
			  . " WHERE completed_stage IN ('planned', 'copying', 'switched')"),
		'0', "$what: no operation is left under way");
}

sub wait_current
{
	my ($what, $want) = @_;
	my $got;
	ok(poll_until(sub { ($got = replica_string($c, $chunk_id)) eq $want }, 120),
		"$what: the chunk's replicas are $want") or diag("they are $got");
}

# Starts move $op of the chunk from $src to $dst, paused after its bulk copy;
# returns (the CALL's session, the paused mover's pid).
sub start_paused_move
{
	my ($op, $src, $dst, $what) = @_;
	my $from = -s $c->log_path('an');
	set_fault($c, 'move_copied');
	my $s = $c->session(app => "hd_$op");
	$s->send("CALL move_chunk('$chunk', '$src', '$dst', operation_id => '$op')");
	my $pid = wait_paused($c, 'move_copied', $from);
	set_fault($c, undef);
	ok(defined $pid, "$what: the mover paused after the bulk copy");
	return ($s, $pid // 0);
}

# Waits for operation $op to end; a move that failed is made again, which
# must complete.  Returns where the chunk's replica went: $dst or $src.
sub finish_move
{
	my ($op, $s, $src, $dst, $what) = @_;
	ok(wait_op_ended($c, $op, 300), "$what: the operation ended by itself")
	  or diag(join ' ', op_row($c, $op));
	eval { $s->wait(60) };
	$s->quit;
	my %row = op_row($c, $op);
	like($row{completed_stage}, qr/^(complete|failed)$/, "$what: it ended $row{completed_stage}"
		  . ($row{error_code} ? " (last error $row{error_code}: $row{error_message})" : ''));
	return $row{completed_stage};
}

sub move_again
{
	my ($src, $dst, $what) = @_;
	$c->psql_ok("CALL move_chunk('$chunk', '$src', '$dst')",
		name => "$what: moving the chunk again from $src to $dst succeeds", timeout => 300);
}

my @nodes = qw(dn1 dn2 dn3);

sub third
{
	my %have = map { $_ => 1 } @_;
	my ($n) = grep { !$have{$_} } @nodes;
	return $n;
}

# ---- (a) the destination's agent killed --------------------------------------
{
	my $what = '(a) destination agent killed';
	my ($src, $other) = in_order();
	my $dst = third($src, $other);
	my $l = start_load(1_000_000);
	my ($s, $pid) = start_paused_move('hd_fail_a', $src, $dst, $what);
	ok($c->kill_agent(num($dst), 'KILL'), "$what: ${dst}'s agent killed");
	release($c, $pid);
	ok(poll_until(sub { my %r = op_row($c, 'hd_fail_a'); $r{attempts} > 0 || $r{completed_stage} eq 'failed' }, 120),
		"$what: the move failed with ${dst}'s agent gone");
	ok($c->start_agent(num($dst)), "$what: ${dst}'s agent restarted");
	my $end = finish_move('hd_fail_a', $s, $src, $dst, $what);
	check_load($l, $what, 0);
	wait_current($what, join ' ', map { "$_:current" }
		  sort($end eq 'complete' ? ($dst, $other) : ($src, $other)));
	check_nodes($what);
	move_again($src, $dst, $what) if $end ne 'complete';
}

# ---- (b) the other replica's agent killed --------------------------------------
{
	my $what = '(b) other replica agent killed';
	my ($src, $other) = in_order();
	my $dst = third($src, $other);
	my $l = start_load(2_000_000);
	my ($s, $pid) = start_paused_move('hd_fail_b', $src, $dst, $what);
	ok($c->kill_agent(num($other), 'KILL'), "$what: ${other}'s agent killed");
	ok(poll_until(sub { replica_string($c, $chunk_id) =~ /\b$other:stale\b/ }, 60),
		"$what: a write marked ${other}'s replica stale while the move was under way");
	release($c, $pid);
	my $end = finish_move('hd_fail_b', $s, $src, $dst, $what);
	is($end, 'complete', "$what: the move completed");
	is(replica_string($c, $chunk_id), join(' ', sort("$dst:current", "$other:stale")),
		"$what: ${dst}'s replica is current, ${other}'s stale, ${src}'s gone");
	ok($c->start_agent(num($other)), "$what: ${other}'s agent restarted");
	wait_current($what, join ' ', sort("$dst:current", "$other:current"));
	check_load($l, $what, 1);
	check_nodes($what);
}

# ---- (c) the source's agent hung -----------------------------------------------
{
	my $what = '(c) source agent hung';
	my ($src, $other) = in_order();
	my $dst = third($src, $other);
	my $l = start_load(3_000_000);
	my ($s, $pid) = start_paused_move('hd_fail_c', $src, $dst, $what);
	my $agent = $c->agent_pid(num($src));
	ok(kill('STOP', $agent), "$what: ${src}'s agent stopped");
	release($c, $pid);
	ok(poll_until(sub { my %r = op_row($c, 'hd_fail_c'); $r{attempts} > 0 || $r{completed_stage} eq 'failed' }, 120),
		"$what: the move gave up waiting for $src") or diag(join ' ', op_row($c, 'hd_fail_c'));
	ok(kill('CONT', $agent), "$what: ${src}'s agent goes on");
	my $end = finish_move('hd_fail_c', $s, $src, $dst, $what);
	wait_current($what, join ' ', map { "$_:current" }
		  sort($end eq 'complete' ? ($dst, $other) : ($src, $other)));
	check_load($l, $what, 1);
	check_nodes($what);
	move_again($src, $dst, $what) if $end ne 'complete';
	check_nodes("$what, moved") if $end ne 'complete';
}

$c->teardown;
done_testing();
