/* SPDX-License-Identifier: PostgreSQL */
/*
 * tsbs-gen — TSBS devops "cpu-only" data and query generator for hyperdist's
 * benchmarks (tools/bench/run).
 *
 * Data model (TSBS pkg/data/usecases/devops, cpu-only): `hosts` hosts, each
 * with 10 string tags fixed at creation and one `cpu` measurement of ten
 * fields (usage_user ... usage_guest_nice).  Every field is a random walk
 * clamped to [0,100]: it starts uniform in [0,100), and after each row it
 * moves by N(0,1).  Values are emitted as int64(state), i.e. integers 0..100
 * truncated toward zero, into float8 columns.  One row per host every
 * `interval` (10 s), time-major: every host at t0, then every host at
 * t0+interval, and so on; the first row of each host is at exactly `start`.
 *
 * The random streams are this program's own (xoshiro256** seeded through
 * splitmix64), not Go's math/rand: the data is TSBS-shaped, not TSBS's bytes.
 * Every host has its own stream, derived from (seed, host id), so a host's
 * tags and values do not depend on which other hosts are generated: a
 * --part of the hosts, or a shorter --duration, yields exactly the matching
 * subset of the full data set's rows.
 *
 * Output on stdout:
 *   --table cpu (default): rows of
 *       cpu(time timestamptz, tags_id int, hostname text,
 *           usage_user, usage_system, usage_idle, usage_nice, usage_iowait,
 *           usage_irq, usage_softirq, usage_steal, usage_guest,
 *           usage_guest_nice float8)
 *     (hostname in the table, TSBS's in-table-partition-tag layout, so it can
 *     be the space-partitioning column; tags_id = host id + 1, the id the
 *     host has in the tags table)
 *   --table tags: rows of tags(id, hostname, region, datacenter, rack, os,
 *     arch, team, service, service_version, service_environment)
 *   in --format csv (COPY ... (FORMAT csv)), binary (COPY ... (FORMAT
 *   binary)), or sql (multi-row INSERT statements of --batch rows).
 *
 *   --query NAME prints instead the SQL of one TSBS devops query over the
 *   data set described by --hosts/--start/--duration, with its random
 *   parameters (hosts, time window) drawn from --seed.  The SQL is TSBS's
 *   TimescaleDB text with hostname in the table (--timescale-use-tags=false);
 *   with --use-tags, the text TSBS writes with --timescale-use-tags=true:
 *   hosts are found through the tags table (cpu.tags_id = tags.id), with the
 *   same parameters, so both forms answer the same question.
 *
 * Build: make -C tools/bench.  Usage: tsbs-gen --help.
 */

#define _DEFAULT_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NFIELDS 10
#define USEC_PER_SEC INT64_C(1000000)
/* Seconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch). */
#define PG_EPOCH_OFFSET INT64_C(946684800)

static const char *const field_names[NFIELDS] = {
	"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
};

static const char *const tag_names[] = {
	"hostname", "region", "datacenter", "rack", "os", "arch", "team",
	"service", "service_version", "service_environment",
};
#define NTAGS (sizeof(tag_names) / sizeof(tag_names[0]))

struct region {
	const char *name;
	const char *const *zones;
	int nzones;
};

static const char *const z_use1[] = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"};
static const char *const z_usw1[] = {"us-west-1a", "us-west-1b"};
static const char *const z_usw2[] = {"us-west-2a", "us-west-2b", "us-west-2c"};
static const char *const z_euw1[] = {"eu-west-1a", "eu-west-1b", "eu-west-1c"};
static const char *const z_euc1[] = {"eu-central-1a", "eu-central-1b"};
static const char *const z_apse1[] = {"ap-southeast-1a", "ap-southeast-1b"};
static const char *const z_apse2[] = {"ap-southeast-2a", "ap-southeast-2b"};
static const char *const z_apne1[] = {"ap-northeast-1a", "ap-northeast-1c"};
static const char *const z_sae1[] = {"sa-east-1a", "sa-east-1b", "sa-east-1c"};

