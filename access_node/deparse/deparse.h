/* SPDX-License-Identifier: PostgreSQL */
/*
 * deparse/deparse.h — the SQL the access node sends to data nodes.
 *
 * Every statement a data node may receive from the extension is built
 * by a function declared here (remote/'s own transaction control aside),
 * from typed arguments: names, OIDs, options, planner nodes.  Each returns
 * palloc'd SQL, or appends to a StringInfo, with identifiers and literals
 * quoted here and nowhere else; callers decide when and where to send it.
 */
#ifndef HYPERDIST_DEPARSE_DEPARSE_H
#define HYPERDIST_DEPARSE_DEPARSE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
#include "utils/relcache.h"

#include "metadata/chunk.h"
#include "metadata/hypertable.h"

/*
 * DISTINCT [ON] and ORDER BY ... LIMIT the data nodes apply to a scan's rows
 * (fdw/limit.c).
 */
typedef struct HdRemoteLimit
{
	bool		distinct;		/* plain DISTINCT */
	List	   *distinct_on;	/* DISTINCT ON expressions, or NIL */
	List	   *sort_clauses;	/* the query's ORDER BY (SortGroupClauses) */
	List	   *sort_exprs;		/* and their expressions */
	int64		limit;			/* LIMIT + OFFSET, or -1 for none */
	bool		skip_scan;		/* DISTINCT ON (a column) as a walk of its
								 * keys (hd_deparse_skip_scan) */
} HdRemoteLimit;

/*
 * One relation of a query joining a distributed hypertable with reference
 * tables on the data nodes (fdw/join.c), in FROM's order, the hypertable
 * first: "<table> r<varno>", joined to those before it by jointype (INNER
 * or LEFT; unused for the first) ON conds (RestrictInfos), or for SEMI and
 * ANTI a filter of their rows: whether a row of it meets conds.  Its
 * columns are written "r<varno>.<column>".
 */
typedef struct HdJoinRel
{
	Index		varno;
	Oid			relid;
	JoinType	jointype;
	List	   *conds;
} HdJoinRel;

/* expr.c: which expressions a data node can evaluate, and their SQL */
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
extern void hd_deparse_join_expr_list(StringInfo buf, List *rels, List *exprs,
									  const char *sep, List **params_list);

/* query.c: reading and writing rows */
/*
 * The remote names of a foreign table and of its columns: the options
 * schema_name, table_name and column_name, else the local names.
 */
extern void hd_table_remote_name(Oid relid, char **nspname, char **relname);
extern char *hd_column_remote_name(Oid relid, AttrNumber attnum);
extern char *hd_deparse_hypertable_name(const HdHypertable *ht);
extern char *hd_deparse_remote_table(Oid relid);
extern char *hd_deparse_local_table(Oid relid);
extern char *hd_deparse_scan(Oid relid, Bitmapset *attrs_used, List *conds,
							 HdRemoteLimit *rl, List **retrieved_attrs,
							 List **params_list);
extern List *hd_deparse_skip_scan(Oid relid, Bitmapset *attrs_used,
								  List *conds, HdRemoteLimit *rl,
								  List **retrieved_attrs, List **params_list);
extern char *hd_deparse_order_limit(Oid relid, HdRemoteLimit *rl,
									List **params_list);
extern List *hd_deparse_grouping(Oid relid, List *tlist, List *conds,
								 Expr *bucket, Var *column, int64 buckets,
								 const char *suffix, List **params_list);
extern List *hd_deparse_join(List *rels, List *tlist, List *conds,
							 const char *suffix, List **params_list,
							 bool *has_where);
extern char *hd_deparse_join_alias(List *rels);
extern char *hd_deparse_join_relations(List *rels, bool grouped);
extern char *hd_deparse_group_by(List *positions);
extern char *hd_deparse_order_positions(List *positions, List *sort_clauses,
										int64 limit);
extern char *hd_deparse_read_filter(const HdNodeRead *read, const char *alias);
extern char *hd_deparse_node_scan(List *parts, bool has_where,
								  const char *chunk_filter);
extern char *hd_deparse_explain(const char *sql, bool costs);
extern char *hd_deparse_direct_modify(CmdType operation, Oid relid,
									  List *set_attnums, List *set_exprs,
									  List *conds, List **params_list);
extern char *hd_deparse_node_modify(const char *sql, bool has_where,
									const char *returning,
									const HdNodeRead *write);
extern char *hd_deparse_insert_batch(const HdHypertable *ht, const char *alias,
									 TupleDesc tupdesc, int n,
									 const AttrNumber *attnums,
									 const Oid *elemtypes, const bool *as_text,
									 const char *on_conflict);
extern char *hd_deparse_copy_from(const HdHypertable *ht, TupleDesc tupdesc,
								  int n, const AttrNumber *attnums,
								  const char *options);
extern char *hd_deparse_insert_returning(const HdHypertable *ht,
										 const char *alias, TupleDesc tupdesc,
										 int n, const AttrNumber *attnums,
										 const char *on_conflict);
extern char *hd_deparse_reference_copy(Oid relid, TupleDesc tupdesc, int n,
									   const AttrNumber *attnums);
extern char *hd_deparse_reference_delete(Oid relid, TupleDesc tupdesc, int n,
										 const AttrNumber *keys);
