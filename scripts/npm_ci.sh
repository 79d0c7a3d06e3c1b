#!/usr/bin/env bash
# Installs the npm packages of DIR's committed package-lock.json into DIR/node_modules, exactly as
# locked (`npm ci`), and again only when the lockfile changes; offline when the npm cache has
# them. Used by scripts/web.sh (the console) and tests/connect/run.sh (the client tests).
#
#   scripts/npm_ci.sh DIR LABEL
#
# --ignore-scripts: no package needs one (buf's binary comes in its platform package), and npm 11
# would otherwise ask for approval of @bufbuild/buf's postinstall.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR LABEL" >&2; exit 2; }
cd "$1"
if ! cmp -s package-lock.json node_modules/.linli-installed-lock 2>/dev/null; then
  echo "$2: npm ci" >&2
  npm ci --prefer-offline --no-audit --no-fund --ignore-scripts >&2 ||
    { echo "$2: npm ci failed (the npm registry or its cache is needed once)" >&2; exit 1; }
  cp package-lock.json node_modules/.linli-installed-lock
fi
