/* SPDX-License-Identifier: PostgreSQL */
/*
 * request.h — decoding and dispatching one frame received on the ROUTER.
 */
#ifndef HD_AGENT_REQUEST_H
#define HD_AGENT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "router.h"

/*
 * Handles one message from rid, sent by peer.  multipart: the message had
 * extra frames, which protocol v1 forbids.  Never fails: every problem
 * becomes an Error reply to rid and a log line.
 */
extern void request_handle(const RoutingId *rid, const void *data, size_t len,
						   bool multipart, const PeerInfo *peer);

#endif							/* HD_AGENT_REQUEST_H */
