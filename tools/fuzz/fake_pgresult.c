/* SPDX-License-Identifier: PostgreSQL */
/*
 * fake_pgresult.c — the fake libpq's results: PGresult, the accessors the
 * agent reads it with, and the names, shapes and values drawn for results
 * and COPY data from the fuzz input (see fake_libpq.h).
 *
 * fake_libpq.c builds the results as the statements it plays run
 * (fake_libpq_int.h); here they are only made, read and freed.  Asking for
 * a column or a value outside a result aborts, as fake_libpq.h says.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fake_libpq_int.h"

/* ---- results ----------------------------------------------------------- */

/* The diagnostic fields the agent reads, by PG_DIAG_* code. */
static const char diag_codes[] = {
	PG_DIAG_SQLSTATE, PG_DIAG_SEVERITY, PG_DIAG_SEVERITY_NONLOCALIZED,
	PG_DIAG_MESSAGE_PRIMARY, PG_DIAG_MESSAGE_DETAIL, PG_DIAG_MESSAGE_HINT,
	PG_DIAG_CONTEXT
};

_Static_assert(sizeof(diag_codes) == NDIAG, "struct pg_result has a field for each code");

PGresult *
make_result(ExecStatusType status)
{
	PGresult   *res = fmalloc(sizeof(PGresult));

	res->status = status;
	return res;
}

static int
diag_index(int code)
{
	for (size_t i = 0; i < NDIAG; i++)
		if (diag_codes[i] == code)
			return (int) i;
	return -1;
}

/* Takes ownership of value. */
void
set_diag(PGresult *res, int code, char *value)
{
	int			i = diag_index(code);

	free(res->diag[i]);
	res->diag[i] = value;
}

/* libpq's PQcmdTuples: the row count at the end of some command tags. */
static char *
tuples_of(const char *tag)
{
	static const char *const counted[] = {
		"SELECT ", "UPDATE ", "DELETE ", "MOVE ", "FETCH ", "COPY ", "MERGE "
	};
	const char *p = NULL;

	if (strncmp(tag, "INSERT ", 7) == 0)
	{
		p = strchr(tag + 7, ' ');
		p = p ? p + 1 : NULL;
	}
	for (size_t i = 0; p == NULL && i < sizeof(counted) / sizeof(counted[0]); i++)
		if (strncmp(tag, counted[i], strlen(counted[i])) == 0)
			p = tag + strlen(counted[i]);
	if (p == NULL || *p == '\0')
		return fstrdup("");
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char) *q))
			return fstrdup("");
	return fstrdup(p);
}

void
set_tag(PGresult *res, char *tag)
{
	res->cmd_status = tag;
	res->cmd_tuples = tuples_of(tag);
}

void
copy_columns(PGresult *to, const PGresult *from)
{
	to->ncols = from->ncols;
	to->cols = fmalloc(sizeof(FakeColumn) * (from->ncols ? from->ncols : 1));
	for (int i = 0; i < from->ncols; i++)
	{
		to->cols[i] = from->cols[i];
		if (from->cols[i].name)
			to->cols[i].name = fstrdup(from->cols[i].name);
	}
}

void
PQclear(PGresult *res)
{
	if (res == NULL)
		return;
	for (int i = 0; i < res->ncols; i++)
		free(res->cols[i].name);
	free(res->cols);
	for (int i = 0; i < res->nrows * res->ncols; i++)
		if (!res->values[i].shared)
			free(res->values[i].data);
	free(res->values);
	free(res->cmd_status);
	free(res->cmd_tuples);
	free(res->errmsg);
	for (size_t i = 0; i < NDIAG; i++)
		free(res->diag[i]);
	free(res);
}

ExecStatusType
PQresultStatus(const PGresult *res)
{
	return res ? res->status : PGRES_FATAL_ERROR;
}

int
PQnfields(const PGresult *res)
{
	return res ? res->ncols : 0;
}

static const FakeColumn *
column(const PGresult *res, int i)
{
	if (res == NULL || i < 0 || i >= res->ncols)
		misuse("asked for a column outside the result");
	return &res->cols[i];
}

static const FakeValue *
value(const PGresult *res, int row, int col)
{
	if (res == NULL || row < 0 || row >= res->nrows || col < 0 || col >= res->ncols)
		misuse("asked for a value outside the result");
	return &res->values[row * res->ncols + col];
}

