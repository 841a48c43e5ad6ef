/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/jobs.c — add_job, alter_job, delete_job, run_job, the retention
 * policies (add_retention_policy, remove_retention_policy) and the
 * continuous aggregates' refresh policies (add_continuous_aggregate_policy,
 * remove_continuous_aggregate_policy), as TimescaleDB 2.13 has them.
 *
 * A job belongs to the role that added it and runs as that role
 * (bgw/job_runner.c).  Any role may add a job calling a function or
 * procedure it may execute; only the owner, a member of its role, or a
 * superuser may alter, delete or run it.  A retention policy is a job of
 * the hypertable's owner calling _hyperdist_functions.policy_retention; a
 * refresh policy one of the continuous aggregate's owner calling
 * _hyperdist_functions.policy_refresh_continuous_aggregate, found by the
 * aggregate's id in its config (cagg/policy.c checks the offsets).
 *
 * run_job runs the job as the scheduler would, in a runner of its own,
 * and waits for it: the run is recorded as any other, and its error, if
 * it failed, is raised again here with its SQLSTATE.
 */
#include "postgres.h"

#include <signal.h>

#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bgw/bgw.h"
#include "bgw/job_runner.h"
#include "cagg/cagg.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"
#include "metadata/job.h"

#define HD_JOB_DEFAULT_RETRY_PERIOD_US		(5 * USECS_PER_MINUTE)
#define HD_RETENTION_MAX_RUNTIME_US			(5 * USECS_PER_MINUTE)
#define HD_RETENTION_SCHEDULE_INTERVAL_DAYS	1
#define HD_POLICY_SCHEMA					"_hyperdist_functions"
#define HD_RETENTION_PROC					"policy_retention"
#define HD_CAGG_REFRESH_PROC				"policy_refresh_continuous_aggregate"

/* What a job's function or procedure takes: (job_id integer, config jsonb). */
static const Oid job_argtypes[2] = {INT4OID, JSONBOID};

PG_FUNCTION_INFO_V1(hyperdist_add_job);
PG_FUNCTION_INFO_V1(hyperdist_alter_job);
PG_FUNCTION_INFO_V1(hyperdist_delete_job);
PG_FUNCTION_INFO_V1(hyperdist_run_job);
PG_FUNCTION_INFO_V1(hyperdist_add_retention_policy);
PG_FUNCTION_INFO_V1(hyperdist_remove_retention_policy);
PG_FUNCTION_INFO_V1(hyperdist_add_continuous_aggregate_policy);
PG_FUNCTION_INFO_V1(hyperdist_remove_continuous_aggregate_policy);

/* ---- checks ----------------------------------------------------------------- */

static void
not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be NULL", name)));
}

static void
check_positive(const Interval *iv, const char *name, bool zero_ok)
{
	Interval	zero = {0};
	int			cmp = DatumGetInt32(DirectFunctionCall2(interval_cmp,
														IntervalPGetDatum(iv),
														IntervalPGetDatum(&zero)));

	if (cmp < 0 || (cmp == 0 && !zero_ok))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s", name, zero_ok ? "zero or positive" : "positive")));
}

/*
 * proc must take exactly the argument types given, return no set, and be
 * executable by the caller; returns its kind.
 */
static void
check_proc(Oid proc, int nargs, const Oid *argtypes, const char *what)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(proc));
	Form_pg_proc form;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function or procedure with OID %u does not exist", proc)));
	form = (Form_pg_proc) GETSTRUCT(tup);
	ok = form->pronargs == nargs && !form->proretset &&
		form->prokind != PROKIND_AGGREGATE && form->prokind != PROKIND_WINDOW &&
		memcmp(form->proargtypes.values, argtypes, nargs * sizeof(Oid)) == 0;
	ReleaseSysCache(tup);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s has the wrong signature", what, format_procedure(proc)),
				 errhint(nargs == 2 ? "A job calls a function or procedure (job_id integer, config jsonb)."
						 : "A check function takes (config jsonb).")));
	if (pg_proc_aclcheck(proc, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(proc));
}