#define R(n, z) {n, z, (int) (sizeof(z) / sizeof(z[0]))}
static const struct region regions[] = {
	R("us-east-1", z_use1), R("us-west-1", z_usw1), R("us-west-2", z_usw2),
	R("eu-west-1", z_euw1), R("eu-central-1", z_euc1), R("ap-southeast-1", z_apse1),
	R("ap-southeast-2", z_apse2), R("ap-northeast-1", z_apne1), R("sa-east-1", z_sae1),
};
#undef R
#define NREGIONS ((int) (sizeof(regions) / sizeof(regions[0])))

static const char *const oses[] = {"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"};
static const char *const arches[] = {"x64", "x86"};
static const char *const teams[] = {"SF", "NYC", "LON", "CHI"};
static const char *const environments[] = {"production", "staging", "test"};
#define NELEM(a) ((int) (sizeof(a) / sizeof((a)[0])))

static const char *prog = "tsbs-gen";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- random numbers ------------------------------------------------------ */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s[4];
	int have_spare;
	double spare;
};

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* A stream for (seed, domain, index): distinct triples give independent
 * streams. */
static void
rng_init(struct rng *r, uint64_t seed, uint64_t domain, uint64_t index)
{
	uint64_t x = seed;
	int i;

	x = splitmix64(&x) ^ (domain * UINT64_C(0xD1B54A32D192ED03));
	x = splitmix64(&x) ^ (index * UINT64_C(0x8CB92BA72F3D8DD7));
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	r->have_spare = 0;
	r->spare = 0;
}

/* Uniform in [0, 1). */
static inline double
rng_double(struct rng *r)
{
	return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0, unbiased (rejection). */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}

/* N(0,1), Box-Muller (both values used). */
static double
rng_normal(struct rng *r)
{
	double u1, u2, m;

	if (r->have_spare) {
		r->have_spare = 0;
		return r->spare;
	}
	do
		u1 = rng_double(r);
	while (u1 <= 0.0);
	u2 = rng_double(r);
	m = sqrt(-2.0 * log(u1));
	r->spare = m * sin(2.0 * M_PI * u2);
	r->have_spare = 1;
	return m * cos(2.0 * M_PI * u2);
}

/* ---- hosts ------------------------------------------------------------------ */

enum { DOMAIN_HOST = 1, DOMAIN_QUERY = 2 };

struct host {
	int id;
	struct rng rng;
	double state[NFIELDS];
	char hostname[24];
	const char *tags[NTAGS];
	char rack[4], service[4], service_version[2];
};

static void
host_init(struct host *h, uint64_t seed, int id)
{
	const struct region *reg;
	int i;

	h->id = id;
	rng_init(&h->rng, seed, DOMAIN_HOST, (uint64_t) id);
	/* Same draw order as TSBS: initial states, then the tags. */
	for (i = 0; i < NFIELDS; i++)
		h->state[i] = rng_double(&h->rng) * 100.0;
	snprintf(h->hostname, sizeof(h->hostname), "host_%d", id);
	reg = &regions[rng_below(&h->rng, NREGIONS)];
	h->tags[0] = h->hostname;
	h->tags[1] = reg->name;
	h->tags[2] = reg->zones[rng_below(&h->rng, (uint64_t) reg->nzones)];
	snprintf(h->rack, sizeof(h->rack), "%d", (int) rng_below(&h->rng, 100));
	h->tags[3] = h->rack;
	h->tags[5] = arches[rng_below(&h->rng, NELEM(arches))];
	h->tags[4] = oses[rng_below(&h->rng, NELEM(oses))];
	snprintf(h->service, sizeof(h->service), "%d", (int) rng_below(&h->rng, 20));
	h->tags[7] = h->service;
	snprintf(h->service_version, sizeof(h->service_version), "%d", (int) rng_below(&h->rng, 2));
	h->tags[8] = h->service_version;
	h->tags[9] = environments[rng_below(&h->rng, NELEM(environments))];
	h->tags[6] = teams[rng_below(&h->rng, NELEM(teams))];
}

