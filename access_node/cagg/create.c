/* SPDX-License-Identifier: PostgreSQL */
/*
 * cagg/create.c — CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous).
 *
 * The definition is checked first (one distributed hypertable, grouped by
 * time_bucket of its time column and plain columns, immutable functions
 * and aggregates only), then four objects are made, in one transaction:
 *
 *   _hyperdist_cagg._materialized_N   the finalized rows, the view's columns,
 *                                     indexed on the bucket (and each group
 *                                     column with the bucket)
 *   _hyperdist_cagg._watermark_N()    the end of the highest materialized
 *                                     bucket (the lowest time when none)
 *   the view the role named           the table's rows; real-time, those
 *                                     below the watermark and the query on
 *                                     the raw rows from the watermark on
 *   a row of continuous_agg           the statements refresh runs
 *
 * The table and the function are made as the catalog's owner (only it may
 * create in _hyperdist_cagg; nothing the role wrote is evaluated: the table
 * is made WITH NO DATA, the function's body is fixed) and given to the
 * role; they depend on the view internally, so that they go with it and
 * cannot be dropped alone.  The statements are deparsed under
 * search_path = pg_catalog, so every other name in them is qualified.
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "commands/createas.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parse_node.h"
#include "parser/parsetree.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"
#include "utils/typcache.h"

#include "cagg/cagg.h"
#include "cagg/internal.h"
#include "metadata/catalog.h"
#include "metadata/hypertable.h"
#include "metadata/invalidation.h"
#include "metadata/job.h"
#include "spi_plan.h"

typedef struct CaggOptions
{
	bool		continuous;
	bool		materialized_only;	/* 2.13's default: true */
	bool		group_indexes;
} CaggOptions;

/* What the checks found in the definition. */
typedef struct CaggQuery
{
	Query	   *query;
	HdHypertable *ht;
	FuncExpr   *bucket;			/* time_bucket(width, time, ...) */
	AttrNumber	bucket_attno;	/* in the materialized table */
	List	   *group_attnos;	/* the other group columns', likewise */
} CaggQuery;

/* ---- options ------------------------------------------------------------------ */

/* True when options hold timescaledb.continuous (true). */
static bool
parse_options(List *options, CaggOptions *opts)
{
	ListCell   *lc;

	opts->continuous = false;
	opts->materialized_only = true;
	opts->group_indexes = true;
	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		if (def->defnamespace == NULL || strcmp(def->defnamespace, "timescaledb") != 0)
			continue;
		if (strcmp(def->defname, "continuous") == 0)
			opts->continuous = defGetBoolean(def);
		else if (strcmp(def->defname, "materialized_only") == 0)
			opts->materialized_only = defGetBoolean(def);
		else if (strcmp(def->defname, "create_group_indexes") == 0)
			opts->group_indexes = defGetBoolean(def);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized parameter \"timescaledb.%s\"", def->defname)));
	}
	if (!opts->continuous)
		return false;
	foreach(lc, options)
		if (((DefElem *) lfirst(lc))->defnamespace == NULL ||
			strcmp(((DefElem *) lfirst(lc))->defnamespace, "timescaledb") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("parameter \"%s\" is not supported on continuous aggregates",
							((DefElem *) lfirst(lc))->defname)));
	return true;
}

/* ---- the definition's checks ------------------------------------------------- */

static void
refuse_query(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("invalid continuous aggregate query"),
			 errdetail("%s", detail),
			 errhint("A continuous aggregate selects from one distributed hypertable, grouped by time_bucket() of its time column and plain columns.")));
}