/*
 * Calls check function proc with config as the job's owner, under
 * SECURITY_RESTRICTED_OPERATION: a superuser or a member altering another
 * role's job runs nothing of that role's with its own privileges.
 */
static void
call_check(Oid proc, Jsonb *config, Oid owner)
{
	Oid			argtype = JSONBOID;

	LOCAL_FCINFO(fcinfo, 1);
	FmgrInfo	flinfo;
	Oid			saved_user;
	int			saved_sec;

	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	check_proc(proc, 1, &argtype, "check function");
	fmgr_info(proc, &flinfo);
	if (!flinfo.fn_strict || config != NULL)
	{
		InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = config != NULL ? JsonbPGetDatum(config) : (Datum) 0;
		fcinfo->args[0].isnull = config == NULL;
		(void) FunctionCallInvoke(fcinfo);
	}
	/* an error restores the user with the (sub)transaction's abort */
	SetUserIdAndSecContext(saved_user, saved_sec);
}

static void
set_check(HdJob *job, Oid check)
{
	job->check_schema = OidIsValid(check) ?
		get_namespace_name(get_func_namespace(check)) : NULL;
	job->check_name = OidIsValid(check) ? get_func_name(check) : NULL;
}

/* The check function of job, looked up by its qualified name (jsonb). */
static Oid
job_check(const HdJob *job)
{
	Oid			argtype = JSONBOID;

	Oid			check;

	if (job->check_schema == NULL)
		return InvalidOid;
	check = hd_job_lookup_proc(job->check_schema, job->check_name, 1, &argtype);
	if (!OidIsValid(check))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("check function %s.%s(jsonb) of job %d does not exist",
						quote_identifier(job->check_schema),
						quote_identifier(job->check_name), job->id)));
	return check;
}

/* A time zone that timestamptz_zone knows, or an error (22023). */
static void
check_timezone(const char *tz)
{
	(void) DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz),
							   TimestampTzGetDatum(hd_job_now()));
}

/* The job; an error unless it exists and the caller may manage it. */
static bool
managed_job(int32 id, HdJob *job, bool missing_ok)
{
	if (!hd_job_read(id, job))
	{
		if (missing_ok)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job %d not found", id)));
	}
	if (!has_privs_of_role(GetUserId(), job->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("insufficient permissions to alter job %d", id),
				 errdetail("Only the job's owner (\"%s\"), a member of its role, or a superuser may.",
						   GetUserNameFromId(job->owner, false))));
	return true;
}

/* ---- add_job, alter_job, delete_job --------------------------------------- */

/* A job of the caller's with TimescaleDB's defaults. */
static void
job_defaults(HdJob *job, const char *app_name, Oid proc, const Interval *schedule)
{
	memset(job, 0, sizeof(*job));
	job->application_name = pstrdup(app_name);
	job->schedule_interval = *schedule;
	job->max_retries = -1;
	job->retry_period.time = HD_JOB_DEFAULT_RETRY_PERIOD_US;
	job->proc_schema = get_namespace_name(get_func_namespace(proc));
	job->proc_name = get_func_name(proc);
	job->owner = GetUserId();
	job->scheduled = true;
}

/* The first start: initial_start if given, else now. */
static void
set_first_start(HdJob *job, FunctionCallInfo fcinfo, int argno)
{
	job->has_initial_start = !PG_ARGISNULL(argno);
	job->initial_start = job->has_initial_start ? PG_GETARG_TIMESTAMPTZ(argno) : 0;
	job->next_start = job->has_initial_start ? job->initial_start : hd_job_now();
}

static int32
job_add(HdJob *job)
{
	int32		id;

	if (job->timezone != NULL)
		check_timezone(job->timezone);
	id = hd_job_insert(job);
	hd_bgw_wake(true);
	return id;
}

