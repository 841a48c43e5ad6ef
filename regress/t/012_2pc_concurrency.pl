# SPDX-License-Identifier: PostgreSQL
# Two-phase commit under concurrency:
#  - read-only participants commit without PREPARE;
#  - a transaction in doubt because a data node is unreachable shows in
#    hyperdist_information.remote_transactions and resolves on its own once
#    the node is back;
#  - concurrent writers while a data node crashes and restarts: some fail
#    cleanly, none is half-applied, every commit that succeeded is kept;
#  - the resolver and new transactions: writers blocked behind an in-doubt
#    branch's locks all finish once it is resolved, and writers racing
#    with remote_txn_heal_data_node in a loop never see an error
#    ("prepared transaction ... is busy") or a deadlock.  (Each writer
#    updates its own row: writers contending for the same rows on several
#    data nodes can deadlock across nodes, which no data node detects; that
#    is not the resolver's doing, and not what is tested here.)
#  - prepared transactions of other access nodes, other databases and
#    other software are never touched.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistTxn;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);
create_table($c, 'tx');
$c->psql_ok(
	"CREATE FOREIGN TABLE tx_dn1 (id int, tag text) SERVER dn1 OPTIONS (table_name 'tx')",
	name => 'a foreign table reading dn1');

# ---- read-only participants ----------------------------------------------------------
{
	my $s = $c->session(app => 'readers');
	$s->query("SET hyperdist.inject_fault = 'after_prepare'");
	$s->query("SET hyperdist.inject_fault_action = 'pause'");
	$s->query('BEGIN');
	$s->query('SELECT count(*) FROM tx_dn1');
	$s->query("CALL distributed_exec(\$\$INSERT INTO tx VALUES (1, 'ro')\$\$, node_list => '{dn2,dn3}')");
	$s->send('COMMIT');
	ok(wait_paused($c, 'readers'),
		'a transaction that read dn1 and wrote dn2 and dn3 is between its phases');
	is(join(',', map { $c->prepared_xacts($_) } 1 .. 3),
		'0,1,1', '... only dn2 and dn3, which were written to, are prepared');
	release($c, 'readers');
	my ($out, $err) = $s->wait(60);
	is(sqlstate($err), undef, '... and it commits') or diag($err);
	$s->quit;
	is(row_counts($c, 'tx', 'id = 1'), '0,1,1', '... on dn2 and dn3');
}

# ---- an in-doubt transaction in the view -----------------------------------------------
{
	my $s = $c->session(app => 'doubt');
	$s->query("SET hyperdist.inject_fault = 'after_local_commit'");
	$s->query("SET hyperdist.inject_fault_action = 'pause'");
	$s->send("CALL distributed_exec(\$\$INSERT INTO tx VALUES (2, 'doubt')\$\$)");
	ok(wait_paused($c, 'doubt'), 'a commit pauses after the local commit');
	ok($c->kill_agent(1, 'KILL'), 'agent1 killed');
	ok($c->stop_an('immediate'), 'the access node crashes');
	eval { $s->wait(30) };
	$s->quit;
	ok($c->start_an && $c->wait_an_ready, 'the access node is back');

	# Also listed: earlier commits on dn1 whose records the worker could
	# not prune yet, for the same reason.
	my $view;
	ok( poll_until(
			sub {
				$view = $c->psql_ok(
					"SELECT count(*) FILTER (WHERE node_name = 'dn1' AND state = 'retrying'"
					  . " AND last_error IS NOT NULL AND age > '0'::interval) > 0,"
					  . " count(*) FILTER (WHERE node_name <> 'dn1')"
					  . ' FROM hyperdist_information.remote_transactions');
				return $view eq 't|0';
			},
			60),
		'the view shows the in-doubt branch on the unreachable dn1, and why')
	  or diag("view: $view");
	like($c->psql_ok('SELECT last_error FROM hyperdist_information.remote_transactions'),
		qr/dn1/, '... the error names dn1');
	is($c->prepared_xacts(2) + $c->prepared_xacts(3), 0,
		'the branches on the reachable nodes were committed');
	ok($c->start_agent(1), 'agent1 started again');
	ok(settled($c), 'the branch on dn1 is resolved without anyone asking');
	ok(poll_until(sub { $c->psql_ok('SELECT count(*) FROM hyperdist_information.remote_transactions') eq '0' }, 60),
		'... and leaves the view');
	is(row_counts($c, 'tx', 'id = 2'), '1,1,1', 'the transaction is on every data node');
}

