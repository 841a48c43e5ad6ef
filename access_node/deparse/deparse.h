/*
 * deparse/deparse.h — the SQL the access node sends to data nodes.
 */
#ifndef HYPERDIST_DEPARSE_DEPARSE_H
#define HYPERDIST_DEPARSE_DEPARSE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pathnodes.h"

extern int	hd_set_transmission_styles(void);
extern bool hd_is_foreign_expr(RelOptInfo *baserel, Expr *expr, bool aggs_ok);
extern void hd_classify_conditions(RelOptInfo *baserel, List *input_conds,
								   List **remote_conds, List **local_conds);
extern void hd_deparse_conditions(StringInfo buf, Oid relid, List *exprs,
								  List **params_list);
extern void hd_deparse_column_list(StringInfo buf, Oid relid,
								   Bitmapset *attrs_used,
								   List **retrieved_attrs);
extern void hd_deparse_expr_list(StringInfo buf, Oid relid, List *exprs,
								 const char *sep, List **params_list);

#endif							/* HYPERDIST_DEPARSE_DEPARSE_H */
