# sluice: build, test, lint and demo.
#
#   make build     bin/sluice (CLI), bin/sluice-worker (worker), bin/sluice-demo (demo program)
#   make test      unit + integration tests (real MariaDB servers, embedded Temporal)
#   make demo      build, then run the demo in the foreground (Ctrl-C stops everything it started)
#   make lint      gofmt, go vet, staticcheck (when it can be built here)
#   make mariadb   install mariadb-server with apt when it is missing (root only)
#   make bench     go test benchmarks (copier write paths, ...); make bench-full runs the full-copy comparison
#   make bench-full  full-copy benchmark: sluice vs mydumper+myloader vs mariadb-dump (minutes; bench/README.md)
#   make bench-incremental  incremental benchmark: sluice's applier vs a native MariaDB replica, lag, RSS (minutes; bench/README.md)
#   make bench-verify  verification benchmark: sluice verify vs pt-table-checksum vs CHECKSUM TABLE (minutes; bench/README.md)
#   make bench-deps  install mydumper, sysbench and percona-toolkit with apt when missing (root only)
#   make compose-check  validate docker-compose.yml with the installed Docker Compose
#   make clean     remove bin/ and coverage files (keeps .sluice/, the dev server's history)
#
# Variables worth overriding: TEST_P, TEST_TIMEOUT, TESTFLAGS, PKGS, SKIP_MARIADB=1, DEMO_ARGS,
# BENCH_FULL_ARGS (e.g. BENCH_FULL_ARGS='-rows 50000 -keep'), BENCH_INC_ARGS (e.g. BENCH_INC_ARGS='-table-size 10000'),
# BENCH_VERIFY_ARGS (e.g. BENCH_VERIFY_ARGS='-rows 50000 -repeat 3').

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO           ?= go
BIN          ?= bin
PKGS         ?= ./...
# Integration tests start two MariaDB servers and a Temporal server per package: two
# packages at a time is what a 2-core machine sustains without timeouts.
TEST_P       ?= 2
TEST_TIMEOUT ?= 40m
TESTFLAGS    ?=
DEMO_ARGS    ?=
BENCH_FULL_ARGS ?=
BENCH_INC_ARGS ?=
BENCH_VERIFY_ARGS ?=
# Where Debian puts the server. testenv also finds mariadbd and mariadb-install-db on PATH.
MARIADBD     ?= /usr/sbin/mariadbd
# Tests pointed at existing servers (SLUICE_TEST_SOURCE/SLUICE_TEST_DESTINATION, see
# testenv/README.md) need no local MariaDB: the install check is skipped. SKIP_MARIADB=1 forces that.
SKIP_MARIADB ?= $(if $(SLUICE_TEST_SOURCE)$(SLUICE_TEST_DESTINATION),1,)
# staticcheck 2026.2.2; its go.mod asks for go 1.26.0, so it builds with our Go 1.26.8.
# It is installed into bin/tools, never added to go.mod.
STATICCHECK_VERSION ?= v0.8.2
TOOLS_BIN    := $(abspath $(BIN))/tools

# Recursive (=) so git only runs for targets that link a binary. A binary without a
# matching `var version` ignores -X.
VERSION = $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS = -X main.version=$(VERSION)

.PHONY: all help build test demo lint bench bench-full bench-incremental bench-verify bench-deps clean mariadb compose-check

all: build

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sluice ./starter
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sluice-worker ./worker
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sluice-demo ./demo

# -count=1: integration tests depend on live servers, a cached pass proves nothing.
test: mariadb
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -p $(TEST_P) $(TESTFLAGS) $(PKGS)

demo: mariadb build
	$(BIN)/sluice-demo $(DEMO_ARGS)

# Benchmarks arrive with the full and incremental phases; this already runs any that exist.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Not run by CI: it takes minutes and its numbers only mean something on a quiet machine.
# The program starts its own MariaDB pair and Temporal dev server (bench/README.md).
bench-full: mariadb bench-deps build
	$(GO) build -o $(BIN)/fullbench ./bench/fullbench
	$(BIN)/fullbench -bin $(BIN) $(BENCH_FULL_ARGS)

# Not run by CI either: the same data on a MariaDB pair, compared by sluice verify (Temporal
# dev server and a worker it starts), pt-table-checksum on each server and CHECKSUM TABLE (bench/README.md).
bench-verify: mariadb bench-deps build
	$(GO) build -o $(BIN)/verifybench ./bench/verifybench
	$(BIN)/verifybench -bin $(BIN) $(BENCH_VERIFY_ARGS)

# Not run by CI either: three MariaDB servers, sysbench writing for a minute, sluice's
# applier in process (no bin/sluice needed). The program starts everything it uses (bench/README.md).
bench-incremental: mariadb bench-deps
	$(GO) build -o $(BIN)/incbench ./bench/incbench
	$(BIN)/incbench $(BENCH_INC_ARGS)