Datum
hyperdist_add_job(PG_FUNCTION_ARGS)
{
	HdJob		job;
	Oid			proc;

	not_null(fcinfo, 0, "function or procedure");
	not_null(fcinfo, 1, "schedule interval");
	proc = PG_GETARG_OID(0);
	check_proc(proc, 2, job_argtypes, "function or procedure");
	check_positive(PG_GETARG_INTERVAL_P(1), "schedule interval", false);
	job_defaults(&job, "User-Defined Action []", proc, PG_GETARG_INTERVAL_P(1));
	job.config = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P_COPY(2);
	set_first_start(&job, fcinfo, 3);
	job.scheduled = PG_ARGISNULL(4) || PG_GETARG_BOOL(4);
	job.fixed_schedule = PG_ARGISNULL(6) || PG_GETARG_BOOL(6);
	job.timezone = PG_ARGISNULL(7) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(7));
	if (job.fixed_schedule && !job.has_initial_start)
	{
		/* a fixed schedule counts from the job's creation */
		job.has_initial_start = true;
		job.initial_start = job.next_start;
	}
	if (!PG_ARGISNULL(5))
	{
		call_check(PG_GETARG_OID(5), job.config, job.owner);
		set_check(&job, PG_GETARG_OID(5));
	}
	PG_RETURN_INT32(job_add(&job));
}

/* alter_job's row: the job as it is now. */
static Datum
alter_job_row(FunctionCallInfo fcinfo, const HdJob *job)
{
	TupleDesc	desc;
	Datum		values[12];
	bool		nulls[12] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "alter_job must return a row");
	desc = BlessTupleDesc(desc);
	values[0] = Int32GetDatum(job->id);
	values[1] = IntervalPGetDatum(&job->schedule_interval);
	values[2] = IntervalPGetDatum(&job->max_runtime);
	values[3] = Int32GetDatum(job->max_retries);
	values[4] = IntervalPGetDatum(&job->retry_period);
	values[5] = BoolGetDatum(job->scheduled);
	nulls[6] = job->config == NULL;
	values[6] = nulls[6] ? (Datum) 0 : JsonbPGetDatum(job->config);
	values[7] = TimestampTzGetDatum(job->next_start);
	nulls[8] = job->check_schema == NULL;
	if (!nulls[8])
		values[8] = CStringGetTextDatum(quote_qualified_identifier(job->check_schema,
																   job->check_name));
	values[9] = BoolGetDatum(job->fixed_schedule);
	nulls[10] = !job->has_initial_start;
	values[10] = TimestampTzGetDatum(job->initial_start);
	nulls[11] = job->timezone == NULL;
	if (!nulls[11])
		values[11] = CStringGetTextDatum(job->timezone);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

