#!/usr/bin/env bash
# Make sure the disk under the checkout has NEED GiB free before CI builds on it: when it has less and a
# Docker engine answers, Docker's build cache (only a cache: the next build refills it) is dropped first.
# Still short: one line naming what fills the disk, exit 1, before any step fails halfway with ENOSPC.
# Usage: .ci/disk.sh NEED_GIB
set -euo pipefail
cd "$(dirname "$0")/.."

need=${1:?usage: .ci/disk.sh NEED_GIB}
free() { df -P --block-size=1G . | awk 'NR == 2 {print $4}'; }

if [ "$(free)" -lt "$need" ] && docker info >/dev/null 2>&1; then
  echo "ci: $(free) GiB free, under the $need GiB a run needs: dropping Docker's build cache"
  docker image prune -f >/dev/null
  docker builder prune -af >/dev/null
fi
if [ "$(free)" -lt "$need" ]; then
  echo "ci: only $(free) GiB free on $(df -P . | awk 'NR == 2 {print $6}'), under the $need GiB a run needs;" \
    "the largest folders: $(du -xsh /tmp /var/lib/docker "$HOME" 2>/dev/null | sort -rh | head -3 | tr '\t\n' ' ')" >&2
  exit 1
fi
echo "ci: $(free) GiB free (a run needs $need GiB)"
