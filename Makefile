# voicecap-operator. `make help` lists the targets; `make test` needs no cluster.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KIT_VENV ?= .venv-kit
KIT_STAMP := $(KIT_VENV)/.installed
# Monday 08:55 in New York, five minutes inside healthcare's lead time.
DEMO_AT ?= 2026-11-23T08:55:00-05:00
# How long `make demo` runs, in real seconds.
DEMO_SECONDS ?= 60

# Debian packages the tests run for real (lua5.1: what Argo CD embeds, for argocd/health.lua;
# buildah and mmdebstrap build and run the image with no container engine and no registry).
SYSTEM_PACKAGES := prometheus prometheus-alertmanager lua5.1 buildah mmdebstrap kamailio
# Where `make cluster-up` keeps its processes' state, PIDs and kubeconfig.
CLUSTER_STATE ?= .cluster
# The real control plane is built by tests/cluster/build.sh, with Go from PATH or /usr/local/go.
export PATH := $(PATH):/usr/local/go/bin

.PHONY: kit-test unit static docs docs-serve lock test-tools dashboard bench bench-calls bench-operator bench-faults bench-keda bench-forecast help install system-deps lint typecheck importlint test e2e e2e-local e2e-kind image check crds crds-check demo plan-demo plan run clean cluster-build cluster-up cluster-down

unit: $(STAMP) ## the fast loop: unit and chart tests in seconds (no sudo, no Go, no Debian tools)
	$(BIN)/pytest -q -m "not tools" tests/unit tests/chart

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test,dev,demo,docs]'
	touch $@

install: $(STAMP) ## create .venv and install the operator with its test, dev, demo and docs tools

system-deps: ## install the Debian packages the tests run (prometheus, promtool, alertmanager, lua5.1, buildah, mmdebstrap, kamailio)
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v prometheus-alertmanager >/dev/null || ! command -v lua5.1 >/dev/null || ! command -v buildah >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v kamailio >/dev/null; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing $(SYSTEM_PACKAGES) with apt-get"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	fi

lint: $(STAMP) ## ruff: style and common bugs
	$(BIN)/ruff check operator tests bench demo dashboards docs kit
	$(BIN)/ruff format --check operator tests bench demo dashboards docs kit

typecheck: $(STAMP) ## mypy --strict with the pydantic plugin
	$(BIN)/mypy

importlint: $(STAMP) ## import-linter: the core and API models import no I/O library
	$(BIN)/lint-imports

test: $(STAMP) system-deps cluster-build test-tools kit-test ## unit, chart, integration and e2e tests (e2e on a real control plane it builds and starts), and the kit's
	$(BIN)/pytest -q

$(KIT_STAMP): kit/pyproject.toml
	$(PYTHON) -m venv $(KIT_VENV)
	$(KIT_VENV)/bin/pip install --quiet --upgrade pip
	$(KIT_VENV)/bin/pip install --quiet -e './kit[livekit,test]'
	touch $@

kit-test: $(KIT_STAMP) system-deps ## the agent-side kit's tests, in its own virtual environment (with livekit-agents)
	cd kit && ../$(KIT_VENV)/bin/python -m pytest -q -p no:cacheprovider

e2e: $(STAMP) system-deps cluster-build test-tools $(KIT_STAMP) ## the e2e scenarios on the real control plane (built from Go modules)
	$(BIN)/pytest -q tests/e2e

e2e-local: $(STAMP) system-deps ## the e2e scenarios on the embedded local stack (API emulator; fast, no Go)
	E2E_STACK=local $(BIN)/pytest -q tests/e2e/test_scenarios.py

cluster-build: ## build etcd, kube-apiserver, controller-manager, scheduler, kubectl, kwok, prometheus-adapter (cached by go.sum)
	@bash tests/cluster/build.sh >/dev/null

test-tools: ## build the Go test tools (prom-label-proxy; cached by go.sum)
	@bash tests/tools/build.sh >/dev/null

cluster-up: $(STAMP) system-deps cluster-build ## start a real control plane on 127.0.0.1; kubeconfig in .cluster/kubeconfig
	PYTHONPATH=tests $(BIN)/python -m support.control_plane up --state $(CLUSTER_STATE)

cluster-down: $(STAMP) ## stop every process `make cluster-up` started (by PID) and remove .cluster/
	PYTHONPATH=tests $(BIN)/python -m support.control_plane down --state $(CLUSTER_STATE)

e2e-kind: $(STAMP) ## the e2e scenarios on a real kind cluster (needs Docker, kind and kubectl)
	BIN=$(BIN) tests/e2e/kind/run.sh

image: ## build the image voicecap-operator:$(TAG) (dev) with Docker, Podman or Buildah; BASE=... replaces python:3.11-slim-bookworm
	@engine=""; for candidate in docker podman buildah; do \
	  if command -v $$candidate >/dev/null && { [ $$candidate != docker ] || docker info >/dev/null 2>&1; }; then engine=$$candidate; break; fi; \
	done; \
	[ -n "$$engine" ] || { echo "make image: install Docker, Podman or Buildah"; exit 2; }; \
	base=$(if $(BASE),--build-arg PYTHON_IMAGE=$(BASE)); \
	echo "make image: building voicecap-operator:$(or $(TAG),dev) with $$engine"; \
	if [ $$engine = buildah ]; then buildah bud --isolation chroot --layers $$base --tag voicecap-operator:$(or $(TAG),dev) .; \
	else $$engine build $$base --tag voicecap-operator:$(or $(TAG),dev) .; fi

