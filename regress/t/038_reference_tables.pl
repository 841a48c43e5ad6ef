# SPDX-License-Identifier: PostgreSQL
# Reference tables on a real cluster: add_data_node gives a new data node
# every reference table, filled, in its transaction (a table referencing
# another by a foreign key after it); a write while a data node's agent is
# dead fails with a connection error naming the node and changes nothing
# anywhere; the access node crashing between PREPARE and COMMIT PREPARED
# of a write is resolved by the background worker, the write on every
# node or on none; create_reference_table without data nodes is refused.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistTxn;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 3);
my %o = (options => '-c hyperdist.connect_timeout=2');

$c->psql_ok(<<'SQL', name => 'two reference tables, one referencing the other');
CREATE TABLE tags (id int PRIMARY KEY, hostname text NOT NULL);
INSERT INTO tags SELECT g, 'host_' || g FROM generate_series(1, 100) g;
SELECT create_reference_table('tags');
CREATE TABLE tag_notes (id int PRIMARY KEY, tag int NOT NULL REFERENCES tags, note text);
INSERT INTO tag_notes SELECT g, g, 'note' FROM generate_series(1, 10) g;
SELECT create_reference_table('tag_notes');
SQL

# The rows of $table on the access node and on each data node: "an|n1,n2,n3",
# each "count:sum of ids".
sub everywhere
{
	my ($table) = @_;
	my $q = "SELECT count(*) || ':' || coalesce(sum(id), 0) FROM $table";
	my $an = $c->psql_ok($q);
	my @dn;
	for my $i (1 .. $c->n)
	{
		my ($out, $err, $rc) = $c->psql($q, node => $i);
		push @dn, $rc == 0 ? $out : "error($i)";
	}
	return "$an|" . join(',', @dn);
}

is(everywhere('tags'), '100:5050|100:5050,100:5050,100:5050', 'tags on every node');

# ---- a new data node gets every reference table -------------------------------------
$c->psql_ok("SELECT delete_data_node('dn3', drop_database => true)",
	name => 'dn3 deleted with its database');
$c->psql_ok("INSERT INTO tags VALUES (101, 'host_101')", name => 'a write without dn3');
$c->psql_ok(
	"SELECT node_name FROM add_data_node('dn3', host => '127.0.0.1', database => 'hyperdist', port => "
	  . $c->agent_port(3) . ")",
	name => 'dn3 added again, a new database');
is(everywhere('tags'), '101:5151|101:5151,101:5151,101:5151',
	'the new data node has every row of tags');
is(everywhere('tag_notes'), '10:55|10:55,10:55,10:55', '... and of tag_notes');
is( $c->psql_ok(
		"SELECT count(*) FROM pg_constraint WHERE conrelid = 'tag_notes'::regclass AND contype = 'f'",
		node => 3),
	1,
	"... with tag_notes' foreign key to tags");
$c->psql_ok("INSERT INTO tags VALUES (102, 'host_102'); DELETE FROM tags WHERE id = 1 + 100",
	name => 'writes after add_data_node');
is(everywhere('tags'), '101:5152|101:5152,101:5152,101:5152', '... reach the new node');

# ---- a data node down: the write fails, nothing changes anywhere ---------------------
ok($c->kill_agent(2, 'KILL'), 'agent2 killed');
for my $w ("INSERT INTO tags VALUES (200, 'host_200')",
	"UPDATE tags SET hostname = 'changed' WHERE id <= 10",
	"DELETE FROM tags WHERE id > 50",
	"TRUNCATE tag_notes")
{
	my $err = $c->psql_error("BEGIN; $w; COMMIT;", qr/^08/, "$w: a connection error", %o);
	like($err, qr/dn2/, '... naming the data node');
}
ok($c->start_agent(2), 'agent2 started again');
is(everywhere('tags'), '101:5152|101:5152,101:5152,101:5152',
	'the failed writes changed nothing anywhere');
is( $c->psql_ok(
		"SELECT count(*) FROM tags WHERE hostname = 'changed'", node => 1),
	0,
	'... not even on the nodes that were reachable');
is(everywhere('tag_notes'), '10:55|10:55,10:55,10:55', '... nor tag_notes');
ok( poll_until(
		sub {
			my ($out, $err, $rc) =
			  $c->psql("INSERT INTO tags VALUES (200, 'host_200')", %o);
			return $rc == 0;
		},
		60),
	'writes succeed again once the agent is back');
is(everywhere('tags'), '102:5352|102:5352,102:5352,102:5352', '... on every node');

# ---- a crash between PREPARE and COMMIT PREPARED ----------------------------------------
# point => whether the transaction committed
my $id = 300;
for my $p ([ after_prepare => 0 ], [ before_commit_prepared => 1 ])
{
	my ($point, $committed) = @$p;
	$id++;
	crash_at($c, $point,
		"BEGIN;\n"
		  . "INSERT INTO tags VALUES ($id, '$point');\n"
		  . "UPDATE tags SET hostname = '$point' WHERE id = 2;\n"
		  . "COMMIT;");
	ok(settled($c), "$point: no prepared transaction is left on any data node");
	is(row_counts($c, 'tags', "id = $id OR hostname = '$point'"),
		$committed ? '2,2,2' : '0,0,0',
		"$point: the write is " . ($committed ? 'on every data node' : 'on none'));
	is($c->psql_ok("SELECT count(*) FROM tags WHERE id = $id OR hostname = '$point'"),
		$committed ? 2 : 0, "$point: ... as on the access node");
}

# ---- no data node left -------------------------------------------------------------------
$c->psql_ok("SELECT delete_data_node(n) FROM unnest('{dn1,dn2,dn3}'::name[]) n",
	name => 'every data node deleted');
$c->psql_ok("INSERT INTO tags VALUES (400, 'host_400')",
	name => 'a reference table is still written here');
$c->psql_error("CREATE TABLE later (id int PRIMARY KEY); SELECT create_reference_table('later')",
	'55000', 'create_reference_table without data nodes: 55000');
is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.reference_table"), 2,
	'... and no catalog row');

$c->teardown;
done_testing();
