#!/usr/bin/env bash
# Builds stand-ins for the upstream infrastructure images docker-compose.yml names (nats:2.12,
# postgres:17, redis:7.4, haproxy:2.8, prom/prometheus:v3) from this machine's own packages (Debian 12's
# versions: NATS 2.9, PostgreSQL 15, Prometheus 2.42), for a
# machine with no image registry: scripts/compose-smoke.sh runs the compose stack on them. Each keeps
# the part of its upstream image's contract the compose file relies on: the entrypoint and command,
# the config path, the healthcheck tool, and for Postgres the POSTGRES_USER / POSTGRES_PASSWORD /
# POSTGRES_DB first-start initialisation and a non-root server. They are tagged
# runnerhub/standin-<name>:dev, never with the upstream names, so they cannot shadow a real image.
#
#   scripts/build-standin-images.sh      (needs nats-server, postgresql-15, redis, haproxy installed:
#                                         bash scripts/infra.sh up installs them; installs prometheus)
#
# Skips an image whose inputs are unchanged (hash in label runnerhub.standin.hash).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'standin-images: %s\n' "$*" >&2; }
# shellcheck source=lib/node-rootfs.sh
source "$ROOT/scripts/lib/node-rootfs.sh"
require_docker
ensure_static_busybox

PG_BIN=/usr/lib/postgresql/15/bin
if [[ ! -x /usr/bin/prometheus ]]; then
  say "installing prometheus (Debian's)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi
for need in /usr/bin/prometheus /usr/sbin/nats-server /usr/bin/redis-server /usr/bin/redis-cli /usr/sbin/haproxy "$PG_BIN/postgres" "$PG_BIN/initdb" "$PG_BIN/pg_isready"; do
  [[ -x $need ]] || { say "missing $need (bash scripts/infra.sh up installs it)"; exit 1; }
done

# base_rootfs <dir>: busybox with its applets, /tmp, passwd and group.
base_rootfs() {
  local rootfs=$1
  busybox_rootfs "$rootfs"
  mkdir -p "$rootfs"/{etc,tmp,usr/bin,usr/sbin}
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:70:70:postgres:/var/lib/postgresql:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\npostgres:x:70:\nnobody:x:65534:\n' >"$rootfs/etc/group"
}

# with_libs <rootfs> <binary>...: copies each binary to the same path, and every library it links.
with_libs() {
  local rootfs=$1 bin
  shift
  for bin in "$@"; do
    mkdir -p "$rootfs$(dirname "$bin")"
    cp -L "$bin" "$rootfs$bin"
  done
  libs_into "$rootfs" "$@"
}

# build <name> <rootfs> <check...> -- <docker import --change...>: imports unless the hash matches.
build() {
  local name=$1 rootfs=$2 image=runnerhub/standin-$1:dev hash
  shift 2
  hash=$( { cat "${BASH_SOURCE[0]}"; tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .; } | sha256sum | cut -c1-16)
  if [[ $(docker image inspect "$image" --format '{{index .Config.Labels "runnerhub.standin.hash"}}' 2>/dev/null) == "$hash" ]]; then
    say "$image is up to date ($hash)"
    return
  fi
  local check=()
  while (($#)) && [[ $1 != -- ]]; do check+=("$1"); shift; done
  shift
  import_checked "$rootfs" "$image" "${check[@]}" -- --change "LABEL runnerhub.standin.hash=$hash" "$@" >/dev/null
  say "built $image ($(image_size_mb "$image"))"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# NATS: the upstream image's entrypoint is nats-server; compose passes `-c /etc/nats/nats.conf`.
r=$work/nats
base_rootfs "$r"
with_libs "$r" /usr/sbin/nats-server
ln -s /usr/sbin/nats-server "$r/nats-server"
mkdir -p "$r/data"
build nats "$r" --version -- --change 'ENTRYPOINT ["/usr/sbin/nats-server"]' --change 'CMD ["-c", "/etc/nats/nats.conf"]'

# Redis: compose runs `redis-server ...` and checks with `redis-cli ping`.
r=$work/redis
base_rootfs "$r"
with_libs "$r" /usr/bin/redis-server /usr/bin/redis-cli
mkdir -p "$r/data" "$r/usr/local/bin"
# As upstream's entrypoint: a redis-server started without a config file runs with protected mode
# off (the compose network is the boundary), or it would refuse every client from another container.
cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
if [ "$1" = redis-server ] && [ "${2%.conf}" = "${2:-}" ]; then shift; set -- redis-server --protected-mode no "$@"; fi
exec "$@"
EOF
chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
build redis "$r" redis-cli --version -- --change 'WORKDIR /data' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'CMD ["redis-server"]'

# HAProxy: the upstream image reads /usr/local/etc/haproxy/haproxy.cfg (compose mounts it there).
r=$work/haproxy
base_rootfs "$r"
with_libs "$r" /usr/sbin/haproxy
mkdir -p "$r/usr/local/etc/haproxy"
build haproxy "$r" haproxy -v -- --change 'ENV PATH=/usr/sbin:/usr/bin:/bin' \
  --change 'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'

# PostgreSQL 15: as the upstream image, started as root it makes the data directory (a bind mount
# Docker created root-owned) the postgres user's and steps down to it; a first start with an empty
# data directory runs initdb with POSTGRES_USER / POSTGRES_PASSWORD (password auth over TCP), creates
# POSTGRES_DB, then the server runs as the postgres user, listening on every address.
r=$work/postgres
base_rootfs "$r"
with_libs "$r" "$PG_BIN"/postgres "$PG_BIN"/initdb "$PG_BIN"/pg_ctl "$PG_BIN"/pg_isready "$PG_BIN"/psql
mkdir -p "$r/usr/lib/postgresql/15/lib" "$r/usr/share"
cp -a /usr/lib/postgresql/15/lib/. "$r/usr/lib/postgresql/15/lib/"
cp -a /usr/share/postgresql "$r/usr/share/"
[[ -d /usr/share/zoneinfo ]] && cp -a /usr/share/zoneinfo "$r/usr/share/"
mkdir -p "$r/var/lib/postgresql/data" "$r/var/run/postgresql"
chown -R 70:70 "$r/var/lib/postgresql" "$r/var/run/postgresql"
chmod 700 "$r/var/lib/postgresql/data"
mkdir -p "$r/usr/local/bin"
cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -eu
# As upstream: options alone mean "postgres <options>"; any other command runs as given.
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
[ "$1" = postgres ] || exec "$@"
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" && chown -R postgres:postgres "$PGDATA" /var/run/postgresql && chmod 700 "$PGDATA"
  exec su -m -s /bin/sh postgres -c 'exec /usr/local/bin/docker-entrypoint.sh "$@"' docker-entrypoint.sh "$@"
fi
shift
user=${POSTGRES_USER:-postgres}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "POSTGRES_PASSWORD is required" >&2; exit 1; }
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile -E UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "standin postgres: initialised $PGDATA (user $user, database $db)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
EOF
chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
build postgres "$r" pg_isready --version -- --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]'

# Prometheus: upstream's entrypoint is /bin/prometheus, run as nobody with its data in /prometheus.
r=$work/prometheus
base_rootfs "$r"
with_libs "$r" /usr/bin/prometheus
rm -f "$r/bin/prometheus"
ln -s /usr/bin/prometheus "$r/bin/prometheus"
mkdir -p "$r/prometheus" "$r/etc/prometheus"
chown 65534:65534 "$r/prometheus"
build prometheus "$r" --version -- --change 'USER 65534:65534' --change 'WORKDIR /prometheus' \
  --change 'ENTRYPOINT ["/bin/prometheus"]' --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
