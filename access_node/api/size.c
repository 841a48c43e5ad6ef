/* SPDX-License-Identifier: PostgreSQL */
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "deparse/deparse.h"
#include "metadata/hypertable.h"
#include "remote/connection.h"
#include "remote/fanout.h"

PG_FUNCTION_INFO_V1(hyperdist_data_node_sizes);

/* Whether server is one of nodes (a name[]), or nodes is not given. */
static bool
node_listed(ArrayType *nodes, Oid server)
{
	const char *name = GetForeignServer(server)->servername;
	Datum	   *names;
	bool	   *nulls;
	int			n;

	if (nodes == NULL)
		return true;
	deconstruct_array(nodes, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &names, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i] && strcmp(NameStr(*DatumGetName(names[i])), name) == 0)
			return true;
	return false;
}

/*
 * _hyperdist_functions.data_node_sizes(hypertable, per_chunk [, nodes]):
 * per data node (by name; of nodes only, when given), its total or each
 * chunk's sizes.
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
	ArrayType  *only = PG_NARGS() > 2 ? PG_GETARG_ARRAYTYPE_P(2) : NULL;
	List	   *nodes = NIL;
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
	sql = hd_deparse_sizes(ht, per_chunk);
	foreach(lc, ht->data_nodes)
		if (node_listed(only, lfirst_oid(lc)))
			nodes = lappend_oid(nodes, lfirst_oid(lc));
	foreach(lc, nodes)
		(void) hd_reqset_query(set, hd_conn_get(lfirst_oid(lc), true),
							   sql, 0, NULL, NULL, HD_ROWS_TEXT);
	foreach(lc, nodes)
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
