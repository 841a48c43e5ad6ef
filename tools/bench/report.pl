#!/usr/bin/perl
# SPDX-License-Identifier: PostgreSQL
# tools/bench/report.pl RESULTS NOTES [JSON] — the table and the JSON file of
# tools/bench/run (run by it; the run's parameters come in B_* variables).
#
# RESULTS: tab-separated lines
#   ingest CASE DATA_NODES CLIENTS ROWS_PER_S NOTE
#   query  NAME DATA_NODES -       MEDIAN_MS  NOTE
#   tags   NAME DATA_NODES -       MEDIAN_MS  NOTE   (the query's TSBS tags form)
#   small  CASE DATA_NODES CLIENTS TPS        NOTE   (one-phase, two-phase)
#   move   copy DATA_NODES -       ROWS_PER_S NOTE   (COPY into one chunk)
#   move   move DATA_NODES -       ROWS_PER_S NOTE   (move_chunk of it)
#   move   wait DATA_NODES -       MAX_MS     NOTE   (the writer's longest INSERT)
# with an empty number when the case did not run.  DATA_NODES 0 is the single
# server, the baseline of the ingest and query ratios: ingest ratio = rows/s
# / single rows/s, small ratio = tps / single tps (the single server runs
# only "one-phase"), query ratio = median / single median (also for the tags
# form, whose ratio to no join is its median / the same target's median of
# the query without the join).  The move ratio is the move's rows/s over the
# COPY's on the same cluster.

use strict;
use warnings;

my ($results, $notes_file, $json) = @ARGV;
die "usage: report.pl RESULTS NOTES [JSON]\n" unless defined $notes_file;

