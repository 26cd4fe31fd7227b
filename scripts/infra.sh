#!/usr/bin/env bash
# Local infrastructure for development and CI: NATS (JetStream), PostgreSQL, Redis, the Docker
# engine and the Docker socket proxy (HAProxy on 127.0.0.1:2375); and Prometheus' binaries for tests.
#
#   scripts/infra.sh up      reuse what already answers, install (Debian packages) and start the rest
#   scripts/infra.sh status  probe everything, print the table; exit 1 when something is down
#   scripts/infra.sh down [part ...]  stop what `up` started (only the parts named, if any: nats, postgres,
#                                     redis, docker, socket-proxy); leave alone what it found running
#   scripts/infra.sh started          list the parts `up` started and has not stopped
#
# Built for a Debian 12 machine without systemd where we are root (CI, dev containers). `up` is
# idempotent and returns in a few seconds when everything already runs.
#
# Settings (environment):
#   INFRA_LOG_DIR     daemon logs                      (default /var/log/runnerhub)
#   INFRA_STATE_DIR   pid files, "started by us" marks (default /var/lib/runnerhub/infra)
#   DOCKERD_ARGS      extra dockerd flags, e.g. --storage-driver=vfs when overlay2 is unavailable
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOG_DIR=${INFRA_LOG_DIR:-/var/log/runnerhub}
STATE_DIR=${INFRA_STATE_DIR:-/var/lib/runnerhub/infra}
DATA_DIR=/var/lib/runnerhub
NATS_CONF="$ROOT/deploy/nats/nats-ci.conf"
PROXY_CONF="$ROOT/deploy/socket-proxy/haproxy.cfg"
DOCKER_SOCKET=/var/run/docker.sock

