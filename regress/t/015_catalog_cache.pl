# SPDX-License-Identifier: PostgreSQL
# The catalog cache (access_node/metadata/cache.c): a session keeps the
# hypertables and chunks it read, and must see every change another
# session commits, and forget what its own rolled-back transaction cached.
# Each check is built so that a stale cache gives a wrong answer or an
# error: a new chunk missing from a time-pruned read, a dropped or
# rolled-back chunk named in a replica filter (regclass of a table that is
# gone), a renamed table read under its old name.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
$c->psql_ok(<<'SQL', name => 'two distributed hypertables, replication factor 1 and 2');
SET timezone = 'UTC';
CREATE TABLE cc (time timestamptz NOT NULL, v int);
SELECT create_distributed_hypertable('cc', 'time', chunk_time_interval => interval '1 day');
CREATE TABLE cc2 (time timestamptz NOT NULL, dev int, v int);
SELECT create_distributed_hypertable('cc2', 'time', 'dev', number_partitions => 2,
  chunk_time_interval => interval '1 day', replication_factor => 2);
INSERT INTO cc SELECT '2024-01-01'::timestamptz + i * interval '1 hour', i FROM generate_series(0, 9) i;
INSERT INTO cc2 SELECT '2024-01-01'::timestamptz + i * interval '1 hour', i % 4, i FROM generate_series(0, 9) i;
SQL

my $s = $c->session(app => 'cache_test');

# Runs $sql in the long-lived session; returns its output, failing the
# test (with the error) if it errs.
sub in_session
{
	my ($sql, $name) = @_;
	my ($out, $err) = $s->query($sql);
	is(sqlstate($err), undef, "$name: no error") or diag($err);
	return $out;
}

is(in_session("SELECT count(*) FROM cc", 'cache filled'), 10, 'the session reads cc');
is(in_session("SELECT count(*) FROM cc2", 'cache filled'), 10, 'the session reads cc2');

# ---- chunks created by another session ---------------------------------------------
$c->psql_ok("INSERT INTO cc VALUES ('2024-01-05 12:00+00', 100), ('2024-01-06 12:00+00', 101)",
	name => 'another session adds two chunks');
is( in_session("SELECT count(*) FROM cc WHERE time >= '2024-01-05'", 'new chunks'),
	2, 'a time-pruned read finds the rows of the new chunks');
is(in_session("SELECT count(*) FROM cc", 'new chunks'), 12, '... and a full read');

# ---- chunks dropped by another session --------------------------------------------
$c->psql_ok("INSERT INTO cc2 VALUES ('2024-01-03 12:00+00', 1, 1), ('2024-01-03 13:00+00', 2, 2)",
	name => 'another session adds chunks of cc2');
is(in_session("SELECT count(*) FROM cc2", 'cc2 chunks'), 12, 'the session reads them');
$c->psql_ok("SELECT count(*) FROM drop_chunks('cc2', older_than => '2024-01-02'::timestamptz)",
	name => 'another session drops the first day of cc2');
is(in_session("SELECT count(*) FROM cc2", 'dropped chunks'), 2,
	'the session reads what is left, naming no dropped chunk');

# ---- availability changed by another session -------------------------------------
$c->psql_ok("SELECT node_name FROM alter_data_node('dn1', available => false)",
	name => 'another session marks dn1 unavailable');
my $plan = in_session("EXPLAIN (COSTS OFF) SELECT * FROM cc2", 'dn1 unavailable');
like($plan, qr/Data node: dn2/, 'the session reads every chunk from dn2');
unlike($plan, qr/Data node: dn1/, '... and nothing from dn1');
is(in_session("SELECT count(*) FROM cc2", 'dn1 unavailable'), 2, '... all of the rows');
$c->psql_ok("SELECT node_name FROM alter_data_node('dn1', available => true)",
	name => 'dn1 available again');
like(in_session("EXPLAIN (COSTS OFF) SELECT * FROM cc2", 'dn1 available'),
	qr/Data node: dn1/, 'the session reads from dn1 again');

# ---- this session's rolled-back chunk ---------------------------------------------
is( in_session(
		"BEGIN; INSERT INTO cc2 VALUES ('2024-02-01 12:00+00', 1, 1), ('2024-02-01 12:00+00', 2, 2);"
		  . " SELECT count(*) FROM cc2 WHERE time >= '2024-02-01'",
		'chunks created in a transaction'),
	2,
	'a transaction reads the chunks it created');
in_session("ROLLBACK", 'rollback');
is(in_session("SELECT count(*) FROM cc2", 'after rollback'), 2,
	'after ROLLBACK the session names none of them');

# ---- a rename and a new chunk interval by another session ---------------------------
$c->psql_ok("ALTER TABLE cc RENAME TO cc_renamed", name => 'another session renames cc');
is(in_session("SELECT count(*) FROM cc_renamed", 'renamed'), 12,
	'the session reads it under its new name');
$c->psql_ok("SELECT set_chunk_time_interval('cc_renamed', interval '7 days')",
	name => 'another session sets a 7-day chunk interval');
in_session("INSERT INTO cc_renamed VALUES ('2024-06-01 00:00+00', 1)", 'insert');
is( $c->psql_ok(
		"SELECT (ts.range_end - ts.range_start) / 86400000000 FROM _hyperdist_catalog.time_slice ts"
		  . " JOIN _hyperdist_catalog.hypertable h ON h.id = ts.hypertable_id"
		  . " WHERE h.relid = 'cc_renamed'::regclass ORDER BY ts.range_start DESC LIMIT 1"),
	7,
	"the session's next chunk spans 7 days");

$s->quit;
$c->teardown;
done_testing();
