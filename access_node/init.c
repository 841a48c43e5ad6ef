/*
 * init.c — extension entry point.
 *
 * _PG_init runs in the postmaster (shared_preload_libraries), whose memory
 * every backend inherits through fork.  So it only defines parameters and
 * registers callbacks; ZeroMQ contexts are created lazily in the process that
 * uses them (remote/transport.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "bgw/bgw.h"
#include "metadata/catalog.h"
#include "metadata/cache.h"
#include "ingest/on_conflict.h"
#include "guc.h"
#include "remote/txn.h"
#include "ddl/utility.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("hyperdist must be loaded via shared_preload_libraries"),
				 errhint("Add hyperdist to shared_preload_libraries in postgresql.conf and restart the server.")));

	hd_guc_init();
	hd_txn_init();
	hd_bgw_init();
	hd_utility_init();
	hd_conflict_init();
	hd_catalog_cache_init();
	hd_catalog_init();
}
