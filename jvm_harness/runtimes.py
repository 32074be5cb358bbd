"""The JVM engines and the runtime versions each can be proven on: the one table of what each is made of.

The engine classes are compiled against the pinned versions (pom.xml, rendered from this table; Makefile);
any other version here is fetched into target/runtimes/ENGINE/VERSION/ and swapped in for target/lib/ENGINE
(jars) or for the pinned wheel's native folder. Maven runtimes come from Maven Central (Maven checks Central's
checksums); wheels are downloaded with pip and checked against the sha256 pinned below.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

LINUX = "linux-x86_64"
JNA = "net.java.dev.jna:jna:5.19.1"


def javacpp(torch: str, presets: str, openblas: str) -> tuple[str, ...]:
    """JavaCPP's libtorch: the presets, their native jar, javacpp and openblas (each with its natives)."""
    return (f"org.bytedeco:pytorch:{torch}-{presets}", f"org.bytedeco:pytorch:{torch}-{presets}:jar:{LINUX}",
            f"org.bytedeco:javacpp:{presets}", f"org.bytedeco:javacpp:{presets}:jar:{LINUX}",
            f"org.bytedeco:openblas:{openblas}", f"org.bytedeco:openblas:{openblas}:jar:{LINUX}", JNA)


def djl(version: str, libtorch: str) -> tuple[str, ...]:
    """DJL's PyTorch engine with the libtorch build its JNI bridge was made for (jars only: nothing downloads at load)."""
    return (f"ai.djl:api:{version}", f"ai.djl.pytorch:pytorch-engine:{version}",
            f"ai.djl.pytorch:pytorch-jni:{libtorch}-{version}", f"ai.djl.pytorch:pytorch-native-cpu:{libtorch}:jar:{LINUX}")


@dataclass(frozen=True)
class Wheel:
    """A pip wheel whose native folder replaces the pinned one (its sha256 pinned here): the shared libraries
    under `libs` copied out, or with `build`, the script that makes the runner's native folder from the wheel."""
    package: str
    file: str
    sha256: str
    libs: str = ""  # folder inside the wheel with the shared libraries the runner loads
    build: Path | None = None  # run as: build WHEEL VERSION SDK_DIR OUT_DIR

    @property
    def platform(self) -> str:
        return self.file.removesuffix(".whl").rsplit("-", 1)[-1]  # the file name's platform tag


# The ExecuTorch shim's one build recipe (the Makefile's for the pinned version, fetch's for the others).
ET_BUILD = Path(__file__).resolve().parent / "src" / "main" / "native" / "build-executorch-jni.sh"


@dataclass(frozen=True)
class Engine:
    """A JVM engine: its runner classes (their own jar, jvm-harness-ENGINE.jar), the runtime versions it is proven
    on and what its build copies to target/lib/ENGINE. pom.xml's engine sections and docker/Dockerfile's runtime
    image are rendered from this (`python -m jvm_harness render`)."""
    package: str  # its runners' folder under org/exportpipeline/harness/ (kept out of the core jar)
    # version -> Maven coordinates (group:artifact:version[:jar:classifier]) or a Wheel; the first is the
    # pinned one the harness is built with (its jars in target/lib/ENGINE).
    versions: dict[str, tuple[str, ...] | Wheel]
    producer: str  # the producer's package its runtime version is compared with (a key of the manifest's versions)
    binding: tuple[str, ...] = ()  # jars a wheel runtime is reached through (OpenVINO's C API through JNA)
    transitive: tuple[str, ...] = ()  # group ids its runtime's jars pull in, copied to target/lib/ENGINE too
    native: str = ""  # the -D setting naming the native folder of a runtime that comes from a wheel
    # Artifacts of the core's (and this engine's pinned) jars built on this runtime's own library, which another
    # version of the runtime cannot share a classpath with: DJL's text tokenizer needs DJL's api at its pinned
    # version (an older api lacks fields it reads when DJL loads its providers). A chosen version leaves them out.
    tied: tuple[str, ...] = ()
    # A version that serves only one of the engine's formats (its other runners cannot load on it): compat's CI
    # slice requires only that one there.
    only: dict[str, str] = field(default_factory=dict)

    def jars(self) -> tuple[str, ...]:
        """The Maven coordinates the harness is built with: the pinned runtime's and the binding's."""
        pinned = next(iter(self.versions.values()))
        return (pinned if isinstance(pinned, tuple) else ()) + self.binding

    def groups(self) -> list[str]:
        """The group ids target/lib/ENGINE is copied from (empty: the engine has no jars of its own)."""
        return list(dict.fromkeys([c.split(":")[0] for c in self.jars()] + list(self.transitive)))


