# SPDX-License-Identifier: PostgreSQL
# A chunk move interrupted at each of its stages: the mover is paused at a
# fault point (hyperdist.inject_fault = move_created, move_copied,
# move_switching, move_switched, move_detached: the retired source's table
# detached, not dropped; action pause), then the access node's
# PostgreSQL is killed and restarted, or the source's agent is killed with
# SIGKILL and restarted, or the destination data node's PostgreSQL is
# killed and restarted.  Each time the background worker must, by itself,
# either finish the move or undo it, while a writer goes on inserting rows
# into the chunk, one per statement: afterwards every row of the setup and
# every write that succeeded is there exactly once (and no row that was not
# written), the chunk has exactly one replica, current, where the
# operation's end says, no data node keeps a table the catalog does not
# know, no operation is left under way and no prepared transaction is left
# behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistMove;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep);

# A session whose server crashed is gone: writing to its psql must not kill
# the test.
$SIG{PIPE} = 'IGNORE';

my $c = HyperdistTest->new(data_nodes => 2);

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.health_check_interval = '200ms';\n"
	  . "ALTER SYSTEM SET hyperdist.connect_timeout = 2;\n"
	  . "SELECT pg_reload_conf();",
	name => 'fast failure detection for the test');
my $ROWS = 30_000;
$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, id bigint NOT NULL, v bigint);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', replication_factor => 1,\n"
	  . "       chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2026-01-01'::timestamptz + g * interval '2 s', g, g\n"
	  . "  FROM generate_series(1, $ROWS) g;\n"
	  . "INSERT INTO m SELECT '2026-01-02'::timestamptz + g * interval '1 min', -g, -g\n"
	  . "  FROM generate_series(1, 1000) g;",
	name => "hypertable m: a chunk of $ROWS rows and one of 1,000");
my $setup = "SELECT count(*), sum(v), count(DISTINCT id) FROM m WHERE id <= $ROWS";
my $expect = ($ROWS + 1000) . '|' . ($ROWS * ($ROWS + 1) / 2 - 500500) . '|' . ($ROWS + 1000);
is($c->psql_ok($setup), $expect, 'every row read through the access node');
my ($chunk_id, $chunk) = chunk_of($c, 'm', '2026-01-01 12:00');

my @points = grep { /^move_/ } split /,/,
  ($c->psql_ok("SELECT array_to_string(enumvals, ',') FROM pg_settings WHERE name = 'hyperdist.inject_fault'"));
is_deeply(\@points, [qw(move_created move_copied move_switching move_switched move_detached)],
	'hyperdist.inject_fault has a point at each stage of a move');