Datum
hyperdist_alter_job(PG_FUNCTION_ARGS)
{
	HdJob		job;
	Oid			check;

	not_null(fcinfo, 0, "job_id");
	if (!managed_job(PG_GETARG_INT32(0), &job,
					 !PG_ARGISNULL(8) && PG_GETARG_BOOL(8)))
	{
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

		ereport(NOTICE,
				(errmsg("job %d not found, skipping", PG_GETARG_INT32(0))));
		/* no row */
		if (rsinfo != NULL && IsA(rsinfo, ReturnSetInfo))
			rsinfo->isDone = ExprEndResult;
		PG_RETURN_NULL();
	}
	if (!PG_ARGISNULL(1))
	{
		check_positive(PG_GETARG_INTERVAL_P(1), "schedule interval", false);
		job.schedule_interval = *PG_GETARG_INTERVAL_P(1);
	}
	if (!PG_ARGISNULL(2))
	{
		check_positive(PG_GETARG_INTERVAL_P(2), "max_runtime", true);
		job.max_runtime = *PG_GETARG_INTERVAL_P(2);
	}
	if (!PG_ARGISNULL(3))
	{
		if (PG_GETARG_INT32(3) < -1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_retries must be -1 (without end) or more")));
		job.max_retries = PG_GETARG_INT32(3);
	}
	if (!PG_ARGISNULL(4))
	{
		check_positive(PG_GETARG_INTERVAL_P(4), "retry_period", false);
		job.retry_period = *PG_GETARG_INTERVAL_P(4);
	}
	if (!PG_ARGISNULL(5))
		job.scheduled = PG_GETARG_BOOL(5);
	if (!PG_ARGISNULL(6))
		job.config = PG_GETARG_JSONB_P_COPY(6);
	if (!PG_ARGISNULL(10))
		job.fixed_schedule = PG_GETARG_BOOL(10);
	if (!PG_ARGISNULL(11))
		set_first_start(&job, fcinfo, 11);
	if (!PG_ARGISNULL(7))
		job.next_start = PG_GETARG_TIMESTAMPTZ(7);
	if (!PG_ARGISNULL(12))
		job.timezone = text_to_cstring(PG_GETARG_TEXT_PP(12));
	if (job.timezone != NULL)
		check_timezone(job.timezone);
	if (job.fixed_schedule && !job.has_initial_start)
	{
		job.has_initial_start = true;
		job.initial_start = job.next_start;
	}
	check = PG_ARGISNULL(9) ? job_check(&job) : PG_GETARG_OID(9);
	if (OidIsValid(check) && (!PG_ARGISNULL(6) || !PG_ARGISNULL(9)))
		call_check(check, job.config, job.owner);
	set_check(&job, check);
	hd_job_update(&job);
	hd_bgw_wake(true);
	return alter_job_row(fcinfo, &job);
}

Datum
hyperdist_delete_job(PG_FUNCTION_ARGS)
{
	HdJob		job;

	(void) managed_job(PG_GETARG_INT32(0), &job, false);
	hd_job_delete(job.id);
	PG_RETURN_VOID();
}

/* ---- run_job ---------------------------------------------------------------- */

/* Waits for the runner; a cancel of the caller's cancels the run too. */
static pid_t
wait_runner(BackgroundWorkerHandle *handle)
{
	pid_t		pid = 0;

	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		return pid;
	PG_TRY();
	{
		(void) WaitForBackgroundWorkerShutdown(handle);
	}
	PG_CATCH();
	{
		(void) kill(pid, SIGINT);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return pid;
}

/* After job id's run in process pid: its error, if it failed, raised here. */
static void
report_run(int32 id, pid_t pid)
{
	HdJobStat	stat;
	char	   *sqlstate;
	char	   *message;

	if (!hd_job_stat_read(id, &stat))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job %d was deleted while it ran", id)));
	if (pid == 0 || stat.last_runner_pid != pid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("job %d did not run: another process runs it", id)));
	if (stat.runner_pid == pid)
	{
		hd_job_reap_crash(id);
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("the run of job %d ended without finishing", id),
				 errhint("The server log has the runner's error.")));
	}
	if (stat.last_run_success)
		return;
	if (!hd_job_last_error(id, &sqlstate, &message) || sqlstate == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("job %d failed", id)));
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
								   sqlstate[3], sqlstate[4])),
			 errmsg("%s", message != NULL ? message : "job failed"),
			 errcontext("job %d", id)));
}

Datum
hyperdist_run_job(PG_FUNCTION_ARGS)
{
	HdJob		job;
	char	   *refusal;
	BackgroundWorkerHandle *handle;

	not_null(fcinfo, 0, "job_id");
	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("run_job cannot run inside a transaction block or a function"),
				 errhint("The job runs in a process of its own, which sees only what is committed.")));
	(void) managed_job(PG_GETARG_INT32(0), &job, false);
	refusal = hd_job_owner_refusal(job.owner);
	if (refusal != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("job %d cannot run: %s", job.id, refusal)));
	if (!hd_job_lock(job.id))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("job %d is running", job.id)));
	hd_job_unlock(job.id);
	handle = hd_job_runner_start(job.id, job.owner);
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start job %d: no background worker slot is free", job.id),
				 errhint("Raise max_worker_processes.")));
	report_run(job.id, wait_runner(handle));
	PG_RETURN_VOID();
}

/* ---- policies ------------------------------------------------------------- */

/*
 * A policy (what, e.g. "retention policy") of relation relid (a kind, e.g.
 * "hypertable") exists already as job existing: an error, or with
 * if_not_exists a notice when its config is config, a warning otherwise.
 */