/* Whether node is hyperdist's time_bucket of the time column, constants aside. */
static bool
is_time_bucket(Node *node, const HdHypertable *ht)
{
	FuncExpr   *f = (FuncExpr *) node;
	Var		   *time;
	ListCell   *lc;

	if (!IsA(node, FuncExpr) || list_length(f->args) < 2 ||
		strcmp(get_func_name(f->funcid), "time_bucket") != 0 ||
		getExtensionOfObject(ProcedureRelationId, f->funcid) !=
		get_extension_oid("hyperdist", false))
		return false;
	time = lsecond(f->args);
	if (!IsA(time, Var) || time->varno != 1 || time->varlevelsup != 0 ||
		time->varattno != ht->time.attnum)
		return false;
	foreach(lc, f->args)
		if (lc != list_second_cell(f->args) &&
			!IsA(eval_const_expressions(NULL, lfirst(lc)), Const))
			refuse_query("The arguments of time_bucket() other than the time column must be constants.");
	return true;
}

/* Whether node calls an aggregate that is not immutable. */
static bool
mutable_aggregate(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) &&
		func_volatile(((Aggref *) node)->aggfnoid) != PROVOLATILE_IMMUTABLE)
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, mutable_aggregate, context, 0);
	return expression_tree_walker(node, mutable_aggregate, context);
}

static void
check_shape(Query *q)
{
	RangeTblEntry *rte;

	if (q->commandType != CMD_SELECT || q->utilityStmt != NULL)
		refuse_query("Only SELECT is supported.");
	if (q->setOperations || q->cteList || q->hasSubLinks || q->hasWindowFuncs ||
		q->hasTargetSRFs || q->hasRecursive || q->rowMarks)
		refuse_query("Set operations, WITH, subqueries, window functions, set-returning functions and FOR UPDATE are not supported.");
	if (q->distinctClause || q->sortClause || q->limitCount || q->limitOffset)
		refuse_query("DISTINCT, ORDER BY, LIMIT and OFFSET are not supported.");
	if (q->groupingSets)
		refuse_query("GROUPING SETS, ROLLUP and CUBE are not supported.");
	if (q->groupClause == NIL)
		refuse_query("The query must have a GROUP BY clause with time_bucket().");
	if (list_length(q->rtable) != 1 || list_length(q->jointree->fromlist) != 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		refuse_query("The query must select from one distributed hypertable, with no joins.");
	rte = rt_fetch(1, q->rtable);
	if (rte->rtekind != RTE_RELATION || rte->tablesample)
		refuse_query("The query must select from one distributed hypertable, with no joins.");
	if (!hd_hypertable_registered(rte->relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" is not a distributed hypertable", get_rel_name(rte->relid)),
				 errhint("Continuous aggregates here aggregate distributed hypertables.")));
	if (contain_mutable_functions((Node *) q) || mutable_aggregate((Node *) q, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("only immutable functions supported in continuous aggregate view"),
				 errhint("Functions and aggregates of the definition must be IMMUTABLE for its argument types, so that a refresh computes what the view showed.")));
}

/* Position of tle among the columns the materialized table gets. */
static AttrNumber
column_of(Query *q, TargetEntry *tle)
{
	AttrNumber	attno = 0;
	ListCell   *lc;

	foreach(lc, q->targetList)
	{
		if (!((TargetEntry *) lfirst(lc))->resjunk)
			attno++;
		if (lfirst(lc) == tle)
			return tle->resjunk ? InvalidAttrNumber : attno;
	}
	return InvalidAttrNumber;
}

static void
check_grouping(CaggQuery *cq)
{
	ListCell   *lc;

	foreach(lc, cq->query->groupClause)
	{
		TargetEntry *tle = get_sortgroupclause_tle(lfirst(lc), cq->query->targetList);

		if (is_time_bucket((Node *) tle->expr, cq->ht))
		{
			if (cq->bucket != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("continuous aggregate view cannot contain multiple time bucket functions")));
			cq->bucket = (FuncExpr *) tle->expr;
			cq->bucket_attno = column_of(cq->query, tle);
			if (cq->bucket_attno == InvalidAttrNumber)
				refuse_query("The time_bucket() of GROUP BY must be in the select list.");
		}
		else if (IsA(tle->expr, Var))
		{
			AttrNumber	attno = column_of(cq->query, tle);

			if (attno != InvalidAttrNumber)
				cq->group_attnos = lappend_int(cq->group_attnos, attno);
		}
		else
			refuse_query("GROUP BY may hold time_bucket() of the time column and plain columns only.");
	}
	if (cq->bucket == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("continuous aggregate view must include a valid time bucket function"),
				 errhint("Group by time_bucket() of the hypertable's time column \"%s\".",
						 cq->ht->time.column_name)));
}

