/* SPDX-License-Identifier: PostgreSQL */
/*
 * session.c — session lifecycle: Hello and the asynchronous connection to
 * PostgreSQL, lookup, Cancel/Credit/Close, liveness probes, shutdown.
 * Running requests is execute.c's job.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cancel.h"
#include "connect.h"
#include "liveness.h"
#include "log.h"
#include "reply.h"
#include "session_int.h"
#include "sqlstate.h"
#include "util.h"
#include "zap.h"

#define HASH_BUCKETS 1024

static Session *buckets[HASH_BUCKETS];
static Session *all_sessions;
static Session *graveyard;
static int	nsessions;

/*
 * Open sessions per access-node key (max_sessions_per_key).  A deployment
 * has a handful of access nodes, so a short array does.
 */
typedef struct KeySessions
{
	char		key[HD_Z85_KEY_LEN + 1];
	int			count;
} KeySessions;

static KeySessions *key_sessions;
static int	nkeys;
static int	keys_cap;

/* Base conninfo from --pg, as keyword/value arrays for connect_start. */
static char **base_keys;
static char **base_vals;
static int	nbase;

/*
 * Keywords that would give the agent credentials or a database of its own:
 * every session authenticates with exactly what its Hello carries.
 */
static const char *const dropped_keywords[] = {
	"user", "password", "passfile", "dbname", "service", "replication", NULL
};

/* ---- conninfo ------------------------------------------------------------ */

static bool
is_dropped_keyword(const char *kw)
{
	for (int i = 0; dropped_keywords[i]; i++)
		if (strcmp(kw, dropped_keywords[i]) == 0)
			return true;
	return false;
}

static void
free_base_conninfo(void)
{
	for (int i = 0; i < nbase; i++)
	{
		free(base_keys[i]);
		free(base_vals[i]);
	}
	free(base_keys);
	free(base_vals);
	base_keys = base_vals = NULL;
	nbase = 0;
}

bool
sessions_set_conninfo(const char *conninfo, char *err, size_t errlen)
{
	char	   *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	int			n = 0;

	if (opts == NULL)
	{
		size_t		len;

		snprintf(err, errlen, "invalid pg conninfo: %s",
				 perr ? perr : "out of memory");
		len = strlen(err);
		while (len > 0 && err[len - 1] == '\n')
			err[--len] = '\0';
		PQfreemem(perr);
		return false;
	}
	free_base_conninfo();
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	base_keys = xcalloc(n, sizeof(char *));
	base_vals = xcalloc(n, sizeof(char *));
	for (PQconninfoOption *o = opts; o->keyword; o++)
	{
		if (o->val == NULL)
			continue;
		if (is_dropped_keyword(o->keyword))
		{
			log_warning("ignoring \"%s\" in the pg conninfo: each session connects with the database and credentials of its Hello",
						o->keyword);
			continue;
		}
		base_keys[nbase] = xstrdup(o->keyword);
		base_vals[nbase] = xstrdup(o->val);
		nbase++;
	}
	PQconninfoFree(opts);
	return true;
}

/* ---- the session table --------------------------------------------------- */

static Session **
bucket_of(uint64_t id)
{
	return &buckets[id % HASH_BUCKETS];
}

static Session *
find_session(uint64_t id)
{
	for (Session *s = *bucket_of(id); s; s = s->hash_next)
		if (s->id == id)
			return s;
	return NULL;
}

static KeySessions *
find_key(const char *key)
{
	for (int i = 0; i < nkeys; i++)
		if (strcmp(key_sessions[i].key, key) == 0)
			return &key_sessions[i];
	return NULL;
}

static int
sessions_of_key(const char *key)
{
	KeySessions *k = find_key(key);

	return k ? k->count : 0;
}

/* Counts a session in (delta 1) or out (-1) of its key's total. */
static void
count_key(const char *key, int delta)
{
	KeySessions *k = find_key(key);

	if (key[0] == '\0')
		return;					/* no CURVE: no key to count */
	if (k == NULL)
	{
		if (nkeys == keys_cap)
		{
			KeySessions *grown;

			keys_cap = keys_cap ? keys_cap * 2 : 8;
			grown = xcalloc(keys_cap, sizeof(KeySessions));
			if (nkeys > 0)
				memcpy(grown, key_sessions, nkeys * sizeof(KeySessions));
			free(key_sessions);
			key_sessions = grown;
		}
		k = &key_sessions[nkeys++];
		snprintf(k->key, sizeof(k->key), "%s", key);
		k->count = 0;
	}
	k->count += delta;
	if (k->count == 0)
		*k = key_sessions[--nkeys];
}

