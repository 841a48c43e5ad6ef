# SPDX-License-Identifier: PostgreSQL
# A scan abandoned part-way inside a transaction block (a LIMIT the data
# nodes cannot apply, a cursor closed early, a subtransaction's scan) stops
# on the data nodes at once, under a savepoint, instead of being read to
# its end at the next request or at COMMIT; the transaction goes on and
# commits normally, user savepoints included.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);

$c->psql_ok(
	"CREATE TABLE big (time timestamptz NOT NULL, dev int, v float8);\n"
	  . "SELECT create_distributed_hypertable('big', 'time', 'dev', chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO big SELECT '2024-01-01'::timestamptz + g * interval '1 second', g % 8, g\n"
	  . "  FROM generate_series(1, 200000) g;\n"
	  # evaluated on the access node only, so LIMIT cannot be pushed down
	  . "CREATE FUNCTION local_true(float8) RETURNS bool LANGUAGE plpgsql AS 'BEGIN RETURN true; END';",
	name => 'a distributed hypertable of 200,000 rows on two data nodes');

# A filter the data nodes evaluate, slowly (a string of megabytes built for
# each row): a scan that is not stopped runs on for minutes.
my $slow = "length(repeat(dev::text, 2000000)) > 0";

# Scans of big still running on the data nodes.
sub running_scans
{
	my $n = 0;
	for my $i (1, 2)
	{
		$n += $c->psql_ok(
			"SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
			  . " AND query LIKE '%repeat(%' AND pid <> pg_backend_pid()",
			node => $i);
	}
	return $n;
}

my $s = $c->session(app => 'hd_abandon');
my ($out, $err);

# ---- LIMIT over a filter only the access node evaluates --------------------------
($out, $err) = $s->query("BEGIN; SELECT v FROM big WHERE local_true(v) AND $slow LIMIT 1");
is($err, '', 'an early LIMIT inside a transaction block') or diag($err);
ok(poll_until(sub { running_scans() == 0 }, 20),
	'the abandoned scans stop on the data nodes before the next statement');
($out, $err) = $s->query("SELECT count(*) FROM big");
like($out, qr/\b200000\b/, 'the transaction reads on') or diag($err);
($out, $err) = $s->query("INSERT INTO big VALUES ('2024-01-02', 1, -1); COMMIT");
is($err, '', 'and commits') or diag($err);
is($c->psql_ok("SELECT count(*) FROM big WHERE v = -1"), 1, '... with its write');

# ---- inside a user savepoint, rolled back and released -----------------------------
($out, $err) = $s->query(
	"BEGIN; SAVEPOINT a; INSERT INTO big VALUES ('2024-01-02', 2, -2);\n"
	  . "SELECT v FROM big WHERE local_true(v) AND $slow LIMIT 1; ROLLBACK TO a;\n"
	  . "INSERT INTO big VALUES ('2024-01-02', 3, -3);\n"
	  . "SAVEPOINT b; SELECT v FROM big WHERE local_true(v) AND $slow LIMIT 1; RELEASE b;\n"
	  . "SELECT count(*) FROM big WHERE v < 0");
like($out, qr/^\s*2\s*$/m, 'savepoints around abandoned scans keep their meaning') or diag($err);
($out, $err) = $s->query("COMMIT");
is($err, '', 'the transaction commits') or diag($err);
is($c->psql_ok("SELECT string_agg(v::text, ',' ORDER BY v) FROM big WHERE v < 0"), '-3,-1',
	'the rolled-back write is gone, the others are there');

# ---- a cursor closed early -------------------------------------------------------------
($out, $err) = $s->query(
	"BEGIN; DECLARE cur CURSOR FOR SELECT v FROM big WHERE local_true(v) AND $slow;\n"
	  . "FETCH 3 FROM cur; CLOSE cur");
is($err, '', 'a cursor closed after three rows') or diag($err);
ok(poll_until(sub { running_scans() == 0 }, 20), '... stops its scans on the data nodes');
($out, $err) = $s->query("SELECT count(*) FROM big; COMMIT");
like($out, qr/\b200002\b/, 'the transaction goes on') or diag($err);

# ---- a scan abandoned inside a subtransaction that commits or aborts ---------------------
($out, $err) = $s->query(
	"BEGIN;\n"
	  . "DO \$\$ BEGIN PERFORM v FROM big WHERE local_true(v) AND $slow LIMIT 1; END \$\$;\n"
	  . "DO \$\$ BEGIN\n"
	  . "  PERFORM v FROM big WHERE local_true(v) AND $slow LIMIT 1;\n"
	  . "  INSERT INTO big VALUES ('2024-01-02', 4, -4);\n"
	  . "  RAISE EXCEPTION 'undo';\n"
	  . "EXCEPTION WHEN raise_exception THEN NULL; END \$\$;\n"
	  . "SELECT count(*) FROM big WHERE v < 0; COMMIT");
like($out, qr/^\s*2\s*$/m, 'subtransactions with abandoned scans commit and roll back as they should')
  or diag($err);
ok(poll_until(sub { running_scans() == 0 }, 20), 'nothing left running');
$s->quit;

done_testing();
