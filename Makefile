# goodplan: the two front-door commands are `make run` and `make test`.
GO ?= go
BIN := bin/goodplan
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build run test bench gobench vet

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/goodplan

# Starts the service against the local PostgreSQL (database created and
# migrated if missing); on first start it creates a demo account and prints
# an API key with a curl command to try.
run: build
	./$(BIN) serve --demo

vet:
	$(GO) vet ./...

# Every test, with the race detector, against the machine's real PostgreSQL
# (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
test: vet
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
