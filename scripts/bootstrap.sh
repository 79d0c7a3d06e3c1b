#!/usr/bin/env bash
# Installs the Debian 12 packages Linli needs that are missing. Idempotent and silent when
# everything is present. Runs apt-get through sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake make pkg-config python3 clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libmysqlcppconn-dev mariadb-server-core mariadb-client
  libsqlite3-dev libssl-dev libgtest-dev libgmock-dev
  libcpp-httplib-dev nlohmann-json3-dev
  golang-github-gogo-googleapis-dev grpc-proto
  graphviz fonts-wqy-microhei
  yamllint python3-yaml
  faketime openssl libboost-context-dev libxlsxwriter-dev
)
# `kubectl kustomize` renders deploy/k8s in make test (offline). Any kubectl will do; without one,
# Debian's kubernetes-client (1.20, kustomize v2.0.3: the manifests avoid newer kustomize
# fields for it).
command -v kubectl >/dev/null 2>&1 || PACKAGES+=(kubernetes-client)
# Node.js and npm for the web console's build (scripts/web.sh) and the Connect client and browser
# tests (tests/connect/ needs node >= 18.14.1; Debian 12 has 18.19). A node already on the PATH
# will do, e.g. a newer one that brings its own npm. Chromium (headless) for the console's browser
# test; playwright-core drives Debian's build, it never downloads one.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
command -v chromium >/dev/null 2>&1 || PACKAGES+=(chromium)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
