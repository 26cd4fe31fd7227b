#!/usr/bin/env bash
# Runs docker-compose.yml the way a NAS does and sends jobs through it: the six services built by
# compose from the root Dockerfile, NATS, PostgreSQL, Redis and the socket proxy as containers, and
# the GitHub simulator on this machine playing the GitHub App (its API and its webhooks). Proves
# that the file wires the services together: GitHub App settings from .env, secrets from files,
# the pools file, healthchecks and start order, the executor reaching Docker only through the proxy,
# and Prometheus scraping all six and counting the jobs. Grafana is left out: no package to stand in.
#
#   bash scripts/compose-smoke.sh            (make compose-smoke)
#
# With no image registry, the infrastructure runs on stand-ins built from this machine's packages
# (scripts/build-standin-images.sh) and the services on a Node base built from the host's node
# (scripts/build-node-base-image.sh); an override file in a scratch directory points compose at
# them and at that directory's secrets, pools file and .env, so nothing in the checkout is touched.
# Needs ports 8080–8085 and 9090 free (stop `make run` first). Leaves nothing behind: `down -v` at the end.
# SMOKE_JOBS (default 3) jobs; SMOKE_KEEP=1 keeps the stack up for a look. CI runs it after the tests.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
say() { printf 'compose-smoke: %s\n' "$*" >&2; }
# shellcheck source=lib/node-env.sh
source scripts/lib/node-env.sh
PROJECT=runnerhub-smoke
JOBS=${SMOKE_JOBS:-3}
SIM_PORT=${SMOKE_SIM_PORT:-8990}
APP_ID=424242

if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then COMPOSE=(docker-compose)
else
  say "installing docker-compose (Debian's)"
  # A fresh machine may have no package lists yet.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
  COMPOSE=(docker-compose)
fi
for port in 8080 8081 8082 8083 8084 8085 9090 "$SIM_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then say "port $port is in use (make down stops a running platform)"; exit 1; fi
done

bash scripts/build-standin-images.sh
bash scripts/build-node-base-image.sh
bash scripts/build-runner-image.sh

work=$(mktemp -d /tmp/compose-smoke.XXXXXX)
sim_pid=
events_pids=()
# Runner containers' anonymous volumes carry no label and outlive a `docker rm` without -v unseen:
# follow Docker's events from the start (which container each volume was mounted by) to check them.
docker events --filter type=container --filter event=create --filter label=io.runnerhub.host=compose-smoke --format '{{.Actor.ID}}' >"$work/runner-containers" 2>/dev/null &
events_pids+=($!)
docker events --filter type=volume --filter event=mount --format '{{.Actor.ID}} {{index .Actor.Attributes "container"}}' >"$work/volume-mounts" 2>/dev/null &
events_pids+=($!)
runner_volumes() { # volumes runner containers mounted that still exist
  local volume container
  while read -r volume container; do
    # A volume that is gone is the good case: it must not become the loop's (and, under pipefail, the
    # caller's) failing status.
    if grep -qx "$container" "$work/runner-containers" && docker volume inspect "$volume" >/dev/null 2>&1; then printf '%s\n' "$volume"; fi
  done <"$work/volume-mounts" | sort -u
}
compose() { "${COMPOSE[@]}" -p "$PROJECT" --env-file "$work/.env" -f docker-compose.yml -f "$work/override.yml" "$@"; }
cleanup() {
  local rc=$?
  if [[ ${SMOKE_KEEP:-0} == 1 ]]; then
    say "left running (SMOKE_KEEP=1): ${COMPOSE[*]} -p $PROJECT --env-file $work/.env -f docker-compose.yml -f $work/override.yml down -v; kill $sim_pid"
    exit "$rc"
  fi
  if ((rc != 0)); then
    say "failed; the services' last log lines:"
    compose logs --tail 30 webhook-gateway scheduler pool-manager container-executor status-reporter metrics 2>&1 | tail -n 120 >&2 || true
  fi
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null || true
  # Runner containers are the executor's; a failed run may leave one. Remove them with their volumes and networks.
  docker ps -aq --filter label=io.runnerhub.host=compose-smoke | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  docker network ls -q --filter label=io.runnerhub.host=compose-smoke | xargs -r docker network rm >/dev/null 2>&1 || true
  runner_volumes | xargs -r docker volume rm >/dev/null 2>&1 || true
  kill "${events_pids[@]}" 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# What a NAS owner writes once (docker-compose.yml's header, docs/operations.md "On a NAS"), here in
# the scratch directory: .env from example.env, the secrets, config/pools.yaml. The services run as
# a uid other than the images' 1000 (RUNNERHUB_UID), which the secret files belong to.
SMOKE_UID=1234
webhook_secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$work/secrets" "$work/config" "$work/data"
printf 'admin:write:%s\n' "$admin_token" >"$work/secrets/admin_tokens"
printf '%s\n' "$webhook_secret" >"$work/secrets/github_webhook_secret"
node -e 'const { generateKeyPairSync } = require("node:crypto");
  process.stdout.write(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }));' >"$work/secrets/github_app_private_key"
