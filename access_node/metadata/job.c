/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/job.c — reading and writing jobs and their runs (see job.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "metadata/catalog.h"
#include "metadata/job.h"
#include "spi_plan.h"

/* Errors kept per job, and the bytes kept of each message. */
#define HD_JOB_ERRORS_KEPT		100
#define HD_JOB_ERROR_MAX_BYTES	4096

#define JOB_COLUMNS \
	"j.id, j.application_name::text, j.schedule_interval, j.max_runtime, j.max_retries," \
	" j.retry_period, j.proc_schema::text, j.proc_name::text, j.owner::oid, j.scheduled," \
	" j.fixed_schedule, j.initial_start, j.hypertable_id, j.config, j.check_schema::text," \
	" j.check_name::text, j.timezone, js.next_start"

static char *
text_or_null(int col)
{
	bool		isnull;
	Datum		d = hd_spi_value(0, col, TEXTOID, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static void
interval_col(int col, Interval *out)
{
	*out = *DatumGetIntervalP(hd_spi_value(0, col, INTERVALOID, NULL));
}

/* Row 0 of the last result, in JOB_COLUMNS' order, into the current context. */
static void
job_from_row(HdJob *job)
{
	bool		isnull;
	Datum		d;

	job->id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	job->application_name = text_or_null(2);
	interval_col(3, &job->schedule_interval);
	interval_col(4, &job->max_runtime);
	job->max_retries = DatumGetInt32(hd_spi_value(0, 5, INT4OID, NULL));
	interval_col(6, &job->retry_period);
	job->proc_schema = text_or_null(7);
	job->proc_name = text_or_null(8);
	job->owner = DatumGetObjectId(hd_spi_value(0, 9, OIDOID, NULL));
	job->scheduled = DatumGetBool(hd_spi_value(0, 10, BOOLOID, NULL));
	job->fixed_schedule = DatumGetBool(hd_spi_value(0, 11, BOOLOID, NULL));
	d = hd_spi_value(0, 12, TIMESTAMPTZOID, &isnull);
	job->has_initial_start = !isnull;
	job->initial_start = isnull ? 0 : DatumGetTimestampTz(d);
	d = hd_spi_value(0, 13, INT4OID, &isnull);
	job->hypertable_id = isnull ? 0 : DatumGetInt32(d);
	d = hd_spi_value(0, 14, JSONBOID, &isnull);
	job->config = isnull ? NULL : DatumGetJsonbPCopy(d);
	job->check_schema = text_or_null(15);
	job->check_name = text_or_null(16);
	job->timezone = text_or_null(17);
	job->next_start = DatumGetTimestampTz(hd_spi_value(0, 18, TIMESTAMPTZOID, NULL));
}

bool
hd_job_read(int32 id, HdJob *job)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(id);
	MemoryContext caller = hd_spi_connect();
	bool		found;

	hd_spi_execute("SELECT " JOB_COLUMNS
				   "  FROM _hyperdist_catalog.bgw_job j"
				   "  JOIN _hyperdist_catalog.bgw_job_stat js ON js.job_id = j.id"
				   " WHERE j.id = $1",
				   1, &type, &value, NULL, false, 1);
	found = SPI_processed == 1;
	if (found)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		job_from_row(job);
		MemoryContextSwitchTo(spi);
	}
	hd_spi_finish();
	return found;
}

bool
hd_job_stat_read(int32 id, HdJobStat *stat)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(id);
	bool		found;
	bool		isnull;
	Datum		d;

	hd_spi_connect();
	/* the latest: run_job reads what its runner committed */
	PushActiveSnapshot(GetLatestSnapshot());
	hd_spi_execute("SELECT last_start, runner_pid, last_runner_pid, consecutive_failures,"
				   "       last_run_success"
				   "  FROM _hyperdist_catalog.bgw_job_stat WHERE job_id = $1",
				   1, &type, &value, NULL, true, 1);
	PopActiveSnapshot();
	found = SPI_processed == 1;
	if (found)
	{
		d = hd_spi_value(0, 1, TIMESTAMPTZOID, &isnull);
		stat->last_start = isnull ? 0 : DatumGetTimestampTz(d);
		d = hd_spi_value(0, 2, INT4OID, &isnull);
		stat->runner_pid = isnull ? 0 : DatumGetInt32(d);
		d = hd_spi_value(0, 3, INT4OID, &isnull);
		stat->last_runner_pid = isnull ? 0 : DatumGetInt32(d);
		stat->consecutive_failures = DatumGetInt32(hd_spi_value(0, 4, INT4OID, NULL));
		d = hd_spi_value(0, 5, BOOLOID, &isnull);
		stat->has_last_success = !isnull;
		stat->last_run_success = !isnull && DatumGetBool(d);
	}
	hd_spi_finish();
	return found;
}