/* One tick: every field moves by N(0,1), clamped to [0,100]. */
static inline void
host_advance(struct host *h)
{
	int i;

	for (i = 0; i < NFIELDS; i++) {
		double v = h->state[i] + rng_normal(&h->rng);

		if (v < 0.0)
			v = 0.0;
		else if (v > 100.0)
			v = 100.0;
		h->state[i] = v;
	}
}

/* ---- output ------------------------------------------------------------------ */

static char outbuf[1 << 16];
static size_t outlen;

static void
out_flush(void)
{
	if (outlen > 0 && fwrite(outbuf, 1, outlen, stdout) != outlen)
		die("write error on stdout: %s", strerror(errno));
	outlen = 0;
}

static inline void
out_reserve(size_t n)
{
	if (outlen + n > sizeof(outbuf))
		out_flush();
}

static inline void
out_bytes(const void *p, size_t n)
{
	out_reserve(n);
	memcpy(outbuf + outlen, p, n);
	outlen += n;
}

static inline void
out_str(const char *s)
{
	out_bytes(s, strlen(s));
}

static inline void
out_be16(int16_t v)
{
	uint16_t u = (uint16_t) v;
	unsigned char b[2] = {(unsigned char) (u >> 8), (unsigned char) u};

	out_bytes(b, 2);
}

static inline void
out_be32(int32_t v)
{
	uint32_t u = (uint32_t) v;
	unsigned char b[4] = {(unsigned char) (u >> 24), (unsigned char) (u >> 16),
						  (unsigned char) (u >> 8), (unsigned char) u};

	out_bytes(b, 4);
}

static inline void
out_be64(uint64_t u)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char) u;
		u >>= 8;
	}
	out_bytes(b, 8);
}

static inline void
out_int(int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	out_bytes(tmp, (size_t) n);
}

/* Binary COPY: signature, flags, header extension length. */
static void
binary_header(void)
{
	static const char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (char) 0xff, '\r', '\n', '\0'};

	out_bytes(sig, sizeof(sig));
	out_be32(0);
	out_be32(0);
}

static void
binary_trailer(void)
{
	out_be16(-1);
}

static inline void
binary_text_field(const char *s)
{
	size_t n = strlen(s);

	out_be32((int32_t) n);
	out_bytes(s, n);
}

static inline void
binary_float8(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	out_be32(8);
	out_be64(u);
}

/* ---- options ------------------------------------------------------------------ */

enum format { FMT_CSV, FMT_BINARY, FMT_SQL };
enum table { TBL_CPU, TBL_TAGS };

struct options {
	int hosts;
	int64_t start;			/* Unix seconds */
	int64_t duration;		/* seconds */
	int64_t interval;		/* seconds */
	uint64_t seed;
	enum format format;
	enum table table;
	int part, nparts;		/* 1-based part of nparts contiguous host ranges */
	int batch;				/* rows per INSERT (sql format) */
	const char *query;
	int use_tags;			/* --use-tags: queries in TSBS's tags form */
	const char *sql_table;	/* table name for the sql format */
};

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: tsbs-gen [options]            data on stdout\n"
			"       tsbs-gen --query NAME [options] one query's SQL on stdout\n"
			"       tsbs-gen --list-queries\n"
			"\n"
			"  --hosts N            number of hosts host_0..host_N-1 (default 100)\n"
			"  --start TIME         first timestamp, UTC, e.g. 2016-01-01T00:00:00Z (the default)\n"
			"  --duration D         length of the data set, e.g. 1d, 12h, 90m, 3600s (default 1d);\n"
			"                       epochs = duration / interval\n"
			"  --interval D         time between a host's rows (default 10s)\n"
			"  --seed S             seed, a non-negative integer (default 123); the same\n"
			"                       options and seed always give the same bytes\n"
			"  --format F           csv (default), binary (PostgreSQL binary COPY), or\n"
			"                       sql (multi-row INSERT statements)\n"
			"  --table T            cpu (default) or tags\n"
			"  --part I/N           only the I-th (1..N) of N contiguous ranges of hosts\n"
			"  --batch N            rows per INSERT statement with --format sql (default 1000)\n"
			"  --sql-table NAME     table the INSERT statements name (default: cpu or tags)\n"
			"  --query NAME         print the SQL of TSBS devops query NAME for this data set\n"
			"                       (parameters drawn from --seed); see --list-queries\n"
			"  --use-tags           with --query: TSBS's tags form of the query (hosts found\n"
			"                       through the tags table, joined on cpu.tags_id = tags.id)\n"
			"\n"
			"cpu columns: time timestamptz, tags_id int, hostname text, usage_user,\n"
			"usage_system, usage_idle, usage_nice, usage_iowait, usage_irq, usage_softirq,\n"
			"usage_steal, usage_guest, usage_guest_nice float8.\n"
			"tags columns: id int, hostname, region, datacenter, rack, os, arch, team,\n"
			"service, service_version, service_environment text.\n");
}