head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/grafana_admin_password"
# Readable by the services' user alone; Grafana (not started here) runs as uid 472.
chown -R "$SMOKE_UID:$SMOKE_UID" "$work/secrets" && chown 472 "$work/secrets/grafana_admin_password" && chmod 400 "$work/secrets"/*
cat >"$work/config/pools.yaml" <<EOF
pools:
  - name: smoke
    repository: demo/hello-world
    labels: [smoke]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 256
    max: 2
    expectedStartSeconds: 60
EOF
# Containers reach the simulator on this machine through Docker's bridge gateway.
host_ip=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)
host_ip=${host_ip:-172.17.0.1}
# example.env as a person fills it in; the six images under a local name and tag, built here (never pulled).
sed -e "s|^GITHUB_APP_ID=.*|GITHUB_APP_ID=$APP_ID|" \
  -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')|" \
  -e "s|^GITHUB_API_URL=.*|GITHUB_API_URL=http://$host_ip:$SIM_PORT|" \
  -e "s|^EXECUTOR_HOST_ID=.*|EXECUTOR_HOST_ID=compose-smoke|" \
  -e "s|^RUNNERHUB_VERSION=.*|RUNNERHUB_VERSION=smoke|" -e "s|^RUNNERHUB_REGISTRY=.*|RUNNERHUB_REGISTRY=runnerhub-smoke|" \
  -e "s|^RUNNERHUB_DATA=.*|RUNNERHUB_DATA=$work/data|" -e "s|^RUNNERHUB_CONFIG=.*|RUNNERHUB_CONFIG=$work/config|" \
  -e "s|^RUNNERHUB_SECRETS=.*|RUNNERHUB_SECRETS=$work/secrets|" \
  -e "s|^RUNNERHUB_UID=.*|RUNNERHUB_UID=$SMOKE_UID|" -e "s|^RUNNERHUB_GID=.*|RUNNERHUB_GID=$SMOKE_UID|" \
  -e "s|^EXECUTOR_RESERVED_CPUS=.*|EXECUTOR_RESERVED_CPUS=0|" -e "s|^EXECUTOR_RESERVED_MEMORY_MB=.*|EXECUTOR_RESERVED_MEMORY_MB=1024|" \
  -e "s|^# BASE_IMAGE=.*|BASE_IMAGE=runnerhub/node-base:dev|" -e "s|^# RUNNERHUB_ENV_FILE=.*|RUNNERHUB_ENV_FILE=$work/.env|" \
  example.env >"$work/.env"
# Debian's nats-server (2.9) predates `sync_interval` (2.10): the stand-in gets the file without it.
grep -v '^ *sync_interval:' deploy/nats/nats.conf >"$work/nats.conf"
cat >"$work/override.yml" <<EOF
# Generated by scripts/compose-smoke.sh: stand-in infrastructure images.
services:
  nats: { image: runnerhub/standin-nats:dev, volumes: ["$work/nats.conf:/etc/nats/nats.conf:ro", "$work/data/nats:/data"] }
  postgres: { image: runnerhub/standin-postgres:dev }
  redis: { image: runnerhub/standin-redis:dev }
  socket-proxy: { image: runnerhub/standin-haproxy:dev }
  prometheus: { image: runnerhub/standin-prometheus:dev }
EOF

say "starting the simulator on :$SIM_PORT"
node tools/github-sim/bin/github-sim.js serve --host 0.0.0.0 --port "$SIM_PORT" --runner-host "$host_ip" --app-id "$APP_ID" \
  --webhook-url "http://127.0.0.1:8080/webhooks/github" --webhook-secret "$webhook_secret" \
  --installation demo:hello-world --private-key-file "$work/secrets/github_app_private_key" --app-file "$work/app.json" \
  >"$work/sim.log" 2>&1 &
sim_pid=$!

say "building the service images (compose build)"
compose build --quiet webhook-gateway scheduler pool-manager container-executor status-reporter metrics 2>&1 | grep -v -e 'legacy builder is deprecated' -e 'Install the buildx' -e 'docs.docker.com/go/buildx' -e '^ *$' >&2 || true
started=$SECONDS
say "compose up"
compose up -d nats postgres redis socket-proxy webhook-gateway scheduler pool-manager container-executor status-reporter metrics prometheus >/dev/null 2>&1 ||
  { compose ps >&2; exit 1; }
ports=(8080 8081 8082 8083 8084 8085)
for port in "${ports[@]}"; do
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do
    ((SECONDS - started < 240)) || { say "the service on :$port is not ready after 240 s"; compose ps >&2; exit 1; }
    sleep 2
  done
done
say "all six ready $((SECONDS - started)) s after compose up"

sim() { curl -fsS -H 'content-type: application/json' "http://127.0.0.1:$SIM_PORT$1" "${@:2}"; }
ids=()
for _ in $(seq "$JOBS"); do
  ids+=("$(sim /_sim/jobs -X POST -d '{"repository":"demo/hello-world","labels":["self-hosted","linux","smoke"],"durationMs":500}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')")
done
say "created jobs ${ids[*]}; waiting for them to complete"
deadline=$((SECONDS + 180))
for id in "${ids[@]}"; do
  until [[ $(sim "/_sim/jobs/$id" | node -pe 'const j = JSON.parse(require("fs").readFileSync(0)); j.status + ":" + j.conclusion') == completed:success ]]; do
    ((SECONDS < deadline)) || { say "job $id did not complete: $(sim "/_sim/jobs/$id")"; exit 1; }
    sleep 1
  done
done
say "all $JOBS jobs completed with success"
# What a NAS owner sizing a box reads (docker stats: the cgroup's memory, close to RSS), per container.
docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' $(compose ps -q) 2>/dev/null |
  awk '{ print; split($2, m, /[A-Za-z]+/); u = $2; sub(/^[0-9.]+/, "", u); v = m[1] * (u == "GiB" ? 1024 : u == "KiB" ? 1 / 1024 : 1); t += v }
       END { printf "all %d containers: %.0f MiB\n", NR, t }' | sed 's/^/compose-smoke: memory: /' >&2 || true

# The platform's own view: the scheduler knows them as completed, and no runner container is left.
completed=$(curl -fsS -H "authorization: Bearer $admin_token" "http://127.0.0.1:8081/api/jobs?limit=50" |
  node -pe 'const b = JSON.parse(require("fs").readFileSync(0)); b.jobs.filter((j) => j.status === "completed").length')
((completed >= JOBS)) || { say "the scheduler lists $completed completed jobs, expected $JOBS"; exit 1; }
until [[ -z $(docker ps -aq --filter label=io.runnerhub.host=compose-smoke) ]]; do
  ((SECONDS < deadline + 60)) || { say "runner containers left behind: $(docker ps -a --filter label=io.runnerhub.host=compose-smoke --format '{{.Names}}')"; exit 1; }
  sleep 1
done

# What a NAS owner watches: Prometheus (deploy/prometheus) scrapes all six, loads the alert rules and
# counts the jobs (scrape interval 15 s).
prom() { curl -fsS "http://127.0.0.1:9090/api/v1/$1" "${@:2}"; }
until [[ $(prom query --data-urlencode 'query=sum(runnerhub_jobs_completed_total{pool="smoke",conclusion="success"})' |
  node -pe 'JSON.parse(require("fs").readFileSync(0)).data.result[0]?.value[1] ?? 0') -ge $JOBS ]]; do
  ((SECONDS < deadline + 120)) || { say "Prometheus does not count $JOBS completed jobs: $(prom targets)"; exit 1; }
  sleep 2
done
# A target scraped before its service listened stays down until its next scrape.
until down=$(prom targets | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.activeTargets.filter((t) => t.health !== "up").map((t) => t.labels.job + ": " + t.lastError).join("; ")') && [[ -z $down ]]; do
  ((SECONDS < deadline + 150)) || { say "Prometheus targets not up: $down"; exit 1; }
  sleep 2
done
rules=$(prom rules | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.groups.reduce((n, g) => n + g.rules.length, 0)')
((rules > 0)) || { say "Prometheus loaded no alert rules"; exit 1; }
say "Prometheus: every target up, $rules rules loaded, runnerhub_jobs_completed_total counts the $JOBS jobs"

# The conventions a NAS owner relies on: every container healthy with bounded logs, the data where
# RUNNERHUB_DATA says, the services as RUNNERHUB_UID.
until unhealthy=$(for c in $(compose ps -q); do docker inspect "$c" --format '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}'; done | grep -v ' healthy$' || true) && [[ -z $unhealthy ]]; do
  [[ $unhealthy != *no-healthcheck* ]] || { say "containers without a healthcheck: $unhealthy"; exit 1; }
  ((SECONDS < deadline + 210)) || { say "containers not healthy: $unhealthy"; exit 1; }
  sleep 2
done
unbounded=$(for c in $(compose ps -q); do docker inspect "$c" --format '{{.Name}} {{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "max-size"}}'; done | grep -v ' json-file 10m$' || true)
[[ -z $unbounded ]] || { say "containers whose logs are not bounded: $unbounded"; exit 1; }
[[ -s $work/data/postgres/PG_VERSION && -d $work/data/nats/jetstream ]] || { say "PostgreSQL's or NATS's data is not under RUNNERHUB_DATA ($work/data): $(ls -la "$work/data" "$work/data"/* 2>&1 | head -20)"; exit 1; }
users=$(for s in webhook-gateway scheduler pool-manager container-executor status-reporter metrics; do docker inspect "$(compose ps -q "$s")" --format '{{.Config.User}}'; done | sort -u)
[[ $users == "$SMOKE_UID:$SMOKE_UID" ]] || { say "the services run as $users, not RUNNERHUB_UID:RUNNERHUB_GID $SMOKE_UID:$SMOKE_UID"; exit 1; }
say "every container healthy with bounded logs, data under RUNNERHUB_DATA, services as uid $SMOKE_UID"

# A missing pools.yaml: the pool-manager says so, and no directory of that name appears.
mv "$work/config/pools.yaml" "$work/pools.yaml.away"
compose restart pool-manager >/dev/null 2>&1
until compose logs --tail 20 pool-manager 2>&1 | grep -q 'POOLS_FILE /etc/runnerhub/pools.yaml does not exist'; do
  ((SECONDS < deadline + 270)) || { say "the pool-manager did not name the missing pools file: $(compose logs --tail 10 pool-manager 2>&1)"; exit 1; }
  sleep 1
done
[[ ! -e $work/config/pools.yaml ]] || { say "something made $work/config/pools.yaml: $(ls -ld "$work/config/pools.yaml")"; exit 1; }
say "a missing pools.yaml is named by the pool-manager; nothing made in its place"
mv "$work/pools.yaml.away" "$work/config/pools.yaml"
# With the file back, the restarting pool-manager comes up on its own (restart: unless-stopped).
# Waiting for it also keeps `down` from meeting a container in the middle of a restart, which
# docker-compose cannot stop ("Container is restarting, wait until the container is running").
until curl -fs -o /dev/null http://127.0.0.1:8082/readyz; do
  ((SECONDS < deadline + 330)) || { say "the pool-manager did not come back with pools.yaml restored: $(compose logs --tail 10 pool-manager 2>&1)"; exit 1; }
  sleep 1
done
say "with pools.yaml restored the pool-manager is ready again"

# `down` stops the executor before the socket proxy, so it removes the spare networks it made.
# (A pool-manager caught between restarts can fail the first down; a second one finishes it.)
downed=$(compose down -v --remove-orphans 2>&1) || downed=$(compose down -v --remove-orphans 2>&1) || { say "compose down failed twice: $downed"; exit 1; }
left=$(docker network ls --filter label=io.runnerhub.host=compose-smoke --format '{{.Name}}')
[[ -z $left ]] || { say "networks left behind after compose down: $left"; exit 1; }
left=$(runner_volumes | tr '\n' ' ')
[[ -z ${left// /} ]] || { say "runner volumes left behind: $left"; exit 1; }
say "ok: $JOBS jobs ran through the compose stack; no runner container, network or volume left"
