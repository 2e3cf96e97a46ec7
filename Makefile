# Paddock: `make up` installs, builds and starts paddockd; `make test` runs the suite.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := up

PREFIX      ?= /usr/local
STATE_DIR   ?= /var/lib/paddock
CACHE_DIR   ?= /var/cache/paddock
PORT        ?= 7423
NODE        ?= node
# Sandboxes of `base` (container tier, default limits) `make up` keeps ready, so `paddock run` and the SDK's
# creates of `base` are served at once instead of made; WARM=0 keeps none.
WARM        ?= 2
APT_PACKAGES := runc runsc tini debootstrap busybox-static bubblewrap gcc libc6-dev make python3 g++ tar iproute2 ca-certificates procps nftables libnftables-dev libmnl-dev openssl skopeo attr e2fsprogs mount
# The Python SDK (sdks/python) depends on these alone, so `pip install ./sdks/python` needs no package index.
APT_PACKAGES += python3-httpx python3-websockets python3-setuptools
# Only the tests and the benchmarks need these: a registry to pull images from, htpasswd for its login,
# mypy for the Python SDK's types, umoci (the bench's baseline unpack).
TEST_APT_PACKAGES := docker-registry apache2-utils python3-mypy umoci
# A Jupyter kernel for the fast tier's code contexts (its commands run the host's python3).
TEST_APT_PACKAGES += python3-ipykernel python3-jupyter-client
# The dashboard's browser tests drive Debian's chromium (playwright-core, no browser download).
APT_PACKAGES += chromium
# Only `make bench` needs these: its peers Docker and Podman, and socat + ripgrep, which Anthropic's
# sandbox-runtime needs on Linux.
BENCH_APT_PACKAGES := docker.io podman socat ripgrep
AGENT_BIN   := packages/engine/dist/bin

export PADDOCK_STATE_DIR := $(STATE_DIR)
export PADDOCK_CACHE_DIR := $(CACHE_DIR)

.PHONY: up down test test-fast test-security test-deps bench-deps bench build deps base lint clean

## deps: Debian packages Paddock runs on (installed only when missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

## test-deps: the Debian packages only the tests and the benchmarks use; Debian's registry and Docker services are left stopped (they run their own)
test-deps:
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	  systemctl disable --now docker-registry >/dev/null 2>&1 || true; \
	fi

