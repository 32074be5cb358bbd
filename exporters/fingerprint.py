"""What an export depends on, as digests: an unchanged model keeps its golden data, an unchanged format its files.

The model's digest covers what the golden data comes from: its weights, golden inputs, dims and
tolerances, the code of the model's modules and of this package (outside formats/), and the libraries
that run it eagerly. A format's digest adds only what can change that format's bytes: its own module,
the libraries its exporter uses and, for a format compiled for this machine, the compiler and the
CPU. Paths are named from the package or module, never from the disk, so a tree exported in the image
is unchanged on the host when code and pins are. `--force` re-exports regardless.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .contract.manifest import cpu_features
from .golden import golden_inputs
from .spec import ModelSpec

PACKAGE = Path(__file__).resolve().parent
FORMATS_DIR = PACKAGE / "formats"
# The libraries every artifact and the golden data come from; each format names its own beside these.
MODEL_PACKAGES = ("torch", "numpy")


def model_fingerprint(spec: ModelSpec, weights: str, tolerance: object) -> str:
    digest = hashlib.sha256()
    digest.update(weights.encode())
    for label, case in golden_inputs(spec):
        digest.update(label.encode())
        for name, tensor in case.items():
            digest.update(name.encode() + str(tensor.dtype).encode() + str(list(tensor.shape)).encode())
            digest.update(tensor.contiguous().numpy().tobytes())
    described = {"outputs": spec.outputs, "dynamic": repr(spec.dynamic), "tolerance": repr(spec.tolerance),
                 "cli_tolerance": repr(tolerance), "python": platform.python_version_tuple()[:2],
                 "versions": versions(MODEL_PACKAGES)}
    digest.update(json.dumps(described, sort_keys=True).encode())
    for label, path in _code_files(spec):
        digest.update(label.encode() + path.read_bytes())
    return digest.hexdigest()


def format_fingerprint(model: str, fmt: Any, draft_export: bool) -> str:
    """The model's digest plus the format's module, its exporter's libraries and, where it is compiled for
    this machine (host_bound), the C++ compiler and the CPU."""
    module = FORMATS_DIR / f"{fmt.name}.py"
    described = {"model": model, "versions": versions(fmt.packages), "draft_export": draft_export and fmt.name == "exported_program",
                 "host": [compiler(), cpu_features()] if fmt.host_bound else None}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode())
    for path in (FORMATS_DIR / "__init__.py", FORMATS_DIR / "base.py", module):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def versions(packages: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


@functools.cache
def compiler() -> str:
    """The first line of `c++ --version` of the compiler inductor calls (CXX, else c++/g++ on PATH)."""
    name = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or "none"
    try:
        done = subprocess.run([name, "--version"], capture_output=True, text=True, timeout=30)
        return (done.stdout.splitlines() or ["unknown"])[0]
    except (OSError, subprocess.SubprocessError):
        return f"{name}: not runnable"


def _code_files(spec: ModelSpec) -> list[tuple[str, Path]]:
    """This package's sources outside formats/ (each format's are in its own digest) and the files of the
    modules defining the model and its build(), each labelled by package path or module name."""
    files = {f"exporters/{p.relative_to(PACKAGE).as_posix()}": p for p in PACKAGE.rglob("*.py") if FORMATS_DIR not in p.parents}
    module_names = {type(spec.module).__module__, spec.source.partition(":")[0]}
    module_names |= {type(m).__module__ for m in spec.module.modules()}
    for name in module_names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and not Path(file).resolve().is_relative_to(PACKAGE):
            files[name] = Path(file).resolve()
    return sorted(files.items())
