/* SPDX-License-Identifier: PostgreSQL */
/*
 * test_common.c — unit tests for common/: envelope codec and validation,
 * row batches, key files.  A test passes when none of its checks failed;
 * the last line is "N passed, N failed" (tests, not checks), and the exit
 * status is non-zero when anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "wire.h"

static int	n_passed;
static int	n_failed;
static int	checks_failed;		/* within the running test */

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

static void
check(int ok, const char *what, const char *file, int line)
{
	if (!ok)
	{
		checks_failed++;
		fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
	}
}

/* Encodes env into a malloc'ed buffer. */
static uint8_t *
encode(const HdEnvelope *env, size_t *len)
{
	uint8_t    *buf;

	*len = hd_wire_size(env);
	buf = malloc(*len ? *len : 1);
	CHECK(hd_wire_encode(env, buf) == *len);
	return buf;
}

static HdWireStatus
roundtrip(const HdEnvelope *env, HdEnvelope **out)
{
	size_t		len;
	uint8_t    *buf = encode(env, &len);
	HdWireStatus st = hd_wire_decode(buf, len, HD_MAX_REQUEST_FRAME, NULL, out, NULL);

	free(buf);
	return st;
}

static void
set_sql(ProtobufCBinaryData *field, protobuf_c_boolean *has, const char *sql, size_t len)
{
	field->data = (uint8_t *) sql;
	field->len = len;
	*has = 1;
}

static void
test_exec_roundtrip(void)
{
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	Hyperdist__Param p1 = HYPERDIST__PARAM__INIT;
	Hyperdist__Param p2 = HYPERDIST__PARAM__INIT;
	Hyperdist__Param *params[2] = {&p1, &p2};
	HdEnvelope *out;
	const char *sql = "SELECT $1::int + $2::int";

	set_sql(&exec.sql, &exec.has_sql, sql, strlen(sql));
	p1.has_value = 1;
	p1.value.data = (uint8_t *) "41";
	p1.value.len = 2;
	exec.n_params = 2;		/* p2 is a NULL */
	exec.params = params;
	env.has_session = 1;
	env.session = 0x1122334455667788ULL;
	env.has_seq = 1;
	env.seq = 7;
	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &exec;

	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	CHECK(out != NULL && out->session == env.session && out->seq == 7);
	CHECK(out && out->body_case == HYPERDIST__ENVELOPE__BODY_EXEC);
	CHECK(out && out->exec->sql.len == strlen(sql) &&
		  memcmp(out->exec->sql.data, sql, strlen(sql)) == 0);
	CHECK(out && out->exec->n_params == 2 && out->exec->params[0]->has_value &&
		  !out->exec->params[1]->has_value);
	CHECK(hd_wire_is_request(out->body_case));
	hd_wire_free(out, NULL);
}

