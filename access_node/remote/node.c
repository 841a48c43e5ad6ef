/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/node.c — the data nodes this access node knows: foreign servers of
 * the hyperdist foreign data wrapper, and their options.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_foreign_server.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"

#include "protocol.h"
#include "remote/node.h"

void
hd_check_port(int port)
{
	if (port < 1 || port > 65535)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid port number: %d", port),
				 errdetail("A port number must be between 1 and 65535.")));
}

int
hd_parse_port(const char *value)
{
	int			port;

	if (!parse_int(value, &port, 0, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for integer option \"%s\": %s",
						"port", value)));
	hd_check_port(port);
	return port;
}

bool
hd_server_options_hypertables(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "hypertables") == 0)
			return defGetBoolean(def);
	}
	return false;
}

void
hd_server_options_get(ForeignServer *server, HdServerOptions *opts)
{
	ListCell   *lc;

	opts->host = NULL;
	opts->port = HD_DEFAULT_AGENT_PORT;
	opts->dbname = NULL;
	opts->agent_public_key = "";
	opts->available = true;

	foreach(lc, server->options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "host") == 0)
			opts->host = defGetString(def);
		else if (strcmp(def->defname, "port") == 0)
			opts->port = hd_parse_port(defGetString(def));
		else if (strcmp(def->defname, "dbname") == 0)
			opts->dbname = defGetString(def);
		else if (strcmp(def->defname, "agent_public_key") == 0)
			opts->agent_public_key = defGetString(def);
		else if (strcmp(def->defname, "available") == 0)
			opts->available = defGetBoolean(def);
	}

	/* the validator makes these impossible, unless it was bypassed */
	if (opts->host == NULL || opts->dbname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("data node \"%s\" lacks option \"%s\"",
						server->servername,
						opts->host == NULL ? "host" : "dbname")));
}

bool
hd_server_is_data_node(ForeignServer *server)
{
	return server->fdwid == get_foreign_data_wrapper_oid(HD_FDW_NAME, true) &&
		!hd_server_options_hypertables(server->options);
}

Oid
hd_hypertables_server_oid(void)
{
	return get_foreign_server_oid(HD_HYPERTABLES_SERVER, true);
}

List *
hd_data_node_oids(void)
{
	Oid			fdwid = get_foreign_data_wrapper_oid(HD_FDW_NAME, false);
	Oid			hypertables_server = hd_hypertables_server_oid();
	List	   *servers = NIL;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;

	ScanKeyInit(&key, Anum_pg_foreign_server_srvfdw, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(fdwid));
	rel = table_open(ForeignServerRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_foreign_server srv = (Form_pg_foreign_server) GETSTRUCT(tuple);

		if (srv->oid != hypertables_server)
			servers = lappend_oid(servers, srv->oid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return servers;
}
