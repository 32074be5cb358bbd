#!/usr/bin/env bash
# Make the base image IMAGE exist locally: keep it if present, else pull it, else build it from
# Debian's archive with debootstrap and `docker import` (for machines with no image registry).
# Usage: docker/build-base.sh IMAGE [SUITE] [MIRROR]
set -euo pipefail

image=${1:?usage: docker/build-base.sh IMAGE [SUITE] [MIRROR]}
suite=${2:-bookworm}
mirror=${3:-http://deb.debian.org/debian}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "docker-base: $image already present"
  exit 0
fi
if timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
  echo "docker-base: pulled $image"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  echo "docker-base: $image cannot be pulled and debootstrap is missing; run: apt-get install -y debootstrap" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker-base: debootstrap needs root to build $image; rerun as root" >&2
  exit 1
fi

rootfs=$(mktemp -d /tmp/docker-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "docker-base: $image not pullable; debootstrapping Debian $suite from $mirror (about a minute)"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  echo "docker-base: debootstrap failed; see $rootfs.log" >&2
  exit 1
}
rm -f "$rootfs.log"

# Updates and security fixes too, as in Debian's own images.
cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SOURCES
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar --numeric-owner -C "$rootfs" -c . |
  docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "docker-base: built $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