static int64_t
parse_int(const char *opt, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		die("%s: '%s' is not an integer from %" PRId64 " to %" PRId64, opt, s, min, max);
	return (int64_t) v;
}

/* "10s", "90m", "12h", "1d", "3600" (seconds). */
static int64_t
parse_duration(const char *opt, const char *s)
{
	char *end;
	long long v;
	int64_t mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		die("%s: '%s' is not a duration (e.g. 10s, 90m, 12h, 1d)", opt, s);
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		die("%s: '%s' is not a duration (e.g. 10s, 90m, 12h, 1d)", opt, s);
	if (v > INT64_C(1) << 40)
		die("%s: '%s' is too long", opt, s);
	return (int64_t) v * mult;
}

/* 2016-01-01T00:00:00Z, 2016-01-01 00:00:00, 2016-01-01 (UTC). */
static int64_t
parse_time(const char *opt, const char *s)
{
	struct tm tm;
	int n = 0, len = (int) strlen(s);
	char sep = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
		goto bad;
	if (n < len) {
		sep = s[n];
		if ((sep != 'T' && sep != ' ') ||
			sscanf(s + n + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 3 || n != 8)
			goto bad;
		n += 11;
		if (n < len && !(strcmp(s + n, "Z") == 0 || strcmp(s + n, "+00") == 0 ||
						 strcmp(s + n, "+00:00") == 0))
			goto bad;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59 || tm.tm_year < 1970 || tm.tm_year > 9999)
		goto bad;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t) timegm(&tm);
bad:
	die("%s: '%s' is not a UTC time like 2016-01-01T00:00:00Z", opt, s);
}

/* ---- data ---------------------------------------------------------------------- */

static void
host_range(const struct options *o, int *from, int *to)
{
	int64_t n = o->hosts;

	*from = (int) (n * (o->part - 1) / o->nparts);
	*to = (int) (n * o->part / o->nparts);
}

/* "2016-01-01 00:00:10+00" */
static void
format_ts(char *buf, size_t len, int64_t unix_secs)
{
	time_t t = (time_t) unix_secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S+00", &tm);
}

static void
sql_begin(const struct options *o)
{
	int i;

	out_str("INSERT INTO ");
	out_str(o->sql_table);
	if (o->table == TBL_CPU) {
		out_str("(time,tags_id,hostname");
		for (i = 0; i < NFIELDS; i++) {
			out_str(",");
			out_str(field_names[i]);
		}
	} else {
		out_str("(id");
		for (i = 0; i < (int) NTAGS; i++) {
			out_str(",");
			out_str(tag_names[i]);
		}
	}
	out_str(") VALUES\n");
}

