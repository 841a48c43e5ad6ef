# SPDX-License-Identifier: PostgreSQL

=pod

=head1 NAME

HyperdistMove - helpers for the chunk copy and move TAP tests
(regress/t/028_move_online.pl to regress/t/032_move_node_failure.pl)

=head1 SYNOPSIS

  use HyperdistTest;
  use HyperdistMove;

  my ($id, $chunk) = chunk_of($c, 'm', '2026-01-01');
  my @r = replicas($c, $id);                  # ([node, status], ...)
  ok(wait_op_ended($c, 'op1'), 'the operation ended');
  check_no_orphans($c, 'no table without its replica');

Every wait is a bounded poll (poll_until), never a timing assertion.

=cut

package HyperdistMove;

use strict;
use warnings;

use Exporter qw(import);
use HyperdistTest;
use Test::More;

our @EXPORT = qw(chunk_of replicas replica_string node_tables catalog_tables
  check_no_orphans op_row op_stage wait_op_ended node_count set_fault
  wait_paused release);

# (chunk id, schema-qualified name) of hypertable $ht's chunk holding $time.
sub chunk_of
{
	my ($c, $ht, $time) = @_;
	my $out = $c->psql_ok(
		"SELECT ch.id, format('%I.%I', ch.schema_name, ch.table_name)"
		  . "  FROM _hyperdist_catalog.chunk ch"
		  . "  JOIN _hyperdist_catalog.hypertable h ON h.id = ch.hypertable_id"
		  . "  JOIN _hyperdist_catalog.time_slice s ON s.id = ch.time_slice_id"
		  . " WHERE h.relid = '$ht'::regclass"
		  . "   AND s.range_start <= (extract(epoch FROM timestamptz '$time') * 1000000)::bigint"
		  . "   AND s.range_end > (extract(epoch FROM timestamptz '$time') * 1000000)::bigint");
	return split /\|/, $out;
}

# The catalog's replicas of chunk $id: ([node, status], ...) by node name.
sub replicas
{
	my ($c, $id) = @_;
	my $out = $c->psql_ok("SELECT node_name, status FROM _hyperdist_catalog.chunk_data_node"
		  . " WHERE chunk_id = $id ORDER BY node_name");
	return map { [ split /\|/ ] } grep { $_ ne '' } split /\n/, $out;
}

# "dn1:current dn2:retired" for chunk $id.
sub replica_string
{
	my ($c, $id) = @_;
	return join(' ', map { "$_->[0]:$_->[1]" } replicas($c, $id));
}

# The chunk tables on data node $i (schema-qualified, sorted), read there:
# the leaves only, not the tables of space slices the chunks are attached to.
sub node_tables
{
	my ($c, $i) = @_;
	my ($out, $err, $rc) = $c->psql(
		"SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c"
		  . "  JOIN pg_namespace n ON n.oid = c.relnamespace"
		  . " WHERE n.nspname = '_hyperdist_internal' AND c.relkind IN ('r', 'f')"
		  . " ORDER BY 1",
		node => $i);
	return undef if $rc != 0;
	return [ grep { $_ ne '' } split /\n/, $out ];
}

# The chunk tables the catalog places on node dn$i, any status.
sub catalog_tables
{
	my ($c, $i) = @_;
	my $out = $c->psql_ok(
		"SELECT format('%I.%I', ch.schema_name, ch.table_name)"
		  . "  FROM _hyperdist_catalog.chunk ch"
		  . "  JOIN _hyperdist_catalog.chunk_data_node cdn ON cdn.chunk_id = ch.id"
		  . " WHERE cdn.node_name = 'dn$i' ORDER BY 1");
	return [ grep { $_ ne '' } split /\n/, $out ];
}

# Every data node holds exactly the chunk tables the catalog places there:
# none left behind by an operation, none missing.
sub check_no_orphans
{
	my ($c, $name) = @_;
	my @bad;
	for my $i (1 .. $c->n)
	{
		my $have = node_tables($c, $i);
		if (!defined $have)
		{
			push @bad, "dn$i cannot be asked";
			next;
		}
		my %want = map { $_ => 1 } @{ catalog_tables($c, $i) };
		my %got = map { $_ => 1 } @$have;
		push @bad, map { "dn$i has $_, which the catalog does not place there" }
		  grep { !$want{$_} } sort keys %got;
		push @bad, map { "dn$i lacks $_, a replica in the catalog" }
		  grep { !$got{$_} } sort keys %want;
	}
	return ok(!@bad, $name) || diag(join("\n", @bad));
}

