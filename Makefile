# imis-gateway: two commands on a fresh Debian/Ubuntu machine:
#   make demo    bring up PostgreSQL and Redis (project-local), build, seed demo data, serve
#   make test    bring up the same services (and Chromium for the browser tests) if needed, run
#                go test -race ./..., then the Redis tests again on a real Redis Cluster and a
#                Sentinel group, and their failover test
# The services are private instances (127.0.0.1:55432 and :56379, data in .local/), see
# scripts/services.sh --help. A system PostgreSQL or Redis is never used or touched.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# A Go installed from the go.dev tarball but not yet on PATH still works.
ifeq ($(shell command -v go 2>/dev/null),)
ifneq ($(wildcard /usr/local/go/bin/go),)
export PATH := /usr/local/go/bin:$(PATH)
endif
endif

SERVICES    := scripts/services.sh
# Loads DATABASE_URL, REDIS_URL, IMIS_TEST_PG_URL and IMIS_TEST_REDIS_URL into the recipe's shell.
# (Assigning first makes a failure of 'services.sh env' stop the recipe; 'eval "$(...)"' would not.)
LOAD_ENV    := services_env=$$($(SERVICES) env); eval "$$services_env"

LISTEN_ADDR ?= :8080
# The demo serves every aggregator's wire format, so that `sim --provider ...` works at once.
USSD_PROVIDERS ?= africastalking,hubtel,nalo,arkesel,infobip,beem
PKGS        ?= ./...
# REDIS_HA=0 leaves out the second part of make test (make test-redis-ha), as does a PKGS of a few packages.
REDIS_HA    ?= 1
# The packages that talk to Redis, run again on each highly available topology.
REDIS_PKGS  ?= ./sessions/... ./gateway/
TESTFLAGS   ?=
BENCH       ?= .
FUZZTIME    ?= 30s
CHAOS_DURATION ?= 3m
CHAOS_ARGS  ?=
LOAD_PORT   ?= 18080
# The demo's numbers: four membership checks, and claims from the head's phone of 101203401;
# load-openimis adds numbers of openIMIS's own demo data, load-scale looks up ten million numbers.
LOAD_DEMO   := -chfids 101203401,705338812,48213,120507718 -claims 101203401@+255712111222
LOAD_ARGS   ?= -url http://127.0.0.1:$(LOAD_PORT) $(LOAD_DEMO)
LOAD_OPENIMIS_ARGS ?= -url http://127.0.0.1:$(LOAD_PORT) -chfids 101203401,705338812,48213,070707070,070707081,100000001,101000002 -claims 101203401@+255712111222
LOAD_SCALE_ARGS ?= -url http://127.0.0.1:$(LOAD_PORT) -chfids 1000000000-1009999996 -claims 101203401@+255712111222

.PHONY: help services services-down services-status build demo test test-redis-ha bench load load-openimis load-scale chaos lint fuzz clean

help: ## list the targets (default)
	@echo 'Usage: make <target> [VAR=value]'
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo 'Variables: LISTEN_ADDR (demo, default :8080), PKGS, TESTFLAGS and REDIS_HA (test), BENCH (bench),'
	@echo '           FUZZTIME (fuzz, default 30s), LOAD_PORT and LOAD_ARGS (load),'
	@echo '           CHAOS_DURATION (chaos, default 3m) and CHAOS_ARGS (bin/imis-chaos -h lists them),'
	@echo '           LOAD_OPENIMIS_ARGS (load-openimis), LOAD_SCALE_ARGS, LOAD_SCALE_FAMILIES, LOAD_REBUILD (load-scale),'
	@echo '           IMIS_PG_PORT, IMIS_REDIS_PORT, IMIS_STATE_DIR (services; see scripts/services.sh --help)'

services: ## install if missing and start project-local PostgreSQL and Redis
	@$(SERVICES) up

services-down: ## stop the project-local PostgreSQL and Redis (data is kept)
	@$(SERVICES) down

services-status: ## show the state of the project-local services
	@$(SERVICES) status

build: ## build bin/imis-gateway (and bin/imis-loadgen when present)
	@$(SERVICES) toolchain
	go build -o bin/imis-gateway ./cmd/imis-gateway
	@if [ -d cmd/imis-loadgen ]; then echo 'go build -o bin/imis-loadgen ./cmd/imis-loadgen'; go build -o bin/imis-loadgen ./cmd/imis-loadgen; fi

