/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/exec.c — Exec requests: SQL run on a data node, answered with its
 * command tag and row count, or the data node's error.
 *
 * Also the transaction-control statements remote/txn.c sends (START
 * TRANSACTION, SAVEPOINT, PREPARE TRANSACTION, COMMIT PREPARED...), which
 * are Execs that never count as writes.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "remote/session_internal.h"

uint64
hd_exec(HdConn *conn, const char *sql, int nparams, const Oid *types,
		const char *const *values, char **command_tag)
{
	uint32		seq = hd_exec_send(conn, sql, nparams, types, values);

	return hd_exec_wait(conn, seq, command_tag);
}

uint32
hd_exec_send(HdConn *conn, const char *sql, int nparams, const Oid *types,
			 const char *const *values)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	hd_init_exec(&exec, &env, sql, nparams, types, values);
	return hd_conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
}

uint32
hd_exec_send_copy(HdConn *conn, const char *sql, const void *data, size_t len)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	hd_init_exec(&exec, &env, sql, 0, NULL, NULL);
	exec.has_copy_data = true;
	exec.copy_data.data = (uint8_t *) data;
	exec.copy_data.len = len;
	return hd_conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
}

uint32
hd_exec_send_params(HdConn *conn, const char *sql, int nparams,
					const HdParamValue *params)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__Param *pbs = palloc(sizeof(Hyperdist__Param) * Max(nparams, 1));
	Hyperdist__Param **pbps = palloc(sizeof(Hyperdist__Param *) * Max(nparams, 1));
	uint32		seq;

	hd_init_exec(&exec, &env, sql, 0, NULL, NULL);
	for (int i = 0; i < nparams; i++)
	{
		hyperdist__param__init(&pbs[i]);
		pbs[i].has_type_oid = true;
		pbs[i].type_oid = params[i].type;
		pbs[i].has_binary = true;
		pbs[i].binary = params[i].binary;
		if (params[i].data != NULL)
		{
			pbs[i].has_value = true;
			pbs[i].value.data = (uint8_t *) params[i].data;
			pbs[i].value.len = params[i].len;
		}
		pbps[i] = &pbs[i];
	}
	exec.n_params = nparams;
	exec.params = pbps;
	seq = hd_conn_request(conn, &env, HD_REQ_AWAIT, sql, false);
	pfree(pbs);
	pfree(pbps);
	return seq;
}

/*
 * Waits for the final reply to Exec request seq.  A data node's error is
 * raised, or, with err, returned there (false) unless it ended the session.
 */
bool
hd_exec_finish(HdConn *conn, uint32 seq, char **command_tag, uint64 *rows,
			   HdRemoteError *err)
{
	HdEnvelope *env = hd_conn_wait_for(conn, seq, conn->reply_cxt);
	int			i = hd_req_index(conn, seq);
	char	   *sql = hd_req_sql(conn, i);
	Hyperdist__Done *done;

	hd_req_remove(conn, i);
	if (env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
	{
		const char *st = env->error->sqlstate;

		if (err == NULL || hd_ends_session(env->error))
			hd_conn_remote_error(conn, env->error, sql);
		/* common/wire.c checked: five characters of [0-9A-Z] */
		err->sqlerrcode = MAKE_SQLSTATE(st[0], st[1], st[2], st[3], st[4]);
		err->message = pstrdup(env->error->message);
		err->detail = env->error->detail ? pstrdup(env->error->detail) : NULL;
		err->hint = env->error->hint ? pstrdup(env->error->hint) : NULL;
		return false;
	}
	if (env->body_case != HYPERDIST__ENVELOPE__BODY_DONE)
		hd_conn_protocol_error(conn, "the agent did not answer Exec with Done");

	done = env->done;
	if (command_tag != NULL)
		*command_tag = pstrdup(done->command_tag ? done->command_tag : "");
	if (rows != NULL)
		*rows = done->has_rows ? done->rows : 0;
	return true;
}

uint64
hd_exec_wait(HdConn *conn, uint32 seq, char **command_tag)
{
	uint64		rows;

	(void) hd_exec_finish(conn, seq, command_tag, &rows, NULL);
	return rows;
}

void
hd_conn_begin_xact(HdConn *conn, const char *sql, bool read_only)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	hd_init_exec(&exec, &env, sql, 0, NULL, NULL);
	/* at level 0: only the top-level abort may cancel it */
	(void) hd_conn_request(conn, &env, HD_REQ_CHECK, sql, true);
	conn->xact.read_only = read_only;
}

uint32
hd_conn_send_txn_sql(HdConn *conn, const char *sql, HdReqMode mode, int level)
{
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	hd_init_exec(&exec, &env, sql, 0, NULL, NULL);
	return hd_conn_request_at(conn, &env, mode, sql, REQ_TXN_CONTROL, level);
}
