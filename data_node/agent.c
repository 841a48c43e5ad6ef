/* SPDX-License-Identifier: PostgreSQL */
/*
 * agent.c — hyperdist-agent: main, command line, config, startup and exit.
 *
 *   hyperdist-agent --config FILE [flags that override the file]
 *   hyperdist-agent --keygen DIR [--name NAME]
 *
 * The agent runs in the foreground (systemd Type=simple); SIGHUP reloads
 * the config file and authorized keys, SIGTERM/SIGINT drain and exit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <zmq.h>

#include "agent.h"
#include "cancel.h"
#include "config.h"
#include "connect.h"
#include "keys.h"
#include "log.h"
#include "loop.h"
#include "monitor.h"
#include "router.h"
#include "session.h"
#include "util.h"
#include "wire.h"
#include "zap.h"

uint64_t	agent_epoch;
AgentConfig *agent_config;
bool		agent_shutting_down;

static AgentConfig effective;
static AgentConfig overrides;	/* from the command line, re-applied on reload */
static const char *config_path;
static bool pid_file_written;

/* Keys that only take effect at start; a reload keeps their old values. */
static const HdConfigKey restart_keys[] = {
	HD_CFG_LISTEN, HD_CFG_KEYS_DIR, HD_CFG_INSECURE, HD_CFG_PID_FILE
};

static void
usage(FILE *out)
{
	fprintf(out,
			"hyperdist-agent runs hyperdist access-node commands on this data node's PostgreSQL.\n\n"
			"Usage:\n"
			"  hyperdist-agent --config FILE [OPTION]...\n"
			"  hyperdist-agent --keygen DIR [--name NAME]\n\n"
			"Options (each overrides the config file key of the same name):\n"
			"  --config FILE           config file (key = value lines)\n"
			"  --listen ENDPOINT       ZeroMQ endpoint to bind (default tcp://127.0.0.1:%d)\n"
			"  --pg CONNINFO           libpq conninfo of the local server, without credentials\n"
			"  --keys-dir DIR          directory holding agent.key (the CURVE secret key)\n"
			"  --authorized-keys FILE  access-node public keys allowed in (default DIR/authorized_keys)\n"
			"  --log-level LEVEL       error, warning, info (default) or debug\n"
			"  --pid-file FILE         write the process id here after binding\n"
			"  --insecure              no CURVE encryption or authentication (testing only)\n"
			"  --max-sessions N        most concurrent sessions (default %d)\n"
			"  --max-sessions-per-key N\n"
			"                          most sessions of one access-node key (default %d)\n"
			"  --max-queued-requests N most requests queued in a session (default %d)\n"
			"  --connect-threads N     most connections set up at once (default %d)\n"
			"  --allow-passwordless    accept sessions the server lets in without a password\n"
			"                          (trust, peer, ...; testing only)\n"
			"  --keygen DIR            write DIR/NAME.key and DIR/NAME.pub, print the public key, exit\n"
			"  --name NAME             key name for --keygen (default agent)\n"
			"  --version               print the version and exit\n"
			"  --help                  show this help and exit\n",
			HD_DEFAULT_AGENT_PORT, HD_DEFAULT_MAX_SESSIONS, HD_DEFAULT_MAX_SESSIONS_PER_KEY,
			HD_DEFAULT_MAX_QUEUED_REQUESTS, HD_DEFAULT_CONNECT_THREADS);
}

static void
die(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "hyperdist-agent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int
keygen(const char *dir, const char *name)
{
	HdKeyPair	pair;
	char		err[512];

	if (!hd_keygen(dir, name, false, &pair, err, sizeof(err)))
		die("%s", err);
	printf("%s\n", pair.public_key);
	explicit_bzero(&pair, sizeof(pair));
	return 0;
}

enum
{
	OPT_CONFIG = 256, OPT_LISTEN, OPT_PG, OPT_KEYS_DIR, OPT_AUTHORIZED_KEYS,
	OPT_LOG_LEVEL, OPT_PID_FILE, OPT_INSECURE, OPT_MAX_SESSIONS,
	OPT_MAX_SESSIONS_PER_KEY, OPT_MAX_QUEUED_REQUESTS, OPT_CONNECT_THREADS,
	OPT_ALLOW_PASSWORDLESS, OPT_KEYGEN, OPT_NAME, OPT_VERSION, OPT_HELP
};

static const struct option long_options[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"pg", required_argument, NULL, OPT_PG},
	{"keys-dir", required_argument, NULL, OPT_KEYS_DIR},
	{"authorized-keys", required_argument, NULL, OPT_AUTHORIZED_KEYS},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"pid-file", required_argument, NULL, OPT_PID_FILE},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	{"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
	{"max-sessions-per-key", required_argument, NULL, OPT_MAX_SESSIONS_PER_KEY},
	{"max-queued-requests", required_argument, NULL, OPT_MAX_QUEUED_REQUESTS},
	{"connect-threads", required_argument, NULL, OPT_CONNECT_THREADS},
	{"allow-passwordless", no_argument, NULL, OPT_ALLOW_PASSWORDLESS},
	{"keygen", required_argument, NULL, OPT_KEYGEN},
	{"name", required_argument, NULL, OPT_NAME},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0}
};

