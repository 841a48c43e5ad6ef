/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/target.c — where to open a data node session, and as whom.
 *
 * The foreign server's options give the agent's host and port, the
 * database and the agent's public key (remote/node.c); the user mapping
 * gives the role and password on the data node; without a password the
 * passfile (hyperdist.passfile, libpq's syntax) is read when the session
 * opens, for the database it really opens.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "commands/defrem.h"
#include "common/string.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/syscache.h"

#include "remote/node.h"
#include "guc.h"
#include "remote/target.h"

/* A copy of src in cxt. */
HdConnTarget *
hd_conn_target_copy(MemoryContext cxt, const HdConnTarget *src)
{
	HdConnTarget *t = MemoryContextAllocZero(cxt, sizeof(HdConnTarget));

#define COPY_STR(f) (t->f = src->f ? MemoryContextStrdup(cxt, src->f) : NULL)
	COPY_STR(node_name);
	COPY_STR(host);
	COPY_STR(dbname);
	COPY_STR(user);
	COPY_STR(password);
	COPY_STR(agent_public_key);
#undef COPY_STR
	t->port = src->port;
	return t;
}

/* The user mapping of userid (or PUBLIC) for serverid, NULL if none. */
UserMapping *
hd_find_user_mapping(Oid serverid, Oid userid)
{
	if (!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
							   ObjectIdGetDatum(serverid)) &&
		!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							   ObjectIdGetDatum(serverid)))
		return NULL;
	return GetUserMapping(userid, serverid);
}

/*
 * One field of a passfile line, as libpq's pwdfMatchesString: "*" matches
 * anything, backslash escapes.  Returns the rest of the line after the
 * field's colon, or NULL.
 */
static char *
passfile_match(char *buf, const char *token)
{
	const char *t = token;
	bool		escaped = false;

	if (buf[0] == '*' && buf[1] == ':')
		return buf + 2;
	while (*buf != '\0')
	{
		if (*buf == '\\' && !escaped)
		{
			buf++;
			escaped = true;
		}
		if (*buf == ':' && *t == '\0' && !escaped)
			return buf + 1;
		escaped = false;
		if (*t == '\0' || *buf != *t)
			return NULL;
		buf++;
		t++;
	}
	return NULL;
}

/* The password field: unescaped, up to an unescaped colon. */
static char *
passfile_password(const char *field)
{
	char	   *pw = palloc(strlen(field) + 1);
	char	   *out = pw;

	for (const char *p = field; *p != ':' && *p != '\0'; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		*out++ = *p;
	}
	*out = '\0';
	return pw;
}

/*
 * Looks the password up in hyperdist.passfile (libpq passfile syntax),
 * matching the agent's host and port.  Like libpq, a file others can read
 * is ignored with a warning.
 */
char *
hd_passfile_lookup(const char *host, int port, const char *dbname, const char *user)
{
	char	   *path = hd_passfile_path();
	char		portstr[16];
	struct stat st;
	StringInfoData line;
	FILE	   *f;
	char	   *password = NULL;

	if (stat(path, &st) != 0)
		return NULL;
	if (!S_ISREG(st.st_mode))
	{
		ereport(WARNING,
				(errmsg("password file \"%s\" is not a plain file", path)));
		return NULL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
	{
		ereport(WARNING,
				(errmsg("password file \"%s\" has group or world access; permissions should be u=rw (0600) or less",
						path)));
		return NULL;
	}
	f = AllocateFile(path, "r");
	if (f == NULL)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not open password file \"%s\": %m", path)));
		return NULL;
	}

	snprintf(portstr, sizeof(portstr), "%d", port);
	initStringInfo(&line);
	while (password == NULL && pg_get_line_buf(f, &line))
	{
		char	   *t = line.data;

		(void) pg_strip_crlf(t);
		if (t[0] == '#' || t[0] == '\0')
			continue;
		if ((t = passfile_match(t, host)) != NULL &&
			(t = passfile_match(t, portstr)) != NULL &&
			(t = passfile_match(t, dbname)) != NULL &&
			(t = passfile_match(t, user)) != NULL)
			password = passfile_password(t);
	}
	explicit_bzero(line.data, line.maxlen);
	pfree(line.data);
	FreeFile(f);
	return password;
}

HdConnTarget *
hd_conn_target_for_server(Oid serverid, Oid userid)
{
	ForeignServer *server = GetForeignServer(serverid);
	HdConnTarget *target = palloc0(sizeof(HdConnTarget));
	HdServerOptions opts;
	UserMapping *um;
	ListCell   *lc;

	if (!hd_server_is_data_node(server))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("foreign server \"%s\" is not a hyperdist data node",
						server->servername)));
	hd_server_options_get(server, &opts);
	target->node_name = server->servername;
	target->host = opts.host;
	target->port = opts.port;
	target->dbname = opts.dbname;
	target->agent_public_key = opts.agent_public_key;

	um = hd_find_user_mapping(serverid, userid);
	if (um != NULL)
	{
		foreach(lc, um->options)
		{
			DefElem    *def = lfirst_node(DefElem, lc);

			if (strcmp(def->defname, "user") == 0)
				target->user = defGetString(def);
			else if (strcmp(def->defname, "password") == 0)
				target->password = defGetString(def);
		}
	}
	if (target->user == NULL)
		target->user = GetUserNameFromId(userid, false);
	return target;
}
