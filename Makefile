# ksim — the two commands are `make serve` and `make test`; both install what they need first.
SHELL := /bin/bash
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export CHROMEDRIVER ?= /usr/bin/chromedriver
ADDRESS := http://127.0.0.1:8080

.PHONY: serve test setup setup-test build dist lint test-native test-wasm test-e2e bench soak clean

## Build the release app and serve it at http://127.0.0.1:8080
serve: setup
	@echo "ksim: building and serving at $(ADDRESS)"
	trunk serve --release

## Run every test layer: fmt, clippy, native, wasm in Chromium, end-to-end in Chromium
test: setup-test lint test-native test-wasm build test-e2e
	@echo "ksim: all test layers passed"

setup:
	@scripts/setup.sh build

setup-test:
	@scripts/setup.sh test

## The release build (what end-to-end tests load)
build: setup
	trunk build --release

## The folder to publish: copy dist/ to any static host, under any path
dist: build
	@echo "ksim: dist/ is ready: $$(ls dist | wc -l) files, relative URLs, a service worker for offline use."
	@echo "      Copy the folder to any static host (any sub-path); embed with ?embed=1 (see README)."

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings
	cargo clippy --lib --bins --tests --target wasm32-unknown-unknown --locked -- -D warnings

test-native:
	cargo test --locked

test-wasm:
	cargo test --locked --target wasm32-unknown-unknown --test web

test-e2e:
	node --test tests/e2e/

## Benchmarks (not part of `make test`): runs them all and writes BENCHMARKS.md
bench: setup-test
	node scripts/bench.mjs

## The long fault sweep (>= 100 000 schedules, 1 000 000 mutated links; not part of `make test`): writes SOAK.md
soak:
	scripts/soak.sh

clean:
	cargo clean
	rm -rf dist tests/e2e/artifacts
