# pcmk-trace: record, decode and replay Pacemaker's libqb IPC traffic.
GO        ?= go
CLANG     ?= clang-14
STRIP     ?= llvm-strip
BPF2GO_CFLAGS := -O2 -g -Wall -Werror
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/pcmk-trace
FUZZTIME  ?= 10s
# Systems make lint builds and vets for besides the host's (GOOS/GOARCH).
CROSS     ?= darwin/amd64 darwin/arm64 freebsd/amd64 linux/arm64 windows/amd64
# Releases of the version matrix: bookworm (Pacemaker 2.1.5, the host's packages), trixie
# (3.0.0) and sid (3.0.x) run from debootstrapped roots; make test RELEASES=bookworm is quicker.
RELEASES  ?= bookworm trixie sid
export PCMK_TRACE_RELEASES = $(RELEASES)
# The Jaeger the export tests run (tools/jaeger/go.mod pins it; jaegerVersion in the test too).
JAEGER    := v1.75.0

.DEFAULT_GOAL := build
.PHONY: build generate check-generate deps test test-unit test-short fuzz demo bench lint format \
	cluster-up cluster-down clean help jaeger

## build: build bin/pcmk-trace (no clang needed, the BPF object is committed)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pcmk-trace

## generate: rebuild the BPF object and its Go bindings from bpf/*.c (clang, libbpf-dev)
generate:
	cd capture && BPF2GO_CC=$(CLANG) BPF2GO_STRIP=$(STRIP) BPF2GO_CFLAGS="$(BPF2GO_CFLAGS)" $(GO) generate ./...

## check-generate: fail if make generate changes the committed BPF object or bindings
check-generate: generate
	@out=$$(git status --porcelain -- 'capture/ipc_*'); if [ -n "$$out" ]; then \
		echo "$$out"; echo "make generate changed committed files: commit them" >&2; exit 1; fi

## deps: install the Debian packages the build, tests and demo need (root)
deps:
	scripts/deps

## test: deps, build, lint, check-generate and every test, the real-cluster ones included (root)
test: deps build jaeger lint check-generate test-unit fuzz
	@echo "make test: all passed"

test-unit:
	$(GO) test -p 1 -count=1 -timeout 30m ./...

## jaeger: build the Jaeger the export tests run, once, into .cache/jaeger (its own module: tools/jaeger)
jaeger:
	@test -x .cache/jaeger/$(JAEGER)/jaeger || { mkdir -p .cache/jaeger/$(JAEGER) && cd tools/jaeger && \
		$(GO) build -o ../../.cache/jaeger/$(JAEGER)/jaeger github.com/jaegertracing/jaeger/cmd/jaeger; }

## test-short: run the tests that need neither root, a cluster nor eBPF (go test -short)
test-short:
	$(GO) test -short -count=1 ./...

## fuzz: run each fuzz target for FUZZTIME (default 10s)
fuzz:
	@scripts/fuzz $(FUZZTIME)

## demo: install deps, build, start the sandboxed cluster, record a workload and decode it (root)
demo: deps build
	scripts/demo

## bench: run the benchmarks and print their tables (root for the capture ones)
bench: build
	scripts/bench

## lint: gofmt, go vet, staticcheck, shellcheck, and go build and go vet for CROSS systems
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	shellcheck scripts/* bench/*.sh
	@for t in $(CROSS); do echo "GOOS/GOARCH=$$t: go build, go vet"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./... && \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./... || exit 1; done

## format: gofmt the Go code and clang-format the BPF C
format:
	gofmt -w $$(git ls-files '*.go')
	-clang-format -i bpf/*.c

## cluster-up: start the sandboxed test cluster (scripts/testcluster up)
cluster-up:
	scripts/testcluster up

## cluster-down: stop the sandboxed test cluster
cluster-down:
	scripts/testcluster down

## clean: remove build output
clean:
	rm -rf bin

## help: list the targets
help:
	@sed -n "s/^## \([a-z-]*\): /\1\t/p" $(MAKEFILE_LIST) | expand -t 16
