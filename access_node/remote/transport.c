/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/transport.c — ZeroMQ sockets to agents, and the envelopes that
 * travel on them.
 *
 * ZeroMQ inside a backend (see docs/ARCHITECTURE.md):
 *  - one context per process, created on first use (never in the
 *    postmaster), torn down by on_proc_exit so that the abort callback can
 *    still queue ROLLBACKs during ShutdownPostgres;
 *  - libzmq's I/O threads are spawned under BlockSig, so PostgreSQL's
 *    signals always reach the main thread;
 *  - every wait goes through the latch (WaitEventSetWait on ZMQ_FD), after
 *    reading ZMQ_EVENTS, because ZMQ_FD is edge-triggered; so cancel,
 *    statement_timeout and terminate work everywhere;
 *  - libzmq's message buffers are malloc'ed: every frame is unpacked and
 *    closed before anything can raise an ERROR;
 *  - a monitor socket per DEALER reports disconnects and failed handshakes,
 *    so a wait fails at once instead of timing out.
 *
 * This is the only file of the extension that calls libzmq.
 */
#include "postgres.h"

#include <pthread.h>
#include <signal.h>

#include <zmq.h>

#include "libpq/pqsignal.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "guc.h"
#include "keys.h"
#include "remote/transport.h"
#include "sqlstate.h"

/*
 * Socket tuning: a lost connection is retried at once, then backing off to
 * 2 s.  ZMTP heartbeats, answered by the agent's I/O thread whatever its
 * sessions do, find an agent that stopped answering (a hung process or
 * host, whose TCP connection stays up) while a reply is awaited: a PING
 * every half hyperdist.connect_timeout, and the connection counts as lost
 * when nothing came within the other half, so a wait notices within about
 * one connect timeout.
 */
#define HD_RECONNECT_IVL_MS		100
#define HD_RECONNECT_IVL_MAX_MS	2000

/* External fds: context (term mailbox, reaper, I/O thread, its poller). */
#define HD_FDS_PER_CONTEXT		5
/* Per session: DEALER mailbox, its TCP connection, two monitor mailboxes. */
#define HD_FDS_PER_SOCKET		4

#define HD_MONITOR_EVENTS \
	(ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
	 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

static void *zctx = NULL;
static pid_t zctx_pid = 0;
static bool zctx_started = false;
static uint32 monitor_counter = 0;

static HdTransportExitHook exit_hook = NULL;

/*
 * Every socket open in this process.  Their owners close them, on errors
 * too (PG_FINALLY), but a FATAL error (a terminated backend or worker)
 * skips that, and zmq_ctx_term would wait forever for a socket left open:
 * the teardown closes those.
 */
static void **open_socks = NULL;
static int	nopen_socks = 0;
static int	maxopen_socks = 0;

/* ---- the ZeroMQ context -------------------------------------------------- */

void
hd_transport_set_exit_hook(HdTransportExitHook hook)
{
	exit_hook = hook;
}

static void
zctx_teardown(int code, Datum arg)
{
	if (zctx == NULL || zctx_pid != getpid())
		return;

	if (exit_hook != NULL)
		exit_hook();
	while (nopen_socks > 0)
		zmq_close(open_socks[--nopen_socks]);

	while (zmq_ctx_term(zctx) != 0 && zmq_errno() == EINTR)
		;
	zctx = NULL;
}

static bool
acquire_fds(int n)
{
	for (int i = 0; i < n; i++)
	{
		if (!AcquireExternalFD())
		{
			while (i-- > 0)
				ReleaseExternalFD();
			return false;
		}
	}
	return true;
}

static void
report_too_many_fds(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("could not open a connection to a data node"),
			 errdetail("There are too many open files on the local server."),
			 errhint("Raise the server's max_files_per_process and/or \"ulimit -n\" limits.")));
}

/*
 * The process's context, created on first use.  Created here, never in
 * _PG_init: the postmaster forks, and a context does not survive a fork.
 */
static void *
zctx_get(void)
{
	if (zctx != NULL)
	{
		if (zctx_pid != getpid())
			elog(ERROR, "ZeroMQ context was created by process %d", (int) zctx_pid);
		return zctx;
	}

	if (!acquire_fds(HD_FDS_PER_CONTEXT))
		report_too_many_fds();
	zctx = zmq_ctx_new();
	if (zctx == NULL)
	{
		int			err = zmq_errno();

		for (int i = 0; i < HD_FDS_PER_CONTEXT; i++)
			ReleaseExternalFD();
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create a ZeroMQ context: %s", zmq_strerror(err))));
	}
	/* BLOCKY=0: sockets linger 0 by default, so zmq_ctx_term never hangs */
	zmq_ctx_set(zctx, ZMQ_BLOCKY, 0);
	zmq_ctx_set(zctx, ZMQ_IO_THREADS, 1);
	zctx_pid = getpid();
	on_proc_exit(zctx_teardown, (Datum) 0);
	return zctx;
}

