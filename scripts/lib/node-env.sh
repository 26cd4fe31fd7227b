# Sourced by the scripts (and mirrored by the Makefile): the Node.js that .node-version pins, from
# its own prefix (scripts/install-node.sh), first on PATH, and native modules built against its
# headers. Sets RUNNERHUB_NODE_VERSION and RUNNERHUB_NODE_PREFIX; changes PATH only once the
# prefix exists, so a script run before `scripts/infra.sh up` still finds the machine's node.
# shellcheck shell=bash
RUNNERHUB_NODE_VERSION=$(tr -d ' v\r\n' <"$(dirname "${BASH_SOURCE[0]}")/../../.node-version")
RUNNERHUB_NODE_PREFIX=${RUNNERHUB_NODE_ROOT:-/opt/runnerhub}/node-$RUNNERHUB_NODE_VERSION
if [[ -x $RUNNERHUB_NODE_PREFIX/bin/node && :$PATH: != *":$RUNNERHUB_NODE_PREFIX/bin:"* ]]; then
  export PATH="$RUNNERHUB_NODE_PREFIX/bin:$PATH"
fi
if [[ -x $RUNNERHUB_NODE_PREFIX/bin/node ]]; then export npm_config_nodedir=$RUNNERHUB_NODE_PREFIX; fi
