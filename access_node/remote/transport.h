/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/transport.h — ZeroMQ sockets to agents and the envelope codec,
 * for the session layer (remote/session.c, remote/request.c) and the ping.
 *
 * Private to remote/.  ZeroMQ is used in remote/transport.c alone: a
 * socket is an HdSock, waited on through the latch; an envelope is
 * encoded, sent, received and decoded here, and every other file sees
 * protobuf-c messages only.
 */
#ifndef HYPERDIST_REMOTE_TRANSPORT_H
#define HYPERDIST_REMOTE_TRANSPORT_H

#include "storage/latch.h"
#include "utils/timestamp.h"

#include "remote/connection.h"
#include "wire.h"

/* What a wait on a socket ended with. */
typedef enum HdSockStatus
{
	HD_SOCK_READY,
	HD_SOCK_TIMEOUT,
	HD_SOCK_LOST,				/* the connection broke */
	HD_SOCK_HANDSHAKE_FAILED,	/* CurveZMQ or ZMTP handshake failed */
	HD_SOCK_AUTH_FAILED,		/* the agent refused our key */
	HD_SOCK_SESSION_GONE		/* the agent no longer knows the session */
} HdSockStatus;

/* A DEALER with its monitor and the wait set watching both. */
typedef struct HdSock
{
	void	   *dealer;
	void	   *monitor;		/* PAIR receiving the DEALER's events */
	WaitEventSet *wes;
	int			nfds;			/* external fds reserved for it */
	/* sticky: what the monitor has reported since the socket was opened */
	bool		lost;
	bool		handshake_failed;
	bool		auth_failed;
} HdSock;

/* What hd_sock_wait waits for. */
typedef enum HdSockWant
{
	HD_SOCK_IN,					/* a message to read */
	HD_SOCK_OUT					/* room to send one */
} HdSockWant;

typedef enum HdRecvStatus
{
	HD_RECV_NONE,				/* nothing queued */
	HD_RECV_OK,
	HD_RECV_BAD					/* see *why */
} HdRecvStatus;

/*
 * Runs at process exit before the ZeroMQ context is torn down, so that
 * sessions can still queue their Close (see remote/session.c).
 */
typedef void (*HdTransportExitHook) (void);
extern void hd_transport_set_exit_hook(HdTransportExitHook hook);

/*
 * Opens a DEALER to the target's agent, with a monitor, and a wait set
 * (latch, postmaster death, both ZMQ_FDs) allocated in wes_cxt.
 */
extern void hd_sock_open(HdSock *hs, const HdConnTarget *target,
						 MemoryContext wes_cxt);
/* Closes it, letting queued messages leave for linger_ms. */
extern void hd_sock_close(HdSock *hs, int linger_ms);
extern HdSockStatus hd_sock_wait(HdSock *hs, HdSockWant want,
								 TimestampTz deadline);
/*
 * hd_sock_wait for several sockets: waits until socks[i] shows wants[i] or
 * has failed, for some i, and returns the first such i; -1 once deadline
 * has passed.
 */
extern int	hd_sock_wait_any(HdSock *const *socks, const HdSockWant *wants,
							 int n, TimestampTz deadline);
extern void hd_sock_drain_monitor(HdSock *hs);
extern HdSockStatus hd_sock_failure(const HdSock *hs);

/*
 * Queues one frame without waiting.  0 when it was queued, EAGAIN when
 * there is no room (or, with ZMQ_IMMEDIATE, no connection yet), else the
 * error, named in *why.
 */
extern int	hd_sock_send(HdSock *hs, const void *buf, size_t len,
						 const char **why);

/*
 * Reads one queued message without waiting and unpacks it into cxt.  The
 * zmq message is closed before returning, whatever happened.
 */
extern HdRecvStatus hd_sock_recv(HdSock *hs, MemoryContext cxt,
								 HdEnvelope **env, const char **why);

/* env encoded in cxt; ERROR when larger than a request may be. */
extern void *hd_envelope_encode(const HdEnvelope *env, const char *node_name,
								MemoryContext cxt, size_t *len);
/* An envelope encoded by hd_envelope_encode, decoded again into cxt. */
extern HdEnvelope *hd_envelope_decode_kept(const void *wire, size_t len,
										   MemoryContext cxt);
extern bool hd_envelope_is_final(const HdEnvelope *env);
extern bool hd_envelope_unknown_session(const HdEnvelope *env);
/* Text-format parameters of an Exec or Query (palloc'd). */
extern Hyperdist__Param **hd_envelope_params(int nparams, const Oid *types,
											 const char *const *values);

#endif							/* HYPERDIST_REMOTE_TRANSPORT_H */
