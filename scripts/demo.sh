#!/usr/bin/env bash
# `make demo`: the whole platform on this machine with the GitHub simulator, and a workload through
# it, for a newcomer. Installs or starts what is missing (scripts/infra.sh), builds the fake runner
# image, starts the simulator and the six services (scripts/run-platform.sh, the same as make run,
# with the pools in deploy/demo/pools.yaml), drives jobs through the simulator (tools/demo) and
# prints a summary.
#
#   make demo               the stack stays up afterwards, logs follow; Ctrl-C (or make down) stops it
#   DEMO_ONCE=1 make demo   run the workload, write .demo/summary.json, stop everything this run
#                           started (services, and infrastructure it had to start), exit 0 only if
#                           every job that should run completed and nothing was left behind
#
# Settings: DEMO_JOBS (24), DEMO_TIMEOUT_SECONDS (300), DEMO_INTAKE (webhook, or scaleset: the
# simulator sends no webhook and the pools of deploy/demo/pools.scaleset.yaml take their jobs through
# runner scale sets, as on a NAS behind NAT). With a GitHub App configured (GITHUB_APP_ID in
# .run/platform.env) the services run against GitHub and no simulated workload is sent.
# DEMO_ALL_IN_ONE=1: the six services in one process (services/all-in-one), as on a small NAS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
say() { printf 'demo: %s\n' "$*" >&2; }

infra_before=$(bash scripts/infra.sh started 2>/dev/null || true)
bash scripts/infra.sh up
infra_started=$(comm -13 <(sort <<<"$infra_before") <(bash scripts/infra.sh started | sort) | tr '\n' ' ')
# The pinned Node.js, which `infra.sh up` installs on a fresh machine.
# shellcheck source=lib/node-env.sh
source scripts/lib/node-env.sh

if [[ ${DEMO_ALL_IN_ONE:-0} == 1 ]]; then
  export RUNNERHUB_ALL_IN_ONE=1
  say "the six services in one process (services/all-in-one; log .run/logs/all-in-one.log)"
fi

if grep -qs '^GITHUB_APP_ID=' .run/platform.env; then
  say "a GitHub App is configured in .run/platform.env: the services run against GitHub; no simulated workload"
  exec bash scripts/run-platform.sh start
fi

export DEMO_INTAKE=${DEMO_INTAKE:-webhook}
case $DEMO_INTAKE in
  webhook) export POOLS_FILE="$ROOT/deploy/demo/pools.yaml" ;;
  scaleset)
    export POOLS_FILE="$ROOT/deploy/demo/pools.scaleset.yaml" SIM_WEBHOOKS=0
    # No webhook announces the job no pool serves: the missed-job reconciler finds it, this often.
    export SCHEDULER_RECONCILE_SECONDS=${SCHEDULER_RECONCILE_SECONDS:-10}
    ;;
  *)
    say "DEMO_INTAKE must be webhook or scaleset, not $DEMO_INTAKE"
    exit 2
    ;;
esac
say "intake: $DEMO_INTAKE"
# The demo host gives runners every CPU (the pools are small) and keeps 1 GiB for itself.
export EXECUTOR_RESERVED_CPUS=${EXECUTOR_RESERVED_CPUS:-0} EXECUTOR_RESERVED_MEMORY_MB=${EXECUTOR_RESERVED_MEMORY_MB:-1024}
bash scripts/run-platform.sh start --detach

stop_all() {
  bash scripts/run-platform.sh stop || true
  if [[ -n ${infra_started// /} ]]; then
    say "stopping the infrastructure this run started: $infra_started"
    # shellcheck disable=SC2086 # one word per part
    bash scripts/infra.sh down $infra_started || true
  fi
}
trap 'echo >&2; stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

token=$(sed -n 's/^ADMIN_TOKENS=admin:write:\([^,]*\).*/\1/p' .run/platform.env)
deployment=$(sed -n 's/^DEPLOYMENT_ID=//p' .run/platform.env)
set +e
ADMIN_TOKEN=$token DEPLOYMENT_ID=${deployment:-runnerhub} DOCKER_HOST=tcp://127.0.0.1:2375 \
  node --conditions=runnerhub-source --import tsx tools/demo/src/main.ts
rc=$?
set -e

if [[ -n ${DEMO_ONCE:-} && ${DEMO_ONCE} != 0 ]]; then
  stop_all
  trap - INT TERM
  exit "$rc"
fi
trap - INT TERM
say "the stack stays up: try  npx github-sim job --repo demo/hello-world --labels self-hosted,small --command 'echo hi'"
say "Ctrl-C here (or make down from another terminal) stops it"
exec bash scripts/run-platform.sh follow
