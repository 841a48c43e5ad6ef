# SPDX-License-Identifier: PostgreSQL
# Rows larger than a reply frame (16 MB) travel from a data node in
# fragments (protocol 1.3), which the access node joins.  Two distributed
# hypertables, replication factor 1 and 2, hold small rows around a 20 MB
# value written through the access node and a 100 MB one written on the data
# nodes directly.  Every kind of read brings them back whole: scans (binary
# COPY rows) whose values are checked on the access node, a scan read ahead
# while another request runs on its session, text rows (data_node_query,
# ANALYZE's sample), COPY TO, in and out of a transaction block, and after
# a read that stopped in the middle of a row.  A write of a row larger than
# a request frame (64 MB) fails with 54000 and applies nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;
use Digest::MD5 qw(md5_hex);

my $c = HyperdistTest->new(data_nodes => 2);

# 20 MB and 100 MB of distinct text (32-byte md5 strings)
my $V20 = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 655360) g)";
my $V100 = "(SELECT string_agg(md5((-g)::text), '') FROM generate_series(1, 3276800) g)";
my @ROWS = ("(1, 'first')", "(2, $V20)", "(3, 'middle')", "(4, $V100)", "(5, 'last')");

# "id|length|md5" lines of every row, computed here from the values alone
my $want = $c->psql_ok(
	"SELECT string_agg(id || '|' || length(v) || '|' || md5(v), E'\\n' ORDER BY id)"
	  . " FROM (VALUES " . join(', ', @ROWS) . ") r(id, v)");
like($want, qr/^4\|104857600\|/m, 'the expected rows are computed');

