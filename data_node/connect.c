/* SPDX-License-Identifier: PostgreSQL */
/*
 * connect.c — PostgreSQL connections made in helper threads (see
 * connect.h).
 *
 * One detached thread per connection, at most connect_threads at once,
 * rather than a fixed pool: the loop keeps the waiting FIFO itself, so no
 * queue, lock or condition variable is shared with the threads (the pipe
 * is the only channel), and connect_threads can change on SIGHUP.
 * Starting a thread costs microseconds, next to the fork of a backend and
 * an authentication exchange that every connection costs anyway.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent.h"
#include "connect.h"
#include "log.h"
#include "util.h"

typedef struct ConnectJob
{
	struct ConnectJob *next;	/* the waiting FIFO (loop-owned jobs only) */
	uint64_t	session_id;
	uint64_t	token;
	int64_t		deadline;
	bool		require_password;
	char	  **keys;
	char	  **vals;
	/* The outcome, set by the thread before it hands the job back. */
	ConnectOutcome outcome;
	PGconn	   *conn;
	char	   *error;
} ConnectJob;

_Static_assert(sizeof(ConnectJob *) <= PIPE_BUF, "reports must be atomic");

/* Threads write the finished job's pointer here (report_pipe_open). */
static int	done_pipe[2] = {-1, -1};

/* An eventfd written once when shutdown begins and never read: wakes every thread. */
static int	abort_fd = -1;

/* Owned by the loop thread. */
static ConnectJob *waiting_head;
static ConnectJob *waiting_tail;
static int	in_flight;
static uint64_t last_token;
static bool aborted;

/* HD_TEST_CONNECT_DELAY_ENV; read-only in threads. */
static int	test_delay_ms;

bool
connect_init(char *err, size_t errlen)
{
	if (!report_pipe_open(done_pipe, "connect completion", err, errlen) ||
		!test_delay_from_env(HD_TEST_CONNECT_DELAY_ENV, &test_delay_ms, err, errlen))
		return false;
	abort_fd = eventfd(0, EFD_CLOEXEC);
	if (abort_fd < 0)
	{
		snprintf(err, errlen, "could not create an eventfd: %s", strerror(errno));
		return false;
	}
	return true;
}

int
connect_fd(void)
{
	return done_pipe[0];
}

int
connect_in_flight(void)
{
	return in_flight;
}

static char **
copy_strings(const char *const *strings)
{
	int			n = 0;
	char	  **copy;

	while (strings[n])
		n++;
	copy = xcalloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		copy[i] = xstrdup(strings[i]);
	return copy;
}

/* Frees the parameters; the values (the password among them) are zeroed. */
static void
free_params(ConnectJob *job)
{
	for (int i = 0; job->keys && job->keys[i]; i++)
	{
		explicit_bzero(job->vals[i], strlen(job->vals[i]));
		free(job->keys[i]);
		free(job->vals[i]);
	}
	free(job->keys);
	free(job->vals);
	job->keys = job->vals = NULL;
}

static void
free_job(ConnectJob *job)
{
	free_params(job);
	free(job->error);
	free(job);
}

/* ---- the thread ------------------------------------------------------------ */

/*
 * Waits until the socket is ready for what PQconnectPoll asked for.  NULL
 * then; otherwise why the connection is given up.
 */
static const char *
wait_socket(PGconn *conn, PostgresPollingStatusType want, int64_t deadline)
{
	for (;;)
	{
		struct pollfd pfd[2] = {
			{.fd = PQsocket(conn), .events = want == PGRES_POLLING_READING ? POLLIN : POLLOUT},
			{.fd = abort_fd, .events = POLLIN}
		};
		int64_t		left = deadline - now_ms();
		int			rc;

		if (left <= 0)
			return "timeout connecting to the local PostgreSQL server";
		rc = poll(pfd, 2, left > INT_MAX ? INT_MAX : (int) left);
		if (rc < 0 && errno != EINTR)
			return "could not wait for the connection to the local PostgreSQL server";
		if (rc > 0 && pfd[1].revents)
			return "the data node agent is shutting down";
		if (rc > 0)
			return NULL;
	}
}

/*
 * A ready connection for which the server asked for no password is refused
 * unless allowed: the agent holds no credentials, so such a session would
 * be the Hello's role on the strength of the access node's key alone.
 */
static void
finish_ready(ConnectJob *job, PGconn *conn)
{
	if (job->require_password && !PQconnectionUsedPassword(conn))
	{
		job->outcome = CONNECT_NO_PASSWORD;
		PQfinish(conn);
		return;
	}
	/* Nonblocking from here on, so the loop's PQfinish never waits. */
	if (PQsetnonblocking(conn, 1) != 0)
	{
		job->error = xstrdup("could not put the connection in nonblocking mode");
		PQfinish(conn);
		return;
	}
	job->outcome = CONNECT_READY;
	job->conn = conn;
}

