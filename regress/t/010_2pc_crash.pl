# SPDX-License-Identifier: PostgreSQL
# Two-phase commit: the access-node backend crashes (SIGKILL, through
# hyperdist.inject_fault) at every point of the commit protocol.  After the
# access node's crash recovery, the background worker resolves what was in
# doubt without anyone asking: the transaction is on every data node if the
# crash came after the local commit, on none otherwise; nothing committed
# before is lost; no prepared transaction stays behind, and the commit
# records are pruned.
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
	"CALL distributed_exec(\$\$INSERT INTO tx SELECT g, 'before' FROM generate_series(1, 5) g\$\$)",
	name => 'rows committed before any crash');
is(row_counts($c, 'tx', "tag = 'before'"), '5,5,5', '... on every data node');

# point => whether the transaction committed
my @points = (
	[ before_prepare => 0 ],
	[ after_prepare_first_node => 0 ],
	[ after_prepare => 0 ],
	[ after_local_commit => 1 ],
	[ before_commit_prepared => 1 ],
	[ after_commit_prepared_first_node => 1 ]);

my $id = 100;
for my $p (@points)
{
	my ($point, $committed) = @$p;
	$id++;
	crash_at($c, $point,
		"BEGIN;\n"
		  . "CALL distributed_exec(\$\$INSERT INTO tx VALUES ($id, '$point')\$\$);\n"
		  . "COMMIT;");
	ok(settled($c), "$point: no prepared transaction is left on any data node");
	is(row_counts($c, 'tx', "id = $id"),
		$committed ? '1,1,1' : '0,0,0',
		"$point: the transaction is "
		  . ($committed ? 'on every data node' : 'on none'));
}

is(row_counts($c, 'tx', "tag = 'before'"), '5,5,5',
	'nothing committed before the crashes was lost');
like(slurp($c->log_path('an')),
	qr/hyperdist: resolved \d+ in-doubt prepared transactions on data node/,
	'the background worker logged what it resolved');
ok(poll_until(sub { commit_records($c) == 0 }, 60),
	'the commit records of resolved transactions are pruned');

$c->psql_ok("CALL distributed_exec(\$\$INSERT INTO tx VALUES (999, 'after')\$\$)",
	name => 'distributed commits work after the crashes');
is(row_counts($c, 'tx', 'id = 999'), '1,1,1', '... on every data node');

$c->teardown;
done_testing();
