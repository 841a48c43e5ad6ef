# SPDX-License-Identifier: PostgreSQL
# COPY FROM into a distributed hypertable reports its rows in
# pg_stat_progress_copy while it runs, in text, CSV and binary format (the
# paths that forward rows to the data nodes without parsing every column),
# as PostgreSQL's COPY does: the source is a program that writes the rows,
# then waits, and another session reads the view meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;
use Time::HiRes qw(sleep);

my $c = HyperdistTest->new(data_nodes => 2);
my $ROWS = 20000;

$c->psql_ok(<<"SQL", name => 'a distributed hypertable and its rows in three formats');
CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);
SELECT create_distributed_hypertable('m', 'time', 'device');
INSERT INTO m SELECT '2026-01-01'::timestamptz + g * interval '1 minute', g % 4, g
  FROM generate_series(1, $ROWS) g;
SQL
my %file;
for my $format (qw(text csv binary))
{
	$file{$format} = $c->tmp . "/rows.$format";
	$c->psql_ok("COPY m TO '$file{$format}' (FORMAT $format)");
}
$c->psql_ok('TRUNCATE m');

my $s = $c->session(app => 'copy_progress');
my $total = 0;
for my $format (qw(text csv binary))
{
	# the rows, then 5 s during which COPY waits for more (it reads its
	# input in blocks: it has read all but the last one's rows by then)
	$s->send("COPY m FROM PROGRAM 'cat $file{$format}; sleep 5' (FORMAT $format)");
	my $seen = '';
	my $ok = poll_until(
		sub {
			$seen = $c->psql_ok("SELECT tuples_processed || '|' || bytes_processed"
				  . " FROM pg_stat_progress_copy WHERE relid = 'm'::regclass");
			return $seen =~ /^(\d+)\|(\d+)$/ && $1 > 0 && $2 > 0;
		},
		5, 0.1);
	ok($ok, "$format: pg_stat_progress_copy counts the rows read while COPY runs")
	  or diag("last seen: '$seen'");
	my ($out, $err) = $s->wait(60);
	is(sqlstate($err), undef, "$format: the COPY succeeded") or diag($err);
	$total += $ROWS;
	is($c->psql_ok('SELECT count(*) FROM m'), $total, "$format: its rows are there");
}

$s->quit;
$c->teardown;
done_testing();
