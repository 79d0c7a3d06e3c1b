#!/usr/bin/env bash
# Runs every libFuzzer target of the project for a while and prints one line per target.
# Called by `make fuzz` after it has built the targets with clang (tests/fuzz/CMakeLists.txt,
# common/recurrence/CMakeLists.txt):
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS]     # SECONDS defaults to $FUZZ_SECONDS or 60
#
# Each target starts from a COPY of its seed corpus in a temporary directory (the repository's
# corpus is never written); the grown corpus is thrown away at the end. Crash reproducers land in
# BUILD_DIR/fuzz-artifacts/<target>/ (the build dir is git-ignored).
# Exit status: 1 if any target found something, else 0.
set -uo pipefail

build_dir=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-${FUZZ_SECONDS:-60}}
root=$(cd "$(dirname "$0")/../.." && pwd)

# target|corpus directory|extra libFuzzer flags
targets=(
  "rrule_fuzz|common/recurrence/corpus|-max_len=1200 -dict=$root/common/recurrence/rrule_fuzz.dict"
  "gateway_json_fuzz|tests/fuzz/corpus/gateway_json|-max_len=2048"
  "gateway_proto_fuzz|tests/fuzz/corpus/gateway_proto|-max_len=2048"
  "page_token_fuzz|tests/fuzz/corpus/page_token|-max_len=1100"
  "field_cipher_fuzz|tests/fuzz/corpus/field_cipher|-max_len=1024"
  "auth_token_fuzz|tests/fuzz/corpus/auth_token|-max_len=2048"
  "service_request_fuzz|tests/fuzz/corpus/service_request|-max_len=1024 -rss_limit_mb=4096"
  "commitment_rrule_fuzz|tests/fuzz/corpus/commitment_rrule|-max_len=400 -dict=$root/common/recurrence/rrule_fuzz.dict"
)

work=$(mktemp -d /tmp/linli-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
echo "fuzzing each target for ${seconds}s (work dir $work)"
for entry in "${targets[@]}"; do
  IFS='|' read -r name corpus flags <<<"$entry"
  binary="$build_dir/bin/$name"
  if [[ ! -x "$binary" ]]; then
    printf '%-20s MISSING  %s not built\n' "$name" "$binary"
    status=1
    continue
  fi
  mkdir -p "$work/$name" "$build_dir/fuzz-artifacts/$name"
  cp -r "$root/$corpus" "$work/$name/corpus"
  seeds=$(find "$work/$name/corpus" -type f | wc -l)
  # shellcheck disable=SC2086  # flags are deliberately split
  "$binary" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$build_dir/fuzz-artifacts/$name/" $flags "$work/$name/corpus" \
    >"$work/$name/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name/log" | tail -1)
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/$name/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/$name/log" | tail -1)
  grown=$(find "$work/$name/corpus" -type f | wc -l)
  if [[ $rc -eq 0 ]]; then
    printf '%-20s OK       %s execs in %ss, %s, corpus %s -> %s\n' "$name" "${execs:-?}" \
      "${took:-$seconds}" "${cov:-cov: ?}" "$seeds" "$grown"
  else
    status=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/$name/log" | tail -1)
    cp "$work/$name/log" "$build_dir/fuzz-artifacts/$name/log.txt"
    printf '%-20s FINDING  after %s execs: %s (log %s)\n' "$name" "${execs:-?}" \
      "${artifact:-see log}" "$build_dir/fuzz-artifacts/$name/log.txt"
    grep -m1 -E 'fuzz invariant broken|invariant broken|ERROR: (AddressSanitizer|libFuzzer)|runtime error' \
      "$work/$name/log" | sed 's/^/                     /'
  fi
done
exit $status
