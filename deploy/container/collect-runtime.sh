#!/bin/sh
# Copies a binary and exactly the shared libraries it loads (from ldd) into a root filesystem
# tree, keeping their paths, plus the time zone data Linli reads. The runtime image is this tree
# on top of debian:12-slim, so nothing else from the build stage (compilers, headers, sources)
# reaches it.
#
#   collect-runtime.sh BINARY ROOTFS
#
# glibc itself (libc, libm, ld-linux, ...) is skipped: debian:12-slim has the same version.
set -eu
binary=$1
rootfs=$2
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/share/zoneinfo/Asia"
cp "$binary" "$rootfs/usr/local/bin/linli-service"
strip --strip-unneeded "$rootfs/usr/local/bin/linli-service"
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) continue ;;
  esac
  # /lib is a symlink to /usr/lib on Debian 12: store under the real directory so that copying
  # the tree onto the base image never replaces that symlink with a directory.
  dir=$(readlink -f "$(dirname "$lib")")
  mkdir -p "$rootfs$dir"
  cp -L "$lib" "$rootfs$dir/$(basename "$lib")"
done
# Recurrence rules are evaluated in China Standard Time (common/recurrence).
cp -L /usr/share/zoneinfo/Asia/Shanghai "$rootfs/usr/share/zoneinfo/Asia/Shanghai"
cp -L /usr/share/zoneinfo/UTC "$rootfs/usr/share/zoneinfo/UTC"
