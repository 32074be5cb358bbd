#!/usr/bin/env bash
# CI's Docker leg: bring the engine up (installing docker.io as root when absent), run
# `make all RUNNER=docker` (every stage, merge, Python + JVM parity, images, self-check), then prove
# the deployment image runs as non-root. When no engine can start it prints one line starting with
# DOCKER-SKIPPED and exits 3, so CI can go on natively.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-model-export-pipeline}/jvm-runtime:${TAG:-latest}

engine_err=$(mktemp)
trap 'rm -f "$engine_err"' EXIT
if ! docker/engine.sh 2>"$engine_err"; then
  echo "DOCKER-SKIPPED: $(tail -n1 "$engine_err")"
  exit 3
fi

start=$SECONDS
# DEPLOY_FORMATS=onnx adds the ONNX-only deployment image (ORT Java, jlink runtime, pinned manifests).
make --no-print-directory all RUNNER=docker DOCKER_PROGRESS=plain DEPLOY_FORMATS=onnx
echo "ci-docker: make all RUNNER=docker took $((SECONDS - start)) s"

uid=$(docker run --rm "$image" id -u)
if [ "$uid" = 0 ]; then
  echo "ci-docker: $image runs as root; it must run as a non-root user" >&2
  exit 1
fi
echo "ci-docker: $image self-check passed as uid $uid"
# ONNX Runtime records telemetry under ~/.cache/Microsoft from its first environment unless the image's
# ORT_DISABLE_TELEMETRY=1 stops it.
traces=$(docker run --rm "$image" sh -c 'java org.exportpipeline.harness.tools.SelfCheck /opt/harness/artifacts/mlp/ >/dev/null 2>&1 &&
  find "$HOME" -path "*/.cache/Microsoft*" | head -3')
if [ -n "$traces" ]; then
  echo "ci-docker: $image left ONNX Runtime telemetry behind: $traces" >&2
  exit 1
fi
echo "ci-docker: $image ran ONNX Runtime without telemetry"

# Layers and cache mounts stay between runs on this machine (warm builds); this bounds them.
make --no-print-directory docker-prune >/dev/null