char *
PQfname(const PGresult *res, int i)
{
	return column(res, i)->name;
}

Oid
PQftype(const PGresult *res, int i)
{
	return column(res, i)->type;
}

int
PQfmod(const PGresult *res, int i)
{
	return column(res, i)->typmod;
}

int
PQfformat(const PGresult *res, int i)
{
	return column(res, i)->format;
}

int
PQgetisnull(const PGresult *res, int row, int col)
{
	return value(res, row, col)->data == NULL;
}

int
PQgetlength(const PGresult *res, int row, int col)
{
	return value(res, row, col)->len;
}

char *
PQgetvalue(const PGresult *res, int row, int col)
{
	const FakeValue *v = value(res, row, col);

	return v->data ? v->data : "";
}

char *
PQcmdStatus(PGresult *res)
{
	return res ? (res->cmd_status ? res->cmd_status : "") : NULL;
}

char *
PQcmdTuples(PGresult *res)
{
	return res && res->cmd_tuples ? res->cmd_tuples : "";
}

char *
PQresultErrorMessage(const PGresult *res)
{
	return res && res->errmsg ? res->errmsg : "";
}

char *
PQresultErrorField(const PGresult *res, int code)
{
	int			i = diag_index(code);

	return res && i >= 0 ? res->diag[i] : NULL;
}

/* ---- values drawn from the input ---------------------------------------- */

static char *big_value;			/* HUGE_VALUE bytes, allocated once */
int			fake_pq_big_left;

/* The next byte from the back of the input (0 when there is none left). */
static uint8_t
draw_byte(void)
{
	return fake_pq_input ? fuzz_back_byte(fake_pq_input) : 0;
}

/* Up to max bytes of the input as a C string (a NUL byte becomes '?'). */
char *
draw_text(unsigned max)
{
	unsigned	len = draw(max + 1);
	char	   *s = fmalloc(len + 1);

	for (unsigned i = 0; i < len; i++)
	{
		uint8_t		c = draw_byte();

		s[i] = c ? (char) c : '?';
	}
	return s;
}

/* One of the canned strings, or (the choice after the last) input text. */
char *
draw_string(const char *const *canned, unsigned n)
{
	unsigned	c = draw(n + 1);

	return c < n ? fstrdup(canned[c]) : draw_text(48);
}

/* A value of a row or COPY tuple: NULL, short input bytes, or a big one. */
FakeValue
draw_value(void)
{
	FakeValue	v = {0};
	unsigned	c = draw(256);

	if (c == 254)
		return v;				/* SQL NULL */
	if (c >= 252 && c != 254 && fake_pq_big_left > 0)
	{
		fake_pq_big_left--;
		if (big_value == NULL)
			big_value = fmalloc(HUGE_VALUE);
		v.data = big_value;
		v.len = c == 252 ? HUGE_VALUE : BIG_VALUE;
		v.shared = 1;
		return v;
	}
	v.len = (int) (c % 24);
	if (v.len == 0)
	{
		v.data = (char *) "";
		v.shared = 1;
		return v;
	}
	v.data = fmalloc(v.len);
	for (int i = 0; i < v.len; i++)
		v.data[i] = (char) draw_byte();
	return v;
}

/* A result's columns: names, types, formats. */
PGresult *
draw_shape(ExecStatusType status, int format, bool named)
{
	static const char *const names[] = {"a", "?column?", "time", "value", ""};
	static const Oid types[] = {23, 25, 17, 1184, 701, 0};
	static const int widths[] = {0, 1, 2, 3, 4, 5, 8, 40, 1664};
	PGresult   *res = make_result(status);

	res->ncols = widths[draw(sizeof(widths) / sizeof(widths[0]))];
	res->cols = fmalloc(sizeof(FakeColumn) * (res->ncols ? res->ncols : 1));
	for (int i = 0; i < res->ncols; i++)
	{
		res->cols[i].name = named ? DRAW_STRING(names) : NULL;
		res->cols[i].type = named ? types[draw(sizeof(types) / sizeof(types[0]))] : 0;
		res->cols[i].typmod = -1;
		res->cols[i].format = format;
	}
	return res;
}

unsigned
draw_row_count(void)
{
	static const unsigned counts[] = {0, 1, 2, 3, 5, 64, 300};

	return counts[draw(sizeof(counts) / sizeof(counts[0]))];
}
