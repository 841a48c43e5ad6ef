# SPDX-License-Identifier: PostgreSQL
# Cancelling distributed work: statement_timeout and pg_cancel_backend give
# 57014 on the access node and stop the work on every data node; the session
# stays usable and never sees the cancelled statement's late replies;
# pg_terminate_backend ends the remote work too.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);

sub sleeping_on_dns
{
	my ($secs) = @_;
	$secs //= 60;
	return $c->dn_activity(1, "%pg_sleep($secs)%") + $c->dn_activity(2, "%pg_sleep($secs)%");
}

# ---- statement_timeout ---------------------------------------------------------------
my $err = $c->psql_error("SET statement_timeout = '1s';\n"
	  . "CALL distributed_exec(\$\$SELECT pg_sleep(60)\$\$);",
	'57014', 'statement_timeout during distributed_exec: 57014');
ok(poll_until(sub { sleeping_on_dns() == 0 }, 30),
	'no pg_sleep left on the data nodes');

# ---- pg_cancel_backend from another session ------------------------------------------
my $s = $c->session(app => 'hd_cancel_me');
my ($out, $e) = $s->query("CALL distributed_exec(\$\$CREATE TABLE cancel_t (x int)\$\$)");
is(sqlstate($e), undef, 'table created') or diag($e);
$s->send("CALL distributed_exec(\$\$SELECT pg_sleep(60)\$\$)");
ok(poll_until(sub { sleeping_on_dns() == 2 }, 60), 'pg_sleep runs on both data nodes');
my $pid = $c->psql_ok(
	"SELECT pid FROM pg_stat_activity WHERE application_name = 'hd_cancel_me'");
like($pid, qr/^\d+$/, 'found the session\'s backend');
is($c->psql_ok("SELECT pg_cancel_backend($pid)"), 't', 'pg_cancel_backend from another session');
($out, $e) = $s->wait(120);
is(sqlstate($e), '57014', 'the cancelled statement ends with 57014') or diag($e);
ok(poll_until(sub { sleeping_on_dns() == 0 }, 30),
	'no pg_sleep left on the data nodes');

# The session goes on, and gets the replies of its new statements.
($out, $e) = $s->query("CALL distributed_exec(\$\$INSERT INTO cancel_t VALUES (1)\$\$)");
is(sqlstate($e), undef, 'the session works after the cancel') or diag($e);
($out, $e) = $s->query(
	"CREATE FOREIGN TABLE cancel_dn1 (x int) SERVER dn1 OPTIONS (table_name 'cancel_t');\n"
	  . "SELECT count(*) FROM cancel_dn1");
is($out, '1', 'a scan after the cancel returns its own rows') or diag($e);

# ---- cancel inside a transaction: nothing of it stays --------------------------------------
$s->query('BEGIN');
($out, $e) = $s->query("CALL distributed_exec(\$\$INSERT INTO cancel_t VALUES (2)\$\$)");
is(sqlstate($e), undef, 'insert in a transaction');
$s->send("CALL distributed_exec(\$\$SELECT pg_sleep(60)\$\$)");
ok(poll_until(sub { sleeping_on_dns() == 2 }, 60), 'pg_sleep runs in that transaction');
$c->psql_ok("SELECT pg_cancel_backend($pid)");
($out, $e) = $s->wait(120);
is(sqlstate($e), '57014', 'cancelled: 57014') or diag($e);
$s->query('ROLLBACK');
is($c->psql_ok("SELECT count(*) FROM cancel_t", node => $_), 1,
	"dn$_ has only the committed row") for 1, 2;

# ---- pg_terminate_backend ends the remote work -----------------------------------------------
$s->send("CALL distributed_exec(\$\$SELECT pg_sleep(300)\$\$)");
ok(poll_until(sub { sleeping_on_dns(300) == 2 }, 60), 'pg_sleep runs again');
is($c->psql_ok("SELECT pg_terminate_backend($pid)"), 't', 'the backend is terminated');
eval { $s->wait(60) };
$s->quit;
ok(poll_until(sub { sleeping_on_dns(300) == 0 }, 60),
	'the data nodes stop the work of the terminated backend');
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$)",
	name => 'a new session works');

$c->teardown;
done_testing();
