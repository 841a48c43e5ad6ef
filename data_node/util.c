/* SPDX-License-Identifier: PostgreSQL */
/*
 * util.c — clock, randomness and allocation helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
random_u64_nonzero(void)
{
	uint64_t	v = 0;

	while (v == 0)
	{
		ssize_t		n = getrandom(&v, sizeof(v), 0);

		if (n != (ssize_t) sizeof(v))
		{
			if (n < 0 && errno == EINTR)
				continue;
			/* The kernel RNG is not optional: ids must not be guessable. */
			log_error("getrandom failed: %s", strerror(errno));
			exit(1);
		}
	}
	return v;
}

static void
out_of_memory(size_t size)
{
	log_error("out of memory (allocating %zu bytes)", size);
	exit(1);
}

void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(n * size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		out_of_memory(strlen(s) + 1);
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	   *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *p;
	int			n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(0);
	return p;
}

bool
report_pipe_open(int fds[2], const char *what, char *err, size_t errlen)
{
	if (pipe2(fds, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "could not create the %s pipe: %s", what, strerror(errno));
		return false;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
	{
		snprintf(err, errlen, "could not make the %s pipe nonblocking: %s",
				 what, strerror(errno));
		return false;
	}
	return true;
}

void
report_pipe_write(int fd, const void *buf, size_t len)
{
	/* Atomic: a blocking write of at most PIPE_BUF bytes is never partial. */
	while (write(fd, buf, len) < 0)
	{
		if (errno != EINTR)
		{
			/* Cannot happen with a blocking pipe whose read end is open. */
			log_error("could not report to the event loop: %s", strerror(errno));
			return;
		}
	}
}

bool
test_delay_from_env(const char *name, int *ms, char *err, size_t errlen)
{
	const char *value = getenv(name);
	char	   *end;
	long		v;

	*ms = 0;
	if (value == NULL || value[0] == '\0')
		return true;
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 60000)
	{
		snprintf(err, errlen, "%s must be a number of milliseconds up to 60000", name);
		return false;
	}
	*ms = (int) v;
	if (v > 0)
		log_warning("%s=%ld: for tests only", name, v);
	return true;
}
