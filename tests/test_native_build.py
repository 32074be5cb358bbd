"""`make jvm` builds the ExecuTorch JNI shim from pinned pieces only (build-executorch-jni.sh) and says in one line what is missing.

make's what-if (-W) treats the shim's source as changed without touching it, so only the shim's
recipe runs, and its checks stop it before anything is written.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIM = "jvm_harness/target/native/libexecutorch_jni.so"
SOURCE = "jvm_harness/src/main/native/executorch_jni.cpp"


def make_shim(*overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", "-W", SOURCE, SHIM, *overrides], cwd=ROOT, capture_output=True, text=True,
        env=env,
    )


def test_missing_compiler_fails_with_one_line() -> None:
    result = make_shim("CXX=no-such-compiler")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("executorch JNI:")]
    assert lines == ["executorch JNI: C++ compiler 'no-such-compiler' not found: install g++ or set CXX"], result.stderr


def test_missing_jdk_headers_fail_with_one_line(tmp_path: Path) -> None:
    result = make_shim(f"JDK_HOME={tmp_path}")
    assert result.returncode != 0
    assert f"executorch JNI: jni.h not found under '{tmp_path}': set JAVA_HOME to a JDK 17+ (not a JRE)" in result.stderr


def test_the_shim_links_the_runtime_libraries_beside_it() -> None:
    shim = ROOT / SHIM
    if not shim.is_file():
        make = subprocess.run(["make", "--no-print-directory", SHIM], cwd=ROOT, capture_output=True, text=True)
        assert make.returncode == 0, make.stderr
    dynamic = subprocess.run(["readelf", "-d", str(shim)], capture_output=True, text=True, check=True).stdout
    for library in ("libexecutorch.so", "libexecutorch_backend_xnnpack.so", "libexecutorch_kernels_optimized.so"):
        assert f"[{library}]" in dynamic  # --no-as-needed: backends register themselves when loaded
        assert (shim.parent / library).is_file()
    assert "[$ORIGIN]" in dynamic
