/* SPDX-License-Identifier: PostgreSQL */
/*
 * fake_libpq_int.h — what the two files of the fake libpq share.
 *
 * fake_libpq.c plays connections, queries, COPY and cancels; the results
 * it returns are built with fake_pgresult.c's functions, which also draw
 * names, shapes and values from the fuzz input.  Both take their
 * decisions with draw().  The harness includes only fake_libpq.h.
 */
#ifndef HD_FAKE_LIBPQ_INT_H
#define HD_FAKE_LIBPQ_INT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fake_libpq.h"
#include "wire.h"

/*
 * Big values: one just larger than a reply frame, which a row holding it
 * sends in fragments (or fails with 54000 for an older access node), and
 * one larger than the largest row.  They point into one shared buffer.
 */
#define BIG_VALUE		(HD_MAX_REPLY_FRAME + 1024)
#define HUGE_VALUE		((int) HD_MAX_ROW_BYTES + 1)
/* Big values per input: each costs a few copies of a frame. */
#define BIG_VALUES		8

/* Where decisions come from (fake_pq_attach's; NULL: none). */
extern FuzzInput *fake_pq_input;

/* Big values the input may still draw (fake_pgresult.c). */
extern int	fake_pq_big_left;

typedef struct FakeColumn
{
	char	   *name;			/* NULL in a COPY's result, as in libpq */
	Oid			type;
	int			typmod;
	int			format;
} FakeColumn;

typedef struct FakeValue
{
	char	   *data;			/* NULL for SQL NULL */
	int			len;
	int			shared;			/* not owned: big_value or "" */
} FakeValue;

/* The diagnostic fields the agent reads (fake_pgresult.c's diag_codes). */
#define NDIAG			7

struct pg_result
{
	ExecStatusType status;
	int			ncols;
	FakeColumn *cols;
	int			nrows;
	FakeValue  *values;			/* nrows * ncols */
	char	   *cmd_status;
	char	   *cmd_tuples;
	char	   *errmsg;
	char	   *diag[NDIAG];
};

/* A decision below n; 0 without an input or when it is used up. */
static inline unsigned
draw(unsigned n)
{
	return fake_pq_input ? fuzz_back_below(fake_pq_input, n) : 0;
}

static inline void
misuse(const char *what)
{
	fprintf(stderr, "fake libpq: the agent %s\n", what);
	abort();
}

static inline void *
fmalloc(size_t n)
{
	void	   *p = calloc(1, n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static inline char *
fstrdup(const char *s)
{
	size_t		n = strlen(s);
	char	   *p = fmalloc(n + 1);

	memcpy(p, s, n);
	return p;
}

/* fake_pgresult.c: results */
extern PGresult *make_result(ExecStatusType status);
extern void set_diag(PGresult *res, int code, char *value);
extern void set_tag(PGresult *res, char *tag);
extern void copy_columns(PGresult *to, const PGresult *from);

/* fake_pgresult.c: values drawn from the input */
extern char *draw_text(unsigned max);
extern char *draw_string(const char *const *canned, unsigned n);
extern FakeValue draw_value(void);
extern PGresult *draw_shape(ExecStatusType status, int format, bool named);
extern unsigned draw_row_count(void);

#define DRAW_STRING(canned) draw_string(canned, sizeof(canned) / sizeof(canned[0]))

#endif							/* HD_FAKE_LIBPQ_INT_H */
