# SPDX-License-Identifier: PostgreSQL
# tools/bench/lib.sh — shell helpers shared by tools/bench/run and
# tools/bench/check-gen (sourced, not run).
#
# Servers run as `postgres` when the caller is root (PostgreSQL refuses to run
# as root), as the caller otherwise.  Clients (psql, pgbench) run as the
# caller and always connect over TCP to 127.0.0.1 with a password from a
# libpq password file, the way the access node of tools/cluster is reached.

# shellcheck shell=bash
# shellcheck disable=SC2034,SC2016  # variables for the scripts that source this; sh -c scripts

# Anything libpq reads from the environment must not steer what we run.
for _v in $(compgen -e); do
	case "$_v" in PG_CONFIG) ;; PG[A-Z]*) unset "$_v" ;; esac
done
unset _v

PG_CONFIG=${PG_CONFIG:-$(command -v pg_config || echo /usr/lib/postgresql/15/bin/pg_config)}
export PG_CONFIG
PG_BINDIR=$("$PG_CONFIG" --bindir) || {
	echo "pg_config ($PG_CONFIG) not found: install postgresql-server-dev-15 or set PG_CONFIG" >&2
	exit 1
}
PSQL=$PG_BINDIR/psql
PGBENCH=$PG_BINDIR/pgbench
PG_CTL=$PG_BINDIR/pg_ctl
INITDB=$PG_BINDIR/initdb

RUNAS=
if [ "$(id -u)" -eq 0 ]; then
	RUNAS=postgres
	id -u "$RUNAS" >/dev/null 2>&1 || {
		echo "running as root needs the user 'postgres' (created by postgresql-15)" >&2
		exit 1
	}
fi

# Runs a command as the servers' owner.
as_owner() {
	if [ -n "$RUNAS" ]; then
		runuser -u "$RUNAS" -- "$@"
	else
		"$@"
	fi
}

# Seconds since the epoch with microseconds (bash 5).
now() { echo "$EPOCHREALTIME"; }

# elapsed START END -> seconds, as a decimal
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# True when every TCP port given is free on 127.0.0.1.
ports_free() {
	perl -MIO::Socket::INET -e '
		for my $p (@ARGV) {
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p,
				Proto => "tcp", Listen => 1, ReuseAddr => 1) or exit 1;
			close $s;
		}
		exit 0' "$@"
}

# The ports the servers may use: 30000-34999, or HYPERDIST_BENCH_PORTS
# (LOW-HIGH, at least 200 ports), e.g. to keep several runs on one machine
# apart.
PORT_RANGE=${HYPERDIST_BENCH_PORTS:-30000-34999}
PORT_LOW=${PORT_RANGE%-*}
PORT_HIGH=${PORT_RANGE#*-}
case "$PORT_LOW:$PORT_HIGH" in *[!0-9:]* | :* | *:) PORT_LOW=0 PORT_HIGH=0 ;; esac
if [ "$PORT_LOW" -lt 1024 ] || [ "$PORT_HIGH" -gt 65535 ] || [ $((PORT_HIGH - PORT_LOW)) -lt 199 ]; then
	echo "HYPERDIST_BENCH_PORTS must be LOW-HIGH, 1024 <= LOW, HIGH <= 65535, at least 200 ports (got '$PORT_RANGE')" >&2
	exit 1
fi

# pick_base N: sets PICKED to a base port in PORT_RANGE whose cluster ports
# (BASE..BASE+N and BASE+101..BASE+100+N, the layout of tools/cluster) are all
# free and inside it; N=0 asks for one free port.  Not in a subshell: RANDOM
# must advance.
pick_base() {
	local n=$1 base p ports
	PICKED=
	for _ in $(seq 1 100); do
		base=$((PORT_LOW + (RANDOM % ((PORT_HIGH - PORT_LOW - 199) / 10 + 1)) * 10))
		ports=()
		for ((p = base; p <= base + n; p++)); do ports+=("$p"); done
		for ((p = base + 101; p <= base + 100 + n; p++)); do ports+=("$p"); done
		if ports_free "${ports[@]}"; then
			PICKED=$base
			return 0
		fi
	done
	return 1
}