static HdConfigKey
option_key(int opt)
{
	switch (opt)
	{
		case OPT_LISTEN:
			return HD_CFG_LISTEN;
		case OPT_PG:
			return HD_CFG_PG;
		case OPT_KEYS_DIR:
			return HD_CFG_KEYS_DIR;
		case OPT_AUTHORIZED_KEYS:
			return HD_CFG_AUTHORIZED_KEYS;
		case OPT_LOG_LEVEL:
			return HD_CFG_LOG_LEVEL;
		case OPT_PID_FILE:
			return HD_CFG_PID_FILE;
		case OPT_INSECURE:
			return HD_CFG_INSECURE;
		case OPT_MAX_SESSIONS_PER_KEY:
			return HD_CFG_MAX_SESSIONS_PER_KEY;
		case OPT_MAX_QUEUED_REQUESTS:
			return HD_CFG_MAX_QUEUED_REQUESTS;
		case OPT_CONNECT_THREADS:
			return HD_CFG_CONNECT_THREADS;
		case OPT_ALLOW_PASSWORDLESS:
			return HD_CFG_ALLOW_PASSWORDLESS;
		default:
			return HD_CFG_MAX_SESSIONS;
	}
}

static int
parse_args(int argc, char **argv)
{
	const char *keygen_dir = NULL;
	const char *key_name = "agent";
	char		err[512];
	int			opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1)
	{
		switch (opt)
		{
			case OPT_CONFIG:
				config_path = optarg;
				break;
			case OPT_KEYGEN:
				keygen_dir = optarg;
				break;
			case OPT_NAME:
				key_name = optarg;
				break;
			case OPT_VERSION:
				printf("hyperdist-agent %s (protocol %d.%d)\n", HD_AGENT_VERSION,
					   HD_PROTO_MAJOR, HD_PROTO_MINOR);
				exit(0);
			case OPT_HELP:
				usage(stdout);
				exit(0);
			case '?':
				for (const struct option *o = long_options; o->name; o++)
					if (optopt != 0 && o->val == optopt)
						die("option --%s requires an argument (see --help)", o->name);
				die("unknown option \"%s\" (see --help)", argv[optind - 1]);
			default:
				/* optarg is NULL for the flags without a value: they set true */
				if (!config_set(&overrides, option_key(opt),
								optarg ? optarg : "true", NULL, err, sizeof(err)))
					die("%s", err);
				break;
		}
	}
	if (optind < argc)
		die("unexpected argument \"%s\" (see --help)", argv[optind]);
	if (keygen_dir)
		exit(keygen(keygen_dir, key_name));
	return 0;
}

/* The file (if any) with the command line on top, finalized. */
static bool
load_config(AgentConfig *out, char *err, size_t errlen)
{
	config_init(out);
	if (config_path && !config_load_file(out, config_path, err, errlen))
	{
		config_free(out);
		return false;
	}
	config_merge(out, &overrides);
	if (!config_finalize(out, err, errlen))
	{
		config_free(out);
		return false;
	}
	return true;
}

/*
 * The agent must not hold database credentials: a session authenticates
 * only with what its Hello carries, never with the environment of the
 * agent's OS user.
 */
static void
scrub_environment(void)
{
	static const char *const vars[] = {
		"PGPASSWORD", "PGPASSFILE", "PGUSER", "PGDATABASE", "PGSERVICE",
		"PGSERVICEFILE", NULL
	};

	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
}

/* Each session holds a libpq socket: allow as many fds as the hard limit. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
	{
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
write_pid_file(const char *path)
{
	FILE	   *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%d\n", (int) getpid()) < 0 || fclose(f) != 0)
		die("could not write pid file \"%s\": %s", path, strerror(errno));
	pid_file_written = true;
}

static void
remove_pid_file(void)
{
	if (pid_file_written && unlink(agent_config->pid_file) != 0)
		log_warning("could not remove pid file \"%s\": %s",
					agent_config->pid_file, strerror(errno));
}

/* Keeps restart-only keys of the running config in a reloaded one. */
static void
keep_restart_keys(AgentConfig *fresh)
{
	for (size_t i = 0; i < sizeof(restart_keys) / sizeof(restart_keys[0]); i++)
	{
		HdConfigKey key = restart_keys[i];

		if (!config_differs(&effective, fresh, key))
			continue;
		log_warning("changing %s requires a restart; keeping the current value",
					config_key_name(key));
		free(fresh->raw[key]);
		fresh->raw[key] = effective.raw[key] ? xstrdup(effective.raw[key]) : NULL;
	}
}

