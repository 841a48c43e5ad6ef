# SPDX-License-Identifier: PostgreSQL
# Differential queries: every query of the corpus regress/t/data/differential.sql
# must return on a distributed hypertable exactly what it returns on a plain
# table with the same rows (regress/t/data/differential_setup.sql makes them).
#
# The corpus runs four times in one psql session each: on cpu_local (the
# reference), on cpu_local_rev (the same rows inserted in another order: a
# query whose result depends on the rows' order is a corpus bug, reported
# as such), and on the distributed hypertables cpu (replication factor 1)
# and cpu_rf2 (replication factor 2, created with a column since dropped,
# and read in small batches).  Each corpus entry is one test, which
# fails when a distributed run errs where the local one does not, or
# returns other rows: the same rows in the same order when the entry has a
# top-level ORDER BY, the same multiset of rows otherwise.  float8 values
# are printed with 9 significant digits (extra_float_digits = -6), as their
# last bits may depend on the order of a summation.
#
# Corpus format: entries are separated by blank lines; an entry is one or
# more SQL statements (their outputs are compared together), in which :T
# stands for the table under test and :L for the local table hosts.
# Comment lines are allowed; these ones are directives for the entry:
#   -- @todo REASON        a known failure (a Test::More TODO)
#   -- @requires time_bucket   skipped unless time_bucket() exists (or first())
#   -- @ordered / -- @unordered   override the ORDER BY detection
#   -- @errors             the entry raises errors on purpose: the SQLSTATEs
#                          raised must be the same, in the same order
# A line "-- @section NAME" starts a section (for the reader; it may open
# an entry).
#
# HYPERDIST_DIFF_ONLY=REGEX runs only the entries whose name matches.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;
use Time::HiRes qw(time);

my $t0 = time;
my $datadir = "$FindBin::Bin/data";
my @entries = parse_corpus("$datadir/differential.sql");
my $only = $ENV{HYPERDIST_DIFF_ONLY};
@entries = grep { $_->{name} =~ /$only/ } @entries if defined $only;

my $c = HyperdistTest->new(data_nodes => 3);

my ($out, $err, $rc) = $c->psql(slurp("$datadir/differential_setup.sql"),
	timeout => 600);
if ($rc != 0 || $err =~ /\bERROR:/)
{
	diag("set-up failed (exit $rc):\n$err");
	BAIL_OUT('differential_setup.sql failed');
}
my @counts = split /\|/, (split /\n/, $out)[-1];
ok(@counts == 4 && $counts[0] > 5000 && !grep({ $_ ne $counts[0] } @counts),
	"the four tables have the same rows (" . join(", ", @counts) . ")");
my $setup_time = time - $t0;

# Functions some entries need (-- @requires NAME).
my %have;
for (['time_bucket', 'time_bucket(interval,timestamp with time zone)'],
	['first', 'first(anyelement,"any")'])
{
	$have{ $_->[0] } = $c->psql_ok(
		"SELECT to_regprocedure('$_->[1]') IS NOT NULL") eq 't';
}

# Session settings every entry starts with (DISCARD ALL resets what an
# entry changed: settings, prepared statements, cursors, temporary objects).
my $preamble = <<'EOF';
DISCARD ALL;
SET timezone = 'UTC';
SET datestyle = 'ISO';
SET intervalstyle = 'postgres';
SET extra_float_digits = -6;
SET lc_messages = 'C';
EOF

my @tables = qw(cpu_local cpu_local_rev cpu cpu_rf2);
# cpu_rf2 is read in the smallest batches, one batch ahead at most
my %extra = (cpu_rf2 => "SET hyperdist.batch_bytes = 4096;\nSET hyperdist.stream_window = 1;\n");
my %result;    # table -> [ { out, err } per entry ]
my %elapsed;
for my $t (@tables)
{
	my $s = time;
	$result{$t} = run_corpus($t);
	$elapsed{$t} = time - $s;
}

