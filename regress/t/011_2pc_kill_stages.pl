# SPDX-License-Identifier: PostgreSQL
# Two-phase commit: an agent, a data node, or the whole access node is
# killed while a distributed commit stands at one of its stages (the
# backend pauses there through hyperdist.inject_fault_action = pause), then
# brought back.  The transaction ends up on every data node or on none
# (committed iff the access node's commit happened), and no prepared
# transaction stays behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistTxn;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);
create_table($c, 'tx');

my %kill = (
	agent => sub { $c->kill_agent(2, 'KILL') },
	dn => sub { $c->stop_dn(2, 'immediate') },
	an => sub { $c->stop_an('immediate') });
my %revive = (
	agent => sub { $c->start_agent(2) },
	dn => sub { $c->start_dn(2) },
	an => sub { $c->start_an && $c->wait_an_ready });

# stage => whether the access node has committed when the backend stops
my @stages = ([ before_prepare => 0 ], [ after_prepare => 1 ], [ after_local_commit => 1 ]);

my $id = 0;
for my $st (@stages)
{
	my ($stage, $local_commit) = @$st;
	for my $what (qw(agent dn an))
	{
		$id++;
		my $name = "$what killed at $stage";
		my $app = "stage_$id";
		# Killing the access node before its commit loses the transaction;
		# anything else after PREPARE leaves only the second phase to do.
		my $committed = $what eq 'an' ? $stage eq 'after_local_commit' : $local_commit;

		my $s = $c->session(app => $app);
		$s->query("SET hyperdist.inject_fault = '$stage'");
		$s->query("SET hyperdist.inject_fault_action = 'pause'");
		$s->query('BEGIN');
		my ($out, $err) =
		  $s->query("CALL distributed_exec(\$\$INSERT INTO tx VALUES ($id, '$name')\$\$)");
		is(sqlstate($err), undef, "$name: the transaction wrote on every node")
		  or diag($err);
		$s->send('COMMIT');
		ok(wait_paused($c, $app), "$name: the commit pauses at $stage");
		ok($kill{$what}->(), "$name: $what killed");

		if ($what eq 'an')
		{
			eval { $s->wait(60) };
			ok($revive{an}->(), "$name: the access node restarted");
		}
		else
		{
			release($c, $app);
			($out, $err) = $s->wait(60);
			if ($committed)
			{
				unlike($err, qr/ERROR/, "$name: COMMIT succeeds") or diag($err);
				like($err,
					qr/WARNING:.*could not commit the prepared transaction on data node "dn2"/,
					"$name: ... with a warning that dn2 is left to the background worker");
			}
			else
			{
				like(sqlstate($err) // 'none', qr/^(08|57|40)/,
					"$name: COMMIT fails with a connection error")
				  or diag($err);
			}
			ok($revive{$what}->(), "$name: $what started again");
		}
		$s->quit;

		ok(settled($c), "$name: no prepared transaction is left on any data node");
		is(row_counts($c, 'tx', "id = $id"),
			$committed ? '1,1,1' : '0,0,0',
			"$name: the transaction is " . ($committed ? 'on every data node' : 'on none'));
	}
}

ok(poll_until(sub { commit_records($c) == 0 }, 60),
	'the commit records of resolved transactions are pruned');

$c->teardown;
done_testing();
