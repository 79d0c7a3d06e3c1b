#!/usr/bin/env bash
# `make bench`: every benchmark program, one after the other, with a private MariaDB for those
# that measure it too (scheduling_bench). Figures, not pass/fail: a benchmark that fails to run
# is reported and the others still run; the exit status says whether all ran.
#
# Every benchmark also prints machine-readable lines
#   SUMMARY <name> <value> <target> <met|missed|info>
# (target "-" for figures without a target); the script ends with ONE table of all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${BUILD_DIR:-build}/bin"

eval "$(scripts/mariadb.sh start)" || { echo "bench: could not start MariaDB" >&2; exit 1; }

failed=()
summary=$(mktemp /tmp/linli-bench-summary.XXXXXX)
trap 'scripts/mariadb.sh stop "$LINLI_TEST_MYSQL_DIR"; rm -f "$summary"' EXIT INT TERM
run() {
  echo
  echo "=== $*"
  # The benchmark's own output as before; its SUMMARY lines are kept for the table.
  "$@" | tee >(grep '^SUMMARY ' >>"$summary")
  ((PIPESTATUS[0] == 0)) || failed+=("$(basename "$1")")
}
run "$bin/registry_bench"
run "$bin/planner_bench"
run "$bin/scheduling_bench"
# feedback_bench's servers log every call: its stderr goes to a file.
run "$bin/feedback_bench" 2>"${BUILD_DIR:-build}/feedback_bench.log"
run "$bin/notice_bench"
# visit_notes_bench's server logs every call: its stderr goes to a file.
run "$bin/visit_notes_bench" 2>"${BUILD_DIR:-build}/visit_notes_bench.log"
run "$bin/gateway_bench"
run "$bin/runtime_bench"
# The load generator: a realistic mix through the gateway, gRPC and JSON (bench/linli_load.cc);
# its services log every call, so their stderr goes to files in its work directory.
run "$bin/linli-load" --clients "${LOAD_CLIENTS:-8}" --seconds "${LOAD_SECONDS:-20}"

sleep 1  # the tee process substitutions flush their last lines
echo
echo "=== summary (targets from issues 2, 4, 5, 6 and 8)"
awk '{ printf "%-46s %14s %12s  %s\n", $2, $3, ($4 == "-" ? "" : $4), $5 }
     BEGIN { printf "%-46s %14s %12s  %s\n", "figure", "value", "target", "result" }' "$summary"
missed=$(awk '$5 == "missed"' "$summary" | wc -l)
met=$(awk '$5 == "met"' "$summary" | wc -l)
echo "targets met: $met, missed: $missed"
if ((${#failed[@]})); then
  echo "bench: failed to run: ${failed[*]}" >&2
  exit 1
fi
