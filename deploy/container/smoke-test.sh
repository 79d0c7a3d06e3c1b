#!/usr/bin/env bash
# Runs the four built images together and checks them from the host, the way Kubernetes runs
# them: one pod, read-only root filesystems, all capabilities dropped, SQLite files on a volume,
# the PII keyring and the JWT key set mounted read-only.
#
#   deploy/container/smoke-test.sh            # images linli-<service>:<short git commit>
#   TAG=dev deploy/container/smoke-test.sh
#
# Needs podman (pods; root or rootless), the host build of the `linli` CLI (make build) and curl.
# Checks, failing on the first miss:
#   - every image runs as uid 10001 and holds no compiler, linker, make, cmake or C headers;
#   - all four start and report SERVING over gRPC health from the host (linli health);
#   - GET /metrics of each serves the Prometheus series (linli_rpc_server_handled_total, ...);
#   - the root filesystem is read-only (a write outside /tmp and /data fails);
#   - a small demo street loads through the services and the gateway answers a signed call, over
#     gRPC and Connect JSON over HTTP;
#   - SIGTERM (podman stop) stops each service with exit code 0;
#   - after a restart the data is still there (SQLite on the volume).
# Everything it creates (pod, containers, volume, temporary keys) is removed at exit.
# REGISTRY, TAG: as for build.sh. PODMAN: the client (default podman). BIN: host binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
podman=${PODMAN:-podman}
bin=${BIN:-build/bin}
tag=${TAG:-$(git rev-parse --short HEAD)}
prefix=${REGISTRY:+$REGISTRY/}
services=(registry scheduling feedback gateway)
declare -A grpc_port=([gateway]=50050 [registry]=50051 [scheduling]=50052 [feedback]=50053)
declare -A metrics_port=([gateway]=9464 [registry]=9465 [scheduling]=9466 [feedback]=9467)
pod=linli-smoke-$$
volume=linli-smoke-data-$$

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok   $*"; }
[ -x "$bin/linli" ] || fail "$bin/linli not found: run make build first"
for s in "${services[@]}"; do
  "$podman" image exists "${prefix}linli-$s:$tag" || fail "no image ${prefix}linli-$s:$tag"
done