static void
gen_tags(const struct options *o)
{
	int from, to, id, i, inbatch = 0;
	struct host h;

	host_range(o, &from, &to);
	if (o->format == FMT_BINARY)
		binary_header();
	for (id = from; id < to; id++) {
		host_init(&h, o->seed, id);
		switch (o->format) {
		case FMT_CSV:
			out_int(id + 1);
			for (i = 0; i < (int) NTAGS; i++) {
				out_str(",");
				out_str(h.tags[i]);
			}
			out_str("\n");
			break;
		case FMT_BINARY:
			out_be16((int16_t) (1 + NTAGS));
			out_be32(4);
			out_be32(id + 1);
			for (i = 0; i < (int) NTAGS; i++)
				binary_text_field(h.tags[i]);
			break;
		case FMT_SQL:
			if (inbatch == 0)
				sql_begin(o);
			else
				out_str(",\n");
			out_str("(");
			out_int(id + 1);
			for (i = 0; i < (int) NTAGS; i++) {
				out_str(",'");
				out_str(h.tags[i]);
				out_str("'");
			}
			out_str(")");
			if (++inbatch == o->batch) {
				out_str(";\n");
				inbatch = 0;
			}
			break;
		}
	}
	if (o->format == FMT_SQL && inbatch > 0)
		out_str(";\n");
	if (o->format == FMT_BINARY)
		binary_trailer();
}

static void
gen_cpu(const struct options *o)
{
	int from, to, nh, i, f, inbatch = 0;
	int64_t epochs, e;
	struct host *hosts;
	char ts[40];

	host_range(o, &from, &to);
	nh = to - from;
	epochs = o->duration / o->interval;
	hosts = calloc((size_t) (nh > 0 ? nh : 1), sizeof(*hosts));
	if (hosts == NULL)
		die("out of memory");
	for (i = 0; i < nh; i++)
		host_init(&hosts[i], o->seed, from + i);
	if (o->format == FMT_BINARY)
		binary_header();
	for (e = 0; e < epochs; e++) {
		int64_t t = o->start + e * o->interval;
		int64_t pgusec = (t - PG_EPOCH_OFFSET) * USEC_PER_SEC;

		if (o->format != FMT_BINARY)
			format_ts(ts, sizeof(ts), t);
		for (i = 0; i < nh; i++) {
			struct host *h = &hosts[i];

			switch (o->format) {
			case FMT_CSV:
				out_str(ts);
				out_str(",");
				out_int(h->id + 1);
				out_str(",");
				out_str(h->hostname);
				for (f = 0; f < NFIELDS; f++) {
					out_str(",");
					out_int((int64_t) h->state[f]);
				}
				out_str("\n");
				break;
			case FMT_BINARY:
				out_be16(3 + NFIELDS);
				out_be32(8);
				out_be64((uint64_t) pgusec);
				out_be32(4);
				out_be32(h->id + 1);
				binary_text_field(h->hostname);
				for (f = 0; f < NFIELDS; f++)
					binary_float8((double) (int64_t) h->state[f]);
				break;
			case FMT_SQL:
				if (inbatch == 0)
					sql_begin(o);
				else
					out_str(",\n");
				out_str("('");
				out_str(ts);
				out_str("',");
				out_int(h->id + 1);
				out_str(",'");
				out_str(h->hostname);
				out_str("'");
				for (f = 0; f < NFIELDS; f++) {
					out_str(",");
					out_int((int64_t) h->state[f]);
				}
				out_str(")");
				if (++inbatch == o->batch) {
					out_str(";\n");
					inbatch = 0;
				}
				break;
			}
			host_advance(h);
		}
	}
	if (o->format == FMT_SQL && inbatch > 0)
		out_str(";\n");
	if (o->format == FMT_BINARY)
		binary_trailer();
	free(hosts);
}

/* ---- queries --------------------------------------------------------------------- */

/*
 * Timestamp literal in Go's "2006-01-02 15:04:05.999999 -0700" layout, UTC:
 * microseconds truncated, trailing zeros (and the dot) dropped.
 */
static void
format_query_ts(char *buf, size_t len, int64_t unix_ns)
{
	int64_t secs = unix_ns / 1000000000;
	int64_t usec = (unix_ns % 1000000000) / 1000;
	time_t t = (time_t) secs;
	struct tm tm;
	char frac[16] = "";
	size_t n;

	gmtime_r(&t, &tm);
	if (usec > 0) {
		snprintf(frac, sizeof(frac), ".%06" PRId64, usec);
		n = strlen(frac);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, "%s +0000", frac);
}

/*
 * A random window of `window` seconds inside [start, end + 1 s) (TSBS runs
 * its query generator with the data's end + 1 s), in nanoseconds; when the
 * data set is shorter than the window, the window starts at the data's start.
 */