/*
 * zmq_socket; the first one starts libzmq's threads, which must not be
 * able to take PostgreSQL's signals even before they block them themselves.
 */
static void *
zsocket(int type)
{
	void	   *ctx = zctx_get();
	sigset_t	save;
	void	   *s;
	int			err;

	if (nopen_socks == maxopen_socks)
	{
		int			newmax = Max(16, maxopen_socks * 2);

		open_socks = open_socks == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(void *) * newmax) :
			repalloc(open_socks, sizeof(void *) * newmax);
		maxopen_socks = newmax;
	}
	if (!zctx_started)
		pthread_sigmask(SIG_SETMASK, &BlockSig, &save);
	s = zmq_socket(ctx, type);
	err = zmq_errno();
	if (!zctx_started)
		pthread_sigmask(SIG_SETMASK, &save, NULL);
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create a ZeroMQ socket: %s", zmq_strerror(err))));
	zctx_started = true;
	open_socks[nopen_socks++] = s;
	return s;
}

static void
zclose(void *s)
{
	for (int i = 0; i < nopen_socks; i++)
	{
		if (open_socks[i] == s)
		{
			open_socks[i] = open_socks[--nopen_socks];
			break;
		}
	}
	zmq_close(s);
}

/* ---- sockets --------------------------------------------------------------- */

static void
zsetopt(void *s, int option, const void *value, size_t len, const char *name)
{
	if (zmq_setsockopt(s, option, value, len) != 0)
	{
		int			err = zmq_errno();

		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set ZeroMQ socket option %s: %s", name, zmq_strerror(err))));
	}
}

static void
zsetopt_int(void *s, int option, int value, const char *name)
{
	zsetopt(s, option, &value, sizeof(value), name);
}

/* CurveZMQ client keys: ours from the keys directory, the agent's given. */
static void
sock_set_curve(void *dealer, const HdConnTarget *target)
{
	char	   *dir = hd_keys_dir_path();
	char	   *path = psprintf("%s/access_node.key", dir);
	HdKeyPair	pair;
	char		err[512];

	if (!hd_key_valid(target->agent_public_key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent_public_key for data node \"%s\"",
						target->node_name ? target->node_name : target->host),
				 errhint("The key is the 40-character Z85 text of the agent's .pub file.")));
	if (!hd_key_load_pair(path, &pair, err, sizeof(err)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not load the access node's key pair from \"%s\"", path),
				 errdetail_internal("%s", err),
				 errhint("Create it with \"hyperdist-agent --keygen %s --name access_node\" and add access_node.pub to each agent's authorized keys.",
						 dir)));

	zsetopt(dealer, ZMQ_CURVE_SERVERKEY, target->agent_public_key,
			HD_Z85_KEY_LEN + 1, "CURVE_SERVERKEY");
	zsetopt(dealer, ZMQ_CURVE_PUBLICKEY, pair.public_key,
			HD_Z85_KEY_LEN + 1, "CURVE_PUBLICKEY");
	zsetopt(dealer, ZMQ_CURVE_SECRETKEY, pair.secret_key,
			HD_Z85_KEY_LEN + 1, "CURVE_SECRETKEY");
	explicit_bzero(&pair, sizeof(pair));
}

static void
sock_configure(void *dealer, const HdConnTarget *target)
{
	int64		maxmsg = HD_MAX_REPLY_FRAME;

	/* never queue requests for a connection that is not up (agent restart) */
	zsetopt_int(dealer, ZMQ_IMMEDIATE, 1, "IMMEDIATE");
	zsetopt_int(dealer, ZMQ_LINGER, 0, "LINGER");
	zsetopt(dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg), "MAXMSGSIZE");
	zsetopt_int(dealer, ZMQ_HEARTBEAT_IVL, hd_connect_timeout * 500, "HEARTBEAT_IVL");
	zsetopt_int(dealer, ZMQ_HEARTBEAT_TIMEOUT, hd_connect_timeout * 500,
				"HEARTBEAT_TIMEOUT");
	zsetopt_int(dealer, ZMQ_RECONNECT_IVL, HD_RECONNECT_IVL_MS, "RECONNECT_IVL");
	zsetopt_int(dealer, ZMQ_RECONNECT_IVL_MAX, HD_RECONNECT_IVL_MAX_MS, "RECONNECT_IVL_MAX");
	zsetopt_int(dealer, ZMQ_IPV6, 1, "IPV6");
	if (target->agent_public_key != NULL && target->agent_public_key[0] != '\0')
		sock_set_curve(dealer, target);
}

