# Shared by the scripts that build images from this machine's files with no registry
# (build-runner-image.sh, build-node-base-image.sh, build-standin-images.sh): source it after
# defining say().

# The images get the Node.js .node-version pins (node_rootfs copies `command -v node`).
# shellcheck source=node-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"

# Docker's CLI and daemon, or a clear way out.
require_docker() {
  command -v docker >/dev/null || { say "the docker CLI is missing (bash scripts/infra.sh up installs docker.io)"; exit 1; }
  docker info >/dev/null 2>&1 || { say "Docker does not answer at ${DOCKER_HOST:-/var/run/docker.sock} (start it: bash scripts/infra.sh up)"; exit 1; }
  # An image build needs the engine itself: RunnerHub's socket proxy (the executor's DOCKER_HOST)
  # refuses attach, build and most else, and would leave a half-made image and container behind.
  if [[ $(docker plugin ls 2>&1) == *'runnerhub socket-proxy'* ]]; then
    say "DOCKER_HOST=${DOCKER_HOST:-} is RunnerHub's socket proxy, which refuses what an image build needs; build against the engine (unset DOCKER_HOST)"
    exit 1
  fi
}

# busybox-static: the images have no libc of their own for a dynamic busybox (ldd succeeds only on those).
ensure_static_busybox() {
  if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    say "installing busybox-static"
    # A fresh machine may have no package lists yet.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null; }
  fi
}

# busybox_rootfs <rootfs>: busybox with its applets in /bin (sh, wget for healthchecks, ...).
busybox_rootfs() {
  local rootfs=$1 applet
  mkdir -p "$rootfs/bin"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
  done
}

# libs_into <rootfs> <binary>...: the shared libraries each binary links, at the paths the loader
# looks for them.
libs_into() {
  local rootfs=$1 bin lib
  shift
  for bin in "$@"; do
    for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' || true); do
      mkdir -p "$rootfs$(dirname "$lib")"
      [[ -e $rootfs$lib ]] || cp -L "$lib" "$rootfs$lib"
    done
  done
}

# node_rootfs <rootfs> <node binary>: busybox with its applets in /bin, node in /usr/local/bin, and
# the shared libraries node links.
node_rootfs() {
  local rootfs=$1 node_bin=$2
  busybox_rootfs "$rootfs"
  mkdir -p "$rootfs/usr/local/bin"
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  libs_into "$rootfs" "$node_bin"
}

# import_checked <rootfs> <image> <check command...> -- <docker import --change options...>:
# imports the root filesystem as the image, then runs the check in it; an image that does not start
# is untagged (the callers' input-hash check would otherwise keep it). Prints the check's output.
import_checked() {
  local rootfs=$1 image=$2 check=() changes=() output
  shift 2
  while (($#)) && [[ $1 != -- ]]; do check+=("$1"); shift; done
  shift
  changes=("$@")
  tar -C "$rootfs" --numeric-owner -c . | docker import "${changes[@]}" - "$image" >/dev/null
  # A named check container, removed whatever happens: a run refused half-way (attach) would
  # otherwise stay behind in state Created.
  local name
  name="rh-image-check-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  if ! output=$(docker run --rm --name "$name" --label io.runnerhub.image-check=true --network none "$image" "${check[@]}" 2>&1); then
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker image rm "$image" >/dev/null 2>&1 || true
    say "the built image does not start: $output"
    exit 1
  fi
  printf '%s' "$output"
}

# The image's size in MB, for the closing line.
image_size_mb() {
  docker image inspect "$1" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }'
}
