# SPDX-License-Identifier: PostgreSQL
# tools/cluster: up (full and --bare), cluster.env, status, idempotent up
# that restarts only what is down, down, bad arguments, a taken port.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use IO::Socket::INET;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
my $base = $c->env('HYPERDIST_BASE_PORT');

# ---- cluster.env ------------------------------------------------------------
is($c->env('PGHOST'), '127.0.0.1', 'cluster.env: PGHOST is 127.0.0.1');
is($c->env('PGPORT'), $base, 'cluster.env: PGPORT is the base port');
is($c->env('PGUSER'), 'postgres', 'cluster.env: PGUSER');
is($c->env('PGDATABASE'), 'hyperdist', 'cluster.env: PGDATABASE');
is($c->env('DN1_PORT'), $base + 1, 'cluster.env: DN1_PORT is BASE+1');
is($c->env('DN2_PORT'), $base + 2, 'cluster.env: DN2_PORT is BASE+2');
is($c->env('AGENT1_PORT'), $base + 101, 'cluster.env: AGENT1_PORT is BASE+101');
is($c->env('AGENT2_PORT'), $base + 102, 'cluster.env: AGENT2_PORT is BASE+102');

# The file works as documented: ". cluster.env; psql" (TCP, password file).
{
	my ($rc, $out, $err) = HyperdistTest::run_cmd(
		[
			'sh', '-c',
			'for v in $(env | sed -n "s/^\(PG[A-Z]*\)=.*/\1/p"); do unset $v; done; '
			  . '. "$1" && exec "$2" -X -At -c "SELECT current_database(), current_user, inet_server_port()"',
			'sh', $c->envfile, "$HyperdistTest::PG_BINDIR/psql"
		]);
	is($rc, 0, '. cluster.env; psql connects') or diag($err);
	is($out, "hyperdist|postgres|$base\n",
		'... to the access node database hyperdist as postgres');
}

# ---- what up built -----------------------------------------------------------
is($c->psql_ok("SELECT extname FROM pg_extension WHERE extname = 'hyperdist'"),
	'hyperdist', 'the extension exists in the access node database');
is( $c->psql_ok(
		"SELECT string_agg(node_name || ' ' || host || ' ' || database || ' ' || (port - $base), ', ' ORDER BY node_name) "
		  . "FROM hyperdist_information.data_nodes"),
	'dn1 127.0.0.1 hyperdist 101, dn2 127.0.0.1 hyperdist 102',
	'data nodes dn1 and dn2 point at their agents, database hyperdist');
for my $i (1, 2)
{
	is($c->psql_ok("SELECT datname FROM pg_database WHERE datname = 'hyperdist'", node => $i),
		'hyperdist', "dn$i has the database hyperdist");
	is($c->psql_ok("SHOW max_prepared_transactions", node => $i), '100',
		"dn$i: max_prepared_transactions = 100 (max_connections)");
	ok($c->agent_pid($i), "agent$i is running, pid file $i");
}
is($c->psql_ok("SHOW shared_preload_libraries"), 'hyperdist',
	'access node preloads hyperdist');
is((stat($c->an_pgdata . '/passfile'))[2] & 07777, 0600, 'AN passfile has mode 0600');
is((stat($c->an_pgdata . '/hyperdist/access_node.key'))[2] & 077, 0,
	'AN secret key is private');
$c->psql_ok("CALL distributed_exec(\$\$CREATE TABLE cluster_t (x int)\$\$)",
	name => 'distributed_exec works on the new cluster');
$c->psql_ok("CALL distributed_exec(\$\$INSERT INTO cluster_t VALUES (1)\$\$)");

# ---- status ---------------------------------------------------------------------
my ($rc, $out, $err) = $c->cluster_cmd('status');
is($rc, 0, 'status exits 0 when everything is up');
like($out, qr/^an\s+postgresql\s+127\.0\.0\.1:$base\s+up/m, 'status shows the access node up');
like($out, qr/^agent2\s+hyperdist-agent\s+127\.0\.0\.1:@{[$base+102]}\s+up/m,
	'status shows agent2 up');

# ---- up again changes nothing -----------------------------------------------------
my %pid = map { $_ => $c->agent_pid($_) } 1, 2;
my $an_pid = (split /\n/, HyperdistTest::slurp($c->an_pgdata . '/postmaster.pid'))[0];
my $env_before = HyperdistTest::slurp($c->envfile);
($rc, $out, $err) = $c->cluster_cmd('up');
is($rc, 0, 'up on a running cluster succeeds') or diag($err);
like($out, qr/already running/, '... and says what is already running');
is($c->agent_pid(1), $pid{1}, '... without restarting agent1');
is((split /\n/, HyperdistTest::slurp($c->an_pgdata . '/postmaster.pid'))[0],
	$an_pid, '... or the access node');