static void
policy_exists(int32 existing, Jsonb *config, bool if_not_exists, const char *what,
			  const char *kind, Oid relid, const char *remove)
{
	HdJob		job;

	if (!if_not_exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("%s already exists for %s \"%s\"", what, kind, get_rel_name(relid))));
	if (hd_job_read(existing, &job) && job.config != NULL &&
		DatumGetBool(DirectFunctionCall2(jsonb_eq, JsonbPGetDatum(job.config),
										 JsonbPGetDatum(config))))
		ereport(NOTICE,
				(errmsg("%s already exists for %s \"%s\", skipping", what, kind,
						get_rel_name(relid))));
	else
		ereport(WARNING,
				(errmsg("%s already exists for %s \"%s\" with different arguments", what, kind,
						get_rel_name(relid)),
				 errhint("Remove it with %s first to change it.", remove)));
}


/* The distributed hypertable relid, which the caller must own. */
static HdHypertable *
owned_hypertable(FunctionCallInfo fcinfo)
{
	Oid			relid;
	HdHypertable *ht;

	not_null(fcinfo, 0, "relation");
	relid = PG_GETARG_OID(0);
	ht = hd_hypertable_load(relid);
	if (ht == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is not a distributed hypertable",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	return ht;
}

static bool
integer_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/*
 * {"drop_after": <"interval" or integer>, "hypertable_id": id}; an integer
 * is in the time column's unit, from its integer_now function.
 */
static Jsonb *
retention_config(const HdHypertable *ht, const char *drop_after, bool integer)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"drop_after\": ");
	if (integer)
		appendStringInfoString(&buf, drop_after);
	else
		escape_json(&buf, drop_after);
	appendStringInfo(&buf, ", \"hypertable_id\": %d}", ht->id);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * drop_after as text: a positive interval for a time column of
 * timestamps or dates; for an integer one, a positive integer, once the
 * hypertable has an integer_now function.
 */
static char *
drop_after_arg(FunctionCallInfo fcinfo, const HdHypertable *ht)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	Oid			coltype = ht->time.type;

	not_null(fcinfo, 1, "drop_after");
	if (integer_type(coltype) && integer_type(type))
	{
		int64		value = type == INT2OID ? PG_GETARG_INT16(1) :
			type == INT4OID ? PG_GETARG_INT32(1) : PG_GETARG_INT64(1);

		if (value <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("drop_after must be positive")));
		if (!hd_catalog_has_integer_now_func(ht->id))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("integer_now function not set for hypertable \"%s\"",
							get_rel_name(ht->relid)),
					 errhint("Set one with set_integer_now_func().")));
		return psprintf(INT64_FORMAT, value);
	}
	if (integer_type(coltype) || type != INTERVALOID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for drop_after: type %s", format_type_be(type)),
				 errhint("An %s is required for the time column \"%s\" of type %s.",
						 integer_type(coltype) ? "integer" : "interval",
						 ht->time.column_name, format_type_be(coltype))));
	check_positive(PG_GETARG_INTERVAL_P(1), "drop_after", true);
	return DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(1)));
}

Datum
hyperdist_add_retention_policy(PG_FUNCTION_ARGS)
{
	HdHypertable *ht = owned_hypertable(fcinfo);
	char	   *drop_after = drop_after_arg(fcinfo, ht);
	Interval	schedule = {.day = HD_RETENTION_SCHEDULE_INTERVAL_DAYS};
	Jsonb	   *config = retention_config(ht, drop_after, integer_type(ht->time.type));
	int32		existing;
	HdJob		job;

	existing = hd_job_find(ht->id, HD_POLICY_SCHEMA, HD_RETENTION_PROC);
	if (existing != 0)
	{
		policy_exists(existing, config, !PG_ARGISNULL(2) && PG_GETARG_BOOL(2),
					  "retention policy", "hypertable", ht->relid,
					  "remove_retention_policy");
		PG_RETURN_INT32(-1);
	}
	if (!PG_ARGISNULL(3))
	{
		check_positive(PG_GETARG_INTERVAL_P(3), "schedule interval", false);
		schedule = *PG_GETARG_INTERVAL_P(3);
	}
	job_defaults(&job, "Retention Policy []",
				 hd_job_lookup_proc(HD_POLICY_SCHEMA, HD_RETENTION_PROC, 2, job_argtypes),
				 &schedule);
	job.max_runtime.time = HD_RETENTION_MAX_RUNTIME_US;
	job.hypertable_id = ht->id;
	job.config = config;
	set_first_start(&job, fcinfo, 4);
	/* as TimescaleDB's policies: fixed only when given a start */
	job.fixed_schedule = job.has_initial_start;
	job.timezone = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	PG_RETURN_INT32(job_add(&job));
}