static Session *
session_create(const RoutingId *rid, const PeerInfo *peer)
{
	Session    *s = xcalloc(1, sizeof(Session));
	Session   **bucket;

	/* Random, nonzero, unique: ids must not be guessable across peers. */
	do
		s->id = random_u64_nonzero();
	while (find_session(s->id) != NULL);
	snprintf(s->label, sizeof(s->label), "session %016" PRIx64, s->id);
	s->rid = *rid;
	snprintf(s->key, sizeof(s->key), "%s", peer->key);
	count_key(s->key, 1);
	s->peer_fd = peer->fd;
	s->state = SESSION_CONNECTING;
	hd_buf_init(&s->batch);
	exec_reset(s);
	s->last_heard = now_ms();

	bucket = bucket_of(s->id);
	s->hash_next = *bucket;
	*bucket = s;
	s->next = all_sessions;
	if (all_sessions)
		all_sessions->prev = s;
	all_sessions = s;
	nsessions++;
	return s;
}

/* Unlinks s from the table; its memory lives until sessions_reap(). */
static void
session_unlink(Session *s)
{
	Session   **link = bucket_of(s->id);

	while (*link && *link != s)
		link = &(*link)->hash_next;
	if (*link)
		*link = s->hash_next;

	/*
	 * s->next is kept: a caller iterating the list may be standing on s and
	 * will still reach the sessions after it (all of which stay allocated
	 * until the reap at the end of the iteration).
	 */
	if (s->prev)
		s->prev->next = s->next;
	else
		all_sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;

	s->grave_next = graveyard;
	graveyard = s;
	nsessions--;
	count_key(s->key, -1);
}

int
sessions_count(void)
{
	return nsessions;
}

/* ---- a lost server connection ------------------------------------------- */

bool
result_is_fatal(const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	return severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0);
}

/*
 * The first message of a libpq error text, on one line: libpq indents the
 * continuation lines of a message with a tab, and a line that is not
 * indented starts another message (such as "invalid socket" after the
 * real cause).
 */
static char *
one_line(const char *text)
{
	char	   *out = xmalloc(strlen(text) + 1);
	char	   *w = out;
	bool		space = false;

	for (const char *p = text; *p && !(p[0] == '\n' && p[1] != '\t'); p++)
	{
		if (isspace((unsigned char) *p))
		{
			space = true;
			continue;
		}
		if (space && w > out)
			*w++ = ' ';
		space = false;
		*w++ = *p;
	}
	*w = '\0';
	return out;
}

/* ---- Hello --------------------------------------------------------------- */

/* Whether request r asked for the data node's notices. */
static bool
wants_notices(const Request *r)
{
	if (r->kind == REQUEST_QUERY)
		return r->env->query->has_notices && r->env->query->notices;
	return r->env->exec->has_notices && r->env->exec->notices;
}

/*
 * A NOTICE, WARNING or INFO of the session's PostgreSQL backend: relayed to
 * the access node as a Notice of the running request if it asked, up to
 * HD_MAX_NOTICES of them; else only logged.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	Session    *s = arg;
	ErrorFields f = {0};
	char		detail[96];

	/*
	 * Between requests libpq hands a FATAL here: it says why the server is
	 * about to close the connection (e.g. pg_terminate_backend), which the
	 * end of file that follows does not.
	 */
	if (result_is_fatal(res) && s->lost_reason == NULL)
		s->lost_reason = one_line(PQresultErrorMessage(res));
	if (s->running == NULL || s->failed || !wants_notices(s->running) ||
		s->notices > HD_MAX_NOTICES)
	{
		log_debug("%s: %s", s->label, PQresultErrorMessage(res));
		return;
	}
	if (s->notices++ < HD_MAX_NOTICES)
	{
		reply_notice_result(&s->rid, s->id, s->running->seq, res, s->conn);
		return;
	}

	/* the first one past the limit is replaced by a warning saying so */
	snprintf(detail, sizeof(detail), "The data node raised more than %d notices.",
			 HD_MAX_NOTICES);
	f.sqlstate = "01000";
	f.severity = "WARNING";
	f.message = "further notices of this statement are not relayed";
	f.detail = detail;
	reply_notice(&s->rid, s->id, s->running->seq, &f);
}

