/* SPDX-License-Identifier: PostgreSQL */
/*
 * log.c — leveled logging to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/*
 * Read by the cancel helper threads too; a plain int store/load is atomic
 * enough for a log threshold (a stale read only mis-filters one line).
 */
static volatile HdLogLevel current_level = HD_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

void
hd_log_set_level(HdLogLevel level)
{
	current_level = level;
}

bool
hd_log_enabled(HdLogLevel level)
{
	return level <= current_level;
}

bool
hd_log_parse_level(const char *name, HdLogLevel *out)
{
	for (int i = 0; i <= HD_LOG_DEBUG; i++)
	{
		if (strcasecmp(name, level_names[i]) == 0)
		{
			*out = (HdLogLevel) i;
			return true;
		}
	}
	/* PostgreSQL spelling, so operators need not remember two vocabularies. */
	if (strcasecmp(name, "warn") == 0)
	{
		*out = HD_LOG_WARNING;
		return true;
	}
	return false;
}

const char *
hd_log_level_name(HdLogLevel level)
{
	return level_names[level];
}

void
hd_log(HdLogLevel level, const char *fmt,...)
{
	char		msg[2048];
	char		stamp[64];
	struct timeval tv;
	struct tm	tm;
	va_list		ap;
	size_t		len;

	if (!hd_log_enabled(level))
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	/*
	 * Messages relayed from libpq may end in a newline or span lines
	 * (DETAIL, LOCATION): keep one event per log line.
	 */
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	len = strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(stamp + len, sizeof(stamp) - len, ".%03d", (int) (tv.tv_usec / 1000));

	fprintf(stderr, "%s [%d] %s:  %s\n", stamp, (int) getpid(),
			level_tags[level], msg);
}

bool
log_ratelimit(HdLogRateLimit *rl, int *suppressed)
{
	int64_t		now = now_ms();

	if (rl->last_ms != 0 && now - rl->last_ms < HD_LOG_RATELIMIT_MS)
	{
		rl->suppressed++;
		return false;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->last_ms = now;
	return true;
}
