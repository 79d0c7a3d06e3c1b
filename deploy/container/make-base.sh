#!/bin/sh
# Only for machines that cannot pull debian:12 (no Docker Hub, no registry mirror) but can reach
# the Debian archive. Everywhere else the Dockerfile's own FROM debian:12 / debian:12-slim is
# what to use, and this script is not needed.
#
# Makes two local base images from the Debian archive with debootstrap:
#   localhost/debian:12       bookworm, minbase variant, apt sources as in the official image
#                             (bookworm, bookworm-updates, bookworm-security)
#   localhost/debian:12-slim  the same without documentation, man pages and translations, and
#                             dpkg told to keep leaving them out (as the official -slim image does)
# and loads them into podman's (or buildah's) local storage. Then:
#
#   deploy/container/build.sh --build-arg BASE=localhost/debian:12 \
#     --build-arg RUNTIME_BASE=localhost/debian:12-slim
#
# Run as root; needs debootstrap and podman or buildah (apt-get install debootstrap podman).
#   MIRROR           Debian archive (default http://deb.debian.org/debian); the builder stage's
#                    apt-get uses it too, so give the mirror this machine's apt uses
#   SECURITY_MIRROR  default http://deb.debian.org/debian-security
#   TMPDIR           where the root filesystems are assembled (default /var/tmp; ~300 MB)
set -eu
mirror=${MIRROR:-http://deb.debian.org/debian}
security_mirror=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
if command -v podman >/dev/null 2>&1; then
  tool=podman
elif command -v buildah >/dev/null 2>&1; then
  tool=buildah
else
  echo "make-base.sh: needs podman or buildah" >&2
  exit 1
fi
command -v debootstrap >/dev/null 2>&1 || { echo "make-base.sh: needs debootstrap" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/linli-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

echo "make-base.sh: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Image builds run apt-get without an init system: never start services on install.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/tmp/* "$rootfs"/root/.bash_history

load() {  # load ROOTFS IMAGE
  if [ "$tool" = podman ]; then
    tar --numeric-owner -C "$1" -c . | podman import --quiet --change 'CMD ["bash"]' - "$2" >/dev/null
  else
    ctr=$(buildah from scratch)
    mnt=$(buildah mount "$ctr")
    tar --numeric-owner -C "$1" -c . | tar --numeric-owner -C "$mnt" -xp
    buildah umount "$ctr" >/dev/null
    buildah config --cmd bash "$ctr"
    buildah commit --rm "$ctr" "$2" >/dev/null
  fi
  echo "make-base.sh: $2" >&2
}
load "$rootfs" localhost/debian:12

# The slim variant.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
# Keep documentation, man pages and translations out of this image (copyrights stay).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/groff/* \
  "$rootfs"/usr/share/lintian/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
load "$rootfs" localhost/debian:12-slim
