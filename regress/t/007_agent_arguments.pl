# SPDX-License-Identifier: PostgreSQL
# hyperdist-agent's command line and config file: every bad argument makes it
# exit at once with a message naming the problem, before it listens; key
# generation; a valid configuration starts and stops cleanly.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;

my $agent = $HyperdistTest::AGENT;
plan skip_all => "hyperdist-agent not installed at $agent" unless -x $agent;

my $tmp = tempdir('hdargs-XXXXXX',
	($ENV{HYPERDIST_TMP} && -d $ENV{HYPERDIST_TMP}) ? (DIR => $ENV{HYPERDIST_TMP}) : (TMPDIR => 1),
	CLEANUP => 1);
my $keys = "$tmp/keys";

sub run_agent
{
	my (@args) = @_;
	return HyperdistTest::run_cmd([ $agent, @args ], timeout => 20);
}

sub write_text
{
	my ($path, $text, $mode) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	chmod($mode // 0600, $path);
}

# ---- --keygen ----------------------------------------------------------------------
my ($rc, $out, $err) = run_agent('--keygen', $keys, '--name', 'agent');
is($rc, 0, '--keygen succeeds') or diag($err);
my $pub = HyperdistTest::read_key("$keys/agent.pub");
is($out, "$pub\n", '--keygen prints the public key it wrote to NAME.pub');
is((stat("$keys/agent.key"))[2] & 07777, 0600, 'NAME.key has mode 0600');
like($pub, qr/^[0-9A-Za-z.\-:+=^!\/*?&<>()\[\]{}@%\$#]{40}$/, 'the public key is 40 Z85 characters');
my $secret_before = HyperdistTest::slurp("$keys/agent.key");
($rc, $out, $err) = run_agent('--keygen', $keys, '--name', 'agent');
isnt($rc, 0, '--keygen refuses to overwrite an existing key');
like($err, qr/agent\.key.*exists|exists.*agent\.key/, '... and says so');
is(HyperdistTest::slurp("$keys/agent.key"), $secret_before, '... leaving it unchanged');
($rc, $out, $err) = run_agent('--keygen', "$tmp/no/such/dir", '--name', 'x');
isnt($rc, 0, '--keygen into a missing parent directory fails');
my $an_pub = HyperdistTest::keygen(undef, "$tmp/an", 'access_node');
write_text("$tmp/authorized_keys", "# test\n$an_pub access node\n");

# ---- a valid configuration ----------------------------------------------------------------
my $port = free_port();
my @base = ('--listen', "tcp://127.0.0.1:$port", '--pg', 'host=127.0.0.1 port=1',
	'--keys-dir', $keys, '--authorized-keys', "$tmp/authorized_keys");
{
	my ($in, $o, $e) = ('', '', '');
	my $h = IPC::Run::start([ $agent, @base, '--pid-file', "$tmp/agent.pid" ],
		'<', \$in, '>', \$o, '2>', \$e, IPC::Run::timeout(60));
	my $up = poll_until(
		sub {
			my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
			close $s if $s;
			return $s && -s "$tmp/agent.pid";
		},
		30);
	ok($up, 'a valid configuration starts and listens');
	my $pid = HyperdistTest::slurp("$tmp/agent.pid") // '';
	$pid =~ s/\s+//g;
	ok($pid =~ /^\d+$/ && kill(0, $pid), '... and writes its pid file');
	$h->signal('TERM');
	eval { $h->finish; 1 } or $h->kill_kill;
	is($h->result(0), 0, 'SIGTERM: exits with status 0') or diag($e);
	ok(HyperdistTest::port_free($port), '... and frees its port');
}

# ---- config file -------------------------------------------------------------------------
write_text("$tmp/good.conf",
	"# comment\nlisten = tcp://127.0.0.1:$port\npg = \"host=127.0.0.1 port=1\"\n"
	  . "keys_dir = $keys\nauthorized_keys = $tmp/authorized_keys\nlog_level = debug\n");
write_text("$tmp/unknown-key.conf", "listen = tcp://127.0.0.1:$port\nfrobnicate = 1\n");
write_text("$tmp/no-equals.conf", "listen tcp://127.0.0.1:$port\n");
write_text("$tmp/bad-level.conf", "log_level = chatty\n");
write_text("$tmp/bad-keys", "# a line that is not a key\nnot-a-key label\n");
write_text("$tmp/short-key", "$an_pub" . "x\n");

# Each case: arguments, what stderr must mention.
my @cases = (
	[ [ @base, '--frobnicate' ], qr/--frobnicate/, 'an unknown option' ],
	[ [ @base, 'extra' ], qr/extra/, 'a stray argument' ],
	[ [ @base, '--log-level' ], qr/log-level/, 'an option without its value' ],
	[ [ @base, '--log-level', 'loud' ], qr/loud/, 'a bad --log-level' ],
	[ [ @base, '--listen', 'bogus' ], qr/bogus/, 'a bad --listen endpoint' ],
	[ [ @base, '--listen', 'tcp://127.0.0.1:99999' ], qr/99999/, 'a --listen port out of range' ],
	[ [ @base, '--max-sessions', '0' ], qr/max.sessions/, '--max-sessions 0' ],
	[ [ @base, '--max-sessions', 'lots' ], qr/lots/, '--max-sessions lots' ],
	[ [ @base, '--config', "$tmp/none.conf" ], qr/none\.conf/, 'a missing config file' ],
	[ [ '--config', "$tmp/unknown-key.conf" ], qr/frobnicate/, 'an unknown key in the config file' ],
	[ [ '--config', "$tmp/no-equals.conf" ], qr/no-equals\.conf|=/, 'a config line without =' ],
	[ [ '--config', "$tmp/bad-level.conf", @base ], qr/chatty/, 'a bad log_level in the file' ],
	[ [ @base, '--keys-dir', "$tmp/nokeys" ], qr/agent\.key/, 'a keys dir without agent.key' ],
	[ [ @base, '--authorized-keys', "$tmp/none" ], qr/none/, 'a missing authorized_keys file' ],
	[ [ @base, '--authorized-keys', "$tmp/bad-keys" ], qr/bad-keys/, 'an authorized_keys line that is no key' ],
	[ [ @base, '--authorized-keys', "$tmp/short-key" ], qr/short-key/, 'an authorized key of the wrong length' ],
	[ [ @base, '--pid-file', "$tmp/no/such/dir/agent.pid" ], qr/agent\.pid/, 'a pid file in a missing directory' ],
);
for my $case (@cases)
{
	my ($args, $re, $name) = @$case;
	($rc, $out, $err) = run_agent(@$args);
	ok($rc > 0, "$name: exits with an error") or diag("exit $rc; stderr: $err");
	like($err, $re, "$name: the message names it");
	ok(HyperdistTest::port_free($port), "$name: nothing left listening");
}

# The good config file works, and the command line overrides it.
{
	my $port2 = free_port();
	my ($in, $o, $e) = ('', '', '');
	my $h = IPC::Run::start([ $agent, '--config', "$tmp/good.conf", '--listen', "tcp://127.0.0.1:$port2" ],
		'<', \$in, '>', \$o, '2>', \$e, IPC::Run::timeout(60));
	my $up = poll_until(
		sub {
			my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port2, Timeout => 1);
			close $s if $s;
			return $s;
		},
		30);
	ok($up, 'config file + --listen override: listens on the overriding endpoint');
	ok(HyperdistTest::port_free($port), '... not on the file\'s');
	$h->signal('TERM');
	eval { $h->finish; 1 } or $h->kill_kill;
	is($h->result(0), 0, '... and stops on SIGTERM');
}

# A port that is already taken.
{
	my $squat = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
		Proto => 'tcp', Listen => 5, ReuseAddr => 1) or die "listen: $!";
	($rc, $out, $err) = run_agent(@base);
	ok($rc > 0, 'a taken port: exits with an error') or diag("exit $rc; $err");
	like($err, qr/$port|in use/i, '... naming the endpoint');
	close $squat;
}

done_testing();
