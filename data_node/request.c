/* SPDX-License-Identifier: PostgreSQL */
/*
 * request.c — decoding and dispatching frames from access nodes.
 *
 * Every frame goes through hd_wire_decode with HD_MAX_REQUEST_FRAME, and a
 * control frame (any request but Exec and Query) is refused above
 * HD_MAX_CONTROL_FRAME before it is unpacked.  Bad frames are answered
 * with Error 08P01 and logged; they never touch a session other than (at
 * most) the one they name, and never the process.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "reply.h"
#include "request.h"
#include "session.h"
#include "sqlstate.h"

/*
 * A frame that is well-formed protobuf but broke a rule, or a control frame
 * that is too large, gets an Error with the session and seq it carries, so
 * the access node can match it to its request instead of waiting for a
 * reply that never comes.  Undecodable frames get 0 for both.
 */
static void
reject_frame(const RoutingId *rid, const void *data, size_t len,
			 HdWireStatus status, const char *why, const PeerInfo *peer)
{
	char		idbuf[64];
	HdWirePeek	peek;

	if ((status != HD_WIRE_INVALID && status != HD_WIRE_TOO_LARGE) ||
		!hd_wire_peek(data, len, &peek))
		peek.session = peek.seq = 0;
	log_warning("malformed frame (%zu bytes) from %s (routing id %s): %s: %s",
				len, peer->address, routing_id_str(rid, idbuf, sizeof(idbuf)),
				hd_wire_status_name(status), why);
	reply_errorf(rid, peek.session, peek.seq, HD_SQLSTATE_PROTOCOL_VIOLATION, NULL,
				 "malformed request: %s", why);
}

/*
 * Only Exec and Query carry bulk data.  Any other request above
 * HD_MAX_CONTROL_FRAME is refused before protobuf-c copies it; true when
 * the frame was refused.
 */
static bool
refuse_oversized_control(const RoutingId *rid, const void *data, size_t len,
						 const PeerInfo *peer)
{
	HdWirePeek	peek;
	char		why[128];

	if (len <= HD_MAX_CONTROL_FRAME || !hd_wire_peek(data, len, &peek) ||
		peek.body == HYPERDIST__ENVELOPE__BODY_EXEC ||
		peek.body == HYPERDIST__ENVELOPE__BODY_QUERY)
		return false;
	snprintf(why, sizeof(why), "a %s frame holds at most %d bytes, this one %zu",
			 hd_wire_body_name(peek.body), HD_MAX_CONTROL_FRAME, len);
	reject_frame(rid, data, len, HD_WIRE_TOO_LARGE, why, peer);
	return true;
}

static void
handle_ping(const RoutingId *rid, const HdEnvelope *env, const PeerInfo *peer)
{
	const char *why;
	Session    *s;

	/* Session 0: a health check that needs no session. */
	if (env->session == 0)
	{
		reply_pong(rid, 0, env->seq, (uint32_t) sessions_count());
		return;
	}
	s = session_lookup(rid, env, &why);
	if (s == NULL)
	{
		reply_errorf(rid, env->session, env->seq,
					 HD_SQLSTATE_CONNECTION_DOES_NOT_EXIST, why, "unknown session");
		return;
	}
	session_touch(s, peer);
	reply_pong(rid, env->session, env->seq, (uint32_t) sessions_count());
}

/*
 * Requests that name a session (len: the frame's size).  Returns true when
 * it took ownership of env (a queued Exec or Query).
 */
static bool
handle_session_request(const RoutingId *rid, HdEnvelope *env, size_t len,
					   const PeerInfo *peer)
{
	const char *why;
	Session    *s = session_lookup(rid, env, &why);

	if (s == NULL)
	{
		if (env->body_case == HYPERDIST__ENVELOPE__BODY_CLOSE)
			return false;		/* Close has no reply, even for a stranger */
		log_debug("request for unknown session %016" PRIx64 ": %s", env->session, why);
		reply_errorf(rid, env->session, env->seq,
					 HD_SQLSTATE_CONNECTION_DOES_NOT_EXIST, why, "unknown session");
		return false;
	}
	session_touch(s, peer);

	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_EXEC:
		case HYPERDIST__ENVELOPE__BODY_QUERY:
			session_submit(s, env, len);
			return true;
		case HYPERDIST__ENVELOPE__BODY_CANCEL:
			session_cancel(s, env->seq);
			return false;
		case HYPERDIST__ENVELOPE__BODY_CREDIT:
			session_credit(s, env->seq,
						   env->credit->has_batches ? env->credit->batches : 0);
			return false;
		case HYPERDIST__ENVELOPE__BODY_CLOSE:
			session_close(s, "closed by the access node");
			return false;
		default:
			reply_errorf(rid, env->session, env->seq, HD_SQLSTATE_PROTOCOL_VIOLATION,
						 NULL, "unexpected %s request", hd_wire_body_name(env->body_case));
			return false;
	}
}

void
request_handle(const RoutingId *rid, const void *data, size_t len,
			   bool multipart, const PeerInfo *peer)
{
	HdEnvelope *env = NULL;
	const char *why = NULL;
	HdWireStatus status;
	bool		kept = false;

	if (multipart)
	{
		reject_frame(rid, data, len, HD_WIRE_INVALID,
					 "a message must be exactly one frame", peer);
		return;
	}
	if (refuse_oversized_control(rid, data, len, peer))
		return;
	status = hd_wire_decode(data, len, HD_MAX_REQUEST_FRAME, NULL, &env, &why);
	if (status != HD_WIRE_OK)
	{
		reject_frame(rid, data, len, status, why, peer);
		return;
	}

	/* Replies travel only from the agent to access nodes. */
	if (!hd_wire_is_request(env->body_case))
	{
		char		detail[128];

		snprintf(detail, sizeof(detail), "%s is a reply; the agent accepts only requests.",
				 hd_wire_body_name(env->body_case));
		log_warning("unexpected %s from %s", hd_wire_body_name(env->body_case),
					peer->address);
		reply_errorf(rid, env->has_session ? env->session : 0, env->seq,
					 HD_SQLSTATE_PROTOCOL_VIOLATION, detail, "unexpected reply message");
		hd_wire_free(env, NULL);
		return;
	}

	switch (env->body_case)
	{
		case HYPERDIST__ENVELOPE__BODY_HELLO:
			session_hello(rid, env, peer);
			break;
		case HYPERDIST__ENVELOPE__BODY_PING:
			handle_ping(rid, env, peer);
			break;
		default:
			kept = handle_session_request(rid, env, len, peer);
			break;
	}
	if (!kept)
		hd_wire_free(env, NULL);
}
