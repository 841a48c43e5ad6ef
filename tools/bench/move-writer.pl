#!/usr/bin/perl
# SPDX-License-Identifier: PostgreSQL
# tools/bench/move-writer.pl STOP LOG PSQL [ARGS...] — the writer of the
# move measure of tools/bench/run: one psql session (PSQL ARGS, connected
# through the PG* environment) running single-row INSERTs into the chunk of
# cpu_move that is being moved, one transaction each, until the file STOP
# exists.  LOG gets one line per statement: "START END ok|error" (seconds
# since the epoch, with microseconds), START when the statement was sent,
# END when psql had finished it.  Exit status 0 unless psql could not run.

use strict;
use warnings;
use IPC::Open2;
use Time::HiRes qw(time);

my ($stop, $log, @psql) = @ARGV;
die "usage: move-writer.pl STOP LOG PSQL [ARGS...]\n" unless @psql;

open(my $lf, '>', $log) or die "cannot write $log: $!\n";
$lf->autoflush(1);
my $pid = open2(my $out, my $in, @psql, '-X', '-q', '-A', '-t')
  or die "cannot start psql\n";
$in->autoflush(1);

my $n = 0;
while (!-e $stop)
{
	$n++;
	# Inside the chunk's time range (the data starts at 2016-01-01 00:00).
	my $t0 = time;
	print $in "INSERT INTO cpu_move (time, tags_id, hostname, usage_user)"
	  . " VALUES ('2016-01-01 00:00:00+00'::timestamptz + $n * interval '1 ms', 0, 'move_writer', $n);\n"
	  . "\\echo __move_writer_$n :ERROR\n";
	my $status;
	while (my $line = <$out>)
	{
		if ($line =~ /^__move_writer_$n (\w+)$/)
		{
			$status = $1 eq 'false' ? 'ok' : 'error';
			last;
		}
	}
	last unless defined $status;    # psql ended
	printf $lf "%.6f %.6f %s\n", $t0, time, $status;
}
close $in;
waitpid($pid, 0);
exit 0;
