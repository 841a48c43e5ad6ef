# SPDX-License-Identifier: PostgreSQL
# One-phase commit: a transaction that wrote on a single data node and on
# nothing of the access node commits with a plain COMMIT there, without a
# commit record or PREPARE (a fault injected at any point of two-phase
# commit never fires).  Two-phase commit stays for two written nodes, a
# replicated write, a local write, a chunk created, SERIALIZABLE, and with
# hyperdist.enable_one_phase_commit off.  The access-node backend crashing
# just before or just after the node's COMMIT leaves the node's outcome and
# nothing prepared; a COMMIT whose answer does not come fails with 08007.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistTxn;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
create_table($c, 'tx');
$c->psql_ok(<<'SQL', name => 'a local table, a foreign table on dn2, two hypertables');
CREATE TABLE local_t (id int);
CREATE FOREIGN TABLE tx_dn2 (id int, tag text) SERVER dn2 OPTIONS (table_name 'tx');
CREATE TABLE m1 (time timestamptz NOT NULL, v int);
SELECT create_distributed_hypertable('m1', 'time', chunk_time_interval => interval '1 day',
  replication_factor => 1);
CREATE TABLE m2 (time timestamptz NOT NULL, v int);
SELECT create_distributed_hypertable('m2', 'time', chunk_time_interval => interval '1 day',
  replication_factor => 2);
INSERT INTO m1 VALUES ('2024-01-01 00:00+00', 0);
INSERT INTO m2 VALUES ('2024-01-01 00:00+00', 0);
SQL

sub write_on
{
	my ($id, $nodes) = @_;
	return "CALL distributed_exec(\$\$INSERT INTO tx VALUES ($id, 'x')\$\$, node_list => '{$nodes}')";
}

# ---- one phase: the two-phase commit's first point is never reached ---------------
my ($out, $err, $rc) = $c->psql(
	"SET hyperdist.inject_fault = 'before_prepare';\n"
	  . "BEGIN;\n"
	  . "SELECT count(*) FROM tx_dn2;\n"
	  . write_on(1, 'dn1') . ";\n"
	  . "COMMIT;\n"
	  . "INSERT INTO m1 VALUES ('2024-01-01 01:00+00', 1);\n"
	  . "SELECT 'alive';",
	timeout => 60);
is($rc, 0, 'a write on dn1 (and a read of dn2) commits without reaching PREPARE')
  or diag($err);
like($out, qr/alive\z/, '... and so does an insert into an existing chunk of a hypertable');
is(row_counts($c, 'tx', 'id = 1'), '1,0', '... the row is on dn1');
is($c->psql_ok("SELECT count(*) FROM m1"), '2', '... and the hypertable has both rows');

$c->psql_ok("BEGIN;\n" . write_on(2, 'dn1') . ";\nROLLBACK;");
is(row_counts($c, 'tx', 'id = 2'), '0,0', 'a rolled-back write on dn1 is on no node');

{
	my $s = $c->session(app => 'onephase');
	$s->query("SET hyperdist.inject_fault = 'after_one_phase_commit'");
	$s->query("SET hyperdist.inject_fault_action = 'pause'");
	$s->query('BEGIN');
	$s->query(write_on(3, 'dn1'));
	$s->send('COMMIT');
	ok(wait_paused($c, 'onephase'), 'a commit pauses after the one-phase COMMIT');
	is($c->prepared_xacts(1), 0, '... nothing is prepared on dn1');
	is(row_counts($c, 'tx', 'id = 3'), '1,0', '... the row is committed on dn1 already');
	release($c, 'onephase');
	($out, $err) = $s->wait(60);
	is(sqlstate($err), undef, '... and the COMMIT succeeds') or diag($err);
	$s->quit;
}

# ---- two phases -----------------------------------------------------------------------
# $sql (a transaction's statements before COMMIT) commits with two phases:
# the commit pauses between them, with prepared transactions as $expect.
my $n = 0;
sub two_phase
{
	my ($name, $sql, $expect) = @_;
	my $app = 'twophase' . ++$n;
	my $s = $c->session(app => $app);
	$s->query("SET hyperdist.inject_fault = 'after_prepare'");
	$s->query("SET hyperdist.inject_fault_action = 'pause'");
	my ($o, $e) = $s->query($sql);
	is(sqlstate($e), undef, "$name: written") or diag($e);
	$s->send('COMMIT');
	ok(wait_paused($c, $app), "$name: the commit pauses after PREPARE");
	like(join(',', map { $c->prepared_xacts($_) } 1 .. 2), ref $expect ? $expect : qr/^$expect$/,
		"$name: the written nodes hold a prepared transaction");
	release($c, $app);
	($o, $e) = $s->wait(60);
	is(sqlstate($e), undef, "$name: and it commits") or diag($e);
	$s->quit;
}

