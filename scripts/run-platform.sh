#!/usr/bin/env bash
# Runs the whole platform from source on this machine (`make run`): the infrastructure, then the
# six services, each from its TypeScript sources.
#
#   scripts/run-platform.sh                  start, wait for every /readyz, then follow the logs; Ctrl-C stops
#   scripts/run-platform.sh start --detach   start and wait for every /readyz, then return (make demo)
#   scripts/run-platform.sh follow           follow the logs of running services; Ctrl-C stops them
#   scripts/run-platform.sh stop             stop the services a run started (`make down`, from any terminal)
#
# Settings live in .run/platform.env, written on the first run with a random admin token; edit it
# freely, delete it to start over. Logs: .run/logs/<service>.log. Pid files: .run/<service>.pid.
# .run/runnerhub.env (mode 0600, rewritten on every start) tells the runnerhub CLI where the services
# are and gives it the write token, so `npx runnerhub status` works from the repository at once.
# RUNNERHUB_ALL_IN_ONE=1 (make demo: DEMO_ALL_IN_ONE=1) runs the six in one process instead
# (services/all-in-one), each service on its usual port; its log is .run/logs/all-in-one.log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR="$ROOT/.run"
LOG_DIR="$RUN_DIR/logs"
ENV_FILE="$RUN_DIR/platform.env"

SERVICES=(webhook-gateway scheduler pool-manager container-executor status-reporter metrics)
# The six APIs, whichever way they run; ALL_IN_ONE_NAME is the one process of the all-in-one.
APIS=("${SERVICES[@]}")
ALL_IN_ONE_NAME=all-in-one
if [[ ${RUNNERHUB_ALL_IN_ONE:-0} == 1 ]]; then SERVICES=("$ALL_IN_ONE_NAME"); fi
# Without a GitHub App (no GITHUB_APP_ID in the settings) the local GitHub simulator runs too, as
# the platform's GitHub: it signs webhooks with GITHUB_WEBHOOK_SECRET and sends them to the gateway.
SIMULATOR=github-sim
declare -A PORT=([webhook-gateway]=8080 [scheduler]=8081 [pool-manager]=8082 [container-executor]=8083
  [status-reporter]=8084 [metrics]=8085 [github-sim]=8900)
declare -A READY_PATH=([github-sim]=/meta)
# The all-in-one's ports are the six's; it is ready when all six are (ready_status).
PORT[$ALL_IN_ONE_NAME]=${PORT[webhook-gateway]}
# tsx compiles every service on start; six at once on two cores takes a while.
READY_TIMEOUT=${READY_TIMEOUT:-120}
# Above the services' own SHUTDOWN_TIMEOUT_MS (25 s) so they get to finish in-flight work.
STOP_TIMEOUT=30