SERVICES=(nats postgres redis docker socket-proxy)
declare -A PACKAGE=([nats]=nats-server [postgres]=postgresql [redis]=redis-server [docker]=docker.io [socket-proxy]=haproxy)
declare -A BINARY=([nats]=nats-server [postgres]=pg_ctlcluster [redis]=redis-server [docker]=dockerd [socket-proxy]=haproxy)
declare -A PORT=([nats]=4222 [postgres]=5432 [redis]=6379 [socket-proxy]=2375)
declare -A ENDPOINT=([nats]=nats://127.0.0.1:4222 [postgres]=postgres://127.0.0.1:5432/runnerhub
  [redis]=redis://127.0.0.1:6379 [docker]=unix://$DOCKER_SOCKET [socket-proxy]=http://127.0.0.1:2375)
# Tools (not daemons) tests need, with their Debian package: Prometheus and promtool for the metrics
# service's stack test (deploy/prometheus), Alertmanager for its alert-delivery test
# (deploy/alertmanager). Installed when missing; never started here (the tests run their own on free
# ports, and policy-rc.d keeps the packages' services from starting).
# The fault tests (e2e/test/faults.test.ts) start servers of their own even where the shared ones
# answer: a second dockerd in a network namespace (ip, nsenter) with a socket proxy (haproxy), a
# Redis (redis-server) and a Postgres cluster (Debian's postgresql binaries, /usr/lib/postgresql).
# The console's browser test (e2e/test/console.test.ts) drives Debian's Chromium (/usr/bin/chromium)
# through playwright-core; the alert test (services/metrics) runs Debian's Alertmanager.
declare -A TOOL_PACKAGE=([promtool]=prometheus [prometheus]=prometheus [prometheus-alertmanager]=prometheus-alertmanager [ip]=iproute2 [nsenter]=util-linux [haproxy]=haproxy [redis-server]=redis-server [dockerd]=docker.io [chromium]=chromium)
# Docker's first start sets up its storage and networks; Postgres may run crash recovery.
declare -A WAIT_SECONDS=([nats]=20 [postgres]=60 [redis]=20 [docker]=90 [socket-proxy]=20)
declare -A STATE=()   # reused | started | down | failed
declare -A DETAIL=()

say() { printf 'infra: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

port_open() { timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0' "$1" 2>/dev/null; }

# Status code of a plain HTTP/1.0 request, "000" when nothing answers.
http_status() {
  local method=$1 port=$2 path=$3 line
  line=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0; printf "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" "$2" >&3; head -n1 <&3' \
    "$port" "$method" "$path" 2>/dev/null) || true
  line=${line#* }
  printf '%s' "${line:0:3}" | grep -E '^[0-9]{3}$' || printf '000'
}

# --- probes: return 0 when the service answers; fill DETAIL ---------------------------------------

probe_nats() {
  local info
  # The server greets every client with one INFO line that says whether JetStream is on.
  info=$(timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222; head -n1 <&3' 2>/dev/null) || return 1
  [[ $info == INFO* ]] || return 1
  if [[ $info != *'"jetstream":true'* ]]; then
    DETAIL[nats]="answers on :4222 but JetStream is off (start it with -js or use deploy/nats/nats-ci.conf)"
    return 2
  fi
  DETAIL[nats]="v$(sed -E 's/.*"version":"([^"]+)".*/\1/' <<<"$info"), jetstream"
}

probe_postgres() {
  if have pg_isready; then
    pg_isready -q -h 127.0.0.1 -p 5432 -t 2 || return 1
  else
    port_open 5432 || return 1
  fi
  DETAIL[postgres]="accepting connections"
}

probe_redis() {
  local reply
  reply=$(timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379; printf "PING\r\n" >&3; head -n1 <&3' 2>/dev/null) || return 1
  [[ $reply == +PONG* ]] || return 1
  DETAIL[redis]="PONG"
}

probe_docker() {
  local info
  have docker || return 1
  info=$(timeout 5 docker -H "unix://$DOCKER_SOCKET" info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null) || return 1
  [[ -n $info ]] || return 1
  DETAIL[docker]="v${info% *}, storage ${info#* }"
}

probe_socket_proxy() {
  local ping plugins
  ping=$(http_status GET 2375 /_ping)
  [[ $ping == 200 ]] || return 1
  # Docker itself answers /plugins; only the filtering proxy refuses it. Catches a dockerd that
  # was told to listen on tcp://127.0.0.1:2375 without any filter.
  plugins=$(http_status GET 2375 /plugins)
  if [[ $plugins != 403 ]]; then
    DETAIL[socket-proxy]="127.0.0.1:2375 answers but does not filter (/plugins -> $plugins); it is not the socket proxy"
    return 2
  fi
  DETAIL[socket-proxy]="/_ping 200, /plugins 403"
}

probe() { # name -> 0 up, 1 down, 2 up but unusable (DETAIL says why)
  local rc=0
  "probe_${1//-/_}" || rc=$?
  return $rc
}

# --- install -----------------------------------------------------------------------------------

apt_install() {
  local updated=0 policy_added=0
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$LOG_DIR"
  # Package scripts would start the Debian defaults (nats without JetStream, haproxy with the stock
  # config, ...) through invoke-rc.d. We start each service ourselves with our settings.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    say "apt-get update"
    apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed, see $LOG_DIR/apt.log"
    updated=1
  fi
  say "apt-get install $*"
  if ! apt-get install -y -qq --no-install-recommends "$@" >>"$LOG_DIR/apt.log" 2>&1; then
    ((updated)) && die "apt-get install $* failed, see $LOG_DIR/apt.log"
    # Stale package lists are the usual cause; one update, one retry.
    apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed, see $LOG_DIR/apt.log"
    apt-get install -y -qq --no-install-recommends "$@" >>"$LOG_DIR/apt.log" 2>&1 ||
      die "apt-get install $* failed, see $LOG_DIR/apt.log"
  fi
  if ((policy_added)); then rm -f /usr/sbin/policy-rc.d; fi
}

# --- start -------------------------------------------------------------------------------------

declare -A PID=()   # what `up` launched, to notice a daemon that dies during start

# Runs a daemon in the background, in its own session: a Ctrl-C in the terminal that ran
# `make run` must not reach it. Every stream is redirected so a caller reading our output through
# a pipe is not held open by a daemon. (setsid execs in place here, so $! is the daemon's pid.)
launch() { # name log command...
  local name=$1 log=$2
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  PID[$name]=$!
  printf '%s\n' "$!" >"$STATE_DIR/$name.pid"
  : >"$STATE_DIR/$name.started"
}

start_nats() {
  mkdir -p "$DATA_DIR/nats"
  launch nats "$LOG_DIR/nats.log" nats-server -c "$NATS_CONF" -l "$LOG_DIR/nats.log"
}

postgres_version() { find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1; }

start_postgres() {
  local ver
  ver=$(postgres_version)
  [[ -n $ver ]] || die "postgresql is installed but /usr/lib/postgresql is empty"
  if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
    pg_createcluster "$ver" main >>"$LOG_DIR/postgres.log" 2>&1 || die "pg_createcluster $ver main failed, see $LOG_DIR/postgres.log"
  fi
  # pg_ctlcluster returns once the server runs; in the background so everything starts at once.
  # The session matters most here: Postgres takes SIGINT as "fast shutdown".
  launch postgres "$LOG_DIR/postgres.log" pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  printf '%s\n' "$ver" >"$STATE_DIR/postgres.started"
}

start_redis() {
  mkdir -p "$DATA_DIR/redis"
  # CI data is throwaway: no snapshots, no append-only file.
  launch redis "$LOG_DIR/redis.log" redis-server --bind 127.0.0.1 --port 6379 --dir "$DATA_DIR/redis" \
    --logfile "$LOG_DIR/redis.log" --save '' --appendonly no
}

start_docker() {
  # dockerd picks overlay2 when the kernel and the backing filesystem allow it and falls back to
  # vfs on its own (as inside a container); DOCKERD_ARGS can force a driver.
  # shellcheck disable=SC2086
  launch docker "$LOG_DIR/dockerd.log" dockerd --host "unix://$DOCKER_SOCKET" ${DOCKERD_ARGS:-}
}

start_socket_proxy() {
  launch socket-proxy "$LOG_DIR/haproxy.log" haproxy -W -f "$PROXY_CONF"
  conf_hash >"$STATE_DIR/socket-proxy.conf-hash"
}

conf_hash() { sha256sum "$PROXY_CONF" | cut -d' ' -f1; }

# A proxy we started with an older haproxy.cfg keeps enforcing the old rules: stop it so `up`
# starts it again with the current file. One started by someone else is left alone.
restart_stale_proxy() {
  local pid
  [[ -f $STATE_DIR/socket-proxy.started && -f $STATE_DIR/socket-proxy.pid ]] || return 0
  [[ $(cat "$STATE_DIR/socket-proxy.conf-hash" 2>/dev/null) == "$(conf_hash)" ]] && return 0
  pid=$(cat "$STATE_DIR/socket-proxy.pid")
  if kill -0 "$pid" 2>/dev/null; then
    say "haproxy.cfg changed since the socket proxy started: restarting it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE_DIR/socket-proxy.started" "$STATE_DIR/socket-proxy.pid" "$STATE_DIR/socket-proxy.conf-hash"
}

log_of() {
  case $1 in
    nats) echo "$LOG_DIR/nats.log" ;;
    postgres) echo "$LOG_DIR/postgres.log and /var/log/postgresql/" ;;
    redis) echo "$LOG_DIR/redis.log" ;;
    docker) echo "$LOG_DIR/dockerd.log" ;;
    socket-proxy) echo "$LOG_DIR/haproxy.log" ;;
  esac
}

wait_for() {
  local name=$1 deadline=$((SECONDS + WAIT_SECONDS[$1])) rc pid
  while :; do
    pid=${PID[$name]:-}
    rc=0
    probe "$name" || rc=$?
    if ((rc == 0)); then return 0; fi
    if ((rc == 2)); then return 1; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      # pg_ctlcluster exits once the server runs: only fail if a last probe still gets nothing.
      rc=0
      probe "$name" || rc=$?
      if ((rc == 0)); then return 0; fi
      DETAIL[$name]="exited during start; see $(log_of "$name")"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      DETAIL[$name]="no answer within ${WAIT_SECONDS[$name]}s; see $(log_of "$name")"
      return 1
    fi
    sleep 0.3
  done
}

show_log_tail() {
  local file
  case $1 in
    postgres) file=$(find /var/log/postgresql -name 'postgresql-*.log' 2>/dev/null | sort | tail -n1) ;;
    *) file=$(log_of "$1") ;;
  esac
  if [[ -n $file && -f $file ]]; then
    say "last lines of $file:"
    tail -n 8 "$file" | sed 's/^/    /' >&2
  fi
}

# --- database ----------------------------------------------------------------------------------

psql_admin() {
  # As the postgres OS user over the Unix socket: works with Debian's peer auth and with trust.
  if id postgres >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@")
  else
    psql "${POSTGRES_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}" -X -q -v ON_ERROR_STOP=1 "$@"
  fi
}

app_login() { PGPASSWORD=runnerhub PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p 5432 -U runnerhub -d runnerhub -tAc "$1" 2>/dev/null; }

ensure_database() {
  local version
  if version=$(app_login 'show server_version'); then
    DETAIL[postgres]="v${version%% *}, db runnerhub"
    return 0
  fi
  say "creating role and database runnerhub"
  psql_admin >>"$LOG_DIR/postgres.log" 2>&1 <<'SQL' || { DETAIL[postgres]="could not create role/database runnerhub; see $LOG_DIR/postgres.log"; return 1; }
SELECT 'CREATE ROLE runnerhub' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'runnerhub') \gexec
ALTER ROLE runnerhub LOGIN CREATEDB PASSWORD 'runnerhub';
SELECT 'CREATE DATABASE runnerhub OWNER runnerhub' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'runnerhub') \gexec
SELECT 'ALTER DATABASE runnerhub OWNER TO runnerhub' FROM pg_database
  WHERE datname = 'runnerhub' AND pg_get_userbyid(datdba) <> 'runnerhub' \gexec
