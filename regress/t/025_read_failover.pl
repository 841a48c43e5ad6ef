# SPDX-License-Identifier: PostgreSQL
# Reads fail over: with replication factor 2 on 3 data nodes, every SELECT
# returns what it returned before one data node failed, from new sessions
# and from a session whose connection to that node is cached: an agent
# killed, a data node's postmaster killed (agent alive), an agent stopped
# (SIGSTOP: hung).  A chunk whose only replica is on the dead node fails
# with 08001, naming chunk and node.  A node lost while a scan waits for
# its first rows restarts the scan on the other replicas, also inside a
# transaction block.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;
use IO::Socket::INET;
use POSIX ();

my $c = HyperdistTest->new(data_nodes => 3);

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.connect_timeout = 2;\n"
	  . "SELECT pg_reload_conf();\n"
	  . "CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', 'device', number_partitions => 3,\n"
	  . "  chunk_time_interval => interval '1 day', replication_factor => 2);\n"
	  . "INSERT INTO m SELECT '2024-01-01'::timestamptz + g * interval '5 minutes', g % 7, g\n"
	  . "  FROM generate_series(0, 2999) g;\n"
	  . "CREATE TABLE solo (time timestamptz NOT NULL, v int);\n"
	  . "SELECT create_distributed_hypertable('solo', 'time', replication_factor => 1,\n"
	  . "  data_nodes => '{dn1}');\n"
	  . "INSERT INTO solo VALUES ('2024-01-01', 1);",
	name => 'rf 2 hypertable on 3 nodes, and an rf 1 one on dn1');

my @queries = (
	'SELECT count(*) FROM m',
	'SELECT device, count(*), sum(v), min(time), max(v) FROM m GROUP BY device ORDER BY device',
	'SELECT time, device, v FROM m ORDER BY time DESC LIMIT 5',
	"SELECT count(*), sum(v) FROM m WHERE time >= '2024-01-03' AND time < '2024-01-06'",
	'SELECT device, v FROM m WHERE device = 3 AND v > 2900 ORDER BY v',
	'SELECT count(*) FROM m a JOIN m b USING (time, device)');
my $explain = 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM m';

my %expected = map { $_ => scalar $c->psql_ok($_) } @queries;
like($expected{ $queries[0] }, qr/^3000$/, 'every row is read before any failure');

# The nodes an EXPLAIN ANALYZE of a scan lists as queried.
sub queried
{
	my ($plan) = @_;
	return join(',', sort $plan =~ /Data node: (dn\d)/g);
}

# Whether the health monitor, which brings a node back, is built in.
my $monitor = $c->psql_ok(
	"SELECT count(*) FROM pg_settings WHERE name = 'hyperdist.health_check_interval'");

# Every query from $old (whose sessions are cached) and from new sessions;
# the same answers as before, none from node $k.
sub reads_fail_over
{
	my ($k, $what, $old) = @_;
	# the cached session first, while nothing knows yet that node $k failed
	for my $q (@queries)
	{
		my ($out, $err) = $old->query($q);
		is(sqlstate($err), undef, "$what, cached session: " . HyperdistTest::short($q))
		  or diag($err);
		is($out, $expected{$q}, '... the same rows as before');
	}
	my ($plan, $err) = $old->query($explain);
	is(sqlstate($err), undef, "$what, cached session: EXPLAIN ANALYZE") or diag($err);
	like($plan, qr/Data node: dn/, '... listing the nodes read') or diag($plan);
	unlike(queried($plan), qr/dn$k/, "... not dn$k") or diag($plan);
	for my $q (@queries)
	{
		my ($out, $err) = $c->psql($q);
		is(sqlstate($err), undef, "$what, new session: " . HyperdistTest::short($q))
		  or diag($err);
		is($out, $expected{$q}, '... the same rows as before');
	}
	($plan, $err) = $c->psql($explain);
	is(sqlstate($err), undef, "$what, new session: EXPLAIN ANALYZE") or diag($err);
	unlike(queried($plan), qr/dn$k/, "... which lists the nodes read, not dn$k")
	  or diag($plan);
}

# Node $k is back: reads use it again once the monitor saw it answer;
# without the monitor, a restart of the access node forgets that it was down.
sub node_back
{
	my ($k) = @_;
	if ($monitor)
	{
		ok( poll_until(
				sub { queried(($c->psql($explain))[0]) =~ /dn$k/ }, 60),
			"reads use dn$k again");
	}
	else
	{
		ok($c->stop_an && $c->start_an && $c->wait_an_ready,
			'access node restarted (no health monitor to bring the node back)');
		like(queried(($c->psql($explain))[0]), qr/dn$k/, "reads use dn$k again");
	}
}

# A session that read through every node before the failure.
sub warm_session
{
	my ($name) = @_;
	my $s = $c->session(app => $name);
	for my $q (@queries, $explain)
	{
		my ($out, $err) = $s->query($q);
		is(sqlstate($err), undef, "$name reads before the failure") or diag($err);
	}
	like(queried(($s->query($explain))[0]), qr/^dn1,dn2,dn3$/,
		'... from every node');
	return $s;
}

