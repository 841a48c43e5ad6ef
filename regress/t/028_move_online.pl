# SPDX-License-Identifier: PostgreSQL
# Chunks copied and moved online: move_chunk of a chunk of 1,000,000 rows
# while a writer inserts into that chunk and into others (one row and
# small batches, each statement its own transaction) and a reader counts;
# then copy_chunk of another chunk under the same load; then an operation
# that fails, and cleanup_copy_chunk_operation of it; then a move cancelled
# by cancelling the CALL that waits for it.
#
# Asserted: no statement of the writer or the reader fails; every count the
# reader gets lies between the writes committed before it started and those
# started before it ended, and the setup's rows are counted exactly, every
# time (never twice, never missing); afterwards the catalog and the data
# nodes themselves hold the chunk where it should be and nowhere else, with
# every committed row exactly once, and chunk_copy_operations shows the
# operation complete with its rows and bytes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use HyperdistMove;
use List::Util qw(max sum0);
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $c = HyperdistTest->new(data_nodes => 2);

# ---- setup: day 1 holds 1,000,000 rows, days 2 to 5 20,000 each ---------------
my @days = map { "2026-01-0$_" } 1 .. 5;
my $BIG = 1_000_000;
my $SMALL = 20_000;
$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, id bigint NOT NULL, tag text NOT NULL, v bigint);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', replication_factor => 1,\n"
	  . "       chunk_time_interval => interval '1 day');\n"
	  . "INSERT INTO m SELECT '2026-01-01'::timestamptz + g * interval '80 ms', g, 'setup', g\n"
	  . "  FROM generate_series(1, $BIG) g;\n"
	  . "INSERT INTO m SELECT '2026-01-02'::timestamptz + (g - 1) / $SMALL * interval '1 day'\n"
	  . "                     + (g - 1) % $SMALL * interval '4 s', $BIG + g, 'setup', $BIG + g\n"
	  . "  FROM generate_series(1, 4 * $SMALL) g;",
	name => 'hypertable m: 1,000,000 rows on day 1, 20,000 on each of days 2 to 5',
	timeout => 900);

# Rows and sum(v) of the setup, per day.
my %setup_n = ($days[0] => $BIG, map { $days[$_] => $SMALL } 1 .. 4);
my %setup_sum = ($days[0] => $BIG * ($BIG + 1) / 2);
for my $d (1 .. 4)
{
	my ($lo, $hi) = ($BIG + ($d - 1) * $SMALL + 1, $BIG + $d * $SMALL);
	$setup_sum{ $days[$d] } = ($lo + $hi) * $SMALL / 2;
}
my $setup_all_n = sum0(values %setup_n);
my $setup_all_sum = sum0(values %setup_sum);
is($c->psql_ok("SELECT count(*), sum(v) FROM m"), "$setup_all_n|$setup_all_sum",
	'every setup row read through the access node');

my %chunk_id;    # day -> chunk id
my %chunk;       # day -> chunk name
($chunk_id{$_}, $chunk{$_}) = chunk_of($c, 'm', "$_ 12:00") for @days;
is(scalar(grep { defined } values %chunk_id), 5, 'one chunk per day');

