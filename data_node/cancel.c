/*
 * cancel.c — PQcancel in detached helper threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "log.h"
#include "util.h"

typedef struct CancelJob
{
	PGcancel   *cancel;
	char		label[64];
} CancelJob;

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
	run_cancel((CancelJob *) arg);
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
	job = xmalloc(sizeof(CancelJob));
	job->cancel = cancel;
	snprintf(job->label, sizeof(job->label), "%s", label);
	return job;
}

bool
cancel_async(PGconn *conn, const char *label)
{
	CancelJob  *job = make_job(conn, label);
	pthread_attr_t attr;
	pthread_t	tid;
	int			rc;

	if (job == NULL)
		return false;

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
	}
	return true;
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
