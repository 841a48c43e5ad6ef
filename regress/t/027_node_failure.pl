# SPDX-License-Identifier: PostgreSQL
# A data node fails while a reader and a writer run, with replication factor 2
# on 3 data nodes: its agent killed, its PostgreSQL killed, its agent hung
# (SIGSTOP), and at last the node gone for good and deleted with force.
# For each: no read that started after the failure fails, no write fails but
# those in flight when it happened, and once the node is back (or deleted)
# every committed row is there exactly once, every replica of every chunk is
# identical to its peers, and no replica stays stale.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();

my $c = HyperdistTest->new(data_nodes => 3);

$c->psql_ok(
	"ALTER SYSTEM SET hyperdist.health_check_interval = '200ms';\n"
	  . "ALTER SYSTEM SET hyperdist.node_failure_timeout = '1s';\n"
	  . "ALTER SYSTEM SET hyperdist.connect_timeout = 2;\n"
	  . "SELECT pg_reload_conf();",
	name => 'fast failure detection for the test');
$c->psql_ok(
	"CREATE TABLE m (time timestamptz NOT NULL, device int, id bigint, v float8);\n"
	  . "SELECT create_distributed_hypertable('m', 'time', 'device', replication_factor => 2,\n"
	  . "       chunk_time_interval => interval '1 hour');\n"
	  . "INSERT INTO m SELECT '2026-01-01'::timestamptz + g * interval '1 minute', g % 6, -g, g\n"
	  . "  FROM generate_series(1, 3000) g;",
	name => 'rf 2 hypertable on 3 nodes with 3000 rows');

# ---- load: a writer and a reader, each a loop of statements ----------------------
# Each logs one line per statement: start, end, ok|SQLSTATE, and what it saw.
my $stop_file = $c->tmp . '/stop';

