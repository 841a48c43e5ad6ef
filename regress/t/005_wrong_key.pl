# SPDX-License-Identifier: PostgreSQL
# Keys and credentials: an agent that does not authorize the access node's key
# (28000), an access node that holds the wrong key for an agent (08001), a
# missing key file, and data node passwords (user mappings, passfile).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
my $timeout = "-c hyperdist.connect_timeout=2";
my $keys = $c->tmp . '/other-keys';
my $other_pub = $c->keygen($keys, 'other');

# ---- the agent does not know the access node's key ----------------------------------
open my $fh, '>', "$keys/authorized_keys" or die $!;
print $fh "# only some other access node\n$other_pub other\n";
close $fh;
chmod 0600, "$keys/authorized_keys";
ok($c->kill_agent(1), 'agent1 stopped');
ok($c->start_agent(1, '--authorized-keys', "$keys/authorized_keys"),
	'agent1 started with an authorized_keys file without the access node');
my $err = $c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn1}')",
	'28000', 'an unauthorized access node gets 28000', options => $timeout);
like($err, qr/dn1/, '... naming dn1');
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')",
	name => 'dn2 is unaffected', options => $timeout);
ok($c->kill_agent(1), 'agent1 stopped');
ok($c->start_agent(1), 'agent1 started with its own authorized_keys');
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn1}')",
	name => 'dn1 works again', options => $timeout);

# ---- the access node holds the wrong key for the agent ----------------------------------
my $dn2_pub = HyperdistTest::read_key($c->an_pgdata . '/hyperdist/dn2.pub');
is($c->psql_ok("SELECT option_value FROM pg_options_to_table("
	  . "(SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'dn2')) WHERE option_name = 'agent_public_key'"),
	$dn2_pub, "add_data_node stored dn2's key from dn2.pub");
$c->psql_ok("ALTER SERVER dn2 OPTIONS (SET agent_public_key '$other_pub')",
	name => "dn2's stored key replaced by another valid key");
$err = $c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')",
	'08001', 'a wrong agent key gives 08001 (the handshake never completes)',
	options => $timeout);
like($err, qr/dn2/, '... naming dn2');
$c->psql_ok("ALTER SERVER dn2 OPTIONS (SET agent_public_key '$dn2_pub')",
	name => 'the right key restored');
$c->psql_ok("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')",
	name => 'dn2 works again', options => $timeout);
$c->psql_error("ALTER SERVER dn2 OPTIONS (SET agent_public_key 'not a key')",
	qr/^(22023|42601|HV...)$/, 'a malformed stored key is refused');

# ---- add_data_node: key file missing, or holding another agent's key ----------------------
$err = $c->psql_error(
	"SELECT * FROM add_data_node('dn7', '127.0.0.1', database => 'hyperdist', port => "
	  . $c->agent_port(1) . ")",
	qr/^(58P01|22023|55000|HV000|42704|F0000)$/,
	'add_data_node without a key file for the node fails', options => $timeout);
like($err, qr/dn7\.pub/, '... naming the missing file');
is($c->psql_ok("SELECT count(*) FROM pg_foreign_server WHERE srvname = 'dn7'"), 0,
	'... and leaves no server behind');

system('cp', $c->an_pgdata . '/hyperdist/dn2.pub', $c->an_pgdata . '/hyperdist/dn8.pub') == 0
  or die "cp failed";
$c->psql_error(
	"SELECT * FROM add_data_node('dn8', '127.0.0.1', database => 'hyperdist', port => "
	  . $c->agent_port(1) . ")",
	'08001', "add_data_node with another agent's key fails with 08001",
	options => $timeout);

# ---- data node credentials -----------------------------------------------------------------
# alice exists everywhere, with a password on the data nodes; the access
# node's passfile only knows postgres.
$c->psql_ok("CREATE ROLE alice LOGIN SUPERUSER;\n"
	  . "CALL distributed_exec(\$\$CREATE ROLE alice LOGIN PASSWORD 'alice-secret'\$\$);\n"
	  . "CALL distributed_exec(\$\$CREATE SCHEMA alice AUTHORIZATION alice\$\$);",
	name => 'role alice on every node, with a schema of her own on the data nodes');
# libpq gives up before the server is asked (no SQLSTATE from it): 08001,
# as postgres_fdw reports it.
$err = $c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn1}')",
	'08001', 'alice without a password for the data node: 08001',
	user => 'alice', options => $timeout);
like($err, qr/password/, '... saying a password is missing');
like($err, qr/dn1/, '... naming dn1');
$c->psql_ok("CREATE USER MAPPING FOR alice SERVER dn1 OPTIONS (user 'alice', password 'alice-secret')",
	name => 'user mapping with her password');
is($c->psql_ok("CALL distributed_exec(\$\$CREATE TABLE alice_t AS SELECT current_user AS who\$\$, node_list => '{dn1}')",
		user => 'alice', options => $timeout), '', 'alice runs on dn1 through the mapping');
is($c->psql_ok("SELECT who || ' ' || (SELECT tableowner FROM pg_tables WHERE tablename = 'alice_t') FROM alice.alice_t", node => 1),
	'alice alice', '... as alice on the data node');
$c->psql_ok("ALTER USER MAPPING FOR alice SERVER dn1 OPTIONS (SET password 'wrong')");
$c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn1}')",
	'28P01', 'a wrong password in the mapping: 28P01',
	user => 'alice', options => $timeout);

# A passfile password longer than agents accept: refused here, naming it
# (a user mapping's is refused when it is set, see 016).
{
	open(my $pf, '>>', $c->an_pgdata . '/passfile') or die "passfile: $!";
	print $pf "*:*:*:alice:" . ('x' x 2000) . "\n";
	close($pf);
}
$err = $c->psql_error("CALL distributed_exec(\$\$SELECT 1\$\$, node_list => '{dn2}')",
	'22023', 'a 2000-byte passfile password: 22023 before anything is sent',
	user => 'alice', options => $timeout);
like($err, qr/longer than 1024 bytes.*\n.*hyperdist\.passfile/s, '... naming the limit and the passfile');

$c->teardown;
done_testing();
