# Cityscape — the verbs a user types. `make run` and `make test` are the two that matter.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT       ?= swift
RELEASE_BIN  = .build/release
DEBUG_BIN   ?= .build/debug
DEBUG_FLAGS ?=
# Debian packages the build, the tests or the stack need (installed only when missing, only as root).
APT_PACKAGES = curl ca-certificates openssl tzdata libcurl4-openssl-dev zlib1g-dev

# make install: PREFIX for binaries, data and units; DESTDIR for packagers; SYSCONFDIR for the env files.
PREFIX      ?= /usr/local
DESTDIR     ?=
SYSCONFDIR  ?= /etc
BINDIR       = $(PREFIX)/bin
DATADIR      = $(PREFIX)/share/cityscape
DOCDIR       = $(PREFIX)/share/doc/cityscape
UNITDIR     ?= $(PREFIX)/lib/systemd/system
# A binary linked with --static-swift-stdlib looks for its crash backtracer at <bin>/../libexec/swift/linux/swift-backtrace.
LIBEXECDIR   = $(PREFIX)/libexec/swift/linux
BINARIES     = cityscape-location cityscape-sun cityscape-gateway cityscape-proxy
UNITS        = cityscape-location.service cityscape-sun.service cityscape-gateway@.service cityscape-proxy.service cityscape.target

# Python dev tooling runs as modules from the repository root (`python3 -m bench.demo`), so the shared package
# tools/cityscape_tools imports the same way in every interpreter and venv: nothing to install, no path hacks.
# One venv per set of pinned PyPI packages, each requirements file saying why in its first lines: the tooling
# tests and schemathesis (tools/requirements.txt), the time-zone column (tools/timezones/requirements.txt);
# scripts/deploy-check.sh and deploy-test.sh make .venv-deploy and .venv-podman, bench/bench.py the peers' .venv.
TOOLS_VENV   = .venv-tools
TZ_VENV      = .venv-timezones
PYTHON      ?= python3
# Every Python test folder, each next to what it tests (make test-tooling runs them all).
TOOLING_TESTS = tools/cityscape_tools/tests bench/tests tools/deploy/tests scripts/tests
# Where `make build` put the binaries; a shell substitution, so only the targets that need it pay for it.
BIN_DIR      = $$($(SWIFT) build --show-bin-path $(DEBUG_FLAGS))

.PHONY: help deps build release run start stop status test test-tooling fuzz-api fuzz-raw faults soak lint format demo bench bench-foundation bench-gateway profile-gateway clean deploy-check deploy-test install uninstall postal-timezones

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

deps: ## install missing Debian packages (as root) and resolve Swift packages
	@scripts/install-deps.sh $(APT_PACKAGES)
	@$(SWIFT) package resolve

build: deps ## debug build of every product and test
	$(SWIFT) build --build-tests $(DEBUG_FLAGS)

release: deps ## optimised build of the service binaries
	$(SWIFT) build -c release

run: release ## build, then start the local stack in the foreground (Ctrl-C stops it)
	@scripts/run-stack.sh $(RELEASE_BIN)

start: release ## start the local stack in the background (logs in run/stack.log)
	@scripts/stack-ctl.sh start $(RELEASE_BIN)

stop: ## stop the stack started by make run or make start (by PID, reverse order)
	@scripts/stack-ctl.sh stop

status: ## is the local stack running, with the PID and port of each process
	@scripts/stack-ctl.sh status

test: build $(TOOLS_VENV)/bin/st ## every test: Swift (unit, router, live), deploy-check, deploy-test, tooling, API and raw fuzzing, fault injection
	$(SWIFT) test --skip-build --parallel $(DEBUG_FLAGS)
	@DEPLOY_SMOKE=required DEPLOY_BIN=$$($(SWIFT) build --show-bin-path $(DEBUG_FLAGS)) scripts/deploy-check.sh
	@scripts/deploy-test.sh $$($(SWIFT) build --show-bin-path $(DEBUG_FLAGS))
	@$(MAKE) --no-print-directory test-tooling fuzz-api fuzz-raw faults

test-tooling: $(TOOLS_VENV)/bin/st ## Python tests: shared toolkit, stack script, demo, lab report (in Chromium), bench and deploy tooling
	@scripts/install-deps.sh wrk nginx-light haproxy chromium
	@for dir in $(TOOLING_TESTS); do echo "== $$dir"; \
	  CITYSCAPE_BIN_DIR=$(DEBUG_BIN) CITYSCAPE_REQUIRE_BROWSER=1 $(TOOLS_VENV)/bin/python -m unittest discover -s $$dir -t . -v || exit 1; done

postal-timezones: $(TZ_VENV)/bin/python ## recompute the time-zone column of Data/postal (dev tooling, not part of the build; see ATTRIBUTION.md)
	$(TZ_VENV)/bin/python -m tools.timezones.assign_timezones Data/postal

