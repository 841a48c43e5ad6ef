# SPDX-License-Identifier: PostgreSQL
# An access-node backend killed (SIGKILL) while its data node session holds a
# lock, idle in its transaction or running a statement: the agent sees the
# backend's connection close and ends the session within a second or two, so
# the lock goes at once, not when the agent's 10 s idle probe or the 15 s
# heartbeat would have noticed.  Also: a user mapping's password longer than
# an agent accepts is refused when it is set.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

# Generous against a slow machine, yet below the 10 s after which the
# agent's idle probe would end the session anyway: the statement before each
# kill is the backend's last word to the agent, so only noticing the closed
# connection ends the session within this bound.
my $bound = 8;

my $c = HyperdistTest->new(data_nodes => 1);
$c->psql_ok("CALL distributed_exec(\$\$CREATE TABLE held (x int)\$\$)",
	name => 'a table on dn1');
my $locks = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
  . "WHERE c.relname = 'held'";

# Opens a transaction on dn1 that holds a lock on held; returns the session
# and its access node backend's pid.
sub lock_held
{
	my ($app) = @_;
	my $s = $c->session(app => $app);
	my ($pid, $err) = $s->query('SELECT pg_backend_pid()');
	$s->query('BEGIN');
	(undef, $err) = $s->query("CALL distributed_exec(\$\$INSERT INTO held VALUES (1)\$\$)");
	is(sqlstate($err), undef, "$app: a transaction inserts into held on dn1") or diag($err);
	is($c->psql_ok($locks, node => 1), '1', "$app: ... and holds its lock");
	return ($s, $pid);
}

# ---- idle in transaction ------------------------------------------------------------
my ($s, $pid) = lock_held('idle_killed');
my ($out, $err) = $s->query("CALL distributed_exec(\$\$SELECT 1\$\$)");
is(sqlstate($err), undef, 'the backend speaks to the agent once more');
kill 'KILL', $pid;
ok(poll_until(sub { $c->psql_ok($locks, node => 1) eq '0' }, $bound, 0.1),
	"killed while idle in its transaction: the lock is released within $bound s");
ok($c->wait_an_ready, 'the access node is back after the crash of its backend');

# ---- running a statement --------------------------------------------------------------
($s, $pid) = lock_held('busy_killed');
$s->send("CALL distributed_exec(\$\$SELECT pg_sleep(60)\$\$)");
ok(poll_until(sub { $c->dn_activity(1, '%pg_sleep(60)%') > 0 }, 60),
	'pg_sleep runs on dn1');
kill 'KILL', $pid;
ok(poll_until(sub { $c->psql_ok($locks, node => 1) eq '0' }, $bound, 0.1),
	"killed while its statement runs: the lock is released within $bound s");
is($c->dn_activity(1, '%pg_sleep(60)%'), 0, '... and the statement no longer runs');
ok($c->wait_an_ready, 'the access node is back');
is($c->psql_ok("CALL distributed_exec(\$\$INSERT INTO held VALUES (2)\$\$);\n"
		  . "CALL distributed_exec(\$\$SELECT count(*) FROM held\$\$)"), '',
	'dn1 works through the agent again');
is($c->psql_ok('SELECT count(*) FROM held', node => 1), '1',
	'only the committed row is there: both killed transactions rolled back');

# ---- a password longer than a data node accepts is refused when it is set -------------
$c->psql_ok("CREATE ROLE alice LOGIN;\n"
	  . "GRANT USAGE ON FOREIGN SERVER dn1 TO alice;\n"
	  . "SET ROLE alice;\n"
	  . "CREATE USER MAPPING FOR alice SERVER dn1 OPTIONS (password 'secret');",
	name => 'alice maps herself to dn1');
$err = $c->psql_error("SET ROLE alice;\n"
	  . "ALTER USER MAPPING FOR alice SERVER dn1 OPTIONS (SET password '"
	  . ('x' x (6 * 1024 * 1024)) . "')",
	'22023', 'a 6 MB password in her mapping is refused');
like($err, qr/password.*too long/, '... saying the password is too long');
$c->psql_ok("SET ROLE alice;\n"
	  . "ALTER USER MAPPING FOR alice SERVER dn1 OPTIONS (SET password '"
	  . ('x' x 1024) . "')",
	name => 'a 1024-byte password is accepted');

$c->teardown;
done_testing();
