#!/usr/bin/env bash
# Builds a stand-in for ghcr.io/actions/actions-runner (actions/runner images/Dockerfile) from this
# machine's files and Debian packages, with no image registry: the shape a NAS owner's runner image
# has, so the whole job path can run on it here.
#
#   scripts/build-actions-runner-image.sh [image]   default runnerhub/actions-runner:dev (env ACTIONS_RUNNER_IMAGE)
#
# Like the real image: user runner (uid 1001, group runner 1001, in groups sudo 27 and docker 123),
# passwordless sudo (Debian's sudo package, `%sudo ALL=(ALL:ALL) NOPASSWD:ALL`, PAM from the host's
# libpam-modules), WORKDIR /home/runner owned runner:docker, /home/runner/run.sh and run-helper.sh
# mapping the listener's return codes to the container's exit code as actions/runner's do,
# bin/Runner.Listener, env RUNNER_MANUALLY_TRAP_SIG=1 ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1
# ImageOS=ubuntu24, no ENTRYPOINT and no CMD. The listener is tools/fake-runner's protocol code
# (it speaks the simulator's runner protocol, not GitHub's broker); RUNNERHUB_RUNNER_VERSION makes
# it report another version (an outdated runner).
#
# Skips the build when the image exists with the same inputs (hash in label runnerhub.actions-runner.hash).
# After a build, `sudo -n true` and `run.sh --version` run in a container to prove both work.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)
IMAGE=${1:-${ACTIONS_RUNNER_IMAGE:-runnerhub/actions-runner:dev}}
say() { printf 'actions-runner-image: %s\n' "$*" >&2; }
# shellcheck source=lib/node-rootfs.sh
source "$ROOT/scripts/lib/node-rootfs.sh"

require_docker
ensure_static_busybox

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$ROOT"

# Debian's sudo, unpacked from its .deb (kept in .cache/ so a rebuild needs no download).
debs="$ROOT/.cache/debs"
mkdir -p "$debs"
sudo_deb=$(ls "$debs"/sudo_*.deb 2>/dev/null | head -1 || true)
if [[ -z $sudo_deb ]]; then
  say "downloading Debian's sudo package"
  (cd "$debs" && { apt-get download sudo >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download sudo >/dev/null 2>&1; }; })
  sudo_deb=$(ls "$debs"/sudo_*.deb | head -1)
fi
multiarch=$(dirname "$(ldd /bin/bash | grep -oE '/[^ ]*/libc\.so\.6' | head -1)")
pam_modules="$multiarch/security"
[[ -d $pam_modules ]] || { say "no PAM modules at $pam_modules (apt-get install libpam-modules)"; exit 1; }

# Bundled for the node it will run with (the one copied in below).
npx --no-install esbuild tools/fake-runner/src/listener-main.ts --bundle --platform=node --format=esm --target="node$(node -p "process.versions.node.split('.')[0]")" \
  --log-level=warning --outfile="$work/listener.mjs"
node_bin=$(readlink -f "$(command -v node)")
hash=$(cat "$work/listener.mjs" "$SELF" "$ROOT/scripts/lib/node-rootfs.sh" "$node_bin" /bin/busybox /bin/bash "$sudo_deb" | sha256sum | cut -c1-16)
if [[ $(docker image inspect "$IMAGE" --format '{{index .Config.Labels "runnerhub.actions-runner.hash"}}' 2>/dev/null) == "$hash" ]]; then
  say "$IMAGE is up to date ($hash)"
  exit 0
fi

started=$SECONDS
rootfs="$work/rootfs"
node_rootfs "$rootfs" "$node_bin"
# bash for run.sh, as in the real image; busybox's applets for everything else.
rm -f "$rootfs/bin/bash"
cp /bin/bash "$rootfs/bin/bash"
libs_into "$rootfs" /bin/bash

