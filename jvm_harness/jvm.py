"""Finding and starting the JVM with the harness classpath (one JVM per process: JPype cannot restart it)."""

from __future__ import annotations

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


def jvm_options(path: str) -> list[str]:
    """Options for the JVM at path, in process (JPype) and in a child `java` alike."""
    if java_feature_version(path) >= 22:
        return ["--enable-native-access=ALL-UNNAMED"]  # JNI of ORT and DJL would warn otherwise
    return []


def start() -> None:
    """Start the JVM once; the harness forces DJL offline itself, so nothing downloads."""
    if jpype.isJVMStarted():
        return
    cp, path = classpath(), jvm_path()
    jpype.startJVM(path, *jvm_options(path), classpath=cp, convertStrings=True)


def java_command(main: str) -> list[str]:
    """`java` of the same JVM start() loads, with the harness classpath, to run a harness main in a child."""
    path = jvm_path()
    java = Path(path).resolve().parents[2] / "bin" / "java"  # JAVA_HOME/lib/server/libjvm.so
    if not java.is_file():
        raise JvmError(f"no java launcher beside {path} ({java} missing): point JAVA_HOME at a JDK 17+")
    return [str(java), *jvm_options(path), "-cp", ":".join(classpath()), main]


def java_version() -> str:
    return str(jpype.java.lang.System.getProperty("java.runtime.version"))
