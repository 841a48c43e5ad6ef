# SPDX-License-Identifier: PostgreSQL
# The job scheduler of the background worker: a due job runs by itself, as
# its owner; a failing job is retried until its retries are used up, then
# waits for its schedule; a run past its max_runtime is cancelled (57014);
# a run the access node's restart cut short is recorded as a crash and run
# again, and the scheduler goes on after the restart.  Waits poll the
# catalog with generous bounds; nothing asserts how long anything took.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use HyperdistTest;
use Test::More;

my $c = HyperdistTest->new(data_nodes => 1);

$c->psql_ok(
	"CREATE ROLE job_owner LOGIN;\n"
	  . "CREATE TABLE job_log (job_id int, who name DEFAULT current_user);\n"
	  . "GRANT INSERT ON job_log TO job_owner;\n"
	  . "CREATE FUNCTION log_func(job_id int, config jsonb) RETURNS void LANGUAGE sql\n"
	  . "  AS \$\$ INSERT INTO job_log VALUES (job_id) \$\$;\n"
	  . "CREATE FUNCTION fail_func(job_id int, config jsonb) RETURNS void LANGUAGE plpgsql\n"
	  . "  AS \$\$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = '22012'; END \$\$;\n"
	  . "CREATE PROCEDURE sleep_proc(job_id int, config jsonb) LANGUAGE sql\n"
	  . "  AS \$\$ SELECT pg_sleep(600) \$\$;",
	name => 'a log table and the jobs\' functions');

# a value of the job's row in job_stats
sub stat_of
{
	my ($job, $col) = @_;
	my ($out, $err, $rc) = $c->psql(
		"SELECT $col FROM hyperdist_information.job_stats WHERE job_id = $job");
	return $rc == 0 ? $out : "error: $err";
}

sub wait_stat
{
	my ($job, $cond, $what) = @_;
	my $last = '';
	my $ok = poll_until(
		sub {
			$last = stat_of($job, "$cond");
			return $last eq 't';
		},
		120);
	ok($ok, $what) or diag("last: $last");
}

# ---- a due job runs by itself, as its owner -----------------------------------
my $every = $c->psql_ok(
	"SET ROLE job_owner;\n" . "SELECT add_job('log_func', '1 second');");
wait_stat($every, 'total_runs >= 2 AND total_successes >= 2',
	'the scheduler runs a due job, and again at its next start');
is( $c->psql_ok("SELECT DISTINCT who FROM job_log WHERE job_id = $every"),
	'job_owner', 'the job ran as its owner');

# ---- retries, then the schedule ---------------------------------------------------------
my $failing = $c->psql_ok(
	"SELECT job_id FROM alter_job(add_job('fail_func', '1 day', fixed_schedule => false),"
	  . " retry_period => '1 second', max_retries => 1)");
wait_stat($failing, 'total_failures >= 2', 'a failing job is retried');
is( $c->psql_ok(
		"SELECT count(*) >= 2 AND bool_and(sqlerrcode = '22012')"
		  . " FROM hyperdist_information.job_errors WHERE job_id = $failing"),
	't', 'each failed run left its error');
is( $c->psql_ok(
		"SELECT next_start >= last_run_started_at + interval '23 hours'"
		  . " FROM hyperdist_information.job_stats WHERE job_id = $failing"),
	't', 'with its retries used up it waits for its schedule');

# ---- max_runtime ---------------------------------------------------------------
my $limited = $c->psql_ok(
	"SELECT job_id FROM alter_job(add_job('sleep_proc', '1 day', fixed_schedule => false),"
	  . " max_runtime => '1 second')");
ok( poll_until(
		sub {
			return $c->psql_ok("SELECT count(*) FROM hyperdist_information.job_errors"
				  . " WHERE job_id = $limited AND sqlerrcode = '57014'") > 0;
		},
		120),
	'a run past its max_runtime is cancelled and fails with 57014');
$c->psql_ok("SELECT delete_job($limited)");

# ---- a restart of the access node ---------------------------------------------------
my $long = $c->psql_ok(
	"SELECT job_id FROM alter_job(add_job('sleep_proc', '1 day', fixed_schedule => false),"
	  . " retry_period => '1 second')");
wait_stat($long, "job_status = 'Running'", 'a long job is running');
my $runs_before = stat_of($every, 'total_runs');
ok($c->stop_an('fast') && $c->start_an && $c->wait_an_ready,
	'access node restarted while the job ran');
wait_stat($long, 'total_failures = 1 AND total_runs >= 2',
	'the run cut short is recorded as a failure, and the job runs again');
wait_stat($every, "total_runs > $runs_before",
	'the scheduler runs the jobs after the restart');

$c->psql_ok("SELECT delete_job(job_id) FROM hyperdist_information.jobs WHERE job_id >= 1000");
$c->teardown;
done_testing();
