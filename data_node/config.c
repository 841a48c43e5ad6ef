/* SPDX-License-Identifier: PostgreSQL */
/*
 * config.c — the agent's config file and its merge with command-line flags.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "wire.h"

static const char *const key_names[HD_CFG_NKEYS] = {
	[HD_CFG_LISTEN] = "listen",
	[HD_CFG_PG] = "pg",
	[HD_CFG_KEYS_DIR] = "keys_dir",
	[HD_CFG_AUTHORIZED_KEYS] = "authorized_keys",
	[HD_CFG_LOG_LEVEL] = "log_level",
	[HD_CFG_PID_FILE] = "pid_file",
	[HD_CFG_INSECURE] = "insecure",
	[HD_CFG_MAX_SESSIONS] = "max_sessions",
	[HD_CFG_MAX_SESSIONS_PER_KEY] = "max_sessions_per_key",
	[HD_CFG_MAX_QUEUED_REQUESTS] = "max_queued_requests",
	[HD_CFG_CONNECT_THREADS] = "connect_threads",
	[HD_CFG_ALLOW_PASSWORDLESS] = "allow_passwordless",
};

/* Integer settings: range, default, and where the value goes. */
typedef struct IntSetting
{
	HdConfigKey key;
	int			min;
	int			max;
	int			dflt;
	size_t		offset;			/* in AgentConfig */
} IntSetting;

static const IntSetting int_settings[] = {
	{HD_CFG_MAX_SESSIONS, 1, HD_MAX_MAX_SESSIONS, HD_DEFAULT_MAX_SESSIONS,
	offsetof(AgentConfig, max_sessions)},
	{HD_CFG_MAX_SESSIONS_PER_KEY, 1, HD_MAX_MAX_SESSIONS, HD_DEFAULT_MAX_SESSIONS_PER_KEY,
	offsetof(AgentConfig, max_sessions_per_key)},
	{HD_CFG_MAX_QUEUED_REQUESTS, 1, HD_MAX_MAX_QUEUED_REQUESTS,
		HD_DEFAULT_MAX_QUEUED_REQUESTS, offsetof(AgentConfig, max_queued_requests)},
	{HD_CFG_CONNECT_THREADS, 1, HD_MAX_CONNECT_THREADS, HD_DEFAULT_CONNECT_THREADS,
	offsetof(AgentConfig, connect_threads)},
};

#define NINT_SETTINGS (sizeof(int_settings) / sizeof(int_settings[0]))

/* Default endpoint, built from the protocol's default port. */
#define STR2(x) #x
#define STR(x) STR2(x)
static const char default_listen[] = "tcp://127.0.0.1:" STR(HD_DEFAULT_AGENT_PORT);