static void
random_window(const struct options *o, struct rng *r, int64_t window, char *t0, char *t1, size_t len)
{
	int64_t start_ns = o->start * INT64_C(1000000000);
	int64_t end_ns = (o->start + o->duration + 1) * INT64_C(1000000000);
	int64_t win_ns = window * INT64_C(1000000000);
	int64_t span = end_ns - win_ns - start_ns;
	int64_t s = start_ns;

	if (span > 0)
		s += (int64_t) rng_below(r, (uint64_t) span);
	format_query_ts(t0, len, s);
	format_query_ts(t1, len, s + win_ns);
}

/*
 * hostname IN ('host_a','host_b',...): n distinct random hosts.  In the tags
 * form, tags_id IN (SELECT id FROM tags WHERE hostname IN (...)), as TSBS
 * writes it: the same hosts, drawn the same way.
 */
static char *
host_filter(const struct options *o, struct rng *r, int n)
{
	int *ids, i, j, k = 0;
	size_t cap = 80 + (size_t) n * 24;
	char *s, *p;

	if (n > o->hosts)
		die("the query needs %d hosts, but the data set has only %d (--hosts)", n, o->hosts);
	ids = calloc((size_t) n, sizeof(int));
	s = malloc(cap);
	if (ids == NULL || s == NULL)
		die("out of memory");
	while (k < n) {
		int id = (int) rng_below(r, (uint64_t) o->hosts);

		for (j = 0; j < k && ids[j] != id; j++)
			;
		if (j == k)
			ids[k++] = id;
	}
	p = s + sprintf(s, "%shostname IN (",
					o->use_tags ? "tags_id IN (SELECT id FROM tags WHERE " : "");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s'host_%d'", i ? "," : "", ids[i]);
	sprintf(p, o->use_tags ? "))" : ")");
	free(ids);
	return s;
}

static void
max_cols(char *buf, size_t len, int m)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < m; i++)
		n += (size_t) snprintf(buf + n, len - n, "%smax(%s) as max_%s", i ? ", " : "",
							   field_names[i], field_names[i]);
}

static const char *const query_names[] = {
	"single-groupby-1-1-1", "single-groupby-1-1-12", "single-groupby-1-8-1",
	"single-groupby-5-1-1", "single-groupby-5-1-12", "single-groupby-5-8-1",
	"cpu-max-all-1", "cpu-max-all-8", "double-groupby-1", "double-groupby-5",
	"double-groupby-all", "high-cpu-all", "high-cpu-1", "lastpoint",
	"groupby-orderby-limit",
};