demo: services build ## serve the gateway with demo data on LISTEN_ADDR (default :8080)
	@$(LOAD_ENV); \
	set -x; \
	bin/imis-gateway migrate --dev-schema; \
	bin/imis-gateway seed-demo --reset; \
	LISTEN_ADDR='$(LISTEN_ADDR)' USSD_PROVIDERS='$(USSD_PROVIDERS)' \
	NALO_SERVICE_CODE='*384*1234#' ARKESEL_SERVICE_CODE='*384*1234#' BEEM_SERVICE_CODE='*384*1234#' \
	exec bin/imis-gateway serve --dev

test: ## run the whole suite: go test -race ./... on the project services, then make test-redis-ha
	@start=$$(date +%s); \
	$(SERVICES) up; \
	$(SERVICES) toolchain --race; \
	$(SERVICES) browser; \
	$(LOAD_ENV); \
	echo "==> go test -race -count=1 $(TESTFLAGS) $(PKGS)"; \
	rc=0; go test -race -count=1 $(TESTFLAGS) $(PKGS) || rc=$$?; \
	if [ "$$rc" = 0 ] && [ '$(REDIS_HA)' != 0 ] && [ '$(PKGS)' = './...' ]; then $(MAKE) test-redis-ha || rc=$$?; fi; \
	echo "==> make test: exit $$rc after $$(( $$(date +%s) - start ))s"; \
	exit $$rc

test-redis-ha: ## the Redis tests on a real Redis Cluster and a Sentinel group, then kill their masters
	@start=$$(date +%s); \
	$(SERVICES) up >/dev/null; \
	scripts/redis-ha.sh up; \
	$(LOAD_ENV); \
	ha_env=$$(scripts/redis-ha.sh env); eval "$$ha_env"; \
	rc=0; \
	for url in "$$IMIS_TEST_REDIS_CLUSTER_URL" "$$IMIS_TEST_REDIS_SENTINEL_URL"; do \
		echo "==> IMIS_TEST_REDIS_URL=$$url go test -count=1 $(TESTFLAGS) $(REDIS_PKGS)"; \
		IMIS_TEST_REDIS_URL=$$url go test -count=1 $(TESTFLAGS) $(REDIS_PKGS) || rc=$$?; \
	done; \
	echo "==> IMIS_TEST_REDIS_FAILOVER=1 go test -count=1 -run TestFailover -v ./sessions/"; \
	IMIS_TEST_REDIS_FAILOVER=1 go test -count=1 -run TestFailover -v ./sessions/ | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS)' || rc=$$?; \
	echo "==> make test-redis-ha: exit $$rc after $$(( $$(date +%s) - start ))s"; \
	exit $$rc

bench: services ## run the benchmarks (BENCH=regexp) against the project services
	@$(SERVICES) toolchain
	@$(LOAD_ENV); set -x; go test -run='^$$' -bench='$(BENCH)' -benchmem $(PKGS)

load: services build ## load run (ceiling first) on a fresh demo database; see BENCHMARKS.md
	@LOAD_PORT='$(LOAD_PORT)' LOAD_ARGS='$(LOAD_ARGS)' scripts/load.sh

load-openimis: services build ## load run on openIMIS's own dump, restored without statistics
	@LOAD_DATABASE=openimis LOAD_PORT='$(LOAD_PORT)' LOAD_ARGS='$(LOAD_OPENIMIS_ARGS)' scripts/load.sh

load-scale: services build ## load run on ten million insurees (the database is built once, in minutes)
	@LOAD_DATABASE=scale LOAD_PORT='$(LOAD_PORT)' LOAD_ARGS='$(LOAD_SCALE_ARGS)' scripts/load.sh

chaos: build ## chaos run: two gateways under traffic while Redis, PostgreSQL and a gateway are killed; see RELIABILITY.md
	go build -o bin/imis-chaos ./cmd/imis-chaos
	@bin/imis-chaos -duration '$(CHAOS_DURATION)' $(CHAOS_ARGS)

lint: ## gofmt check and go vet
	@$(SERVICES) toolchain
	@rc=0; \
	unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path './.local/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo '==> gofmt -w needed on:'; echo "$$unformatted"; rc=1; fi; \
	echo '==> go vet $(PKGS)'; go vet $(PKGS) || rc=1; \
	exit $$rc

fuzz: services ## run every Fuzz* function for FUZZTIME (default 30s) each
	@$(SERVICES) toolchain
	@$(LOAD_ENV); FUZZTIME='$(FUZZTIME)' scripts/fuzz.sh

clean: ## remove bin/ (the services and their data stay; see scripts/services.sh destroy)
	rm -rf bin
