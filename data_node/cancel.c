/*
 * cancel.c — PQcancel in detached helper threads that report back to the
 * loop through a pipe (see cancel.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cancel.h"
#include "log.h"
#include "util.h"

typedef struct CancelJob
{
	PGcancel   *cancel;
	uint64_t	session_id;
	uint64_t	token;
	char		label[64];
} CancelJob;

/* What a thread writes to the pipe: one atomic write (< PIPE_BUF). */
typedef struct CancelDone
{
	uint64_t	session_id;
	uint64_t	token;
} CancelDone;

_Static_assert(sizeof(CancelDone) <= PIPE_BUF, "completion writes must be atomic");

/*
 * The pipe: the loop reads [0] (nonblocking), threads write [1] (blocking).
 * Never closed: a thread still running when the process exits must not
 * write into a descriptor number that was reused for something else.
 */
static int	done_pipe[2] = {-1, -1};

/* Owned by the loop thread. */
static uint64_t last_token;
static int	in_flight;

/* Test-only delay before PQcancel (HD_TEST_CANCEL_DELAY_ENV); read-only in threads. */
static int	test_delay_ms;

bool
cancel_init(char *err, size_t errlen)
{
	const char *delay = getenv(HD_TEST_CANCEL_DELAY_ENV);

	if (pipe2(done_pipe, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "could not create the cancel completion pipe: %s",
				 strerror(errno));
		return false;
	}
	if (fcntl(done_pipe[0], F_SETFL, O_NONBLOCK) != 0)
	{
		snprintf(err, errlen, "could not make the cancel completion pipe nonblocking: %s",
				 strerror(errno));
		return false;
	}
	if (delay && delay[0])
	{
		char	   *end;
		long		ms = strtol(delay, &end, 10);

		if (*end != '\0' || ms < 0 || ms > 60000)
		{
			snprintf(err, errlen, "%s must be a number of milliseconds up to 60000",
					 HD_TEST_CANCEL_DELAY_ENV);
			return false;
		}
		test_delay_ms = (int) ms;
		if (ms > 0)
			log_warning("%s=%ld: every cancel request is delayed (for tests only)",
						HD_TEST_CANCEL_DELAY_ENV, ms);
	}
	return true;
}

int
cancel_fd(void)
{
	return done_pipe[0];
}

int
cancel_in_flight(void)
{
	return in_flight;
}

/* PQcancel, a log line, and the job freed. */
static void
run_cancel(CancelJob *job)
{
	char		errbuf[256];

	if (!PQcancel(job->cancel, errbuf, sizeof(errbuf)))
		log_warning("could not send cancel request for %s: %s", job->label, errbuf);
	else
		log_debug("cancel request sent for %s", job->label);
	PQfreeCancel(job->cancel);
	free(job);
}

static void *
cancel_thread(void *arg)
{
	CancelJob  *job = arg;
	CancelDone	done = {job->session_id, job->token};
	const char *p = (const char *) &done;
	size_t		left = sizeof(done);

	if (test_delay_ms > 0)
		usleep((useconds_t) test_delay_ms * 1000);
	run_cancel(job);			/* frees job */

	/* Only now may the session start its next request. */
	while (left > 0)
	{
		ssize_t		n = write(done_pipe[1], p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			/* Cannot happen with a blocking pipe whose read end is open. */
			log_error("could not report a finished cancel request: %s", strerror(errno));
			break;
		}
		p += n;
		left -= (size_t) n;
	}
	return NULL;
}

static CancelJob *
make_job(PGconn *conn, const char *label)
{
	PGcancel   *cancel = PQgetCancel(conn);
	CancelJob  *job;

	if (cancel == NULL)
	{
		log_warning("cannot cancel %s: no cancel key for its connection", label);
		return NULL;
	}
	job = xcalloc(1, sizeof(CancelJob));
	job->cancel = cancel;
	snprintf(job->label, sizeof(job->label), "%s", label);
	return job;
}

uint64_t
cancel_async(PGconn *conn, uint64_t session_id, const char *label)
{
	CancelJob  *job = make_job(conn, label);
	pthread_attr_t attr;
	pthread_t	tid;
	uint64_t	token;
	int			rc;

	if (job == NULL)
		return 0;
	token = ++last_token;
	job->session_id = session_id;
	job->token = token;

	/*
	 * The thread inherits the loop's signal mask, in which SIGTERM/SIGINT/
	 * SIGHUP are blocked for the signalfd, so signals stay with the loop.
	 */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* PQcancel needs little stack; do not reserve 8 MB per cancel. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&tid, &attr, cancel_thread, job);
	pthread_attr_destroy(&attr);
	if (rc != 0)
	{
		/* Rather a short stall than a query that never stops. */
		log_warning("could not start a cancel thread (%s); cancelling inline",
					strerror(rc));
		run_cancel(job);
		return 0;				/* PQcancel has returned: nothing in flight */
	}
	/* The thread owns job now (and may have freed it already). */
	in_flight++;
	return token;
}

bool
cancel_sync(PGconn *conn, const char *label)
{
	CancelJob  *job = make_job(conn, label);

	if (job == NULL)
		return false;
	run_cancel(job);
	return true;
}

void
cancel_collect(CancelDoneFn done)
{
	CancelDone	buf[64];

	for (;;)
	{
		ssize_t		n = read(done_pipe[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;				/* EAGAIN: all collected */
		/* Every write is one whole CancelDone, so reads are whole ones too. */
		for (size_t i = 0; i < (size_t) n / sizeof(CancelDone); i++)
		{
			in_flight--;
			if (done)
				done(buf[i].session_id, buf[i].token);
		}
	}
}

void
cancel_wait_all(int timeout_ms, CancelDoneFn done)
{
	int64_t		deadline = now_ms() + timeout_ms;

	cancel_collect(done);
	if (in_flight == 0)
		return;
	log_info("waiting for %d cancel request%s in flight", in_flight,
			 in_flight == 1 ? "" : "s");
	while (in_flight > 0)
	{
		int64_t		left = deadline - now_ms();
		struct pollfd pfd = {.fd = done_pipe[0], .events = POLLIN};

		if (left <= 0)
		{
			log_warning("exiting with %d cancel request%s still in flight", in_flight,
						in_flight == 1 ? "" : "s");
			return;
		}
		if (poll(&pfd, 1, (int) left) < 0 && errno != EINTR)
			return;
		cancel_collect(done);
	}
}
