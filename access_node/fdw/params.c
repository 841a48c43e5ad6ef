/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/params.c — the values of a remote statement's parameters.
 *
 * The deparser (deparse/expr.c) turns Params and values the access node
 * computes for the statement (now(), stable casts) into remote parameters
 * $1, $2...; scans and direct modifications compute them when they send
 * their statements, and send them as text printed as deparse/expr.c prints
 * constants, so that every data node reads them alike.
 */
#include "postgres.h"

#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "fdw/params.h"

void
hd_params_init(HdRemoteParams *params, List *exprs, PlanState *parent)
{
	int			n = list_length(exprs);
	ListCell   *lc;

	params->n = n;
	params->exprs = ExecInitExprList(exprs, parent);
	params->out = palloc(sizeof(FmgrInfo) * Max(n, 1));
	params->types = palloc(sizeof(Oid) * Max(n, 1));
	params->values = palloc0(sizeof(char *) * Max(n, 1));
	foreach(lc, exprs)
	{
		int			i = foreach_current_index(lc);
		Oid			typoutput;
		bool		isvarlena;

		params->types[i] = exprType(lfirst(lc));
		getTypeOutputInfo(params->types[i], &typoutput, &isvarlena);
		fmgr_info(typoutput, &params->out[i]);
	}
}

/*
 * The values now, in CurrentMemoryContext: a statement sent again (a
 * rescan) may see other values of PARAM_EXEC parameters.
 */
void
hd_params_compute(HdRemoteParams *params, ExprContext *econtext)
{
	int			nestlevel;
	ListCell   *lc;

	if (params->n == 0)
		return;
	nestlevel = hd_set_transmission_styles();
	foreach(lc, params->exprs)
	{
		int			i = foreach_current_index(lc);
		bool		isnull;
		Datum		value = ExecEvalExpr(lfirst(lc), econtext, &isnull);

		params->values[i] = isnull ? NULL :
			OutputFunctionCall(&params->out[i], value);
	}
	AtEOXact_GUC(true, nestlevel);
}

/*
 * sql with the values computed by hd_params_compute written in place of its
 * parameters, for statements that take none (COPY).
 */
char *
hd_params_inline(const HdRemoteParams *params, const char *sql)
{
	return hd_deparse_inline_params(sql, params->n, params->values);
}