/* tcp://host:port, with IPv6 literals bracketed. */
static char *
agent_endpoint(const HdConnTarget *target)
{
	const char *name = target->node_name ? target->node_name : target->host;

	if (target->host == NULL || target->host[0] == '\0' ||
		strpbrk(target->host, " \t\r\n/[]") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent host \"%s\" for data node \"%s\"",
						target->host ? target->host : "", name)));
	if (target->port < 1 || target->port > 65535)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent port %d for data node \"%s\"",
						target->port, name)));
	if (strchr(target->host, ':') != NULL)
		return psprintf("tcp://[%s]:%d", target->host, target->port);
	return psprintf("tcp://%s:%d", target->host, target->port);
}

static int
zfd_of(void *s)
{
	int			fd;
	size_t		len = sizeof(fd);

	if (zmq_getsockopt(s, ZMQ_FD, &fd, &len) != 0)
	{
		int			err = zmq_errno();

		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not get the ZeroMQ socket's descriptor: %s", zmq_strerror(err))));
	}
	return fd;
}

void
hd_sock_close(HdSock *hs, int linger_ms)
{
	if (hs->wes != NULL)
		FreeWaitEventSet(hs->wes);
	if (hs->dealer != NULL)
	{
		if (linger_ms > 0)
			zmq_setsockopt(hs->dealer, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
		zclose(hs->dealer);
	}
	if (hs->monitor != NULL)
		zclose(hs->monitor);
	while (hs->nfds-- > 0)
		ReleaseExternalFD();
	memset(hs, 0, sizeof(*hs));
}

void
hd_sock_open(HdSock *hs, const HdConnTarget *target, MemoryContext wes_cxt)
{
	char	   *endpoint = agent_endpoint(target);
	char		monitor_ep[64];

	memset(hs, 0, sizeof(*hs));
	if (!acquire_fds(HD_FDS_PER_SOCKET))
		report_too_many_fds();
	hs->nfds = HD_FDS_PER_SOCKET;

	PG_TRY();
	{
		hs->dealer = zsocket(ZMQ_DEALER);
		sock_configure(hs->dealer, target);

		snprintf(monitor_ep, sizeof(monitor_ep), "inproc://hyperdist-monitor-%u",
				 ++monitor_counter);
		if (zmq_socket_monitor(hs->dealer, monitor_ep, HD_MONITOR_EVENTS) != 0)
		{
			int			err = zmq_errno();

			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not monitor a ZeroMQ socket: %s", zmq_strerror(err))));
		}
		hs->monitor = zsocket(ZMQ_PAIR);
		if (zmq_connect(hs->monitor, monitor_ep) != 0)
		{
			int			err = zmq_errno();

			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not connect a ZeroMQ monitor: %s", zmq_strerror(err))));
		}

		hs->wes = CreateWaitEventSet(wes_cxt, 4);
		AddWaitEventToSet(hs->wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(hs->wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		AddWaitEventToSet(hs->wes, WL_SOCKET_READABLE, zfd_of(hs->dealer), NULL, NULL);
		AddWaitEventToSet(hs->wes, WL_SOCKET_READABLE, zfd_of(hs->monitor), NULL, NULL);

		/* the address is resolved and connected by libzmq's I/O thread */
		if (zmq_connect(hs->dealer, endpoint) != 0)
		{
			int			err = zmq_errno();

			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to the agent at \"%s\": %s",
							endpoint, zmq_strerror(err))));
		}
	}
	PG_CATCH();
	{
		hd_sock_close(hs, 0);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* ZMQ_EVENTS; reading it also re-arms the edge-triggered ZMQ_FD. */
static int
sock_events(void *s)
{
	int			events;
	size_t		len = sizeof(events);

	while (zmq_getsockopt(s, ZMQ_EVENTS, &events, &len) != 0)
	{
		int			err = zmq_errno();

		if (err != EINTR)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not poll a ZeroMQ socket: %s", zmq_strerror(err))));
		len = sizeof(events);
	}
	return events;
}

/* Reads every queued monitor event into the socket's sticky flags. */
void
hd_sock_drain_monitor(HdSock *hs)
{
	for (;;)
	{
		zmq_msg_t	msg;
		uint16_t	event = 0;
		bool		more;

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, hs->monitor, ZMQ_DONTWAIT) < 0)
		{
			int			err = zmq_errno();

			zmq_msg_close(&msg);
			if (err == EINTR)
				continue;
			return;
		}
		if (zmq_msg_size(&msg) >= sizeof(event))
			memcpy(&event, zmq_msg_data(&msg), sizeof(event));
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);

		/* the second frame (the endpoint) arrives with the first */
		while (more)
		{
			zmq_msg_init(&msg);
			more = zmq_msg_recv(&msg, hs->monitor, ZMQ_DONTWAIT) >= 0 &&
				zmq_msg_more(&msg);
			zmq_msg_close(&msg);
		}

		switch (event)
		{
			case ZMQ_EVENT_DISCONNECTED:
				hs->lost = true;
				break;
			case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
				hs->auth_failed = true;
				break;
			case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
				hs->handshake_failed = true;
				break;
		}
	}
}