# The one list of JVM engines; a new one also needs its runner package and src/engines/ENGINE/META-INF/services.
ENGINES: dict[str, Engine] = {
    # The pinned ONNX Runtime Java matches the Python onnxruntime pin (pyproject.toml).
    "onnxruntime": Engine("ort", {v: (f"com.microsoft.onnxruntime:onnxruntime:{v}",)
                                  for v in ("1.29.0", "1.20.0", "1.22.0", "1.24.1", "1.26.0", "1.28.0")}, "onnxruntime"),
    # libtorch 2.13 (the exporter's torch) for AOTI packages and TorchScript: the JavaCPP presets.
    "libtorch-javacpp": Engine("libtorch", {
        "2.13.0": javacpp("2.13.0", "1.5.14", "0.3.31-1.5.13"),  # the presets' 0.3.34-1.5.14 is not served on Central
        "2.7.1": javacpp("2.7.1", "1.5.12", "0.3.30-1.5.12"),
        "2.10.0": javacpp("2.10.0", "1.5.13", "0.3.31-1.5.13"),
    }, "torch", only={"2.7.1": "torchscript"}),  # the 2.7.1 presets have no AOTI loader
    "djl-pytorch": Engine("djl", {
        "0.35.1": djl("0.35.1", "2.7.1"),
        "0.27.0": djl("0.27.0", "2.1.1"),
        "0.32.0": djl("0.32.0", "2.5.1"),
        "0.36.0": djl("0.36.0", "2.7.1"),
    }, "torch", transitive=("net.java.dev.jna", "org.apache.commons", "commons-codec", "commons-io"), tied=("api", "tokenizers")),
    "openvino": Engine("openvino", {
        "2026.4.1": Wheel("openvino", "openvino-2026.4.1-22982-cp311-cp311-manylinux_2_28_x86_64.whl",
                          "2d22b1da03f7caf74df30e9f6417d0ab2f637e4a38e08e1dcd294d2c37407aaf", "openvino/libs"),  # pyproject's pin
        # The 2023.3.0 and 2024.0.0 wheels ship no libopenvino_c (checked): a C-API binding cannot load them.
        "2024.6.0": Wheel("openvino", "openvino-2024.6.0-17404-cp311-cp311-manylinux2014_x86_64.whl",
                          "444a6d3a746dd728654877993c30582faefcad2868c80ec261839a144b8925bc", "openvino/libs"),
        "2025.4.1": Wheel("openvino", "openvino-2025.4.1-20426-cp311-cp311-manylinux2014_x86_64.whl",
                          "c552a68c094b0d75f48b7c19cbd3482c44e4e267821897dcb7c9f7c36ba5f88b", "openvino/libs"),
    }, "openvino", binding=(JNA,), native="harness.openvino.lib"),  # no OpenVINO jar on Central: its C API through JNA
    # Only the 1.5.x wheels carry the C++ runtime SDK a JNI shim links against (1.0-1.4 have none).
    "executorch": Engine("executorch", {
        # The pinned one: `make jvm` downloads and checks it (the Makefile reads this line) and builds target/native.
        "1.5.1": Wheel("executorch", "executorch-1.5.1-cp311-cp311-manylinux_2_28_x86_64.whl",
                       "274c28c2fe2b76acb03f9fa381537425c40e0098dcf886baf6d97a1a55ffe300", build=ET_BUILD),
        "1.5.0": Wheel("executorch", "executorch-1.5.0-cp311-cp311-manylinux_2_28_x86_64.whl",
                       "970d9ec9fc7fb7e30ece5b942b16ddc84372353af94ebf69d94687153ac8ab67", build=ET_BUILD),
    }, "executorch", native="harness.executorch.dir"),
}

# What a JVM serving these engines needs in its environment, which no Java code can set for its own process (each is
# read by a native library as it starts): the runtime images carry it (rendered), and every JVM jvm_harness starts
# inherits it, the soak's included, so the soak proves what the images run. A value already set stays.
SERVICE_ENV = {
    # ONNX Runtime 1.29+ records telemetry (a device id, an event cache, uploads) from its first environment otherwise.
    "ORT_DISABLE_TELEMETRY": "1",
    # glibc's arenas per thread: DJL's libtorch under 8 callers grew 419 and 587 MiB in 6 min, capped 93 and 118 MiB,
    # at 6% more calls/s; ONNX Runtime the same either way (make soak, encoder).
    "MALLOC_ARENA_MAX": "2",
}

# engine -> version -> Maven coordinates or a Wheel: the versions each engine is proven on.
RUNTIMES: dict[str, dict[str, tuple[str, ...] | Wheel]] = {name: engine.versions for name, engine in ENGINES.items()}


class VersionError(ValueError):
    """An unknown engine or unserved version, or a fetch that failed: one line saying what to choose."""


def pinned(engine: str) -> str:
    return next(iter(RUNTIMES[engine]))


