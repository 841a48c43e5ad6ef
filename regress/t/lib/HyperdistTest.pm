# SPDX-License-Identifier: PostgreSQL

=pod

=head1 NAME

HyperdistTest - real local hyperdist clusters for the TAP tests in regress/t

=head1 SYNOPSIS

  use lib 'regress/t/lib';
  use HyperdistTest;

  my $c = HyperdistTest->new(data_nodes => 2);   # tools/cluster up, free ports
  my $rows = $c->psql_ok("SELECT count(*) FROM hyperdist_information.data_nodes");
  $c->psql_error("CALL distributed_exec('SELECT 1/0')", '22012', 'division by zero');

  my $s = $c->session;                            # one long-lived AN session
  $s->send("CALL distributed_exec('SELECT pg_sleep(30)')");
  $c->kill_agent(1, 'KILL');
  my ($out, $err) = $s->wait;
  like(sqlstate($err), qr/^08/, 'connection error');
  $c->start_agent(1);

Each cluster lives in its own temporary directory (under $HYPERDIST_TMP when
set) on randomly chosen free ports, and is stopped and removed at the end of
the test (kept when HYPERDIST_KEEP_TMP=1).  When a test fails, the tails of
the cluster's logs are printed as diagnostics.

Run the tests as an unprivileged user (regress/run-all does that when run as
root):  prove -I regress/t/lib regress/t/*.pl

Environment: HYPERDIST_TOOLS (the tools/ directory; default: the one of this
checkout), HYPERDIST_TMP, PG_CONFIG, HYPERDIST_AGENT (default: the installed
hyperdist-agent), HYPERDIST_AGENT_CLIENT (the agent's test client).

=cut

package HyperdistTest;

use strict;
use warnings;

use Carp;
use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(rmtree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT = qw(sqlstate poll_until free_port slurp);

our $TOOLS = $ENV{HYPERDIST_TOOLS}
  // abs_path(dirname(abs_path(__FILE__)) . '/../../../tools');
our $PG_CONFIG = $ENV{PG_CONFIG} // 'pg_config';
our $PG_BINDIR = do {
	my $d = `$PG_CONFIG --bindir 2>/dev/null`;
	chomp $d;
	$d || '/usr/lib/postgresql/15/bin';
};
our $AGENT = $ENV{HYPERDIST_AGENT} // "$PG_BINDIR/hyperdist-agent";
our $AGENT_CLIENT = $ENV{HYPERDIST_AGENT_CLIENT}
  // abs_path(dirname(abs_path(__FILE__)) . '/../../..')
  . '/data_node/test/agent-client';

my @live;    # clusters to tear down at END

# ---- free functions ----------------------------------------------------------

# SQLSTATE of the first ERROR/FATAL in psql's stderr (psql -v VERBOSITY=verbose
# prints "ERROR:  22012: division by zero"); undef when there is none.
sub sqlstate
{
	my ($err) = @_;
	return undef unless defined $err;
	return $1 if $err =~ /\b(?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5}):/;
	return undef;
}

# Calls $code every $interval seconds until it returns true; false when
# $timeout seconds pass first.  A bound against hangs, never a timing check.
sub poll_until
{
	my ($code, $timeout, $interval) = @_;
	$timeout //= 60;
	$interval //= 0.2;
	my $end = time + $timeout;
	while (1)
	{
		return 1 if $code->();
		return 0 if time > $end;
		usleep(int($interval * 1_000_000));
	}
}

sub port_free
{
	my ($port) = @_;
	my $s = IO::Socket::INET->new(
		LocalAddr => '127.0.0.1',
		LocalPort => $port,
		Proto => 'tcp',
		Listen => 1,
		ReuseAddr => 1);
	return 0 unless $s;
	close $s;
	return 1;
}

# A free port below the ephemeral range.
sub free_port
{
	for (1 .. 200)
	{
		my $p = 20000 + int(rand(12000));
		return $p if port_free($p);
	}
	croak "no free port found";
}

# A base port whose cluster ports (BASE..BASE+n, BASE+101..BASE+100+n) are free.
sub free_base
{
	my ($n) = @_;
	for (1 .. 100)
	{
		my $b = 20000 + 10 * int(rand(1180));
		next if grep { !port_free($_) } ($b .. $b + $n),
		  ($b + 101 .. $b + 100 + $n);
		return $b;
	}
	croak "no free range of ports found";
}

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or return undef;
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

sub run_cmd
{
	my ($cmd, %o) = @_;
	my ($out, $err) = ('', '');
	my $in = $o{stdin} // '';
	my $h = IPC::Run::start($cmd, '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($o{timeout} // 300));
	my $rc;
	if (eval { $h->finish; 1 })
	{
		$rc = $h->result(0);
	}
	else
	{
		$h->kill_kill;
		$err .= "\n[timed out after " . ($o{timeout} // 300) . " s: @$cmd]\n";
		$rc = -1;
	}
	return ($rc, $out, $err);
}

# ---- clusters ------------------------------------------------------------------

=head2 HyperdistTest->new(%options)

Starts a cluster with tools/cluster up.  Options: data_nodes (default 2),
bare (no extension, no data nodes).

=cut

sub new
{
	my ($class, %opt) = @_;
	croak "run the TAP tests as an unprivileged user: PostgreSQL refuses root "
	  . "(regress/run-all does this for you)"
	  if $> == 0;
	my $n = $opt{data_nodes} // 2;
	my $root = $ENV{HYPERDIST_TMP};
	my $tmp = tempdir('hdtap-XXXXXX',
		($root && -d $root) ? (DIR => $root) : (TMPDIR => 1));
	my $self = bless {
		n => $n,
		tmp => $tmp,
		dir => "$tmp/c",
		bare => $opt{bare} ? 1 : 0,
	}, $class;
	push @live, $self;

	my ($rc, $out, $err);
	for my $attempt (1 .. 3)
	{
		my $base = free_base($n);
		($rc, $out, $err) = $self->cluster_cmd('up', '--data-nodes', $n,
			'--port', $base, ($opt{bare} ? ('--bare') : ()));
		last if $rc == 0;
		# Lost a race for a port: start over in a clean directory.
		last unless $err =~ /in use/;
		$self->cluster_cmd('down');
		rmtree($self->{dir});
	}
	if ($rc != 0)
	{
		diag("tools/cluster up failed (exit $rc):\n$out\n$err");
		$self->dump_logs;
		die "tools/cluster up failed: $err\n";
	}
	$self->load_env;
	return $self;
}

sub load_env
{
	my ($self) = @_;
	my %env;
	open my $fh, '<', "$self->{dir}/cluster.env"
	  or die "cannot read $self->{dir}/cluster.env: $!";
	while (<$fh>)
	{
		chomp;
		$env{$1} = $2 if /^([A-Z][A-Z0-9_]*)=(.*)$/;
	}
	close $fh;
	$self->{env} = \%env;
	$self->{sockdir} = $env{HYPERDIST_SOCKET_DIR};
	return \%env;
}

sub dir { $_[0]{dir} }
sub tmp { $_[0]{tmp} }
sub n { $_[0]{n} }
sub env { $_[0]{env}{ $_[1] } }
sub envfile { "$_[0]{dir}/cluster.env" }
sub sockdir { $_[0]{sockdir} }
sub an_port { $_[0]{env}{AN_PORT} }
sub dn_port { $_[0]{env}{"DN$_[1]_PORT"} }
sub agent_port { $_[0]{env}{"AGENT$_[1]_PORT"} }
sub an_pgdata { $_[0]{env}{AN_PGDATA} }
sub dn_pgdata { $_[0]{env}{"DN$_[1]_PGDATA"} }
sub agent_dir { "$_[0]{dir}/agent$_[1]" }
sub agent_pidfile { "$_[0]{dir}/agent$_[1].pid" }
sub log_path { "$_[0]{dir}/$_[1].log" }
sub password { my $p = slurp("$_[0]{dir}/password"); chomp $p; $p }

# Runs tools/cluster CMD --dir DIR ARGS...; returns (exit, stdout, stderr).
sub cluster_cmd
{
	my ($self, $cmd, @args) = @_;
	return run_cmd([ "$TOOLS/cluster", $cmd, '--dir', $self->{dir}, @args ],
		timeout => 300);
}

# ---- SQL -----------------------------------------------------------------------

sub conninfo
{
	my ($self, %o) = @_;
	my $node = $o{node} // 'an';
	my $port = $node eq 'an' ? $self->an_port : $self->dn_port($node);
	my $db = $o{db} // 'hyperdist';
	$db = 'postgres' if $node ne 'an' && !defined $o{db} && $self->{bare};
	my $ci = "host=$self->{sockdir} port=$port dbname=$db user="
	  . ($o{user} // 'postgres');
	$ci .= " application_name=$o{app}" if $o{app};
	$ci .= " options='$o{options}'" if $o{options};
	return $ci;
}

sub psql_cmd
{
	my ($self, %o) = @_;
	return [
		"$PG_BINDIR/psql", '-X', '-q', '-A', '-t',
		'-v', 'VERBOSITY=verbose',
		($o{no_stop} ? () : ('-v', 'ON_ERROR_STOP=1')),
		'-d', $self->conninfo(%o), @{ $o{args} // [] } ];
}

=head2 $c->psql($sql, %o)

Runs $sql (several statements allowed, each run on its own, as in a script)
with psql -X -q -A -t -v VERBOSITY=verbose -v ON_ERROR_STOP=1 over the unix
socket.  Options: node ('an' or a data node number), db, user, app
(application_name), options (e.g. '-c hyperdist.connect_timeout=2'), timeout.
Returns (stdout without the final newline, stderr, exit status); exit is -1
on timeout.

=cut

sub psql
{
	my ($self, $sql, %o) = @_;
	my ($rc, $out, $err) = run_cmd($self->psql_cmd(%o),
		stdin => $sql, timeout => $o{timeout} // 180);
	chomp $out;
	return ($out, $err, $rc);
}

# psql that must succeed: returns stdout.
sub psql_ok
{
	my ($self, $sql, %o) = @_;
	my ($out, $err, $rc) = $self->psql($sql, %o);
	if ($rc != 0 || $err =~ /\bERROR:/)
	{
		my ($first) = ($err =~ /(ERROR:[^\n]*)/);
		my $name = $o{name} // "SQL succeeds: " . short($sql);

		# the error in the name: summaries that list only names show it
		fail($name . ' (' . short($first // "exit $rc") . ')');
		diag("exit $rc, stderr:\n$err");
	}
	elsif ($o{name})
	{
		pass($o{name});
	}
	return $out;
}

# psql that must fail with an error whose SQLSTATE is $state (a string, or a
# qr// pattern); returns stderr.
sub psql_error
{
	my ($self, $sql, $state, $name, %o) = @_;
	my ($out, $err, $rc) = $self->psql($sql, %o);
	my $got = sqlstate($err);
	my $ok =
	  $rc != 0 && defined $got && (ref $state ? $got =~ $state : $got eq $state);
	ok($ok, $name) or diag("expected SQLSTATE $state; exit $rc, stderr:\n$err");
	return $err;
}

sub short
{
	my ($s) = @_;
	$s =~ s/\s+/ /g;
	return length($s) > 70 ? substr($s, 0, 67) . '...' : $s;
}

# A long-lived psql session on the access node (see HyperdistTest::Session).
sub session
{
	my ($self, %o) = @_;
	return HyperdistTest::Session->new($self, %o);
}

# Count of backends on data node $i running something that matches $like
# (other than the asking one).
sub dn_activity
{
	my ($self, $i, $like) = @_;
	my ($out, $err, $rc) = $self->psql(
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '$like' "
		  . "AND state <> 'idle' AND pid <> pg_backend_pid()",
		node => $i,
		db => 'postgres');
	return $rc == 0 ? $out + 0 : -1;
}

# ---- agents and servers --------------------------------------------------------

sub agent_pid
{
	my ($self, $i) = @_;
	my $pid = slurp($self->agent_pidfile($i));
	return undef unless defined $pid && $pid =~ /^\s*(\d+)/;
	$pid = $1;
	my $comm = slurp("/proc/$pid/comm") // '';
	chomp $comm;
	return undef unless $comm eq 'hyperdist-agent';
	# one of this cluster's agents, not a reused pid
	my $conf = $self->agent_dir($i) . '/agent.conf';
	my @argv = split /\0/, (slurp("/proc/$pid/cmdline") // '');
	return (grep { $_ eq $conf } @argv) ? $pid : undef;
}

sub agent_listening
{
	my ($self, $i) = @_;
	my $s = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $self->agent_port($i),
		Proto => 'tcp',
		Timeout => 2);
	return 0 unless $s;
	close $s;
	return 1;
}

=head2 $c->kill_agent($i, $signal = 'TERM')

Signals agent $i and waits for it to exit (SIGKILL after 30 s of TERM).

=cut

sub kill_agent
{
	my ($self, $i, $sig) = @_;
	$sig //= 'TERM';
	my $pid = $self->agent_pid($i);
	unless ($pid)
	{
		diag("agent$i is not running");
		return 0;
	}
	kill $sig, $pid;
	my $gone = poll_until(sub { !-e "/proc/$pid" || !$self->agent_pid($i) }, 30);
	unless ($gone)
	{
		diag("agent$i (pid $pid) ignored SIG$sig for 30 s; killing it");
		kill 'KILL', $pid;
		$gone = poll_until(sub { !-e "/proc/$pid" }, 30);
	}
	return $gone;
}

=head2 $c->start_agent($i, @extra_args)

Without extra arguments: `tools/cluster up` (which starts whatever is down).
With them: starts agent $i by hand with its config file plus the arguments
(e.g. '--authorized-keys', FILE).  Waits until it listens; returns true then.

=cut

sub start_agent
{
	my ($self, $i, @extra) = @_;
	if (!@extra)
	{
		my ($rc, $out, $err) = $self->cluster_cmd('up');
		diag("tools/cluster up failed:\n$out\n$err") if $rc != 0;
		return $rc == 0 && $self->agent_pid($i);
	}
	unlink $self->agent_pidfile($i);
	my $log = $self->log_path("agent$i");
	# setsid -f: the agent gets its own session and is not our child.
	my ($rc, $out, $err) = run_cmd(
		[
			'sh', '-c',
			'log=$1; shift; exec setsid -f "$@" </dev/null >>"$log" 2>&1',
			'sh', $log, $AGENT, '--config', $self->agent_dir($i) . '/agent.conf',
			@extra
		],
		timeout => 30);
	my $up = poll_until(sub { $self->agent_pid($i) && $self->agent_listening($i) }, 30);
	diag("agent$i did not start with @extra:\n" . tail($log, 20)) unless $up;
	return $up;
}

sub restart_agent
{
	my ($self, $i, $sig) = @_;
	$self->kill_agent($i, $sig // 'TERM') or return 0;
	return $self->start_agent($i);
}

sub pg_ctl
{
	my ($self, @args) = @_;
	return run_cmd([ "$PG_BINDIR/pg_ctl", @args ], timeout => 180);
}

sub stop_dn
{
	my ($self, $i, $mode) = @_;
	my ($rc, $out, $err) =
	  $self->pg_ctl('-D', $self->dn_pgdata($i), '-m', $mode // 'fast', '-w', 'stop');
	diag("pg_ctl stop dn$i: $out$err") if $rc != 0;
	return $rc == 0;
}

sub start_dn
{
	my ($self, $i) = @_;
	my ($rc, $out, $err) = $self->pg_ctl('-D', $self->dn_pgdata($i), '-l',
		$self->log_path("dn$i"), '-w', 'start');
	diag("pg_ctl start dn$i: $out$err") if $rc != 0;
	return $rc == 0;
}

=head2 $c->stop_an($mode), $c->start_an, $c->wait_an_ready($timeout)

stop_an stops the access node's PostgreSQL (pg_ctl -m $mode, default fast;
'immediate' is a crash); start_an starts it again.  wait_an_ready polls
until the access node answers queries again, e.g. after a backend crash,
when the postmaster reinitialises on its own; true once it does.

=cut

sub stop_an
{
	my ($self, $mode) = @_;
	my ($rc, $out, $err) =
	  $self->pg_ctl('-D', $self->an_pgdata, '-m', $mode // 'fast', '-w', 'stop');
	diag("pg_ctl stop an: $out$err") if $rc != 0;
	return $rc == 0;
}

sub start_an
{
	my ($self) = @_;
	my ($rc, $out, $err) = $self->pg_ctl('-D', $self->an_pgdata, '-l',
		$self->log_path('an'), '-w', 'start');
	diag("pg_ctl start an: $out$err") if $rc != 0;
	return $rc == 0;
}

sub wait_an_ready
{
	my ($self, $timeout) = @_;
	return poll_until(
		sub {
			my ($out, $err, $rc) = $self->psql('SELECT 1', timeout => 10);
			return $rc == 0 && $out eq '1';
		},
		$timeout // 120);
}

=head2 $c->prepared_xacts($i)

The number of prepared transactions on data node $i (every database), or
-1 when the data node cannot be asked.

=cut

sub prepared_xacts
{
	my ($self, $i) = @_;
	my ($out, $err, $rc) = $self->psql('SELECT count(*) FROM pg_prepared_xacts',
		node => $i, db => 'postgres', timeout => 30);
	return $rc == 0 ? $out + 0 : -1;
}

# Generates a key pair with the agent; returns the public key.
sub keygen
{
	my ($self, $dir, $name) = @_;
	mkdir $dir, 0700 unless -d $dir;
	my ($rc, $out, $err) =
	  run_cmd([ $AGENT, '--keygen', $dir, '--name', $name ], timeout => 30);
	die "hyperdist-agent --keygen $dir --name $name failed: $err" if $rc != 0;
	return read_key("$dir/$name.pub");
}

sub read_key
{
	my ($path) = @_;
	my $s = slurp($path) // die "cannot read $path";
	for (split /\n/, $s)
	{
		next if /^\s*#/ || !/\S/;
		return (split ' ')[0];
	}
	die "no key in $path";
}

sub tail
{
	my ($path, $n) = @_;
	my $s = slurp($path);
	return "($path: missing)\n" unless defined $s;
	my @l = split /\n/, $s;
	@l = @l[ -$n .. -1 ] if @l > $n;
	return join("\n", @l) . "\n";
}

sub dump_logs
{
	my ($self) = @_;
	return unless -d $self->{dir};
	for my $f (sort glob("$self->{dir}/*.log"))
	{
		diag("---- last lines of $f ----\n" . tail($f, 25));
	}
}

sub teardown
{
	my ($self) = @_;
	return if $self->{down};
	$self->{down} = 1;
	$self->dump_logs unless Test::More->builder->is_passing;
	if (-f "$self->{dir}/cluster.env")
	{
		my ($rc, $out, $err) = $self->cluster_cmd('down');
		diag("tools/cluster down failed: $out$err") if $rc != 0;
	}
	# Agents started by hand with another config are ours to stop too.
	for my $i (1 .. $self->{n})
	{
		my $pid = $self->agent_pid($i) or next;
		kill 'KILL', $pid;
	}
	# So are other clusters a test made under our directory.
	for my $env (glob("$self->{tmp}/*/*/cluster.env"), glob("$self->{tmp}/*/*/*/cluster.env"))
	{
		run_cmd([ "$TOOLS/cluster", 'down', '--dir', dirname($env) ], timeout => 300);
	}
	rmtree($self->{tmp}) unless ($ENV{HYPERDIST_KEEP_TMP} // '') eq '1';
	@live = grep { $_ != $self } @live;
}

