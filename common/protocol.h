/* SPDX-License-Identifier: PostgreSQL */
/*
 * protocol.h — hyperdist protocol v1: its version, the agent's default port
 * and the limits both sides enforce, without the message types.
 *
 * For code that configures or validates (GUCs, server options) but never
 * sees a message: the codec and the message types are in wire.h, which
 * includes this file.  No PostgreSQL backend headers here: this file is
 * used by both sides.
 */
#ifndef HYPERDIST_PROTOCOL_H
#define HYPERDIST_PROTOCOL_H

#define HD_PROTO_MAJOR 1
#define HD_PROTO_MINOR 3
/* First minor whose access nodes take a row in fragments (RowBatch.fragment). */
#define HD_PROTO_MINOR_FRAGMENTS 3

/* Port a hyperdist-agent listens on when none is configured. */
#define HD_DEFAULT_AGENT_PORT 5532

/* Largest frame an agent accepts (ZMQ_MAXMSGSIZE on its ROUTER). */
#define HD_MAX_REQUEST_FRAME	(64 * 1024 * 1024)
/*
 * Largest frame an access node accepts (ZMQ_MAXMSGSIZE on its DEALER).
 * This, the default batch size and the largest row may be defined smaller
 * at build time: tools/fuzz does, so that rows larger than a frame are
 * cheap to make.
 */
#ifndef HD_MAX_REPLY_FRAME
#define HD_MAX_REPLY_FRAME		(16 * 1024 * 1024)
#endif
/* Default size at which the agent flushes a row batch. */
#ifndef HD_DEFAULT_BATCH_BYTES
#define HD_DEFAULT_BATCH_BYTES	(128 * 1024)
#endif
/* Largest batch size an access node may ask for. */
#define HD_MAX_BATCH_BYTES		(HD_MAX_REPLY_FRAME / 2)
/* Most columns a row may have (PostgreSQL's MaxTupleAttributeNumber). */
#define HD_MAX_COLUMNS			1664
/*
 * Largest tuple, in the row batch layout, that travels in fragments: what
 * PostgreSQL's MaxAllocSize lets a backend send as one row (its DataRow or
 * CopyData message has the same layout).
 */
#ifndef HD_MAX_ROW_BYTES
#define HD_MAX_ROW_BYTES		((size_t) 0x3fffffff)
#endif

/*
 * Largest frame of a request other than Exec and Query (Hello, Credit,
 * Cancel, Ping, Close): none of them carries more than a few short strings,
 * so the agent refuses a bigger one before unpacking it.
 */
#define HD_MAX_CONTROL_FRAME	(16 * 1024)
/*
 * Longest password a Hello may carry.  libpq hashes the password once per
 * SCRAM iteration (4096 of them), so its length is connection setup time;
 * PostgreSQL refuses oversized startup and password packets the same way.
 */
#define HD_MAX_PASSWORD_LEN		1024
/* Longest database, user and application name, and origin (NAMEDATALEN - 1). */
#define HD_MAX_NAME_LEN			63

#endif							/* HYPERDIST_PROTOCOL_H */