int32
hd_job_find(int32 ht_id, const char *proc_schema, const char *proc_name)
{
	Oid			types[3] = {INT4OID, NAMEOID, NAMEOID};
	Datum		values[3] = {Int32GetDatum(ht_id), hd_spi_name_arg(proc_schema),
	hd_spi_name_arg(proc_name)};
	int32		id = 0;

	hd_spi_connect();
	hd_spi_execute("SELECT id FROM _hyperdist_catalog.bgw_job"
				   " WHERE hypertable_id = $1 AND proc_schema = $2 AND proc_name = $3"
				   " ORDER BY id",
				   3, types, values, NULL, false, 1);
	if (SPI_processed == 1)
		id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	hd_spi_finish();
	return id;
}

int32
hd_job_find_cagg_policy(int32 cagg_id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(cagg_id)};
	int32		id = 0;

	hd_spi_connect();
	hd_spi_execute("SELECT id FROM _hyperdist_catalog.bgw_job"
				   " WHERE proc_schema = '_hyperdist_functions'"
				   " AND proc_name = 'policy_refresh_continuous_aggregate'"
				   " AND (config OPERATOR(pg_catalog.->>) 'mat_hypertable_id')::int"
				   " OPERATOR(pg_catalog.=) $1 ORDER BY id",
				   1, types, values, NULL, false, 1);
	if (SPI_processed == 1)
		id = DatumGetInt32(hd_spi_value(0, 1, INT4OID, NULL));
	hd_spi_finish();
	return id;
}

/* The parameters $1..$18 of a job's row, in JOB_COLUMNS' order. */
#define JOB_NARGS 18

static void
job_args(const HdJob *job, Oid *types, Datum *values, char *nulls)
{
	Oid			t[JOB_NARGS] = {INT4OID, NAMEOID, INTERVALOID, INTERVALOID, INT4OID,
		INTERVALOID, NAMEOID, NAMEOID, OIDOID, BOOLOID, BOOLOID, TIMESTAMPTZOID, INT4OID,
	JSONBOID, NAMEOID, NAMEOID, TEXTOID, TIMESTAMPTZOID};

	memcpy(types, t, sizeof(t));
	memset(nulls, ' ', JOB_NARGS);
	values[0] = Int32GetDatum(job->id);
	values[1] = hd_spi_name_arg(job->application_name);
	values[2] = IntervalPGetDatum(&job->schedule_interval);
	values[3] = IntervalPGetDatum(&job->max_runtime);
	values[4] = Int32GetDatum(job->max_retries);
	values[5] = IntervalPGetDatum(&job->retry_period);
	values[6] = hd_spi_name_arg(job->proc_schema);
	values[7] = hd_spi_name_arg(job->proc_name);
	values[8] = ObjectIdGetDatum(job->owner);
	values[9] = BoolGetDatum(job->scheduled);
	values[10] = BoolGetDatum(job->fixed_schedule);
	values[11] = TimestampTzGetDatum(job->initial_start);
	nulls[11] = job->has_initial_start ? ' ' : 'n';
	values[12] = Int32GetDatum(job->hypertable_id);
	nulls[12] = job->hypertable_id != 0 ? ' ' : 'n';
	values[13] = job->config != NULL ? JsonbPGetDatum(job->config) : (Datum) 0;
	nulls[13] = job->config != NULL ? ' ' : 'n';
	values[14] = job->check_schema != NULL ? hd_spi_name_arg(job->check_schema) : (Datum) 0;
	nulls[14] = job->check_schema != NULL ? ' ' : 'n';
	values[15] = job->check_name != NULL ? hd_spi_name_arg(job->check_name) : (Datum) 0;
	nulls[15] = job->check_name != NULL ? ' ' : 'n';
	values[16] = job->timezone != NULL ? CStringGetTextDatum(job->timezone) : (Datum) 0;
	nulls[16] = job->timezone != NULL ? ' ' : 'n';
	values[17] = TimestampTzGetDatum(job->next_start);
}

