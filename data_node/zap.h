/* SPDX-License-Identifier: PostgreSQL */
/*
 * zap.h — the ZAP handler (ZeroMQ RFC 27) that decides which access nodes
 * may complete a CURVE handshake with the agent.
 *
 * A REP socket on inproc://zeromq.zap.01 in the agent's context, bound
 * before the ROUTER binds and served by the same event loop.  Only public
 * keys listed in the authorized-keys file get "200"; everything else gets
 * "400" and a log line naming the key and the peer address.  The ROUTER
 * also sets ZMQ_ZAP_ENFORCE_DOMAIN, so if this handler were missing every
 * client would be refused rather than accepted.
 *
 * The User-Id of an accepted peer's messages is its public key (Z85), so
 * sessions can be counted per key (max_sessions_per_key).
 */
#ifndef HD_AGENT_ZAP_H
#define HD_AGENT_ZAP_H

#include <stdbool.h>
#include <stddef.h>

/* Loads the key list and binds the handler. */
extern void *zap_open(void *ctx, const char *authorized_keys_path,
					  char *err, size_t errlen);
extern void zap_close(void);

/* Replaces the key list (SIGHUP); on failure keeps the old list. */
extern bool zap_reload(const char *authorized_keys_path, char *err, size_t errlen);

/* Answers every pending ZAP request. */
extern void zap_handle(void);

/* A key's label from the authorized-keys file, else the key itself (for logs). */
extern const char *zap_key_name(const char *z85);

#endif							/* HD_AGENT_ZAP_H */
