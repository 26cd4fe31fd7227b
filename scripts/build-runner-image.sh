#!/usr/bin/env bash
# Builds the fake runner image (tools/fake-runner) from local files, with no image registry:
# the runner program bundled into one file, the host's Node.js with the libraries it links,
# busybox for /bin/sh, and the layout of ghcr.io/actions/actions-runner (user runner, uid 1001,
# WORKDIR /home/runner, /home/runner/run.sh, no ENTRYPOINT). Our executor starts it exactly as it
# starts the real image.
#
#   scripts/build-runner-image.sh [image]    default runnerhub/fake-runner:dev (env FAKE_RUNNER_IMAGE)
#
# Skips the build when the image exists with the same inputs (hash in label runnerhub.fake-runner.hash).
# After a build, `run.sh --version` in a container proves node and its libraries load.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${1:-${FAKE_RUNNER_IMAGE:-runnerhub/fake-runner:dev}}
say() { printf 'runner-image: %s\n' "$*" >&2; }
# shellcheck source=lib/node-rootfs.sh
source "$ROOT/scripts/lib/node-rootfs.sh"

require_docker
ensure_static_busybox

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$ROOT"
npx --no-install esbuild tools/fake-runner/src/main.ts --bundle --platform=node --format=esm --target=node24 \
  --log-level=warning --outfile="$work/runner.mjs"
node_bin=$(readlink -f "$(command -v node)")
hash=$(cat "$work/runner.mjs" "${BASH_SOURCE[0]}" "$ROOT/scripts/lib/node-rootfs.sh" "$node_bin" /bin/busybox | sha256sum | cut -c1-16)
if [[ $(docker image inspect "$IMAGE" --format '{{index .Config.Labels "runnerhub.fake-runner.hash"}}' 2>/dev/null) == "$hash" ]]; then
  say "$IMAGE is up to date ($hash)"
  exit 0
fi

started=$SECONDS
rootfs="$work/rootfs"
node_rootfs "$rootfs" "$node_bin"
mkdir -p "$rootfs"/{etc,tmp,home/runner/bin}
cp "$work/runner.mjs" "$rootfs/home/runner/bin/runner.mjs"
cat >"$rootfs/home/runner/run.sh" <<'RUN'
#!/bin/sh
# Like actions/runner's run.sh: the launcher passes --jitconfig or ACTIONS_RUNNER_INPUT_JITCONFIG.
RUNNER_ROOT=${RUNNER_ROOT:-$(cd "$(dirname "$0")" && pwd)}
export RUNNER_ROOT
exec /usr/local/bin/node "$RUNNER_ROOT/bin/runner.mjs" "$@"
RUN
chmod 755 "$rootfs/home/runner/run.sh"
printf 'root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:1001:runner:/home/runner:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\ndocker:x:123:runner\nrunner:x:1001:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
chown -R 1001:1001 "$rootfs/home/runner"

version=$(import_checked "$rootfs" "$IMAGE" /home/runner/run.sh --version -- \
  --change 'USER runner' \
  --change 'WORKDIR /home/runner' \
  --change 'ENV PATH=/usr/local/bin:/bin RUNNER_MANUALLY_TRAP_SIG=1 ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1 ImageOS=ubuntu24' \
  --change "LABEL runnerhub.fake-runner.hash=$hash")
say "built $IMAGE ($hash, runner $version, $(image_size_mb "$IMAGE"), $((SECONDS - started)) s)"
