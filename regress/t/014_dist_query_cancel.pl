# SPDX-License-Identifier: PostgreSQL
# Queries on a distributed hypertable stopped part-way: statement_timeout
# and pg_cancel_backend end a pushed-down aggregate and a streaming scan
# with 57014 on the access node and nothing left running on the data
# nodes; the session goes on working, inside and outside a transaction.
# Cursors read a distributed hypertable in pieces; a data node's error
# names the node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 2);

$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, dev int, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', 'dev', chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2024-01-01'::timestamptz + g * interval '10 seconds', g % 8, g\n"
	  . "  FROM generate_series(1, 40000) g;",
	name => 'a distributed hypertable with 40,000 rows on two data nodes');

# Shippable (immutable) but slow: a string of megabytes built for each row
# on the data node.
my $slow = "length(repeat(dev::text, 2000000)) > 0";

sub slow_on_dns
{
	return $c->dn_activity(1, '%repeat(%') + $c->dn_activity(2, '%repeat(%');
}

# ---- statement_timeout: aggregate pushed down, and a streaming scan -------------------
my $t = $c->session(app => 'hd_timeout');
for my $q ("SELECT dev, count(*) FROM m WHERE $slow GROUP BY dev",
	"SELECT v FROM m WHERE $slow")
{
	my $what = substr($q, 0, 30);
	$t->send("SET statement_timeout = '4s'; $q");
	ok(poll_until(sub { slow_on_dns() == 2 }, 30), "runs on both data nodes: $what");
	my ($out, $e) = $t->wait(120);
	is(sqlstate($e), '57014', "statement_timeout: 57014 for $what") or diag($e);
	ok(poll_until(sub { slow_on_dns() == 0 }, 30),
		'nothing left running on the data nodes');
}
$t->quit;
my ($out, $e);

# ---- how rows travel: scans run as COPY on the nodes ------------------------------------
# (the agent forwards COPY data without unpacking rows); COPY takes no
# parameters, so a value computed on the access node (now()) is written
# into the statement as a literal.
my $r = $c->session(app => 'hd_copy_mode');
for my $case (["SELECT v FROM m WHERE $slow", 'COPY (SELECT %repeat(%'],
	["SELECT v FROM m WHERE $slow AND time < now() - interval '1 day'",
		q{COPY (SELECT %"time" OPERATOR(pg_catalog.<) ''2%''::timestamp with time zone)%}])
{
	my ($q, $pattern) = @$case;
	$r->send("SET statement_timeout = '4s'; $q");
	ok(poll_until(sub { $c->dn_activity(1, $pattern) + $c->dn_activity(2, $pattern) == 2 }, 30),
		"runs on both data nodes as $pattern");
	my ($out, $e) = $r->wait(120);
	is(sqlstate($e), '57014', '... until statement_timeout') or diag($e);
	ok(poll_until(sub { slow_on_dns() == 0 }, 30), '... and then stops there');
}
($out, $e) = $r->query("SELECT count(*), sum(v) FROM m WHERE v > 39990");
is($out, '10|399955', 'the same session reads rows as COPY afterwards') or diag($e);

# At READ COMMITTED a scan runs on a node as a statement of its own, in a
# transaction block too, unless the block has a remote transaction there
# (it wrote there): then it joins it, under its savepoint.  Told by what
# dn1 ran just before the scan, in its statement log.
$c->psql_ok("ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf()",
	node => 1, db => 'postgres');
($out, $e) = $r->query("SELECT count(*) FROM m WHERE v >= 12345.5");
is($out, '27655', 'a scan alone') or diag($e);
($out, $e) = $r->query("BEGIN; SELECT count(*) FROM m WHERE v >= 23456.5; COMMIT");
is($out, '16544', 'a scan in a transaction block') or diag($e);
($out, $e) = $r->query("BEGIN; INSERT INTO m SELECT '2024-03-01', d, -1 FROM generate_series(0, 7) d;"
	  . " SELECT count(*) FROM m WHERE v >= 34567.5; ROLLBACK");