SQL
  if ! version=$(app_login 'show server_version'); then
    DETAIL[postgres]="role runnerhub exists but cannot log in over 127.0.0.1 (check pg_hba.conf)"
    return 1
  fi
  DETAIL[postgres]="v${version%% *}, db runnerhub"
}

# --- commands ----------------------------------------------------------------------------------

print_table() {
  local name
  printf '\n%-13s %-36s %-8s %s\n' SERVICE ENDPOINT STATE DETAIL
  for name in "${SERVICES[@]}"; do
    printf '%-13s %-36s %-8s %s\n' "$name" "${ENDPOINT[$name]}" "${STATE[$name]:-down}" "${DETAIL[$name]:-}"
  done
  printf '\nlogs: %s\n' "$LOG_DIR"
}

cmd_up() {
  local name rc missing=() to_start=() failed=()
  mkdir -p "$LOG_DIR" "$STATE_DIR"
  restart_stale_proxy

  for name in "${SERVICES[@]}"; do
    rc=0
    probe "$name" || rc=$?
    case $rc in
      0) STATE[$name]=reused ;;
      2) STATE[$name]=failed ;;
      *)
        # Something holds the port but does not answer yet (still starting): wait, do not start
        # a second copy that would only fail to bind.
        if [[ -n ${PORT[$name]:-} ]] && port_open "${PORT[$name]}"; then
          STATE[$name]=waiting
        else
          to_start+=("$name")
          have "${BINARY[$name]}" || missing+=("${PACKAGE[$name]}")
        fi
        ;;
    esac
  done

  for name in "${!TOOL_PACKAGE[@]}"; do
    have "$name" || [[ " ${missing[*]} " == *" ${TOOL_PACKAGE[$name]} "* ]] || missing+=("${TOOL_PACKAGE[$name]}")
  done
  # The CLI's completion test (tools/cli) runs the bash script as a user's shell would, with the
  # bash-completion package's helpers (_get_comp_words_by_ref) loaded.
  [[ -f /usr/share/bash-completion/bash_completion ]] || missing+=(bash-completion)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  # The Node.js .node-version pins, in its own prefix (the machine's node is left alone).
  bash "$ROOT/scripts/install-node.sh" >/dev/null || die "could not install the pinned Node.js (scripts/install-node.sh)"

  for name in "${to_start[@]}"; do
    say "starting $name"
    "start_${name//-/_}"
    STATE[$name]=started
  done

  for name in "${SERVICES[@]}"; do
    case ${STATE[$name]} in
      reused | failed) ;;
      *)
        if [[ $name == socket-proxy && ${STATE[docker]} == failed ]]; then
          STATE[$name]=failed
          DETAIL[$name]="cannot answer while Docker is down"
        elif wait_for "$name"; then
          [[ ${STATE[$name]} == waiting ]] && STATE[$name]=reused
        else
          STATE[$name]=failed
        fi
        ;;
    esac
  done

  if [[ ${STATE[postgres]} != failed ]] && ! ensure_database; then STATE[postgres]=failed; fi

  print_table
  for name in "${SERVICES[@]}"; do [[ ${STATE[$name]} == failed ]] && failed+=("$name"); done
  if ((${#failed[@]})); then
    for name in "${failed[@]}"; do
      say "FAILED: $name: ${DETAIL[$name]:-}"
      show_log_tail "$name"
    done
    exit 1
  fi
}

cmd_status() {
  local name rc down=0
  for name in "${SERVICES[@]}"; do
    rc=0
    probe "$name" || rc=$?
    if ((rc == 0)); then
      STATE[$name]=up
      [[ -e $STATE_DIR/$name.started ]] && STATE[$name]=ours
    else
      STATE[$name]=down
      down=1
    fi
  done
  if [[ ${STATE[postgres]} != down ]] && ! ensure_database; then STATE[postgres]=down; down=1; fi
  print_table
  exit "$down"
}

stop_pid() { # name
  local pid deadline=$((SECONDS + 30))
  pid=$(cat "$STATE_DIR/$1.pid" 2>/dev/null) || return 0
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || { say "$1 (pid $pid) did not stop within 30s"; return 1; }
    sleep 0.2
  done
}

cmd_down() {
  local name ver only=" $* "
  # Newest first: the proxy before the engine it fronts. Names given: only those.
  for name in socket-proxy docker redis postgres nats; do
    [[ $only == "  " || $only == *" $name "* ]] || continue
    if [[ ! -e $STATE_DIR/$name.started ]]; then
      say "$name: not started by this script, left alone"
      continue
    fi
    say "stopping $name"
    if [[ $name == postgres ]]; then
      ver=$(<"$STATE_DIR/postgres.started")
      pg_ctlcluster --skip-systemctl-redirect "$ver" main stop >>"$LOG_DIR/postgres.log" 2>&1 || true
    else
      stop_pid "$name"
    fi
    rm -f "$STATE_DIR/$name.started" "$STATE_DIR/$name.pid"
  done
}

case ${1:-} in
  up) cmd_up ;;
  status) cmd_status ;;
  down) shift; cmd_down "$@" ;;
  started) ls "$STATE_DIR" 2>/dev/null | sed -n 's/\.started$//p' ;;
  *) echo "usage: $0 up|status|down [part ...]|started" >&2; exit 2 ;;
esac
