# vtdirect: `make demo` starts a local cluster, `make test` runs every test. Both install what
# they need (MariaDB; for make test also the client drivers of the driver matrix; for make bench
# sysbench) when run as root on Debian/Ubuntu.
GO ?= go
export GOTOOLCHAIN := local
BIN := bin/vtdirect
# Executions, not a duration: Go 1.26's fuzz coordinator can fail a target with a spurious
# "context deadline exceeded" when a duration ends on a loaded machine (golang/go#75804, fixed
# in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x

.PHONY: all build deps test unit fuzz fuzz-long demo down status bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vtdirect

deps:
	./scripts/deps.sh
	$(GO) mod download

test: deps build consul
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...
	$(MAKE) interop
	$(MAKE) fuzz

# A Consul binary for the topo tests: scripts/consul.sh takes VTDIRECT_CONSUL_BIN, else a consul on
# PATH, else builds Consul v1.20.6 once into ~/.cache/vtdirect (a few minutes); the tests find it
# through VTDIRECT_CONSUL_BIN.
.PHONY: consul
consul:
	@./scripts/consul.sh >/dev/null
test: export VTDIRECT_CONSUL_BIN = $(shell ./scripts/consul.sh)
# The driver matrix (package drivers) needs Connector/J, Python, PHP, Perl and node drivers:
# deps installs them for make test only (the demo does not need them).
test: export VTDIRECT_NEED_DRIVERS = 1

# Tests with Vitess's own topo code and VStream client as peers (a separate module: interop/).
.PHONY: interop
interop: consul
	cd interop && VTDIRECT_CONSUL_BIN="$$(../scripts/consul.sh)" $(GO) test -count=1 -timeout 20m ./...

# Long runs of every fuzz target, two million executions each (make test keeps the short runs).
fuzz-long:
	$(MAKE) fuzz FUZZTIME=2000000x

# Short runs of every fuzz target (one -fuzz per go test invocation).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

demo: deps build
	$(BIN) local up

down: build
	$(BIN) local down

status: build
	$(BIN) local status

bench: build
	VTDIRECT_NEED_SYSBENCH=1 ./scripts/deps.sh
	$(GO) run ./bench --vtdirect $(BIN) $(BENCH_FLAGS)
	$(MAKE) bench-sharding
	$(MAKE) bench-failover

# Sharded keyspaces: a routed point select's CPU and a 2-shard query's latency beside the
# unsharded path's.
.PHONY: bench-sharding
bench-sharding: build
	$(GO) run ./bench sharding --vtdirect $(BIN) $(BENCH_SHARDING_FLAGS)

# Failover: kill -9 of the primary to the first write through the gateway, planned reparent pauses.
.PHONY: bench-failover
bench-failover: build
	$(GO) run ./bench failover --vtdirect $(BIN) $(BENCH_FAILOVER_FLAGS)

clean:
	rm -rf bin