for my $i (0 .. $#entries)
{
	my $e = $entries[$i];
  SKIP:
	{
		skip("$e->{requires}() does not exist", 1) if skipped($e);
		local $TODO = $e->{todo} if defined $e->{todo};
		my @problems;
		my $ref = $result{cpu_local}[$i];
		my $rev = $result{cpu_local_rev}[$i];
		if (has_error($e, $ref->{err}))
		{
			push @problems, "corpus bug: the query fails on cpu_local:\n"
			  . head($ref->{err});
		}
		elsif (normalize($e, $ref->{out}) ne normalize($e, $rev->{out}))
		{
			push @problems,
			  "corpus bug: the result depends on the order of the rows "
			  . "(cpu_local and cpu_local_rev differ)\n"
			  . show('cpu_local', $ref) . show('cpu_local_rev', $rev);
		}
		else
		{
			for my $t (qw(cpu cpu_rf2))
			{
				my $r = $result{$t}[$i];
				if (has_error($e, $r->{err}, $ref->{err}))
				{
					push @problems, ($e->{errors}
						? "raises other errors on $t than on cpu_local:\n"
						: "fails on $t but not on cpu_local:\n")
					  . head($r->{err});
				}
				elsif (normalize($e, $r->{out}) ne normalize($e, $ref->{out}))
				{
					push @problems,
					  "$t returns other rows than cpu_local ("
					  . ($e->{ordered} ? 'ordered' : 'unordered')
					  . " comparison)\n"
					  . show('cpu_local', $ref) . show($t, $r);
				}
			}
		}
		ok(!@problems, $e->{name})
		  or diag("entry at line $e->{line}:\n$e->{sql}\n" . join("", @problems));
	}
}

my $total = time - $t0;
note(sprintf("%d entries; set-up %.1f s; corpus %s; total %.1f s",
		scalar(@entries), $setup_time,
		join(', ', map { sprintf('%s %.1f s', $_, $elapsed{$_}) } @tables), $total));
done_testing();

sub skipped
{
	my ($e) = @_;
	return defined $e->{requires} && !$have{ $e->{requires} };
}

# ---- running the corpus -----------------------------------------------------------

# The entry's SQL for table $t.
sub instantiate
{
	my ($sql, $t) = @_;
	$sql =~ s/(?<![:\w]):T\b/$t/g;
	$sql =~ s/(?<![:\w]):L\b/hosts/g;
	return $sql;
}

# Runs every entry on table $t, in as few psql sessions as possible: one,
# unless the session ends early (a crashed backend), when the next one
# starts with the entry after the one that was running.
sub run_corpus
{
	my ($t) = @_;
	my @res = map { { out => '', err => '' } } @entries;
	my $from = 0;
	while ($from < @entries)
	{
		my $script = "\\pset null '<NULL>'\n";
		for my $i ($from .. $#entries)
		{
			next if skipped($entries[$i]);
			$script .= $preamble . ($extra{$t} // '');
			$script .= "\\echo \@\@HD_ENTRY_$i\@\@\n\\warn \@\@HD_ENTRY_$i\@\@\n";
			$script .= instantiate($entries[$i]{sql}, $t) . "\n";
		}
		$script .= "\\echo \@\@HD_END\@\@\n\\warn \@\@HD_END\@\@\n";
		my ($out, $err, $rc) = $c->psql($script, no_stop => 1, timeout => 900);
		my %o = split_marked($out);
		my %e = split_marked($err);
		my $last = $from - 1;
		for my $i ($from .. $#entries)
		{
			next unless exists $o{$i} || exists $e{$i};
			$res[$i] = { out => $o{$i} // '', err => $e{$i} // '' };
			$last = $i;
		}
		last if exists $o{END} && exists $e{END};
		# the session ended during entry $last
		$res[$last]{err} .= "\nERROR: psql ended during this entry (exit $rc)\n"
		  if $last >= $from;
		$res[$_]{err} = "ERROR: not run: the psql session ended\n"
		  for ($last + 1) .. $#entries;
		$c->wait_an_ready(120) or last;
		$from = $last + 1;
	}
	return \@res;
}

# Splits psql output at the markers: entry number (or END) -> text.
sub split_marked
{
	my ($text) = @_;
	my %part;
	my @pieces = split /^\@\@HD_(ENTRY_\d+|END)\@\@\n?/m, $text . "\n";
	shift @pieces;    # before the first marker: the preamble
	while (@pieces)
	{
		my ($k, $v) = splice(@pieces, 0, 2);
		$k =~ s/^ENTRY_//;
		$v //= '';
		$v =~ s/\n+\z//;
		$part{$k} = $v;
	}
	return %part;
}

# Whether stderr $err shows a failure: any error, or for an entry that
# raises errors on purpose, other errors than those of $ref (the local
# run's stderr; none: the entry must raise some).
sub has_error
{
	my ($e, $err, $ref) = @_;
	return 1
	  if $err =~ /connection to server was lost|server closed the connection|ended during this entry|not run: /;
	my @states = $err =~ /^(?:psql:[^\n]*?)?(?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5})?/mg;
	return @states > 0 unless $e->{errors};
	return @states == 0 unless defined $ref;
	my @want = $ref =~ /^(?:psql:[^\n]*?)?(?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5})?/mg;
	return join(',', map { $_ // '?' } @states) ne join(',', map { $_ // '?' } @want);
}

sub normalize
{
	my ($e, $out) = @_;
	my @lines = split /\n/, $out, -1;
	@lines = sort @lines unless $e->{ordered};
	return join("\n", @lines);
}

sub head
{
	my ($s, $n) = @_;
	$n //= 20;
	my @l = split /\n/, $s;
	my $more = @l > $n ? "\n  ... (" . (@l - $n) . " more lines)" : '';
	@l = @l[ 0 .. $n - 1 ] if @l > $n;
	return join("\n",
		map { '  ' . (length($_) > 300 ? substr($_, 0, 300) . '...' : $_) } @l)
	  . $more . "\n";
}

sub show
{
	my ($t, $r) = @_;
	my @l = split /\n/, $r->{out};
	my $s = "---- $t: " . scalar(@l) . " lines ----\n" . head($r->{out});
	$s .= "---- $t: stderr ----\n" . head($r->{err}) if $r->{err} =~ /\S/;
	return $s;
}

# ---- the corpus file ------------------------------------------------------------------

sub parse_corpus
{
	my ($path) = @_;
	open my $fh, '<', $path or die "cannot read $path: $!";
	my (@list, @block, $start, $section);
	my $flush = sub {
		return unless @block;
		my %e = (line => $start, section => $section);
		my @sql;
		for (@block)
		{
			if (/^\s*--\s*\@todo\s+(.*?)\s*$/) { $e{todo} = $1 }
			elsif (/^\s*--\s*\@requires\s+(\S+)/) { $e{requires} = $1 }
			elsif (/^\s*--\s*\@errors\b/) { $e{errors} = 1 }
			elsif (/^\s*--\s*\@ordered\b/) { $e{ordered} = 1 }
			elsif (/^\s*--\s*\@unordered\b/) { $e{ordered} = 0 }
			elsif (/^\s*--\s*\@section\s+(.*?)\s*$/) { $section = $e{section} = $1 }
			elsif (/^\s*--\s*\@/) { die "$path:$start: unknown directive: $_\n" }
			else { push @sql, $_ }
		}
		@block = ();
		my $sql = join("\n", @sql);
		(my $code = $sql) =~ s/^\s*--.*$//mg;
		return unless $code =~ /\S/;
		$e{sql} = $sql;
		$e{ordered} //= has_top_order_by($code);
		(my $flat = $code) =~ s/\s+/ /g;
		$flat =~ s/^ //;
		$e{name} = sprintf('%03d %s', scalar(@list) + 1, substr($flat, 0, 60));
		push @list, \%e;
	};
	while (my $l = <$fh>)
	{
		chomp $l;
		if ($l =~ /^\s*$/)
		{
			$flush->();
			next;
		}
		$start = $. unless @block;
		push @block, $l;
	}
	$flush->();
	close $fh;
	return @list;
}

# Whether some statement has an ORDER BY outside parentheses (strings and
# comments already removed or harmless).
sub has_top_order_by
{
	my ($sql) = @_;
	$sql =~ s/'(?:[^']|'')*'//g;
	$sql =~ s/\$\$.*?\$\$//gs;
	my $depth = 0;
	my $top = '';
	for my $ch (split //, $sql)
	{
		if ($ch eq '(') { $depth++; next }
		if ($ch eq ')') { $depth--; next }
		$top .= $depth == 0 ? $ch : ' ';
	}
	return $top =~ /\border\s+by\b/i ? 1 : 0;
}