static uint64_t
name_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);	/* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char) *s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static void
gen_query(const struct options *o)
{
	const char *q = o->query;
	struct rng r;
	char t0[64], t1[64], cols[1024];
	int m, h, t, n;
	char tail[8];

	/* Each query type has its own stream: its parameters do not depend on
	 * which other queries are generated. */
	rng_init(&r, o->seed, DOMAIN_QUERY, name_hash(q));

	if (sscanf(q, "single-groupby-%d-%d-%d%n", &m, &h, &t, &n) == 3 && q[n] == '\0') {
		char *hf;

		if (!((m == 1 || m == 5) && h >= 1 && t >= 1))
			die("unknown query '%s' (see --list-queries)", q);
		hf = host_filter(o, &r, h);
		random_window(o, &r, (int64_t) t * 3600, t0, t1, sizeof(t0));
		max_cols(cols, sizeof(cols), m);
		printf("SELECT time_bucket('60 seconds', time) AS minute,\n"
			   "        %s\n"
			   "        FROM cpu\n"
			   "        WHERE %s AND time >= '%s' AND time < '%s'\n"
			   "        GROUP BY minute ORDER BY minute ASC\n",
			   cols, hf, t0, t1);
		free(hf);
	} else if (sscanf(q, "cpu-max-all-%d%n", &h, &n) == 1 && q[n] == '\0' && h >= 1) {
		char *hf = host_filter(o, &r, h);

		random_window(o, &r, 8 * 3600, t0, t1, sizeof(t0));
		max_cols(cols, sizeof(cols), NFIELDS);
		printf("SELECT time_bucket('3600 seconds', time) AS hour,\n"
			   "        %s\n"
			   "        FROM cpu\n"
			   "        WHERE %s AND time >= '%s' AND time < '%s'\n"
			   "        GROUP BY hour ORDER BY hour\n",
			   cols, hf, t0, t1);
		free(hf);
	} else if (sscanf(q, "double-groupby-%7s", tail) == 1 &&
			   (strcmp(tail, "1") == 0 || strcmp(tail, "5") == 0 || strcmp(tail, "all") == 0) &&
			   strlen(q) == strlen("double-groupby-") + strlen(tail)) {
		char avgs[1024], means[1024];
		size_t a = 0, b = 0;
		int i;
		/* The tags form groups by tags_id and joins tags for the names. */
		const char *group = o->use_tags ? "tags_id" : "hostname";
		const char *host = o->use_tags ? "tags.hostname" : "hostname";
		const char *join = o->use_tags ? "JOIN tags ON cpu_avg.tags_id = tags.id" : "";

		m = strcmp(tail, "all") == 0 ? NFIELDS : atoi(tail);
		random_window(o, &r, 12 * 3600, t0, t1, sizeof(t0));
		for (i = 0; i < m; i++) {
			a += (size_t) snprintf(avgs + a, sizeof(avgs) - a, "%savg(%s) as mean_%s",
								   i ? ", " : "", field_names[i], field_names[i]);
			b += (size_t) snprintf(means + b, sizeof(means) - b, "%smean_%s",
								   i ? ", " : "", field_names[i]);
		}
		printf("\n"
			   "        WITH cpu_avg AS (\n"
			   "          SELECT time_bucket('3600 seconds', time) as hour, %s,\n"
			   "          %s\n"
			   "          FROM cpu\n"
			   "          WHERE time >= '%s' AND time < '%s'\n"
			   "          GROUP BY 1, 2\n"
			   "        )\n"
			   "        SELECT hour, %s, %s\n"
			   "        FROM cpu_avg\n"
			   "        %s\n"
			   "        ORDER BY hour, %s\n",
			   group, avgs, t0, t1, host, means, join, host);
	} else if (strcmp(q, "high-cpu-all") == 0) {
		random_window(o, &r, 12 * 3600, t0, t1, sizeof(t0));
		printf("SELECT * FROM cpu WHERE usage_user > 90.0 and time >= '%s' AND time < '%s' \n", t0, t1);
	} else if (strcmp(q, "high-cpu-1") == 0) {
		char *hf = host_filter(o, &r, 1);

		random_window(o, &r, 12 * 3600, t0, t1, sizeof(t0));
		printf("SELECT * FROM cpu WHERE usage_user > 90.0 and time >= '%s' AND time < '%s' AND %s\n",
			   t0, t1, hf);
		free(hf);
	} else if (strcmp(q, "lastpoint") == 0) {
		if (o->use_tags)
			printf("SELECT DISTINCT ON (t.hostname) * FROM tags t INNER JOIN LATERAL"
				   "(SELECT * FROM cpu c WHERE c.tags_id = t.id ORDER BY time DESC LIMIT 1) AS b"
				   " ON true ORDER BY t.hostname, b.time DESC\n");
		else
			printf("SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC\n");
	} else if (strcmp(q, "groupby-orderby-limit") == 0) {
		random_window(o, &r, 3600, t0, t1, sizeof(t0));
		printf("SELECT time_bucket('60 seconds', time) AS minute, max(usage_user)\n"
			   "        FROM cpu\n"
			   "        WHERE time < '%s'\n"
			   "        GROUP BY minute\n"
			   "        ORDER BY minute DESC\n"
			   "        LIMIT 5\n",
			   t1);
	} else
		die("unknown query '%s' (see --list-queries)", q);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("write error on stdout");
}

