#!/usr/bin/env bash
# `make bench`: every benchmark program, one after the other, with a private MariaDB for those
# that measure it too (scheduling_bench). Figures, not pass/fail: a benchmark that fails to run
# is reported and the others still run; the exit status says whether all ran.
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${BUILD_DIR:-build}/bin"

eval "$(scripts/mariadb.sh start)" || { echo "bench: could not start MariaDB" >&2; exit 1; }
trap 'scripts/mariadb.sh stop "$LINLI_TEST_MYSQL_DIR"' EXIT INT TERM

failed=()
run() {
  echo
  echo "=== $*"
  "$@" || failed+=("$1")
}
run "$bin/registry_bench"
run "$bin/planner_bench"
run "$bin/scheduling_bench"
# feedback_bench's servers log every call: its stderr goes to a file.
run "$bin/feedback_bench" 2>"${BUILD_DIR:-build}/feedback_bench.log"
run "$bin/gateway_bench"
if ((${#failed[@]})); then
  echo "bench: failed to run: ${failed[*]}" >&2
  exit 1
fi