static void
test_invalid_messages(void)
{
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	Hyperdist__Hello hello = HYPERDIST__HELLO__INIT;
	Hyperdist__Error err = HYPERDIST__ERROR__INIT;
	Hyperdist__Credit credit = HYPERDIST__CREDIT__INIT;
	HdEnvelope *out;

	/* no body at all */
	env.has_seq = 1;
	env.seq = 1;
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID && out == NULL);

	/* Exec without SQL, and with an embedded NUL */
	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &exec;
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	set_sql(&exec.sql, &exec.has_sql, "SELECT 1\0; DROP TABLE x", 24);
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);

	/* Hello without a version, then without a user */
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	hello.dbname = "db";
	hello.user = "u";
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	hello.has_major = 1;
	hello.major = HD_PROTO_MAJOR;
	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	CHECK(out && strcmp(out->hello->dbname, "db") == 0);
	hd_wire_free(out, NULL);
	hello.user = "";
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	hello.user = "u";

	/* Hello limits: names of NAMEDATALEN - 1 bytes, a 1024-byte password */
	{
		char		name[HD_MAX_NAME_LEN + 2];
		char		password[HD_MAX_PASSWORD_LEN + 2];

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		memset(password, 'p', sizeof(password) - 1);
		password[sizeof(password) - 1] = '\0';
		hello.password = password;
		CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
		password[HD_MAX_PASSWORD_LEN] = '\0';
		CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
		hd_wire_free(out, NULL);
		hello.user = name;
		CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
		name[HD_MAX_NAME_LEN] = '\0';
		CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
		hd_wire_free(out, NULL);
		hello.dbname = hello.application_name = hello.origin = name;
		CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
		hd_wire_free(out, NULL);
		name[HD_MAX_NAME_LEN] = 'n';
		hello.user = hello.dbname = "u";
		CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
		hello.application_name = NULL;
		CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
		hello.origin = NULL;
		hello.password = NULL;
	}

	/* Error with a malformed SQLSTATE */
	env.body_case = HYPERDIST__ENVELOPE__BODY_ERROR;
	env.error = &err;
	err.message = "boom";
	err.sqlstate = "2201";
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	err.sqlstate = "22o12";
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	err.sqlstate = "22012";
	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	CHECK(out && !hd_wire_is_request(out->body_case));
	hd_wire_free(out, NULL);

	/* A Query run as COPY: binary rows and no parameters only */
	{
		Hyperdist__Query query = HYPERDIST__QUERY__INIT;
		Hyperdist__Param param = HYPERDIST__PARAM__INIT;
		Hyperdist__Param *params[] = {&param};

		env.body_case = HYPERDIST__ENVELOPE__BODY_QUERY;
		env.query = &query;
		set_sql(&query.sql, &query.has_sql, "SELECT 1", 8);
		query.has_copy = query.copy = 1;
		CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
		query.has_binary = query.binary = 1;
		CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
		CHECK(out && out->query->copy);
		hd_wire_free(out, NULL);
		query.n_params = 1;
		query.params = params;
		CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	}

	/* Credit of zero grants nothing */
	env.body_case = HYPERDIST__ENVELOPE__BODY_CREDIT;
	env.credit = &credit;
	credit.has_batches = 1;
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	credit.batches = 3;
	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	hd_wire_free(out, NULL);
}

static void
test_frame_bounds(void)
{
	HdEnvelope *out;
	uint8_t		garbage[64];
	const char *why = NULL;
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__Query q = HYPERDIST__QUERY__INIT;
	const char *sql = "SELECT generate_series(1, 1000000)";
	uint8_t    *buf;
	size_t		len;
	int			ok_prefixes = 0;

	CHECK(hd_wire_decode("", 0, 100, NULL, &out, &why) == HD_WIRE_EMPTY && why);
	memset(garbage, 0xff, sizeof(garbage));
	CHECK(hd_wire_decode(garbage, sizeof(garbage), 10, NULL, &out, &why) == HD_WIRE_TOO_LARGE);
	CHECK(hd_wire_decode(garbage, sizeof(garbage), 1000, NULL, &out, &why) == HD_WIRE_GARBAGE);
	CHECK(out == NULL);

	/* A length prefix far beyond the input. */
	{
		uint8_t		lie[] = {0x5a, 0xff, 0xff, 0xff, 0x7f, 0x01};

		CHECK(hd_wire_decode(lie, sizeof(lie), 1000, NULL, &out, NULL) == HD_WIRE_GARBAGE);
	}

	/* Every truncation of a Query either fails or still holds all of its SQL. */
	set_sql(&q.sql, &q.has_sql, sql, strlen(sql));
	q.has_credit = 1;
	q.credit = 4;
	env.has_seq = 1;
	env.seq = 99;
	env.body_case = HYPERDIST__ENVELOPE__BODY_QUERY;
	env.query = &q;
	buf = encode(&env, &len);
	for (size_t cut = 0; cut < len; cut++)
	{
		HdWireStatus st = hd_wire_decode(buf, cut, 1000, NULL, &out, NULL);

		if (st == HD_WIRE_OK)
		{
			ok_prefixes++;
			CHECK(out->query->sql.len == strlen(sql));
			hd_wire_free(out, NULL);
		}
	}
	CHECK(ok_prefixes < 4);
	free(buf);
}