/* Sets the job's outcome: a ready connection, a refusal, or an error. */
static void
run_connect(ConnectJob *job)
{
	PGconn	   *conn;
	PostgresPollingStatusType status = PGRES_POLLING_WRITING;
	const char *why = NULL;

	job->outcome = CONNECT_FAILED;
	/* expand_dbname = 0: a dbname from the wire is a name, not a conninfo. */
	conn = PQconnectStartParams((const char *const *) job->keys,
								(const char *const *) job->vals, 0);
	if (conn == NULL)
	{
		job->error = xstrdup("out of memory starting a connection");
		return;
	}

	/*
	 * With verbose errors the server's SQLSTATE appears in PQerrorMessage,
	 * the only place libpq keeps a failed connection's error.
	 */
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	/* Per the libpq docs: start as if PQconnectPoll had asked for writing. */
	while (PQstatus(conn) != CONNECTION_BAD &&
		   status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
	{
		if ((why = wait_socket(conn, status, job->deadline)) != NULL)
			break;
		status = PQconnectPoll(conn);
	}
	if (why == NULL && status == PGRES_POLLING_OK)
	{
		finish_ready(job, conn);
		return;
	}
	job->error = xstrdup(why ? why : PQerrorMessage(conn));
	PQfinish(conn);
}

static void *
connect_thread(void *arg)
{
	ConnectJob *job = arg;

	if (test_delay_ms > 0)
	{
		struct pollfd pfd = {.fd = abort_fd, .events = POLLIN};

		poll(&pfd, 1, test_delay_ms);
	}
	run_connect(job);
	free_params(job);

	/* From here on the job, and its connection, belong to the loop. */
	report_pipe_write(done_pipe[1], &job, sizeof(job));
	return NULL;
}

/* ---- the loop's side --------------------------------------------------------- */

static bool
start_thread(ConnectJob *job)
{
	pthread_attr_t attr;
	pthread_t	tid;
	int			rc;

	/*
	 * The thread inherits the loop's signal mask, in which SIGTERM/SIGINT/
	 * SIGHUP are blocked for the signalfd, so signals stay with the loop.
	 * Default stack size: TLS and GSSAPI libraries run in it.
	 */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, connect_thread, job);
	pthread_attr_destroy(&attr);
	if (rc != 0)
	{
		/* The job waits on; the next completion or tick tries again. */
		log_warning("could not start a connect thread: %s", strerror(rc));
		return false;
	}
	return true;
}

void
connect_dispatch(void)
{
	while (waiting_head && !aborted && in_flight < agent_config->connect_threads)
	{
		ConnectJob *job = waiting_head;

		if (!start_thread(job))
			return;
		/* The thread owns job now. */
		waiting_head = job->next;
		if (waiting_head == NULL)
			waiting_tail = NULL;
		in_flight++;
	}
}

uint64_t
connect_start(const char *const *keys, const char *const *vals,
			  uint64_t session_id, int64_t deadline, bool require_password)
{
	ConnectJob *job = xcalloc(1, sizeof(ConnectJob));

	job->session_id = session_id;
	job->token = ++last_token;
	job->deadline = deadline;
	job->require_password = require_password;
	job->keys = copy_strings(keys);
	job->vals = copy_strings(vals);
	if (waiting_tail)
		waiting_tail->next = job;
	else
		waiting_head = job;
	waiting_tail = job;
	if (in_flight >= agent_config->connect_threads)
		log_debug("connect of session %016" PRIx64 " waits for a connect thread (%d busy)",
				  session_id, in_flight);
	connect_dispatch();
	return job->token;
}

void
connect_forget(uint64_t token)
{
	ConnectJob *prev = NULL;

	/* Not found: running, or already reported. */
	for (ConnectJob *job = waiting_head; job; prev = job, job = job->next)
	{
		if (job->token != token)
			continue;
		if (prev)
			prev->next = job->next;
		else
			waiting_head = job->next;
		if (waiting_tail == job)
			waiting_tail = prev;
		free_job(job);
		return;
	}
}

void
connect_collect(ConnectDoneFn done)
{
	ConnectJob *jobs[64];

	for (;;)
	{
		ssize_t		n = read(done_pipe[0], jobs, sizeof(jobs));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;				/* EAGAIN: all collected */
		/* Every write is one whole pointer, so reads are whole ones too. */
		for (size_t i = 0; i < (size_t) n / sizeof(ConnectJob *); i++)
		{
			ConnectJob *job = jobs[i];

			in_flight--;
			done(job->session_id, job->token, job->outcome, job->conn, job->error);
			free_job(job);
		}
	}
	connect_dispatch();
}

void
connect_abort_all(void)
{
	uint64_t	one = 1;

	aborted = true;
	while (waiting_head)
	{
		ConnectJob *job = waiting_head;

		waiting_head = job->next;
		free_job(job);
	}
	waiting_tail = NULL;
	if (write(abort_fd, &one, sizeof(one)) != (ssize_t) sizeof(one))
		log_warning("could not signal the connect threads: %s", strerror(errno));
}
