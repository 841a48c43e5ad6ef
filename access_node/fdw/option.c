/* SPDX-License-Identifier: PostgreSQL */
/*
 * fdw/option.c — validation of hyperdist FDW options (the remote names
 * they give are read in deparse/query.c).
 *
 * Options by object:
 *   server (a data node): host, port, dbname, agent_public_key, available
 *   server hyperdist_hypertables (created by the extension, not a data
 *          node: the server of distributed hypertables): hypertables 'true'
 *   user mapping:         user, password
 *   foreign table:        schema_name, table_name
 *   column:               column_name
 * The validator sees the complete option list after every CREATE and ALTER,
 * so it can insist on the options a data node cannot work without.
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "keys.h"
#include "protocol.h"
#include "remote/node.h"

typedef struct HdFdwOption
{
	const char *keyword;
	Oid			optcontext;		/* catalog of the objects it applies to */
} HdFdwOption;

static const HdFdwOption hd_fdw_options[] = {
	{"host", ForeignServerRelationId},
	{"port", ForeignServerRelationId},
	{"dbname", ForeignServerRelationId},
	{"agent_public_key", ForeignServerRelationId},
	{"available", ForeignServerRelationId},
	{"hypertables", ForeignServerRelationId},
	{"user", UserMappingRelationId},
	{"password", UserMappingRelationId},
	{"schema_name", ForeignTableRelationId},
	{"table_name", ForeignTableRelationId},
	{"column_name", AttributeRelationId},
	{NULL, InvalidOid}
};

PG_FUNCTION_INFO_V1(hyperdist_fdw_validator);

static bool
is_valid_option(const char *keyword, Oid context)
{
	const HdFdwOption *opt;

	for (opt = hd_fdw_options; opt->keyword; opt++)
	{
		if (opt->optcontext == context && strcmp(opt->keyword, keyword) == 0)
			return true;
	}
	return false;
}

static void
report_invalid_option(const char *keyword, Oid context)
{
	const HdFdwOption *opt;
	StringInfoData buf;

	initStringInfo(&buf);
	for (opt = hd_fdw_options; opt->keyword; opt++)
	{
		if (opt->optcontext == context)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 opt->keyword);
	}

	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\"", keyword),
			 buf.len > 0
			 ? errhint("Valid options in this context are: %s", buf.data)
			 : errhint("There are no valid options in this context.")));
}

/*
 * The agent refuses a Hello whose names or password exceed these bounds
 * (see common/protocol.h), so such an option is refused when it is set
 * instead.
 */
static void
check_length(const char *name, const char *value, size_t max)
{
	size_t		len = strlen(value);

	if (len > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" is too long", name),
				 errdetail("The value has %zu bytes; a data node accepts at most %zu.",
						   len, max),
				 strcmp(name, "password") == 0
				 ? errhint("Give the role a shorter password on the data nodes.")
				 : errhint("PostgreSQL names are at most %d bytes long.",
						   NAMEDATALEN - 1)));
}

static void
check_option_value(DefElem *def)
{
	const char *name = def->defname;

	if (strcmp(name, "port") == 0)
		(void) hd_parse_port(defGetString(def));
	else if (strcmp(name, "available") == 0 || strcmp(name, "hypertables") == 0)
		(void) defGetBoolean(def);
	else if (strcmp(name, "agent_public_key") == 0)
	{
		const char *key = defGetString(def);

		/* empty: the agent runs without CurveZMQ (hyperdist.allow_insecure) */
		if (key[0] != '\0' && !hd_key_valid(key))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"agent_public_key\""),
					 errdetail("A public key is %d characters of Z85 text, as written by hyperdist-agent --keygen.",
							   HD_Z85_KEY_LEN)));
	}
	else if (strcmp(name, "user") == 0)
	{
		/*
		 * The agent logs in to its local PostgreSQL as this role, under that
		 * server's authentication rules (often trust for local connections),
		 * so choosing it must not be open to roles that could borrow another
		 * role's rights that way.  As with postgres_fdw's sslcert, the whole
		 * option list is validated, so this also covers altering such a
		 * mapping.
		 */
		if (!superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("option \"user\" is superuser-only"),
					 errhint("User mappings with the user option set may only be created or modified by a superuser.")));
		check_length(name, defGetString(def), HD_MAX_NAME_LEN);
	}
	else if (strcmp(name, "password") == 0)
		check_length(name, defGetString(def), HD_MAX_PASSWORD_LEN);
	else if (strcmp(name, "host") == 0 || strcmp(name, "dbname") == 0)
	{
		if (defGetString(def)[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" must not be empty", name)));
		if (strcmp(name, "dbname") == 0)
			check_length(name, defGetString(def), HD_MAX_NAME_LEN);
	}
}

static void
require_option(List *options, const char *keyword)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		if (strcmp(lfirst_node(DefElem, lc)->defname, keyword) == 0)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
			 errmsg("option \"%s\" is required for a hyperdist data node",
					keyword),
			 errhint("Use add_data_node() to create data nodes.")));
}

/*
 * Validates the generic options of a FOREIGN DATA WRAPPER, SERVER, USER
 * MAPPING, FOREIGN TABLE or column that uses hyperdist.
 */
Datum
hyperdist_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (!is_valid_option(def->defname, catalog))
			report_invalid_option(def->defname, catalog);
		check_option_value(def);
	}

	if (catalog == ForeignServerRelationId && !hd_server_options_hypertables(options))
	{
		require_option(options, "host");
		require_option(options, "dbname");
	}

	PG_RETURN_VOID();
}
