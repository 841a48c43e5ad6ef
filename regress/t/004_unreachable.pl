# SPDX-License-Identifier: PostgreSQL
# An agent that does not answer: statements that need it fail with 08001
# within hyperdist.connect_timeout, naming the node; other nodes keep working;
# add_data_node towards nothing leaves nothing behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use File::Copy qw(copy);
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
my $timeout = "-c hyperdist.connect_timeout=2";

ok($c->kill_agent(2, 'TERM'), 'agent2 stopped');
my $err = $c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')",
	'08001', 'distributed_exec on a node whose agent is down: 08001',
	options => $timeout);
like($err, qr/dn2/, '... naming dn2');
$err = $c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$)",
	'08001', 'distributed_exec on all nodes: 08001 too', options => $timeout);
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn1}')",
	name => 'dn1 still works', options => $timeout);

# The same with the timeout set by SET in the session.
$c->psql_error("SET hyperdist.connect_timeout = 2;\n"
	  . "CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')",
	'08001', 'hyperdist.connect_timeout set with SET applies');

# A transaction that touched dn1 and then fails on dn2 leaves nothing on dn1.
$c->psql_ok("CALL distributed_exec(\$\$CREATE TABLE unreach_t (x int)\$\$, node_list => '{dn1}')");
$c->psql_error("BEGIN;\n"
	  . "CALL distributed_exec(\$\$INSERT INTO unreach_t VALUES (1)\$\$, node_list => '{dn1}');\n"
	  . "CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}');\n"
	  . "COMMIT;",
	'08001', 'a transaction reaching the dead node fails', options => $timeout);
is($c->psql_ok("SELECT count(*) FROM unreach_t", node => 1), 0,
	'... and its insert on dn1 was rolled back');

# health() reports the dead node without failing, and the others as healthy.
my $health = $c->psql_ok(
	"SELECT node_name, healthy, in_recovery IS NULL, error FROM health() WHERE node_name IS NOT NULL",
	options => $timeout, name => 'health() with agent2 down');
like($health, qr/^dn1\|t\|f\|$/m, '... dn1 healthy');
like($health, qr/^dn2\|f\|t\|agent at 127\.0\.0\.1:\d+ does not answer/m,
	'... dn2 not, and why');

ok($c->start_agent(2), 'agent2 back');
like($c->psql_ok("SELECT node_name, healthy FROM health() WHERE node_name = 'dn2'"),
	qr/^dn2\|t$/m, 'health(): dn2 healthy again');
# The agent answers but its PostgreSQL does not: the session's error.
ok($c->stop_dn(2), "dn2's PostgreSQL stopped");
like( $c->psql_ok("SELECT node_name, healthy, error FROM health() WHERE node_name = 'dn2'"),
	qr/^dn2\|f\|.*(connect|server)/m, 'health(): dn2 unhealthy, with the connection error');
ok($c->start_dn(2), "dn2's PostgreSQL started");
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$)",
	name => 'distributed_exec on all nodes works again', options => $timeout);

# add_data_node towards a port where nothing listens (with a valid key file).
my $port = free_port();
copy($c->an_pgdata . '/hyperdist/dn1.pub', $c->an_pgdata . '/hyperdist/dn9.pub')
  or die "copy: $!";
$err = $c->psql_error(
	"SELECT * FROM add_data_node('dn9', '127.0.0.1', database => 'hyperdist', port => $port)",
	'08001', 'add_data_node towards no agent: 08001', options => $timeout);
like($err, qr/dn9/, '... naming the node');
is($c->psql_ok("SELECT count(*) FROM hyperdist_information.data_nodes WHERE node_name = 'dn9'"),
	0, '... and leaves no data node behind');
is($c->psql_ok("SELECT count(*) FROM pg_foreign_server WHERE srvname = 'dn9'"),
	0, '... nor a foreign server');

$c->teardown;
done_testing();