work=$(mktemp -d)
cleanup() {
  "$podman" pod rm -f "$pod" >/dev/null 2>&1 || true
  "$podman" volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Host ports: free ones chosen now (the machine may run `make run` on the default ports).
read -r -a host_ports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(9)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()')
declare -A host_grpc host_metrics
publish=()
i=0
for s in "${services[@]}"; do
  host_grpc[$s]=${host_ports[$i]}
  host_metrics[$s]=${host_ports[$((i + 4))]}
  publish+=(-p "127.0.0.1:${host_grpc[$s]}:${grpc_port[$s]}"
    -p "127.0.0.1:${host_metrics[$s]}:${metrics_port[$s]}")
  i=$((i + 1))
done
host_http=${host_ports[8]}
publish+=(-p "127.0.0.1:$host_http:8080")

# 1. The images themselves.
for s in "${services[@]}"; do
  image="${prefix}linli-$s:$tag"
  user=$("$podman" image inspect --format '{{.Config.User}}' "$image")
  [ "$user" = "10001:10001" ] || fail "$image: user '$user', want 10001:10001"
  # shellcheck disable=SC2016  # expanded by the shell inside the container
  "$podman" run --rm --entrypoint /bin/sh "$image" -c '
    [ "$(id -u)" = 10001 ] || { echo "uid $(id -u)"; exit 1; }
    for t in gcc g++ cc c++ cpp clang as ld make cmake; do
      command -v "$t" && { echo "found $t"; exit 1; }
    done
    [ ! -e /usr/include/stdio.h ] || { echo "found C headers"; exit 1; }' ||
    fail "$image: not a non-root image without a toolchain"
  ok "$image runs as 10001:10001, no compiler, linker, make, cmake or headers"
done

# 2. Keys (throwaway, readable by uid 10001) and the pod.
"$bin/linli" keygen >"$work/pii.key"
"$bin/linli" token --new_keys >"$work/jwt-keys.json"
chmod 644 "$work/pii.key" "$work/jwt-keys.json"
"$podman" volume create "$volume" >/dev/null
"$podman" pod create --name "$pod" "${publish[@]}" >/dev/null

start() {  # service, extra podman options...
  local s=$1
  shift
  "$podman" run -d --pod "$pod" --name "$pod-$s" --read-only --cap-drop=ALL \
    --security-opt=no-new-privileges -v "$volume:/data:U" \
    -e LINLI_LISTEN="0.0.0.0:${grpc_port[$s]}" -e LINLI_METRICS_LISTEN="0.0.0.0:${metrics_port[$s]}" \
    "$@" "${prefix}linli-$s:$tag" >/dev/null
}
start_all() {
  start registry -e LINLI_DB=sqlite:/data/registry.db \
    -v "$work/pii.key:/etc/linli/pii/keyring:ro" -e LINLI_PII_KEY_FILE=/etc/linli/pii/keyring
  start scheduling -e LINLI_DB=sqlite:/data/scheduling.db \
    -v "$work/pii.key:/etc/linli/pii/keyring:ro" -e LINLI_PII_KEY_FILE=/etc/linli/pii/keyring
  start feedback -e LINLI_DB=sqlite:/data/feedback.db \
    -v "$work/pii.key:/etc/linli/pii/keyring:ro" -e LINLI_PII_KEY_FILE=/etc/linli/pii/keyring
  start gateway -e LINLI_HTTP_LISTEN=0.0.0.0:8080 \
    -v "$work/jwt-keys.json:/etc/linli/jwt/keys.json:ro" -e LINLI_JWT_KEYS_FILE=/etc/linli/jwt/keys.json
}
linli() {
  "$bin/linli" --gateway="127.0.0.1:${host_grpc[gateway]}" \
    --registry_address="127.0.0.1:${host_grpc[registry]}" \
    --scheduling_address="127.0.0.1:${host_grpc[scheduling]}" \
    --feedback_address="127.0.0.1:${host_grpc[feedback]}" "$@"
}
wait_serving() {
  local started=$SECONDS
  until linli health >"$work/health" 2>&1; do
    if [ $((SECONDS - started)) -gt 60 ]; then
      cat "$work/health" >&2
      for s in "${services[@]}"; do "$podman" logs --tail 5 "$pod-$s" >&2 || true; done
      fail "not all four SERVING within 60 s"
    fi
    sleep 0.5
  done
  cat "$work/health"
}

start_all
wait_serving
ok "all four SERVING over gRPC health from the host"

# 3. Metrics, read-only root.
for s in "${services[@]}"; do
  curl -fsS "http://127.0.0.1:${host_metrics[$s]}/metrics" >"$work/metrics-$s" ||
    fail "$s: GET /metrics"
  for series in linli_rpc_server_handled_total linli_process_resident_memory_bytes \
    linli_build_info; do
    grep -q "^$series" "$work/metrics-$s" || fail "$s: /metrics has no $series"
  done
  # As root inside (which owns /usr), so only the read-only mount can refuse the write.
  if "$podman" exec --user 0 "$pod-$s" sh -c 'echo x >/usr/local/bin/x' 2>"$work/rofs"; then
    fail "$s: root filesystem is writable"
  fi
  grep -q 'Read-only file system' "$work/rofs" || fail "$s: write refused, but: $(cat "$work/rofs")"
done
ok "/metrics on all four ($(wc -l <"$work/metrics-registry") lines from registry); root filesystems read-only"

# 4. Real calls: a small demo street through the services, then the gateway with a token.
linli seed-demo --demo_elders=200 >"$work/seed" 2>&1 || { cat "$work/seed" >&2; fail "seed-demo"; }
export LINLI_TOKEN
LINLI_TOKEN=$("$bin/linli" token --token_keys="$work/jwt-keys.json" --role street_staff \
  --region 310101020 --subject staff/smoke)
regions=$(linli regions list --parent regions/310101020 | wc -l)
[ "$regions" -gt 0 ] || fail "gateway: no committees under regions/310101020"
elders=$(linli elders list --region regions/310101020001 | wc -l)
[ "$elders" -gt 0 ] || fail "gateway: no elders in regions/310101020001"
curl -fsS -X POST "http://127.0.0.1:$host_http/linli.gateway.v1.ConsoleService/ListRegions" \
  -H "Authorization: Bearer $LINLI_TOKEN" -H 'Content-Type: application/json' \
  -d '{"parent":"regions/310101020"}' >"$work/regions.json" || fail "gateway HTTP ListRegions"
grep -q '"regions"' "$work/regions.json" || fail "gateway HTTP: $(head -c 300 "$work/regions.json")"
ok "demo street (200 elders) loaded; gateway lists $regions committees and $elders elders (gRPC), HTTP JSON too"

# 5. SIGTERM → exit 0; restart keeps the data.
for s in gateway feedback scheduling registry; do
  "$podman" stop -t 30 "$pod-$s" >/dev/null
  code=$("$podman" inspect --format '{{.State.ExitCode}}' "$pod-$s")
  [ "$code" = 0 ] || fail "$s: exit code $code after SIGTERM"
done
ok "SIGTERM: all four exited 0"
for s in "${services[@]}"; do "$podman" rm "$pod-$s" >/dev/null; done
start_all
wait_serving >/dev/null
after=$(linli elders list --region regions/310101020001 | wc -l)
[ "$after" = "$elders" ] || fail "after restart $after elders, before $elders"
ok "restarted on the same volume: the same $after elders"

echo
"$podman" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
  grep -E "linli-(registry|scheduling|feedback|gateway):$tag " || true
echo "smoke test passed"