/* ---- main ---------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	struct options o = {
		.hosts = 100,
		.start = 1451606400,	/* 2016-01-01T00:00:00Z */
		.duration = 86400,
		.interval = 10,
		.seed = 123,
		.format = FMT_CSV,
		.table = TBL_CPU,
		.part = 1,
		.nparts = 1,
		.batch = 1000,
	};
	int i;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = NULL;
		char optbuf[64];
		const char *eq;

		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(opt, "--use-tags") == 0) {
			o.use_tags = 1;
			continue;
		}
		if (strcmp(opt, "--list-queries") == 0) {
			for (size_t q = 0; q < sizeof(query_names) / sizeof(query_names[0]); q++)
				printf("%s\n", query_names[q]);
			return 0;
		}
		/* --opt=value or --opt value */
		eq = strchr(opt, '=');
		if (strncmp(opt, "--", 2) == 0 && eq != NULL && (size_t) (eq - opt) < sizeof(optbuf)) {
			memcpy(optbuf, opt, (size_t) (eq - opt));
			optbuf[eq - opt] = '\0';
			opt = optbuf;
			val = eq + 1;
		} else if (strncmp(opt, "--", 2) == 0) {
			if (i + 1 >= argc)
				die("option %s needs a value (tsbs-gen --help)", opt);
			val = argv[++i];
		} else
			die("unexpected argument '%s' (tsbs-gen --help)", opt);

		if (strcmp(opt, "--hosts") == 0)
			o.hosts = (int) parse_int(opt, val, 1, 10000000);
		else if (strcmp(opt, "--start") == 0)
			o.start = parse_time(opt, val);
		else if (strcmp(opt, "--duration") == 0)
			o.duration = parse_duration(opt, val);
		else if (strcmp(opt, "--interval") == 0) {
			o.interval = parse_duration(opt, val);
			if (o.interval <= 0)
				die("--interval must be at least 1s");
		} else if (strcmp(opt, "--seed") == 0)
			o.seed = (uint64_t) parse_int(opt, val, 0, INT64_MAX);
		else if (strcmp(opt, "--format") == 0) {
			if (strcmp(val, "csv") == 0)
				o.format = FMT_CSV;
			else if (strcmp(val, "binary") == 0)
				o.format = FMT_BINARY;
			else if (strcmp(val, "sql") == 0)
				o.format = FMT_SQL;
			else
				die("--format must be csv, binary or sql (got '%s')", val);
		} else if (strcmp(opt, "--table") == 0) {
			if (strcmp(val, "cpu") == 0)
				o.table = TBL_CPU;
			else if (strcmp(val, "tags") == 0)
				o.table = TBL_TAGS;
			else
				die("--table must be cpu or tags (got '%s')", val);
		} else if (strcmp(opt, "--part") == 0) {
			int n = 0;

			if (sscanf(val, "%d/%d%n", &o.part, &o.nparts, &n) != 2 || val[n] != '\0' ||
				o.nparts < 1 || o.part < 1 || o.part > o.nparts)
				die("--part must be I/N with 1 <= I <= N (got '%s')", val);
		} else if (strcmp(opt, "--batch") == 0)
			o.batch = (int) parse_int(opt, val, 1, 1000000);
		else if (strcmp(opt, "--sql-table") == 0) {
			const char *c;

			for (c = val; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
					die("--sql-table: '%s' is not a plain lower-case table name", val);
			if (*val == '\0')
				die("--sql-table must not be empty");
			o.sql_table = val;
		} else if (strcmp(opt, "--query") == 0)
			o.query = val;
		else
			die("unknown option '%s' (tsbs-gen --help)", opt);
	}
	if (o.sql_table == NULL)
		o.sql_table = o.table == TBL_CPU ? "cpu" : "tags";
	if (o.nparts > o.hosts)
		die("--part: %d parts of %d hosts", o.nparts, o.hosts);

	if (o.use_tags && o.query == NULL)
		die("--use-tags goes with --query");
	if (o.query != NULL) {
		gen_query(&o);
		return 0;
	}
	if (o.table == TBL_TAGS)
		gen_tags(&o);
	else
		gen_cpu(&o);
	out_flush();
	if (fflush(stdout) != 0 || ferror(stdout))
		die("write error on stdout");
	return 0;
}
