"""Finding and starting the JVM with the harness classpath (one JVM per process: JPype cannot restart it)."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import jpype

# Where `mvn package` left the jar and lib/; HARNESS_TARGET points elsewhere (an image, a release).
TARGET = Path(os.environ.get("HARNESS_TARGET", Path(__file__).resolve().parent / "target"))
JAR = TARGET / "jvm-harness.jar"
LIB = TARGET / "lib"


class JvmError(RuntimeError):
    """No usable JVM or no built harness; the message says what to run."""


def classpath() -> list[str]:
    """The harness jar and its runtime dependencies, as `mvn package` lays them out."""
    if not JAR.is_file() or not LIB.is_dir():
        raise JvmError(f"JVM harness not built ({JAR} missing): run `make jvm`")
    return [str(JAR), str(LIB / "*")]


def jvm_path() -> str:
    """JAVA_HOME's JVM when set (a wrong JAVA_HOME is an error, not a silent fallback), else the default."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        libjvm = Path(java_home) / "lib" / "server" / "libjvm.so"
        if not libjvm.is_file():
            raise JvmError(f"no JVM found at JAVA_HOME={java_home} ({libjvm} missing): point JAVA_HOME at a JDK 17+")
        return str(libjvm)
    try:
        return jpype.getDefaultJVMPath()
    except jpype.JVMNotFoundException as exc:
        raise JvmError(f"no JVM found ({exc}): install a JDK 17+ or set JAVA_HOME") from exc


def java_feature_version(path: str) -> int:
    release = Path(path).resolve().parents[2] / "release"  # JAVA_HOME/lib/server/libjvm.so
    match = re.search(r'JAVA_VERSION="(\d+)', release.read_text()) if release.is_file() else None
    return int(match.group(1)) if match else 17


def openvino_libs() -> str | None:
    """The libs folder of this Python's openvino wheel (the pinned one), found without importing it."""
    spec = importlib.util.find_spec("openvino")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "libs").is_dir():
            return str(Path(location) / "libs")
    return None


def start() -> None:
    """Start the JVM once; the harness forces DJL offline itself, so nothing downloads."""
    if jpype.isJVMStarted():
        return
    cp, path = classpath(), jvm_path()
    options = []
    libs = openvino_libs()
    if libs and not os.environ.get("HARNESS_OPENVINO_LIB"):
        options.append(f"-Dharness.openvino.lib={libs}")  # the OpenVINO runner's C library
    if java_feature_version(path) >= 22:
        options.append("--enable-native-access=ALL-UNNAMED")  # JNI of ORT and DJL would warn otherwise
    jpype.startJVM(path, *options, classpath=cp, convertStrings=True)


def java_version() -> str:
    return str(jpype.java.lang.System.getProperty("java.runtime.version"))