sub num { my ($node) = @_; $node =~ s/^dn//; return $node }

# Releases every process paused at a fault point since offset $from of the
# access node's log (a mover that retries in the same process may pause at
# the point again) but those in %$done (already released, or killed);
# returns how many it released.
sub release_paused
{
	my ($from, $done) = @_;
	my $log = substr(slurp($c->log_path('an')) // '', $from);
	my %paused;
	while ($log =~ /\[(\d+)\][^\n]*fault point "[^"]+" (reached|released)/g)
	{
		$paused{$1} += $2 eq 'reached' ? 1 : -1;
	}
	my @pids = grep { $paused{$_} > 0 && !$done->{$_} } keys %paused;
	release($c, $_) for @pids;
	$done->{$_} = 1 for @pids;
	return scalar @pids;
}

# The interruptions: each makes the failure, and once the paused mover has
# been released (unless the failure killed it), ends it.
my %kills = (
	'access node killed' => sub {
		my ($pid, $src, $dst) = @_;
		return $c->stop_an('immediate') && $c->start_an && $c->wait_an_ready;
	},
	'source agent killed' => sub {
		my ($pid, $src, $dst) = @_;
		my $ok = $c->kill_agent(num($src), 'KILL');
		release($c, $pid);
		sleep 2;
		return $c->start_agent(num($src)) && $ok;
	},
	'destination data node killed' => sub {
		my ($pid, $src, $dst) = @_;
		my $ok = $c->stop_dn(num($dst), 'immediate');
		release($c, $pid);
		sleep 2;
		return $c->start_dn(num($dst)) && $ok;
	});

# The writer: a psql per statement (so that it outlives a restart of the
# access node), each inserting one row into the moving chunk, id $base + n;
# logs "id ok|SQLSTATE" per statement until $stop exists.
my $stop = $c->tmp . '/stop';

sub start_writer
{
	my ($base, $log) = @_;
	unlink $stop;
	my $pid = fork() // die "fork: $!";
	return $pid if $pid;
	open my $fh, '>>', $log or POSIX::_exit(1);
	$fh->autoflush(1);
	for (my $i = 1; !-e $stop; $i++)
	{
		my $id = $base + $i;
		my ($out, $err, $rc) = $c->psql(
			"INSERT INTO m VALUES ('2026-01-01 20:00'::timestamptz + $i * interval '1 ms', $id, $id)",
			timeout => 120);
		print $fh "$id " . ($rc == 0 ? 'ok' : sqlstate($err) // "exit$rc") . "\n";
	}
	POSIX::_exit(0);
}

# Stops the writer; checks that every write that succeeded is there once
# and that no row is there that was not written; returns the rows written.
sub check_writer
{
	my ($what, $pid, $log, $base) = @_;
	open my $f, '>', $stop or die;
	close $f;
	waitpid($pid, 0);
	my %st = map { split / / } split /\n/, (slurp($log) // '');
	my @ok = grep { $st{$_} eq 'ok' } keys %st;
	my @got = split /\n/, $c->psql_ok("SELECT id FROM m WHERE id > $base AND id <= $base + 1000000");
	my %seen;
	my @twice = grep { $seen{$_}++ } @got;
	my @lost = grep { !$seen{$_} } @ok;
	my @phantom = grep { !exists $st{$_} } keys %seen;
	ok(@ok > 0, "$what: the writer wrote into the chunk (" . @ok . " of " . keys(%st) . " writes succeeded)");
	ok(!@twice && !@lost && !@phantom, "$what: every successful write is there once, and nothing else")
	  or diag("twice: @twice[0 .. 9]\nlost: @lost[0 .. 9]\nphantom: @phantom[0 .. 9]");
	return scalar keys %seen;
}

my $written = 0;    # writer rows over every scenario
my $n = 0;
for my $point (@points)
{
	for my $kill ('access node killed', 'source agent killed', 'destination data node killed')
	{
		$n++;
		my $what = "$point, $kill";
		my $op = "hd_crash_$n";
		my @r = replicas($c, $chunk_id);
		my $src = $r[0][0];
		my $dst = $src eq 'dn1' ? 'dn2' : 'dn1';
		is(scalar @r, 1, "$what: the chunk has one replica, on $src, before the move");

		my $base = $n * 1_000_000;
		my $wlog = $c->tmp . "/writer$n.log";
		my $writer = start_writer($base, $wlog);
		my $from = -s $c->log_path('an');
		set_fault($c, $point);
		my $s = $c->session(app => "hd_move_$n");
		$s->send("CALL move_chunk('$chunk', '$src', '$dst', operation_id => '$op')");
		my $pid = wait_paused($c, $point, $from);
		set_fault($c, undef);
		ok(defined $pid, "$what: the mover paused there");
		ok($kills{$kill}->($pid // 0, $src, $dst), "$what: done, and restarted");

		my $again = 0;
		my %done = (($pid // 0) => 1);
		ok(poll_until(sub { $again += release_paused($from, \%done); wait_op_ended($c, $op, 0) }, 180, 0.5),
			"$what: the operation ended by itself")
		  or diag(join ' ', op_row($c, $op));
		diag("$what: the mover paused at $point again $again time(s) after its release") if $again;
		my %row = op_row($c, $op);
		my $end = $row{completed_stage} // '';
		like($end, qr/^(complete|failed|cancelled)$/, "$what: it ended $end"
			  . ($row{error_code} ? " ($row{error_code}: $row{error_message})" : ''));
		# A killed node comes back for readers and writers once the health
		# monitor has checked it: the reads below need both nodes.
		my $down = '';
		my $up = poll_until(sub {
			$down = $c->psql_ok("SELECT string_agg(node_name || ': ' || coalesce(last_error, '?') || ', checked '"
				  . " || coalesce(last_check::text, 'never'), '; ') FROM hyperdist_information.data_nodes"
				  . " WHERE status = 'unavailable'");
			$down eq '';
		}, 120, 0.5);
		ok($up, "$what: every data node is available again" . ($up ? '' : " (unavailable: $down)"));
		my $holder = $end eq 'complete' ? $dst : $src;
		is(replica_string($c, $chunk_id), "$holder:current",
			"$what: the chunk has exactly one replica, current, on $holder");
		$written += check_writer($what, $writer, $wlog, $base);
		is($c->psql_ok($setup), $expect, "$what: every row of the setup exactly once through the access node");
		is(node_count($c, num($holder), $chunk), $ROWS + $written,
			"$what: $holder holds the chunk's rows, read there");
		check_no_orphans($c, "$what: no table is left on a data node without its replica");
		is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk_copy_operation"
				  . " WHERE completed_stage IN ('planned', 'copying', 'switched')"),
			'0', "$what: no operation is left under way");
		ok(poll_until(sub { $c->prepared_xacts(1) == 0 && $c->prepared_xacts(2) == 0 }, 60),
			"$what: no prepared transaction is left on the data nodes");

		# The CALL, unless the access node's crash ended its session,
		# returned with the operation: success if it completed.
		if ($kill ne 'access node killed')
		{
			my ($out, $err) = eval { $s->wait(60) };
			ok(defined $out, "$what: the waiting CALL returned") or diag($@);
			is(defined(sqlstate($err)) ? 'error' : 'ok', $end eq 'complete' ? 'ok' : 'error',
				"$what: the CALL's outcome is the operation's") or diag($err // '');
		}
		$s->quit;
	}
}

$c->teardown;
done_testing();
