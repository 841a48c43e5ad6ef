/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/ping.c — is an agent there?  A round trip without a session
 * (Ping, Pong), on a socket of its own: health() asks it before it asks the
 * data node's PostgreSQL anything.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "remote/connection.h"
#include "remote/transport.h"

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

/* Ping, then wait for its Pong; false with *error set on failure. */
static bool
ping_exchange(HdSock *hs, TimestampTz deadline, char **error)
{
	Hyperdist__Ping ping = HYPERDIST__PING__INIT;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	MemoryContext cxt = CurrentMemoryContext;
	void	   *buf;
	size_t		len;
	HdSockStatus st;
	int			err;
	const char *why;

	env.body_case = HYPERDIST__ENVELOPE__BODY_PING;
	env.ping = &ping;
	env.has_seq = true;
	env.seq = 1;
	buf = hd_envelope_encode(&env, "", cxt, &len);

	while ((err = hd_sock_send(hs, buf, len, &why)) != 0)
	{
		if (err != EAGAIN)
		{
			*error = pstrdup(why);
			return false;
		}
		st = hd_sock_wait(hs, HD_SOCK_OUT, deadline);
		if (st != HD_SOCK_READY)
		{
			*error = pstrdup(sock_status_text(st));
			return false;
		}
	}

	for (;;)
	{
		HdEnvelope *reply;

		switch (hd_sock_recv(hs, cxt, &reply, &why))
		{
			case HD_RECV_BAD:
				*error = psprintf("invalid message from the agent: %s", why);
				return false;
			case HD_RECV_OK:
				if (reply->seq != 1)
					continue;
				if (reply->body_case == HYPERDIST__ENVELOPE__BODY_PONG)
					return true;
				if (reply->body_case == HYPERDIST__ENVELOPE__BODY_ERROR)
					*error = pstrdup(reply->error->message);
				else
					*error = pstrdup("the agent did not answer Ping with Pong");
				return false;
			case HD_RECV_NONE:
				break;
		}
		st = hd_sock_wait(hs, HD_SOCK_IN, deadline);
		if (st != HD_SOCK_READY)
		{
			*error = pstrdup(sock_status_text(st));
			return false;
		}
	}
}

bool
hd_agent_ping(const HdConnTarget *target, int timeout_ms, char **error)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeout_ms);
	HdSock		hs;
	volatile bool ok = false;

	*error = NULL;
	hd_sock_open(&hs, target, CurrentMemoryContext);
	PG_TRY();
	{
		ok = ping_exchange(&hs, deadline, error);
	}
	PG_FINALLY();
	{
		hd_sock_close(&hs, 0);
	}
	PG_END_TRY();
	return ok;
}