# md5 on the access node: a function of this database is never shipped, so
# the value itself must reach the access node
$c->psql_ok(<<'SQL', name => 'an_md5() and an_check() exist on the access node only');
CREATE FUNCTION an_md5(text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RETURN md5($1); END $$;
CREATE FUNCTION an_check(id int) RETURNS int LANGUAGE plpgsql
  AS $$ BEGIN IF id = 1 THEN RAISE EXCEPTION 'stop at row %', id; END IF; RETURN id; END $$;
SQL

my $READ = "SELECT id, length(v), an_md5(v) FROM %s ORDER BY id";
my $s = $c->session(app => 'large_rows');

# Runs $sql in the long-lived session, which must succeed; returns stdout.
sub in_session
{
	my ($sql, $name) = @_;
	my ($out, $err) = $s->query($sql, 600);
	is(sqlstate($err), undef, "$name: no error") or diag($err);
	return $out;
}

# "id|length|md5" lines of COPY text output with columns id and v
sub copy_lines
{
	my ($out) = @_;
	return join("\n",
		map { my ($id, $v) = split /\t/, $_, 2; "$id|" . length($v) . '|' . md5_hex($v) }
		  sort { ($a =~ /^(\d+)/)[0] <=> ($b =~ /^(\d+)/)[0] } split /\n/, $out);
}

for my $rf (1, 2)
{
	my $t = "big$rf";

	$c->psql_ok(<<"SQL", name => "$t: replication factor $rf, small rows and a 20 MB one through the access node");
CREATE TABLE $t (time timestamptz NOT NULL, id int, v text);
SELECT create_distributed_hypertable('$t', 'time', chunk_time_interval => interval '1 day',
  replication_factor => $rf);
INSERT INTO $t SELECT '2024-01-01'::timestamptz + id * interval '1 hour', id, v
  FROM (VALUES $ROWS[0], $ROWS[2], $ROWS[4]) r(id, v);
INSERT INTO $t SELECT '2024-01-01 02:00+00', 2, $V20;
SQL
	$c->psql_ok(
		"CALL distributed_exec(\$\$INSERT INTO $t SELECT '2024-01-01 04:00+00', 4, $V100"
		  . " WHERE EXISTS (SELECT FROM $t WHERE id = 1)\$\$)",
		name => "$t: a 100 MB row written on the data nodes holding the chunk",
		timeout => 600);

	my $plan = $c->psql_ok("EXPLAIN (VERBOSE, COSTS OFF) " . sprintf($READ, $t));
	like($plan, qr/Remote SQL: SELECT .*\bv\b/, "$t: the scan fetches the values");
	unlike($plan, qr/Remote SQL: .*md5/, '... and computes no md5 on the data node');

	# ---- scans ------------------------------------------------------------------
	is(in_session(sprintf($READ, $t), "$t: scan"), $want,
		"$t: every row whole, checked on the access node");
	is(in_session("SELECT string_agg(v, ',' ORDER BY id) FROM $t WHERE length(v) < 10",
			"$t: small rows after"),
		'first,middle,last', '... then small rows on the same session');
	is( in_session(
			"BEGIN; SELECT count(*) FROM $t WHERE id = 3; " . sprintf($READ, $t)
			  . "; SELECT v FROM $t WHERE id = 5; COMMIT",
			"$t: in a transaction block"),
		"1\n$want\nlast",
		'... in a transaction block, between small reads');
	# The subquery's request on the same session makes the outer scan read
	# the rest of its rows (fragments included) ahead into memory.
	is( in_session(
			"SELECT string_agg(r, E'\\n' ORDER BY r) FROM (SELECT a.id || '|' || length(a.v)"
			  . " || '|' || an_md5(a.v) || '|' || (SELECT count(*) FROM $t b WHERE b.id = a.id) AS r"
			  . " FROM $t a) s",
			"$t: read ahead"),
		join("\n", sort map { "$_|1" } split /\n/, $want),
		'... and read ahead while the session runs another request');

	# ---- a read that stops in the middle -----------------------------------------------
	# (of the rows up to the 20 MB one, which the data node reads faster)
	my $read3 = sprintf($READ, "$t WHERE id <= 3");
	my $want3 = join("\n", (split /\n/, $want)[0 .. 2]);
	my ($out, $err) = $s->query("SELECT an_check(id), an_md5(v) FROM $t WHERE id <= 3");
	like($err, qr/stop at row 1/, "$t: a scan stopped by an error while rows are in flight");
	is(in_session($read3, "$t: after the error"), $want3, '... the next scan reads every row whole');
	($out, $err) = $s->query("BEGIN; SELECT an_check(id), an_md5(v) FROM $t WHERE id <= 3");
	like($err, qr/stop at row 1/, '... the same in a transaction block');
	in_session("ROLLBACK", "$t: rollback");
	my $first = in_session("BEGIN; DECLARE cur CURSOR FOR SELECT id, length(v), an_md5(v)"
		  . " FROM $t WHERE id <= 3; FETCH 1 FROM cur", "$t: cursor");
	ok((grep { $_ eq $first } split /\n/, $want3), '... a cursor fetches a row whole');
	is(in_session("CLOSE cur; $read3; COMMIT", "$t: cursor closed early"),
		$want3, '... and after it is closed early in the transaction (the rest is drained)');

	# ---- text rows, COPY, ANALYZE ----------------------------------------------------------
	my $dnq = join(' UNION ALL ',
		map { "SELECT * FROM _hyperdist_functions.data_node_query('dn$_', 'SELECT id, v FROM $t') AS r(id int, v text)" }
		  ($rf == 1 ? (1, 2) : (1)));
	is(in_session("SELECT string_agg(id || '|' || length(v) || '|' || an_md5(v), E'\\n' ORDER BY id) FROM ($dnq) q",
			"$t: data_node_query"),
		$want, "$t: data_node_query returns every row whole (text rows)");

	# (psql of its own: the session's reader is not made for 100 MB lines)
	is(copy_lines($c->psql_ok("COPY $t (id, v) TO STDOUT", timeout => 600)),
		$want, "$t: COPY TO, every row whole");
	is( copy_lines(
			$c->psql_ok("BEGIN; COPY (SELECT id, v FROM $t WHERE id > 1) TO STDOUT; COMMIT",
				timeout => 600)),
		join("\n", (split /\n/, $want)[1 .. 4]),
		"$t: COPY (SELECT ...) TO in a transaction block, every row whole");

	in_session("ANALYZE $t", "$t: ANALYZE");
	is(in_session("SELECT reltuples FROM pg_class WHERE oid = '$t'::regclass", "$t: statistics"),
		5, '... samples every row');
	is( in_session(
			"BEGIN; ANALYZE $t; SELECT count(*) FROM $t WHERE id = 5; COMMIT",
			"$t: ANALYZE in a transaction block"),
		1, '... also in a transaction block');
}

# ---- writes larger than a request frame ---------------------------------------------------
# 64 MB is the largest request an agent takes: a row beyond it fails before
# it is sent, with the limit named, and the statement applies nothing, also
# what it sent other data nodes before.
my $BIG = "repeat('x', 70 * 1024 * 1024)";
for my $t ('big1', 'big2')
{
	my $err = $c->psql_error("INSERT INTO $t VALUES ('2024-02-01', 10, $BIG)",
		'54000', "$t: INSERT of a 70 MB row fails with 54000");
	like($err, qr/request for data node "dn\d" is too large/, '... saying why');
	like($err, qr/the limit is 67108864 bytes/, '... naming the limit');

	# 17 rows of 1 MB fill and send a batch before the big row comes, for
	# a chunk of another day
	$c->psql_error(
		"INSERT INTO $t SELECT CASE WHEN g <= 17 THEN '2024-02-02'::timestamptz ELSE '2024-02-09' END"
		  . " + g * interval '1 minute', 100 + g,"
		  . " CASE WHEN g <= 17 THEN repeat('s', 1024 * 1024) ELSE $BIG END"
		  . " FROM generate_series(1, 18) g ORDER BY g",
		'54000', "$t: a statement whose last row is too large fails");

	open my $copy, '>', $c->tmp . "/copy.txt" or die $!;
	print $copy "2024-02-03 00:00:00+00\t20\tsmall\n", "2024-02-03 01:00:00+00\t21\t", 'y' x (70 * 1024 * 1024),
	  "\n";
	close $copy;
	$c->psql_error("COPY $t FROM '" . $c->tmp . "/copy.txt'", '54000',
		"$t: COPY FROM of a 70 MB row fails with 54000");

	my $s2 = $c->session(app => 'large_writes');
	my ($out, $e) = $s2->query("BEGIN; INSERT INTO $t VALUES ('2024-02-04', 30, 'kept'); SAVEPOINT s");
	is(sqlstate($e), undef, "$t: a transaction writes a row") or diag($e);
	($out, $e) = $s2->query("INSERT INTO $t VALUES ('2024-02-04', 31, $BIG)");
	is(sqlstate($e), '54000', '... a 70 MB row in a subtransaction fails');
	($out, $e) = $s2->query("ROLLBACK TO SAVEPOINT s; COMMIT");
	is(sqlstate($e), undef, '... which rolls back alone') or diag($e);
	$s2->quit;

	is($c->psql_ok("SELECT string_agg(id::text, ',' ORDER BY id) FROM $t WHERE id >= 10"),
		'30', "$t: nothing of the failed writes is there, the committed row is");
	for my $i (1, 2)
	{
		is($c->psql_ok("SELECT count(*) FROM $t WHERE id >= 10 AND id <> 30", node => $i),
			0, "$t: ... nor on dn$i");
	}

	# A row below the limit goes, whatever was batched before it.
	my $v60 = "repeat('0123456789abcdef', 60 * 65536)";
	$c->psql_ok(
		"INSERT INTO $t SELECT '2024-02-05'::timestamptz + g * interval '1 minute', 200 + g,"
		  . " CASE WHEN g <= 15 THEN repeat('s', 1024 * 1024) ELSE $v60 END"
		  . " FROM generate_series(1, 16) g ORDER BY g",
		name => "$t: 15 MB of rows, then a 60 MB one, in one statement");
	is( $c->psql_ok("SELECT count(*), sum(length(v)), max(an_md5(v)) FILTER (WHERE id = 216)"
			  . " FROM $t WHERE id > 200"),
		'16|' . (75 * 1024 * 1024) . '|' . $c->psql_ok("SELECT md5($v60)"),
		'... all of it is there, the 60 MB row whole');
}

$s->quit;
done_testing();