/* ---- deparsed statements ------------------------------------------------------ */

static Node *
time_param(Oid type, int id)
{
	Param	   *p = makeNode(Param);

	p->paramkind = PARAM_EXTERN;
	p->paramid = id;
	p->paramtype = type;
	p->paramtypmod = -1;
	p->paramcollid = InvalidOid;
	p->location = -1;
	return (Node *) p;
}

/* time <op> value, op the time type's btree operator of strategy. */
static Node *
time_compare(const HdHypertable *ht, int strategy, Node *value)
{
	Oid			type = ht->time.type;
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_BTREE_OPFAMILY);
	Oid			opno = get_opfamily_member(tc->btree_opf, type, type, strategy);

	if (!OidIsValid(opno))
		elog(ERROR, "no btree operator of strategy %d for type %s", strategy,
			 format_type_be(type));
	return (Node *) make_opclause(opno, BOOLOID, false,
								  (Expr *) makeVar(1, ht->time.attnum, type, -1, InvalidOid, 0),
								  (Expr *) value, InvalidOid, InvalidOid);
}

/*
 * Deparsing is under search_path = pg_catalog, pg_temp (every other name is
 * qualified) and the output styles pg_dump uses, so that constants read
 * back the same whatever the settings of the session running the text.
 */
static int
deparse_begin(void)
{
	int			nestlevel = hd_safe_search_path_begin();

	(void) set_config_option("datestyle", "ISO", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/* The query on lower <= time (< upper, when upper is not NULL), as SQL. */
static char *
query_on_range(const CaggQuery *cq, Node *lower, Node *upper)
{
	Query	   *q = copyObject(cq->query);
	List	   *quals = NIL;
	int			nestlevel;
	char	   *sql;

	if (q->jointree->quals != NULL)
		quals = lappend(quals, q->jointree->quals);
	quals = lappend(quals, time_compare(cq->ht, BTGreaterEqualStrategyNumber, lower));
	if (upper != NULL)
		quals = lappend(quals, time_compare(cq->ht, BTLessStrategyNumber, upper));
	q->jointree->quals = (Node *) make_ands_explicit(quals);
	nestlevel = deparse_begin();
	sql = pg_get_querydef(q, false);
	hd_safe_search_path_end(nestlevel);
	return sql;
}

static char *
deparse_qualified(Node *expr)
{
	int			nestlevel = deparse_begin();
	char	   *sql = deparse_expression(expr, NIL, false, false);

	hd_safe_search_path_end(nestlevel);
	return sql;
}

const char *
hd_cagg_time_bound(Oid typid, bool upper)
{
	switch (typid)
	{
		case INT2OID:
			return upper ? "32767" : "-32768";
		case INT4OID:
			return upper ? "2147483647" : "-2147483648";
		case INT8OID:
			return upper ? "9223372036854775807" : "-9223372036854775808";
		default:
			return upper ? "'infinity'" : "'-infinity'";
	}
}

char *
hd_cagg_relation_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

char *
hd_cagg_view_sql(const HdCatalogCagg *cagg, const char *view_name)
{
	char	   *mat = hd_cagg_relation_name(cagg->mat_relid);

	if (cagg->materialized_only)
		return psprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM %s", view_name, mat);
	return psprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM %s WHERE %s"
					" OPERATOR(pg_catalog.<) %s._watermark_%d() UNION ALL %s",
					view_name, mat, quote_identifier(cagg->bucket_column),
					HD_CAGG_SCHEMA, cagg->id, cagg->realtime_sql);
}

/* ---- the objects ------------------------------------------------------------- */

/* Runs sql through SPI (connected), under the fixed search_path. */
static void
run(const char *sql)
{
	hd_spi_execute_once(sql, 0, NULL, NULL, NULL, false, 0);
}

static Oid
create_table(CreateTableAsStmt *stmt, const CaggQuery *cq, const char *name,
			 const char *query_string)
{
	CreateTableAsStmt *ctas = makeNode(CreateTableAsStmt);
	IntoClause *into = copyObject(stmt->into);
	ParseState *pstate = make_parsestate(NULL);

	into->rel = makeRangeVar(HD_CAGG_SCHEMA, pstrdup(name), -1);
	into->options = NIL;
	into->onCommit = ONCOMMIT_NOOP;
	into->tableSpaceName = NULL;
	into->viewQuery = NULL;
	into->skipData = true;
	ctas->query = (Node *) copyObject(cq->query);
	ctas->into = into;
	ctas->objtype = OBJECT_TABLE;
	pstate->p_sourcetext = query_string;
	return ExecCreateTableAs(pstate, ctas, NULL, NULL, NULL).objectId;
}

static void
create_indexes(const CaggQuery *cq, Oid mat, bool group_indexes)
{
	char	   *name = hd_cagg_relation_name(mat);
	const char *bucket = quote_identifier(get_attname(mat, cq->bucket_attno, false));
	ListCell   *lc;

	run(psprintf("CREATE INDEX ON %s (%s DESC)", name, bucket));
	if (!group_indexes)
		return;
	foreach(lc, cq->group_attnos)
		run(psprintf("CREATE INDEX ON %s (%s, %s DESC)", name,
					 quote_identifier(get_attname(mat, lfirst_int(lc), false)), bucket));
}

/* _watermark_N(): SECURITY DEFINER, as readers of the view need not read the table. */
static Oid
create_watermark(const CaggQuery *cq, int32 id, Oid mat, const char *width)
{
	const char *type = format_type_be_qualified(cq->ht->time.type);
	char	   *fname = psprintf("%s._watermark_%d", HD_CAGG_SCHEMA, id);

	run(psprintf("CREATE FUNCTION %s() RETURNS %s LANGUAGE sql STABLE SECURITY DEFINER"
				 " SET search_path = pg_catalog, pg_temp BEGIN ATOMIC"
				 " SELECT COALESCE(CAST(max(%s) + %s AS %s), CAST(%s AS %s)) FROM %s; END",
				 fname, type, quote_identifier(get_attname(mat, cq->bucket_attno, false)),
				 width, type, hd_cagg_time_bound(cq->ht->time.type, false), type,
				 hd_cagg_relation_name(mat)));
	return LookupFuncName(stringToQualifiedNameList(fname), 0, NULL, false);
}

static void
depend_on_view(Oid classid, Oid objid, Oid view)
{
	ObjectAddress obj = {classid, objid, 0};
	ObjectAddress ref = {RelationRelationId, view, 0};

	recordDependencyOn(&obj, &ref, DEPENDENCY_INTERNAL);
}

/*
 * The table and the watermark function, made as the catalog's owner and
 * given to the role creating the view.
 */
static Oid
create_internal(CreateTableAsStmt *stmt, const CaggQuery *cq, HdCatalogCagg *cagg,
				bool group_indexes, const char *query_string)
{
	Oid			watermark;
	const char *owner = quote_identifier(GetUserNameFromId(GetUserId(), false));
	HdCatalogWriter writer;

	hd_spi_connect();
	hd_catalog_writer_begin(&writer);
	cagg->mat_relid = create_table(stmt, cq, psprintf("_materialized_%d", cagg->id),
								   query_string);
	CommandCounterIncrement();
	create_indexes(cq, cagg->mat_relid, group_indexes);
	watermark = create_watermark(cq, cagg->id, cagg->mat_relid, cagg->bucket_width_sql);
	run(psprintf("ALTER TABLE %s OWNER TO %s", hd_cagg_relation_name(cagg->mat_relid), owner));
	run(psprintf("ALTER FUNCTION %s._watermark_%d() OWNER TO %s", HD_CAGG_SCHEMA, cagg->id,
				 owner));
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
	return watermark;
}

static void
deparse_statements(const CaggQuery *cq, HdCatalogCagg *cagg, Oid watermark)
{
	Oid			type = cq->ht->time.type;
	FuncExpr   *bucket = copyObject(cq->bucket);
	int			nestlevel;

	lsecond(bucket->args) = time_param(type, 1);
	cagg->bucket_sql = deparse_qualified((Node *) bucket);
	cagg->refresh_sql = query_on_range(cq, time_param(type, 1), time_param(type, 2));
	cagg->realtime_sql = query_on_range(cq, (Node *) makeFuncExpr(watermark, type, NIL,
																  InvalidOid, InvalidOid,
																  COERCE_EXPLICIT_CALL),
										NULL);
	nestlevel = deparse_begin();
	cagg->definition = pg_get_querydef(cq->query, true);
	hd_safe_search_path_end(nestlevel);
}

/*
 * The view, its table and watermark function going with it.  The view
 * depends on the hypertable as a view reading it would: a view of
 * materialized rows alone does not read it, and DROP TABLE of the
 * hypertable would leave it behind, its catalog row gone; so DROP TABLE
 * needs CASCADE, which drops the view (ddl/dropped.c forgets it), as
 * TimescaleDB required.
 */
static void
create_view(HdCatalogCagg *cagg, Oid nspid, const char *relname, Oid watermark,
			Oid ht_relid)
{
	char	   *name = quote_qualified_identifier(get_namespace_name(nspid), relname);
	ObjectAddress view;
	ObjectAddress ht = {RelationRelationId, ht_relid, 0};

	hd_spi_connect();
	run(hd_cagg_view_sql(cagg, name));
	hd_spi_finish();
	cagg->view_relid = get_relname_relid(relname, nspid);
	depend_on_view(RelationRelationId, cagg->mat_relid, cagg->view_relid);
	depend_on_view(ProcedureRelationId, watermark, cagg->view_relid);
	ObjectAddressSet(view, RelationRelationId, cagg->view_relid);
	recordDependencyOn(&view, &ht, DEPENDENCY_NORMAL);
}

bool
hd_cagg_create(CreateTableAsStmt *stmt, const char *query_string, bool top_level)
{
	CaggOptions opts;
	CaggQuery	cq = {0};
	HdCatalogCagg cagg = {0};
	Oid			nspid;
	Oid			watermark;

	if (stmt->objtype != OBJECT_MATVIEW || !parse_options(stmt->into->options, &opts))
		return false;
	if (stmt->if_not_exists &&
		OidIsValid(RangeVarGetRelid(stmt->into->rel, NoLock, true)))
	{
		ereport(NOTICE,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists, skipping", stmt->into->rel->relname)));
		return true;
	}
	if (stmt->into->rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("continuous aggregates cannot be temporary")));
	nspid = RangeVarGetCreationNamespace(stmt->into->rel);
	if (pg_namespace_aclcheck(nspid, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_SCHEMA, get_namespace_name(nspid));

	cq.query = castNode(Query, stmt->query);
	check_shape(cq.query);
	cq.ht = hd_hypertable_load(rt_fetch(1, cq.query->rtable)->relid);
	check_grouping(&cq);
	cagg.hypertable_id = hd_catalog_owned_hypertable(cq.ht->relid);

	cagg.id = hd_catalog_next_cagg_id();
	cagg.materialized_only = opts.materialized_only;
	cagg.bucket_width_sql = deparse_qualified(linitial(cq.bucket->args));
	watermark = create_internal(stmt, &cq, &cagg, opts.group_indexes, query_string);
	cagg.bucket_column = get_attname(cagg.mat_relid, cq.bucket_attno, false);
	deparse_statements(&cq, &cagg, watermark);
	create_view(&cagg, nspid, stmt->into->rel->relname, watermark, cq.ht->relid);

	/*
	 * Writers in flight do not log their changes (the hypertable had no
	 * continuous aggregate when they started): wait for them, so that the
	 * first refresh sees their rows.  Writers after this see the aggregate
	 * (its catalog row invalidates their cache) and log theirs.
	 */
	LockRelationOid(cq.ht->relid, ShareLock);
	hd_catalog_add_cagg(&cagg);
	hd_inval_cagg_created(cagg.id);
	if (!stmt->into->skipData)
	{
		CommandCounterIncrement();
		hd_cagg_refresh(cagg.view_relid, (Datum) 0, cq.ht->time.type, true,
						(Datum) 0, cq.ht->time.type, true);
	}
	return true;
}

/* ---- DROP and ALTER ---------------------------------------------------------- */

static Oid
cagg_of(RangeVar *rv, LOCKMODE lock, HdCatalogCagg *cagg)
{
	Oid			relid = RangeVarGetRelid(rv, lock, true);

	return OidIsValid(relid) && hd_catalog_cagg(relid, cagg) ? relid : InvalidOid;
}

/* The catalog rows of a continuous aggregate whose view goes: policy and all. */
static void
forget_cagg(const HdCatalogCagg *cagg)
{
	int32		job = hd_job_find_cagg_policy(cagg->id);

	if (job != 0)
		hd_job_delete(job);
	hd_catalog_delete_cagg(cagg->id);
}

void
hd_cagg_forget(Oid view_relid)
{
	HdCatalogCagg cagg;

	if (hd_catalog_cagg(view_relid, &cagg))
		forget_cagg(&cagg);
}

void
hd_cagg_forget_in(Oid nspid, Oid owner)
{
	ListCell   *lc;

	foreach(lc, hd_catalog_caggs_in(nspid, owner))
	{
		LockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
		hd_cagg_forget(lfirst_oid(lc));
	}
}

static void
check_view_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_MATVIEW, get_rel_name(relid));
}

