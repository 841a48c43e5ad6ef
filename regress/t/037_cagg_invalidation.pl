# SPDX-License-Identifier: PostgreSQL
# Continuous aggregates' invalidation log against concurrent writers
# (docs/ARCHITECTURE.md, "Continuous aggregates"): a refresh waits for the
# writers of the log rows it consumes, until their data nodes committed,
# so that the data it reads holds every change those rows announce.
#  - a writer in an open transaction: the refresh does not wait for it;
#    its row is pending after it commits, and after the next refresh the
#    aggregate equals the raw rows;
#  - a writer whose log row is committed on the access node but whose data
#    nodes have not committed yet (paused after the local commit): the
#    refresh consumes the row, waits, and reads the data nodes after their
#    commit, so the aggregate equals the raw rows at once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistTxn;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);
$c->psql_ok(<<'SQL', name => 'a hypertable and a continuous aggregate of it');
CREATE TABLE m (time timestamptz NOT NULL, dev int NOT NULL, v int);
SELECT create_distributed_hypertable('m', 'time', 'dev', chunk_time_interval => interval '1 day');
INSERT INTO m SELECT t, i % 4, i % 10
  FROM generate_series(timestamptz '2026-01-01 00:00+00', '2026-01-03 23:59+00', '15 min')
       WITH ORDINALITY AS g(t, i);
CREATE MATERIALIZED VIEW c WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', time) AS bucket, dev, count(*) AS n, sum(v) AS total
  FROM m GROUP BY 1, 2;
SQL

my $diff = <<'SQL';
SELECT count(*) FROM ((TABLE c EXCEPT ALL
  SELECT time_bucket('1 hour', time), dev, count(*), sum(v) FROM m GROUP BY 1, 2)
 UNION ALL (SELECT time_bucket('1 hour', time), dev, count(*), sum(v) FROM m GROUP BY 1, 2
  EXCEPT ALL TABLE c)) d
SQL
my $pending = 'SELECT count(*) FROM hyperdist_information.continuous_aggregate_invalidations';
is($c->psql_ok($diff), '0', 'the aggregate equals the raw rows');

# True once the session named $app waits for a heavyweight lock.
sub waits_for_lock
{
	my ($app) = @_;
	return poll_until(
		sub {
			$c->psql_ok("SELECT count(*) FROM pg_stat_activity"
				  . " WHERE application_name = '$app' AND wait_event_type = 'Lock'") eq '1';
		},
		60);
}

# ---- a writer in an open transaction -----------------------------------------------
{
	my $w = $c->session(app => 'writer');
	$w->query('BEGIN');
	$w->query("INSERT INTO m VALUES ('2026-01-02 10:20+00', 1, 1000)");
	my ($out, $err, $rc) = $c->psql("CALL refresh_continuous_aggregate('c', NULL, NULL)",
		timeout => 60);
	is(sqlstate($err), undef, 'a refresh does not wait for an open writer') or diag($err);
	($out, $err) = $w->query('COMMIT');
	is(sqlstate($err), undef, '... which commits') or diag($err);
	is($c->psql_ok($pending), '1', "... its change is pending");
	isnt($c->psql_ok($diff), '0', '... and not in the aggregate yet');
	$c->psql_ok("CALL refresh_continuous_aggregate('c', NULL, NULL)");
	is($c->psql_ok($diff), '0', '... after one more refresh the aggregate equals the raw rows');
	$w->quit;
}

# ---- a writer between its local commit and its data nodes' -------------------------
{
	my $w = $c->session(app => 'committer');
	my $r = $c->session(app => 'refresher2');
	$w->query("SET hyperdist.inject_fault = 'after_local_commit'");
	$w->query("SET hyperdist.inject_fault_action = 'pause'");
	$w->send("INSERT INTO m VALUES ('2026-01-01 05:40+00', 2, 500), ('2026-01-03 07:00+00', 3, 70)");
	ok(wait_paused($c, 'committer'), 'a writer pauses after its local commit');
	is($c->psql_ok($pending), '1', '... its log row is committed');
	$r->send("CALL refresh_continuous_aggregate('c', NULL, NULL)");
	ok(waits_for_lock('refresher2'), 'a refresh consuming it waits for the writer');
	release($c, 'committer');
	my ($out, $err) = $w->wait(60);
	is(sqlstate($err), undef, '... which finishes its commit') or diag($err);
	($out, $err) = $r->wait(60);
	is(sqlstate($err), undef, '... then the refresh ends') or diag($err);
	is($c->psql_ok($pending), '0', '... having consumed the row');
	is($c->psql_ok($diff), '0', '... and read the change: the aggregate equals the raw rows');
	$w->quit;
	$r->quit;
}

$c->teardown;
done_testing();
