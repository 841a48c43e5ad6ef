# SPDX-License-Identifier: PostgreSQL
# Malformed frames sent straight to an agent (with data_node/test/agent-client):
# each gets Error 08P01 (or 08003 for a session/epoch it does not know), the
# agent keeps running, and other sessions, including an access node session
# in the middle of a transaction, are not affected.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $client = $HyperdistTest::AGENT_CLIENT;
plan skip_all => "the agent's test client is not built ($client; make -C data_node test-client)"
  unless -x $client;

my $c = HyperdistTest->new(data_nodes => 1);
my @conn = (
	'--endpoint', 'tcp://127.0.0.1:' . $c->agent_port(1),
	'--server-key-file', $c->agent_dir(1) . '/agent.pub',
	'--client-key-file', $c->an_pgdata . '/hyperdist/access_node.key',
	'--db', 'hyperdist', '--user', 'postgres', '--password', $c->password,
	'--timeout', '20000');

sub client
{
	my ($rc, $out, $err) = HyperdistTest::run_cmd([ $client, @conn, @_ ], timeout => 120);
	return ($rc, $out, $err);
}

my ($rc, $out, $err) = client('hello', 'exec', 'SELECT 1', 'expect', 'ok');
is($rc, 0, 'agent-client opens a session and runs SQL') or diag("$out$err");
my $pid = $c->agent_pid(1);

# An access node session in the middle of a transaction on dn1.
$c->psql_ok("CALL distributed_exec(\$\$CREATE TABLE frames_t (x int)\$\$)");
my $s = $c->session(app => 'frames_test');
$s->query('BEGIN');
my ($o, $e) = $s->query("CALL distributed_exec(\$\$INSERT INTO frames_t VALUES (1)\$\$)");
is(sqlstate($e), undef, 'an access node transaction is open on dn1') or diag($e);

for my $kind (qw(garbage truncated empty multipart reply-msg nul-sql))
{
	($rc, $out, $err) = client('hello', $kind, 'expect', '08P01');
	is($rc, 0, "$kind frame: Error 08P01") or diag("exit $rc\n$out$err");
	($rc, $out, $err) = client('hello', $kind, 'exec', 'SELECT 1', 'expect', 'ok');
	is($rc, 0, "$kind frame: the sender's session still works") or diag("exit $rc\n$out$err");
}
($rc, $out, $err) = client('bad-version', 'expect', '08P01');
is($rc, 0, 'Hello with another major version: 08P01') or diag("$out$err");
like($out, qr/version/i, '... saying it is about the version');
($rc, $out, $err) = client('hello', 'bad-session', 'expect', '08003');
is($rc, 0, 'a request for an unknown session: 08003') or diag("$out$err");
($rc, $out, $err) = client('hello', 'bad-epoch', 'expect', '08003');
is($rc, 0, 'a request with a stale epoch: 08003') or diag("$out$err");
($rc, $out, $err) = client('hello', 'oversized');
ok($rc == 0 || $rc == 2, 'an oversized frame is sent (the agent drops the connection)')
  or diag("exit $rc\n$out$err");
($rc, $out, $err) = client('ping', 'expect', 'ok');
is($rc, 0, 'a new connection gets Pong afterwards') or diag("$out$err");

is($c->agent_pid(1), $pid, 'the agent survived every bad frame (same pid)');
($o, $e) = $s->query("CALL distributed_exec(\$\$INSERT INTO frames_t VALUES (2)\$\$)");
is(sqlstate($e), undef, 'the access node session goes on') or diag($e);
($o, $e) = $s->query('COMMIT');
is(sqlstate($e), undef, '... and commits') or diag($e);
is($c->psql_ok("SELECT string_agg(x::text, ',' ORDER BY x) FROM frames_t", node => 1),
	'1,2', 'both rows of that transaction are on dn1');
like(HyperdistTest::slurp($c->log_path('agent1')) // '', qr/08P01|malformed|invalid|bad frame/i,
	'the agent logged the bad frames');

$s->quit;
$c->teardown;
done_testing();
