/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/storage_params.c — ALTER TABLE ... SET/RESET (storage parameters) of
 * distributed hypertables.
 *
 * Storage parameters (fillfactor, autovacuum_*, ...) belong to tables that
 * store rows: on a data node those are the chunks, since the hypertable's
 * root table there is partitioned and takes none, and the access node's
 * foreign table takes none either.  So the access node keeps them in the
 * catalog (hypertable.chunk_options), checks them as PostgreSQL would for
 * a table, sets them on every existing chunk on the data nodes, and gives
 * them to every chunk made afterwards (deparse/ddl.c), as TimescaleDB gave
 * a hypertable's options to its chunks.  The TOAST table's parameters
 * (toast.*) are refused: a chunk's TOAST table is made by the data node.
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "deparse/deparse.h"
#include "metadata/catalog.h"
#include "metadata/hypertable.h"
#include "ddl/storage_params.h"

static bool
is_storage_params(AlterTableCmd *cmd)
{
	return cmd->subtype == AT_SetRelOptions || cmd->subtype == AT_ResetRelOptions;
}

bool
hd_storage_params_stmt(Oid relid, AlterTableStmt *stmt)
{
	ListCell   *lc;
	int			nparams = 0;

	foreach(lc, stmt->cmds)
		nparams += is_storage_params(lfirst_node(AlterTableCmd, lc));
	if (nparams == 0)
		return false;
	if (nparams < list_length(stmt->cmds))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("storage parameters of distributed hypertable \"%s\" must be changed by a statement of their own",
						get_rel_name(relid)),
				 errhint("Run SET (...) and RESET (...) in an ALTER TABLE without other subcommands.")));
	return true;
}

/* The catalog's options of ht as a text[] (0 for none), reloptions' form. */
static Datum
options_datum(const HdHypertable *ht)
{
	ListCell   *lc;
	ArrayBuildState *astate = NULL;

	if (ht->chunk_options == NIL)
		return (Datum) 0;
	foreach(lc, ht->chunk_options)
		astate = accumArrayResult(astate, CStringGetTextDatum(lfirst(lc)), false,
								  TEXTOID, CurrentMemoryContext);
	return makeArrayResult(astate, CurrentMemoryContext);
}

/* The "name=value" strings of a text[] of options (0: none). */
static List *
options_list(Datum options)
{
	Datum	   *elems;
	int			n;
	List	   *list = NIL;

	if (options == (Datum) 0)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(options), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, NULL, &n);
	for (int i = 0; i < n; i++)
		list = lappend(list, TextDatumGetCString(elems[i]));
	return list;
}

char *
hd_storage_params_apply(Oid relid, AlterTableStmt *stmt)
{
	HdHypertable *ht = hd_hypertable_load(relid);
	Datum		options = options_datum(ht);
	List	   *touched = NIL;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		ListCell   *ld;

		foreach(ld, (List *) cmd->def)
		{
			DefElem    *param = lfirst_node(DefElem, ld);

			if (param->defnamespace != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("storage parameter \"%s.%s\" is not supported on distributed hypertables",
								param->defnamespace, param->defname),
						 errdetail("The data nodes make their chunks' TOAST tables.")));
			touched = list_append_unique(touched, makeString(param->defname));
		}
		options = transformRelOptions(options, (List *) cmd->def, NULL, NULL, false,
									  cmd->subtype == AT_ResetRelOptions);
	}
	/* what PostgreSQL accepts for a table's own storage parameters */
	(void) heap_reloptions(RELKIND_RELATION, options, true);

	/* no chunk is made meanwhile with the options it read before */
	hd_catalog_lock_chunks(ht->id);
	hd_catalog_set_chunk_options(relid, options);
	return hd_deparse_chunks_storage(ht, touched, options_list(options));
}
