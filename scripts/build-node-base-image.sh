#!/usr/bin/env bash
# Builds a Node.js 24 base image for the service images (the root Dockerfile's BASE_IMAGE) from local
# files, with no image registry: the pinned node binary (.node-version, from scripts/install-node.sh's
# prefix, the official build) with the libraries it links, the host's npm
# (with its built-in npmrc), busybox for /bin/sh and the usual tools, the host's CA certificates (node
# and npm trust them, so a TLS-intercepting proxy the host trusts works in `docker build`), and the layout of the upstream
# node:24-bookworm-slim the Dockerfile expects (node and npm in /usr/local/bin, user node uid/gid 1000
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
# shellcheck source=lib/node-rootfs.sh
source "$ROOT/scripts/lib/node-rootfs.sh"

require_docker
command -v node >/dev/null && command -v npm >/dev/null || { say "node and npm must be installed on this machine"; exit 1; }
node_bin=$(readlink -f "$(command -v node)")
[[ $("$node_bin" --version) == "v$RUNNERHUB_NODE_VERSION" ]] ||
  say "WARNING: node on PATH is $("$node_bin" --version), not the pinned v$RUNNERHUB_NODE_VERSION (bash scripts/install-node.sh); the image gets that version"
# npm-cli.js lives in <prefix>/lib/node_modules/npm/bin/.
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[[ -f $npm_dir/package.json && -f $npm_dir/bin/npm-cli.js ]] || { say "cannot find npm's package next to $(command -v npm)"; exit 1; }
ca_file=/etc/ssl/certs/ca-certificates.crt
[[ -f $ca_file ]] || { say "missing $ca_file (apt-get install ca-certificates)"; exit 1; }
ensure_static_busybox

libs=$(ldd "$node_bin" | grep -oE '/[^ ]+' | sort -u)
hash=$( { cat "${BASH_SOURCE[0]}" "$ROOT/scripts/lib/node-rootfs.sh" "$node_bin" /bin/busybox "$ca_file"; for lib in $libs; do cat "$lib"; done
  tar -C "$npm_dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .; } | sha256sum | cut -c1-16)
if [[ $(docker image inspect "$IMAGE" --format '{{index .Config.Labels "runnerhub.node-base.hash"}}' 2>/dev/null) == "$hash" ]]; then
  say "$IMAGE is up to date ($hash)"
  exit 0
fi

started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
node_rootfs "$rootfs" "$node_bin"
mkdir -p "$rootfs"/{usr/bin,usr/local/lib/node_modules,etc/ssl/certs,tmp,root,home/node,var/tmp}
# Shebangs such as npm's `#!/usr/bin/env node`.
ln -s ../../bin/busybox "$rootfs/usr/bin/env"
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

version=$(import_checked "$rootfs" "$IMAGE" sh -c 'echo "node $(node --version), npm $(npm --version)"; id node >/dev/null' -- \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION='"$("$node_bin" -p process.versions.node)" \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  --change "LABEL runnerhub.node-base.hash=$hash")
say "built $IMAGE ($hash, $version, $(image_size_mb "$IMAGE"), $((SECONDS - started)) s)"
