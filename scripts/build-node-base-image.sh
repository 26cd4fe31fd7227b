#!/usr/bin/env bash
# Builds a Node.js 20 base image for the service images (the root Dockerfile's BASE_IMAGE) from local
# files, with no image registry: the host's node binary with the libraries it links, the host's npm
# (with its built-in npmrc), busybox for /bin/sh and the usual tools, the host's CA certificates (node
# and npm trust them, so a TLS-intercepting proxy the host trusts works in `docker build`), and the layout of the upstream
# node:20-bookworm-slim the Dockerfile expects (node and npm in /usr/local/bin, user node uid/gid 1000
# with home /home/node, no ENTRYPOINT).
#
#   scripts/build-node-base-image.sh [image]    default runnerhub/node-base:dev (env NODE_BASE_IMAGE)
#
# then: docker build --build-arg BASE_IMAGE=runnerhub/node-base:dev --build-arg SERVICE=scheduler -t runnerhub/scheduler .
#
# Skips the build when the image exists with the same inputs (hash in label runnerhub.node-base.hash).
# After a build, `node --version` and `npm --version` in a container prove node, its libraries and npm load.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${1:-${NODE_BASE_IMAGE:-runnerhub/node-base:dev}}
say() { printf 'node-base-image: %s\n' "$*" >&2; }

command -v docker >/dev/null || { say "the docker CLI is missing (bash scripts/infra.sh up installs docker.io)"; exit 1; }
docker info >/dev/null 2>&1 || { say "Docker does not answer at ${DOCKER_HOST:-/var/run/docker.sock} (start it: bash scripts/infra.sh up)"; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { say "node and npm must be installed on this machine"; exit 1; }
node_bin=$(readlink -f "$(command -v node)")
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[[ $node_major == 20 ]] || say "WARNING: the host's node is $("$node_bin" --version), not 20; the image gets that version"
# npm-cli.js lives in <prefix>/lib/node_modules/npm/bin/.
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[[ -f $npm_dir/package.json && -f $npm_dir/bin/npm-cli.js ]] || { say "cannot find npm's package next to $(command -v npm)"; exit 1; }
ca_file=/etc/ssl/certs/ca-certificates.crt
[[ -f $ca_file ]] || { say "missing $ca_file (apt-get install ca-certificates)"; exit 1; }
# busybox-static: the image has no libc of its own for a dynamic busybox (ldd succeeds only on those).
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
  say "installing busybox-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null; }
fi

libs=$(ldd "$node_bin" | grep -oE '/[^ ]+' | sort -u)
hash=$( { cat "${BASH_SOURCE[0]}" "$node_bin" /bin/busybox "$ca_file"; for lib in $libs; do cat "$lib"; done
  tar -C "$npm_dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .; } | sha256sum | cut -c1-16)
if [[ $(docker image inspect "$IMAGE" --format '{{index .Config.Labels "runnerhub.node-base.hash"}}' 2>/dev/null) == "$hash" ]]; then
  say "$IMAGE is up to date ($hash)"
  exit 0
fi

started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,usr/bin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,tmp,root,home/node,var/tmp}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
# Shebangs such as npm's `#!/usr/bin/env node`.
ln -s ../../bin/busybox "$rootfs/usr/bin/env"
cp "$node_bin" "$rootfs/usr/local/bin/node"
# The shared libraries node links, at the paths the loader looks for them.
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
cp "$ca_file" "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 700 "$rootfs/root"
chown 1000:1000 "$rootfs/home/node"

tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION='"$("$node_bin" -p process.versions.node)" \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  --change "LABEL runnerhub.node-base.hash=$hash" \
  - "$IMAGE" >/dev/null
# An image whose node or npm cannot start must not stay tagged, or the hash check would keep it.
if ! version=$(docker run --rm --network none "$IMAGE" sh -c 'echo "node $(node --version), npm $(npm --version)"; id node >/dev/null' 2>&1); then
  docker image rm "$IMAGE" >/dev/null 2>&1 || true
  say "the built image does not start: $version"
  exit 1
fi
say "built $IMAGE ($hash, $version, $(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }'), $((SECONDS - started)) s)"
