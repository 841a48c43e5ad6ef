/* SPDX-License-Identifier: PostgreSQL */
/*
 * api/replication.c — the chunk replica copies in progress, for
 * hyperdist_information.chunk_replication_status and
 * hyperdist_information.chunk_copy_operations.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "placement/replica_copy.h"

PG_FUNCTION_INFO_V1(hyperdist_replica_copies);

/*
 * _hyperdist_functions.replica_copies(): one row per copy running in this
 * database (chunk id, source and target nodes, bytes and rows so far, when
 * it started, its chunk copy operation or 0, its phase), from shared
 * memory.
 */
Datum
hyperdist_replica_copies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	foreach(lc, hd_replica_copies())
	{
		HdReplicaCopyProgress *p = lfirst(lc);
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = Int32GetDatum(p->chunk_id);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(p->source));
		values[2] = DirectFunctionCall1(namein, CStringGetDatum(p->target));
		values[3] = Int64GetDatum((int64) p->bytes);
		values[4] = Int64GetDatum((int64) p->rows);
		values[5] = TimestampTzGetDatum(p->started);
		values[6] = Int32GetDatum(p->op_id);
		values[7] = CStringGetTextDatum(p->phase);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