sub loop_child
{
	my ($log, $body) = @_;
	my $pid = fork() // die "fork: $!";
	return $pid if $pid;
	open my $fh, '>>', $log or POSIX::_exit(1);
	$fh->autoflush(1);
	my $n = 0;
	while (!-e $stop_file)
	{
		$n++;
		my $t0 = time;
		my ($out, $err, $rc) = $body->($n);
		my $st = $rc == 0 ? 'ok' : (sqlstate($err) // "exit$rc");
		$out =~ s/\s+/ /g;
		print $fh sprintf("%.3f %.3f %s %d %s\n", $t0, time, $st, $n, $out);
		print $fh map { "# $_\n" } split /\n/, $err if $rc != 0;
	}
	POSIX::_exit(0);
}

my $round = 0;

# Starts the writer (ids $round*1e6 + n, one row per statement, spread over
# new time ranges so that chunks are created during the failure) and the
# reader; returns their pids and logs.
sub start_load
{
	$round++;
	unlink $stop_file;
	my $base = $round * 1_000_000;
	my %l = (wlog => $c->tmp . "/writer$round.log", rlog => $c->tmp . "/reader$round.log");
	$l{writer} = loop_child(
		$l{wlog},
		sub {
			my ($n) = @_;
			my $id = $base + $n;
			return $c->psql(
				"INSERT INTO m VALUES ('2026-02-01'::timestamptz + interval '$round day'"
				  . " + $n * interval '1 minute', $n % 6, $id, $n)",
				timeout => 120);
		});
	$l{reader} = loop_child(
		$l{rlog},
		sub {
			my ($n) = @_;
			my @q = (
				"SELECT count(*) FROM m WHERE id > $base",
				"SELECT count(*) FROM m WHERE id > $base",
				"SELECT device, count(*) FROM m WHERE id < 0 GROUP BY device ORDER BY device",
				"SELECT time FROM m WHERE id < 0 ORDER BY time DESC LIMIT 1");
			return $c->psql($q[$n % @q], timeout => 120);
		});
	return \%l;
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

sub stop_load
{
	my ($l) = @_;
	open my $fh, '>', $stop_file or die;
	close $fh;
	waitpid($l->{$_}, 0) for qw(writer reader);
}

# Checks the logs of a round whose failure happened between $t_fail0 and
# $t_fail1 (before and after the kill returned); returns the ids committed.
sub check_load
{
	my ($l, $what, $t_fail0, $t_fail1) = @_;
	my @w = read_log($l->{wlog});
	my @r = read_log($l->{rlog});
	my $base = $round * 1_000_000;
	ok(@w >= 5 && @r >= 5, "$what: the writer and the reader ran (" . @w . " writes, " . @r . " reads)");

	ok((grep { $_->{t0} > $t_fail1 && $_->{st} eq 'ok' } @w) > 0
		  && (grep { $_->{t0} > $t_fail1 && $_->{st} eq 'ok' } @r) > 0,
		"$what: writes and reads ran while the node was failed");
	my @late_w = grep { $_->{st} ne 'ok' && $_->{t0} > $t_fail1 } @w;
	is(scalar @late_w, 0, "$what: no write that started after the failure failed")
	  or diag(join "\n", map { "$_->{n}: $_->{st}" } @late_w);
	my @late_r = grep { $_->{st} ne 'ok' && $_->{t0} > $t_fail1 } @r;
	is(scalar @late_r, 0, "$what: no read that started after the failure failed")
	  or diag(join "\n", map { "$_->{n}: $_->{st}" } @late_r);
	my @early_r = grep { $_->{st} ne 'ok' && $_->{t1} < $t_fail0 } @r;
	is(scalar @early_r, 0, "$what: no read failed before the failure");

	# A count of this round's rows lies between the writes committed before
	# the read started and those started before it ended.
	my @bad;
	for my $x (grep { $_->{st} eq 'ok' && $_->{n} % 4 < 2 } @r)
	{
		my $lo = grep { $_->{st} eq 'ok' && $_->{t1} < $x->{t0} } @w;
		my $hi = grep { $_->{t0} < $x->{t1} } @w;
		push @bad, "$x->{n}: $x->{out} not in [$lo, $hi]"
		  unless $x->{out} =~ /^\d+$/ && $x->{out} >= $lo && $x->{out} <= $hi;
	}
	is(scalar @bad, 0, "$what: every count saw each committed write and no phantom")
	  or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
	return map { $base + $_->{n} } grep { $_->{st} eq 'ok' } @w;
}

# ---- checks after recovery -------------------------------------------------------

my %committed = map { -$_ => 1 } 1 .. 3000;

sub check_rows
{
	my ($what) = @_;
	my $got = $c->psql_ok("SELECT id FROM m ORDER BY id");
	my %seen;
	my @dup;
	for my $id (split /\n/, $got)
	{
		push @dup, $id if $seen{$id}++;
	}
	my @missing = grep { !$seen{$_} } sort { $a <=> $b } keys %committed;
	is(scalar @missing, 0, "$what: every committed row is there")
	  or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
	is(scalar @dup, 0, "$what: no row twice") or diag("twice: @dup[0 .. ($#dup < 9 ? $#dup : 9)]");
}

# Each chunk's replicas (current ones, from the catalog): same count and
# checksum on every node that holds one.
sub check_replicas
{
	my ($what, @nodes) = @_;
	my $rows = $c->psql_ok(
		"SELECT c.schema_name || '.' || c.table_name, cdn.node_name, cdn.status"
		  . " FROM _hyperdist_catalog.chunk c JOIN _hyperdist_catalog.chunk_data_node cdn"
		  . " ON cdn.chunk_id = c.id ORDER BY 1, 2");
	my (%sums, @stale, @short);
	my %count;
	for my $line (split /\n/, $rows)
	{
		my ($chunk, $node, $status) = split /\|/, $line;
		$count{$chunk}++;
		if ($status ne 'current')
		{
			push @stale, "$chunk on $node";
			next;
		}
		my ($i) = $node =~ /^dn(\d+)$/;
		$sums{$chunk}{$node} = $c->psql_ok(
			"SELECT count(*) || ':' || coalesce(sum(hashtext(t::text)::numeric), 0) FROM $chunk t",
			node => $i);
	}
	is(scalar @stale, 0, "$what: no stale replica") or diag("stale: @stale");
	my @differ;
	for my $chunk (sort keys %sums)
	{
		my %v = map { $_ => 1 } values %{ $sums{$chunk} };
		push @differ, "$chunk: " . join(', ', map { "$_=$sums{$chunk}{$_}" } sort keys %{ $sums{$chunk} })
		  if keys %v > 1;
		push @short, $chunk if $count{$chunk} < 2;
	}
	is(scalar @differ, 0, "$what: every chunk's replicas are identical") or diag(join "\n", @differ);
	is(scalar @short, 0, "$what: every chunk has 2 replicas") or diag("under-replicated: @short");
}

sub stale_on
{
	my ($node) = @_;
	return $c->psql_ok("SELECT count(*) FROM hyperdist_information.chunk_replication_status"
		  . " WHERE '$node' = ANY (stale_replica_nodes)");
}

sub node_status
{
	my ($node) = @_;
	return $c->psql_ok("SELECT status FROM hyperdist_information.data_nodes WHERE node_name = '$node'");
}

sub wait_healed
{
	my ($what) = @_;
	ok(poll_until(
			sub {
				$c->psql_ok("SELECT count(*) FROM hyperdist_information.chunk_replication_status"
					  . " WHERE cardinality(stale_replica_nodes) > 0 OR num_replicas < desired_num_replicas") eq '0'
			},
			180),
		"$what: chunk_replication_status has no stale or missing replica within three minutes")
	  or diag($c->psql_ok("SELECT * FROM hyperdist_information.chunk_replication_status"
			  . " WHERE cardinality(stale_replica_nodes) > 0 OR num_replicas < desired_num_replicas"));
}

# One failure of data node 2: $fail makes it, $recover ends it.
sub scenario
{
	my ($what, $fail, $recover) = @_;
	my $l = start_load();
	sleep 3;
	my $t0 = time;
	ok($fail->(), "$what: done");
	my $t1 = time;
	ok(poll_until(sub { node_status('dn2') eq 'unavailable' }, 60),
		"$what: dn2 is unavailable in hyperdist_information.data_nodes");
	ok(poll_until(sub { stale_on('dn2') > 0 }, 60),
		"$what: writes marked replicas on dn2 stale");
	sleep 2;
	ok($recover->(), "$what: recovered");
	ok(poll_until(sub { node_status('dn2') eq 'available' }, 120),
		"$what: dn2 is available again") or diag(node_status('dn2'));
	sleep 2;
	stop_load($l);
	$committed{$_} = 1 for check_load($l, $what, $t0, $t1);
	wait_healed($what);
	check_rows($what);
	check_replicas($what);
}

scenario('kill -9 of agent 2', sub { $c->kill_agent(2, 'KILL') }, sub { $c->start_agent(2) });
scenario('kill -9 of data node 2\'s PostgreSQL',
	sub { $c->stop_dn(2, 'immediate') }, sub { $c->start_dn(2) });
scenario(
	'SIGSTOP of agent 2',
	sub { kill 'STOP', $c->agent_pid(2) },
	sub { kill 'CONT', $c->agent_pid(2) });

# ---- a node down for good, deleted with force ------------------------------------
{
	my $what = 'data node 3 gone and deleted';
	my $l = start_load();
	sleep 3;
	my $t0 = time;
	ok($c->kill_agent(3, 'KILL') && $c->stop_dn(3, 'immediate'), "$what: agent and PostgreSQL killed");
	my $t1 = time;
	ok(poll_until(sub { node_status('dn3') eq 'unavailable' }, 60), "$what: dn3 is unavailable");
	ok(poll_until(sub { stale_on('dn3') > 0 }, 60), "$what: writes marked replicas on dn3 stale");
	$c->psql_ok("SELECT delete_data_node('dn3', force => true)", name => "$what: delete_data_node(force => true)");
	sleep 3;
	stop_load($l);
	$committed{$_} = 1 for check_load($l, $what, $t0, $t1);
	wait_healed($what);
	check_rows($what);
	check_replicas($what);
	is($c->psql_ok("SELECT count(*) FROM _hyperdist_catalog.chunk_data_node WHERE node_name = 'dn3'"),
		'0', "$what: no replica left on dn3");
}

$c->teardown;
done_testing();