is(HyperdistTest::slurp($c->envfile), $env_before, '... or rewriting cluster.env');
is($c->psql_ok("SELECT count(*) FROM hyperdist_information.data_nodes"), 2,
	'... or adding data nodes');

# Options repeated must match; different ones are refused.
($rc, $out, $err) = $c->cluster_cmd('up', '--port', $base, '--data-nodes', 2);
is($rc, 0, 'up with the same options succeeds');
($rc, $out, $err) = $c->cluster_cmd('up', '--port', $base + 5);
isnt($rc, 0, 'up with another --port on an existing cluster fails');
like($err, qr/base port $base/, '... naming the cluster\'s port');
($rc, $out, $err) = $c->cluster_cmd('up', '--data-nodes', 3);
isnt($rc, 0, 'up with another --data-nodes on an existing cluster fails');

# ---- up starts whatever is down -----------------------------------------------------
ok($c->kill_agent(2, 'KILL'), 'agent2 killed');
($rc, $out, $err) = $c->cluster_cmd('status');
is($rc, 1, 'status exits 1 when an agent is down');
like($out, qr/^agent2\s.*\bdown\b/m, '... and shows agent2 down');
ok($c->stop_dn(1), 'dn1 stopped');
($rc, $out, $err) = $c->cluster_cmd('up');
is($rc, 0, 'up restarts what is down') or diag($err);
like($out, qr/started dn1/, '... dn1');
like($out, qr/started agent2/, '... agent2');
unlike($out, qr/started (an|dn2|agent1)\b/, '... and nothing else');
is($c->agent_pid(1), $pid{1}, 'agent1 kept its pid');
isnt($c->agent_pid(2), $pid{2}, 'agent2 has a new pid');
($rc) = $c->cluster_cmd('status');
is($rc, 0, 'status: all up again');
is($c->psql_ok("SELECT count(*) FROM cluster_t", node => 1), 1,
	'dn1 kept its data');
$c->psql_ok("CALL distributed_exec(\$\$INSERT INTO cluster_t VALUES (2)\$\$)",
	name => 'distributed_exec reaches both nodes after the restarts');

# ---- down, and up again -----------------------------------------------------------------
%pid = map { $_ => $c->agent_pid($_) } 1, 2;
($rc, $out, $err) = $c->cluster_cmd('down');
is($rc, 0, 'down succeeds') or diag($err);
ok(!-e "/proc/$pid{$_}", "agent$_ is gone") for 1, 2;
ok(!-e $c->agent_pidfile($_), "agent$_.pid removed") for 1, 2;
($rc, $out) = $c->cluster_cmd('status');
is($rc, 1, 'status exits 1 when the cluster is down');
like($out, qr/0 of 5 components up/, '... with nothing up');
ok(HyperdistTest::port_free($base), 'the access node port is free again');
($rc, $out, $err) = $c->cluster_cmd('down');
is($rc, 0, 'down on a stopped cluster succeeds');
($rc, $out, $err) = $c->cluster_cmd('up');
is($rc, 0, 'up after down succeeds') or diag($err);
is($c->psql_ok("SELECT count(*) FROM cluster_t", node => 2), 2,
	'dn2 kept its data across down/up');
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$)",
	name => 'distributed_exec works after down/up');

