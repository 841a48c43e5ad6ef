/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/remote_sql.c — the statements remote/ sends on its own: session settings, transaction control.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "remote/remote_sql.h"

/* Remote savepoint names: this prefix and the local nest level. */
#define HD_SAVEPOINT_PREFIX		"hyperdist_"

/* Into buf (HD_SAVEPOINT_SQL_LEN bytes), without palloc. */
void
hd_sql_savepoint(char *buf, HdSavepointSql what, int level)
{
	switch (what)
	{
		case HD_SAVEPOINT_CREATE:
			snprintf(buf, HD_SAVEPOINT_SQL_LEN, "SAVEPOINT " HD_SAVEPOINT_PREFIX "%d",
					 level);
			break;
		case HD_SAVEPOINT_RELEASE:
			snprintf(buf, HD_SAVEPOINT_SQL_LEN,
					 "RELEASE SAVEPOINT " HD_SAVEPOINT_PREFIX "%d", level);
			break;
		case HD_SAVEPOINT_ROLLBACK:
			snprintf(buf, HD_SAVEPOINT_SQL_LEN,
					 "ROLLBACK TO SAVEPOINT " HD_SAVEPOINT_PREFIX "%d; "
					 "RELEASE SAVEPOINT " HD_SAVEPOINT_PREFIX "%d", level, level);
			break;
	}
}

/*
 * A new session's settings: values travel in formats the access node
 * parses back unambiguously, in the access node's time zone.
 */
char *
hd_sql_session_settings(const char *timezone)
{
	return psprintf("SET datestyle = ISO; SET intervalstyle = postgres; "
					"SET extra_float_digits = 3; SET timezone = %s",
					quote_literal_cstr(timezone));
}

/* START TRANSACTION at a local isolation level (XactIsoLevel's values). */
char *
hd_sql_start_transaction(int iso_level, bool read_only)
{
	const char *level;

	switch (iso_level)
	{
		case XACT_SERIALIZABLE:
			level = "SERIALIZABLE";
			break;
		case XACT_REPEATABLE_READ:
			level = "REPEATABLE READ";
			break;
		default:
			/* READ UNCOMMITTED is READ COMMITTED in PostgreSQL */
			level = "READ COMMITTED";
			break;
	}
	return psprintf("START TRANSACTION ISOLATION LEVEL %s%s", level,
					read_only ? " READ ONLY" : "");
}

char *
hd_sql_prepare_transaction(const char *gid)
{
	return psprintf("PREPARE TRANSACTION %s", quote_literal_cstr(gid));
}

/* COMMIT PREPARED or ROLLBACK PREPARED */
char *
hd_sql_finish_prepared(const char *gid, bool commit)
{
	return psprintf("%s PREPARED %s", commit ? "COMMIT" : "ROLLBACK",
					quote_literal_cstr(gid));
}

/*
 * ROLLBACK PREPARED into buf (HD_ROLLBACK_PREPARED_SQL_LEN bytes), without
 * palloc, for the abort path; our gids need no quoting (commit_record.c).
 */
void
hd_sql_rollback_prepared(char *buf, const char *gid)
{
	snprintf(buf, HD_ROLLBACK_PREPARED_SQL_LEN, "ROLLBACK PREPARED '%s'", gid);
}

/* The data node's prepared transactions whose gid starts with $1. */
const char *
hd_sql_prepared_xacts_query(void)
{
	return "SELECT gid FROM pg_catalog.pg_prepared_xacts"
		" WHERE database = pg_catalog.current_database()"
		" AND pg_catalog.starts_with(gid, $1)";
}