bool
hd_cagg_drop(DropStmt *stmt)
{
	List	   *rest = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		HdCatalogCagg cagg;
		Oid			relid = cagg_of(makeRangeVarFromNameList(lfirst(lc)),
									AccessExclusiveLock, &cagg);
		ObjectAddress view = {RelationRelationId, relid, 0};

		if (!OidIsValid(relid))
		{
			rest = lappend(rest, lfirst(lc));
			continue;
		}
		if (stmt->removeType != OBJECT_MATVIEW)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot drop continuous aggregate \"%s\" with DROP VIEW",
							get_rel_name(relid)),
					 errhint("Use DROP MATERIALIZED VIEW.")));
		check_view_owner(relid);
		forget_cagg(&cagg);
		performDeletion(&view, stmt->behavior, 0);
	}
	stmt->objects = rest;
	return rest == NIL;
}

/* The value of timescaledb.materialized_only in a SET (...) command. */
static bool
materialized_only_option(AlterTableCmd *cmd)
{
	ListCell   *lc;
	int			found = -1;

	if (cmd->subtype != AT_SetRelOptions)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("this ALTER MATERIALIZED VIEW is not supported on continuous aggregates"),
				 errhint("SET (timescaledb.materialized_only = ...) is.")));
	foreach(lc, (List *) cmd->def)
	{
		DefElem    *def = lfirst(lc);

		if (def->defnamespace == NULL || strcmp(def->defnamespace, "timescaledb") != 0 ||
			strcmp(def->defname, "materialized_only") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("parameter \"%s\" cannot be set on continuous aggregates",
							def->defname)));
		found = defGetBoolean(def);
	}
	return found != 0;
}

bool
hd_cagg_alter(AlterTableStmt *stmt)
{
	HdCatalogCagg cagg;
	Oid			relid;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_MATVIEW)
		return false;
	relid = cagg_of(stmt->relation, AccessExclusiveLock, &cagg);
	if (!OidIsValid(relid))
		return false;
	check_view_owner(relid);
	foreach(lc, stmt->cmds)
		cagg.materialized_only = materialized_only_option(lfirst(lc));
	hd_catalog_set_cagg_materialized_only(cagg.id, cagg.materialized_only);
	hd_spi_connect();
	run(hd_cagg_view_sql(&cagg, hd_cagg_relation_name(relid)));
	hd_spi_finish();
	return true;
}
