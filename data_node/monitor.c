/* SPDX-License-Identifier: PostgreSQL */
/*
 * monitor.c — ROUTER socket monitor: handshake failures and disconnects.
 */
#include <stdint.h>
#include <string.h>

#include <zmq.h>

#include "log.h"
#include "monitor.h"

#define MONITOR_ENDPOINT "inproc://hyperdist-router-monitor"

#define MONITORED_EVENTS (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | \
	ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
	ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

static void *pair;

void *
monitor_open(void *ctx, void *router)
{
	int			linger = 0;

	if (zmq_socket_monitor(router, MONITOR_ENDPOINT, MONITORED_EVENTS) != 0)
	{
		log_warning("could not monitor the ROUTER: %s", zmq_strerror(zmq_errno()));
		return NULL;
	}
	pair = zmq_socket(ctx, ZMQ_PAIR);
	if (pair == NULL)
		return NULL;
	zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(pair, MONITOR_ENDPOINT) != 0)
	{
		log_warning("could not connect the ROUTER monitor: %s", zmq_strerror(zmq_errno()));
		zmq_close(pair);
		pair = NULL;
	}
	return pair;
}

void
monitor_close(void *router)
{
	if (pair == NULL)
		return;
	zmq_socket_monitor(router, NULL, 0);
	zmq_close(pair);
	pair = NULL;
}

static const char *
protocol_error_name(uint32_t value)
{
	switch (value)
	{
		case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
			return "cryptographic error (wrong server key?)";
		case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
			return "security mechanism mismatch (client without CURVE, or CURVE against --insecure?)";
		case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
			return "key exchange failed";
		default:
			return "protocol error";
	}
}

/* One limiter per failure kind, so one noisy client hides no other kind. */
static HdLogRateLimit crypto_limit;
static HdLogRateLimit mechanism_limit;
static HdLogRateLimit other_limit;

static HdLogRateLimit *
limiter_for(uint32_t value)
{
	if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
		return &crypto_limit;
	if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
		return &mechanism_limit;
	return &other_limit;
}

static void
log_handshake_failure(const char *what, uint32_t value)
{
	int			suppressed;

	if (!log_ratelimit(limiter_for(value), &suppressed))
		return;
	if (suppressed > 0)
		log_warning("refused a connection: handshake failed: %s (0x%08x); %d more like it in the last %d s",
					what, value, suppressed, HD_LOG_RATELIMIT_MS / 1000);
	else
		log_warning("refused a connection: handshake failed: %s (0x%08x)", what, value);
}

static void
log_event(uint16_t event, uint32_t value)
{
	switch (event)
	{
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
			log_handshake_failure(protocol_error_name(value), value);
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			/* Usually a peer that went away mid-handshake. */
			log_debug("a connection's handshake failed: %s", strerror((int) value));
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			/* zap.c already logged the key and the address. */
			log_debug("a connection failed authentication (ZAP status %u)", value);
			break;
		case ZMQ_EVENT_ACCEPTED:
			log_debug("accepted a TCP connection");
			break;
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			log_debug("a connection completed its handshake");
			break;
		case ZMQ_EVENT_DISCONNECTED:
			/* Normal when a backend exits; also how MAXMSGSIZE shows. */
			log_debug("a connection was closed (peer exit, heartbeat timeout, or a frame above the size limit)");
			break;
	}
}

void
monitor_handle(void (*disconnected) (int fd))
{
	for (;;)
	{
		zmq_msg_t	m;
		uint16_t	event = 0;
		uint32_t	value = 0;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) < 0)
		{
			zmq_msg_close(&m);
			return;
		}
		/* Frame 1: uint16 event, uint32 value (host order); frame 2: endpoint. */
		if (zmq_msg_size(&m) >= 6)
		{
			memcpy(&event, zmq_msg_data(&m), 2);
			memcpy(&value, (uint8_t *) zmq_msg_data(&m) + 2, 4);
		}
		while (zmq_msg_more(&m))
		{
			zmq_msg_close(&m);
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) < 0)
				break;
		}
		zmq_msg_close(&m);
		log_event(event, value);
		/* For a closed connection, the value is its descriptor. */
		if (event == ZMQ_EVENT_DISCONNECTED)
			disconnected((int) value);
	}
}
