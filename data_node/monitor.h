/* SPDX-License-Identifier: PostgreSQL */
/*
 * monitor.h — logging what libzmq does with the ROUTER's connections.
 *
 * Some failures never reach the agent as messages: a client with the wrong
 * server key fails the CURVE handshake, and a frame above ZMQ_MAXMSGSIZE
 * makes libzmq drop the connection.  A socket monitor (stable API in
 * libzmq 4.3) turns those into log lines.  The event value is all libzmq
 * reports; the peer address is not part of a v1 monitor event.  A closed
 * connection's descriptor is handed on, so the backend that used it can
 * be found gone at once (liveness.h).
 */
#ifndef HD_AGENT_MONITOR_H
#define HD_AGENT_MONITOR_H

/* Starts monitoring router; returns the PAIR socket to poll, or NULL. */
extern void *monitor_open(void *ctx, void *router);
extern void monitor_close(void *router);

/* Logs every pending event; calls disconnected(fd) for each closed connection. */
extern void monitor_handle(void (*disconnected) (int fd));

#endif							/* HD_AGENT_MONITOR_H */