static void
warn_if_passwordless(const AgentConfig *cfg)
{
	if (cfg->allow_passwordless)
		log_warning("allow_passwordless is on: a session the data node lets in without a password (pg_hba.conf trust, peer, ...) is accepted, so an authorized access node can log in as any role such a line admits");
}

void
agent_reload(void)
{
	AgentConfig fresh;
	char		err[512];

	if (!load_config(&fresh, err, sizeof(err)))
	{
		log_error("reload failed, keeping the current configuration: %s", err);
		return;
	}
	keep_restart_keys(&fresh);
	if (!config_finalize(&fresh, err, sizeof(err)))
	{
		log_error("reload failed, keeping the current configuration: %s", err);
		config_free(&fresh);
		return;
	}
	if (!fresh.insecure && !zap_reload(fresh.authorized_keys, err, sizeof(err)))
	{
		log_error("reload failed, keeping the current authorized keys: %s", err);
		config_free(&fresh);
		return;
	}
	if (!sessions_set_conninfo(fresh.pg, err, sizeof(err)))
	{
		log_error("reload failed, keeping the current pg conninfo: %s", err);
		config_free(&fresh);
		return;
	}
	hd_log_set_level(fresh.log_level);
	config_free(&effective);
	effective = fresh;
	agent_config = &effective;
	log_info("configuration reloaded (log_level %s, max_sessions %d, max_sessions_per_key %d, max_queued_requests %d, connect_threads %d, allow_passwordless %s)",
			 hd_log_level_name(effective.log_level), effective.max_sessions,
			 effective.max_sessions_per_key, effective.max_queued_requests,
			 effective.connect_threads, effective.allow_passwordless ? "on" : "off");
	warn_if_passwordless(&effective);
	/* more connect threads may start now */
	connect_dispatch();
}

static void *
open_context(void)
{
	void	   *ctx = zmq_ctx_new();

	if (ctx == NULL)
		die("could not create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
	/* CURVE encryption runs in the I/O threads: give it two. */
	zmq_ctx_set(ctx, ZMQ_IO_THREADS, 2);
	return ctx;
}

int
main(int argc, char **argv)
{
	HdKeyPair	keys;
	char		err[512];
	void	   *ctx;
	void	   *zap = NULL;
	void	   *router;
	void	   *monitor;

	config_init(&overrides);
	parse_args(argc, argv);
	if (!load_config(&effective, err, sizeof(err)))
		die("%s", err);
	agent_config = &effective;
	hd_log_set_level(effective.log_level);

	scrub_environment();
	raise_fd_limit();
	if (!sessions_set_conninfo(effective.pg, err, sizeof(err)))
		die("%s", err);
	if (!effective.insecure &&
		!hd_key_load_pair(effective.agent_key_path, &keys, err, sizeof(err)))
		die("could not load the agent's secret key: %s", err);

	/* Before libzmq starts its threads, so they inherit the signal mask. */
	if (!loop_init(err, sizeof(err)))
		die("%s", err);
	if (!cancel_init(err, sizeof(err)) || !connect_init(err, sizeof(err)))
		die("%s", err);
	agent_epoch = random_u64_nonzero();
	ctx = open_context();

	warn_if_passwordless(&effective);
	if (effective.insecure)
		log_warning("running with --insecure: no encryption and no authentication of access nodes");
	else if ((zap = zap_open(ctx, effective.authorized_keys, err, sizeof(err))) == NULL)
		die("%s", err);

	/* The ZAP handler is bound first, so no handshake ever misses it. */
	router = router_open(ctx, effective.listen, effective.insecure ? NULL : &keys,
						 err, sizeof(err));
	explicit_bzero(&keys, sizeof(keys));
	if (router == NULL)
		die("%s", err);
	if (effective.pid_file)
		write_pid_file(effective.pid_file);

	log_info("hyperdist-agent %s listening on %s (%s), epoch %016" PRIx64,
			 HD_AGENT_VERSION, effective.listen,
			 effective.insecure ? "insecure" : "CURVE", agent_epoch);

	monitor = monitor_open(ctx, router);
	loop_run(router, zap, monitor);

	monitor_close(router);
	/*
	 * The peers that took their last replies have gone (loop_run); what is
	 * still queued for the others gets a moment to reach their connections.
	 */
	router_close(500);
	zap_close();
	zmq_ctx_term(ctx);
	remove_pid_file();
	log_info("hyperdist-agent stopped");
	config_free(&effective);
	config_free(&overrides);
	return 0;
}
