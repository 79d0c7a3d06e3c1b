#!/usr/bin/env bash
# `make run`: the four services on loopback with SQLite files under var/, the demo street loaded,
# until Ctrl-C (or SIGTERM), which stops all of them cleanly.
#
# The demo street lives in the present: its promises start today (Asia/Shanghai) and its visits
# are materialised for this week and the next, again on every start. LINLI_DEMO_WEEK=YYYY-MM-DD
# pins it to the week holding that date instead (reproducible figures).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
# var/ holds personal data and secrets (databases and their WAL, logs, keys): owner only, for what
# this script and the services create (the services also set umask 077 themselves), and for files
# an earlier run left readable by others.
umask 077
mkdir -p var/log
chmod -R go= var

GATEWAY=${LINLI_GATEWAY_LISTEN:-127.0.0.1:50050}
HTTP=${LINLI_GATEWAY_HTTP_LISTEN:-127.0.0.1:8080}
REGISTRY=${LINLI_REGISTRY_LISTEN:-127.0.0.1:50051}
SCHEDULING=${LINLI_SCHEDULING_LISTEN:-127.0.0.1:50052}
FEEDBACK=${LINLI_FEEDBACK_LISTEN:-127.0.0.1:50053}

# The keyring that seals personal data; created once, kept with the data it protects.
if [ ! -s var/pii.key ]; then
  (umask 077 && "$BIN/linli" keygen >var/pii.key)
  echo "created var/pii.key (the key that encrypts personal data in var/registry.db and var/scheduling.db)"
fi

# The gateway's development token key set (HS256, `linli token` signs with it) and the pepper
# under which partner API keys are hashed; created once, next to var/pii.key.
if [ ! -s var/jwt-keys.json ]; then
  (umask 077 && "$BIN/linli" token --new_keys >var/jwt-keys.json)
  echo "created var/jwt-keys.json (the development key that signs gateway access tokens)"
fi
if [ ! -s var/api-key.pepper ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >var/api-key.pepper)
fi
[ -e var/api-keys ] || echo "# key_id organisation region scopes hmac_sha256 (linli token --api_key)" >var/api-keys

# The platform's development PKI: an internal CA and one certificate per service (and one for
# the operator's CLI). Backends accept only mutual-TLS callers holding one of these, with a
# principal token signed by that caller's key (docs/SECURITY.md). Made again when missing or
# within a week of expiring.
# The web console (services/gateway/web), built into build/web and served by the gateway at "/".
WEB_ROOT=build/web
WEB_FLAGS=()
if scripts/web.sh "$WEB_ROOT" >var/log/web-build.log 2>&1; then
  WEB_FLAGS=(--web_root="$WEB_ROOT")
else
  echo "the web console did not build (see var/log/web-build.log); the API runs without it" >&2
fi

PKI=var/pki
IDENTITIES=(linli-registry linli-scheduling linli-feedback linli-gateway linli-cli)
make_pki() {
  mkdir -p "$PKI"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=linli-dev-internal-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null || return 1
  for name in "${IDENTITIES[@]}"; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
      -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null || return 1
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 825 \
      -set_serial "0x$(openssl rand -hex 16)" -out "$PKI/$name.crt" -extfile <(printf '%s\n' \
        "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth,clientAuth" \
        "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1") 2>/dev/null || return 1
    rm -f "$PKI/$name.csr"
  done
  echo "created $PKI/ (development CA and certificates for service-to-service mutual TLS)"
}
pki_ok=1
for name in ca "${IDENTITIES[@]}"; do
  openssl x509 -checkend 604800 -noout -in "$PKI/$name.crt" >/dev/null 2>&1 || pki_ok=0
done
[ $pki_ok -eq 1 ] || make_pki || { echo "cannot create the development PKI (is openssl installed?)" >&2; exit 1; }
identity() {  # the --internal_* flags of one identity
  echo "--internal_ca_file=$PKI/ca.crt --internal_cert_file=$PKI/$1.crt --internal_key_file=$PKI/$1.key"
}
# The CLI below (and the commands the tour prints) calls some backends directly, as the operator.
export LINLI_INTERNAL_CA_FILE=$PKI/ca.crt LINLI_INTERNAL_CERT_FILE=$PKI/linli-cli.crt \
  LINLI_INTERNAL_KEY_FILE=$PKI/linli-cli.key

pids=()
stop_all() {
  trap - INT TERM
  echo
  echo "stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  echo "all services stopped (logs in var/log/)"
  exit $status
}
trap stop_all INT TERM

start() {  # name, args...
  local name=$1
  shift
  # Own session: Ctrl-C reaches only this script, which stops the services in order with SIGTERM.
  setsid "$BIN/linli-$name" "$@" >>"var/log/$name.log" 2>&1 </dev/null &
  pids+=($!)
}
# shellcheck disable=SC2046  # identity's flags are meant to split
start registry $(identity linli-registry) --listen="$REGISTRY" --db=sqlite:var/registry.db \
  --pii_key_file=var/pii.key
# shellcheck disable=SC2046
start scheduling $(identity linli-scheduling) --listen="$SCHEDULING" --db=sqlite:var/scheduling.db \
  --registry_address="$REGISTRY" --pii_key_file=var/pii.key
# shellcheck disable=SC2046
start feedback $(identity linli-feedback) --listen="$FEEDBACK" --db=sqlite:var/feedback.db \
  --registry_address="$REGISTRY" --scheduling_address="$SCHEDULING" --pii_key_file=var/pii.key
