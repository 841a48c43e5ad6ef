# SPDX-License-Identifier: PostgreSQL
# drop_chunks against concurrent reads and writes.  With replication factor
# 2 a read names the chunks it reads on each data node (the replicas it
# reads there); drop_chunks must not drop a chunk between the read's plan
# and its remote statement (the statement failed with 42P01).  A read locks
# the chunks it names, drop_chunks locks the chunks it drops before dropping
# anything: whichever comes first waits for the other, and a statement that
# waited plans again without the dropped chunks.  A writer to a chunk being
# dropped waits the same way and then creates the chunk again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistTxn;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
$c->psql_ok(<<'SQL', name => 'a hypertable with replication factor 2, three daily chunks');
CREATE TABLE m (time timestamptz NOT NULL, v int);
SELECT create_distributed_hypertable('m', 'time', chunk_time_interval => interval '1 day',
  replication_factor => 2);
INSERT INTO m SELECT t, 1 FROM generate_series(timestamptz '2024-01-01 00:00+00',
  '2024-01-03 23:59+00', interval '30 min') t;
SQL
is($c->psql_ok('SELECT count(*) FROM m'), '144', 'the rows are there');
like($c->psql_ok("EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM m"), qr/tableoid IN/,
	'each node reads the chunks it is primary for, by name');

# Whether the session named $app waits for a lock on the access node.
sub waits_for_lock
{
	my ($app) = @_;
	return poll_until(
		sub {
			my ($out, $err, $rc) = $c->psql(
				"SELECT count(*) FROM pg_stat_activity "
				  . "WHERE application_name = '$app' AND wait_event_type = 'Lock'");
			return $rc == 0 && $out eq '1';
		},
		60);
}

# ---- a read planned before drop_chunks ------------------------------------------
{
	my $reader = $c->session(app => 'reader');
	my $dropper = $c->session(app => 'dropper');
	$reader->query("SET hyperdist.inject_fault = 'scan_planned'");
	$reader->query("SET hyperdist.inject_fault_action = 'pause'");
	$reader->send('SELECT count(*) FROM m');
	ok(wait_paused($c, 'reader'), 'a read pauses after choosing its chunks');
	$dropper->send("SELECT count(*) FROM drop_chunks('m', older_than => timestamptz '2024-01-02 00:00+00')");
	ok(waits_for_lock('dropper'), '... drop_chunks waits for the read');
	release($c, 'reader');
	my ($out, $err) = $reader->wait(120);
	is(sqlstate($err), undef, '... the read succeeds') or diag($err);
	is($out, '144', '... and counts every row it planned to read');
	($out, $err) = $dropper->wait(120);
	is(sqlstate($err), undef, '... then drop_chunks succeeds') or diag($err);
	is($out, '1', '... and drops the oldest chunk');
	$reader->quit;
	$dropper->quit;
}
is($c->psql_ok('SELECT count(*) FROM m'), '96', 'the oldest day is gone');

# ---- a read planned while drop_chunks is uncommitted -----------------------------
{
	my $dropper = $c->session(app => 'dropper');
	my $reader = $c->session(app => 'reader');
	$dropper->query('BEGIN');
	my ($out, $err) =
	  $dropper->query("SELECT count(*) FROM drop_chunks('m', older_than => timestamptz '2024-01-03 00:00+00')");
	is($out, '1', 'an uncommitted drop_chunks drops the second day') or diag($err);
	$reader->send('SELECT count(*), min(time) FROM m');
	ok(waits_for_lock('reader'), '... a read of it waits');
	$dropper->query('COMMIT');
	($out, $err) = $reader->wait(120);
	is(sqlstate($err), undef, '... and succeeds once the drop commits') or diag($err);
	is($out, '48|2024-01-03 00:00:00+00', '... without the dropped chunk');
	$reader->quit;
	$dropper->quit;
}

# ---- a write into a chunk being dropped -------------------------------------------
{
	my $dropper = $c->session(app => 'dropper');
	my $writer = $c->session(app => 'writer');
	$dropper->query('BEGIN');
	my ($out, $err) =
	  $dropper->query("SELECT count(*) FROM drop_chunks('m', older_than => timestamptz '2024-01-04 00:00+00')");
	is($out, '1', 'an uncommitted drop_chunks drops the last day') or diag($err);
	$writer->send("INSERT INTO m VALUES ('2024-01-03 12:00+00', 2)");
	ok(waits_for_lock('writer'), '... a write into it waits');
	$dropper->query('COMMIT');
	($out, $err) = $writer->wait(120);
	is(sqlstate($err), undef, '... and succeeds once the drop commits') or diag($err);
	$writer->quit;
	$dropper->quit;
}
is($c->psql_ok('SELECT count(*), sum(v) FROM m'), '1|2', 'only the row written after the drop is left');
is($c->psql_ok('SELECT count(*) FROM show_chunks(\'m\')'), '1', '... in a chunk created again');

# ---- the lock is for the hypertable's owner, on its own chunks ---------------------
$c->psql_ok(<<'SQL');
CREATE ROLE intruder LOGIN;
CALL distributed_exec($$CREATE ROLE intruder LOGIN$$);
CREATE TABLE other (time timestamptz NOT NULL, v int);
SELECT create_distributed_hypertable('other', 'time', replication_factor => 1);
ALTER TABLE other OWNER TO intruder;
SQL
my $ids = $c->psql_ok("SELECT array_agg(id) FROM _hyperdist_catalog.chunk");
$c->psql_error("SET ROLE intruder; SELECT _hyperdist_functions.lock_dropped_chunks('m', '$ids')",
	'42501', "a role may not lock another's hypertable's chunks");
my $s = $c->session(app => 'intruder');
$s->query('SET ROLE intruder');
$s->query('BEGIN');
$s->query("SELECT _hyperdist_functions.lock_dropped_chunks('other', '$ids')");
$c->psql_ok("SET lock_timeout = '10s'; INSERT INTO m VALUES ('2024-01-03 13:00+00', 3)",
	name => '... nor lock them through a hypertable of its own');
$s->query('ROLLBACK');
$s->quit;

done_testing();
