/* SPDX-License-Identifier: PostgreSQL */
/*
 * log.h — leveled logging to stderr for hyperdist-agent.
 *
 * The agent runs in the foreground under systemd (or a launcher that
 * redirects stderr), so stderr with a timestamp is the whole story: journald
 * adds nothing we would lose.  One fprintf per line keeps lines whole even
 * when the cancel helper thread logs.
 */
#ifndef HD_AGENT_LOG_H
#define HD_AGENT_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum HdLogLevel
{
	HD_LOG_ERROR = 0,
	HD_LOG_WARNING,
	HD_LOG_INFO,
	HD_LOG_DEBUG
} HdLogLevel;

extern void hd_log_set_level(HdLogLevel level);
extern bool hd_log_enabled(HdLogLevel level);

/* Parses "error", "warning", "info", "debug"; false if unknown. */
extern bool hd_log_parse_level(const char *name, HdLogLevel *out);
extern const char *hd_log_level_name(HdLogLevel level);

extern void hd_log(HdLogLevel level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/*
 * Rate limit for log lines a misbehaving peer can trigger at will (a
 * client with the wrong key reconnects every 100 ms).  log_ratelimit()
 * returns true when a line may be written now; *suppressed then holds how
 * many were swallowed since the last one.
 */
typedef struct HdLogRateLimit
{
	int64_t		last_ms;
	int			suppressed;
} HdLogRateLimit;

#define HD_LOG_RATELIMIT_MS 60000

extern bool log_ratelimit(HdLogRateLimit *rl, int *suppressed);

#define log_error(...)	 hd_log(HD_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) hd_log(HD_LOG_WARNING, __VA_ARGS__)
#define log_info(...)	 hd_log(HD_LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (hd_log_enabled(HD_LOG_DEBUG)) hd_log(HD_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif							/* HD_AGENT_LOG_H */
