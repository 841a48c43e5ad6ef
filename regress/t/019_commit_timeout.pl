# SPDX-License-Identifier: PostgreSQL
# A COMMIT that waits on a hung data node ends with statement_timeout
# (57014), not when the connection is finally declared lost (08006, after
# the 15 s heartbeat).  With two-phase commit nothing of the transaction is
# left on any node once the node is back; one-phase commit makes no such
# promise (docs/ARCHITECTURE.md), only the timeout is checked there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);

$c->psql_ok("CALL distributed_exec('CREATE TABLE ct (x int)')",
	name => 'a table on both data nodes');

sub rows_on
{
	my ($node) = @_;
	return $c->psql_ok("SELECT count(*) FROM ct", node => $node);
}

for my $two_phase ('on', 'off')
{
	my $s = $c->session(app => "hd_commit_$two_phase");
	my ($out, $err) = $s->query("SET hyperdist.enable_2pc = $two_phase;\n"
		  . "BEGIN;\n"
		  . "CALL distributed_exec('INSERT INTO ct VALUES (1)')");
	is($err, '', "2pc $two_phase: the transaction wrote on both data nodes") or diag($err);

	# the second node's agent stops answering, its connection stays up
	my $pid = $c->agent_pid(2);
	kill 'STOP', $pid;
	($out, $err) = $s->query("SET statement_timeout = '2s'; COMMIT", 120);
	kill 'CONT', $pid;
	is(sqlstate($err), '57014', "2pc $two_phase: COMMIT ends with statement_timeout")
	  or diag($err);
	like($err, qr/statement timeout/, "2pc $two_phase: ... and says so");

	if ($two_phase eq 'on')
	{
		ok(poll_until(sub { rows_on(1) == 0 && rows_on(2) == 0 }, 60),
			"2pc $two_phase: no row on either data node once the agent is back");
		ok(poll_until(sub { $c->prepared_xacts(1) == 0 && $c->prepared_xacts(2) == 0 }, 60),
			"2pc $two_phase: no prepared transaction left");
	}
	$c->psql_ok("CALL distributed_exec('TRUNCATE ct')");
	($out, $err) = $s->query("RESET statement_timeout; CALL distributed_exec('INSERT INTO ct VALUES (2)')");
	is($err, '', "2pc $two_phase: the session works again") or diag($err);
	is(rows_on(1) + rows_on(2), 2, "2pc $two_phase: ... and its commit reached both nodes");
	$c->psql_ok("CALL distributed_exec('TRUNCATE ct')");
	$s->quit;
}

done_testing();
