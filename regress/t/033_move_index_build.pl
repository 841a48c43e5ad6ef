# SPDX-License-Identifier: PostgreSQL
# The destination's table of a chunk copy is filled before it has indexes
# and before it joins its parent: after the operation's first stage it is
# a table of its own on the destination, without index, with a constraint
# of its time range; once the operation ends it is a partition again, with
# an index for each of its parent's (unique and constraint ones included,
# enforced), without that constraint, and with every row once.  DDL run
# while the operation is paused between its stages reaches the copy (the
# table is made again LIKE its parent when the copy begins).  Hypertables
# with a space dimension (the chunk hangs under a slice's table) and with
# a smallint time whose last chunk reaches past the type's range (a bound
# of MAXVALUE, which the range constraint leaves out) move as well.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistMove;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);

$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, id bigint NOT NULL, v bigint,\n"
	  . "  PRIMARY KEY (time, id));\n"
	  . "SELECT create_distributed_hypertable('m', 'time', replication_factor => 1,\n"
	  . "       chunk_time_interval => interval '1 day');\n"
	  . "CREATE INDEX m_v ON m (v, time DESC);\n"
	  . "CREATE UNIQUE INDEX m_id ON m (id, time);\n"
	  . "INSERT INTO m SELECT '2026-01-01'::timestamptz + g * interval '2 s', g, g % 1000\n"
	  . "  FROM generate_series(1, 20000) g;",
	name => 'hypertable m: a primary key, a unique index, an index; 20,000 rows in a day');
my ($chunk_id, $chunk) = chunk_of($c, 'm', '2026-01-01 12:00');
my ($src) = map { $_->[0] } replicas($c, $chunk_id);
my $dst = $src eq 'dn1' ? 'dn2' : 'dn1';
my ($si, $di) = map { my $n = $_; $n =~ s/^dn//; $n } ($src, $dst);

# The chunk table's shape on data node $i: "partition|indexes|constraint".
sub shape
{
	my ($i) = @_;
	return $c->psql_ok(
		"SELECT c.relispartition,"
		  . " (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid),"
		  . " EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = c.oid"
		  . "         AND k.conname = 'hd_copy_bound')"
		  . " FROM pg_class c WHERE c.oid = to_regclass('$chunk')",
		node => $i);
}

# The chunk table's index definitions on data node $i, its name left out.
sub index_defs
{
	my ($i, $table) = @_;
	return $c->psql_ok(
		"SELECT string_agg(regexp_replace(pg_get_indexdef(x.indexrelid),"
		  . "  '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', 'CREATE \\1INDEX ON t '), E'\\n'"
		  . "  ORDER BY 1) FROM pg_index x WHERE x.indrelid = '$table'::regclass",
		node => $i);
}

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.inject_fault = 'move_created';\n"
	  . "ALTER SYSTEM SET hyperdist.inject_fault_action = 'pause';\n"
	  . "SELECT pg_reload_conf();");
