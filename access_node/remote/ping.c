/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/ping.c — are the agents there?  A round trip without a session
 * (Ping, Pong), on a socket of its own per agent: health() and the health
 * monitor ask it before they ask the data nodes' PostgreSQL anything.
 *
 * Many agents are pinged at once: every socket is opened first (ZeroMQ
 * connects and handshakes in its I/O thread), then each Ping is queued as
 * soon as its socket takes it and each Pong read as it comes, waiting on
 * all the sockets together under one deadline.  Agents that do not answer
 * cost that deadline once, however many there are, and never delay
 * another's answer.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "remote/connection.h"
#include "remote/transport.h"

/* One agent's ping. */
typedef struct Ping
{
	HdSock		hs;
	bool		open;
	bool		sent;			/* the Ping is queued */
	bool		done;			/* the Pong came, or error is set */
	char	   *error;
} Ping;

static const char *
sock_status_text(HdSockStatus st)
{
	switch (st)
	{
		case HD_SOCK_AUTH_FAILED:
			return "the agent refused the access node's key";
		case HD_SOCK_HANDSHAKE_FAILED:
			return "the secure handshake with the agent failed (check agent_public_key)";
		case HD_SOCK_LOST:
		case HD_SOCK_SESSION_GONE:
			return "the agent closed the connection";
		case HD_SOCK_TIMEOUT:
			return "the agent did not answer in time";
		case HD_SOCK_READY:
			break;
	}
	return "unknown failure";
}

/* The Ping envelope, encoded once for every agent. */
static void *
ping_encode(size_t *len)
{
	Hyperdist__Ping ping = HYPERDIST__PING__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;

	env.body_case = HYPERDIST__ENVELOPE__BODY_PING;
	env.ping = &ping;
	env.has_seq = true;
	env.seq = 1;
	return hd_envelope_encode(&env, "", CurrentMemoryContext, len);
}

/*
 * Moves one ping on as far as it goes without waiting: queues the Ping
 * once the socket takes it, then reads what came back.  Sets p->done when
 * the Pong came or the ping failed (p->error).
 */
static void
ping_step(Ping *p, const void *buf, size_t len)
{
	const char *why;
	HdSockStatus st;

	if (!p->sent)
	{
		int			err = hd_sock_send(&p->hs, buf, len, &why);

		if (err == 0)
			p->sent = true;
		else if (err != EAGAIN)
			p->error = pstrdup(why);
	}
	while (p->sent && p->error == NULL)
	{
		HdEnvelope *reply;
		HdRecvStatus rs = hd_sock_recv(&p->hs, CurrentMemoryContext, &reply, &why);

		if (rs == HD_RECV_NONE)
			break;
		if (rs == HD_RECV_BAD)
			p->error = psprintf("invalid message from the agent: %s", why);
		else if (reply->seq != 1)
			continue;
		else if (reply->body_case == HYPERDIST__ENVELOPE__BODY_PONG)
		{
			p->done = true;
			return;
		}
		else if (reply->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
			p->error = pstrdup(reply->error->message);
		else
			p->error = pstrdup("the agent did not answer Ping with Pong");
	}
	if (p->error == NULL)
	{
		hd_sock_drain_monitor(&p->hs);
		st = hd_sock_failure(&p->hs);
		if (st != HD_SOCK_READY)
			p->error = pstrdup(sock_status_text(st));
	}
	p->done = p->error != NULL;
}

/* Steps every ping, then waits for any of those not done, until deadline. */
static void
ping_all(Ping *pings, int n, const void *buf, size_t len, TimestampTz deadline)
{
	HdSock	  **socks = palloc(sizeof(HdSock *) * n);
	HdSockWant *wants = palloc(sizeof(HdSockWant) * n);

	for (;;)
	{
		int			waiting = 0;

		for (int i = 0; i < n; i++)
		{
			if (!pings[i].done)
				ping_step(&pings[i], buf, len);
			if (!pings[i].done)
			{
				socks[waiting] = &pings[i].hs;
				wants[waiting++] = pings[i].sent ? HD_SOCK_IN : HD_SOCK_OUT;
			}
		}
		if (waiting == 0 || hd_sock_wait_any(socks, wants, waiting, deadline) < 0)
			break;
	}
	for (int i = 0; i < n; i++)
		if (!pings[i].done)
			pings[i].error = pstrdup(sock_status_text(HD_SOCK_TIMEOUT));
}

void
hd_agent_ping_many(int n, HdConnTarget *const *targets, int timeout_ms,
				   char **errors)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeout_ms);
	Ping	   *pings = palloc0(sizeof(Ping) * Max(n, 1));
	size_t		len;
	void	   *buf = ping_encode(&len);

	PG_TRY();
	{
		for (int i = 0; i < n; i++)
		{
			hd_sock_open(&pings[i].hs, targets[i], CurrentMemoryContext);
			pings[i].open = true;
		}
		ping_all(pings, n, buf, len, deadline);
		for (int i = 0; i < n; i++)
			errors[i] = pings[i].error == NULL ? NULL :
				psprintf("agent at %s:%d does not answer: %s",
						 targets[i]->host, targets[i]->port, pings[i].error);
	}
	PG_FINALLY();
	{
		for (int i = 0; i < n; i++)
			if (pings[i].open)
				hd_sock_close(&pings[i].hs, 0);
	}
	PG_END_TRY();
	pfree(pings);
}