# The catalog row of operation $op: a hash of its columns (empty if none).
sub op_row
{
	my ($c, $op) = @_;
	my @cols = qw(id completed_stage chunk_id source_node_name dest_node_name
	  delete_on_source_node attempts error_code error_message time_end);
	my $out = $c->psql_ok("SELECT " . join(', ', map { "coalesce(${_}::text, '')" } @cols)
		  . " FROM _hyperdist_catalog.chunk_copy_operation WHERE operation_id = '$op'");
	return () if $out eq '';
	my @v = split /\|/, $out, -1;
	return map { $cols[$_] => $v[$_] } 0 .. $#cols;
}

sub op_stage
{
	my ($c, $op) = @_;
	my %r = op_row($c, $op);
	return $r{completed_stage} // '';
}

# HD_CHUNK_OP_LOCK_KEY of placement/chunk_move.h: a process running operation
# X holds the session advisory lock (HD_CHUNK_OP_LOCK_KEY, X).
our $HD_CHUNK_OP_LOCK_KEY = 0x68646d76;

# Waits until operation $op has ended (complete, failed or cancelled) and no
# process runs it; true then.  The access node may be restarting: errors
# count as "not yet".
sub wait_op_ended
{
	my ($c, $op, $timeout) = @_;
	return poll_until(
		sub {
			my ($out, $err, $rc) = $c->psql(
				"SELECT o.completed_stage IN ('complete', 'failed', 'cancelled')"
				  . "       AND NOT EXISTS (SELECT FROM pg_locks l"
				  . "        WHERE l.locktype = 'advisory' AND l.objsubid = 2"
				  . "          AND l.classid = $HD_CHUNK_OP_LOCK_KEY AND l.objid = o.id"
				  . "          AND l.database = (SELECT oid FROM pg_database"
				  . "                             WHERE datname = current_database()))"
				  . "  FROM _hyperdist_catalog.chunk_copy_operation o WHERE o.operation_id = '$op'",
				timeout => 30);
			return $rc == 0 && $out eq 't';
		},
		$timeout // 120, 0.5);
}

# count(*) of $table on data node $i, or "error" when it cannot be read.
sub node_count
{
	my ($c, $i, $table) = @_;
	my ($out, $err, $rc) = $c->psql("SELECT count(*) FROM $table", node => $i);
	return $rc == 0 ? $out : 'error';
}

# Makes every new process of the access node pause at fault point $point
# (hyperdist.inject_fault, action pause); undef: at none.
sub set_fault
{
	my ($c, $point) = @_;
	my $sql = defined $point
	  ? "ALTER SYSTEM SET hyperdist.inject_fault = '$point';\n"
	  . "ALTER SYSTEM SET hyperdist.inject_fault_action = 'pause';\n"
	  : "ALTER SYSTEM RESET hyperdist.inject_fault;\n"
	  . "ALTER SYSTEM RESET hyperdist.inject_fault_action;\n";
	return $c->psql_ok($sql . "SELECT pg_reload_conf();");
}

# The pid of the process paused at fault point $point, from the access
# node's log after offset $from; undef if none pauses within a minute.
sub wait_paused
{
	my ($c, $point, $from) = @_;
	my $pid;
	poll_until(
		sub {
			my $log = slurp($c->log_path('an')) // '';
			return 0 if length($log) <= $from;
			($pid) = substr($log, $from) =~
			  /fault point "\Q$point\E" reached, pausing until pg_cancel_backend\((\d+)\)/;
			return defined $pid;
		},
		60);
	return $pid;
}

# Lets the process $pid paused at a fault point go on.
sub release
{
	my ($c, $pid) = @_;
	return $c->psql_ok("SELECT pg_cancel_backend($pid)");
}

1;