# ---- concurrent writers while a data node restarts --------------------------------------
{
	my @w = map { $c->session(app => "writer$_") } 1 .. 4;
	my (%ok, %failed);
	my $next = 1000;
	for my $round (1 .. 24)
	{
		my @ids;
		for my $s (@w)
		{
			my $id = $next++;
			push @ids, $id;
			$s->send("CALL distributed_exec(\$\$INSERT INTO tx VALUES ($id, 'concurrent')\$\$)");
		}
		# dn2 crashes while this round's statements are in flight
		$c->stop_dn(2, 'immediate') if $round == 8;
		$c->start_dn(2) if $round == 14;
		for my $i (0 .. $#w)
		{
			my ($out, $err) = $w[$i]->wait(120);
			if ($err =~ /ERROR/) { $failed{ $ids[$i] } = $err }
			else { $ok{ $ids[$i] } = 1 }
		}
	}
	$_->quit for @w;
	ok(scalar(keys %failed) > 0, 'some writes failed while dn2 was down');
	ok(!(grep { (sqlstate($_) // 'none') !~ /^(08|57)/ } values %failed),
		'... with connection errors')
	  or diag(join("\n", values %failed));
	ok(scalar(keys %ok) > 48, 'the others succeeded');

	ok(settled($c), 'no prepared transaction is left after the restart');
	my %count;
	for my $i (1 .. 3)
	{
		my $rows = $c->psql_ok(
			"SELECT string_agg(id::text, ',') FROM tx WHERE tag = 'concurrent'", node => $i);
		$count{$_}++ for split /,/, $rows;
	}
	my @half = grep { $count{$_} != 3 } keys %count;
	is_deeply(\@half, [], 'no write is half-applied');
	my @lost = grep { ($count{$_} // 0) != 3 } keys %ok;
	is_deeply(\@lost, [], 'every write that succeeded is on every data node');
}

# ---- the resolver and new transactions ----------------------------------------------------
$c->psql_ok(
	"CALL distributed_exec(\$\$CREATE TABLE hot (id int PRIMARY KEY, v int);"
	  . " INSERT INTO hot SELECT g, 0 FROM generate_series(1, 4) g\$\$)",
	name => 'a table of hot rows on every data node');
{
	# An in-doubt branch holds the hot rows' locks on dn1: its COMMIT
	# PREPARED failed because dn1 was down.
	my $s = $c->session(app => 'holder');
	$s->query("SET hyperdist.inject_fault = 'after_prepare'");
	$s->query("SET hyperdist.inject_fault_action = 'pause'");
	$s->send("CALL distributed_exec(\$\$UPDATE hot SET v = v + 1\$\$)");
	ok(wait_paused($c, 'holder'), 'an update of every hot row is prepared everywhere');
	ok($c->stop_dn(1, 'immediate'), 'dn1 crashes');
	release($c, 'holder');
	my ($out, $err) = $s->wait(60);
	like($err, qr/WARNING:.*data node "dn1"/, '... the update commits, dn1 left in doubt');
	$s->quit;
	ok($c->start_dn(1), 'dn1 is back, its prepared branch holding the row locks');

	# Writers update their rows (blocking behind the branch on dn1) while a
	# session heals every node in a loop.
	my @w = map { $c->session(app => "hot$_") } 1 .. 3;
	my $healer = $c->session(app => 'healer');
	my ($errors, $rounds) = ('', 0);
	for my $round (1 .. 10)
	{
		$healer->send("SELECT remote_txn_heal_data_node('dn1') + remote_txn_heal_data_node('dn2')"
			  . " + remote_txn_heal_data_node('dn3')");
		$w[$_ - 1]->send("CALL distributed_exec(\$\$UPDATE hot SET v = v + 1 WHERE id = $_\$\$)")
		  for 1 .. @w;
		for my $x (@w, $healer)
		{
			my ($o, $e) = $x->wait(120);
			$errors .= $e if $e =~ /ERROR|WARNING/;
		}
		$rounds++;
	}
	$_->quit for @w, $healer;
	is($errors, '', 'no writer and no resolver call failed or warned (no busy, no deadlock)');
	ok(settled($c), 'nothing is left prepared');
	my $expect = 1 + $rounds;
	is(row_counts($c, 'hot', "id <= 3 AND v = $expect OR id = 4 AND v = 1"), '4,4,4',
		'every data node applied the in-doubt update and every later one');
}

ok(poll_until(sub { commit_records($c) == 0 }, 60),
	'the commit records are pruned');

# ---- never someone else's prepared transactions ------------------------------------------
{
	my ($sysid, $dboid, $dn1) = split /\|/, $c->psql_ok(
		'SELECT (SELECT system_identifier FROM pg_control_system()),'
		  . ' (SELECT oid FROM pg_database WHERE datname = current_database()),'
		  . " (SELECT oid FROM pg_foreign_server WHERE srvname = 'dn1')");
	my %foreign = (
		'not_hyperdist' => 'hyperdist',
		"hd_1_${dboid}_5_$dn1" => 'hyperdist',    # another access node's
		"hd_${sysid}_${dboid}_5_$dn1" => 'postgres');    # ours by name, another database
	$c->psql_ok("BEGIN; PREPARE TRANSACTION '$_';", node => 1, db => $foreign{$_})
	  for sort keys %foreign;
	is($c->psql_ok("SELECT remote_txn_heal_data_node('dn1')"), '0',
		'remote_txn_heal_data_node leaves other prepared transactions alone');
	is($c->prepared_xacts(1), 3, '... all three are still prepared on dn1');
	$c->psql_ok("ROLLBACK PREPARED '$_'", node => 1, db => $foreign{$_})
	  for sort keys %foreign;
}

$c->teardown;
done_testing();
