# The two commands of the README: `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: run test build generate check bench clean

## run: start portal (http://localhost:8080) and gateway (http://localhost:8081) with demo content
run: build
	./bin/portico serve --demo

## build: compile bin/portico
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/portico ./cmd/portico

## test: every test (browser tests need chromium; set PORTICO_REQUIRE_BROWSER=1 to fail instead of skip without it)
test:
	$(GO) test -count=1 -timeout 20m ./...

## generate: regenerate templ's Go files
generate:
	$(GO) tool templ generate

## check: formatting, vet, and generated files current
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ files are stale: run make generate and commit"; exit 1; }

## bench: measured speed, side by side in one run: the binaries under load,
## then the per-call cost of the gateway's checks next to the raw primitives
bench: build
	$(GO) run ./cmd/portico-bench -portico bin/portico
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./gateway/ ./gateway/jwtcheck/

clean:
	rm -rf bin
