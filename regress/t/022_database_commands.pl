# SPDX-License-Identifier: PostgreSQL
# The background worker of a database keeps a connection to it, which
# would make DROP DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE
# ... TEMPLATE of it fail ("being accessed by other users").  The
# ProcessUtility hook pauses the worker around those commands; afterwards a
# database that still exists gets its worker back.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 1);

# A worker runs in a database once a two-phase commit woke it.
sub worker_in
{
	my ($db) = @_;
	return $c->psql_ok(
		"SELECT count(*) FROM pg_stat_activity"
		  . " WHERE backend_type = 'hyperdist worker' AND datname = '$db'",
		db => 'postgres');
}

sub wake_worker
{
	my ($db) = @_;
	$c->psql_ok("INSERT INTO m VALUES (now(), 1)", db => $db);
	ok(poll_until(sub { worker_in($db) == 1 }, 30), "$db has its worker");
}

$c->psql_ok(
	"CREATE DATABASE d1;\n"
	  . "\\c d1\n"
	  . "CREATE EXTENSION hyperdist;\n"
	  . "SELECT add_data_node('dn1', host => '127.0.0.1', port => " . $c->agent_port(1)
	  . ", database => 'd1');\n"
	  . "CREATE TABLE m (time timestamptz NOT NULL, v int);\n"
	  . "SELECT create_distributed_hypertable('m', 'time');",
	db => 'postgres',
	name => 'a second database with a distributed hypertable');

wake_worker('d1');
$c->psql_ok("CREATE DATABASE d1_copy TEMPLATE d1",
	db => 'postgres', name => 'CREATE DATABASE ... TEMPLATE of it');
$c->psql_ok("ALTER DATABASE d1 RENAME TO d1_renamed",
	db => 'postgres', name => 'ALTER DATABASE ... RENAME of it');
ok(poll_until(sub { worker_in('d1_renamed') == 1 }, 30),
	'the renamed database gets its worker back');
$c->psql_ok("DROP DATABASE d1_renamed",
	db => 'postgres', name => 'DROP DATABASE of it');
is($c->psql_ok("SELECT count(*) FROM pg_database WHERE datname LIKE 'd1%'",
		db => 'postgres'),
	1, 'only the copy is left');

is($c->psql_ok("SELECT count(*) FROM m", db => 'd1_copy'), 1,
	'the copy has the table, as the foreign table it is on the access node');

done_testing();
