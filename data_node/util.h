/* SPDX-License-Identifier: PostgreSQL */
/*
 * util.h — small helpers shared by the agent's modules.
 */
#ifndef HD_AGENT_UTIL_H
#define HD_AGENT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds on the monotonic clock (timers never jump with the wall clock). */
extern int64_t now_ms(void);

/* 64 random bits from the kernel (getrandom), never 0. */
extern uint64_t random_u64_nonzero(void);

/*
 * Allocation that cannot fail: the agent has no sensible way to continue
 * when malloc fails for its own bookkeeping (request frames are bounded by
 * ZMQ_MAXMSGSIZE, so this means the machine is out of memory), so it logs
 * and exits; systemd restarts it.
 */
extern void *xmalloc(size_t size);
extern void *xcalloc(size_t n, size_t size);
extern char *xstrdup(const char *s);
extern char *xstrndup(const char *s, size_t n);

/* snprintf into a fresh buffer. */
extern char *xasprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * A pipe on which helper threads report to the loop: the loop reads fds[0]
 * (nonblocking), threads write fds[1] (blocking).  Never closed, so a
 * thread still running at exit cannot write into a reused descriptor.
 * what names the pipe in err.
 */
extern bool report_pipe_open(int fds[2], const char *what, char *err, size_t errlen);

/* A thread's report: len <= PIPE_BUF bytes, so the write is atomic. */
extern void report_pipe_write(int fd, const void *buf, size_t len);

/*
 * A test-only delay in milliseconds (0-60000) from environment variable
 * name; 0 when unset.  False, with err set, when the value is malformed.
 * A delay that is set is logged as a warning.
 */
extern bool test_delay_from_env(const char *name, int *ms, char *err, size_t errlen);

#endif							/* HD_AGENT_UTIL_H */
