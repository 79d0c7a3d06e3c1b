#!/usr/bin/env bash
# Builds the web console (services/gateway/web) for linli-gateway --web_root:
#
#   scripts/web.sh [OUT_DIR]        (default build/web)
#
# Installs the packages of the committed package-lock.json into services/gateway/web/node_modules
# with `npm ci` (again only when the lockfile changes; the npm registry or its cache is needed
# once), generates the typed Connect clients from proto/ (and google.rpc's error details) with
# buf + protoc-gen-es into src/gen/, type-checks with tsc, bundles with Vite into OUT_DIR and checks
# the bundle's size budget (scripts/check-bundle-size.mjs). Needs node >= 18.19 and npm
# (scripts/bootstrap.sh installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/web}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WEB=$ROOT/services/gateway/web
GOOGLEAPIS=${GOOGLEAPIS_PROTO_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}

fail() { echo "web: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is missing (scripts/bootstrap.sh installs nodejs)"
command -v npm >/dev/null || fail "npm is missing (scripts/bootstrap.sh installs npm)"
[ -f "$GOOGLEAPIS/google/rpc/error_details.proto" ] ||
  fail "$GOOGLEAPIS/google/rpc/error_details.proto is missing (golang-github-gogo-googleapis-dev)"

"$ROOT/scripts/npm_ci.sh" "$WEB" web
cd "$WEB"
export PATH="$WEB/node_modules/.bin:$PATH" BUF_CACHE_DIR="$WEB/node_modules/.buf-cache"
rm -rf src/gen
buf generate "$ROOT/proto" --template buf.gen.yaml -o src/gen
buf generate "$GOOGLEAPIS" --path "$GOOGLEAPIS/google/rpc/error_details.proto" \
  --template buf.gen.yaml -o src/gen
tsc --noEmit
vite build --outDir "$OUT" --emptyOutDir --logLevel warn
node scripts/check-bundle-size.mjs "$OUT"
