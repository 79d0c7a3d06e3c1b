#!/bin/sh
# Builds the four service images (and pushes them with --push), with docker, podman or buildah.
#
#   deploy/container/build.sh [--push] [BUILD OPTIONS...]
#   REGISTRY=registry.example.org/linli TAG=1.0.0 deploy/container/build.sh --push
#
# REGISTRY defaults to none (local names linli-<service>), TAG to the short git commit,
# SERVICES to all four ("registry scheduling feedback gateway"). The build tool is DOCKER when
# set (any client with docker's CLI), else docker when its daemon answers, else podman, else
# buildah. BUILD OPTIONS go to every build unchanged, for example on a machine that cannot pull
# debian:12 (see make-base.sh):
#
#   deploy/container/build.sh --build-arg BASE=localhost/debian:12 \
#     --build-arg RUNTIME_BASE=localhost/debian:12-slim
#
# The build stage does not depend on the service, so it runs once and the other images reuse it
# from the layer cache.
set -eu
cd "$(dirname "$0")/../.."
push=false
if [ "${1:-}" = "--push" ]; then
  push=true
  shift
fi
tag=${TAG:-$(git rev-parse --short HEAD)}
prefix=${REGISTRY:+$REGISTRY/}
services=${SERVICES:-registry scheduling feedback gateway}

if [ -n "${DOCKER:-}" ]; then
  tool=$DOCKER
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  tool=docker
elif command -v podman >/dev/null 2>&1; then
  tool=podman
elif command -v buildah >/dev/null 2>&1; then
  tool=buildah
else
  echo "build.sh: needs docker (with a running daemon), podman or buildah" >&2
  exit 1
fi

ignorefile=deploy/container/Dockerfile.dockerignore
for service in $services; do
  image="${prefix}linli-${service}:${tag}"
  echo "building $image with $tool" >&2
  case "$(basename "$tool")" in
    # podman and buildah do not look for <Dockerfile>.dockerignore by themselves.
    podman) "$tool" build --ignorefile "$ignorefile" "$@" -f deploy/container/Dockerfile \
              --build-arg SERVICE="$service" -t "$image" . ;;
    buildah) "$tool" bud --layers --ignorefile "$ignorefile" "$@" -f deploy/container/Dockerfile \
               --build-arg SERVICE="$service" -t "$image" . ;;
    *) DOCKER_BUILDKIT=1 "$tool" build "$@" -f deploy/container/Dockerfile \
         --build-arg SERVICE="$service" -t "$image" . ;;
  esac
  if $push; then "$tool" push "$image"; fi
done