two_phase('two nodes written', "BEGIN;\n" . write_on(10, 'dn1,dn2'), '1,1');
two_phase('a local table written too',
	"BEGIN;\nINSERT INTO local_t VALUES (11);\n" . write_on(11, 'dn1'), '1,0');
two_phase('SERIALIZABLE', "BEGIN ISOLATION LEVEL SERIALIZABLE;\n" . write_on(12, 'dn1'), '1,0');
two_phase('one phase turned off',
	"SET hyperdist.enable_one_phase_commit = off;\nBEGIN;\n" . write_on(13, 'dn1'), '1,0');
two_phase('a replicated insert',
	"RESET hyperdist.enable_one_phase_commit;\nBEGIN;\nINSERT INTO m2 VALUES ('2024-01-01 02:00+00', 2)",
	'1,1');
two_phase('an insert that creates a chunk',
	"BEGIN;\nINSERT INTO m1 VALUES ('2024-01-05 00:00+00', 5)", qr/^(1,0|0,1)$/);
is(row_counts($c, 'tx', 'id BETWEEN 10 AND 13'), '4,1', 'the two-phase commits are on their nodes');
is($c->psql_ok("SELECT count(*) FROM local_t"), '1', '... and the local row with them');

# ---- the access-node backend dies at the one-phase commit ------------------------------
for my $p ([ before_one_phase_commit => '0,0' ], [ after_one_phase_commit => '1,0' ])
{
	my ($point, $expect) = @$p;
	my $id = $point eq 'before_one_phase_commit' ? 20 : 21;
	($out, $err, $rc) = $c->psql(
		"SET hyperdist.inject_fault = '$point';\nBEGIN;\n" . write_on($id, 'dn1') . ";\nCOMMIT;",
		timeout => 60);
	ok($rc != 0 && $err =~ /terminated abnormally|connection to server was lost/,
		"$point: the backend dies during COMMIT")
	  or diag("exit $rc\n$err");
	ok($c->wait_an_ready, "$point: the access node recovers");
	is(row_counts($c, 'tx', "id = $id"), $expect,
		"$point: the row is " . ($expect eq '1,0' ? 'committed on dn1' : 'on no node'));
	$c->psql_ok(
		"CALL distributed_exec(\$\$INSERT INTO tx VALUES ($id + 100, 'after')\$\$, node_list => '{dn1}')",
		name => "$point: dn1 takes writes again");
}
is(row_counts($c, 'tx', 'id IN (20, 21)'), '1,0', 'no row was lost or added since');
ok(settled($c), 'no prepared transaction on any data node');
is(commit_records($c), 0, 'no commit record left');

# ---- the answer to COMMIT does not come --------------------------------------------------
{
	my $s = $c->session(app => 'unknown');
	($out, $err) = $s->query("BEGIN;\n" . write_on(30, 'dn1'));
	is(sqlstate($err), undef, 'a transaction wrote on dn1') or diag($err);
	my $pid = $c->agent_pid(1);
	kill 'STOP', $pid;
	($out, $err) = $s->query("SET statement_timeout = '2s'; COMMIT", 120);
	kill 'CONT', $pid;
	is(sqlstate($err), '08007', 'agent1 stopped: COMMIT fails with 08007') or diag($err);
	like($err, qr/whether the transaction committed on data node "dn1"/, '... naming dn1');
	ok(poll_until(sub { row_counts($c, 'tx', 'id = 30') =~ /^[01],0$/ }, 60),
		'the row is on dn1 or on no node');
	($out, $err) = $s->query("RESET statement_timeout;\n" . write_on(31, 'dn1'));
	is(sqlstate($err), undef, 'the session writes again') or diag($err);
	$s->quit;
	is(row_counts($c, 'tx', 'id = 31'), '1,0', '... and commits');
}

$c->teardown;
done_testing();
