/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/params.h — the values of a remote statement's parameters.
 */
#ifndef HYPERDIST_FDW_PARAMS_H
#define HYPERDIST_FDW_PARAMS_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/execnodes.h"

/*
 * The parameters $1, $2... of a remote statement: expressions of the plan
 * (fdw_exprs), computed each time the statement is sent and sent as text.
 */
typedef struct HdRemoteParams
{
	int			n;
	List	   *exprs;			/* ExprStates */
	FmgrInfo   *out;			/* their types' output functions */
	Oid		   *types;
	const char **values;		/* text, NULL for SQL NULL */
} HdRemoteParams;

extern void hd_params_init(HdRemoteParams *params, List *exprs,
						   PlanState *parent);
extern void hd_params_compute(HdRemoteParams *params, ExprContext *econtext);
extern char *hd_params_inline(const HdRemoteParams *params, const char *sql);

#endif							/* HYPERDIST_FDW_PARAMS_H */
