#!/usr/bin/env bash
# Message contracts: generate TypeScript from proto/, and check that the schemas are linted, the
# committed generated code is fresh, and nothing breaks readers of messages already in JetStream.
#
#   scripts/contracts.sh generate   regenerate libs/contracts/src/gen (commit the result)
#   scripts/contracts.sh check      buf lint + stale generated code + buf breaking
#   scripts/contracts.sh lint       buf lint only
#   scripts/contracts.sh breaking   buf breaking only
#
# BUF_BREAKING_AGAINST overrides the base for buf breaking (any buf input, e.g.
# ".git#branch=main,subdir=proto"). Default: the previous commit, when it has a proto/ folder.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
buf="$root/node_modules/.bin/buf"
gen_dir="libs/contracts/src/gen"

if [[ ! -x "$buf" || ! -x node_modules/.bin/protoc-gen-es ]]; then
  echo "contracts: buf or protoc-gen-es missing in node_modules/.bin; run npm ci first" >&2
  exit 1
fi

generate() {
  "$buf" generate
  echo "contracts: generated $gen_dir"
}

lint() {
  "$buf" lint
  echo "contracts: buf lint passed"
}

stale() {
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  "$buf" generate --output "$tmp"
  # diff -rq names each differing or missing file; that is the message we want.
  local diffs
  if ! diffs="$(diff -rq "$gen_dir" "$tmp/$gen_dir" 2>&1)"; then
    echo "contracts: generated code is stale; run 'bash scripts/contracts.sh generate' and commit:" >&2
    echo "$diffs" | sed -E \
      -e "s#^Files ([^ ]+) and .* differ\$#  stale:   \1#" \
      -e "s#^Only in $tmp/([^:]+): (.*)\$#  missing: \1/\2#" \
      -e "s#^Only in ([^:]+): (.*)\$#  extra:   \1/\2#" >&2
    return 1
  fi
  echo "contracts: generated code is up to date"
}

breaking() {
  local against="${BUF_BREAKING_AGAINST:-}"
  if [[ -z "$against" ]]; then
    if git rev-parse --verify --quiet HEAD~1 >/dev/null &&
      git ls-tree -r --name-only HEAD~1 -- proto | grep -q '\.proto$'; then
      against=".git#ref=HEAD~1,subdir=proto"
    else
      echo "contracts: buf breaking skipped: HEAD~1 has no proto/ folder (set BUF_BREAKING_AGAINST to compare with another base)"
      return 0
    fi
  fi
  echo "contracts: buf breaking against $against"
  "$buf" breaking --against "$against"
  echo "contracts: no breaking changes"
}

case "${1:-}" in
  generate) generate ;;
  lint) lint ;;
  breaking) breaking ;;
  check)
    lint
    stale
    breaking
    ;;
  *)
    echo "usage: $0 generate|check|lint|breaking" >&2
    exit 2
    ;;
esac