# latency_median LOG WANT: sets MEDIAN to the median, in ms, of the
# latencies in pgbench's per-transaction log LOG.* (one client), without the
# session's first transaction (the log's first line; pgbench numbers
# transactions from 1).  A serialization failure or deadlock does not stop
# pgbench (nor change its exit status): that transaction's line says
# "failed" where the latency goes.  Then, or when the log does not hold WANT
# timed transactions, returns 1 with the reason in LATENCY_ERR.
latency_median() {
	local log=$1 want=$2 nok nbad
	MEDIAN='' LATENCY_ERR=''
	read -r nok nbad < <(awk 'FNR > 1 && NF { if ($3 ~ /^[0-9]+$/) ok++; else bad++ }
		END { print ok + 0, bad + 0 }' "$log".* 2>/dev/null)
	if [ "${nbad:-0}" -gt 0 ]; then
		LATENCY_ERR="$nbad of $want timed runs failed"
	elif [ "${nok:-0}" != "$want" ]; then
		LATENCY_ERR="pgbench's latency log holds ${nok:-0} of $want timed runs"
	fi
	[ -z "$LATENCY_ERR" ] || return 1
	MEDIAN=$(awk 'FNR > 1 && NF { print $3 / 1000 }' "$log".* | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
}

# ---- a plain PostgreSQL server ------------------------------------------------
#
# single_init DIR PORT: initdb DIR/data with the settings tools/cluster gives
# its data nodes (same initdb options, same postgresql.conf additions), a
# random password for `postgres`, and DIR/pgpass for the clients.
single_init() {
	local dir=$1 port=$2 pw
	mkdir -p -- "$dir" || return 1
	chmod 0700 -- "$dir"
	if [ -n "$RUNAS" ]; then
		chown "$RUNAS:$(id -gn "$RUNAS")" -- "$dir" || return 1
	fi
	pw=$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')
	as_owner sh -c 'umask 077; cat >"$1"' sh "$dir/password" <<<"$pw" || return 1
	as_owner "$INITDB" -D "$dir/data" -U postgres --pwfile="$dir/password" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	as_owner sh -c 'cat >>"$1"' sh "$dir/data/postgresql.conf" <<EOF

# ---- tools/bench (single server; the settings tools/cluster gives a data node) ----
cluster_name = 'bench-single'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
log_line_prefix = '%m [%p] %q%u@%d '
max_connections = 100
max_prepared_transactions = 100
random_page_cost = 1.1
EOF
	as_owner sh -c 'umask 077; cat >"$1"' sh "$dir/data/pg_hba.conf" <<'EOF'
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
	# The clients' password file belongs to the caller.
	(umask 077 && printf '127.0.0.1:*:*:postgres:%s\n' "$pw" >"$dir.pgpass") || return 1
}

single_start() {
	local dir=$1
	as_owner "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null 2>&1 || {
		tail -n 20 "$dir/server.log" >&2 2>/dev/null
		return 1
	}
}

single_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	as_owner "$PG_CTL" -D "$dir/data" -m fast -w -t 120 stop >/dev/null 2>&1
}

# The SQL of the compatibility time_bucket created on servers that have none
# (plain PostgreSQL): TimescaleDB's time_bucket(interval, timestamptz) for
# buckets that divide a day (origin 2000-01-03, the default), as an inlinable
# SQL function over the built-in date_bin.
TIME_BUCKET_SQL="CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS \$\$ SELECT date_bin(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00') \$\$;"

# The cpu table (TSBS in-table-partition-tag layout) and the indexes the TSBS
# TimescaleDB load script creates (partition index on hostname, time index,
# field-index-count=1).
CPU_TABLE_SQL="CREATE TABLE cpu (time timestamptz, tags_id integer, hostname TEXT,usage_user DOUBLE PRECISION,usage_system DOUBLE PRECISION,usage_idle DOUBLE PRECISION,usage_nice DOUBLE PRECISION,usage_iowait DOUBLE PRECISION,usage_irq DOUBLE PRECISION,usage_softirq DOUBLE PRECISION,usage_steal DOUBLE PRECISION,usage_guest DOUBLE PRECISION,usage_guest_nice DOUBLE PRECISION);"
CPU_INDEX_SQL='CREATE INDEX ON cpu(hostname, "time" DESC);
CREATE INDEX ON cpu("time" DESC);
CREATE INDEX ON cpu (usage_user, time DESC);'
TAGS_TABLE_SQL="CREATE TABLE tags(id SERIAL PRIMARY KEY, hostname TEXT, region TEXT, datacenter TEXT, rack TEXT, os TEXT, arch TEXT, team TEXT, service TEXT, service_version TEXT, service_environment TEXT);
CREATE UNIQUE INDEX uniq1 ON tags(hostname,region,datacenter,rack,os,arch,team,service,service_version,service_environment);
CREATE INDEX ON tags(hostname);"
