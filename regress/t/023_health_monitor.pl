# SPDX-License-Identifier: PostgreSQL
# The background worker's health monitor on 3 data nodes: a killed agent, a
# stopped agent (SIGSTOP), a killed data node postmaster and a hung data node
# (its PostgreSQL stopped) each make the node 'unavailable' in
# hyperdist_information.data_nodes, with the error, and 'available' again
# once it is back, and no other node with it; a restarted access node still
# knows which node was down; alter_data_node(available => false) wins over
# the monitor; DDL on a distributed hypertable is refused while
# one of its nodes is down; health() still answers for every node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;
use Time::HiRes qw(sleep);

my $c = HyperdistTest->new(data_nodes => 3);

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.health_check_interval = '200ms';\n"
	  . "ALTER SYSTEM SET hyperdist.node_failure_timeout = '1s';\n"
	  . "SELECT pg_reload_conf();",
	name => 'small check interval and failure timeout');

$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', 'device', replication_factor => 2);\n"
	  . "INSERT INTO m SELECT '2024-01-01'::timestamptz + g * interval '1 hour', g % 6, g"
	  . " FROM generate_series(1, 100) g;",
	name => 'a distributed hypertable on dn1..dn3 with rows');

# "status|has last_error|has last_check" of data node $name
sub node_state
{
	my ($name) = @_;
	my ($out, $err, $rc) = $c->psql(
		"SELECT status || '|' || (last_error IS NOT NULL) || '|' || (last_check IS NOT NULL)"
		  . " FROM hyperdist_information.data_nodes WHERE node_name = '$name'");
	return $rc == 0 ? $out : "error: $err";
}

# Polls until node $name shows $status (and its state matches $rest, if
# given); a bound against hangs, not a timing check.
sub wait_status
{
	my ($name, $status, $what, $rest) = @_;
	my $last = '';
	$rest //= qr/.*/;
	my $ok = poll_until(
		sub {
			$last = node_state($name);
			return $last =~ /^\Q$status\E\|/ && $last =~ $rest;
		},
		90);
	ok($ok, "$what: $name becomes $status") or diag("last state: $last");
	return $last;
}

sub dn_postmaster_pid
{
	my ($i) = @_;
	my $pid = slurp($c->dn_pgdata($i) . '/postmaster.pid');
	return defined $pid && $pid =~ /^(\d+)/ ? $1 : undef;
}

# ---- every node checked ------------------------------------------------------------
for my $i (1 .. 3)
{
	wait_status("dn$i", 'available', 'at start, with a last successful check',
		qr/\|true$/);
}

# ---- an agent killed -----------------------------------------------------------------
ok($c->kill_agent(1, 'KILL'), 'agent1 killed');
my $state = wait_status('dn1', 'unavailable', 'agent killed');
like($state, qr/^unavailable\|true\|/, '... with last_error set');
like(
	$c->psql_ok("SELECT last_error FROM hyperdist_information.data_nodes WHERE node_name = 'dn1'"),
	qr/agent at .* does not answer/, '... saying the agent does not answer');
is( $c->psql_ok(
		"SELECT status FROM _hyperdist_catalog.data_node_status WHERE node_name = 'dn1'"),
	'unavailable', '... and the transition is in the catalog');

# DDL while a node of the hypertable is down: refused before anything runs
my $err = $c->psql_error("ALTER TABLE m ADD COLUMN w int", '08001',
	'ALTER TABLE refused while dn1 is down');
like($err, qr/data node "dn1" of distributed hypertable "m" is unavailable/,
	'... naming the node');
like($err, qr/delete_data_node/, '... hinting at delete_data_node');
$c->psql_error("CREATE INDEX ON m (v)", '08001', 'CREATE INDEX refused too');
is($c->psql_ok("SELECT count(*) FROM pg_attribute WHERE attrelid = 'm'::regclass AND attname = 'w'"),
	'0', 'the column was not added on the access node');

# health() still answers for every node, dn1 with its error
my $health = $c->psql_ok(
	"SELECT node_name || ':' || healthy FROM health() WHERE node_name IS NOT NULL ORDER BY 1",
	options => '-c hyperdist.connect_timeout=2');
is($health, "dn1:false\ndn2:true\ndn3:true", 'health() reports every node');

ok($c->start_agent(1), 'agent1 started again');
wait_status('dn1', 'available', 'agent restarted');
is( $c->psql_ok(
		"SELECT status FROM _hyperdist_catalog.data_node_status WHERE node_name = 'dn1'"),
	'available', '... and the catalog says so');