my $from = -s $c->log_path('an');
my $s = $c->session(app => 'hd_move_idx');
$s->send("CALL move_chunk('$chunk', '$src', '$dst', operation_id => 'hd_idx')");
my $pid;
ok( poll_until(
		sub {
			my $log = substr(slurp($c->log_path('an')) // '', $from);
			($pid) = $log =~ /fault point "move_created" reached, pausing until pg_cancel_backend\((\d+)\)/;
			return defined $pid;
		},
		60),
	'the move pauses after its first stage');
is(shape($di), 'f|0|t',
	'after the first stage the destination has the chunk table alone: no parent, no index, its range constraint');

# DDL while the copy is paused: the copy is made LIKE the parent as it is then
$c->psql_ok(
	"ALTER TABLE m ADD COLUMN note text DEFAULT 'n';\n"
	  . "CREATE INDEX m_note ON m (note);",
	name => 'a column and an index added while the move is paused');
$c->psql_ok(
	"ALTER SYSTEM RESET hyperdist.inject_fault;\n"
	  . "ALTER SYSTEM RESET hyperdist.inject_fault_action;\n"
	  . "SELECT pg_reload_conf();\n"
	  . "SELECT pg_cancel_backend($pid);");
my (undef, $err) = $s->wait(300);
unlike($err, qr/ERROR/, 'CALL move_chunk returns without error');
is(op_stage($c, 'hd_idx'), 'complete', 'the operation is complete');
is(replica_string($c, $chunk_id), "$dst:current", "the chunk is on $dst alone");
is(shape($di), 't|4|f',
	'the moved chunk is a partition again, with its 4 indexes and no range constraint');

# another chunk of m on the destination, made by an insert, to compare with
$c->psql_ok("INSERT INTO m (time, id, v) VALUES ('2026-01-05 00:00', -1, 0)");
my ($other_id, $other) = chunk_of($c, 'm', '2026-01-05 00:00');
my ($other_node) = map { $_->[0] } replicas($c, $other_id);
$c->psql_ok("CALL move_chunk('$other', '$other_node', '$dst')") if $other_node ne $dst;
is(index_defs($di, $chunk), index_defs($di, $other),
	'the moved chunk has the same indexes as another chunk of the hypertable');
is($c->psql_ok("SELECT count(*), count(DISTINCT id), sum(v), min(note), max(note) FROM m"
		  . " WHERE time < '2026-01-02'"),
	'20000|20000|9990000|n|n', 'every row once, the added column read');
$c->psql_error("INSERT INTO m (time, id, v) VALUES ('2026-01-01'::timestamptz + interval '2 s', 1, 0)",
	'23505', 'the primary key is enforced on the moved chunk (23505)');
is($c->psql_ok("SELECT count(*) FROM m WHERE v = 7 AND time < '2026-01-02'"), '20',
	'an index condition reads the moved chunk right');
check_no_orphans($c);

# a space dimension: the chunk's parent is the slice's table
$c->psql_ok(
	"CREATE TABLE s (time timestamptz NOT NULL, host int NOT NULL, v int);\n"
	  . "SELECT create_distributed_hypertable('s', 'time', 'host', number_partitions => 2,\n"
	  . "       replication_factor => 1, chunk_time_interval => interval '1 day');\n"
	  . "CREATE INDEX ON s (host, time DESC);\n"
	  . "INSERT INTO s SELECT '2026-01-01'::timestamptz + g * interval '10 s', g % 7, g\n"
	  . "  FROM generate_series(1, 5000) g;",
	name => 'hypertable s with a space dimension');
my $expect_s = $c->psql_ok("SELECT count(*), sum(v), count(DISTINCT host) FROM s");
my $sc = $c->psql_ok(
	"SELECT format('%I.%I', ch.schema_name, ch.table_name) || '|' || d.node_name"
	  . " FROM _hyperdist_catalog.chunk ch"
	  . " JOIN _hyperdist_catalog.chunk_data_node d ON d.chunk_id = ch.id"
	  . " JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id"
	  . " WHERE h.relid = 's'::regclass ORDER BY ch.id LIMIT 1");
my ($schunk, $snode) = split /\|/, $sc;
my $sdst = $snode eq 'dn1' ? 'dn2' : 'dn1';
$c->psql_ok("CALL move_chunk('$schunk', '$snode', '$sdst')",
	name => 'a chunk of s moves');
is($c->psql_ok("SELECT count(*), sum(v), count(DISTINCT host) FROM s"), $expect_s,
	'every row of s once after the move');
(my $sdi = $sdst) =~ s/^dn//;
is( $c->psql_ok(
		"SELECT p.relkind = 'p', c.relispartition,"
		  . " (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid)"
		  . " FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid"
		  . " JOIN pg_class p ON p.oid = i.inhparent WHERE c.oid = '$schunk'::regclass",
		node => $sdi),
	't|t|3', "the moved chunk of s is attached under its parent with its 3 indexes");

# smallint time: the last chunk's end is past the type's range (MAXVALUE)
$c->psql_ok(
	"CREATE TABLE e (t smallint NOT NULL, v int);\n"
	  . "SELECT create_distributed_hypertable('e', 't', replication_factor => 1,\n"
	  . "       chunk_time_interval => 10000);\n"
	  . "INSERT INTO e SELECT g, g FROM generate_series(30000, 32767) g;",
	name => 'hypertable e: smallint time up to its maximum');
my $ec = $c->psql_ok(
	"SELECT format('%I.%I', ch.schema_name, ch.table_name) || '|' || d.node_name"
	  . " FROM _hyperdist_catalog.chunk ch"
	  . " JOIN _hyperdist_catalog.chunk_data_node d ON d.chunk_id = ch.id"
	  . " JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id"
	  . " WHERE h.relid = 'e'::regclass ORDER BY ch.id DESC LIMIT 1");
my ($echunk, $enode) = split /\|/, $ec;
my $edst = $enode eq 'dn1' ? 'dn2' : 'dn1';
$c->psql_ok("CALL move_chunk('$echunk', '$enode', '$edst')",
	name => 'the last chunk of e (up to MAXVALUE) moves');
is($c->psql_ok("SELECT count(*), sum(v), max(t) FROM e"), '2768|86869528|32767',
	'every row of e once after the move');
$c->psql_ok("INSERT INTO e VALUES (32767, 1)", name => 'a row written into the moved chunk of e');
is($c->psql_ok("SELECT count(*) FROM e WHERE t = 32767"), '2', 'and read back');
check_no_orphans($c);

$c->teardown;
done_testing();
