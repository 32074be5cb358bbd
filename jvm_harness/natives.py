"""Native libraries as jars: each engine whose runtime is no Maven artifact (OpenVINO's C library set, ExecuTorch's
runtime with this project's JNI shim) gets `jvm-harness-ENGINE-natives-VERSION-PLATFORM.jar`, which a service puts on
its classpath like any jar; NativeLibraries.java extracts it at first use into a versioned cache, checking every
file's sha256 against the jar's index.

The pinned runtimes' files come from the sha256-pinned wheels (runtimes.py): OpenVINO's libs folder unpacked from its
wheel (the CPU plugin and the IR reader; the GPU and NPU plugins and the other model readers stay out), ExecuTorch's
as `make jvm` built them from its wheel (target/native). The jar is reproducible: sorted entries, fixed timestamps.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

from . import runtimes

PLATFORM = "linux-x86_64"
VERSION = "0.1.0"  # the harness's (pom.xml)
RESOURCES = "org/exportpipeline/harness/natives"  # NativeLibraries.java reads ENGINE/PLATFORM/ under it
INDEX = "files.sha256"
# Files of a wheel's libs folder a runner never loads: other devices' plugins, other model formats' readers.
LEFT_OUT = re.compile(r"intel_(gpu|npu)_plugin|_(onnx|tensorflow|tensorflow_lite|pytorch|paddle|jax|gguf)_frontend|tbbmalloc_proxy|tbbbind")


def engines() -> list[str]:
    """Engines whose pinned runtime comes from a wheel: those with a natives jar."""
    return [name for name, engine in runtimes.ENGINES.items() if engine.native]


def jar_name(engine: str) -> str:
    return f"jvm-harness-{engine}-natives-{VERSION}-{PLATFORM}.jar"


def files(engine: str, target: Path, cache: Path) -> list[Path]:
    """The pinned runtime's native files, from its sha256-checked wheel."""
    version = runtimes.pinned(engine)
    wheel = runtimes.RUNTIMES[engine][version]
    if not wheel.libs:  # ExecuTorch's: built by `make jvm` from its wheel (the Makefile checks its sha256)
        folder = target / "native"
    else:
        folder = runtimes.fetch(target, engine, version, cache)
    found = sorted(p for p in folder.iterdir() if p.is_file() and re.search(r"\.so(\.\d+)*$", p.name) and not LEFT_OUT.search(p.name))
    if not found:
        raise runtimes.VersionError(f"no native libraries for {engine} {version} in {folder}: run `make jvm`")
    return found


def write_jar(engine: str, natives: list[Path], out: Path) -> Path:
    """The natives jar: the files under RESOURCES/ENGINE/PLATFORM/, with an index of "sha256 bytes name" lines."""
    prefix = f"{RESOURCES}/{engine}/{PLATFORM}/"
    index = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_size} {p.name}\n" for p in natives)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as jar:
        for name, data in [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"), (prefix + INDEX, index.encode()),
                           *((prefix + p.name, p.read_bytes()) for p in natives)]:
            entry = zipfile.ZipInfo(name, date_time=(1980, 2, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            jar.writestr(entry, data)
    partial.replace(out)
    return out


def build(target: Path, cache: Path) -> list[Path]:
    """Every engine's natives jar into target/lib/ENGINE (the engine's classpath folder), rebuilt when its files changed."""
    written = []
    for engine in engines():
        natives = files(engine, target, cache)
        out = target / "lib" / engine / jar_name(engine)
        if not out.is_file() or out.stat().st_mtime < max(p.stat().st_mtime for p in natives):
            write_jar(engine, natives, out)
        written.append(out)
    return written


if __name__ == "__main__":  # `make jvm`: stdlib only, so any python3 runs it before the project's venv exists
    root = Path(__file__).resolve().parents[1]
    for jar in build(root / "jvm_harness" / "target", root / ".cache" / "wheels"):
        print(f"natives: {jar.relative_to(root)} ({jar.stat().st_size >> 20} MiB)")