say() { printf 'run: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }
alive() { local pid; pid=$(pid_of "$1"); [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }

http_status() { # port path -> status code, 000 when nothing answers
  local line
  line=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0; printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3; head -n1 <&3' \
    "$1" "$2" 2>/dev/null) || true
  line=${line#* }
  printf '%s' "${line:0:3}" | grep -E '^[0-9]{3}$' || printf '000'
}

# /readyz of a process: 200 when it (for the all-in-one: each of the six) answers 200.
ready_status() {
  local name=$1 api code
  if [[ $name != "$ALL_IN_ONE_NAME" ]]; then http_status "${PORT[$name]}" "${READY_PATH[$name]:-/readyz}"; return; fi
  for api in "${APIS[@]}"; do
    code=$(http_status "${PORT[$api]}" /readyz)
    [[ $code == 200 ]] || { printf '%s' "$code"; return; }
  done
  printf 200
}

stop_services() {
  local name pid deadline stopped=()
  # Either way the platform ran (six processes or the all-in-one): `make down` knows neither.
  for name in "${APIS[@]}" "$ALL_IN_ONE_NAME" "$SIMULATOR"; do
    pid=$(pid_of "$name")
    if [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; then stopped+=("$name"); fi
  done
  ((${#stopped[@]})) || { say "no service of a previous run is running"; rm -f "$RUN_DIR"/*.pid; return 0; }
  say "stopping ${stopped[*]}"
  deadline=$((SECONDS + STOP_TIMEOUT))
  for name in "${stopped[@]}"; do
    while alive "$name"; do
      if ((SECONDS >= deadline)); then
        say "$name did not stop within ${STOP_TIMEOUT}s; killing it"
        kill -KILL "$(pid_of "$name")" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
    rm -f "$RUN_DIR/$name.pid"
  done
  # With the simulator gone, the warm runners waiting for it can never take a job: remove them (and
  # their volumes and networks) so a stopped demo leaves nothing in Docker. Against a GitHub App they stay, to
  # be taken up again by the next start.
  if [[ " ${stopped[*]} " == *" $SIMULATOR "* ]]; then remove_demo_runners; fi
  say "stopped"
}

remove_demo_runners() {
  command -v docker >/dev/null || return 0
  local deployment host filters containers networks
  deployment=$(sed -n 's/^DEPLOYMENT_ID=//p' "$ENV_FILE" 2>/dev/null)
  host=$(sed -n 's/^EXECUTOR_HOST_ID=//p' "$ENV_FILE" 2>/dev/null)
  [[ -n $host ]] || return 0
  filters=(--filter label=io.runnerhub.managed=true --filter "label=io.runnerhub.deployment=${deployment:-runnerhub}" --filter "label=io.runnerhub.host=$host")
  containers=$(docker ps -aq "${filters[@]}" 2>/dev/null) || return 0
  if [[ -n $containers ]]; then
    say "removing the demo's runner containers: $(docker ps -a "${filters[@]}" --format '{{.Names}}' | tr '\n' ' ')"
    # -v: with their anonymous volumes (the JIT file's), which nothing could find again afterwards.
    # shellcheck disable=SC2086 # one id per word
    docker rm -f -v $containers >/dev/null 2>&1 || true
  fi
  networks=$(docker network ls -q "${filters[@]}" 2>/dev/null) || return 0
  # shellcheck disable=SC2086 # one id per word
  [[ -z $networks ]] || docker network rm $networks >/dev/null 2>&1 || true
}

write_env_file() {
  local token viewer
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  viewer=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cat >"$ENV_FILE" <<EOF
# Settings for \`make run\`, generated once by scripts/run-platform.sh. Edit freely; delete the file
# to generate a new one (with new tokens). Every service reads the same file; HTTP_PORT is set per
# service by the script. Variables: docs/configuration.md.
HTTP_HOST=127.0.0.1
NATS_URL=nats://127.0.0.1:4222
DATABASE_URL=postgres://runnerhub:runnerhub@127.0.0.1:5432/runnerhub
REDIS_URL=redis://127.0.0.1:6379
ADMIN_TOKENS=admin:write:$token,viewer:read:$viewer
# Without a GitHub App this only needs to match what the local simulator signs with.
GITHUB_WEBHOOK_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
LOG_LEVEL=info
DOCKER_HOST=tcp://127.0.0.1:2375
EXECUTOR_HOST_ID=$(hostname | cut -d. -f1 | tr -c 'A-Za-z0-9_\n-' '-')
EOF
  chmod 600 "$ENV_FILE"
  say "wrote $ENV_FILE"
}

# The runnerhub CLI's profile (docs/cli.md): each service's URL and the admin token of the settings.
write_cli_profile() {
  local profile="$RUN_DIR/runnerhub.env" token name var
  token=$(setting ADMIN_TOKENS | tr ',' '\n' | sed -n 's/^[^:]*:write:\(.*\)$/\1/p' | head -n1)
  (
    umask 077
    {
      printf '# Written by scripts/run-platform.sh on every start, for the runnerhub CLI (docs/cli.md).\n'
      for name in "${APIS[@]}"; do
        var=RUNNERHUB_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')_URL
        printf '%s=http://127.0.0.1:%s\n' "$var" "${PORT[$name]}"
      done
      printf 'RUNNERHUB_TOKEN=%s\n' "$token"
    } >"$profile"
  )
  chmod 600 "$profile"
}

# A value of the settings file (or, when the file does not set it, of this script's environment).
setting() { (set +u; source "$ENV_FILE" >/dev/null 2>&1; printf '%s' "${!1:-}"); }

# What the services' environment gets on top of the settings file (the simulator's App, say).
SERVICE_ENV=()

# SIM_WEBHOOKS=0: the simulator sends no webhooks (jobs reach pools with intake scaleset only
# through their scale sets, as behind NAT; DEMO_INTAKE=scaleset sets it).
SIM_WEBHOOK_URL=(--webhook-url "http://127.0.0.1:${PORT[webhook-gateway]}/webhooks/github")
if [[ ${SIM_WEBHOOKS:-1} == 0 ]]; then SIM_WEBHOOK_URL=(); fi

start_service() {
  local name=$1 log="$LOG_DIR/$1.log"
  [[ -f $log ]] && mv -f "$log" "$log.1"
  # Own session: Ctrl-C reaches only this script, which then stops the services in order with
  # SIGTERM, the way an orchestrator would.
  if [[ $name == "$SIMULATOR" ]]; then
    # On every interface so runner containers can reach it: a local demo, never a public host.
    setsid node tools/github-sim/bin/github-sim.js serve --host 0.0.0.0 --runner-host "$SIM_RUNNER_HOST" \
      --port "${PORT[$name]}" --app-id "$SIM_APP_ID" \
      "${SIM_WEBHOOK_URL[@]}" --webhook-secret "$(setting GITHUB_WEBHOOK_SECRET)" \
      --installation demo:hello-world --private-key-file "$RUN_DIR/github-sim-app.pem" --app-file "$RUN_DIR/github-sim-app.json" \
      </dev/null >>"$log" 2>&1 &
  else
    # The settings file is the services' environment and goes into their processes only: exported
    # into this script, it reached every tool the script runs too (the runner image build then
    # talked to Docker through the socket proxy of DOCKER_HOST, which refuses what a build needs).
    # The images' V8 settings (Dockerfile), unless the settings file gives NODE_OPTIONS.
    (
      set -a
      # shellcheck source=/dev/null
      source "$ENV_FILE"
      set +a
      if ((${#SERVICE_ENV[@]})); then export "${SERVICE_ENV[@]}"; fi
      # The all-in-one's services keep their default ports (8080–8085, as PORT says).
      if [[ $name != "$ALL_IN_ONE_NAME" ]]; then export HTTP_PORT=${PORT[$name]}; fi
      NODE_OPTIONS=${NODE_OPTIONS:---max-semi-space-size=1} \
        exec setsid node --conditions=runnerhub-source --import tsx "services/$name/src/main.ts"
    ) </dev/null >>"$log" 2>&1 &
  fi
  printf '%s\n' "$!" >"$RUN_DIR/$name.pid"
}

# One stream on the terminal, each line prefixed with its service. Sets TAIL_PID.
follow_logs() {
  local files=() name
  for name in "${SERVICES[@]}"; do files+=("$LOG_DIR/$name.log"); done
  tail -n 0 -F "${files[@]}" 2>/dev/null > >(awk '
    /^==> .* <==$/ { n = $2; sub(/^.*\//, "", n); sub(/\.log$/, "", n); next }
    NF { printf "%-18s | %s\n", n, $0; fflush() }') &
  TAIL_PID=$!
}

cmd_start() {
  local name api pending ready deadline token code detach=${1:-}
  cd "$ROOT"
  for name in "${APIS[@]}" "$ALL_IN_ONE_NAME"; do
    alive "$name" && die "$name is already running (pid $(pid_of "$name")); stop it with: make down"
  done
  for name in "${SERVICES[@]}"; do
    [[ -f services/$name/src/main.ts ]] || die "services/$name/src/main.ts is missing"
  done
  mkdir -p "$LOG_DIR"

  bash scripts/infra.sh up
  # The pinned Node.js, which `infra.sh up` installs on a fresh machine.
  # shellcheck source=lib/node-env.sh
  source "$ROOT/scripts/lib/node-env.sh"
  hash -r
  if [[ ! -d node_modules ]]; then
    say "node_modules missing: npm ci"
    npm ci
  fi
  [[ -f $ENV_FILE ]] || write_env_file
  # Settings added since the file was written get their generated default once.
  grep -q '^GITHUB_WEBHOOK_SECRET=' "$ENV_FILE" ||
    printf 'GITHUB_WEBHOOK_SECRET=%s\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$ENV_FILE"

  trap 'echo >&2; stop_services; exit 130' INT
  trap 'stop_services; exit 143' TERM

  if [[ -z $(setting GITHUB_APP_ID) ]]; then
    SERVICES=("$SIMULATOR" "${SERVICES[@]}")
    # The simulator plays the GitHub App too: the services call it with its key.
    SIM_APP_ID=424242
    local pools key="$RUN_DIR/github-sim-app.pem"
    pools=$(setting POOLS_FILE)
    pools=${pools:-$ROOT/deploy/demo/pools.yaml}
    # FAKE_RUNNER_IMAGE: the runner image under another name (CI's first-run check builds its own).
    if [[ -n ${FAKE_RUNNER_IMAGE:-} && $FAKE_RUNNER_IMAGE != runnerhub/fake-runner:dev ]]; then
      sed "s#runnerhub/fake-runner:dev#$FAKE_RUNNER_IMAGE#g" "$pools" >"$RUN_DIR/pools.yaml"
      pools=$RUN_DIR/pools.yaml
    fi
    SERVICE_ENV=("GITHUB_API_URL=http://127.0.0.1:${PORT[$SIMULATOR]}" "GITHUB_APP_ID=$SIM_APP_ID"
      "GITHUB_APP_PRIVATE_KEY_FILE=$key" "POOLS_FILE=$pools"
      "CONSOLE_GITHUB_URL=http://127.0.0.1:${PORT[$SIMULATOR]}" "CONSOLE_SECRETS_DIR=$RUN_DIR/console-secrets")
    # Runner containers reach the simulator through Docker's bridge gateway (the host).
    SIM_RUNNER_HOST=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)
    SIM_RUNNER_HOST=${SIM_RUNNER_HOST:-172.17.0.1}
    bash scripts/build-runner-image.sh
    [[ -f $key ]] || node -e '
      const { generateKeyPairSync } = require("node:crypto");
      const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" });
      require("node:fs").writeFileSync(process.argv[1], pem, { mode: 0o600 });' "$key"
  fi

  for name in "${SERVICES[@]}"; do start_service "$name"; done
  write_cli_profile
  say "started ${SERVICES[*]}; waiting for /readyz (up to ${READY_TIMEOUT}s)"

  declare -A READY=()
  deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    pending=0
    for name in "${SERVICES[@]}"; do
      [[ -n ${READY[$name]:-} ]] && continue
      if ! alive "$name"; then
        say "$name exited during start; last lines of $LOG_DIR/$name.log:"
        tail -n 20 "$LOG_DIR/$name.log" | sed 's/^/    /' >&2
        stop_services
        exit 1
      fi
      code=$(ready_status "$name")
      if [[ $code == 200 ]]; then READY[$name]=yes; else pending=1; fi
    done
    ((pending)) || break
    ((SECONDS < deadline)) || break
    sleep 1
  done

  printf '\n%-19s %-24s %-10s %s\n' SERVICE URL READY LOG
  for name in "${SERVICES[@]}"; do
    if [[ $name == "$ALL_IN_ONE_NAME" ]]; then
      # One process, six APIs: a row each, one log.
      for api in "${APIS[@]}"; do
        ready=${READY[$name]:-"NO ($(http_status "${PORT[$api]}" /readyz))"}
        printf '%-19s %-24s %-10s %s\n' "$api" "http://127.0.0.1:${PORT[$api]}" "$ready" ".run/logs/$name.log (pid $(pid_of "$name"))"
      done
      continue
    fi
    ready=${READY[$name]:-"NO ($(ready_status "$name"))"}
    printf '%-19s %-24s %-10s %s\n' "$name" "http://127.0.0.1:${PORT[$name]}" "$ready" ".run/logs/$name.log"
  done
  token=$(sed -n 's/^ADMIN_TOKENS=admin:write:\([^,]*\).*/\1/p' "$ENV_FILE")
  printf '\nconsole: http://127.0.0.1:%s/console (sign in with the admin token; docs/console.md)\n' "${PORT[metrics]}"
  printf 'admin token (write): %s\n' "${token:-see ADMIN_TOKENS in .run/platform.env}"
  printf 'settings: .run/platform.env   stop: Ctrl-C here, or make down\n'
  printf 'ask it:   npx runnerhub status   (the CLI reads .run/runnerhub.env; docs/cli.md)\n'
  if [[ ${SERVICES[0]} == "$SIMULATOR" ]]; then
    printf 'no GitHub App configured: GitHub is simulated at http://127.0.0.1:%s (installation demo/hello-world)\n' "${PORT[$SIMULATOR]}"
    printf '  run a job:  npx github-sim job --repo demo/hello-world --labels self-hosted,small --command "echo hello"\n'
    printf '  watch it:   npx github-sim jobs   and   curl -H "Authorization: Bearer <token>" :8082/api/runners\n'
  fi
  printf '\n'
  if [[ $detach == --detach ]]; then
    trap - INT TERM
    return 0
  fi
  cmd_follow
}

cmd_follow() {
  local name
  cd "$ROOT"
  # A run without a GitHub App started the simulator too.
  if [[ -n $(pid_of "$SIMULATOR") && " ${SERVICES[*]} " != *" $SIMULATOR "* ]]; then SERVICES=("$SIMULATOR" "${SERVICES[@]}"); fi
  trap 'echo >&2; stop_services; exit 130' INT
  trap 'stop_services; exit 143' TERM
  follow_logs
  # Runs until Ctrl-C, or until every service has gone (make down from another terminal).
  while :; do
    sleep 2
    for name in "${SERVICES[@]}"; do
      if [[ -n $(pid_of "$name") ]] && ! alive "$name"; then
        say "$name exited; see .run/logs/$name.log"
        rm -f "$RUN_DIR/$name.pid"
      fi
    done
    compgen -G "$RUN_DIR/*.pid" >/dev/null || break
  done
  say "every service has stopped"
  kill "$TAIL_PID" 2>/dev/null || true
}

case ${1:-start} in
  start) cmd_start "${2:-}" ;;
  follow) cmd_follow ;;
  stop) stop_services ;;
  *) echo "usage: $0 [start [--detach]|follow|stop]" >&2; exit 2 ;;
esac