# ---- bad arguments ----------------------------------------------------------------------
my $cluster = "$HyperdistTest::TOOLS/cluster";
my $scratch = $c->tmp . '/scratch';
for my $case (
	[ [qw(up --data-nodes 0)], qr/--data-nodes/, 'up --data-nodes 0' ],
	[ [qw(up --data-nodes many)], qr/--data-nodes/, 'up --data-nodes many' ],
	[ [qw(up --port 80)], qr/--port/, 'up --port 80' ],
	[ [qw(up --port x)], qr/--port/, 'up --port x' ],
	[ [qw(up --frobnicate)], qr/unknown option/, 'up --frobnicate' ],
	[ [qw(up --dir)], qr/needs a value/, 'up --dir without a value' ],
	[ [qw(status --bare)], qr/only for 'up'/, 'status --bare' ],
	[ [qw(launch)], qr/unknown command/, 'an unknown command' ],
	[ [], qr/missing command/, 'no command' ])
{
	my ($args, $re, $name) = @$case;
	my @cmd = ($cluster, @$args);
	push @cmd, '--dir', $scratch unless grep { $_ eq '--dir' } @$args;
	@cmd = ($cluster) unless @$args;
	($rc, $out, $err) = HyperdistTest::run_cmd(\@cmd);
	is($rc, 2, "$name: exit 2");
	like($err, $re, "$name: says why");
}
ok(!-e "$scratch/cluster.env", 'bad arguments created no cluster');
($rc, $out, $err) = HyperdistTest::run_cmd([ $cluster, 'status', '--dir', "$scratch/none" ]);
is($rc, 1, 'status of a directory without a cluster exits 1');
like($err, qr/no cluster/, '... and says so');
($rc, $out, $err) = HyperdistTest::run_cmd([ $cluster, 'down', '--dir', "$scratch/none" ]);
isnt($rc, 0, 'down of a directory without a cluster fails');

# A port taken by someone else is reported, not stolen.
{
	my $b2 = HyperdistTest::free_base(1);
	my $squatter = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $b2 + 1,
		Proto => 'tcp', Listen => 5, ReuseAddr => 1) or die "listen: $!";
	($rc, $out, $err) = HyperdistTest::run_cmd(
		[ $cluster, 'up', '--dir', "$scratch/taken", '--data-nodes', 1, '--port', $b2, '--bare' ]);
	isnt($rc, 0, 'up fails when a data node port is taken');
	like($err, qr/port @{[$b2+1]} \(dn1's PostgreSQL\) is in use/, '... naming the port and its use');
	close $squatter;
	HyperdistTest::run_cmd([ $cluster, 'down', '--dir', "$scratch/taken" ]);
}

# ---- an up that failed half-way is finished by the next one -------------------------------------
{
	my $b3 = HyperdistTest::free_base(1);
	my $d3 = "$scratch/resume";
	($rc, $out, $err) = HyperdistTest::run_cmd(
		[ 'env', 'HYPERDIST_AGENT=/nonexistent/hyperdist-agent', $cluster, 'up', '--dir', $d3,
		  '--data-nodes', 1, '--port', $b3 ]);
	isnt($rc, 0, 'up without an agent program fails');
	like($err, qr{/nonexistent/hyperdist-agent}, '... naming the missing program');
	like($err, qr/still running; 'tools\/cluster down --dir \Q$d3\E' stops it/,
		'... and says how to stop what it started');
	($rc, $out, $err) = HyperdistTest::run_cmd([ $cluster, 'up', '--dir', $d3 ]);
	is($rc, 0, 'the next up finishes the job') or diag($err);
	like($out, qr/adding data node dn1/, '... adding the data node');
	($rc, $out, $err) = HyperdistTest::run_cmd([ $cluster, 'status', '--dir', $d3 ]);
	is($rc, 0, '... and everything is up');
	HyperdistTest::run_cmd([ $cluster, 'down', '--dir', $d3 ]);
}

# ---- --bare ----------------------------------------------------------------------------------
my $bare = HyperdistTest->new(data_nodes => 1, bare => 1);
is($bare->env('PGDATABASE'), 'hyperdist', 'bare: cluster.env names database hyperdist');
is($bare->psql_ok("SELECT current_database()"), 'hyperdist', 'bare: that database exists');
is($bare->psql_ok("SELECT count(*) FROM pg_extension WHERE extname = 'hyperdist'"), 0,
	'bare: no extension');
is($bare->psql_ok("SHOW shared_preload_libraries"), 'hyperdist',
	'bare: hyperdist is preloaded, ready for CREATE EXTENSION');
ok($bare->agent_pid(1), 'bare: agent1 runs');
ok(-f $bare->an_pgdata . '/hyperdist/dn1.pub', "bare: the agent's public key is in the AN's keys dir");
is($bare->psql_ok("SELECT count(*) FROM pg_database WHERE datname = 'hyperdist'", node => 1, db => 'postgres'),
	0, 'bare: no database created on the data node');
($rc, $out, $err) = $bare->cluster_cmd('up');
is($rc, 0, 'bare: up again succeeds');
is($bare->psql_ok("SELECT count(*) FROM pg_extension WHERE extname = 'hyperdist'"), 0,
	'bare: ... and still creates no extension');

$bare->teardown;
$c->teardown;
done_testing();