END
{
	my $rc = $?;
	$_->teardown for @live;
	$? = $rc;
}

# ---- a long-lived psql session ---------------------------------------------------

package HyperdistTest::Session;

use strict;
use warnings;
use Carp;

=head2 HyperdistTest::Session

  my $s = $c->session(app => 'name');
  my ($out, $err) = $s->query($sql);    # send and wait
  $s->send($sql); ...; my ($out, $err) = $s->wait;
  $s->quit;

Each statement's stdout and stderr are separated by markers psql prints
after it (\echo and \warn), as PostgreSQL's BackgroundPsql does.

=cut

sub new
{
	my ($class, $cluster, %o) = @_;
	my $self = bless { in => '', out => '', err => '', n => 0 }, $class;
	$self->{timer} = IPC::Run::timer(180);
	my $cmd = $cluster->psql_cmd(%o, no_stop => 1);
	$self->{h} = IPC::Run::start($cmd, '<', \$self->{in}, '>', \$self->{out},
		'2>', \$self->{err}, $self->{timer});
	return $self;
}

sub send
{
	my ($self, $sql) = @_;
	croak "a statement is still running" if $self->{pending};
	$sql .= ';' unless $sql =~ /;\s*\z/;
	my $mark = '__hd_done_' . ++$self->{n} . '__';
	$self->{in} .= "$sql\n\\echo $mark\n\\warn $mark\n";
	$self->{pending} = $mark;
	$self->{h}->pump_nb;
	return;
}

