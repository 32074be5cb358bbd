"""The producer x consumer matrix: every artifact a JVM engine runs, proven on each runtime version in
runtimes.RUNTIMES (or the oldest and newest of each, the CI slice), written to compat.json.

A cell is passed, failed parity (it loaded and answered wrongly, or failed under concurrent callers)
or refused to load (the runtime, its binding or our pre-load check said no: the runtime's own words).
Its direction says whether the artifact is newer than the runtime (the service lags the exporter:
no upstream promise except ORT's opset rule) or older (the service upgraded first: the promised case).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from exporters.contract.manifest import VERIFIABLE, read_manifest, write_json_atomic

from . import jvm, runtimes
from .driver import EngineError, verify_models

PASSED, FAILED, REFUSED, NOT_EXPORTED = "passed", "failed parity", "refused to load", "failed to export"


def key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def native_version(engine: str, version: str) -> str:
    """The runtime build a version brings: DJL's is the libtorch its JNI bridge was made for."""
    if engine == "djl-pytorch":
        native = next(c for c in runtimes.RUNTIMES[engine][version] if ":pytorch-native-cpu:" in c)
        return native.split(":")[2]
    return version


def versions(engine: str, ci: bool, producer: bool = False) -> list[str]:
    """Every served version, oldest first; the CI slice keeps the oldest and the newest, the producer slice
    (another torch's artifacts) the pinned one and the oldest."""
    ordered = sorted(runtimes.RUNTIMES[engine], key=lambda v: key(native_version(engine, v) + "." + v))
    if producer:
        return list(dict.fromkeys([runtimes.pinned(engine), ordered[0]]))
    return [ordered[0], ordered[-1]] if ci and len(ordered) > 1 else ordered


def must_pass(engines: list[str] | None = None) -> list[tuple[str, str, str | None]]:
    """The CI slice's (engine, version, format or None for every format) that must pass: what `--ci` requires. A
    service relies on every cell of it but the formats a version cannot serve at all (runtimes.Engine.only)."""
    return [(engine, version, runtimes.ENGINES[engine].only.get(version))
            for engine in engines or list(runtimes.RUNTIMES) for version in versions(engine, ci=True)]


def made_by(versions: dict[str, str]) -> str:
    """The producer as its manifest records it: the torch that exported and the executorch that lowered."""
    executorch = versions.get("executorch", "not installed")
    paired = f" + executorch {executorch}" if executorch != "not installed" else " (no executorch)"
    return f"torch {versions.get('torch')}{paired}"


def direction(runtime: str, producer: str | None) -> str:
    if producer is None:
        return "unknown"
    if key(runtime)[:2] == key(producer)[:2]:
        return "same release"
    return "artifact newer than runtime" if key(runtime) < key(producer) else "artifact older than runtime"


def verdict(result: dict[str, Any]) -> tuple[str, str]:
    """The cell's status and message: nothing answered at all means it never loaded."""
    if result["passed"]:
        return PASSED, ""
    if result.get("cases", 0) == 0:
        return REFUSED, result.get("error", "no message")
    concurrency = result.get("concurrency", {})
    message = result.get("error") or concurrency.get("first_error") or f"worst ratio {result['worst_ratio']:.3g} to the allowed error"
    return FAILED, message


def sweep(model_dirs: list[Path], engines: list[str] | None = None, ci: bool = False,
          on_cell: Callable[[dict[str, Any]], None] = lambda cell: None, producer: bool = False) -> dict[str, Any]:
    """Run every (engine, version) on every folder; a version that cannot start is a refused cell per format it runs.
    producer: the folders are another torch's (producers.py): the producer slice of versions, and cells for
    each format that failed to export and for each Python runtime's recorded verification."""
    manifests = {folder.resolve(): read_manifest(folder) for folder in model_dirs}
    cells: list[dict[str, Any]] = []

    def add(folder: Path, fmt: str, engine: str, version: str, status: str, message: str, runtime: str,
            native: str | None = None, package: str | None = None) -> None:
        manifest = manifests[folder.resolve()]
        package = package or runtimes.ENGINES[engine].producer
        native = native or native_version(engine, version)
        produced = manifest["versions"].get(package)
        cell = {"model": manifest["model"], "format": fmt, "engine": engine, "version": version, "runtime": runtime,
                "native": native, "made_by": made_by(manifest["versions"]), "producer": f"{package} {produced}",
                "direction": direction(native, produced) if native != "-" else "-", "status": status, "message": message}
        cells.append(cell)
        on_cell(cell)

    if producer:
        for folder in model_dirs:
            for fmt, entry in manifests[folder.resolve()]["formats"].items():
                if entry["status"] not in VERIFIABLE:  # failed, or skipped: the exporter's words
                    status = NOT_EXPORTED if entry["status"] == "failed" else f"export {entry['status']}"
                    add(folder, fmt, "export", "-", status, entry.get("error") or "", "export", native="-", package="torch")
                for name, result in entry.get("verification", {}).items():
                    if name.startswith("python/"):
                        add(folder, fmt, name, result["version"], *verdict(result), result["runtime"],
                            native=result["version"], package=result.get("package", "torch"))  # the format's runtime package
    runs: list[tuple[str, str]] = [(engine, version) for engine in engines or list(runtimes.RUNTIMES)
                                          if engine in jvm.engines() for version in versions(engine, ci, producer)]
    for engine, version in runs:
        def step(folder: Path, fmt: str, result: dict[str, Any], engine=engine, version=version) -> None:
            add(folder, fmt, engine, version, *verdict(result), result["runtime"])
        try:
            verify_models(model_dirs, step, engines=[engine], versions={engine: version})
        except (EngineError, jvm.JvmError) as exc:  # the whole JVM for this version would not start or died
            for folder in model_dirs:
                for fmt in formats_of(engine, manifests[folder.resolve()]):
                    add(folder, fmt, engine, version, REFUSED, str(exc), engine)
    return {"producer": {m["model"]: m["versions"] for m in manifests.values()}, "cells": cells}


def formats_of(engine: str, manifest: dict[str, Any]) -> list[str]:
    """The exported formats an engine's runners load (as SelfCheck --list-runners states them)."""
    ours = [runner.format for runner in jvm.runners() if runner.engine == engine]
    return [fmt for fmt in ours if manifest["formats"].get(fmt, {}).get("status") in VERIFIABLE]


def write(path: Path, matrix: dict[str, Any]) -> None:
    """compat.json beside the manifests: report.md's matrix section reads it (exporters/report.py)."""
    write_json_atomic(path, matrix)