## bench-deps: the peers `make bench` measures Paddock against; their services are never started (the bench runs its own dockerd)
bench-deps:
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the benchmarks:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  own_policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1; fi; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; status=$$?; \
	  if [ -n "$$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
	  systemctl disable --now docker.socket docker containerd >/dev/null 2>&1 || true; \
	  exit $$status; \
	fi

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## build: TypeScript packages, the web dashboard (packages/dashboard/dist), the static in-sandbox agent, and tini
build: deps node_modules/.package-lock.json
	npx tsc -b packages/cli packages/mcp packages/daemon packages/adapters bench
	$(NODE) packages/cli/bundle.mjs
	npm run build --silent -w @paddock/dashboard
	$(NODE) packages/engine/scripts/write-agent-protocol-header.mjs
	@mkdir -p $(AGENT_BIN)
	gcc -static -O2 -Wall -Wextra -o $(AGENT_BIN)/paddock-agent packages/engine/agent/paddock-agent.c -lutil
	gcc -static -O2 -Wall -Wextra -o $(AGENT_BIN)/paddock-egress packages/engine/agent/paddock-egress.c -lpthread
	gcc -shared -fPIC -O2 -Wall -Wextra -o $(AGENT_BIN)/paddock-gvisor-compat.so packages/engine/agent/gvisor-compat.c
	printf '/.paddock/bin/paddock-gvisor-compat.so\n' > $(AGENT_BIN)/gvisor-ld.so.preload
	install -m 0755 /usr/bin/tini-static $(AGENT_BIN)/tini
	@mkdir -p packages/engine/dist/host
	gcc -static -O2 -Wall -Wextra -o packages/engine/dist/host/paddock-mount packages/engine/agent/paddock-mount.c
	gcc -static -O2 -Wall -Wextra -o packages/engine/dist/host/paddock-splice packages/engine/agent/paddock-splice.c
	gcc -static -O2 -Wall -Wextra -o packages/engine/dist/host/paddock-dial packages/engine/agent/paddock-dial.c
	gcc -O2 -Wall -Wextra -o packages/engine/dist/host/paddock-netns packages/engine/agent/paddock-netns.c -lnftables -lmnl
	gcc -static -O2 -Wall -Wextra -o packages/engine/dist/host/paddock-spawn packages/engine/agent/paddock-spawn.c
	@mkdir -p packages/daemon/dist/native
	gcc -shared -fPIC -O2 -Wall -Wextra -I$$($(NODE) -p "path.resolve(process.execPath, '../../include/node')") -o packages/daemon/dist/native/malloc-trim.node packages/daemon/native/malloc-trim.c
	@chmod +x packages/cli/dist/paddock.mjs packages/daemon/dist/main.js

## base: the Debian `base` template, built once with debootstrap and cached
base: build
	$(NODE) packages/daemon/dist/main.js prepare

## up: install, build, start paddockd, put `paddock` on PATH, print how to reach it
up: base
	@ln -sf $(CURDIR)/packages/cli/dist/paddock.mjs $(PREFIX)/bin/paddock
	@ln -sf $(CURDIR)/packages/daemon/dist/main.js $(PREFIX)/bin/paddockd
	@if [ -f $(STATE_DIR)/endpoint.json ] && kill -0 "$$(sed -E 's/.*"pid":([0-9]+).*/\1/' $(STATE_DIR)/endpoint.json)" 2>/dev/null; then \
	  echo "paddockd is already running"; \
	else \
	  mkdir -p $(STATE_DIR); rm -f $(STATE_DIR)/endpoint.json; \
	  setsid tini -s -- $(CURDIR)/packages/daemon/dist/main.js --port $(PORT) >> $(STATE_DIR)/paddockd.log 2>&1 < /dev/null & \
	  for i in $$(seq 1 100); do [ -f $(STATE_DIR)/endpoint.json ] && break; sleep 0.1; done; \
	  [ -f $(STATE_DIR)/endpoint.json ] || { echo "paddockd did not start; see $(STATE_DIR)/paddockd.log"; tail -n 20 $(STATE_DIR)/paddockd.log; exit 1; }; \
	fi
	@if [ "$(WARM)" != "0" ] && ! $(NODE) packages/cli/dist/paddock.mjs pool ls --json | grep -q '"template": *"base"'; then \
	  $(NODE) packages/cli/dist/paddock.mjs pool set base --size $(WARM) > /dev/null; \
	fi
	@url=$$(sed -E 's/.*"url":"([^"]+)".*/\1/' $(STATE_DIR)/endpoint.json); \
	echo ""; \
	echo "paddockd is up"; \
	echo "Dashboard: $$url/  (sign in with the token below, or a one-time link from: paddock dashboard)"; \
	echo "  API:       $$url  (OpenAPI: $$url/openapi.json, socket: $(STATE_DIR)/paddockd.sock)"; \
	echo "  token:     $$(cat $(STATE_DIR)/token)   (also in $(STATE_DIR)/token, mode 0600)"; \
	echo "  logs:      $(STATE_DIR)/paddockd.log"; \
	if [ "$(WARM)" != "0" ]; then echo "  warm:      a pool keeps $(WARM) base sandboxes ready (paddock pool ls; make up WARM=0 keeps none)"; fi; \
	echo ""; \
	echo "try: paddock run -- python3 -c 'print(6*7)'"

## down: kill every sandbox and stop paddockd
down:
	@if [ -f $(STATE_DIR)/endpoint.json ]; then \
	  pid=$$(sed -E 's/.*"pid":([0-9]+).*/\1/' $(STATE_DIR)/endpoint.json); \
	  $(NODE) packages/cli/dist/paddock.mjs pool rm --all >/dev/null 2>&1 || true; \
	  $(NODE) packages/cli/dist/paddock.mjs kill --all >/dev/null 2>&1 || true; \
	  kill $$pid 2>/dev/null || true; \
	  for i in $$(seq 1 50); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
	  echo "paddockd stopped"; \
	else echo "paddockd is not running"; fi

## test: both tiers (fast, then real sandboxes); its own daemons, never the one `make up` started
test: base test-deps
	$(NODE) scripts/run-tests.mjs

## test-fast: the fast tier only: from the sources, in-process daemons over a fake sandbox host; no root, runtime or build
test-fast: node_modules/.package-lock.json
	$(NODE) scripts/run-tests.mjs --project fast

## test-security: only the attack suite (docs/security-probes.md), on every tier; also part of `make test`
test-security: base test-deps
	$(NODE) scripts/run-tests.mjs packages/daemon/src/security

## bench: Paddock against raw runc, bwrap, spawn, skopeo + umoci and the host's disk, measured in one run; writes BENCHMARKS.md
bench: base test-deps bench-deps
	$(NODE) bench/dist/run-bench.js

## lint: style, no import cycles between modules (.dependency-cruiser.cjs), the tests' types (tsconfig.test.json), the Python SDK's (mypy --strict) and its generated sync half
lint: node_modules/.package-lock.json
	npx biome check .
	npx depcruise packages/*/src --config .dependency-cruiser.cjs
	npx tsc -p tsconfig.test.json
	cd sdks/python && /usr/bin/python3 -m mypy --strict paddock tests ../../examples/python && /usr/bin/python3 scripts/unasync.py --check

clean:
	rm -rf packages/*/dist bench/dist
