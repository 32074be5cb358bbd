#!/usr/bin/env bash
# Make a Docker daemon answer: keep a running one, else (as root on Debian) install docker.io and
# debootstrap when absent and start dockerd in the background. Exit 1 with one line when it cannot.
# With --check: only tell (exit 0/1, silent) whether a daemon answers now.
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/dockerd.log}

answers() { timeout 20 docker info >/dev/null 2>&1; }

if [ "${1:-}" = --check ]; then
  answers
  exit
fi
if answers; then
  echo "docker-engine: daemon answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker-engine: no Docker daemon answers and starting one needs root; run: sudo make docker-engine" >&2
  exit 1
fi
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)  # builds the base image without a registry
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "docker-engine: no ${missing[*]} and no apt-get to install them; install Docker Engine by hand" >&2
    exit 1
  fi
  echo "docker-engine: installing ${missing[*]} (apt)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >/tmp/docker-engine-apt.log 2>&1 || {
    echo "docker-engine: apt-get install ${missing[*]} failed; see /tmp/docker-engine-apt.log" >&2
    exit 1
  }
fi
echo "docker-engine: starting dockerd (log: $log)"
# setsid: the daemon outlives this script and the make or CI step that ran it.
setsid dockerd >"$log" 2>&1 </dev/null &
dockerd_pid=$!
for _ in $(seq 60); do
  if answers; then
    echo "docker-engine: daemon answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  kill -0 "$dockerd_pid" 2>/dev/null || break
  sleep 1
done
echo "docker-engine: dockerd did not start: $(grep -m1 -iE 'level=(fatal|error)|failed' "$log" || tail -n1 "$log")" >&2
exit 1