Datum
hyperdist_remove_retention_policy(PG_FUNCTION_ARGS)
{
	HdHypertable *ht = owned_hypertable(fcinfo);
	int32		id = hd_job_find(ht->id, HD_POLICY_SCHEMA, HD_RETENTION_PROC);

	if (id == 0)
	{
		if (PG_ARGISNULL(1) || !PG_GETARG_BOOL(1))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("retention policy not found for hypertable \"%s\"",
							get_rel_name(ht->relid))));
		ereport(NOTICE,
				(errmsg("retention policy not found for hypertable \"%s\", skipping",
						get_rel_name(ht->relid))));
		PG_RETURN_VOID();
	}
	hd_job_delete(id);
	PG_RETURN_VOID();
}

/* ---- continuous aggregate refresh policies ---------------------------------- */

/* The continuous aggregate of view relid, which the caller must own. */
static void
owned_cagg(FunctionCallInfo fcinfo, HdCatalogCagg *cagg)
{
	Oid			relid;

	not_null(fcinfo, 0, "continuous_aggregate");
	relid = PG_GETARG_OID(0);
	if (!hd_catalog_cagg(relid, cagg))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation \"%s\" is not a continuous aggregate",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_MATVIEW, get_rel_name(relid));
}

Datum
hyperdist_add_continuous_aggregate_policy(PG_FUNCTION_ARGS)
{
	HdCatalogCagg cagg;
	Jsonb	   *config;
	int32		existing;
	HdJob		job;

	owned_cagg(fcinfo, &cagg);
	not_null(fcinfo, 3, "schedule_interval");
	check_positive(PG_GETARG_INTERVAL_P(3), "schedule interval", false);
	config = hd_cagg_policy_config(&cagg,
								   PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1),
								   PG_ARGISNULL(1),
								   PG_GETARG_DATUM(2), get_fn_expr_argtype(fcinfo->flinfo, 2),
								   PG_ARGISNULL(2));
	existing = hd_job_find_cagg_policy(cagg.id);
	if (existing != 0)
	{
		policy_exists(existing, config, !PG_ARGISNULL(4) && PG_GETARG_BOOL(4),
					  "continuous aggregate policy", "continuous aggregate", cagg.view_relid,
					  "remove_continuous_aggregate_policy");
		PG_RETURN_INT32(-1);
	}
	job_defaults(&job, "Refresh Continuous Aggregate Policy []",
				 hd_job_lookup_proc(HD_POLICY_SCHEMA, HD_CAGG_REFRESH_PROC, 2, job_argtypes),
				 PG_GETARG_INTERVAL_P(3));
	job.hypertable_id = cagg.hypertable_id;
	job.config = config;
	set_first_start(&job, fcinfo, 5);
	job.fixed_schedule = job.has_initial_start;
	job.timezone = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	PG_RETURN_INT32(job_add(&job));
}

/* if_exists, when given, overrides 2.13's older if_not_exists. */
Datum
hyperdist_remove_continuous_aggregate_policy(PG_FUNCTION_ARGS)
{
	HdCatalogCagg cagg;
	int32		id;
	bool		if_exists = PG_ARGISNULL(2) ? !PG_ARGISNULL(1) && PG_GETARG_BOOL(1) :
		PG_GETARG_BOOL(2);

	owned_cagg(fcinfo, &cagg);
	id = hd_job_find_cagg_policy(cagg.id);
	if (id == 0)
	{
		if (!if_exists)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("continuous aggregate policy not found for \"%s\"",
							get_rel_name(cagg.view_relid))));
		ereport(NOTICE,
				(errmsg("continuous aggregate policy not found for \"%s\", skipping",
						get_rel_name(cagg.view_relid))));
		PG_RETURN_VOID();
	}
	hd_job_delete(id);
	PG_RETURN_VOID();
}
