# hyperdist — top-level build.
#
#   make            build the extension (access_node/) and hyperdist-agent (data_node/)
#   make install    install both (the agent into PostgreSQL's bindir)
#   make check      install deps, build, install, run every test suite
#   make demo       install deps, build, install, start a local cluster, run the demo
#
# Generated protobuf-c sources live in proto/ and are never committed.

PG_CONFIG ?= $(shell command -v pg_config 2>/dev/null || echo /usr/lib/postgresql/15/bin/pg_config)
export PG_CONFIG

SUBDIRS = common access_node data_node

.PHONY: all install clean check demo deps unit-test installcheck cluster-test

all:
	$(MAKE) -C common
	$(MAKE) -C access_node
	$(MAKE) -C data_node

install: all
	$(MAKE) -C access_node install
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