$c->psql_ok("ALTER TABLE m ADD COLUMN w int", name => 'DDL works again once dn1 is back');

# ---- an agent stopped (a hung node) --------------------------------------------------
my $agent2 = $c->agent_pid(2);
ok(kill('STOP', $agent2), 'agent2 stopped with SIGSTOP');
wait_status('dn2', 'unavailable', 'agent stopped');
ok(kill('CONT', $agent2), 'agent2 continued');
wait_status('dn2', 'available', 'agent continued');

# ---- a data node's postmaster killed ---------------------------------------------------
my $pm3 = dn_postmaster_pid(3);
ok($pm3 && kill('KILL', $pm3), 'dn3 postmaster killed with SIGKILL');
wait_status('dn3', 'unavailable', 'postmaster killed');
like(
	$c->psql_ok("SELECT last_error FROM hyperdist_information.data_nodes WHERE node_name = 'dn3'"),
	qr/\S/, '... with an error');
# its backends leave once they notice; the data node then starts again
ok(poll_until(sub { $c->start_dn(3) }, 90, 1), 'dn3 started again');
wait_status('dn3', 'available', 'postmaster restarted');

# ---- a hung data node: sessions to it cannot open --------------------------------------
# Every PostgreSQL process of dn1 stopped (SIGSTOP): its agent answers the
# pings, but the monitor's session to dn1 does not answer, and a new one
# does not open.  Only dn1 goes down: the time a check spends on dn1's
# session is not taken from the other nodes' checks, whose replies would
# otherwise come too late and count as their failure.
sub dn_processes
{
	my ($i) = @_;
	my $pm = dn_postmaster_pid($i) or return ();
	return ($pm, split(' ', `pgrep -P $pm`));
}
my $log_from = -s $c->log_path('an');
my @hung = dn_processes(1);
ok(@hung > 1 && kill('STOP', @hung) == @hung, "dn1's postmaster and backends stopped");
wait_status('dn1', 'unavailable', 'data node hung');
my $reads = 0;
for (1 .. 10)
{
	my ($out, $e, $rc) = $c->psql("SELECT count(*) FROM m");
	$reads++ if $rc == 0 && $out eq '100';
	sleep 0.5;
}
is($reads, 10, 'while dn1 hangs, every read finds each chunk on dn2 or dn3');
ok(kill('CONT', @hung) == @hung, "dn1's processes continued");
wait_status('dn1', 'available', 'data node continued');
unlike(substr(slurp($c->log_path('an')), $log_from), qr/data node "dn[23]" is unavailable/,
	'dn2 and dn3 stayed available all along');

# ---- an access node restart remembers a node that was down ------------------------------
# With a failure timeout of an hour, only the catalog's record can make dn1
# down after the restart.
ok($c->kill_agent(1, 'KILL'), 'agent1 killed again');
wait_status('dn1', 'unavailable', 'agent killed again');
$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.node_failure_timeout = '1h';\n" . "SELECT pg_reload_conf();");
ok($c->stop_an('fast') && $c->start_an, 'access node restarted');
my $last = '';
ok( poll_until(
		sub {
			my ($out, $e) = $c->psql("ALTER TABLE m ADD COLUMN y int",
				options => '-c hyperdist.connect_timeout=1');
			$last = $e;
			return $e =~ /data node "dn1" of distributed hypertable "m" is unavailable/;
		},
		90),
	'after the restart dn1 is still down: DDL is refused at once')
  or diag($last);
ok($c->start_agent(1), 'agent1 started again');
wait_status('dn1', 'available', 'agent restarted after the access node restart');
$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.node_failure_timeout = '1s';\n" . "SELECT pg_reload_conf();");

# ---- the manual switch wins -------------------------------------------------------------
$c->psql_ok("SELECT available FROM alter_data_node('dn2', available => false)",
	name => 'alter_data_node(dn2, available => false)');
is(node_state('dn2') =~ /^unavailable\|/ ? 1 : 0, 1,
	'dn2 is unavailable while its agent runs');
$c->psql_error("ALTER TABLE m ADD COLUMN x int", '08001',
	'DDL refused while dn2 is set unavailable');
$c->psql_ok("SELECT available FROM alter_data_node('dn2', available => true)",
	name => 'alter_data_node(dn2, available => true)');
is(node_state('dn2') =~ /^available\|/ ? 1 : 0, 1, 'dn2 is available again at once');

$c->teardown;
done_testing();