is($out, '5433', 'a scan in a transaction block that wrote on both nodes') or diag($e);
$c->psql_ok("ALTER SYSTEM RESET log_statement; SELECT pg_reload_conf()",
	node => 1, db => 'postgres');

# The statement dn1's backend ran before the one holding $marker.
sub statement_before
{
	my ($marker) = @_;
	my (%last, $before);
	for my $line (split /\n/, HyperdistTest::slurp($c->log_path('dn1')))
	{
		next unless $line =~ /\[(\d+)\].*(?:statement|execute [^:]*): (.*)/;
		my ($pid, $sql) = ($1, $2);
		$before = $last{$pid} if index($sql, $marker) >= 0;
		$last{$pid} = $sql;
	}
	return $before // '(none)';
}
unlike(statement_before('12345.5'), qr/^(START TRANSACTION|SAVEPOINT)/,
	'... runs as a statement of its own on the node');
unlike(statement_before('23456.5'), qr/^(START TRANSACTION|SAVEPOINT)/,
	'... in a block too, on a node it did not write');
is(statement_before('34567.5'), 'SAVEPOINT hyperdist_scan',
	'... and joins the remote transaction of a node it wrote');
$r->quit;

# ---- pg_cancel_backend mid-stream, inside a transaction ----------------------------------
my $s = $c->session(app => 'hd_cancel_query');
($out, $e) = $s->query("BEGIN; INSERT INTO m VALUES ('2024-03-01', 1, -1)");
is(sqlstate($e), undef, 'a write in an open transaction') or diag($e);
$s->send("SELECT v FROM m WHERE $slow");
ok(poll_until(sub { slow_on_dns() == 2 }, 60), 'the scan runs on both data nodes');
my $pid = $c->psql_ok(
	"SELECT pid FROM pg_stat_activity WHERE application_name = 'hd_cancel_query'");
is($c->psql_ok("SELECT pg_cancel_backend($pid)"), 't', 'pg_cancel_backend');
($out, $e) = $s->wait(120);
is(sqlstate($e), '57014', 'the cancelled scan ends with 57014') or diag($e);
ok(poll_until(sub { slow_on_dns() == 0 }, 30), 'the data nodes stopped the scan');
($out, $e) = $s->query('ROLLBACK');
is($c->psql_ok('SELECT count(*) FROM m WHERE v = -1'), '0',
	'the rolled-back write is nowhere');
($out, $e) = $s->query('SELECT count(*), sum(v) FROM m');
is($out, '40000|800020000', 'the session reads every row afterwards') or diag($e);

# ---- cursors ---------------------------------------------------------------------------
($out, $e) = $s->query("BEGIN;\n"
	  . "DECLARE cur CURSOR FOR SELECT v FROM m WHERE dev = 3 ORDER BY time;\n"
	  . "FETCH 3 FROM cur;\nFETCH 2 FROM cur;\nMOVE 4990 IN cur;\nFETCH 10 FROM cur;\n"
	  . "CLOSE cur;\nCOMMIT");
is($out, join("\n", 3, 11, 19, 27, 35, 39963, 39971, 39979, 39987, 39995),
	'a cursor reads the rows in order, in pieces, to the end') or diag($e);
($out, $e) = $s->query("BEGIN;\n"
	  . "DECLARE agg CURSOR FOR SELECT dev, count(*) FROM m GROUP BY dev ORDER BY dev;\n"
	  . "FETCH 2 FROM agg;\nCLOSE agg;\nCOMMIT");
is($out, "0|5000\n1|5000", 'a cursor over a pushed-down aggregate') or diag($e);

# ---- a data node's error names it ------------------------------------------------------------
my $err = $c->psql_error('SELECT sum(1 / (dev - dev)) FROM m WHERE dev = 2', '22012',
	'division by zero on a data node: 22012');
like($err, qr/data node "dn\d"/, 'the error names the data node');

$s->quit;
$c->teardown;
done_testing();
