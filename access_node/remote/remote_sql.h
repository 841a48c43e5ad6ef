/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/remote_sql.h — the statements remote/ sends on its own: session settings, transaction control.
 *
 * Every other statement a data node receives is built in deparse/
 * (deparse/deparse.h); these stay here because remote/ includes nothing
 * above it.  Those sent where nothing may be allocated or raised (aborts,
 * abandoned scans) are constants or written into the caller's buffer.
 */
#ifndef HYPERDIST_REMOTE_REMOTE_SQL_H
#define HYPERDIST_REMOTE_REMOTE_SQL_H

#include "postgres.h"

#include "access/xact.h"

/*
 * Inside a remote transaction a scan its reader may abandon (hd_scan_start)
 * runs under a savepoint, so that abandoning it cancels the query and rolls
 * back to the savepoint instead of reading every remaining row: a cancel
 * alone would abort the data node's transaction.  The savepoint is released
 * lazily, ahead of the session's next request of the transaction.
 */
#define HD_SCAN_SAVEPOINT "hyperdist_scan"
#define HD_SQL_SCAN_SAVEPOINT "SAVEPOINT " HD_SCAN_SAVEPOINT
#define HD_SQL_SCAN_RELEASE "RELEASE SAVEPOINT " HD_SCAN_SAVEPOINT
#define HD_SQL_SCAN_ROLLBACK \
	"ROLLBACK TO SAVEPOINT " HD_SCAN_SAVEPOINT "; RELEASE SAVEPOINT " HD_SCAN_SAVEPOINT

/* The health monitor's check that a data node runs queries. */
#define HD_SQL_PROBE "SELECT 1"

#define HD_SQL_COMMIT "COMMIT"
#define HD_SQL_ROLLBACK "ROLLBACK"

/* The savepoint of a local nest level, and what to do with it. */
typedef enum HdSavepointSql
{
	HD_SAVEPOINT_CREATE,
	HD_SAVEPOINT_RELEASE,
	HD_SAVEPOINT_ROLLBACK		/* ROLLBACK TO it, then RELEASE it */
} HdSavepointSql;

/* Room for hd_sql_savepoint's statements, and for a ROLLBACK PREPARED. */
#define HD_SAVEPOINT_SQL_LEN	128
#define HD_ROLLBACK_PREPARED_SQL_LEN	(GIDSIZE + 32)

extern void hd_sql_savepoint(char *buf, HdSavepointSql what, int level);
extern char *hd_sql_session_settings(const char *timezone);
extern char *hd_sql_start_transaction(int iso_level, bool read_only);
extern char *hd_sql_prepare_transaction(const char *gid);
extern char *hd_sql_finish_prepared(const char *gid, bool commit);
extern void hd_sql_rollback_prepared(char *buf, const char *gid);
extern const char *hd_sql_prepared_xacts_query(void);

#endif							/* HYPERDIST_REMOTE_REMOTE_SQL_H */