/* hd_wire_peek reads the ids and the body without unpacking. */
static void
test_peek(void)
{
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__Hello hello = HYPERDIST__HELLO__INIT;
	Hyperdist__Exec exec = HYPERDIST__EXEC__INIT;
	HdWirePeek	peek;
	uint8_t    *buf;
	size_t		len;

	CHECK(hd_wire_peek("", 0, &peek) && peek.body == HYPERDIST__ENVELOPE__BODY__NOT_SET);

	env.has_session = env.has_seq = env.has_epoch = 1;
	env.session = UINT64_MAX;
	env.seq = 7;
	env.epoch = 1234;
	env.body_case = HYPERDIST__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	hello.dbname = "d";
	buf = encode(&env, &len);
	CHECK(hd_wire_peek(buf, len, &peek));
	CHECK(peek.session == UINT64_MAX && peek.seq == 7 &&
		  peek.body == HYPERDIST__ENVELOPE__BODY_HELLO);
	/* every strict prefix that ends inside a field does not parse */
	CHECK(!hd_wire_peek(buf, len - 1, &peek));
	free(buf);

	env.body_case = HYPERDIST__ENVELOPE__BODY_EXEC;
	env.exec = &exec;
	set_sql(&exec.sql, &exec.has_sql, "SELECT 1", 8);
	buf = encode(&env, &len);
	CHECK(hd_wire_peek(buf, len, &peek) && peek.body == HYPERDIST__ENVELOPE__BODY_EXEC);
	free(buf);

	/* a length beyond the frame, an overlong varint, a group */
	CHECK(!hd_wire_peek("\x5a\xff\xff\x7f\x01", 5, &peek));
	CHECK(!hd_wire_peek("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, &peek));
	CHECK(!hd_wire_peek("\x0b", 1, &peek));
}

/* Deterministic mutation fuzzing: decoding must never crash or leak, and
 * whatever decodes must also pass validation. */
static void
test_mutations(void)
{
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__RowBatch rb = HYPERDIST__ROW_BATCH__INIT;
	HdBuf		batch;
	uint8_t    *buf;
	size_t		len;
	unsigned int seed = 12345;
	int			decoded = 0;
	int			crashes_avoided = 0;

	hd_buf_init(&batch);
	for (int row = 0; row < 3; row++)
	{
		hd_batch_put_row_header(&batch, 2);
		hd_batch_put_field(&batch, "abc", 3);
		hd_batch_put_field(&batch, NULL, 0);
	}
	rb.has_nrows = 1;
	rb.nrows = 3;
	rb.has_data = 1;
	rb.data.data = batch.data;
	rb.data.len = batch.len;
	env.body_case = HYPERDIST__ENVELOPE__BODY_ROW_BATCH;
	env.row_batch = &rb;
	buf = encode(&env, &len);

	for (int i = 0; i < 20000; i++)
	{
		uint8_t    *m = malloc(len);
		HdEnvelope *out;
		int			flips = 1 + rand_r(&seed) % 4;

		memcpy(m, buf, len);
		for (int f = 0; f < flips; f++)
			m[rand_r(&seed) % len] ^= (uint8_t) (1 + rand_r(&seed) % 255);
		if (hd_wire_decode(m, len, 1 << 20, NULL, &out, NULL) == HD_WIRE_OK)
		{
			decoded++;
			if (hd_wire_check(out) != NULL)
				crashes_avoided++;
			hd_wire_free(out, NULL);
		}
		free(m);
	}
	CHECK(crashes_avoided == 0);
	CHECK(decoded < 20000);
	free(buf);
	hd_buf_free(&batch);
}

static void
test_batches(void)
{
	HdBuf		b;
	HdBatchReader r;
	uint16_t	nf;
	bool		bad;
	const uint8_t *d;
	int32_t		n;
	uint8_t		big[5000];

	memset(big, 'x', sizeof(big));
	hd_buf_init(&b);
	CHECK(hd_batch_put_row_header(&b, 3));
	CHECK(hd_batch_put_field(&b, "hello", 5));
	CHECK(hd_batch_put_field(&b, NULL, 0));
	CHECK(hd_batch_put_field(&b, "", 0));
	CHECK(hd_batch_put_row_header(&b, 3));
	CHECK(hd_batch_put_field(&b, big, sizeof(big)));
	CHECK(hd_batch_put_field(&b, "a", 1));
	CHECK(hd_batch_put_field(&b, "b", 1));
	CHECK(!hd_batch_put_field(&b, "c", -5));

	CHECK(hd_batch_check(b.data, b.len, 2, 3) == NULL);
	CHECK(hd_batch_check(b.data, b.len, 2, 0) == NULL);
	CHECK(hd_batch_check(b.data, b.len, 1, 3) != NULL);
	CHECK(hd_batch_check(b.data, b.len, 3, 3) != NULL);
	CHECK(hd_batch_check(b.data, b.len, 2, 4) != NULL);
	for (size_t cut = 1; cut < b.len; cut++)
		if (hd_batch_check(b.data, cut, 2, 3) == NULL)
			CHECK(!"a truncated batch passed the check");
	CHECK(hd_batch_check(b.data, 0, 0, 3) == NULL);

	hd_batch_reader_init(&r, b.data, b.len);
	CHECK(hd_batch_next_row(&r, &nf, &bad) && nf == 3);
	CHECK(hd_batch_next_field(&r, &d, &n) && n == 5 && memcmp(d, "hello", 5) == 0);
	CHECK(hd_batch_next_field(&r, &d, &n) && d == NULL && n == -1);
	CHECK(hd_batch_next_field(&r, &d, &n) && d != NULL && n == 0);
	CHECK(hd_batch_next_row(&r, &nf, &bad) && nf == 3);
	CHECK(hd_batch_next_field(&r, &d, &n) && n == (int32_t) sizeof(big));
	CHECK(hd_batch_next_field(&r, &d, &n) && n == 1 && d[0] == 'a');
	CHECK(hd_batch_next_field(&r, &d, &n) && n == 1 && d[0] == 'b');
	CHECK(!hd_batch_next_row(&r, &nf, &bad) && !bad);

	/* a negative length other than -1 is corrupt */
	hd_buf_reset(&b);
	hd_batch_put_row_header(&b, 1);
	hd_buf_append(&b, "\xff\xff\xff\xfe", 4);
	CHECK(hd_batch_check(b.data, b.len, 1, 1) != NULL);
	hd_buf_free(&b);
}

/*
 * A fragment (protocol 1.3) is a non-empty piece of one tuple counting at
 * most one row; it is not parsed alone.  A whole batch still must parse.
 */
static void
test_fragments(void)
{
	HdEnvelope	env = HYPERDIST__ENVELOPE__INIT;
	Hyperdist__RowBatch rb = HYPERDIST__ROW_BATCH__INIT;
	HdEnvelope *out = NULL;
	static const uint8_t piece[] = "\0\2\0\0\0\x10" "abc";

	env.body_case = HYPERDIST__ENVELOPE__BODY_ROW_BATCH;
	env.row_batch = &rb;
	rb.has_nrows = rb.has_data = 1;
	rb.data.data = (uint8_t *) piece;
	rb.data.len = sizeof(piece) - 1;

	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);	/* not a whole tuple */
	rb.has_fragment = rb.fragment = 1;
	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	CHECK(out && out->row_batch->fragment && out->row_batch->nrows == 0);
	hd_wire_free(out, NULL);
	rb.nrows = 1;				/* the last piece */
	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	hd_wire_free(out, NULL);
	rb.nrows = 2;
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	rb.nrows = 0;
	rb.data.len = 0;
	CHECK(roundtrip(&env, &out) == HD_WIRE_INVALID);
	rb.fragment = 0;			/* present but false: a whole, empty batch */
	CHECK(roundtrip(&env, &out) == HD_WIRE_OK);
	hd_wire_free(out, NULL);
}

static void
test_sqlstate(void)
{
	CHECK(hd_sqlstate_valid("22012"));
	CHECK(hd_sqlstate_valid("08P01"));
	CHECK(!hd_sqlstate_valid(NULL));
	CHECK(!hd_sqlstate_valid("2201"));
	CHECK(!hd_sqlstate_valid("220123"));
	CHECK(!hd_sqlstate_valid("22a12"));
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	FILE	   *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
test_keys(void)
{
	char		dir[] = "/tmp/hd-keytest-XXXXXX";
	char		path[512];
	char		err[512];
	char		pub[HD_Z85_KEY_LEN + 1];
	HdKeyPair	made;
	HdKeyPair	loaded;
	HdKeyList	list;
	struct stat st;
	char		text[1024];

	CHECK(mkdtemp(dir) != NULL);
	CHECK(hd_keygen(dir, "agent", false, &made, err, sizeof(err)));
	CHECK(hd_key_valid(made.public_key) && hd_key_valid(made.secret_key));
	CHECK(!hd_keygen(dir, "agent", false, NULL, err, sizeof(err)));
	CHECK(strstr(err, "already exists") != NULL);

	snprintf(path, sizeof(path), "%s/agent.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(hd_key_load_pair(path, &loaded, err, sizeof(err)));
	CHECK(strcmp(loaded.public_key, made.public_key) == 0);
	CHECK(strcmp(loaded.secret_key, made.secret_key) == 0);

	chmod(path, 0644);
	CHECK(!hd_key_load_pair(path, &loaded, err, sizeof(err)));
	CHECK(strstr(err, "0600") != NULL);

	snprintf(path, sizeof(path), "%s/agent.pub", dir);
	CHECK(hd_key_load_public(path, pub, err, sizeof(err)));
	CHECK(strcmp(pub, made.public_key) == 0);

	snprintf(path, sizeof(path), "%s/missing.pub", dir);
	CHECK(!hd_key_load_public(path, pub, err, sizeof(err)));
	CHECK(strstr(err, "missing.pub") != NULL);

	snprintf(path, sizeof(path), "%s/bad.pub", dir);
	write_text(path, "# comment\nnot-a-key\n", 0644);
	CHECK(!hd_key_load_public(path, pub, err, sizeof(err)));

	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	snprintf(text, sizeof(text),
			 "# access nodes\n\n%s  an1 primary\n%s\n", made.public_key, loaded.secret_key);
	write_text(path, text, 0644);
	CHECK(hd_keylist_load(path, &list, err, sizeof(err)));
	CHECK(list.count == 2);
	CHECK(hd_keylist_find(&list, made.public_key) == 0);
	CHECK(strcmp(list.labels[0], "an1 primary") == 0);
	CHECK(strcmp(list.labels[1], "") == 0);
	CHECK(hd_keylist_find(&list, "0000000000000000000000000000000000000000") == -1);
	hd_keylist_free(&list);

	snprintf(text, sizeof(text), "%s\nshort\n", made.public_key);
	write_text(path, text, 0644);
	CHECK(!hd_keylist_load(path, &list, err, sizeof(err)));
	CHECK(strstr(err, "line 2") != NULL);

	snprintf(text, sizeof(text), "rm -rf %s", dir);
	CHECK(system(text) == 0);
}

static void
run(void (*test) (void), const char *name)
{
	checks_failed = 0;
	test();
	printf("%s %s\n", checks_failed ? "not ok" : "ok", name);
	if (checks_failed)
		n_failed++;
	else
		n_passed++;
}

#define RUN(test) run(test, #test)

int
main(void)
{
	RUN(test_exec_roundtrip);
	RUN(test_invalid_messages);
	RUN(test_frame_bounds);
	RUN(test_peek);
	RUN(test_mutations);
	RUN(test_batches);
	RUN(test_fragments);
	RUN(test_sqlstate);
	RUN(test_keys);
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed == 0 ? 0 : 1;
}
