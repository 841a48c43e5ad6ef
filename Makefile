# SPDX-License-Identifier: PostgreSQL
# hyperdist — top-level build.
#
#   make            build the extension (access_node/), its TimescaleDB 2.13
#                   compatibility extension (access_node/compat/) and
#                   hyperdist-agent (data_node/)
#   make install    install them (the agent into PostgreSQL's bindir)
#   make check      install deps, build, install, run every test suite
#   make demo       install deps, build, install, start a local cluster, run the demo
#   make fuzz       build the libFuzzer targets (tools/fuzz/) and run each for
#                   FUZZ_RUNS executions (default 10000000) or FUZZ_TIME seconds
#   make check-sanitize
#                   build the agent, common/ and the extension with
#                   sanitizers, install them, run every test suite under
#                   them, then build and install the normal build
#   make indent     lay out every C file as pgindent would (tools/indent)
#
# Generated protobuf-c sources live in proto/ and are never committed.

PG_CONFIG ?= $(shell command -v pg_config 2>/dev/null || echo /usr/lib/postgresql/15/bin/pg_config)
export PG_CONFIG

SUBDIRS = common access_node access_node/compat data_node

.PHONY: all install clean check demo deps unit-test installcheck cluster-test indent \
	fuzz check-sanitize

all:
	$(MAKE) -C common
	$(MAKE) -C access_node
	$(MAKE) -C access_node/compat
	$(MAKE) -C data_node

install: all
	$(MAKE) -C access_node install
	$(MAKE) -C access_node/compat install
	$(MAKE) -C data_node install

clean:
	for d in $(SUBDIRS); do $(MAKE) -C $$d clean; done
	rm -f proto/*.pb-c.c proto/*.pb-c.h

deps:
	tools/install-deps

# Everything a fresh machine needs, then every test.  Prints one summary line.
check: deps
	$(MAKE) all
	$(MAKE) install
	regress/run-all

demo: deps
	$(MAKE) all
	$(MAKE) install
	tools/demo

fuzz:
	$(MAKE) -C tools/fuzz run

# Sanitizer builds replace the objects of the normal one (CFLAGS come through
# the environment so that the Makefiles' own flags are kept; COPT is PGXS's
# way of adding to them), so the target starts and ends with a clean tree.
#
# The agent, common/ and the test programs get AddressSanitizer (with leak
# detection) and UndefinedBehaviorSanitizer.  The extension gets
# UndefinedBehaviorSanitizer only, with a copy of common/ built the same
# way: the system's PostgreSQL is not instrumented, and preloading the ASan
# runtime into it hangs it at start on Debian 12 (`LD_PRELOAD=libasan.so.8
# postgres -V` waits forever in main's bindtextdomain() for glibc's gettext
# lock, left held after the library constructors that call bindtextdomain,
# libgpg-error's and gnutls's, ran with the runtime preloaded).
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer
SANITIZE_EXTENSION = -fsanitize=undefined -fno-omit-frame-pointer
# The agent's allowed peak memory in its smoke test, and while it forwards
# a 100 MB row: ASan's quarantine and shadow memory come on top of the
# normal 200 and 280 MB.
SANITIZE_MAX_RSS_KB = 600000
SANITIZE_MAX_BIG_RSS_KB = 900000

check-sanitize:
	$(MAKE) clean
	CFLAGS="-O1 -g $(SANITIZE_EXTENSION)" $(MAKE) -C common
	$(MAKE) -C access_node COPT="$(SANITIZE_EXTENSION)"
	$(MAKE) -C access_node install COPT="$(SANITIZE_EXTENSION)"
	$(MAKE) -C common clean
	CFLAGS="-O1 -g $(SANITIZE)" $(MAKE) -C common all test/test_common
	CFLAGS="-O1 -g $(SANITIZE)" $(MAKE) -C data_node all test-client install
	HYPERDIST_SANITIZE=1 SMOKE_MAX_RSS_KB=$(SANITIZE_MAX_RSS_KB) \
		SMOKE_MAX_BIG_RSS_KB=$(SANITIZE_MAX_BIG_RSS_KB) regress/run-all; status=$$?; \
	$(MAKE) clean && $(MAKE) install || status=1; \
	exit $$status

# `tools/indent --typedefs` after `make` refreshes tools/typedefs.list.
indent:
	tools/indent
