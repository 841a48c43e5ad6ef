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

#endif							/* HD_AGENT_UTIL_H */