sub postmaster_pid
{
	my ($k) = @_;
	my $pid = slurp($c->dn_pgdata($k) . '/postmaster.pid');
	return $pid =~ /^(\d+)/ ? $1 : undef;
}

# ---- an agent killed -------------------------------------------------------------
my $old = warm_session('cached_1');
ok($c->kill_agent(1, 'KILL'), 'agent1 killed');
reads_fail_over(1, 'agent1 killed', $old);

my $err = $c->psql_error('SELECT count(*) FROM solo', '08001',
	'a chunk whose only replica is on dn1: 08001');
like($err, qr/chunk .*_dist_hyper_2_\d+_chunk.* has no current replica on an available data node/,
	'... naming the chunk');
like($err, qr/"dn1"/, '... and the node');

ok($c->start_agent(1), 'agent1 started again');
node_back(1);
$old->quit;

# ---- a data node's postmaster killed, its agent alive --------------------------
$old = warm_session('cached_2');
my $pm = postmaster_pid(2);
ok($pm && kill('KILL', $pm), "dn2's postmaster killed");
ok(poll_until(sub { !-e "/proc/$pm" }, 30), '... and gone');
reads_fail_over(2, "dn2's postmaster killed", $old);
ok(poll_until(sub { $c->start_dn(2) }, 60), 'dn2 started again');
node_back(2);
$old->quit;

# ---- a hung agent (SIGSTOP) --------------------------------------------------------
$old = warm_session('cached_3');
my $agent3 = $c->agent_pid(3);
ok(kill('STOP', $agent3), 'agent3 stopped (SIGSTOP)');
reads_fail_over(3, 'agent3 hung', $old);
ok(kill('CONT', $agent3), 'agent3 continued');
node_back(3);
$old->quit;

# ---- a node lost while a scan waits for its first rows -------------------------
# A lock on dn1 holds the scan's query there; the agent dies meanwhile.
sub blocked_scan
{
	my ($what, $sql, $kill) = @_;
	my $lock = $c->session(node => 1, app => 'locker');
	my ($out, $e) = $lock->query('BEGIN; LOCK TABLE m IN ACCESS EXCLUSIVE MODE');
	is(sqlstate($e), undef, "$what: dn1's table locked") or diag($e);
	my $s = $c->session(app => 'blocked');
	$s->send($sql);
	ok( poll_until(
			sub {
				$c->psql_ok("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
					node => 1) > 0
			},
			60),
		"$what: the scan waits on dn1");
	$kill->();
	($out, $e) = $s->wait(120);
	$lock->quit;
	return ($out, $e, $s);
}

my ($out, $e, $s) = blocked_scan('agent killed', 'SELECT count(*) FROM m',
	sub { ok($c->kill_agent(1, 'KILL'), 'agent1 killed during the scan') });
is(sqlstate($e), undef, 'the scan restarted on the other replicas') or diag($e);
is($out, '3000', '... and read every row once');
$s->quit;
ok($c->start_agent(1), 'agent1 started again');
node_back(1);

($out, $e, $s) = blocked_scan('in a transaction block',
	"BEGIN; SELECT count(*) FROM m WHERE time < '2024-01-05'; SELECT count(*) FROM m",
	sub { ok($c->kill_agent(1, 'KILL'), 'agent1 killed during the scan') });
is(sqlstate($e), undef, 'inside a transaction block too') or diag($e);
is($out, "1152\n3000", '... with every row');
($out, $e) = $s->query('COMMIT');
is(sqlstate($e), undef, 'the transaction commits without the lost reader') or diag($e);
$s->quit;
ok($c->start_agent(1), 'agent1 started again');
node_back(1);

($out, $e, $s) = blocked_scan("dn1's postmaster killed", 'SELECT count(*) FROM m',
	sub {
		my $pid = postmaster_pid(1);
		ok($pid && kill('KILL', $pid), "dn1's postmaster killed during the scan");
	});
is(sqlstate($e), undef, 'the scan restarted on the other replicas') or diag($e);
is($out, '3000', '... and read every row once');
$s->quit;
ok(poll_until(sub { $c->start_dn(1) }, 60), 'dn1 started again');
node_back(1);

# An address that closes every connection before the secure handshake ends,
# as an agent that is dying or starting does: the node is lost, not an
# error, and reads fail over.
my $fake = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64, ReuseAddr => 1)
  or die "listen: $!";
my $fake_pid = fork() // die "fork: $!";
if ($fake_pid == 0)
{
	while (my $conn = $fake->accept) { close $conn; }
	POSIX::_exit(0);
}
my $fake_port = $fake->sockport;
close $fake;
$c->psql_ok("ALTER SERVER dn3 OPTIONS (SET port '$fake_port')",
	name => "dn3's address now closes connections during the handshake");
($out, $e) = $c->psql('SELECT count(*) FROM m');
is(sqlstate($e), undef, 'a read fails over from a node whose handshake fails') or diag($e);
is($out, '3000', '... with every row');
kill 'KILL', $fake_pid;
waitpid($fake_pid, 0);
$c->psql_ok("ALTER SERVER dn3 OPTIONS (SET port '" . $c->agent_port(3) . "')",
	name => "dn3's address restored");
node_back(3);

$c->teardown;
done_testing();
