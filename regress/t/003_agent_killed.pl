# SPDX-License-Identifier: PostgreSQL
# An agent killed while a statement runs through it: the statement fails with
# a clear connection error naming the node, other nodes keep working, and once
# the agent is back the same session works again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
my $s = $c->session(app => 'killed_test');

# ---- during distributed_exec ----------------------------------------------------
$s->send("CALL distributed_exec(\$\$SELECT pg_sleep(30)\$\$, node_list => '{dn1}')");
ok(poll_until(sub { $c->dn_activity(1, '%pg_sleep(30)%') > 0 }, 60),
	'pg_sleep is running on dn1 through agent1')
  or diag("session: " . ($s->complete ? 'already finished' : 'still running'));
ok($c->kill_agent(1, 'KILL'), 'agent1 killed mid-query');
my ($out, $err) = $s->wait(120);
like(sqlstate($err) // 'none', qr/^08/,
	'the statement fails with a connection error (class 08)')
  or diag($err);
like($err, qr/dn1/, '... whose message or context names dn1') or diag($err);

# The other node is unaffected while agent1 is down.
my $s2 = $c->session(app => 'killed_test_2');
($out, $err) = $s2->query("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')");
is(sqlstate($err), undef, 'dn2 still works while agent1 is down') or diag($err);
$s2->quit;

ok($c->start_agent(1), 'agent1 started again');
($out, $err) = $s->query("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn1}')");
is(sqlstate($err), undef, 'the same session works on dn1 again') or diag($err);

# ---- during a foreign scan -------------------------------------------------------
$c->psql_ok(
	"CALL distributed_exec(\$\$CREATE TABLE slow_t (x int)\$\$, node_list => '{dn1}');\n"
	  . "CALL distributed_exec(\$\$INSERT INTO slow_t SELECT generate_series(1, 10)\$\$, node_list => '{dn1}');\n"
	  . "CALL distributed_exec(\$\$CREATE FUNCTION slow(int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT pg_sleep(3); SELECT \$1'\$\$, node_list => '{dn1}');\n"
	  . "CALL distributed_exec(\$\$CREATE VIEW slow_v AS SELECT slow(x) AS x FROM slow_t\$\$, node_list => '{dn1}');\n"
	  . "CREATE FOREIGN TABLE slow_dn1 (x int) SERVER dn1 OPTIONS (table_name 'slow_v');\n"
	  . "CREATE FOREIGN TABLE fast_dn1 (x int) SERVER dn1 OPTIONS (table_name 'slow_t');",
	name => 'a slow view on dn1 and foreign tables over it and its table');
$s->send("SELECT sum(x) FROM slow_dn1");
ok(poll_until(sub { $c->dn_activity(1, '%slow_v%') > 0 }, 60),
	'the foreign scan runs on dn1');
ok($c->kill_agent(1, 'KILL'), 'agent1 killed during the scan');
($out, $err) = $s->wait(120);
like(sqlstate($err) // 'none', qr/^08/, 'the scan fails with a connection error (class 08)')
  or diag("stdout: $out\nstderr: $err");
ok($c->start_agent(1), 'agent1 started again');
($out, $err) = $s->query("SELECT sum(x) FROM fast_dn1");
is(sqlstate($err), undef, 'a scan in the same session works again') or diag($err);
is($out, '55', '... with the right result');

$s->quit;
$c->teardown;
done_testing();
