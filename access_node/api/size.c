/*
 * api/size.c — a distributed hypertable's size on each of its data nodes, for
 * hypertable_detailed_size, hypertable_size and chunks_detailed_size.
 *
 * A role that may read the hypertable may know its size (PostgreSQL's size
 * functions need no privilege at all on a local table).  The nodes are
 * asked in the role's own sessions, as a scan reaches them, so no USAGE on
 * their servers is needed: the statement is the extension's own, never the
 * caller's.  Every node is asked at once.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "metadata/hypertable.h"
#include "remote/connection.h"
#include "remote/fanout.h"

PG_FUNCTION_INFO_V1(hyperdist_data_node_sizes);

/*
 * Sizes of the root table's partitions on a data node, summed or (per_chunk)
 * one row per leaf: schema, name, table, index, toast and total bytes.
 */
static char *
sizes_sql(const char *root, bool per_chunk)
{
	const char *table = "pg_catalog.pg_relation_size(c.oid, 'main')"
		" + pg_catalog.pg_relation_size(c.oid, 'fsm')"
		" + pg_catalog.pg_relation_size(c.oid, 'vm')"
		" + pg_catalog.pg_relation_size(c.oid, 'init')";
	const char *toast = "CASE WHEN c.reltoastrelid <> 0"
		" THEN pg_catalog.pg_total_relation_size(c.reltoastrelid) ELSE 0 END";

	if (per_chunk)
		return psprintf("SELECT n.nspname, c.relname, (%s)::int8,"
						" pg_catalog.pg_indexes_size(c.oid)::int8, (%s)::int8,"
						" pg_catalog.pg_total_relation_size(c.oid)::int8"
						" FROM pg_catalog.pg_partition_tree(%s::pg_catalog.regclass) t"
						" JOIN pg_catalog.pg_class c ON c.oid = t.relid"
						" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
						" WHERE t.isleaf",
						table, toast, quote_literal_cstr(root));
	return psprintf("SELECT NULL, NULL, coalesce(pg_catalog.sum(%s), 0)::int8,"
					" coalesce(pg_catalog.sum(pg_catalog.pg_indexes_size(c.oid)), 0)::int8,"
					" coalesce(pg_catalog.sum(%s), 0)::int8,"
					" coalesce(pg_catalog.sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::int8"
					" FROM pg_catalog.pg_partition_tree(%s::pg_catalog.regclass) t"
					" JOIN pg_catalog.pg_class c ON c.oid = t.relid",
					table, toast, quote_literal_cstr(root));
}

/*
 * _hyperdist_functions.data_node_sizes(hypertable, per_chunk): per data
 * node (by name), its total or each chunk's sizes.
 */
Datum
hyperdist_data_node_sizes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	bool		per_chunk = PG_GETARG_BOOL(1);
	HdHypertable *ht = hd_hypertable_load(relid);
	AclResult	acl;
	char	   *sql;
	HdRequestSet *set = hd_reqset_create();
	ListCell   *lc;
	AttInMetadata *attinmeta;
	char	   *fields[7];

	if (ht == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is not a distributed hypertable",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	sql = sizes_sql(hd_hypertable_qualified_name(ht), per_chunk);
	foreach(lc, ht->data_nodes)
		(void) hd_reqset_query(set, hd_conn_get(lfirst_oid(lc), true),
							   sql, 0, NULL, NULL, HD_ROWS_TEXT);
	foreach(lc, ht->data_nodes)
	{
		HdStream   *stream = hd_reqset_stream(set, foreach_current_index(lc));

		fields[0] = GetForeignServer(lfirst_oid(lc))->servername;
		while (hd_stream_next_text_row(stream, fields + 1, 6))
			tuplestore_puttuple(rsinfo->setResult,
								BuildTupleFromCStrings(attinmeta, fields));
		hd_stream_close(stream);
	}
	return (Datum) 0;
}
