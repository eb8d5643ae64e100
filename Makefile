# goodplan: the two front-door commands are `make run` and `make test`.
GO ?= go
BIN := bin/goodplan
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build run test bench gobench vet fuzz lighthouse cluster cluster-stop chaos

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/goodplan

# Starts the service against the local PostgreSQL (database created and
# migrated if missing); on first start it creates a demo account and prints
# an API key with a curl command to try.
run: build
	./$(BIN) serve --demo

# The cluster shape on this machine (README, Past one machine): three
# nats-server JetStream nodes, three goodplan replicas on one PostgreSQL
# (database goodplan_cluster), a round-robin proxy on CLUSTER_PORT. Pids in
# data/cluster/pids; cluster-stop ends exactly those.
CLUSTER_PORT ?= 8080
CLUSTER_BIN := bin/goodplan-cluster
cluster: build
	$(GO) build -o $(CLUSTER_BIN) ./bench/cluster
	./$(CLUSTER_BIN) up -port $(CLUSTER_PORT)

cluster-stop:
	$(GO) build -o $(CLUSTER_BIN) ./bench/cluster
	./$(CLUSTER_BIN) stop

# The chaos soak (bench/chaos) on its own cluster: CHAOS_FLAGS, e.g.
# CHAOS_FLAGS='-rounds 1000 -seed 7 -faults kill-replica,kill-nats,pause'.
CHAOS_FLAGS ?= -rounds 20
chaos:
	$(GO) run ./bench/chaos $(CHAOS_FLAGS)

vet:
	$(GO) vet ./...

# Lighthouse (pinned in tools/lighthouse/package-lock.json) for the
# accessibility tests of cmd/goodplan (lighthouse_test.go), installed with
# the machine's npm into tools/lighthouse/node_modules. It drives Debian's
# Chromium (/usr/bin/chromium: apt-get install -y chromium).
# `make test` installs it on first use (and again when the lockfile changes).
LIGHTHOUSE := tools/lighthouse/node_modules/.bin/lighthouse

lighthouse:
	npm ci --prefix tools/lighthouse --no-audit --no-fund

$(LIGHTHOUSE): tools/lighthouse/package-lock.json
	npm ci --prefix tools/lighthouse --no-audit --no-fund
	touch $@

# Every test, with the race detector, against the machine's real PostgreSQL
# (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
test: vet $(LIGHTHOUSE)
	$(GO) test -race -count=1 -timeout 15m ./...

# The benchmark harness (bench/README.md): baselines, HTTP, reads, pipeline,
# replay/verify over 1M events, delivery, cost; prints a table and writes
# bench/results/latest.{json,md}. About 5 minutes.
bench:
	$(GO) run ./bench

# The Go micro-benchmarks of single components.
gobench:
	$(GO) test -run '^$$' -bench . -benchtime 3s -count 1 ./eventstore/ ./api/
	$(GO) test -run '^$$' -bench 'PipelineLatency|SMTPSend' -benchtime 3000x -count 1 ./workers/

# Every Go fuzz target (each func FuzzXxx found by go test -list in the
# packages whose tests declare one), one after another, for FUZZTIME each.
# A new input that widens coverage is minimised for at most
# FUZZMINIMIZETIME (the targets that use PostgreSQL are slow to minimise).
# FUZZFLAGS adds go test flags, e.g. FUZZFLAGS=-parallel=1. Every target
# runs even when one fails; the failing ones are listed at the end, and
# each failing input is in <package>/testdata/fuzz/<FuzzXxx>/ (README,
# Fuzzing).
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 100x
FUZZFLAGS ?=
fuzz:
	@failed=""; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for target in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
			echo "== $$dir $$target for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) \
				$(FUZZFLAGS) $$dir || failed="$$failed $$dir:$$target"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failing targets:$$failed"; exit 1; fi; \
	echo "fuzz: every target passed"