lock: $(STAMP) ## re-pin the runtime dependencies in requirements.lock (uv; the image and `make install` install from it)
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --universal --quiet --no-header --annotation-style line --upgrade -o requirements.lock

static: lint typecheck importlint crds-check docs ## the static checks: lint, types, import contracts, CRD drift, the docs in strict mode

check: static test ## everything CI runs: the static checks first, then the suite

docs: $(STAMP) ## build the docs site into site/ in strict mode (a broken link fails), its reference pages regenerated
	$(BIN)/python docs/build_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP) ## serve the docs site on http://127.0.0.1:8000 while you edit it
	$(BIN)/python docs/build_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

CHART := charts/voicecap-operator

crds: $(STAMP) ## regenerate crds/ (and the chart's copies) from the models, and the chart's operator alerts
	$(BIN)/voicecap crds --output-dir crds
	rm -f $(CHART)/crds/*.yaml $(CHART)/files/crds/*.yaml
	cp crds/kopf.dev_*.yaml $(CHART)/crds/ && cp crds/voicecap.io_*.yaml $(CHART)/files/crds/
	$(BIN)/voicecap rules --operator > $(CHART)/rules/voicecap-operator.rules.yaml

dashboard: $(STAMP) ## rebuild dashboards/voicecap.json and the chart's copy with grafana-foundation-sdk
	$(BIN)/python dashboards/build.py

crds-check: $(STAMP) ## fail when crds/ differs from what the models generate
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(BIN)/voicecap crds --output-dir "$$tmp"; \
	diff -ru crds "$$tmp" || { echo "crds/ is stale: run 'make crds'"; exit 1; }; \
	for crd in crds/*.yaml; do \
	  shipped=$(CHART)/crds/$${crd#crds/}; case $$crd in crds/voicecap.io_*) shipped=$(CHART)/files/crds/$${crd#crds/};; esac; \
	  diff -u $$crd $$shipped || { echo "$$shipped differs from $$crd: run 'make crds'"; exit 1; }; \
	done

demo: $(STAMP) system-deps ## the operator on the embedded local stack, Sunday night to Monday lunch in a minute (PNG in demo-output/)
	$(BIN)/python -m demo --seconds $(DEMO_SECONDS)

plan-demo: $(STAMP) ## plan the example verticals at four moments of a Monday, no servers at all
	@for at in 2026-11-22T15:00:00-05:00 $(DEMO_AT) 2026-11-23T10:00:00-05:00 2026-11-23T19:30:00+00:00; do \
	  echo "== voicecap plan examples/*.yaml --at $$at"; \
	  $(BIN)/voicecap plan examples/*.yaml --at "$$at" \
	    --sessions healthcare=300 --sessions sales=200 --sessions real-estate=80 --sessions after-hours=150; \
	  echo; \
	done

plan: $(STAMP) ## plan the examples now (AT=..., JSON with OUTPUT=json)
	$(BIN)/voicecap plan examples/*.yaml $(if $(AT),--at $(AT)) --output $(or $(OUTPUT),table)

bench: $(STAMP) ## print how fast the core plans (plans per second at 100, 1000, 5000 objects)
	$(BIN)/python bench/core_plans.py

bench-calls: $(STAMP) ## calls lost and pods paid: voicecap (told and measured), the HPA, KEDA cron and the oracle on 17 traces, before (BEFORE=rev) and now
	$(BIN)/python bench/calls.py --before $(or $(BEFORE),35d875e)

bench-faults: $(STAMP) system-deps cluster-build ## faults of the real control plane at 500 objects, each injected and counted (docs/reliability.md; ~25 minutes)
	$(BIN)/python bench/faults.py --objects $(or $(OBJECTS),500)

bench-operator: $(STAMP) system-deps cluster-build ## the operator at 1000, 5000 and 10000 objects on the emulator and 1000, 5000 on the real control plane (an hour)
	$(BIN)/python bench/operator_fleet.py 1000 5000 10000
	$(BIN)/python bench/operator_fleet.py --real 1000 5000

bench-keda: $(STAMP) system-deps cluster-build ## voicecap and KEDA side by side at 100 and 1000 workloads on the real control plane (builds KEDA; an hour)
	$(BIN)/python bench/keda_compare.py 100 1000

bench-forecast: $(STAMP) system-deps ## forecast refresh cost at 1000 and 10000 objects against a Prometheus with 15 backfilled weeks (3 min)
	$(BIN)/python bench/forecast_queries.py --objects 1000 10000

run: $(STAMP) ## run the operator against your kubeconfig (PROMETHEUS_URL=... or $$VOICECAP_PROMETHEUS_URL)
	$(BIN)/voicecap run $(if $(PROMETHEUS_URL),--prometheus-url $(PROMETHEUS_URL)) $(ARGS)

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) $(KIT_VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
