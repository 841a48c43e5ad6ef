/* SPDX-License-Identifier: PostgreSQL */
/*
 * config.h — hyperdist-agent settings: the config file plus command-line
 * overrides.
 *
 * The file holds `key = value` lines; '#' starts a comment (also after a
 * value, following white space); a value may be wrapped in single or double
 * quotes.  Keys: listen, pg, keys_dir,
 * authorized_keys, log_level, pid_file, insecure, max_sessions,
 * max_sessions_per_key, max_queued_requests, connect_threads,
 * allow_passwordless.  Relative
 * paths in the file are taken relative to the file's directory (systemd
 * starts us in /), relative paths on the command line relative to the
 * current directory.
 */
#ifndef HD_AGENT_CONFIG_H
#define HD_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

typedef enum HdConfigKey
{
	HD_CFG_LISTEN = 0,
	HD_CFG_PG,
	HD_CFG_KEYS_DIR,
	HD_CFG_AUTHORIZED_KEYS,
	HD_CFG_LOG_LEVEL,
	HD_CFG_PID_FILE,
	HD_CFG_INSECURE,
	HD_CFG_MAX_SESSIONS,
	HD_CFG_MAX_SESSIONS_PER_KEY,
	HD_CFG_MAX_QUEUED_REQUESTS,
	HD_CFG_CONNECT_THREADS,
	HD_CFG_ALLOW_PASSWORDLESS,
	HD_CFG_NKEYS
} HdConfigKey;

#define HD_DEFAULT_MAX_SESSIONS 1000
#define HD_MAX_MAX_SESSIONS		100000
#define HD_DEFAULT_MAX_SESSIONS_PER_KEY 500
#define HD_DEFAULT_MAX_QUEUED_REQUESTS 256
#define HD_MAX_MAX_QUEUED_REQUESTS 100000
#define HD_DEFAULT_CONNECT_THREADS 8
#define HD_MAX_CONNECT_THREADS	256

typedef struct AgentConfig
{
	/* Values as given (paths already made absolute where needed); NULL = unset. */
	char	   *raw[HD_CFG_NKEYS];

	/* Resolved by config_finalize(): defaults applied, types checked. */
	const char *listen;
	const char *pg;				/* "" means libpq defaults */
	const char *keys_dir;		/* NULL when unset */
	char	   *agent_key_path; /* keys_dir/agent.key */
	char	   *authorized_keys;	/* default keys_dir/authorized_keys */
	HdLogLevel	log_level;
	const char *pid_file;		/* NULL when unset */
	bool		insecure;
	int			max_sessions;
	int			max_sessions_per_key;	/* per access-node CURVE key */
	int			max_queued_requests;	/* per session */
	int			connect_threads;	/* connections set up at once */
	bool		allow_passwordless; /* sessions the server lets in without a
									 * password are accepted */
} AgentConfig;

extern void config_init(AgentConfig *cfg);
extern void config_free(AgentConfig *cfg);

/* Key name -> enum; false if unknown. */
extern bool config_lookup_key(const char *name, HdConfigKey *key);
extern const char *config_key_name(HdConfigKey key);

/*
 * Sets one key after checking its value.  base_dir (may be NULL) anchors a
 * relative path value.  On failure writes the reason into err.
 */
extern bool config_set(AgentConfig *cfg, HdConfigKey key, const char *value,
					   const char *base_dir, char *err, size_t errlen);

/* Reads a config file into cfg (keys it sets override earlier ones). */
extern bool config_load_file(AgentConfig *cfg, const char *path,
							 char *err, size_t errlen);

/* Copies every key set in src over dst (the command line beats the file). */
extern void config_merge(AgentConfig *dst, const AgentConfig *src);

/* Applies defaults and derives the resolved fields. */
extern bool config_finalize(AgentConfig *cfg, char *err, size_t errlen);

/* True when key has a different effective value in a and b. */
extern bool config_differs(const AgentConfig *a, const AgentConfig *b,
						   HdConfigKey key);

#endif							/* HD_AGENT_CONFIG_H */
