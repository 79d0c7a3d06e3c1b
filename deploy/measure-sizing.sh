#!/usr/bin/env bash
# Sizing figures for docs/OPERATIONS.md: starts the four services (SQLite in a temp dir, or MySQL
# when MYSQL_BASE_URL=mysql://user:pass@host:port is set), reads their resident memory from
# /metrics idle, loads the demo street with `linli seed-demo` (elders and organisations into the
# registry, commitments and a week of visits into scheduling, 8 concurrent calls), and reads
# memory, CPU, RPC counts, mean latency and pool use again. Stops everything it started.
#
#   deploy/measure-sizing.sh [ELDERS]            (default 25000)
#   MYSQL_BASE_URL=mysql://root@127.0.0.1:3307 deploy/measure-sizing.sh 25000
# KEEP=1 keeps the temp dir (logs, SQLite files). On MySQL it creates linli_sizing_<svc>_<pid>
# databases and leaves them for inspection: drop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
ELDERS=${1:-25000}
dir=$(mktemp -d /tmp/linli-sizing.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A grpc metrics
for s in registry scheduling feedback gateway; do grpc[$s]=$(free_port); metrics[$s]=$(free_port); done
http=$(free_port)
db() {
  if [ -n "${MYSQL_BASE_URL:-}" ]; then echo "$MYSQL_BASE_URL/linli_sizing_$1_$$"; else echo "sqlite:$dir/$1.db"; fi
}
"$BIN/linli" keygen >"$dir/pii.key"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "logs and databases kept in $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
start() {
  local name=$1; shift
  setsid "$BIN/linli-$name" --listen="127.0.0.1:${grpc[$name]}" \
    --metrics_listen="127.0.0.1:${metrics[$name]}" "$@" >"$dir/$name.log" 2>&1 </dev/null &
  pids+=($!)
}
r=127.0.0.1:${grpc[registry]}
start registry --db="$(db registry)" --pii_key_file="$dir/pii.key"
start scheduling --db="$(db scheduling)" --registry_address="$r" --pii_key_file="$dir/pii.key"
start feedback --db="$(db feedback)" --pii_key_file="$dir/pii.key" --registry_address="$r" \
  --scheduling_address="127.0.0.1:${grpc[scheduling]}"
start gateway --http_listen="127.0.0.1:$http" --registry_address="$r" \
  --scheduling_address="127.0.0.1:${grpc[scheduling]}" --feedback_address="127.0.0.1:${grpc[feedback]}"
cli=("$BIN/linli" --gateway="127.0.0.1:${grpc[gateway]}" --registry_address="$r"
  --scheduling_address="127.0.0.1:${grpc[scheduling]}" --feedback_address="127.0.0.1:${grpc[feedback]}")
for _ in $(seq 1 200); do "${cli[@]}" health >/dev/null 2>&1 && break; sleep 0.1; done
sleep 1
metric() {  # service, series -> value
  curl -s "127.0.0.1:${metrics[$1]}/metrics" | awk -v s="$2" '$1 == s { print $2 }'
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "backend: $([ -n "${MYSQL_BASE_URL:-}" ] && echo mysql || echo sqlite); elders: $ELDERS"
declare -A idle
for s in registry scheduling feedback gateway; do idle[$s]=$(metric $s linli_process_resident_memory_bytes); done
start_s=$(date +%s.%N)
"${cli[@]}" --demo_elders="$ELDERS" seed-demo >"$dir/seed.out" 2>&1
end_s=$(date +%s.%N)
printf '%-11s %9s %10s %8s %7s %8s\n' service "idle MiB" "after MiB" "rpcs" "cpu s" "mean ms"
for s in registry scheduling feedback gateway; do
  text=$(curl -s "127.0.0.1:${metrics[$s]}/metrics")
  rpcs=$(awk '/^linli_rpc_server_handled_total/ && !/grpc.health/ { n += $2 } END { print n + 0 }' <<<"$text")
  mean=$(awk '/^linli_rpc_server_handling_seconds_sum/ && !/grpc.health/ { s += $2 }
              /^linli_rpc_server_handling_seconds_count/ && !/grpc.health/ { n += $2 }
              END { if (n) printf "%.2f", 1000 * s / n; else print "-" }' <<<"$text")
  printf '%-11s %9s %10s %8s %7s %8s\n' "$s" "$(mib "${idle[$s]}")" \
    "$(mib "$(metric $s linli_process_resident_memory_bytes)")" "$rpcs" \
    "$(metric $s linli_process_cpu_seconds_total)" "$mean"
done
awk -v a="$start_s" -v b="$end_s" 'BEGIN { printf "seed-demo wall time: %.1f s\n", b - a }'
echo "registry pool: $(curl -s "127.0.0.1:${metrics[registry]}/metrics" | grep '^linli_db_pool' | tr '\n' ' ')"
tr '\r' '\n' <"$dir/seed.out" | tail -n 1
