/* SPDX-License-Identifier: PostgreSQL */
/*
 * cancel.c — PQcancel in detached helper threads that report back to the
 * loop through a pipe (see cancel.h).
 */
#include <errno.h>
#include <limits.h>
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

/* The completion pipe (report_pipe_open). */
static int	done_pipe[2] = {-1, -1};

/* Owned by the loop thread. */
static uint64_t last_token;
static int	in_flight;

/* Test-only delay before PQcancel (HD_TEST_CANCEL_DELAY_ENV); read-only in threads. */
static int	test_delay_ms;

bool
cancel_init(char *err, size_t errlen)
{
	return report_pipe_open(done_pipe, "cancel completion", err, errlen) &&
		test_delay_from_env(HD_TEST_CANCEL_DELAY_ENV, &test_delay_ms, err, errlen);
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

	if (test_delay_ms > 0)
		usleep((useconds_t) test_delay_ms * 1000);
	run_cancel(job);			/* frees job */

	/* Only now may the session start its next request. */
	report_pipe_write(done_pipe[1], &done, sizeof(done));
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