/*
 * $1, the id, is the sequence's; "[]" in the name becomes "[id]", as in
 * TimescaleDB's names of jobs.
 */
static const char insert_sql[] =
"WITH id AS (SELECT pg_catalog.nextval('_hyperdist_catalog.bgw_job_id_seq')::int AS id),"
" j AS (INSERT INTO _hyperdist_catalog.bgw_job"
"  (id, application_name, schedule_interval, max_runtime, max_retries,"
"   retry_period, proc_schema, proc_name, owner, scheduled, fixed_schedule,"
"   initial_start, hypertable_id, config, check_schema, check_name, timezone)"
"  SELECT id.id, pg_catalog.replace($2, '[]', '[' || id.id || ']'),"
"         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17"
"    FROM id"
"  RETURNING id)"
" INSERT INTO _hyperdist_catalog.bgw_job_stat (job_id, next_start)"
" SELECT id, $18 FROM j RETURNING job_id";

int32
hd_job_insert(const HdJob *job)
{
	Oid			types[JOB_NARGS];
	Datum		values[JOB_NARGS];
	char		nulls[JOB_NARGS + 1] = {0};

	job_args(job, types, values, nulls);
	return DatumGetInt32(hd_catalog_write(insert_sql, JOB_NARGS, types, values, nulls,
										  INT4OID));
}

void
hd_job_update(const HdJob *job)
{
	Oid			types[JOB_NARGS];
	Datum		values[JOB_NARGS];
	char		nulls[JOB_NARGS + 1] = {0};

	job_args(job, types, values, nulls);
	(void) hd_catalog_write("WITH j AS (UPDATE _hyperdist_catalog.bgw_job"
							"   SET application_name = $2, schedule_interval = $3,"
							"       max_runtime = $4, max_retries = $5, retry_period = $6,"
							"       proc_schema = $7, proc_name = $8, owner = $9, scheduled = $10,"
							"       fixed_schedule = $11, initial_start = $12, hypertable_id = $13,"
							"       config = $14, check_schema = $15, check_name = $16,"
							"       timezone = $17"
							" WHERE id = $1)"
							" UPDATE _hyperdist_catalog.bgw_job_stat SET next_start = $18"
							"  WHERE job_id = $1",
							JOB_NARGS, types, values, nulls, InvalidOid);
}

void
hd_job_delete(int32 id)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(id);

	(void) hd_catalog_write("DELETE FROM _hyperdist_catalog.bgw_job WHERE id = $1",
							1, &type, &value, NULL, InvalidOid);
}

/* The int4s of the first column of the last result, into caller. */
static List *
ids_of_result(MemoryContext caller)
{
	List	   *ids = NIL;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		ids = lappend_int(ids, DatumGetInt32(hd_spi_value(i, 1, INT4OID, NULL)));
		MemoryContextSwitchTo(spi);
	}
	return ids;
}

List *
hd_job_due(TimestampTz now, TimestampTz *next_due)
{
	Oid			type = TIMESTAMPTZOID;
	Datum		value = TimestampTzGetDatum(now);
	MemoryContext caller = hd_spi_connect();
	List	   *ids;
	bool		isnull;
	Datum		d;

	hd_spi_execute("SELECT js.job_id FROM _hyperdist_catalog.bgw_job j"
				   "  JOIN _hyperdist_catalog.bgw_job_stat js ON js.job_id = j.id"
				   " WHERE j.scheduled AND js.runner_pid IS NULL AND js.next_start <= $1"
				   " ORDER BY js.next_start, js.job_id",
				   1, &type, &value, NULL, true, 0);
	ids = ids_of_result(caller);
	hd_spi_execute("SELECT pg_catalog.min(js.next_start) FROM _hyperdist_catalog.bgw_job j"
				   "  JOIN _hyperdist_catalog.bgw_job_stat js ON js.job_id = j.id"
				   " WHERE j.scheduled AND js.runner_pid IS NULL AND js.next_start > $1",
				   1, &type, &value, NULL, true, 0);
	d = hd_spi_value(0, 1, TIMESTAMPTZOID, &isnull);
	*next_due = isnull ? 0 : DatumGetTimestampTz(d);
	hd_spi_finish();
	return ids;
}