# sudo and the PAM stack it runs (account and session modules; no password is ever asked).
dpkg-deb -x "$sudo_deb" "$rootfs"
rm -rf "$rootfs/usr/share" "$rootfs/usr/include" "$rootfs/etc/init.d" "$rootfs/usr/sbin/sudo_logsrvd" "$rootfs/usr/sbin/sudo_sendlog"
libs_into "$rootfs" "$rootfs/usr/bin/sudo" "$rootfs"/usr/libexec/sudo/*.so
mkdir -p "$rootfs$pam_modules" "$rootfs/etc/pam.d" "$rootfs/etc/security"
cp "$pam_modules"/*.so "$rootfs$pam_modules/"
libs_into "$rootfs" "$rootfs$pam_modules"/*.so
cp /etc/pam.d/common-* /etc/pam.d/other "$rootfs/etc/pam.d/"
cp -a /etc/security/. "$rootfs/etc/security/"
chown root:root "$rootfs/usr/bin/sudo"
chmod 4755 "$rootfs/usr/bin/sudo"

mkdir -p "$rootfs"/{tmp,home/runner/bin}
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/bash\nrunner:x:1001:1001:,,,:/home/runner:/bin/bash\n' >"$rootfs/etc/passwd"
printf 'root:*:20000:0:99999:7:::\nrunner:!:20000:0:99999:7:::\n' >"$rootfs/etc/shadow"
chmod 640 "$rootfs/etc/shadow"
printf 'root:x:0:\nsudo:x:27:runner\ndocker:x:123:runner\nrunner:x:1001:\n' >"$rootfs/etc/group"
# sudo looks the container's hostname up: files first (Docker writes it into /etc/hosts), as on Debian.
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
printf '%%sudo   ALL=(ALL:ALL) NOPASSWD:ALL\nDefaults env_keep += "DEBIAN_FRONTEND"\n' >"$rootfs/etc/sudoers"
chmod 440 "$rootfs/etc/sudoers"

cp "$work/listener.mjs" "$rootfs/home/runner/bin/listener.mjs"
cat >"$rootfs/home/runner/bin/Runner.Listener" <<'LISTENER'
#!/bin/sh
# The listener: tools/fake-runner's protocol code, returning actions/runner's listener return codes.
exec /usr/local/bin/node "$(dirname "$0")/listener.mjs" "$@"
LISTENER

# run.sh and run-helper.sh behave as actions/runner's src/Misc/layoutroot ones (written for this
# image, not copied): the helper maps the listener's return code, run.sh restarts on 2.
cat >"$rootfs/home/runner/run-helper.sh" <<'HELPER'
#!/bin/bash
if [[ $(id -u) -eq 0 && -z "$RUNNER_ALLOW_RUNASROOT" ]]; then
  echo "Must not run interactively with sudo"
  exit 1
fi
DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
"$DIR/bin/Runner.Listener" run "$@"
code=$?
if [[ $code -eq 0 ]]; then
  echo "Runner listener exit with 0 return code, stop the service, no retry needed."
  exit 0
elif [[ $code -eq 7 && "$ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE" == "1" ]]; then
  echo "Runner listener exit with deprecated version exit code: $code."
  exit 7
elif [[ $code -eq 1 ]]; then
  echo "Runner listener exit with terminated error, stop the service, no retry needed."
  exit 0
elif [[ $code -eq 2 ]]; then
  echo "Runner listener exit with retryable error, re-launch runner in 5 seconds."
  sleep 5
  exit 2
elif [[ $code -eq 3 || $code -eq 4 ]]; then
  echo "Runner listener exit because of updating, re-launch runner after successful update"
  sleep 5
  exit 2
elif [[ $code -eq 5 ]]; then
  echo "Runner listener exit with Session Conflict error, stop the service, no retry needed."
  exit 0
fi
echo "Exiting with unknown error code: $code"
exit 0
HELPER
cat >"$rootfs/home/runner/run.sh" <<'RUN'
#!/bin/bash
# Keeps the listener going through run-helper.sh while it asks for a restart (2). With
# RUNNER_MANUALLY_TRAP_SIG (set in the image) SIGINT/SIGTERM reach the listener as SIGINT, so it
# cancels its job and reports it, and the container exits with the helper's code.
DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
while :; do
  if [[ -n "$RUNNER_MANUALLY_TRAP_SIG" ]]; then
    set -m
    "$DIR/run-helper.sh" "$@" &
    pid=$!
    trap 'kill -INT -"$pid" 2>/dev/null' INT TERM
    # wait returns early when a trapped signal arrives: wait until the helper has really ended.
    while wait "$pid"; code=$?; kill -0 "$pid" 2>/dev/null; do :; done
    trap - INT TERM
  else
    "$DIR/run-helper.sh" "$@"
    code=$?
  fi
  if [[ $code -eq 2 ]]; then
    echo "Restarting runner..."
    continue
  fi
  echo "Exiting runner..."
  if [[ $code -eq 7 && "$ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE" == "1" ]]; then exit 7; fi
  [[ -n "$RUNNER_MANUALLY_TRAP_SIG" ]] && exit "$code"
  exit 0
done
RUN
chmod 755 "$rootfs/home/runner/run.sh" "$rootfs/home/runner/run-helper.sh" "$rootfs/home/runner/bin/Runner.Listener"
chown -R 1001:123 "$rootfs/home/runner"
chmod 777 "$rootfs/home/runner"

version=$(import_checked "$rootfs" "$IMAGE" /bin/sh -c 'sudo -n true 2>/dev/null && /home/runner/run.sh --version' -- \
  --change 'USER runner' \
  --change 'WORKDIR /home/runner' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive RUNNER_MANUALLY_TRAP_SIG=1 ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1 ImageOS=ubuntu24' \
  --change "LABEL runnerhub.actions-runner.hash=$hash")
say "built $IMAGE ($hash, $(printf '%s' "$version" | head -1), $(image_size_mb "$IMAGE"), $((SECONDS - started)) s)"
