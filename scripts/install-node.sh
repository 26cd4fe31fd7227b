#!/usr/bin/env bash
# Installs the Node.js that .node-version pins (an exact version, e.g. 24.22.3) into a prefix of
# the project's own, /opt/runnerhub/node-<version>, from the npm registry's node-linux-<arch> package
# (the official build; npm checks the tarball's integrity). The machine's own node is never touched:
# the Makefile, .ci/run and the scripts put the prefix first on PATH (scripts/lib/node-env.sh).
#
#   scripts/install-node.sh          install when missing; prints the prefix (scripts/infra.sh up runs it)
#
# Needs any node and npm to fetch the package. The package carries node's headers, so native modules
# (cpu-features, ssh2) build against the pinned node with npm_config_nodedir=<prefix>, offline.
# Settings: RUNNERHUB_NODE_ROOT (default /opt/runnerhub).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'install-node: %s\n' "$*" >&2; }
# shellcheck source=lib/node-env.sh
source "$ROOT/scripts/lib/node-env.sh"

if [[ $("$RUNNERHUB_NODE_PREFIX/bin/node" --version 2>/dev/null) == "v$RUNNERHUB_NODE_VERSION" ]]; then
  printf '%s\n' "$RUNNERHUB_NODE_PREFIX"
  exit 0
fi
case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say "no node-linux package for $(uname -m)"; exit 1 ;;
esac
command -v npm >/dev/null || { say "npm is needed to fetch node-linux-$arch@$RUNNERHUB_NODE_VERSION (apt-get install npm)"; exit 1; }

say "installing Node.js $RUNNERHUB_NODE_VERSION (node-linux-$arch) into $RUNNERHUB_NODE_PREFIX"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-$arch@$RUNNERHUB_NODE_VERSION" >/dev/null)
mkdir -p "$work/unpacked"
tar -xzf "$work"/node-linux-*.tgz -C "$work/unpacked" --strip-components=1 --no-same-owner
"$work/unpacked/bin/node" --version >/dev/null || { say "the unpacked node does not run on this machine"; exit 1; }
mkdir -p "$(dirname "$RUNNERHUB_NODE_PREFIX")"
rm -rf "$RUNNERHUB_NODE_PREFIX.partial"
cp -a "$work/unpacked" "$RUNNERHUB_NODE_PREFIX.partial"
rm -rf "$RUNNERHUB_NODE_PREFIX"
mv "$RUNNERHUB_NODE_PREFIX.partial" "$RUNNERHUB_NODE_PREFIX"
say "installed $("$RUNNERHUB_NODE_PREFIX/bin/node" --version)"
printf '%s\n' "$RUNNERHUB_NODE_PREFIX"