List *
hd_job_claimed(void)
{
	MemoryContext caller = hd_spi_connect();
	List	   *ids;

	hd_spi_execute("SELECT job_id FROM _hyperdist_catalog.bgw_job_stat"
				   " WHERE runner_pid IS NOT NULL ORDER BY job_id",
				   0, NULL, NULL, NULL, true, 0);
	ids = ids_of_result(caller);
	hd_spi_finish();
	return ids;
}

void
hd_job_run_started(int32 id, TimestampTz start, int32 pid)
{
	Oid			types[3] = {INT4OID, TIMESTAMPTZOID, INT4OID};
	Datum		values[3] = {Int32GetDatum(id), TimestampTzGetDatum(start),
	Int32GetDatum(pid)};

	(void) hd_catalog_write("UPDATE _hyperdist_catalog.bgw_job_stat"
							"   SET last_start = $2, runner_pid = $3, last_runner_pid = $3,"
							"       total_runs = total_runs + 1"
							" WHERE job_id = $1",
							3, types, values, NULL, InvalidOid);
}

void
hd_job_run_finished(int32 id, TimestampTz start, TimestampTz finish, bool success,
					bool crashed, const char *sqlstate, const char *message,
					TimestampTz next_start)
{
	Oid			types[8] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID, BOOLOID,
	TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[8];
	char		nulls[9] = "        ";

	values[0] = Int32GetDatum(id);
	values[1] = TimestampTzGetDatum(start);
	values[2] = TimestampTzGetDatum(finish);
	values[3] = BoolGetDatum(success);
	values[4] = BoolGetDatum(crashed);
	nulls[5] = sqlstate != NULL ? ' ' : 'n';
	values[5] = sqlstate != NULL ? CStringGetTextDatum(sqlstate) : (Datum) 0;
	nulls[6] = message != NULL ? ' ' : 'n';
	if (message != NULL)
		values[6] = PointerGetDatum(cstring_to_text_with_len(message,
															 pg_mbcliplen(message, strlen(message),
																		  HD_JOB_ERROR_MAX_BYTES)));
	values[7] = TimestampTzGetDatum(next_start);

	(void) hd_catalog_write("WITH s AS ("
							" UPDATE _hyperdist_catalog.bgw_job_stat"
							"    SET last_finish = $3, runner_pid = NULL, next_start = $8,"
							"        last_run_success = $4,"
							"        last_successful_finish = CASE WHEN $4 THEN $3"
							"                                      ELSE last_successful_finish END,"
							"        total_successes = total_successes + $4::int,"
							"        total_failures = total_failures + (NOT $4)::int,"
							"        total_crashes = total_crashes + $5::int,"
							"        consecutive_failures = CASE WHEN $4 THEN 0"
							"                                    ELSE consecutive_failures + 1 END"
							"  WHERE job_id = $1 RETURNING job_id, last_runner_pid),"
							" e AS (INSERT INTO _hyperdist_catalog.job_errors"
							"  SELECT s.job_id, s.last_runner_pid, $2, $3, $6, $7 FROM s WHERE NOT $4)"
							" DELETE FROM _hyperdist_catalog.job_errors je"
							"  USING (SELECT finish_time FROM _hyperdist_catalog.job_errors"
							"          WHERE job_id = $1 ORDER BY finish_time DESC"
							"          OFFSET " CppAsString2(HD_JOB_ERRORS_KEPT) " - 2 LIMIT 1) o"
							"  WHERE NOT $4 AND je.job_id = $1 AND je.finish_time < o.finish_time",
							8, types, values, nulls, InvalidOid);
}

bool
hd_job_last_error(int32 id, char **sqlstate, char **message)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(id);
	MemoryContext caller = hd_spi_connect();
	bool		found;

	PushActiveSnapshot(GetLatestSnapshot());
	hd_spi_execute("SELECT sqlerrcode, err_message FROM _hyperdist_catalog.job_errors"
				   " WHERE job_id = $1 ORDER BY finish_time DESC LIMIT 1",
				   1, &type, &value, NULL, true, 1);
	PopActiveSnapshot();
	found = SPI_processed == 1;
	if (found)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		*sqlstate = text_or_null(1);
		*message = text_or_null(2);
		MemoryContextSwitchTo(spi);
	}
	hd_spi_finish();
	return found;
}