extern char *hd_deparse_reference_update(Oid relid, TupleDesc tupdesc,
										 int nkeys, const AttrNumber *cols,
										 int nset, const AttrNumber *set);
extern List *hd_generated_set_list(Relation rel, Index varno, RangeTblEntry *rte,
								   List *set_tlist);
extern char *hd_deparse_on_conflict(Query *parse);
extern char *hd_deparse_inline_params(const char *sql, int nparams,
									  const char *const *values);
extern char *hd_deparse_leaf_sizes(const char *relation,
								   const char *chunk_filter);
extern char *hd_deparse_leaf_rows(const char *relation);
extern char *hd_deparse_analyze(const char *tables);
extern char *hd_deparse_sample(const char *relation, const char *columns,
							   const char *chunk_filter, double percent,
							   int limit);

/* ddl.c: DDL replayed on data nodes, chunk creation, replica copies */
extern char *hd_deparse_with_search_path(const char *search_path,
										 const char *sql);
extern char *hd_deparse_drop_hypertable(const HdHypertable *ht);
extern char *hd_deparse_truncate_hypertable(const HdHypertable *ht);
extern char *hd_deparse_truncate_reference(Oid relid);
extern char *hd_deparse_drop_reference(const char *schema, const char *name,
									   bool cascade);
extern char *hd_deparse_drop_index(Oid relid, const char *index_name,
								   bool cascade);
extern char *hd_deparse_set_schema(const char *schema, const char *statement);
extern char *hd_deparse_chunks_owner(const HdHypertable *ht,
									 const char *owner);
extern char *hd_deparse_chunks_storage(const HdHypertable *ht, List *reset, List *set);
extern char *hd_deparse_vacuum(List *options, Oid relid, List *columns);
extern char *hd_deparse_alter_triggers(const HdHypertable *ht, List *cmds);
extern char *hd_deparse_newest_index_query(void);
extern char *hd_deparse_unique_constraints_query(void);
extern char *hd_deparse_triggers_query(void);
extern char *hd_deparse_create_chunk(const HdHypertable *ht, int32 slice_id,
									 int64 start, int64 end, int nparts,
									 int partition, const char *table_name,
									 const char *owner);
extern char *hd_deparse_create_chunk_unattached(const HdHypertable *ht, int32 slice_id,
												int64 start, int64 end, int nparts,
												int partition, const char *table_name,
												const char *owner);
extern char *hd_deparse_chunk_attached(const char *schema, const char *table);
extern char *hd_deparse_chunk_parent_indexes(const HdHypertable *ht, int32 slice_id);
extern char *hd_deparse_chunk_index(const char *schema, const char *table,
									const char *definition, const char *prefix,
									bool unique);
extern char *hd_deparse_attach_chunk(const HdHypertable *ht, int32 slice_id, int64 start,
									 int64 end, int nparts, int partition,
									 const char *table_name);
extern char *hd_deparse_chunk_exists(const char *schema, const char *table);
extern char *hd_deparse_lock_timeout(int ms);
extern char *hd_deparse_replica_role(void);
extern char *hd_deparse_truncate_chunk(const char *schema, const char *table);
extern char *hd_deparse_chunk_rows(const char *schema, const char *table);
extern char *hd_deparse_chunk_copy_in(const char *schema, const char *table);
extern char *hd_deparse_chunk_checksum(const char *schema, const char *table);
extern List *hd_deparse_time_thresholds(const HdHypertable *ht, int64 start,
										int64 end, int nbuckets);
extern char *hd_deparse_chunk_time_span(const HdHypertable *ht, const char *schema,
										const char *table);
extern char *hd_deparse_chunk_bucket_sums(const HdHypertable *ht, const char *schema,
										  const char *table, List *thresholds,
										  List *only, bool rows, bool physical);
extern char *hd_deparse_chunk_bucket_rows(const HdHypertable *ht, const char *schema,
										  const char *table, List *thresholds,
										  List *buckets, List *hashes);
extern char *hd_deparse_chunk_bucket_delete(const HdHypertable *ht, const char *schema,
											const char *table, List *thresholds,
											List *buckets, List *hashes);
extern char *hd_deparse_chunk_bucket_hashes(const HdHypertable *ht, const char *schema,
											const char *table, List *thresholds,
											List *buckets);
extern char *hd_deparse_chunk_parent(const char *schema, const char *table);
extern char *hd_deparse_detach_chunk(const char *parent_schema, const char *parent_table,
									 const char *schema, const char *table, bool finalize);
extern char *hd_deparse_drop_chunk_table(const char *schema, const char *table);

/* admin.c: node management, sizes, health */
extern const char *hd_deparse_node_settings_query(void);
extern char *hd_deparse_create_database(const char *dbname,
										const char *encoding,
										const char *collate, const char *ctype,
										const char *icu_locale);
extern char *hd_deparse_drop_database(const char *dbname);
extern const char *hd_deparse_internal_schema(void);
extern char *hd_deparse_partial_aggs(List *aggfnoids);
extern char *hd_deparse_sizes(const HdHypertable *ht, bool per_chunk);
extern const char *hd_deparse_in_recovery_query(void);

#endif							/* HYPERDIST_DEPARSE_DEPARSE_H */
