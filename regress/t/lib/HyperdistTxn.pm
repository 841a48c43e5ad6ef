# SPDX-License-Identifier: PostgreSQL

=pod

=head1 NAME

HyperdistTxn - helpers for the distributed-transaction TAP tests
(regress/t/01*_2pc_*.pl)

=head1 SYNOPSIS

  use HyperdistTest;
  use HyperdistTxn;

  my $c = HyperdistTest->new(data_nodes => 3);
  create_table($c, 'tx');
  my $s = $c->session(app => 'w1');
  $s->query("SET hyperdist.inject_fault = 'after_prepare'");
  $s->query("SET hyperdist.inject_fault_action = 'pause'");
  $s->send("CALL distributed_exec(\$\$INSERT INTO tx VALUES (1)\$\$)");
  ok(wait_paused($c, 'w1'), 'paused after PREPARE');
  ...
  release($c, 'w1');
  ok(settled($c), 'no prepared transaction left');
  is(row_counts($c, 'tx', 'id = 1'), '1,1,1', 'on every node');

Every wait is a bounded poll (poll_until), never a timing assertion.

=cut

package HyperdistTxn;

use strict;
use warnings;

use Exporter qw(import);
use HyperdistTest;
use Test::More;

our @EXPORT =
  qw(create_table row_counts settled wait_paused release commit_records crash_at);

# A table (id int PRIMARY KEY, tag text) on every data node.
sub create_table
{
	my ($c, $table) = @_;
	return $c->psql_ok(
		"CALL distributed_exec(\$\$CREATE TABLE $table (id int PRIMARY KEY, tag text)\$\$)",
		name => "table $table on every data node");
}

# Rows matching $where on each data node, read there directly: "n1,n2,n3".
sub row_counts
{
	my ($c, $table, $where) = @_;
	my @counts;
	for my $i (1 .. $c->n)
	{
		my ($out, $err, $rc) =
		  $c->psql("SELECT count(*) FROM $table WHERE $where", node => $i);
		push @counts, $rc == 0 ? $out : "error($i)";
	}
	return join(',', @counts);
}

# Waits (at most $timeout s) until no data node holds a prepared transaction.
sub settled
{
	my ($c, $timeout) = @_;
	return poll_until(
		sub {
			for my $i (1 .. $c->n)
			{
				return 0 if $c->prepared_xacts($i) != 0;
			}
			return 1;
		},
		$timeout // 90,
		0.3);
}

# Waits until the session named $app is paused at its fault point
# (hyperdist.inject_fault_action = pause waits with wait event PgSleep).
sub wait_paused
{
	my ($c, $app, $timeout) = @_;
	return poll_until(
		sub {
			my ($out, $err, $rc) = $c->psql(
				"SELECT count(*) FROM pg_stat_activity "
				  . "WHERE application_name = '$app' AND wait_event = 'PgSleep'");
			return $rc == 0 && $out eq '1';
		},
		$timeout // 60);
}

# Lets the paused session named $app continue its commit.
sub release
{
	my ($c, $app) = @_;
	return $c->psql_ok(
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$app'"
	);
}

# Runs $sql (a transaction, up to its COMMIT) with hyperdist.inject_fault =
# $point, where the backend crashes: passes when it died, then when the
# access node has recovered.
sub crash_at
{
	my ($c, $point, $sql) = @_;
	my ($out, $err, $rc) =
	  $c->psql("SET hyperdist.inject_fault = '$point';\n$sql", timeout => 60);
	ok($rc != 0 && $err =~ /terminated abnormally|connection to server was lost/,
		"$point: the backend dies during COMMIT")
	  or diag("exit $rc\n$err");
	return ok($c->wait_an_ready, "$point: the access node recovers");
}

# Rows of the access node's commit record table (-1 if it cannot be read).
sub commit_records
{
	my ($c) = @_;
	my ($out, $err, $rc) =
	  $c->psql('SELECT count(*) FROM _hyperdist_catalog.commit_record');
	return $rc == 0 ? $out + 0 : -1;
}

1;
