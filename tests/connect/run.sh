#!/usr/bin/env bash
# The ctests `connect_client` (the official Connect client suite, connect.test.mjs) and
# `console_browser` (the web console in headless chromium, console.browser.test.mjs) against the
# real platform.
#
#   tests/connect/run.sh BIN_DIR WORK_DIR GOOGLEAPIS_PROTO_DIR [TEST_FILE]
#
# TEST_FILE defaults to connect.test.mjs. For console.browser.test.mjs the console is built first
# with scripts/web.sh into WORK_DIR/web, and screenshots land in WORK_DIR/screenshots.
# Copies the suite into WORK_DIR (in the build tree), installs the packages of the committed
# package-lock.json there with `npm ci` (again only when the lockfile changes; offline when the
# npm cache has them), generates the code from proto/ (and google/rpc's error details from
# GOOGLEAPIS_PROTO_DIR) with buf + protoc-gen-es into WORK_DIR/gen, and runs `node --test`.
# Needs node >= 18.14.1 and npm (scripts/bootstrap.sh installs them); without them it fails.
set -euo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] ||
  { echo "usage: $0 BIN_DIR WORK_DIR GOOGLEAPIS_PROTO_DIR [TEST_FILE]" >&2; exit 2; }
TEST_FILE=${4:-connect.test.mjs}
BIN_DIR=$(cd "$1" && pwd)
WORK=$2
GOOGLEAPIS=$3
SRC=$(cd "$(dirname "$0")" && pwd)
PROTO=$(cd "$SRC/../../proto" && pwd)

fail() { echo "connect_client: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is missing (scripts/bootstrap.sh installs nodejs)"
command -v npm >/dev/null || fail "npm is missing (scripts/bootstrap.sh installs npm)"
node -e '
  const [a, b, c] = process.versions.node.split(".").map(Number);
  process.exit(a > 18 || (a === 18 && (b > 14 || (b === 14 && c >= 1))) ? 0 : 1)' ||
  fail "node $(node --version) is too old: @connectrpc/connect-node 2.0 needs >= 18.14.1"
for f in "$BIN_DIR"/linli{,-registry,-scheduling,-feedback,-gateway}; do
  [ -x "$f" ] || fail "$f is missing (build first)"
done
[ -f "$GOOGLEAPIS/google/rpc/error_details.proto" ] ||
  fail "$GOOGLEAPIS/google/rpc/error_details.proto is missing (golang-github-gogo-googleapis-dev)"

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
cp "$SRC"/package.json "$SRC"/package-lock.json "$SRC"/buf.gen.yaml "$SRC"/pending.txt \
   "$SRC"/*.mjs "$WORK"/
cd "$WORK"

# The packages, exactly as locked.
"$SRC/../../scripts/npm_ci.sh" "$WORK" connect_client

# The generated code, from the protos as they are now.
export PATH="$WORK/node_modules/.bin:$PATH" BUF_CACHE_DIR="$WORK/.buf-cache"
rm -rf gen
buf generate "$PROTO" --template buf.gen.yaml -o gen
buf generate "$GOOGLEAPIS" --path "$GOOGLEAPIS/google/rpc/error_details.proto" \
  --template buf.gen.yaml -o gen

export LINLI_BIN_DIR="$BIN_DIR"
if [ "$TEST_FILE" = console.browser.test.mjs ]; then
  GOOGLEAPIS_PROTO_DIR=$GOOGLEAPIS "$SRC/../../scripts/web.sh" "$WORK/web"
  export LINLI_WEB_ROOT="$WORK/web" LINLI_ARTIFACTS_DIR="$WORK/screenshots"
  rm -rf "$LINLI_ARTIFACTS_DIR"
fi
exec node --test "$TEST_FILE"