# shellcheck disable=SC2046
start gateway $(identity linli-gateway) --listen="$GATEWAY" --http_listen="$HTTP" --registry_address="$REGISTRY" \
  --scheduling_address="$SCHEDULING" --feedback_address="$FEEDBACK" \
  --jwt_keys_file=var/jwt-keys.json --api_keys_file=var/api-keys \
  --api_key_pepper_file=var/api-key.pepper "${WEB_FLAGS[@]}"

probe=("$BIN/linli" --gateway="$GATEWAY" --registry_address="$REGISTRY"
  --scheduling_address="$SCHEDULING" --feedback_address="$FEEDBACK")
for _ in $(seq 1 100); do
  "${probe[@]}" health >/dev/null 2>&1 && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a service exited at start-up; see var/log/" >&2; tail -n 5 var/log/*.log >&2; stop_all; }
  done
  sleep 0.1
done
DEMO_WEEK=${LINLI_DEMO_WEEK:-}
"${probe[@]}" seed-demo --demo_week="$DEMO_WEEK" || echo "demo seeding failed; see var/log/" >&2
# The tour's dates: today in Shanghai (or the pinned week's Monday) and the week around it.
if [ -n "$DEMO_WEEK" ]; then
  day=$(date -d "$DEMO_WEEK" +%F)
  today=$(date -d "$day -$(( $(date -d "$day" +%u) - 1 )) days" +%F)
else
  today=$(TZ=Asia/Shanghai date +%F)
fi
monday=$(date -d "$today -$(( $(date -d "$today" +%u) - 1 )) days" +%F)
sunday=$(date -d "$monday +6 days" +%F)
# The CLI's gateway calls carry $LINLI_TOKEN: a street-staff token of the demo street.
export LINLI_TOKEN=$("$BIN/linli" token --role street_staff --region 310101020 --subject staff/demo)
# The tour's elder: the first of committee 001 who has care promises (most elders have none).
demo_elder=""
for e in $("${probe[@]}" elders list --region=regions/310101020001 2>/dev/null | awk 'NR<=40{print $1}'); do
  if [ -n "$("${probe[@]}" commitments --elder "$e" 2>/dev/null)" ]; then demo_elder=$e; break; fi
done

console_line="  web console                   (not built; see var/log/web-build.log)"
if [ ${#WEB_FLAGS[@]} -gt 0 ]; then
  # A one-time development login: the token rides in the URL fragment, which the browser keeps to
  # itself (never sent to the gateway, never in its log); the console holds it in memory only.
  console_token=$("$BIN/linli" token --role street_staff --region 310101020 --subject staff/demo --ttl 12h)
  console_line="  web console (street staff of 五里桥街道, valid 12 h):
    http://$HTTP/#token=$console_token"
fi

cat <<MSG

Linli is running (SQLite files under var/, logs under var/log/):

$("${probe[@]}" health)

  gateway HTTP (Connect JSON)   http://$HTTP
$console_line

Try (gateway calls need a token; mint development tokens with build/bin/linli token; commands
that call a backend directly need the operator's platform identity from var/pki/):
  export LINLI_TOKEN=\$(build/bin/linli token --role street_staff --region 310101020)
  export LINLI_INTERNAL_CA_FILE=$PKI/ca.crt LINLI_INTERNAL_CERT_FILE=$PKI/linli-cli.crt LINLI_INTERNAL_KEY_FILE=$PKI/linli-cli.key
  build/bin/linli map --region regions/310101020 --format svg --out map.svg
  build/bin/linli providers --elder ${demo_elder:-elders/ID} --service serviceTypes/meal
  build/bin/linli commitments --elder ${demo_elder:-elders/ID}
  build/bin/linli visits --elder ${demo_elder:-elders/ID} --from $today --days 7
  build/bin/linli plan --region 310101020 --from $today --days 1   # plan and book the day
  build/bin/linli report --org wlq-care-home --from $monday --to $sunday --out report.html
  build/bin/linli elders list --region regions/310101020001
  build/bin/linli notices --region 310101020001 --follow   # missed visits, safety… as they come
  build/bin/linli import template elders > roster.csv   # fill it in, then:
  build/bin/linli import elders --file roster.csv --dry_run
  build/bin/linli elders get ${demo_elder:-elders/ID} --reason "回访核对联系方式"   # full view, audited
  build/bin/linli audit --elder ${demo_elder:-elders/ID}
  build/bin/linli orgs list --region regions/310101020
  build/bin/linli regions list --parent regions/310101020
  build/bin/linli regions get regions/310101020
  curl -s -X POST http://$HTTP/linli.gateway.v1.ConsoleService/ListRegions \\
       -H "Authorization: Bearer \$(build/bin/linli token --role street_staff --region 310101020)" \\
       -H 'Content-Type: application/json' -d '{"parent":"regions/310101020"}'
  curl -s -X POST http://$HTTP/linli.gateway.v1.ElderAppService/GetElderPage \\
       -H "Authorization: Bearer \$(build/bin/linli token --role elder --subject ${demo_elder:-elders/ID})" \\
       -H 'Content-Type: application/json' -d '{"elder":"${demo_elder:-elders/ID}"}'
  curl -s -X POST http://$HTTP/linli.gateway.v1.ConsoleService/GetRegion \\
       -H 'Content-Type: application/json' -d '{"name":"regions/310101"}'   # no token: 401

Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
echo "a service exited unexpectedly; see var/log/" >&2
stop_all