HdSockStatus
hd_sock_failure(const HdSock *hs)
{
	if (hs->auth_failed)
		return HD_SOCK_AUTH_FAILED;
	if (hs->handshake_failed)
		return HD_SOCK_HANDSHAKE_FAILED;
	if (hs->lost)
		return HD_SOCK_LOST;
	return HD_SOCK_READY;
}

/*
 * Waits until ZMQ_EVENTS shows `want` (ZMQ_POLLIN or ZMQ_POLLOUT), the
 * monitor reports a failure, or deadline (0: none) passes.  Always waits for
 * ZMQ_FD to become readable, also for POLLOUT: ZMQ_FD signals any change.
 */
HdSockStatus
hd_sock_wait(HdSock *hs, HdSockWant sock_want, TimestampTz deadline)
{
	int			want = sock_want == HD_SOCK_OUT ? ZMQ_POLLOUT : ZMQ_POLLIN;

	for (;;)
	{
		WaitEvent	event;
		long		timeout = -1;
		HdSockStatus failure;

		CHECK_FOR_INTERRUPTS();
		if (sock_events(hs->dealer) & want)
			return HD_SOCK_READY;
		hd_sock_drain_monitor(hs);
		failure = hd_sock_failure(hs);
		if (failure != HD_SOCK_READY)
			return failure;
		if (deadline != 0)
		{
			timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (timeout <= 0)
				return HD_SOCK_TIMEOUT;
		}
		event.events = 0;
		if (WaitEventSetWait(hs->wes, timeout, &event, 1, PG_WAIT_EXTENSION) > 0 &&
			(event.events & WL_LATCH_SET))
			ResetLatch(MyLatch);
	}
}

/* Whether hs shows want or has failed; drains its monitor. */
static bool
sock_ready(HdSock *hs, HdSockWant sock_want)
{
	int			want = sock_want == HD_SOCK_OUT ? ZMQ_POLLOUT : ZMQ_POLLIN;

	if (sock_events(hs->dealer) & want)
		return true;
	hd_sock_drain_monitor(hs);
	return hd_sock_failure(hs) != HD_SOCK_READY;
}

/* Waits for any event of the n sockets' ZeroMQ and monitor fds, or timeout. */
static void
wait_many(HdSock *const *socks, int n, long timeout)
{
	WaitEventSet *wes = CreateWaitEventSet(CurrentMemoryContext, 2 + 2 * n);
	WaitEvent	event;

	PG_TRY();
	{
		AddWaitEventToSet(wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (int i = 0; i < n; i++)
		{
			AddWaitEventToSet(wes, WL_SOCKET_READABLE, zfd_of(socks[i]->dealer), NULL, NULL);
			AddWaitEventToSet(wes, WL_SOCKET_READABLE, zfd_of(socks[i]->monitor), NULL, NULL);
		}
		event.events = 0;
		if (WaitEventSetWait(wes, timeout, &event, 1, PG_WAIT_EXTENSION) > 0 &&
			(event.events & WL_LATCH_SET))
			ResetLatch(MyLatch);
	}
	PG_FINALLY();
	{
		FreeWaitEventSet(wes);
	}
	PG_END_TRY();
}

int
hd_sock_wait_any(HdSock *const *socks, const HdSockWant *wants, int n,
				 TimestampTz deadline)
{
	for (;;)
	{
		long		timeout;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			if (sock_ready(socks[i], wants[i]))
				return i;
		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (timeout <= 0)
			return -1;
		wait_many(socks, n, timeout);
	}
}

int
hd_sock_send(HdSock *hs, const void *buf, size_t len, const char **why)
{
	for (;;)
	{
		int			err;

		if (zmq_send(hs->dealer, buf, len, ZMQ_DONTWAIT) >= 0)
			return 0;
		err = zmq_errno();
		if (err == EINTR)
			continue;
		*why = zmq_strerror(err);
		return err;
	}
}

/* ---- encoding and decoding ------------------------------------------------ */

/*
 * protobuf-c allocator on a memory context.  NO_OOM: unpack must see NULL
 * rather than a longjmp, so it can clean up.  Nothing is freed one by one:
 * every decoding context is reset as a whole.
 */
static void *
pb_alloc(void *cxt, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) cxt, size,
									  MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
}