my (@ingest, @small, @queries, @tags, @moves);
open(my $fh, '<', $results) or die "cannot read $results: $!\n";
while (my $line = <$fh>) {
	chomp $line;
	my ($kind, $name, $nodes, $clients, $value, $note) = split /\t/, $line, -1;
	my $r = {
		name    => $name,
		nodes   => $nodes + 0,
		clients => $clients eq '-' ? undef : $clients + 0,
		value   => (defined $value && $value ne '') ? $value + 0 : undef,
		note    => $note // '',
	};
	my %by_kind = (ingest => \@ingest, small => \@small, tags => \@tags, move => \@moves);
	push @{ $by_kind{$kind} // \@queries }, $r;
}
close $fh;

my @general;
if (open(my $nf, '<', $notes_file)) {
	chomp(@general = <$nf>);
	close $nf;
}

# Ratios against the single server (data_nodes 0) of the same case.
my (%base_i, %base_q, %base_t, %no_join);
for my $r (@ingest) {
	$base_i{"$r->{name}/$r->{clients}"} = $r->{value} if $r->{nodes} == 0;
}
for my $r (@queries) {
	$base_q{ $r->{name} } = $r->{value} if $r->{nodes} == 0;
	$no_join{"$r->{name}/$r->{nodes}"} = $r->{value};
}
for my $r (@tags) {
	$base_t{ $r->{name} } = $r->{value} if $r->{nodes} == 0;
}
for my $r (@ingest) {
	my $b = $base_i{"$r->{name}/$r->{clients}"};
	$r->{ratio} = (defined $r->{value} && $b) ? $r->{value} / $b : undef;
}
for my $r (@queries) {
	my $b = $base_q{ $r->{name} };
	$r->{ratio} = (defined $r->{value} && $b) ? $r->{value} / $b : undef;
}
for my $r (@tags) {
	my $b = $base_t{ $r->{name} };
	my $nj = $no_join{"$r->{name}/$r->{nodes}"};
	$r->{ratio} = (defined $r->{value} && $b) ? $r->{value} / $b : undef;
	$r->{ratio_nj} = (defined $r->{value} && $nj) ? $r->{value} / $nj : undef;
}
my ($base_s) = map { $_->{value} } grep { $_->{nodes} == 0 } @small;
for my $r (@small) {
	$r->{ratio} = (defined $r->{value} && $base_s) ? $r->{value} / $base_s : undef;
}
# The move's rows/s over the COPY's, per cluster.
my %move;
$move{ $_->{nodes} }{ $_->{name} } = $_ for @moves;
for my $m (values %move) {
	my ($copy, $mv) = @$m{qw(copy move)};
	$mv->{ratio} = $mv->{value} / $copy->{value}
		if $mv && $copy && defined $mv->{value} && $copy->{value};
}

# ---- table ----------------------------------------------------------------------

my @nodes = (0);
my %seen_n = (0 => 1);
for my $r (@ingest, @small, @queries, @tags, @moves) {
	push @nodes, $r->{nodes} unless $seen_n{ $r->{nodes} }++;
}
@nodes = sort { $a <=> $b } @nodes;
my %colname = map { $_ => ($_ == 0 ? 'single server' : ($_ == 1 ? '1 data node' : "$_ data nodes")) } @nodes;

my (@footnotes, %footnote_no);
sub footnote {
	my ($text) = @_;
	return '' if $text eq '';
	unless ($footnote_no{$text}) {
		push @footnotes, $text;
		$footnote_no{$text} = scalar @footnotes;
	}
	return "[$footnote_no{$text}]";
}

sub commify {
	my ($n) = @_;
	my $s = sprintf('%.0f', $n);
	1 while $s =~ s/^(\d+)(\d{3})/$1,$2/;
	return $s;
}

sub cell {
	my ($r, $fmt) = @_;
	return '' unless $r;
	my $fn = footnote($r->{note});
	return "n/a $fn" unless defined $r->{value};
	my $v = $fmt->($r->{value});
	$v .= sprintf(' (%.2f)', $r->{ratio}) if $r->{nodes} != 0 && defined $r->{ratio};
	$v .= " $fn" if $fn;
	return $v;
}

sub print_table {
	my ($title, $head, $rows) = @_;
	my @w = map { length } @$head;
	for my $row (@$rows) {
		for my $i (0 .. $#$row) {
			$w[$i] = length $row->[$i] if length $row->[$i] > ($w[$i] // 0);
		}
	}
	print "$title\n";
	for my $row ($head, @$rows) {
		my $line = join('  ', map { sprintf('%-*s', $w[$_], $row->[$_] // '') } 0 .. $#$row);
		$line =~ s/\s+$//;
		print "$line\n";
	}
	print "\n";
}

my $e = \%ENV;
my $rows_fmt = commify($e->{B_ROWS} // 0);
printf "TSBS devops cpu-only%s: %s hosts x %s = %s rows (seed %s), COPY format %s, chunk_time_interval %s\n",
	($e->{B_QUICK} ? ' (--quick)' : ''), $e->{B_HOSTS} // '?', $e->{B_DUR} // '?', $rows_fmt,
	$e->{B_SEED} // '?', $e->{B_FORMAT} // '?', $e->{B_CHUNK} // '?';
printf "PostgreSQL %s, hyperdist %s (source tree: %s), %s CPUs; the run took %.0f s\n\n",
	$e->{B_PG} // '?', $e->{B_HD} // '?', $e->{B_COMMIT} // '?', $e->{B_CPUS} // '?', $e->{B_SECS} // 0;

{
	my (@order, %by);
	for my $r (@ingest) {
		my $k = "$r->{name}/$r->{clients}";
		push @order, $k unless $by{$k};
		$by{$k}{ $r->{nodes} } = $r;
	}
	my @rows;
	for my $k (@order) {
		my ($name, $clients) = split m{/}, $k;
		my $label = $name eq 'insert'
			? sprintf('INSERT (1,000 rows/stmt; %s rows)', commify($e->{B_INS_ROWS} // 0))
			: $name eq 'copy-csv' ? 'psql \\copy (FORMAT csv)'
			: sprintf('COPY (FORMAT %s)', $e->{B_FORMAT} // '?');
		push @rows, [ $label, $clients, map { cell($by{$k}{$_}, sub { commify($_[0]) }) } @nodes ];
	}
	print_table('INGEST: rows/s (ratio = hyperdist rows/s / single-server rows/s; higher is better)',
		[ 'case', 'clients', map { $colname{$_} } @nodes ], \@rows);
}
if (@small) {
	my (@order, %by);
	for my $r (@small) {
		push @order, $r->{name} unless $by{ $r->{name} };
		$by{ $r->{name} }{ $r->{nodes} } = $r;
	}
	my %label = ('one-phase' => 'INSERT + lookup', 'two-phase' => 'the same, one-phase commit off');
	my @rows = map {
		my $k = $_;
		[ $label{$k} // $k, 16, map { cell($by{$k}{$_}, sub { commify($_[0]) }) } @nodes ]
	} @order;
	print_table('SMALL TRANSACTIONS: tps (ratio = hyperdist tps / single-server tps; higher is better)',
		[ 'case', 'clients', map { $colname{$_} } @nodes ], \@rows);
}
if (@queries) {
	my (@order, %by);
	for my $r (@queries) {
		push @order, $r->{name} unless $by{ $r->{name} };
		$by{ $r->{name} }{ $r->{nodes} } = $r;
	}
	my @rows = map {
		my $q = $_;
		[ $q, map { cell($by{$q}{$_}, sub { sprintf('%.2f', $_[0]) }) } @nodes ]
	} @order;
	print_table(sprintf('QUERIES: median ms of %s runs (ratio = hyperdist median / single-server median; lower is better)',
			$e->{B_REPEAT} // '?'),
		[ 'query', map { $colname{$_} } @nodes ], \@rows);
}
if (@tags) {
	my (@order, %by);
	for my $r (@tags) {
		push @order, $r->{name} unless $by{ $r->{name} };
		$by{ $r->{name} }{ $r->{nodes} } = $r;
	}
	# median (ratio to the single server; ratio to no join)
	my $cell = sub {
		my ($r) = @_;
		return '' unless $r;
		my $fn = footnote($r->{note});
		return "n/a $fn" unless defined $r->{value};
		my $f = sub { defined $_[0] ? sprintf('%.2f', $_[0]) : '-' };
		my $v = sprintf('%.2f (%s; %s)', $r->{value}, $r->{nodes} ? $f->($r->{ratio}) : '-', $f->($r->{ratio_nj}));
		return $fn ? "$v $fn" : $v;
	};
	my @rows = map {
		my $q = $_;
		[ $q, map { $cell->($by{$q}{$_}) } @nodes ]
	} @order;
	print_table(sprintf('QUERIES, TSBS tags mode: median ms of %s runs (ratio to the single server; ratio to no join ='
			. ' this median / the same target\'s median of the query without the join, target <= 1.2)',
			$e->{B_REPEAT} // '?'),
		[ 'query', map { $colname{$_} } @nodes ], \@rows);
}
if (@moves) {
	my @mnodes = sort { $a <=> $b } keys %move;
	my @rows = map {
		my ($name, $label, $fmt) = @$_;
		[ $label, map { cell($move{$_}{$name}, $fmt) } @mnodes ]
	} (
		[ 'copy', sprintf('COPY into one chunk (%s rows), rows/s', $rows_fmt), sub { commify($_[0]) } ],
		[ 'move', 'move_chunk of that chunk, rows/s', sub { commify($_[0]) } ],
		[ 'wait', 'longest single-row INSERT into it during the move, ms', sub { sprintf('%.1f', $_[0]) } ]);
	print_table('MOVE: COPY into one chunk, then move_chunk of it to another data node while a writer inserts into it'
			. ' (ratio = move rows/s / COPY rows/s; higher is better)',
		[ 'measure', map { $colname{$_} } @mnodes ], \@rows);
}
if (@footnotes) {
	for my $i (0 .. $#footnotes) {
		printf "[%d] %s\n", $i + 1, $footnotes[$i];
	}
	print "\n";
}
if (@general) {
	print "notes:\n";
	print "  $_\n" for @general;
}

# ---- JSON -------------------------------------------------------------------------

if (defined $json && $json ne '') {
	sub jnum {
		my ($v, $digits) = @_;
		return 'null' unless defined $v;
		my $s = sprintf("%.${digits}f", $v);
		$s =~ s/(\.\d*?)0+$/$1/;
		$s =~ s/\.$//;
		return $s;
	}
	sub jstr {
		my ($s) = @_;
		$s =~ s/(["\\])/\\$1/g;
		$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge;
		return "\"$s\"";
	}
	my @i = map {
		sprintf('{"case": %s, "data_nodes": %d, "clients": %d, "rows_per_s": %s, "ratio": %s}',
			jstr($_->{name}), $_->{nodes}, $_->{clients}, jnum($_->{value}, 1), jnum($_->{ratio}, 3))
	} @ingest;
	my @s = map {
		sprintf('{"case": %s, "data_nodes": %d, "clients": %d, "tps": %s, "ratio": %s}',
			jstr($_->{name}), $_->{nodes}, $_->{clients}, jnum($_->{value}, 1), jnum($_->{ratio}, 3))
	} @small;
	my @q = map {
		sprintf('{"query": %s, "data_nodes": %d, "median_ms": %s, "ratio": %s}',
			jstr($_->{name}), $_->{nodes}, jnum($_->{value}, 3), jnum($_->{ratio}, 3))
	} @queries;
	my @t = map {
		sprintf('{"query": %s, "data_nodes": %d, "median_ms": %s, "ratio": %s, "ratio_to_no_join": %s}',
			jstr($_->{name}), $_->{nodes}, jnum($_->{value}, 3), jnum($_->{ratio}, 3), jnum($_->{ratio_nj}, 3))
	} @tags;
	my @m = map {
		my $m = $move{$_};
		my $v = sub { $m->{ $_[0] } ? $m->{ $_[0] }{value} : undef };
		sprintf('{"data_nodes": %d, "rows": %d, "copy_rows_per_s": %s, "move_rows_per_s": %s, "ratio": %s, "max_writer_wait_ms": %s}',
			$_, $e->{B_ROWS} // 0, jnum($v->('copy'), 1), jnum($v->('move'), 1),
			jnum($m->{move} ? $m->{move}{ratio} : undef, 3), jnum($v->('wait'), 3))
	} sort { $a <=> $b } keys %move;
	open(my $out, '>', $json) or die "cannot write $json: $!\n";
	print $out "{\n  \"ingest\": [\n    ", join(",\n    ", @i), "\n  ],\n";
	print $out "  \"small\": [", (@s ? "\n    " . join(",\n    ", @s) . "\n  " : ''), "],\n";
	print $out "  \"queries\": [\n    ", join(",\n    ", @q), "\n  ],\n";
	print $out "  \"tags_queries\": [", (@t ? "\n    " . join(",\n    ", @t) . "\n  " : ''), "],\n";
	print $out "  \"move\": [", (@m ? "\n    " . join(",\n    ", @m) . "\n  " : ''), "]\n}\n";
	close $out or die "cannot write $json: $!\n";
}
