#!/bin/sh
# Builds the four service images (and pushes them with --push).
#
#   deploy/container/build.sh [--push]
#   REGISTRY=registry.example.org/linli TAG=1.0.0 deploy/container/build.sh --push
#
# REGISTRY defaults to none (local names linli-<service>), TAG to the short git commit.
# DOCKER may name another client with the same CLI (podman).
set -eu
cd "$(dirname "$0")/../.."
docker=${DOCKER:-docker}
tag=${TAG:-$(git rev-parse --short HEAD)}
prefix=${REGISTRY:+$REGISTRY/}
push=false
[ "${1:-}" = "--push" ] && push=true
for service in registry scheduling feedback gateway; do
  image="${prefix}linli-${service}:${tag}"
  echo "building $image" >&2
  DOCKER_BUILDKIT=1 "$docker" build -f deploy/container/Dockerfile \
    --build-arg SERVICE="$service" -t "$image" .
  if $push; then "$docker" push "$image"; fi
done