$(TZ_VENV)/bin/python: tools/timezones/requirements.txt
	$(PYTHON) -m venv $(TZ_VENV)
	$(TZ_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/timezones/requirements.txt

$(TOOLS_VENV)/bin/st: tools/requirements.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	@touch $@

fuzz-api: $(TOOLS_VENV)/bin/st ## schemathesis against location, sun and gateway from their served OpenAPI documents
	$(TOOLS_VENV)/bin/python -m tools.reliability.schemathesis_run --bin-dir $(BIN_DIR)

fuzz-raw: ## malformed HTTP (Tests/HTTPFuzzCorpus + seeded mutations) at every listener
	$(PYTHON) -m tools.reliability.raw_fuzz --bin-dir $(BIN_DIR)

faults: ## fault injection: replicas killed under load, upstream faults, connection floods
	$(PYTHON) -m tools.reliability.faults --bin-dir $(BIN_DIR)

soak: release ## 10 min mixed load through the full stack with a fault every minute (not in make test)
	$(PYTHON) -m tools.soak.soak --bin-dir $(RELEASE_BIN)

deploy-check: ## validate deploy/ (compose, Dockerfile, systemd, Kubernetes) with the real tools, offline
	@scripts/deploy-check.sh

# The debug build make test already has: the image and the units are exercised, not the optimiser.
deploy-test: build ## run deploy/ for real under rootful podman: compose stack, kill a replica, systemd units (DEPLOY_TEST=skip)
	@scripts/deploy-test.sh $(BIN_DIR)

install: ## install release binaries, postal data and systemd units (PREFIX=/usr/local, DESTDIR=)
	@for b in $(BINARIES); do [ -x "$(RELEASE_BIN)/$$b" ] || { echo "$(RELEASE_BIN)/$$b missing: run 'make release' first" >&2; exit 1; }; done
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(DATADIR)" "$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(SYSCONFDIR)/cityscape"
	install -m 755 $(addprefix $(RELEASE_BIN)/,$(BINARIES)) "$(DESTDIR)$(BINDIR)/"
	install -m 644 Data/postal/postal_codes.tsv.gz Data/postal/timezones.tsv Data/postal/ATTRIBUTION.md "$(DESTDIR)$(DATADIR)/"
	install -m 644 docs/deploy.md "$(DESTDIR)$(DOCDIR)/"
	@# A --static-swift-stdlib build gets the toolchain's static backtracer (it needs no Swift runtime libraries);
	@# a dynamically linked one uses the backtracer of the toolchain it loads libswiftCore.so from.
	if ldd "$(RELEASE_BIN)/cityscape-gateway" >/dev/null 2>&1 && ! ldd "$(RELEASE_BIN)/cityscape-gateway" | grep -q libswiftCore; then \
	  usr=$$(dirname "$$(dirname "$$($(SWIFT) -print-target-info | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p')")"); \
	  install -d "$(DESTDIR)$(LIBEXECDIR)" && install -m 755 "$$usr/libexec/swift/linux/swift-backtrace-static" "$(DESTDIR)$(LIBEXECDIR)/swift-backtrace"; fi
	@# The units name /usr/local and /etc/cityscape; rewrite them for this PREFIX and SYSCONFDIR.
	for u in $(UNITS); do \
	  sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/etc/cityscape/|$(SYSCONFDIR)/cityscape/|g' "deploy/systemd/$$u" > "$(DESTDIR)$(UNITDIR)/$$u"; \
	  chmod 644 "$(DESTDIR)$(UNITDIR)/$$u"; done
	@# Environment files are configuration: never overwrite one that exists.
	for f in deploy/systemd/*.env; do t="$(DESTDIR)$(SYSCONFDIR)/cityscape/$$(basename $$f)"; \
	  [ -e "$$t" ] || install -m 644 "$$f" "$$t"; done
	@echo "installed; as root: systemctl daemon-reload && systemctl enable --now cityscape.target"

uninstall: ## remove what make install installed (keeps the configuration in SYSCONFDIR/cityscape)
	rm -f $(addprefix "$(DESTDIR)$(BINDIR)/",$(BINARIES)) $(addprefix "$(DESTDIR)$(UNITDIR)/",$(UNITS)) "$(DESTDIR)$(LIBEXECDIR)/swift-backtrace"
	rm -rf "$(DESTDIR)$(DATADIR)" "$(DESTDIR)$(DOCDIR)"

lint: ## check formatting with the committed .swift-format
	$(SWIFT) format lint --strict --recursive Package.swift Services Proxy Tests

format: ## rewrite sources with the committed .swift-format
	$(SWIFT) format --in-place --recursive Package.swift Services Proxy Tests

demo: release ## the lesson as a lab report: results/demo-*.html/.json/.md (< 5 min; QUICK=1: < 90 s)
	@scripts/install-deps.sh wrk
	@$(PYTHON) -m bench.demo $(RELEASE_BIN) $(if $(QUICK),--quick)

bench: release ## proxies (nginx, HAProxy), gateway and peers (Flask, Quart) side by side (< 15 min)
	@scripts/install-deps.sh wrk nginx-light haproxy
	@$(PYTHON) -m bench.bench $(RELEASE_BIN)

bench-foundation: release ## wrk: location and sun vs a trivial route, start-up time and memory
	@scripts/install-deps.sh wrk
	@$(PYTHON) -m bench.foundation $(RELEASE_BIN)

bench-gateway: release ## wrk: blocking x1, blocking x4 and async gateway at L = 1 s, async and a Go peer at c=1000/5000/10000, an open-loop overload
	@scripts/install-deps.sh wrk golang-go
	@$(PYTHON) -m bench.gateway $(RELEASE_BIN)

profile-gateway: release ## perf: where the CPU of an async gateway request goes, per process, at c=1000/5000 (not in make test)
	@scripts/install-deps.sh wrk linux-perf
	@$(PYTHON) -m bench.profile_gateway $(RELEASE_BIN)

clean: ## remove build products
	rm -rf .build $(TOOLS_VENV) $(TZ_VENV)
