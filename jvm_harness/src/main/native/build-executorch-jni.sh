#!/usr/bin/env bash
# Builds the ExecuTorch runner's JNI shim against the C++ runtime SDK (lib/ + include/) of one executorch
# wheel, the one recipe for every runtime version: `make jvm` builds the pinned wheel's into target/native,
# jvm_harness/runtimes.py another served version's into target/runtimes/executorch/VERSION. The wheel is
# only unpacked (into SDK_DIR), never installed, and must have been checked against its pinned sha256.
# Usage: build-executorch-jni.sh WHEEL VERSION SDK_DIR OUT_DIR  (CXX and JDK_HOME or JAVA_HOME if set)
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 WHEEL VERSION SDK_DIR OUT_DIR" >&2; exit 2; }
wheel=$1 version=$2 sdk=$3 out=$4
source=$(dirname "$0")/executorch_jni.cpp
cxx=${CXX:-g++}
jdk=${JDK_HOME:-${JAVA_HOME:-$(dirname "$(dirname "$(realpath "$(command -v javac || echo /javac/not/found)")")")}}
# Backends and kernels register themselves when their library loads: all four are linked and shipped.
libs=(libexecutorch.so libexecutorch_backend_xnnpack.so libexecutorch_kernels_optimized.so libexecutorch_threadpool.so)

command -v unzip >/dev/null || { echo "executorch JNI: unzip not found: install it (apt-get install unzip)" >&2; exit 1; }
command -v "$cxx" >/dev/null || { echo "executorch JNI: C++ compiler '$cxx' not found: install g++ or set CXX" >&2; exit 1; }
[ -f "$jdk/include/jni.h" ] || { echo "executorch JNI: jni.h not found under '$jdk': set JAVA_HOME to a JDK 17+ (not a JRE)" >&2; exit 1; }

root=$sdk/executorch
if [ ! -f "$root/.unpacked" ]; then
  rm -rf "$root" && unzip -q -o "$wheel" 'executorch/lib/*' 'executorch/include/*' -d "$sdk"
  touch "$root/.unpacked"
fi
links=()
for lib in "${libs[@]}"; do links+=("-l$(basename "${lib#lib}" .so)"); done
mkdir -p "$out"
cp "${libs[@]/#/$root/lib/}" "$out/"
"$cxx" -std=c++17 -O2 -fPIC -shared -Wno-deprecated-declarations \
  -DC10_USING_CUSTOM_GENERATED_MACROS -DET_EVENT_TRACER_ENABLED -DET_RUNTIME_VERSION="\"$version\"" \
  -I"$root/include" -I"$root/include/executorch/runtime/core/portable_type/c10" \
  -I"$jdk/include" -I"$jdk/include/linux" "$source" -o "$out/libexecutorch_jni.so" \
  -L"$out" -Wl,--no-as-needed "${links[@]}" -Wl,--as-needed -Wl,--no-undefined -Wl,-rpath,'$ORIGIN'