def parse(spec: str) -> dict[str, str]:
    """'onnxruntime=1.22.0 openvino=2025.4.1' -> {engine: version}, every word checked against the table."""
    chosen: dict[str, str] = {}
    for word in spec.split():
        engine, sep, version = word.partition("=")
        if not sep or not version:
            raise VersionError(f"JVM_RUNTIMES word '{word}' is not ENGINE=VERSION (e.g. onnxruntime=1.22.0)")
        check(engine, version)
        chosen[engine] = version
    return chosen


def check(engine: str, version: str) -> None:
    if engine not in RUNTIMES:
        raise VersionError(f"unknown JVM engine '{engine}': choose one of {', '.join(RUNTIMES)}")
    if version not in RUNTIMES[engine]:
        raise VersionError(f"{engine} {version} is not served here: choose one of {', '.join(RUNTIMES[engine])}")


def folder(target: Path, engine: str, version: str) -> Path:
    return target / "runtimes" / engine / version


def fetch(target: Path, engine: str, version: str, cache: Path) -> Path:
    """The folder holding that version's jars (or native libs), fetched once; the pinned version is target/lib."""
    check(engine, version)
    where = folder(target, engine, version)
    if (where / ".complete").is_file():
        return where
    recipe = RUNTIMES[engine][version]
    where.mkdir(parents=True, exist_ok=True)
    if isinstance(recipe, Wheel):
        unpack_wheel(recipe, version, where, cache)
    else:
        copy_from_maven(recipe, where)
    (where / ".complete").touch()
    return where


def copy_from_maven(coordinates: tuple[str, ...], where: Path) -> None:
    """One small pom naming exactly these artifacts (no transitive picks), copied by Maven from Central."""
    deps = []
    for coordinate in coordinates:
        group, artifact, version, *rest = coordinate.split(":")
        classifier = f"<classifier>{rest[1]}</classifier>" if len(rest) == 2 else ""
        deps.append(f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>"
                    f"{classifier}<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>")
    pom = where / "pom.xml"
    pom.write_text('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
                   '<groupId>org.exportpipeline</groupId><artifactId>runtime</artifactId><version>0</version>'
                   f'<dependencies>{"".join(deps)}</dependencies></project>')
    done = subprocess.run(["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={where}"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = [line for line in done.stdout.splitlines() if "ERROR" in line][:1] or ["no message"]
        raise VersionError(f"Maven could not fetch {', '.join(coordinates)}: {last[0].strip()}")


def unpack_wheel(wheel: Wheel, version: str, where: Path, cache: Path) -> None:
    path = download(wheel, version, cache)
    if wheel.build:
        done = subprocess.run([str(wheel.build), str(path), version, str(cache.parent / f"{wheel.package}-{version}"), str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise VersionError(f"building the {wheel.package} {version} runner failed: "
                               f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
        return
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith(wheel.libs + "/") and re.search(r"\.so(\.\d+)*$", name):
                (where / Path(name).name).write_bytes(archive.read(name))


def download(wheel: Wheel, version: str, cache: Path) -> Path:
    """The wheel in the cache, downloaded once with pip and checked against its pinned sha256."""
    path = cache / wheel.file
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                               "--only-binary=:all:", "--python-version", "3.11", "--platform", wheel.platform,
                               "-d", str(cache), f"{wheel.package}=={version}"], capture_output=True, text=True)
        if done.returncode != 0 or not path.is_file():
            raise VersionError(f"pip could not download {wheel.file}: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != wheel.sha256:
        path.unlink()
        raise VersionError(f"{path} has sha256 {digest}, pinned {wheel.sha256}: deleted it; retry, or check the pin")
    return path


def replaced(lib: Path, fetched: Path) -> list[Path]:
    """The pinned engine jars that a fetched version leaves in place (shared helpers such as JNA or SLF4J):
    a jar stays unless the fetched folder has the same artifact at another version."""
    names = {artifact(jar) for jar in fetched.glob("*.jar")}
    return sorted(jar for jar in lib.glob("*.jar") if artifact(jar) not in names)


def artifact(jar: Path) -> str:
    """'pytorch-2.13.0-1.5.14-linux-x86_64.jar' -> 'pytorch-linux-x86_64': the artifact and classifier without the version."""
    stem = jar.name.removesuffix(".jar")
    return re.sub(r"-\d[^-]*(-\d[^-]*)*", "", stem, count=1)


if __name__ == "__main__":  # `python3 -m jvm_harness.runtimes ENGINE`: stdlib only, so the Makefile reads the pin before setup
    wheel = RUNTIMES[sys.argv[1]][pinned(sys.argv[1])]
    print(pinned(sys.argv[1]), wheel.file, wheel.sha256, wheel.platform)