sub complete
{
	my ($self) = @_;
	my $m = $self->{pending} or return 1;
	$self->{h}->pump_nb if $self->{h}->pumpable;
	return $self->{out} =~ /\Q$m\E\n/ && $self->{err} =~ /\Q$m\E\n/;
}

# Waits for the pending statement; returns (stdout, stderr).  Dies after
# $timeout seconds (default 180).
sub wait
{
	my ($self, $timeout) = @_;
	my $m = $self->{pending} or croak "nothing sent";
	$self->{timer}->start($timeout // 180);
	until ($self->{out} =~ /\Q$m\E\n/ && $self->{err} =~ /\Q$m\E\n/)
	{
		croak "psql session ended unexpectedly: $self->{err}"
		  unless $self->{h}->pumpable;
		croak "statement did not finish within " . ($timeout // 180) . " s"
		  if $self->{timer}->is_expired;
		$self->{h}->pump;
	}
	$self->{timer}->reset;
	$self->{out} =~ s/\A(.*?)\Q$m\E\n//s;
	my $out = $1;
	$self->{err} =~ s/\A(.*?)\Q$m\E\n//s;
	my $err = $1;
	delete $self->{pending};
	chomp $out;
	return ($out, $err);
}

sub query
{
	my ($self, $sql, $timeout) = @_;
	$self->send($sql);
	return $self->wait($timeout);
}

sub quit
{
	my ($self) = @_;
	return unless $self->{h};
	$self->{in} .= "\\q\n";
	eval { $self->{h}->finish; 1 } or $self->{h}->kill_kill;
	delete $self->{h};
	return;
}

sub DESTROY
{
	my ($self) = @_;
	local ($@, $?);
	eval { $self->{h}->kill_kill if $self->{h} };
}

1;
