# SPDX-License-Identifier: PostgreSQL
# An agent restart (graceful or crash) while an access node session is idle:
# the session reconnects on its next statement.  A transaction that spanned
# the restart cannot commit half-done.  A data node restart: the session
# recovers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
$c->psql_ok(
	"CALL distributed_exec(\$\$CREATE TABLE restart_t (step text)\$\$)",
	name => 'table created on both data nodes');

my $s = $c->session(app => 'restart_test');
my ($out, $err) = $s->query(
	"CALL distributed_exec(\$\$INSERT INTO restart_t VALUES ('before')\$\$, node_list => '{dn1}')");
is(sqlstate($err), undef, 'the session talks to dn1') or diag($err);

# ---- graceful restart (SIGTERM) --------------------------------------------------
my $old = $c->agent_pid(1);
ok($c->restart_agent(1, 'TERM'), 'agent1 restarted (SIGTERM, then tools/cluster up)');
isnt($c->agent_pid(1), $old, '... with a new pid');
($out, $err) = $s->query(
	"CALL distributed_exec(\$\$INSERT INTO restart_t VALUES ('after term')\$\$, node_list => '{dn1}')");
is(sqlstate($err), undef,
	'the next statement in the same session succeeds (session reopened)')
  or diag($err);

# ---- crash (SIGKILL) ---------------------------------------------------------------
ok($c->kill_agent(1, 'KILL'), 'agent1 killed with SIGKILL');
ok($c->start_agent(1), 'agent1 started again');
($out, $err) = $s->query(
	"CALL distributed_exec(\$\$INSERT INTO restart_t VALUES ('after kill')\$\$, node_list => '{dn1}')");
is(sqlstate($err), undef, 'the next statement after a crash succeeds too')
  or diag($err);
is( $c->psql_ok("SELECT string_agg(step, ',' ORDER BY step) FROM restart_t", node => 1),
	'after kill,after term,before',
	'dn1 holds exactly the rows of the statements that succeeded');

# Other sessions, and the other node, were never affected.
($out, $err) = $s->query("CALL distributed_exec(\$\$SELECT 1\$\$)");
is(sqlstate($err), undef, 'distributed_exec on both nodes works') or diag($err);

# ---- a transaction spanning a restart -------------------------------------------------
($out, $err) = $s->query('BEGIN');
($out, $err) = $s->query(
	"CALL distributed_exec(\$\$INSERT INTO restart_t VALUES ('in txn')\$\$, node_list => '{dn1}')");
is(sqlstate($err), undef, 'insert inside a transaction') or diag($err);
ok($c->restart_agent(1, 'TERM'), 'agent1 restarted inside that transaction');
my ($out2, $err2) = $s->query(
	"CALL distributed_exec(\$\$INSERT INTO restart_t VALUES ('in txn 2')\$\$, node_list => '{dn1}')");
my ($out3, $err3) = $s->query('COMMIT');
my $errors = ($err2 // '') . ($err3 // '');
like(sqlstate($err2) // sqlstate($err3) // 'none', qr/^08/,
	'the transaction fails with a connection error (class 08)')
  or diag("after restart: $err2\nCOMMIT: $err3\n$out3");
like($errors, qr/dn1/, '... naming dn1');
is($c->psql_ok("SELECT count(*) FROM restart_t WHERE step LIKE 'in txn%'", node => 1),
	0, 'none of the transaction\'s rows reached dn1');
($out, $err) = $s->query(
	"CALL distributed_exec(\$\$INSERT INTO restart_t VALUES ('after txn')\$\$, node_list => '{dn1}')");
is(sqlstate($err), undef, 'the session works again after that transaction')
  or diag($err);

# ---- data node restart ------------------------------------------------------------------
ok($c->stop_dn(2, 'fast'), 'dn2 stopped');
($out, $err) = $s->query(
	"CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')");
ok(defined sqlstate($err), 'a statement on dn2 while it is down fails')
  or diag($out);
like($err, qr/dn2/, '... naming dn2');
ok($c->start_dn(2), 'dn2 started');
# The first statement may still meet the broken connection; one retry at most.
($out, $err) = $s->query(
	"CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')");
if (defined sqlstate($err))
{
	like(sqlstate($err), qr/^(08|57P0)/, 'first statement after the DN restart: a connection error at most')
	  or diag($err);
	($out, $err) = $s->query(
		"CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')");
}
else
{
	pass('first statement after the DN restart succeeded');
}
is(sqlstate($err), undef, 'the session works on dn2 after its restart')
  or diag($err);

$s->quit;
$c->teardown;
done_testing();
