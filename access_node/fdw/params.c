/*
 * fdw/params.c — the values of a remote statement's parameters.
 *
 * The deparser (deparse/expr.c) turns Params and values the access node
 * computes for the statement (now(), stable casts) into remote parameters
 * $1, $2...; scans and direct modifications compute them when they send
 * their statements, and send them as text printed as deparse.c prints
 * constants, so that every data node reads them alike.
 */
#include "postgres.h"

#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
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

/* Copies the quoted string or identifier at sql[i] to buf; returns its end. */
static int
copy_quoted(StringInfo buf, const char *sql, int i)
{
	char		quote = sql[i];
	/* quote_literal_cstr writes E'...' when it doubles backslashes */
	bool		escapes = quote == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
	int			start = i++;

	for (; sql[i] != '\0'; i++)
	{
		if (escapes && sql[i] == '\\' && sql[i + 1] != '\0')
			i++;
		else if (sql[i] == quote)
		{
			if (sql[i + 1] != quote)
				break;
			i++;				/* a doubled quote */
		}
	}
	if (sql[i] == quote)
		i++;
	appendBinaryStringInfo(buf, sql + start, i - start);
	return i;
}

/*
 * sql with the values computed by hd_params_compute written in place of its
 * parameters, for statements that take none (COPY): each $n outside quotes
 * becomes the value as a literal, or NULL (deparse.c follows every
 * parameter with a cast to its type).  Quoted strings and identifiers are
 * copied as they are; deparse.c quotes every identifier holding a '$'.
 */
char *
hd_params_inline(const HdRemoteParams *params, const char *sql)
{
	StringInfoData buf;
	int			i = 0;

	initStringInfo(&buf);
	while (sql[i] != '\0')
	{
		char		c = sql[i];

		if (c == '\'' || c == '"')
			i = copy_quoted(&buf, sql, i);
		else if (c == '$' && isdigit((unsigned char) sql[i + 1]))
		{
			char	   *end;
			long		n = strtol(sql + i + 1, &end, 10);

			if (n < 1 || n > params->n)
				elog(ERROR, "remote statement refers to parameter $%ld of %d", n, params->n);
			appendStringInfoString(&buf, params->values[n - 1] == NULL ? "NULL" :
								   quote_literal_cstr(params->values[n - 1]));
			i = end - sql;
		}
		else
			appendStringInfoChar(&buf, sql[i++]);
	}
	return buf.data;
}