/* Copies the base conninfo and adds what the Hello carries. */
static void
build_conn_params(const Hyperdist__Hello *h, const char ***keys_out,
				  const char ***vals_out)
{
	const char **keys = xcalloc(nbase + 8, sizeof(char *));
	const char **vals = xcalloc(nbase + 8, sizeof(char *));
	int			n = 0;

	for (int i = 0; i < nbase; i++)
	{
		keys[n] = base_keys[i];
		vals[n++] = base_vals[i];
	}
	keys[n] = "user";
	vals[n++] = h->user;
	if (h->dbname && h->dbname[0])
	{
		keys[n] = "dbname";
		vals[n++] = h->dbname;
	}
	if (h->password)
	{
		keys[n] = "password";
		vals[n++] = h->password;
	}
	/*
	 * Never fall back to a password file the agent's OS user might have.
	 * Not "/dev/null" itself: libpq prints a warning to stderr for a
	 * passfile that is not a plain file, while a path that cannot exist
	 * (/dev/null is no directory) is skipped silently.
	 */
	keys[n] = "passfile";
	vals[n++] = "/dev/null/no-passfile";
	if (h->application_name && h->application_name[0])
	{
		keys[n] = "application_name";
		vals[n++] = h->application_name;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "hyperdist-agent";
	keys[n] = NULL;
	vals[n] = NULL;
	*keys_out = keys;
	*vals_out = vals;
}

/* Answers a Hello that may not proceed; true if it did. */
static bool
hello_refused(const RoutingId *rid, const HdEnvelope *env, const PeerInfo *peer)
{
	const Hyperdist__Hello *h = env->hello;
	char		detail[256];

	if (agent_shutting_down)
	{
		reply_errorf(rid, 0, env->seq, HD_SQLSTATE_ADMIN_SHUTDOWN, NULL,
					 "the data node agent is shutting down");
		return true;
	}
	if (!h->has_major || h->major != HD_PROTO_MAJOR)
	{
		snprintf(detail, sizeof(detail),
				 "The access node speaks protocol %u.%u, this agent speaks %d.%d.",
				 h->has_major ? h->major : 0, h->has_minor ? h->minor : 0,
				 HD_PROTO_MAJOR, HD_PROTO_MINOR);
		log_warning("refused Hello: protocol version mismatch (%s)", detail);
		reply_errorf(rid, 0, env->seq, HD_SQLSTATE_PROTOCOL_VIOLATION, detail,
					 "protocol version mismatch");
		return true;
	}
	if (env->session != 0)
	{
		reply_errorf(rid, 0, env->seq, HD_SQLSTATE_PROTOCOL_VIOLATION, NULL,
					 "Hello must be sent with session 0");
		return true;
	}
	if (h->user == NULL || h->user[0] == '\0')
	{
		reply_errorf(rid, 0, env->seq, HD_SQLSTATE_PROTOCOL_VIOLATION, NULL,
					 "Hello carries no user name");
		return true;
	}
	if (nsessions >= agent_config->max_sessions)
	{
		snprintf(detail, sizeof(detail), "max_sessions is %d.",
				 agent_config->max_sessions);
		log_warning("refused Hello from user \"%s\": too many sessions", h->user);
		reply_errorf(rid, 0, env->seq, HD_SQLSTATE_TOO_MANY_CONNECTIONS, detail,
					 "too many sessions on the data node agent");
		return true;
	}
	if (sessions_of_key(peer->key) >= agent_config->max_sessions_per_key)
	{
		snprintf(detail, sizeof(detail), "max_sessions_per_key is %d.",
				 agent_config->max_sessions_per_key);
		log_warning("refused Hello from user \"%s\": too many sessions for key %s",
					h->user, zap_key_name(peer->key));
		reply_errorf(rid, 0, env->seq, HD_SQLSTATE_TOO_MANY_CONNECTIONS, detail,
					 "too many sessions of this access node on the data node agent");
		return true;
	}
	return false;
}

void
session_hello(const RoutingId *rid, const HdEnvelope *env, const PeerInfo *peer)
{
	const Hyperdist__Hello *h = env->hello;
	const char **keys;
	const char **vals;
	Session    *s;

	if (hello_refused(rid, env, peer))
		return;

	s = session_create(rid, peer);
	s->peer_minor = h->has_minor ? h->minor : 0;
	snprintf(s->user, sizeof(s->user), "%s", h->user);
	/* libpq's default database is the user's name */
	snprintf(s->dbname, sizeof(s->dbname), "%s",
			 h->dbname && h->dbname[0] ? h->dbname : h->user);
	s->hello_seq = env->seq;
	s->connect_deadline = now_ms() + HD_CONNECT_TIMEOUT_MS;
	log_info("%s: connecting as \"%s\" to database \"%s\" for %s (key %s, origin %s)",
			 s->label, h->user, h->dbname, peer->address,
			 peer->key[0] ? zap_key_name(peer->key) : "none",
			 h->origin ? h->origin : "?");

	build_conn_params(h, &keys, &vals);
	s->connect_token = connect_start(keys, vals, s->id, s->connect_deadline,
									 !agent_config->allow_passwordless);
	free(keys);
	free(vals);
}

/*
 * Pulls the server's error out of a verbose connection error message:
 *   "connection to server at ... failed: FATAL:  28P01: password ...\n"
 *   "DETAIL:  ...\n" "HINT:  ...\n"
 * Uses the last server error in the text (libpq may have tried several
 * hosts).  Returns false when the text holds none (e.g. connection refused).
 */
static bool
parse_connect_error(const char *text, ErrorFields *f, char *buf, size_t buflen)
{
	static const char *const severities[] = {"FATAL:  ", "ERROR:  ", "PANIC:  ", NULL};
	const char *found = NULL;
	const char *sev = NULL;
	const char *p;
	const char *eol;
	char	   *w = buf;

	for (int i = 0; severities[i]; i++)
	{
		for (p = strstr(text, severities[i]); p; p = strstr(p + 1, severities[i]))
		{
			const char *code = p + strlen(severities[i]);
			char		state[6];

			if (strnlen(code, 7) < 7)
				continue;
			memcpy(state, code, 5);
			state[5] = '\0';
			if (hd_sqlstate_valid(state) && code[5] == ':' && code[6] == ' ' &&
				(found == NULL || p > found))
			{
				found = p;
				sev = severities[i];
			}
		}
	}
	if (found == NULL || sev == NULL)
		return false;

	/* buf receives "SEV\0STATE\0message\0detail\0hint\0". */
	p = found + strlen(sev) + 7;
	while (*p == ' ')
		p++;
	eol = strchrnul(p, '\n');
	snprintf(w, buflen, "%.*s", (int) (strlen(sev) - 3), sev);
	f->severity = w;
	w += strlen(w) + 1;
	snprintf(w, buflen - (w - buf), "%.5s", found + strlen(sev));
	f->sqlstate = w;
	w += strlen(w) + 1;
	snprintf(w, buflen - (w - buf), "%.*s", (int) (eol - p), p);
	f->message = w;
	w += strlen(w) + 1;

	if ((p = strstr(eol, "\nDETAIL:  ")) != NULL && (size_t) (w - buf) < buflen)
	{
		p += 10;
		eol = strchrnul(p, '\n');
		snprintf(w, buflen - (w - buf), "%.*s", (int) (eol - p), p);
		f->detail = w;
		w += strlen(w) + 1;
	}
	if ((p = strstr(found, "\nHINT:  ")) != NULL && (size_t) (w - buf) < buflen)
	{
		p += 8;
		eol = strchrnul(p, '\n');
		snprintf(w, buflen - (w - buf), "%.*s", (int) (eol - p), p);
		f->hint = w;
	}
	return true;
}

/* Answers the Hello with error f and forgets the session. */
static void
refuse_hello(Session *s, const ErrorFields *f)
{
	reply_error(&s->rid, 0, s->hello_seq, f);
	connect_forget(s->connect_token);
	s->state = SESSION_CLOSED;
	session_unlink(s);
}

/* Answers the Hello with the connection's error. */
static void
connect_failed(Session *s, const char *why)
{
	ErrorFields f = {0};
	char		buf[4096];
	char	   *text = xstrdup(why);
	size_t		len = strlen(text);

	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (!parse_connect_error(text, &f, buf, sizeof(buf)))
	{
		f.sqlstate = HD_SQLSTATE_CANNOT_CONNECT;
		f.severity = "FATAL";
		f.message = text;
	}
	log_warning("%s: connection to PostgreSQL failed: %s", s->label, text);
	refuse_hello(s, &f);
	free(text);
}

/*
 * Answers the Hello of a session the server let in without asking for a
 * password (CONNECT_NO_PASSWORD).  Logged like the other refusals a peer
 * can cause at will: at most once a minute, with how many were not.
 */
static void
connect_passwordless(Session *s)
{
	static HdLogRateLimit limit;
	ErrorFields f = {0};
	int			suppressed = 0;

	if (log_ratelimit(&limit, &suppressed))
		log_warning("%s: refused: the data node let user \"%s\" into database \"%s\" without a password; configure pg_hba.conf to require one for the agent's connections, or set allow_passwordless%s",
					s->label, s->user, s->dbname,
					suppressed > 0 ? " (and more such sessions since the last warning)" : "");
	f.sqlstate = HD_SQLSTATE_INVALID_AUTHORIZATION;
	f.severity = "FATAL";
	f.message = "the data node let the session in without a password";
	f.detail = "The hyperdist agent accepts only sessions whose password the data node checked: without that, any access node it trusts could log in as any role.";
	f.hint = "Configure pg_hba.conf on the data node to require scram-sha-256 (or md5 or password) for the agent's connections.";
	refuse_hello(s, &f);
}

static void
connect_succeeded(Session *s, PGconn *conn)
{
	const char *version = PQparameterStatus(conn, "server_version");

	s->conn = conn;
	PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
	PQsetNoticeReceiver(conn, notice_receiver, s);
	s->state = SESSION_READY;
	s->last_heard = now_ms();
	log_info("%s: open (PostgreSQL %s, backend pid %d)", s->label,
			 version ? version : "?", PQbackendPID(conn));
	reply_hello_ok(&s->rid, s->id, s->hello_seq, version);
}

void
sessions_connect_done(uint64_t id, uint64_t token, ConnectOutcome outcome,
					  PGconn *conn, const char *error)
{
	Session    *s = find_session(id);

	/* A closed session is unlinked (and maybe freed): nothing waits. */
	if (s == NULL || s->state != SESSION_CONNECTING || s->connect_token != token)
	{
		log_debug("connect for session %016" PRIx64 " done; the session is gone", id);
		if (conn)
			PQfinish(conn);
		return;
	}
	s->connect_token = 0;
	switch (outcome)
	{
		case CONNECT_READY:
			connect_succeeded(s, conn);
			break;
		case CONNECT_FAILED:
			connect_failed(s, error);
			break;
		case CONNECT_NO_PASSWORD:
			connect_passwordless(s);
			break;
	}
}

/* ---- lookup and control requests ----------------------------------------- */

Session *
session_lookup(const RoutingId *rid, const HdEnvelope *env, const char **why)
{
	Session    *s;

	if (!env->has_epoch || env->epoch != agent_epoch)
	{
		*why = "The session belongs to an earlier run of the agent (epoch mismatch).";
		return NULL;
	}
	s = find_session(env->session);
	if (s == NULL || s->state == SESSION_CLOSED)
	{
		*why = "The agent has no such session.";
		return NULL;
	}
	if (!routing_id_equal(&s->rid, rid))
	{
		*why = "The session belongs to another connection.";
		return NULL;
	}
	if (s->state == SESSION_CONNECTING)
	{
		*why = "The session is not open yet.";
		return NULL;
	}
	return s;
}

void
session_touch(Session *s, const PeerInfo *peer)
{
	s->last_heard = now_ms();
	s->peer_fd = peer->fd;
}

/*
 * Adds credit to Query r.  Beyond request_max_credit it is ignored: the
 * access node still gets every batch, as it reads them.
 */
static void
grant_credit(Request *r, uint32_t batches)
{
	uint64_t	credit = (uint64_t) r->credit + batches;
	uint32_t	max = request_max_credit(r);

	r->credit = credit < max ? (uint32_t) credit : max;
}

void
session_submit(Session *s, HdEnvelope *env, size_t len)
{
	Request    *r;
	char		detail[96];

	if (s->state == SESSION_BROKEN)
	{
		session_reply_lost(s, env->seq);
		hd_wire_free(env, NULL);
		return;
	}
	if (s->nqueued >= agent_config->max_queued_requests)
	{
		snprintf(detail, sizeof(detail), "max_queued_requests is %d.",
				 agent_config->max_queued_requests);
		reply_errorf(&s->rid, s->id, env->seq, HD_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
					 detail, "too many requests queued in this session");
		hd_wire_free(env, NULL);
		return;
	}
	if (s->nqueued > 0 && s->queued_bytes + len > HD_MAX_QUEUED_BYTES)
	{
		snprintf(detail, sizeof(detail),
				 "A session queues at most %zu MB of requests.",
				 HD_MAX_QUEUED_BYTES >> 20);
		reply_errorf(&s->rid, s->id, env->seq, HD_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
					 detail, "too much request data queued in this session");
		hd_wire_free(env, NULL);
		return;
	}
	r = xcalloc(1, sizeof(Request));
	r->seq = env->seq;
	r->env = env;
	r->size = len;
	r->kind = env->body_case == HYPERDIST__ENVELOPE__BODY_QUERY
		? REQUEST_QUERY : REQUEST_EXEC;
	if (r->kind == REQUEST_QUERY && env->query->has_credit)
		grant_credit(r, env->query->credit);

	if (s->queue_tail)
		s->queue_tail->next = r;
	else
		s->queue_head = r;
	s->queue_tail = r;
	s->nqueued++;
	s->queued_bytes += len;

	exec_pump(s);
}

void
session_cancel(Session *s, uint32_t seq)
{
	Request   **link;

	if (s->running && s->running->seq == seq)
	{
		if (s->cancelled)
			return;
		log_debug("%s: cancelling running seq %u", s->label, seq);
		s->cancelled = true;
		/*
		 * Drop buffered rows and read on regardless of credit: a backend
		 * blocked writing to us does not act on a cancel until its write
		 * completes.
		 */
		exec_drop_rows(s);
		if (!s->pg_done)
			session_send_cancel(s);
		exec_pump(s);
		return;
	}
	for (link = &s->queue_head; *link; link = &(*link)->next)
	{
		Request    *r = *link;

		if (r->seq != seq)
			continue;
		*link = r->next;
		if (s->queue_tail == r)
		{
			s->queue_tail = NULL;
			for (Request *q = s->queue_head; q; q = q->next)
				s->queue_tail = q;
		}
		s->nqueued--;
		s->queued_bytes -= r->size;
		log_debug("%s: dropped queued seq %u", s->label, seq);
		reply_errorf(&s->rid, s->id, seq, HD_SQLSTATE_QUERY_CANCELED, NULL,
					 "canceling statement due to user request");
		request_free(r);
		return;
	}
	/* Already finished: its reply is out; nothing to do. */
	log_debug("%s: Cancel for seq %u, which is not pending", s->label, seq);
}

/*
 * Sends a cancel for the running request from a helper thread.  Until the
 * thread reports back, exec_pump starts nothing new on this connection:
 * the cancel may reach the server only after the request has ended (it
 * was about to finish anyway), and must then find the backend idle rather
 * than running the next request.  A second cancel while one is in flight
 * would only hit the same request.
 */
void
session_send_cancel(Session *s)
{
	if (s->cancel_token != 0)
	{
		log_debug("%s: a cancel for seq %u is already in flight", s->label,
				  s->cancel_seq);
		return;
	}
	s->cancel_token = cancel_async(s->conn, s->id, s->label);
	s->cancel_seq = s->running ? s->running->seq : 0;
}

void
sessions_cancel_done(uint64_t id, uint64_t token)
{
	Session    *s = find_session(id);

	/* A closed session is unlinked (and maybe freed): nothing waits. */
	if (s == NULL || s->cancel_token != token)
	{
		log_debug("cancel for session %016" PRIx64 " done; the session is gone", id);
		return;
	}
	s->cancel_token = 0;
	if (s->state == SESSION_READY && s->running == NULL && s->queue_head)
		log_debug("%s: seq %u waited for the cancel of seq %u, now done", s->label,
				  s->queue_head->seq, s->cancel_seq);
	else
		log_debug("%s: cancel of seq %u done", s->label, s->cancel_seq);
	exec_pump(s);
}

void
session_credit(Session *s, uint32_t seq, uint32_t batches)
{
	Request    *target = NULL;

	if (s->running && s->running->seq == seq)
		target = s->running;
	else
		for (Request *r = s->queue_head; r; r = r->next)
			if (r->seq == seq)
				target = r;
	if (target == NULL || target->kind != REQUEST_QUERY)
		return;					/* late credit for a finished query */

	grant_credit(target, batches);
	if (target == s->running)
		exec_pump(s);
}

static void
free_queue(Session *s)
{
	while (s->queue_head)
	{
		Request    *r = s->queue_head;

		s->queue_head = r->next;
		request_free(r);
	}
	s->queue_tail = NULL;
	s->nqueued = 0;
	s->queued_bytes = 0;
}

void
session_close(Session *s, const char *reason)
{
	if (s->state == SESSION_CLOSED)
		return;
	log_info("%s: closed (%s)", s->label, reason);
	/* A connect thread still running reports anyway; its result is dropped. */
	if (s->state == SESSION_CONNECTING)
		connect_forget(s->connect_token);
	/* PQfinish alone would leave a running query to finish on its own. */
	if (s->state == SESSION_READY && s->running && !s->pg_done)
		session_send_cancel(s);
	request_free(s->running);
	s->running = NULL;
	free_queue(s);
	exec_reset(s);
	if (s->conn)
		PQfinish(s->conn);		/* rolls back any open transaction */
	s->conn = NULL;
	s->state = SESSION_CLOSED;
	session_unlink(s);
}

void
session_reply_lost(Session *s, uint32_t seq)
{
	ErrorFields f = {0};

	f.sqlstate = HD_SQLSTATE_CONNECTION_FAILURE;
	f.severity = "ERROR";
	f.message = "connection to the data node's PostgreSQL server was lost";
	f.detail = s->lost_reason;
	reply_request_error(&s->rid, s->id, seq, &f, HYPERDIST__TXN_STATUS__TXN_UNKNOWN);
}

void
session_mark_broken(Session *s, const char *why)
{
	if (s->state != SESSION_READY)
		return;
	if (s->lost_reason == NULL)
		s->lost_reason = one_line(why);
	log_warning("%s: connection to PostgreSQL lost: %s", s->label, s->lost_reason);
	s->state = SESSION_BROKEN;
	if (s->running)
		exec_abort_running(s);
	for (Request *r = s->queue_head; r; r = r->next)
		session_reply_lost(s, r->seq);
	free_queue(s);
	exec_reset(s);
}

/* ---- event loop integration ---------------------------------------------- */

static short
wanted_events(Session *s)
{
	switch (s->state)
	{
		case SESSION_READY:
			if (s->flushing)
				return ZMQ_POLLIN | ZMQ_POLLOUT;
			/* Idle sessions are read too, to notice a lost connection. */
			return exec_wants_read(s) ? ZMQ_POLLIN : 0;
		default:
			return 0;
	}
}

int
sessions_fill_poll(zmq_pollitem_t *items, Session **owners, int max)
{
	int			n = 0;

	for (Session *s = all_sessions; s && n < max; s = s->next)
	{
		short		events = wanted_events(s);
		int			fd = s->conn ? PQsocket(s->conn) : -1;

		if (events == 0 || fd < 0)
			continue;
		items[n].socket = NULL;
		items[n].fd = fd;
		items[n].events = events;
		items[n].revents = 0;
		owners[n++] = s;
	}
	return n;
}

void
session_handle_events(Session *s, short revents)
{
	if (s->state != SESSION_READY)
		return;
	if (revents & (ZMQ_POLLIN | ZMQ_POLLERR))
	{
		if (!PQconsumeInput(s->conn) && s->running == NULL)
		{
			session_mark_broken(s, PQerrorMessage(s->conn));
			return;
		}
		/* NOTIFY is not relayed in protocol v1; do not let them pile up. */
		for (PGnotify *n; (n = PQnotifies(s->conn)) != NULL;)
			PQfreemem(n);
	}
	if (s->running == NULL && PQstatus(s->conn) == CONNECTION_BAD)
	{
		session_mark_broken(s, PQerrorMessage(s->conn));
		return;
	}
	exec_pump(s);
}

void
sessions_peer_resumed(const RoutingId *rid)
{
	for (Session *s = all_sessions; s; s = s->next)
		if (s->state == SESSION_READY && routing_id_equal(&s->rid, rid))
			exec_pump(s);
}

void
sessions_peer_gone(const RoutingId *rid)
{
	for (Session *s = all_sessions; s; s = s->next)
		if (routing_id_equal(&s->rid, rid))
			session_close(s, "access node backend unreachable");
}

void
sessions_peer_disconnected(int fd)
{
	int64_t		now = now_ms();

	/* An unknown descriptor matches every disconnect: a few probes too many. */
	for (Session *s = all_sessions; s; s = s->next)
		if (s->peer_fd == fd || s->peer_fd < 0)
			liveness_watch(&s->rid, s->id, now);
}

void
sessions_tick(int64_t now)
{
	for (Session *s = all_sessions; s; s = s->next)
	{
		if (s->state == SESSION_CONNECTING)
		{
			if (now >= s->connect_deadline)
				connect_failed(s, "timeout connecting to the local PostgreSQL server");
			continue;
		}
		if (s->state == SESSION_CLOSED)
			continue;
		if (now - s->last_heard >= HD_PROBE_INTERVAL_MS &&
			now - s->last_probe >= HD_PROBE_INTERVAL_MS &&
			!router_peer_blocked(&s->rid))
		{
			/* EHOSTUNREACH here closes the session via the gone list. */
			send_probe(&s->rid, s->id);
			s->last_probe = now;
		}
	}
}

void
sessions_reap(void)
{
	while (graveyard)
	{
		Session    *s = graveyard;

		graveyard = s->grave_next;
		hd_buf_free(&s->batch);
		free(s->lost_reason);
		free(s);
	}
}

bool
sessions_drained(void)
{
	/* No session is CONNECTING: shutdown refused them as it began. */
	for (Session *s = all_sessions; s; s = s->next)
	{
		if (s->state != SESSION_READY)
			continue;
		if (s->running || s->queue_head)
			return false;
		/* Give an open transaction the drain period to commit. */
		if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
			return false;
	}
	return true;
}

void
sessions_refuse_connecting(void)
{
	for (Session *s = all_sessions; s; s = s->next)
	{
		if (s->state != SESSION_CONNECTING)
			continue;
		reply_errorf(&s->rid, 0, s->hello_seq, HD_SQLSTATE_ADMIN_SHUTDOWN, NULL,
					 "the data node agent is shutting down");
		session_close(s, "agent shutdown");
	}
}

static void
shutdown_session(Session *s)
{
	static const char msg[] = "terminating connection due to data node agent shutdown";

	if (s->state == SESSION_READY && s->running)
	{
		if (!s->pg_done)
			cancel_sync(s->conn, s->label);
		reply_errorf(&s->rid, s->id, s->running->seq,
					 HD_SQLSTATE_ADMIN_SHUTDOWN, NULL, msg);
	}
	for (Request *r = s->queue_head; r; r = r->next)
		reply_errorf(&s->rid, s->id, r->seq, HD_SQLSTATE_ADMIN_SHUTDOWN, NULL, msg);
	if (s->state == SESSION_READY && s->running == NULL &&
		PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		log_warning("%s: open transaction rolled back by shutdown", s->label);
	if (s->state == SESSION_READY && s->running)
		log_warning("%s: seq %u cancelled by shutdown", s->label, s->running->seq);
	/* The replies above are already encoded; forget the work silently. */
	request_free(s->running);
	s->running = NULL;
	free_queue(s);
	session_close(s, "agent shutdown");
}

void
sessions_shutdown(void)
{
	int			n = nsessions;

	if (n > 0)
		log_info("closing %d session%s", n, n == 1 ? "" : "s");
	sessions_refuse_connecting();
	while (all_sessions)
		shutdown_session(all_sessions);
	sessions_reap();
	free_base_conninfo();
}