# mydumper/myloader are the baseline bench-full measures against, sysbench writes the
# load of bench-incremental, pt-table-checksum (percona-toolkit) is bench-verify's baseline
# (Debian's packages). Only root installs; anyone else is told what to run.
bench-deps:
	@missing=""; \
	 { command -v mydumper && command -v myloader; } >/dev/null 2>&1 || missing="$$missing mydumper"; \
	 command -v sysbench >/dev/null 2>&1 || missing="$$missing sysbench"; \
	 command -v pt-table-checksum >/dev/null 2>&1 || missing="$$missing percona-toolkit"; \
	 if [ -z "$$missing" ]; then \
		echo "bench-deps: $$(mydumper --version); $$(sysbench --version); $$(pt-table-checksum --version)"; \
	 elif [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "bench-deps: missing:$$missing; installing with apt-get"; \
		apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
		echo "bench-deps: $$(mydumper --version); $$(sysbench --version); $$(pt-table-checksum --version)"; \
	 else \
		echo "bench-deps: missing:$$missing (bench-full compares sluice with mydumper/myloader; bench-incremental writes with sysbench; bench-verify compares with pt-table-checksum)." >&2; \
		echo "  Debian/Ubuntu: sudo apt-get install -y$$missing   (or: sudo make bench-deps)" >&2; \
		echo "  Without mydumper: make build && go run ./bench/fullbench -only sluice,mariadb-dump" >&2; \
		echo "  Without percona-toolkit: make build && go run ./bench/verifybench -only sluice,checksum-table" >&2; \
		exit 1; \
	 fi

lint:
	@echo "gofmt -l"
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './$(BIN)/*'); \
	 bad=$$(if [ -n "$$files" ]; then gofmt -l $$files; fi); \
	 if [ -n "$$bad" ]; then echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$bad"; exit 1; fi
	$(GO) vet $(PKGS)
	@# Installing separately from running tells "cannot build here" (skip) from "found problems" (fail).
	@if GOBIN='$(TOOLS_BIN)' GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); then \
		echo "staticcheck $(STATICCHECK_VERSION) $(PKGS)"; \
		'$(TOOLS_BIN)/staticcheck' $(PKGS); \
	 else \
		echo "staticcheck $(STATICCHECK_VERSION) cannot be built here (offline, or Go too old): skipped"; \
	 fi

# Installs the MariaDB server binaries the tests and the demo start (they never use the
# system service). Only root installs; anyone else is told what to run.
mariadb:
	@mariadbd=$$(if [ -x '$(MARIADBD)' ]; then echo '$(MARIADBD)'; else command -v mariadbd || true; fi); \
	 installdb=$$(command -v mariadb-install-db || command -v mysql_install_db || true); \
	 if [ -n "$(SKIP_MARIADB)" ]; then \
		echo "mariadb: install check skipped (existing servers or SKIP_MARIADB)"; \
	 elif [ -n "$$mariadbd" ] && [ -n "$$installdb" ]; then \
		echo "mariadb: $$("$$mariadbd" --version)"; \
	 elif [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "mariadb: mariadbd or mariadb-install-db is missing; installing mariadb-server with apt-get"; \
		apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server mariadb-client; \
		echo "mariadb: $$('$(MARIADBD)' --version)"; \
	 else \
		echo "mariadb: mariadbd or mariadb-install-db is missing (looked at $(MARIADBD) and PATH)." >&2; \
		echo "  Debian/Ubuntu: sudo apt-get install -y mariadb-server mariadb-client   (or: sudo make mariadb)" >&2; \
		echo "  Elsewhere: install MariaDB 10.5+ and put mariadbd and mariadb-install-db on PATH," >&2; \
		echo "  or point the tests at running servers (SLUICE_TEST_SOURCE/SLUICE_TEST_DESTINATION," >&2; \
		echo "  see testenv/README.md) and pass SKIP_MARIADB=1." >&2; \
		exit 1; \
	 fi

# Validates docker-compose.yml with whichever Compose is installed (none is needed to build or test).
# `docker compose config` where the plugin exists; otherwise the same loader
# (compose-spec/compose-go) from tools/composecheck, its own module.
compose-check:
	@if docker compose version >/dev/null 2>&1; then \
		docker compose config --quiet && echo "docker compose config: ok"; \
	else \
		cd tools/composecheck && $(GO) run . ../../docker-compose.yml; \
	fi

# Leaves .sluice/ alone: it holds the dev server's workflow history.
clean:
	rm -rf $(BIN) coverage.out coverage.html *.coverprofile