void
config_init(AgentConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

static void
config_free_derived(AgentConfig *cfg)
{
	free(cfg->agent_key_path);
	free(cfg->authorized_keys);
	cfg->agent_key_path = NULL;
	cfg->authorized_keys = NULL;
}

void
config_free(AgentConfig *cfg)
{
	for (int i = 0; i < HD_CFG_NKEYS; i++)
		free(cfg->raw[i]);
	config_free_derived(cfg);
	memset(cfg, 0, sizeof(*cfg));
}

bool
config_lookup_key(const char *name, HdConfigKey *key)
{
	for (int i = 0; i < HD_CFG_NKEYS; i++)
	{
		if (strcmp(name, key_names[i]) == 0)
		{
			*key = (HdConfigKey) i;
			return true;
		}
	}
	return false;
}

const char *
config_key_name(HdConfigKey key)
{
	return key_names[key];
}

static bool
is_path_key(HdConfigKey key)
{
	return key == HD_CFG_KEYS_DIR || key == HD_CFG_AUTHORIZED_KEYS ||
		key == HD_CFG_PID_FILE;
}

/* "a/b" joined with "c"; malloc'ed. */
static char *
path_join(const char *dir, const char *name)
{
	size_t		len = strlen(dir) + strlen(name) + 2;
	char	   *out = malloc(len);

	if (out)
		snprintf(out, len, "%s/%s", dir, name);
	return out;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "on", "yes"};
	static const char *const no[] = {"0", "false", "off", "no"};

	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

static bool
parse_int(const char *s, long min, long max, int *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = (int) v;
	return true;
}

/*
 * libzmq reads a TCP port with no range check (port 99999 binds 34463), so
 * a tcp:// endpoint's port is checked here.  Other transports pass through.
 */
static bool
check_listen(const char *value, char *err, size_t errlen)
{
	const char *colon;
	int			port;

	if (strncmp(value, "tcp://", 6) != 0)
		return true;
	colon = strrchr(value + 6, ':');
	if (colon == NULL || strcmp(colon + 1, "*") == 0)
	{
		snprintf(err, errlen, "listen endpoint \"%s\" lacks a port (expected tcp://HOST:PORT)", value);
		return false;
	}
	if (!parse_int(colon + 1, 1, 65535, &port))
	{
		snprintf(err, errlen, "invalid port in listen endpoint \"%s\" (expected 1..65535)", value);
		return false;
	}
	return true;
}

static const IntSetting *
int_setting(HdConfigKey key)
{
	for (size_t i = 0; i < NINT_SETTINGS; i++)
		if (int_settings[i].key == key)
			return &int_settings[i];
	return NULL;
}

static int *
int_field(AgentConfig *cfg, const IntSetting *setting)
{
	return (int *) ((char *) cfg + setting->offset);
}

static int
int_value(const AgentConfig *cfg, const IntSetting *setting)
{
	return *(const int *) ((const char *) cfg + setting->offset);
}

/* Checks a value's syntax; the typed result is produced by config_finalize. */
static bool
check_value(HdConfigKey key, const char *value, char *err, size_t errlen)
{
	const IntSetting *setting = int_setting(key);
	HdLogLevel	level;
	bool		b;
	int			n;

	if (setting)
	{
		if (!parse_int(value, setting->min, setting->max, &n))
		{
			snprintf(err, errlen, "invalid %s \"%s\" (expected %d..%d)",
					 key_names[key], value, setting->min, setting->max);
			return false;
		}
		return true;
	}
	switch (key)
	{
		case HD_CFG_LOG_LEVEL:
			if (!hd_log_parse_level(value, &level))
			{
				snprintf(err, errlen, "invalid log_level \"%s\" (expected error, warning, info or debug)", value);
				return false;
			}
			return true;
		case HD_CFG_INSECURE:
		case HD_CFG_ALLOW_PASSWORDLESS:
			if (!parse_bool(value, &b))
			{
				snprintf(err, errlen, "invalid boolean for %s: \"%s\"",
						 key_names[key], value);
				return false;
			}
			return true;
		case HD_CFG_PG:
			/* Empty conninfo is legal: libpq defaults. */
			return true;
		case HD_CFG_LISTEN:
			return check_listen(value, err, errlen);
		default:
			if (value[0] == '\0')
			{
				snprintf(err, errlen, "empty value for %s", key_names[key]);
				return false;
			}
			return true;
	}
}

bool
config_set(AgentConfig *cfg, HdConfigKey key, const char *value,
		   const char *base_dir, char *err, size_t errlen)
{
	char	   *copy;

	if (!check_value(key, value, err, errlen))
		return false;

	if (is_path_key(key) && base_dir != NULL && value[0] != '/')
		copy = path_join(base_dir, value);
	else
		copy = strdup(value);
	if (copy == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	free(cfg->raw[key]);
	cfg->raw[key] = copy;
	return true;
}

static char *
trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return s;
}

/*
 * The value of a line: a quoted string (single or double quotes, no
 * escapes) or bare text up to a '#' that follows white space.  NULL when a
 * quote is not closed or junk follows it.
 */
static char *
parse_value(char *s)
{
	char	   *end;

	if (*s == '"' || *s == '\'')
	{
		end = strchr(s + 1, *s);
		if (end == NULL)
			return NULL;
		*end = '\0';
		end = trim(end + 1);
		if (*end != '\0' && *end != '#')
			return NULL;
		return s + 1;
	}
	for (end = s; *end; end++)
	{
		if (*end == '#' && (end == s || isspace((unsigned char) end[-1])))
		{
			*end = '\0';
			break;
		}
	}
	return trim(s);
}

/* Parses one line; blank and comment lines are fine. */
static bool
config_parse_line(AgentConfig *cfg, char *line, const char *base_dir,
				  char *err, size_t errlen)
{
	char	   *s = trim(line);
	char	   *eq;
	char	   *name;
	char	   *value;
	HdConfigKey key;

	if (*s == '\0' || *s == '#')
		return true;

	eq = strchr(s, '=');
	if (eq == NULL)
	{
		snprintf(err, errlen, "expected \"key = value\"");
		return false;
	}
	*eq = '\0';
	name = trim(s);
	/* Everything after the first '=' is the value: conninfo holds '=' too. */
	value = parse_value(trim(eq + 1));
	if (value == NULL)
	{
		snprintf(err, errlen, "unterminated quote or text after the closing quote");
		return false;
	}

	if (!config_lookup_key(name, &key))
	{
		snprintf(err, errlen, "unknown key \"%s\"", name);
		return false;
	}
	return config_set(cfg, key, value, base_dir, err, errlen);
}

/* Directory part of path ("." when there is none); malloc'ed. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

bool
config_load_file(AgentConfig *cfg, const char *path, char *err, size_t errlen)
{
	FILE	   *f;
	char		line[8192];
	char		why[512];
	char	   *base_dir;
	int			lineno = 0;
	bool		ok = true;

	f = fopen(path, "r");
	if (f == NULL)
	{
		snprintf(err, errlen, "could not open config file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	base_dir = dir_of(path);

	while (ok && fgets(line, sizeof(line), f) != NULL)
	{
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f))
		{
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			ok = false;
		}
		else if (!config_parse_line(cfg, line, base_dir, why, sizeof(why)))
		{
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			ok = false;
		}
	}
	if (ok && ferror(f))
	{
		snprintf(err, errlen, "could not read config file \"%s\": %s",
				 path, strerror(errno));
		ok = false;
	}
	fclose(f);
	free(base_dir);
	return ok;
}

void
config_merge(AgentConfig *dst, const AgentConfig *src)
{
	for (int i = 0; i < HD_CFG_NKEYS; i++)
	{
		if (src->raw[i] == NULL)
			continue;
		free(dst->raw[i]);
		dst->raw[i] = strdup(src->raw[i]);
	}
}

bool
config_finalize(AgentConfig *cfg, char *err, size_t errlen)
{
	const char *v;

	config_free_derived(cfg);

	cfg->listen = cfg->raw[HD_CFG_LISTEN] ? cfg->raw[HD_CFG_LISTEN] : default_listen;
	cfg->pg = cfg->raw[HD_CFG_PG] ? cfg->raw[HD_CFG_PG] : "";
	cfg->keys_dir = cfg->raw[HD_CFG_KEYS_DIR];
	cfg->pid_file = cfg->raw[HD_CFG_PID_FILE];

	cfg->log_level = HD_LOG_INFO;
	if ((v = cfg->raw[HD_CFG_LOG_LEVEL]) != NULL)
		hd_log_parse_level(v, &cfg->log_level);

	cfg->insecure = false;
	if ((v = cfg->raw[HD_CFG_INSECURE]) != NULL)
		parse_bool(v, &cfg->insecure);

	cfg->allow_passwordless = false;
	if ((v = cfg->raw[HD_CFG_ALLOW_PASSWORDLESS]) != NULL)
		parse_bool(v, &cfg->allow_passwordless);

	for (size_t i = 0; i < NINT_SETTINGS; i++)
	{
		const IntSetting *setting = &int_settings[i];
		int		   *field = int_field(cfg, setting);

		*field = setting->dflt;
		if ((v = cfg->raw[setting->key]) != NULL)
			parse_int(v, setting->min, setting->max, field);
	}

	if (cfg->insecure)
		return true;

	/* CURVE needs the agent's secret key and the list of access nodes. */
	if (cfg->keys_dir == NULL)
	{
		snprintf(err, errlen, "keys_dir is not set (needed for CURVE; use --insecure to run without encryption)");
		return false;
	}
	cfg->agent_key_path = path_join(cfg->keys_dir, "agent.key");
	if (cfg->raw[HD_CFG_AUTHORIZED_KEYS])
		cfg->authorized_keys = strdup(cfg->raw[HD_CFG_AUTHORIZED_KEYS]);
	else
		cfg->authorized_keys = path_join(cfg->keys_dir, "authorized_keys");
	if (cfg->agent_key_path == NULL || cfg->authorized_keys == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

static bool
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

bool
config_differs(const AgentConfig *a, const AgentConfig *b, HdConfigKey key)
{
	const IntSetting *setting = int_setting(key);

	if (setting)
		return int_value(a, setting) != int_value(b, setting);
	switch (key)
	{
		case HD_CFG_LISTEN:
			return str_differs(a->listen, b->listen);
		case HD_CFG_PG:
			return str_differs(a->pg, b->pg);
		case HD_CFG_KEYS_DIR:
			return str_differs(a->keys_dir, b->keys_dir);
		case HD_CFG_AUTHORIZED_KEYS:
			return str_differs(a->authorized_keys, b->authorized_keys);
		case HD_CFG_LOG_LEVEL:
			return a->log_level != b->log_level;
		case HD_CFG_PID_FILE:
			return str_differs(a->pid_file, b->pid_file);
		case HD_CFG_INSECURE:
			return a->insecure != b->insecure;
		case HD_CFG_ALLOW_PASSWORDLESS:
			return a->allow_passwordless != b->allow_passwordless;
		default:
			return false;
	}
}
