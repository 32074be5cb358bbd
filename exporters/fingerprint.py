"""What an export depends on: an unchanged model keeps its golden data, an unchanged format its files.

A fingerprint is a table of parts and the digest of that table. The model's parts are what the golden
data and the manifest's inputs come from: its weights, golden inputs, dims, declared value ranges and
tolerances, the code of the model's modules (the tables an input's value range is found in) and of this
package (outside formats/), and the libraries that run it eagerly. A format's parts add only what
can change that format's bytes: its own module and the package modules it imports (a fallback's format
module included, never the registry that lists the formats), the libraries its exporter uses and, for a
format compiled for this machine, the compiler and the CPU. Paths are named from the package or module, never
from the disk, so a tree exported in the image is unchanged on the host when code and pins are.

The manifest records the parts beside the digest (contents as short digests, versions as they are), so
an export that runs again says which part changed. `--force` re-exports regardless.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .contract.manifest import cpu_features
from .golden import golden_inputs
from .spec import ModelSpec

PACKAGE = Path(__file__).resolve().parent
FORMATS_DIR = PACKAGE / "formats"
# The libraries every artifact and the golden data come from; each format names its own beside these.
MODEL_PACKAGES = ("torch", "numpy")
SHORT = 16  # hex digits of a content digest kept in the manifest: enough to tell a change, small to read
CODE = "code "  # the label prefix of a source file's part
SHOWN = 4  # changed parts named in one line


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    parts: dict[str, str]

    @classmethod
    def of(cls, parts: dict[str, str]) -> Fingerprint:
        return cls(hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(), parts)


def model_fingerprint(spec: ModelSpec, weights: str, tolerance: object) -> Fingerprint:
    inputs = hashlib.sha256()
    for label, case in golden_inputs(spec):
        inputs.update(label.encode())
        for name, tensor in case.items():
            inputs.update(name.encode() + str(tensor.dtype).encode() + str(list(tensor.shape)).encode())
            inputs.update(tensor.contiguous().numpy().tobytes())
    parts = {"weights": weights[:SHORT], "golden inputs": inputs.hexdigest()[:SHORT],
             "outputs": _short(repr(spec.outputs)), "dynamic": _short(repr(spec.dynamic)),
             "values": _short(repr(sorted(spec.values.items()))),
             "tolerance": _short(repr(spec.tolerance)), "cli tolerance": _short(repr(tolerance)),
             "text": _short(spec.text.digest_text() if spec.text else ""),
             # only where declared: the fingerprints of models without data dims stay as they were
             **({"data dims": _short(repr(spec.data_dims))} if spec.data_dims else {}),
             "python": ".".join(platform.python_version_tuple()[:2]), **versions(MODEL_PACKAGES)}
    parts |= {CODE + label: _content(path) for label, path in _code_files(spec)}
    return Fingerprint.of(parts)


def format_fingerprint(model: str, fmt: Any, options: Any) -> Fingerprint:
    """The model's digest plus the format's module, its exporter's libraries, its own options (Format.options) and,
    where it is compiled for this machine (host_bound), the C++ compiler and the CPU."""
    parts = {"model": model[:SHORT], **versions(fmt.packages)}
    parts |= {name.replace("_", " "): str(value) for name, value in fmt.chosen(options).items()}
    if fmt.host_bound:
        parts |= {"compiler": compiler(), "cpu": _short(cpu_features())}
    for path in _format_sources(fmt.name):
        parts[f"{CODE}exporters/{path.relative_to(PACKAGE).as_posix()}"] = _content(path)
    return Fingerprint.of(parts)


def changes(subject: str, recorded: Any, now: Fingerprint) -> str:
    """Which of SUBJECT's parts differ from those recorded with the last export, in one line."""
    if not isinstance(recorded, dict):
        return f"{subject}: the last export recorded no fingerprint parts"
    changed = []
    for key in sorted(set(recorded) | set(now.parts), key=lambda key: (key.startswith(CODE), key)):
        before, after = recorded.get(key), now.parts.get(key)
        if before == after:
            continue
        if key.startswith(CODE):
            changed.append(f"{key[len(CODE):]} {'added' if before is None else 'removed' if after is None else 'edited'}")
        else:
            changed.append(f"{key} {before or '(none)'} -> {after or '(none)'}")
    if not changed:
        return f"{subject}: the digest differs though its parts match (recorded by another version of the exporter?)"
    more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    return f"{subject} changed: " + ", ".join(changed[:SHOWN]) + more


def _content(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:SHORT]


def _short(text: str) -> str:
    """A described value as it is when short, else its digest."""
    return text if len(text) <= 48 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:SHORT]


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
    """The package's sources the export runs (each format's are in its own fingerprint) and the files of
    the modules defining the model and its build(), each labelled by package path or module name."""
    files = {f"exporters/{path.relative_to(PACKAGE).as_posix()}": path for path in _export_sources()}
    module_names = {type(spec.module).__module__, spec.source.partition(":")[0]}
    module_names |= {type(m).__module__ for m in spec.module.modules()}
    for name in module_names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and not Path(file).resolve().is_relative_to(PACKAGE):
            files[name] = Path(file).resolve()
    return sorted(files.items())


# Where the export process and each format's worker start: the golden data and the files come from the
# package modules these import, at any depth; a report or bench edit re-exports nothing.
EXPORT_ROOTS = ("export.py", "worker.py")


# Lists the formats: what it lists changes no format's bytes, so adding a format re-exports no other.
REGISTRY = FORMATS_DIR / "__init__.py"


@functools.cache
def _export_sources() -> tuple[Path, ...]:
    """The package's modules outside formats/ that EXPORT_ROOTS import."""
    return _imported_sources(tuple(PACKAGE / root for root in EXPORT_ROOTS), lambda path: FORMATS_DIR in path.parents)


@functools.cache
def _format_sources(name: str) -> tuple[Path, ...]:
    """The package's modules the format's module imports (base, guards, attention, another format's module it falls
    back on, ...), less the registry and the modules the model's fingerprint reads already."""
    model_reads = set(_export_sources())
    return _imported_sources((FORMATS_DIR / f"{name}.py",), lambda path: path == REGISTRY or path in model_reads)


def _imported_sources(roots: tuple[Path, ...], skip: Callable[[Path], bool]) -> tuple[Path, ...]:
    """The package's modules ROOTS import at any depth (read from their import statements, function-level ones
    included), never entering a module SKIP names."""
    seen: set[Path] = set()
    todo = list(roots)
    while todo:
        path = todo.pop()
        if path in seen or skip(path) or not path.is_file():
            continue
        seen.add(path)
        if path.name != "__init__.py":
            todo.append(path.parent / "__init__.py")  # a package's __init__ runs before its modules
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                todo += _imported(path, node.level, node.module, [alias.name for alias in node.names])
            elif isinstance(node, ast.Import):
                todo += [hit for alias in node.names for hit in _imported(path, 0, alias.name, [])]
    return tuple(sorted(seen))


def _imported(importer: Path, level: int, module: str | None, names: list[str]) -> list[Path]:
    """The package files an import statement may load: the module, or each name as a submodule."""
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
    elif module and module.split(".")[0] == PACKAGE.name:
        base, module = PACKAGE, module.partition(".")[2] or None
    else:
        return []
    target = base.joinpath(*module.split(".")) if module else base
    found = [target / "__init__.py", target.with_suffix(".py")]
    return found + [target / f"{name}.py" for name in names]