sub holder
{
	my ($day) = @_;
	my @r = replicas($c, $chunk_id{$day});
	return @r == 1 ? $r[0][0] : undef;
}
sub other { return $_[0] eq 'dn1' ? 'dn2' : 'dn1' }
sub num { my ($node) = @_; $node =~ s/^dn//; return $node }

# ---- load: a writer and a reader, each one session running statement after
# statement, logging each: start, end, ok or SQLSTATE, number, what it read.
my $stop_file = $c->tmp . '/stop';

sub loop_child
{
	my ($app, $log, $body) = @_;
	my $pid = fork() // die "fork: $!";
	return $pid if $pid;
	open my $fh, '>>', $log or POSIX::_exit(1);
	$fh->autoflush(1);
	my $s = $c->session(app => $app);
	my $n = 0;
	while (!-e $stop_file)
	{
		$n++;
		my $sql = $body->($n);
		my $t0 = time;
		my ($out, $err) = eval { $s->query($sql, 300) };
		if (!defined $out)
		{
			print $fh sprintf("%.6f %.6f died %d\n# %s", $t0, time, $n, $@);
			last;
		}
		my $t1 = time;
		my $st = sqlstate($err) // ($err =~ /ERROR/ ? 'error' : 'ok');
		$out =~ s/\s+/ /g;
		print $fh sprintf("%.6f %.6f %s %d %s\n", $t0, $t1, $st, $n, $out);
		print $fh map { "# $_\n" } split /\n/, $err if $st ne 'ok';
	}
	$s->quit;
	POSIX::_exit(0);
}

sub read_log
{
	my ($path) = @_;
	my @rows;
	open my $fh, '<', $path or return ();
	while (<$fh>)
	{
		next if /^#/;
		chomp;
		my ($t0, $t1, $st, $n, $out) = split / /, $_, 5;
		push @rows, { t0 => $t0, t1 => $t1, st => $st, n => $n, out => $out // '' };
	}
	return @rows;
}

# The rows writer statement $n of round $r inserts: ([day, id], ...).
# Every fourth is one row into $target, the next one row into another chunk,
# then 5 rows into $target, then 2 into $target and 2 into another chunk.
sub write_rows
{
	my ($r, $n, $target, @others) = @_;
	my $other = $others[ int($n / 4) % @others ];
	my $id = $r * 100_000_000 + $n * 10;
	my @shapes = ([$target], [$other], [ ($target) x 5 ], [ $target, $other, $target, $other ]);
	my @days = @{ $shapes[ $n % 4 ] };
	return map { [ $days[$_], $id + $_ ] } 0 .. $#days;
}

sub write_sql
{
	my @rows = @_;
	return "INSERT INTO m VALUES "
	  . join(', ',
		map { "('$_->[0] 23:00'::timestamptz + " . ($_->[1] % 100_000_000) . " * interval '1 ms', $_->[1], 'w', $_->[1])" }
		  @rows);
}

my $round = 0;

# Starts the writer and the reader of a round whose chunk of interest is
# the one of day $target; returns what check_load needs.
sub start_load
{
	my ($target) = @_;
	$round++;
	unlink $stop_file;
	my @others = grep { $_ ne $target } @days;
	my $r = $round;
	my %l = (
		round => $r,
		target => $target,
		others => \@others,
		wlog => $c->tmp . "/writer$r.log",
		rlog => $c->tmp . "/reader$r.log");
	$l{writer} = loop_child("hd_writer$r", $l{wlog},
		sub { write_sql(write_rows($r, $_[0], $target, @others)) });
	my $in_target = "time >= '$target' AND time < '$target'::timestamptz + interval '1 day'";
	$l{reader} = loop_child(
		"hd_reader$r",
		$l{rlog},
		sub {
			my $where = $_[0] % 2 ? "WHERE $in_target" : '';
			return "SELECT count(*), count(*) FILTER (WHERE tag = 'setup'),"
			  . " coalesce(sum(v) FILTER (WHERE tag = 'setup'), 0) FROM m $where";
		});
	ok(poll_until(sub { read_log($l{wlog}) >= 20 && read_log($l{rlog}) >= 10 }, 120),
		"round $r: the writer and the reader run");
	return \%l;
}

sub stop_load
{
	my ($l) = @_;
	open my $fh, '>', $stop_file or die;
	close $fh;
	waitpid($l->{$_}, 0) for qw(writer reader);
}

# A function of time T: the rows ($key) of the writes whose $when is before T.
sub bounds
{
	my ($when, $key, @w) = @_;
	my @sorted = sort { $a->{$when} <=> $b->{$when} } @w;
	my @prefix = (0);
	push @prefix, $prefix[-1] + $_->{$key} for @sorted;
	return sub {
		my ($t) = @_;
		my ($lo, $hi) = (0, scalar @sorted);
		while ($lo < $hi)
		{
			my $mid = int(($lo + $hi) / 2);
			if ($sorted[$mid]{$when} < $t) { $lo = $mid + 1 } else { $hi = $mid }
		}
		return $prefix[$lo];
	};
}

# Writes committed over every round: id -> day.
my %committed;

# Checks a round's logs; the operation ran from $t0 to $t1.  Returns the
# longest time a statement writing into the target chunk took while the
# operation ran.
sub check_load
{
	my ($l, $what, $t0, $t1) = @_;
	my @w = read_log($l->{wlog});
	my @r = read_log($l->{rlog});
	my $target = $l->{target};
	my @bad_w = grep { $_->{st} ne 'ok' } @w;
	my @bad_r = grep { $_->{st} ne 'ok' } @r;
	is(scalar @bad_w, 0, "$what: no statement of the writer failed (" . @w . " ran)")
	  or diag(join "\n", map { "write $_->{n}: $_->{st}" } @bad_w[0 .. ($#bad_w < 9 ? $#bad_w : 9)]);
	is(scalar @bad_r, 0, "$what: no statement of the reader failed (" . @r . " ran)")
	  or diag(join "\n", map { "read $_->{n}: $_->{st}" } @bad_r[0 .. ($#bad_r < 9 ? $#bad_r : 9)]);

	# Rows committed by earlier rounds, then rows per write statement: all
	# of them, and those in the target chunk.
	my %before = (all => scalar keys %committed,
		target => scalar grep { $committed{$_} eq $target } keys %committed);
	for my $x (@w)
	{
		my @rows = write_rows($l->{round}, $x->{n}, $target, @{ $l->{others} });
		$x->{all} = @rows;
		$x->{target} = grep { $_->[0] eq $target } @rows;
		if ($x->{st} eq 'ok')
		{
			$committed{ $_->[1] } = $_->[0] for @rows;
		}
	}
	my @during = grep { $_->{st} eq 'ok' && $_->{t1} > $t0 && $_->{t0} < $t1 } @w;
	ok((grep { $_->{target} > 0 } @during) > 0 && (grep { $_->{target} < $_->{all} } @during) > 0,
		"$what: rows were written into the chunk and into others while the operation ran");
	ok((grep { $_->{t1} > $t0 && $_->{t0} < $t1 } @r) > 0, "$what: reads ran while the operation ran");

	# Each count lies within [rows committed before the read started, rows
	# of statements started before it ended]; the setup's rows exactly.
	my %lo = map { $_ => bounds('t1', $_, grep { $_->{st} eq 'ok' } @w) } qw(all target);
	my %hi = map { $_ => bounds('t0', $_, @w) } qw(all target);
	my @bad;
	for my $x (grep { $_->{st} eq 'ok' } @r)
	{
		my $key = $x->{n} % 2 ? 'target' : 'all';
		my $lo = $lo{$key}->($x->{t0});
		my $hi = $hi{$key}->($x->{t1});
		my ($sn, $ss) = $key eq 'target'
		  ? ($setup_n{$target}, $setup_sum{$target})
		  : ($setup_all_n, $setup_all_sum);
		$lo += $before{$key};
		$hi += $before{$key};
		my ($cnt, $scnt, $ssum) = split /\|/, $x->{out};
		push @bad, "read $x->{n} ($key): '$x->{out}', expected setup $sn|$ss and [$lo, $hi] more"
		  unless defined $ssum && $scnt eq $sn && $ssum eq $ss
		  && $cnt - $sn >= $lo && $cnt - $sn <= $hi;
	}
	is(scalar @bad, 0, "$what: every count saw the setup rows exactly and every committed write, no phantom")
	  or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
	return max(0, map { $_->{t1} - $_->{t0} } grep { $_->{target} > 0 && $_->{t1} > $t0 && $_->{t0} < $t1 } @w);
}

# Rows of day $day: the setup's and the committed writes'.
sub day_rows
{
	my ($day) = @_;
	return $setup_n{$day} + grep { $committed{$_} eq $day } keys %committed;
}

# Every committed row exactly once through the access node, and on each data
# node, read there, exactly the rows of the chunks the catalog places on it.
sub check_rows
{
	my ($what) = @_;
	my $wn = keys %committed;
	my $wsum = sum0(keys %committed);
	is($c->psql_ok("SELECT count(*), count(DISTINCT id), sum(v) FILTER (WHERE tag = 'setup'),"
			  . " coalesce(sum(v) FILTER (WHERE tag = 'w'), 0), count(*) FILTER (WHERE tag = 'w') FROM m"),
		($setup_all_n + $wn) . '|' . ($setup_all_n + $wn) . "|$setup_all_sum|$wsum|$wn",
		"$what: every setup row and every committed write exactly once through the access node");
	my @bad;
	for my $day (@days)
	{
		for my $r (replicas($c, $chunk_id{$day}))
		{
			my ($node, $status) = @$r;
			next unless $status eq 'current';
			my $got = node_count($c, num($node), $chunk{$day});
			push @bad, "$chunk{$day} ($day) on $node: $got rows, expected " . day_rows($day)
			  if $got ne day_rows($day);
		}
	}
	is(scalar @bad, 0, "$what: each data node holds exactly the rows of its chunks, read there")
	  or diag(join "\n", @bad);
}

# ---- 1. move_chunk of the 1,000,000-row chunk under load -------------------------

sub op_view
{
	my ($op, $cols) = @_;
	my ($out, $err, $rc) = $c->psql(
		"SELECT $cols FROM hyperdist_information.chunk_copy_operations WHERE operation_id = '$op'");
	return $rc == 0 ? $out : "error: " . (sqlstate($err) // $err);
}

# Runs $call in a session of its own while the load of $l goes on, watching
# chunk_copy_operations for operation $op; returns (start, end, stderr,
# the stages seen while it ran).
sub run_op
{
	my ($op, $call) = @_;
	my $s = $c->session(app => 'hd_move_caller');
	my $t0 = time;
	$s->send($call);
	my %seen;
	until ($s->complete)
	{
		my $v = op_view($op, 'stage, phase, rows_copied');
		$seen{$v}++ if $v ne '';
		sleep 0.3;
	}
	my ($out, $err) = $s->wait(600);
	my $t1 = time;
	$s->quit;
	return ($t0, $t1, $err, [ sort keys %seen ]);
}

my $big = $days[0];
my $src = holder($big);
ok(defined $src, "the chunk of day 1 ($chunk{$big}) has one replica") or BAIL_OUT('no chunk to move');
my $dst = other($src);
my $l = start_load($big);
my ($t0, $t1, $err, $seen) =
  run_op('hd_move_big', "CALL move_chunk('$chunk{$big}', '$src', '$dst', operation_id => 'hd_move_big')");
is(sqlstate($err), undef, "move_chunk of $chunk{$big} from $src to $dst succeeds") or diag($err);
sleep 1;
stop_load($l);
diag(sprintf("move of %d rows: %.1f s; longest statement writing into it during the move: %.3f s",
		$BIG, $t1 - $t0, check_load($l, 'move', $t0, $t1)));
diag("seen in chunk_copy_operations while it ran:\n  " . join("\n  ", @$seen));
ok((grep { /^(planned|copying|switched)\|/ } @$seen) > 0,
	'chunk_copy_operations listed the operation, not ended, while it ran');

is(replica_string($c, $chunk_id{$big}), "$dst:current", "the catalog has the chunk on $dst only, current");
is($c->psql_ok("SELECT data_nodes FROM hyperdist_information.chunks WHERE chunk_name = '"
		  . (split /\./, $chunk{$big})[1] . "'"),
	"{$dst}", 'hyperdist_information.chunks shows it on the destination');
ok(!grep({ $_ eq $chunk{$big} } @{ node_tables($c, num($src)) // [ $chunk{$big} ] }),
	"the source's table is gone from $src");
is(node_count($c, num($dst), $chunk{$big}), day_rows($big),
	"$dst holds the chunk's 1,000,000 rows and every write committed into it");
my %op = op_row($c, 'hd_move_big');
is(join('|', @op{qw(completed_stage source_node_name dest_node_name delete_on_source_node)}),
	"complete|$src|$dst|true", 'the operation is recorded complete, a move');
isnt($op{time_end}, '', 'with its end time');
is(op_view('hd_move_big',
		"stage, kind, source_node, destination_node, rows_copied >= $BIG, bytes_copied > 0, time_end IS NOT NULL"),
	"complete|move|$src|$dst|t|t|t",
	'chunk_copy_operations: complete, with the rows and bytes copied');
check_rows('after the move');
check_no_orphans($c, 'after the move: every data node holds exactly the chunk tables of the catalog');

# ---- 2. copy_chunk under load --------------------------------------------------------

my $cp = $days[1];
my $csrc = holder($cp);
my $cdst = other($csrc);
$l = start_load($cp);
($t0, $t1, $err, $seen) =
  run_op('hd_copy_day2', "CALL copy_chunk('$chunk{$cp}', '$csrc', '$cdst', operation_id => 'hd_copy_day2')");
is(sqlstate($err), undef, "copy_chunk of $chunk{$cp} from $csrc to $cdst succeeds") or diag($err);
sleep 1;
stop_load($l);
check_load($l, 'copy', $t0, $t1);
is(replica_string($c, $chunk_id{$cp}), join(' ', map { "$_:current" } sort($csrc, $cdst)),
	'the copied chunk has a current replica on both nodes');
is(node_count($c, num($csrc), $chunk{$cp}) . ',' . node_count($c, num($cdst), $chunk{$cp}),
	day_rows($cp) . ',' . day_rows($cp), 'both replicas hold every row of the chunk');
is(op_view('hd_copy_day2', 'stage, kind, rows_copied > 0'), 'complete|copy|t',
	'chunk_copy_operations: the copy complete');
check_rows('after the copy');
$c->psql_ok(write_sql([ $cp, 900_000_001 ]), name => 'a write into the copied chunk');
$committed{900_000_001} = $cp;
is(node_count($c, num($csrc), $chunk{$cp}) . ',' . node_count($c, num($cdst), $chunk{$cp}),
	day_rows($cp) . ',' . day_rows($cp), 'reaches both replicas');
is($c->psql_ok("SELECT count(*) FROM m WHERE time >= '$cp' AND time < '$cp'::timestamptz + interval '1 day'"),
	day_rows($cp), 'a read of the copied chunk counts each row once');
check_no_orphans($c, 'after the copy: every data node holds exactly the chunk tables of the catalog');

# ---- 3. refusals, a failed operation and its cleanup -------------------------------

my $fd = $days[2];
my $fsrc = holder($fd);
my $fdst = other($fsrc);
$c->psql_error("CALL move_chunk('$chunk{$cp}', '$csrc', '$cdst')", '55000',
	'move_chunk to a node that already holds the chunk: 55000');
$c->psql_error("CALL move_chunk('$chunk{$fd}', '$fdst', '$fsrc')", '55000',
	'move_chunk from a node without a replica: 55000');
$c->psql_error("CALL move_chunk('$chunk{$fd}', '$fsrc', 'no_such_node')", '42704',
	'move_chunk to an unknown node: 42704');
$c->psql_error("BEGIN; CALL move_chunk('$chunk{$fd}', '$fsrc', '$fdst'); COMMIT;", qr/^(25001|2D000)$/,
	'move_chunk in a transaction block fails');
$c->psql_error("CALL cleanup_copy_chunk_operation('hd_no_such_operation')", qr/^(42704|22023|55000)$/,
	'cleanup_copy_chunk_operation of an unknown operation fails');
is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk_copy_operation"
		  . " WHERE completed_stage NOT IN ('complete', 'failed', 'cancelled')"),
	'0', 'the refused calls left no operation under way');

# A table of the same name on the destination, not the chunk's: the copy
# must fail, and neither it nor its cleanup may touch that table.
$c->psql_ok("CREATE TABLE $chunk{$fd} (x int); INSERT INTO $chunk{$fd} VALUES (42);", node => num($fdst));
my $ferr = $c->psql_error("CALL copy_chunk('$chunk{$fd}', '$fsrc', '$fdst', operation_id => 'hd_copy_fails')",
	qr/^[0-9A-Z]{5}$/, 'copy_chunk onto a node where another table of that name exists fails');
ok(wait_op_ended($c, 'hd_copy_fails'), 'the failed operation has ended');
%op = op_row($c, 'hd_copy_fails');
is("$op{completed_stage}|$op{error_code}", 'failed|' . (sqlstate($ferr) // ''),
	'recorded failed, with the SQLSTATE the CALL raised');
$c->psql_ok("CALL cleanup_copy_chunk_operation('hd_copy_fails')",
	name => 'cleanup_copy_chunk_operation of the failed operation');
is(op_stage($c, 'hd_copy_fails'), 'failed', 'which stays failed');
is(replica_string($c, $chunk_id{$fd}), "$fsrc:current", 'the chunk keeps its one replica');
is(($c->psql("SELECT x FROM $chunk{$fd}", node => num($fdst)))[0], '42',
	'the table that was in the way is untouched');
is(node_count($c, num($fsrc), $chunk{$fd}), day_rows($fd), 'the source still holds every row');
$c->psql_ok("DROP TABLE IF EXISTS $chunk{$fd}", node => num($fdst));
check_no_orphans($c, 'after the failed operation: nothing left behind');
$c->psql_ok("CALL move_chunk('$chunk{$fd}', '$fsrc', '$fdst', operation_id => 'hd_move_after_fail')",
	name => 'the chunk moves once the way is clear', timeout => 600);
is(replica_string($c, $chunk_id{$fd}), "$fdst:current", 'and is on the destination only');

# ---- 4. a move cancelled by cancelling its CALL ------------------------------------

my $s = $c->session(app => 'hd_move_cancel');
$s->send("CALL move_chunk('$chunk{$big}', '$dst', '$src', operation_id => 'hd_move_cancelled')");
ok(poll_until(sub { op_view('hd_move_cancelled', "phase = 'copying rows' AND rows_copied > 0") eq 't' }, 120, 0.1),
	'a move of the big chunk back is copying rows');
$c->psql_ok("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'hd_move_cancel'");
my ($cout, $cerr) = $s->wait(300);
$s->quit;
is(sqlstate($cerr), '57014', 'its CALL, cancelled, raises 57014') or diag($cerr);
ok(wait_op_ended($c, 'hd_move_cancelled'), 'the operation has ended');
is(op_stage($c, 'hd_move_cancelled'), 'cancelled', 'cancelled');
is(replica_string($c, $chunk_id{$big}), "$dst:current", 'the chunk stays where it was, its only replica');
is(node_count($c, num($dst), $chunk{$big}), day_rows($big), 'with every row');
check_rows('at the end');
check_no_orphans($c, 'at the end: every data node holds exactly the chunk tables of the catalog');
is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk_data_node WHERE status <> 'current'"),
	'0', 'no copying or retired replica is left');
ok(poll_until(sub { $c->prepared_xacts(1) == 0 && $c->prepared_xacts(2) == 0 }, 60),
	'no prepared transaction is left on the data nodes');

$c->teardown;
done_testing();
