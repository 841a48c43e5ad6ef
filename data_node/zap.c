/* SPDX-License-Identifier: PostgreSQL */
/*
 * zap.c — ZAP handler: CURVE client keys checked against authorized_keys.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "keys.h"
#include "log.h"
#include "zap.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* version, request id, domain, address, routing id, mechanism, credentials */
#define ZAP_REQUEST_FRAMES 7
#define ZAP_MAX_FRAMES 16

static void *zap;
static HdKeyList authorized;
static char authorized_path[4096];

static bool
load_keys(const char *path, char *err, size_t errlen)
{
	HdKeyList	list;

	memset(&list, 0, sizeof(list));
	if (!hd_keylist_load(path, &list, err, errlen))
		return false;
	hd_keylist_free(&authorized);
	authorized = list;
	snprintf(authorized_path, sizeof(authorized_path), "%s", path);
	if (authorized.count == 0)
		log_warning("authorized keys file \"%s\" lists no keys: no access node can connect",
					path);
	else
		log_info("loaded %d authorized access-node key%s from \"%s\"",
				 authorized.count, authorized.count == 1 ? "" : "s", path);
	return true;
}

void *
zap_open(void *ctx, const char *authorized_keys_path, char *err, size_t errlen)
{
	int			linger = 0;

	if (!load_keys(authorized_keys_path, err, errlen))
		return NULL;

	zap = zmq_socket(ctx, ZMQ_REP);
	if (zap == NULL)
	{
		snprintf(err, errlen, "could not create the ZAP socket: %s",
				 zmq_strerror(zmq_errno()));
		return NULL;
	}
	zmq_setsockopt(zap, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(zap, ZAP_ENDPOINT) != 0)
	{
		snprintf(err, errlen, "could not bind the ZAP handler on %s: %s",
				 ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
		zmq_close(zap);
		zap = NULL;
		return NULL;
	}
	return zap;
}

void
zap_close(void)
{
	if (zap)
		zmq_close(zap);
	zap = NULL;
	hd_keylist_free(&authorized);
}

bool
zap_reload(const char *authorized_keys_path, char *err, size_t errlen)
{
	return load_keys(authorized_keys_path, err, errlen);
}

/* Receives all frames of one request; returns the count, -1 if none. */
static int
recv_request(zmq_msg_t *frames, int maxframes)
{
	int			n = 0;
	int			more = 1;

	while (more)
	{
		zmq_msg_t	m;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, zap, ZMQ_DONTWAIT) < 0)
		{
			zmq_msg_close(&m);
			if (n == 0)
				return -1;
			/* Cannot happen: multipart messages arrive whole. */
			break;
		}
		more = zmq_msg_more(&m);
		if (n < maxframes)
		{
			zmq_msg_init(&frames[n]);
			zmq_msg_move(&frames[n], &m);
			n++;
		}
		zmq_msg_close(&m);
	}
	return n;
}

static bool
frame_is(zmq_msg_t *m, const char *s)
{
	size_t		len = strlen(s);

	return zmq_msg_size(m) == len && memcmp(zmq_msg_data(m), s, len) == 0;
}

static void
frame_str(zmq_msg_t *m, char *out, size_t outlen)
{
	size_t		len = zmq_msg_size(m);

	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, zmq_msg_data(m), len);
	out[len] = '\0';
}

static void
send_reply(zmq_msg_t *request_id, const char *status, const char *text,
		   const char *user_id)
{
	zmq_msg_t	rid;

	/* The REP socket is ours alone and inproc: these cannot block. */
	zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_msg_init(&rid);
	if (request_id)
		zmq_msg_copy(&rid, request_id);
	zmq_msg_send(&rid, zap, ZMQ_SNDMORE);
	zmq_msg_close(&rid);
	zmq_send(zap, status, strlen(status), ZMQ_SNDMORE);
	zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(zap, user_id, strlen(user_id), ZMQ_SNDMORE);
	zmq_send(zap, "", 0, 0);
}

/*
 * Logs a refused key; the same key again within the rate-limit interval is
 * only counted (a refused client may keep reconnecting).
 */
static void
log_refused_key(const char *address, const char *z85)
{
	static HdLogRateLimit limit;
	static char last_key[HD_Z85_KEY_LEN + 1];
	int			suppressed = 0;

	if (strcmp(last_key, z85) != 0)
	{
		memset(&limit, 0, sizeof(limit));
		snprintf(last_key, sizeof(last_key), "%s", z85);
	}
	if (!log_ratelimit(&limit, &suppressed))
		return;
	log_warning("refused connection from %s: public key %s is not in \"%s\"%s",
				address, z85, authorized_path,
				suppressed > 0 ? " (repeatedly)" : "");
}

/* Decides one request; frames holds n >= 0 frames. */
static void
handle_request(zmq_msg_t *frames, int n)
{
	char		address[256];
	char		z85[HD_Z85_KEY_LEN + 1];
	int			idx;

	if (n < ZAP_REQUEST_FRAMES || !frame_is(&frames[0], "1.0"))
	{
		log_warning("malformed ZAP request (%d frames)", n);
		send_reply(n >= 2 ? &frames[1] : NULL, "500", "malformed ZAP request", "");
		return;
	}
	frame_str(&frames[3], address, sizeof(address));

	if (!frame_is(&frames[5], "CURVE") || zmq_msg_size(&frames[6]) != 32)
	{
		char		mech[32];

		frame_str(&frames[5], mech, sizeof(mech));
		log_warning("refused connection from %s: mechanism %s is not allowed",
					address, mech);
		send_reply(&frames[1], "400", "CURVE required", "");
		return;
	}

	zmq_z85_encode(z85, zmq_msg_data(&frames[6]), 32);
	idx = hd_keylist_find(&authorized, z85);
	if (idx < 0)
	{
		log_refused_key(address, z85);
		send_reply(&frames[1], "400", "key not authorized", "");
		return;
	}

	/* The key becomes the User-Id of the peer's messages. */
	log_debug("accepted connection from %s with key %s (%s)", address, z85,
			  authorized.labels[idx]);
	send_reply(&frames[1], "200", "OK", z85);
}

const char *
zap_key_name(const char *z85)
{
	int			idx = hd_keylist_find(&authorized, z85);

	return idx >= 0 && authorized.labels[idx][0] ? authorized.labels[idx] : z85;
}

void
zap_handle(void)
{
	for (;;)
	{
		zmq_msg_t	frames[ZAP_MAX_FRAMES];
		int			n = recv_request(frames, ZAP_MAX_FRAMES);

		if (n < 0)
			return;
		handle_request(frames, n);
		for (int i = 0; i < n; i++)
			zmq_msg_close(&frames[i]);
	}
}