static void
pb_free(void *cxt, void *ptr)
{
}

HdRecvStatus
hd_sock_recv(HdSock *hs, MemoryContext cxt, HdEnvelope **env, const char **why)
{
	ProtobufCAllocator alloc = {pb_alloc, pb_free, cxt};
	zmq_msg_t	msg;
	HdWireStatus status;
	bool		more;

	*env = NULL;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, hs->dealer, ZMQ_DONTWAIT) < 0)
	{
		int			err = zmq_errno();

		zmq_msg_close(&msg);
		if (err == EAGAIN || err == EINTR)
			return HD_RECV_NONE;
		*why = zmq_strerror(err);
		return HD_RECV_BAD;
	}
	more = zmq_msg_more(&msg);
	status = hd_wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg),
							HD_MAX_REPLY_FRAME, &alloc, env, why);
	zmq_msg_close(&msg);

	if (more)
	{
		/* the caller drops the socket, and the rest of the message with it */
		*env = NULL;
		*why = "message has more than one frame";
		return HD_RECV_BAD;
	}
	if (status != HD_WIRE_OK)
		return HD_RECV_BAD;
	/* the agent's liveness probes are requests with seq 0 */
	if ((*env)->seq != 0 && hd_wire_is_request((*env)->body_case))
	{
		*env = NULL;
		*why = "the agent sent a request";
		return HD_RECV_BAD;
	}
	return HD_RECV_OK;
}

void *
hd_envelope_encode(const HdEnvelope *env, const char *node_name, MemoryContext cxt,
				   size_t *len)
{
	size_t		size = hd_wire_size(env);
	void	   *buf;

	if (size > HD_MAX_REQUEST_FRAME)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("request for data node \"%s\" is too large", node_name),
				 errdetail("The request takes %zu bytes; the limit is %d bytes.",
						   size, HD_MAX_REQUEST_FRAME)));
	buf = MemoryContextAlloc(cxt, size);
	*len = hd_wire_encode(env, buf);
	return buf;
}

HdEnvelope *
hd_envelope_decode_kept(const void *wire, size_t len, MemoryContext cxt)
{
	ProtobufCAllocator alloc = {pb_alloc, pb_free, cxt};
	HdEnvelope *env;

	env = hyperdist__envelope__unpack(&alloc, len, wire);
	if (env == NULL)
		elog(ERROR, "could not unpack a request kept for replay");
	return env;
}

bool
hd_envelope_is_final(const HdEnvelope *env)
{
	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_DONE:
		case HYPERDIST__ENVELOPE__BODY_ERROR:
		case HYPERDIST__ENVELOPE__BODY_HELLO_OK:
		case HYPERDIST__ENVELOPE__BODY_PONG:
			return true;
		default:
			return false;
	}
}

bool
hd_envelope_unknown_session(const HdEnvelope *env)
{
	return env->body_case == HYPERDIST__ENVELOPE__BODY_ERROR &&
		strcmp(env->error->sqlstate, HD_SQLSTATE_CONNECTION_DOES_NOT_EXIST) == 0;
}

Hyperdist__Param **
hd_envelope_params(int nparams, const Oid *types, const char *const *values)
{
	Hyperdist__Param **params;

	if (nparams == 0)
		return NULL;
	params = palloc(sizeof(Hyperdist__Param *) * nparams);
	for (int i = 0; i < nparams; i++)
	{
		Hyperdist__Param *p = palloc(sizeof(Hyperdist__Param));

		hyperdist__param__init(p);
		p->has_type_oid = true;
		p->type_oid = types != NULL ? types[i] : InvalidOid;
		if (values[i] != NULL)
		{
			p->has_value = true;
			p->value.data = (uint8_t *) values[i];
			p->value.len = strlen(values[i]);
		}
		params[i] = p;
	}
	return params;
}
