"""Finding and starting the JVM with the harness classpath (one JVM per process: JPype cannot restart it)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jpype

from . import runtimes

# Where `mvn package` left the jars and lib/; HARNESS_TARGET points elsewhere (an image, a release).
TARGET = Path(os.environ.get("HARNESS_TARGET", Path(__file__).resolve().parent / "target"))
JAR = TARGET / "jvm-harness.jar"
LIB = TARGET / "lib"
RUNNERS = TARGET / "runners.txt"  # SelfCheck --list-runners of this build: the one list of JVM runners
SELF_CHECK = "org.exportpipeline.harness.tools.SelfCheck"  # the check's main class, also what the driver calls in-process
NATIVE = TARGET / "native"  # what `make jvm` builds for a runner whose pinned wheel is only a recipe (ExecuTorch's shim)
# Every JVM this package starts, in-process or as a child, runs in the service environment (a value set stays).
os.environ.update({name: value for name, value in runtimes.SERVICE_ENV.items() if name not in os.environ})


class JvmError(RuntimeError):
    """No usable JVM or no built harness; the message says what to run."""


def engines() -> list[str]:
    """The registry's engines built beside the core jar: target/jvm-harness-ENGINE.jar (with target/lib/ENGINE/)."""
    return sorted(name for name in runtimes.ENGINES if (TARGET / f"jvm-harness-{name}.jar").is_file())


@dataclass(frozen=True)
class RunnerInfo:
    format: str  # the exported format it loads
    runtime: str  # its name in verification records (jvm/RUNTIME)
    engine: str  # the jars and JVM process it needs


def runners() -> list[RunnerInfo]:
    """Every runner this build has, as the harness lists them (read once per build, kept in target/runners.txt)."""
    if not RUNNERS.is_file() or RUNNERS.stat().st_mtime < JAR.stat().st_mtime:
        listed = subprocess.run(java_command(SELF_CHECK, None) + ["--list-runners"],
                                capture_output=True, text=True)
        if listed.returncode != 0:
            raise JvmError(f"SelfCheck --list-runners failed ({(listed.stderr.strip().splitlines() or ['no message'])[-1]}): run `make jvm`")
        try:
            RUNNERS.write_text(listed.stdout)
        except OSError:  # a read-only target (an image): list on every call
            return [RunnerInfo(*line.split()) for line in listed.stdout.splitlines() if line.strip()]
    return [RunnerInfo(*line.split()) for line in RUNNERS.read_text().splitlines() if line.strip()]


def classpath(engine: str | None = None, version: str | None = None) -> list[str]:
    """The core jar and its dependencies plus one engine's (or every engine's), as `mvn package` lays them out;
    with a version (runtimes.RUNTIMES), that version's jars replace the pinned ones in target/lib/ENGINE."""
    if not JAR.is_file() or not (LIB / "core").is_dir() or not engines():
        raise JvmError(f"JVM harness not built ({JAR} or its engine jars missing): run `make jvm`")
    chosen = engines() if engine is None else [engine]
    if engine is not None and engine not in engines():
        raise JvmError(f"no engine {engine} in {TARGET} (built: {', '.join(engines())}): run `make jvm`")
    paths, tied = [str(JAR), str(LIB / "core" / "*")], set()
    for name in chosen:
        paths.append(str(TARGET / f"jvm-harness-{name}.jar"))
        if version is None or version == runtimes.pinned(name) or isinstance(runtimes.RUNTIMES[name][version], runtimes.Wheel):
            paths.append(str(LIB / name / "*"))
        else:
            fetched = fetch(name, version)
            tied |= set(runtimes.ENGINES[name].tied)
            paths += [str(fetched / "*"), *(str(jar) for jar in runtimes.replaced(LIB / name, fetched)
                                            if runtimes.artifact(jar) not in tied)]
    if tied:  # the core's jars one by one, without those tied to the pinned runtime (runtimes.Engine.tied)
        paths[1:2] = [str(jar) for jar in sorted((LIB / "core").glob("*.jar")) if runtimes.artifact(jar) not in tied]
    return paths


def fetch(engine: str, version: str) -> Path:
    """That version's folder under target/runtimes, fetched on first use (a failed fetch is a JvmError)."""
    try:
        return runtimes.fetch(TARGET, engine, version, Path(__file__).resolve().parents[1] / ".cache" / "wheels")
    except runtimes.VersionError as exc:
        raise JvmError(str(exc)) from exc


def native_options(engine: str, version: str | None) -> list[str]:
    """The -D setting naming the native folder of a chosen runtime version that comes from a wheel (an OpenVINO wheel's
    C library, an ExecuTorch shim built against that wheel); none for the pinned version, whose natives jar is in
    target/lib/ENGINE (jvm_harness/natives.py) with the engine's other jars."""
    chosen = runtimes.ENGINES.get(engine)
    if chosen and chosen.native and version is not None and version != runtimes.pinned(engine):
        return [f"-D{chosen.native}={fetch(engine, version)}"]
    return []


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


def start(engine: str, version: str | None = None) -> None:
    """Start the JVM once, with one engine's jars (of that version): engines with clashing natives never share a process."""
    if jpype.isJVMStarted():
        return
    cp, path = classpath(engine, version), jvm_path()
    options = native_options(engine, version)
    # A fault the JVM catches in native code writes hs_err_pidN.log: into the temp folder, not the caller's working
    # folder (the driver records its path in the engine's crashed results).
    error_file = f"-XX:ErrorFile={Path(tempfile.gettempdir()) / 'hs_err_pid%p.log'}"
    jpype.startJVM(path, *options, *jvm_options(path), error_file, classpath=cp, convertStrings=True)


def jvm_options(path: str) -> list[str]:
    """Options for the JVM at path, in process (JPype) and in a child `java` alike."""
    if java_feature_version(path) >= 22:
        return ["--enable-native-access=ALL-UNNAMED"]  # JNI of ORT and DJL would warn otherwise
    return []


def java_command(main: str, engine: str | None, version: str | None = None) -> list[str]:
    """`java` of the same JVM start() loads, with one engine's classpath, to run a harness main in a child."""
    path = jvm_path()
    java = Path(path).resolve().parents[2] / "bin" / "java"  # JAVA_HOME/lib/server/libjvm.so
    if not java.is_file():
        raise JvmError(f"no java launcher beside {path} ({java} missing): point JAVA_HOME at a JDK 17+")
    options = native_options(engine or "", version)
    return [str(java), *options, *jvm_options(path), "-cp", ":".join(classpath(engine, version)), main]
