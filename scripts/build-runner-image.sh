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

command -v docker >/dev/null || { say "the docker CLI is missing (bash scripts/infra.sh up installs docker.io)"; exit 1; }
docker info >/dev/null 2>&1 || { say "Docker does not answer at ${DOCKER_HOST:-/var/run/docker.sock} (start it: bash scripts/infra.sh up)"; exit 1; }
# busybox-static: the image has no libc of its own for a dynamic busybox (ldd succeeds only on those).
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
  say "installing busybox-static"
  # A fresh machine may have no package lists yet.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$ROOT"
npx --no-install esbuild tools/fake-runner/src/main.ts --bundle --platform=node --format=esm --target=node20 \
  --log-level=warning --outfile="$work/runner.mjs"
node_bin=$(readlink -f "$(command -v node)")
hash=$(cat "$work/runner.mjs" "${BASH_SOURCE[0]}" "$node_bin" /bin/busybox | sha256sum | cut -c1-16)
if [[ $(docker image inspect "$IMAGE" --format '{{index .Config.Labels "runnerhub.fake-runner.hash"}}' 2>/dev/null) == "$hash" ]]; then
  say "$IMAGE is up to date ($hash)"
  exit 0
fi

started=$SECONDS
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,usr/local/bin,home/runner/bin}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
cp "$node_bin" "$rootfs/usr/local/bin/node"
# The shared libraries node links, at the paths the loader looks for them.
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
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

tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'USER runner' \
  --change 'WORKDIR /home/runner' \
  --change 'ENV PATH=/usr/local/bin:/bin RUNNER_MANUALLY_TRAP_SIG=1 ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1 ImageOS=ubuntu24' \
  --change "LABEL runnerhub.fake-runner.hash=$hash" \
  - "$IMAGE" >/dev/null
# An image whose node cannot start must not stay tagged, or the hash check would keep it.
if ! version=$(docker run --rm --network none "$IMAGE" /home/runner/run.sh --version 2>&1); then
  docker image rm "$IMAGE" >/dev/null 2>&1 || true
  say "the built image does not start: $version"
  exit 1
fi
say "built $IMAGE ($hash, runner $version, $(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }'), $((SECONDS - started)) s)"
