"""Export one model spec to the chosen formats, each isolated and written atomically."""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from . import golden as goldens
from .contract import SCHEMA_VERSION, ContractError, file_entries, plain_mode, read_manifest, write_manifest
from .formats import FORMATS, ExportOptions, Format
from .parity import Tolerance
from .spec import ModelSpec

# Every library whose version decides what an artifact is or how it runs.
VERSIONED_PACKAGES = ("torch", "executorch", "onnx", "onnxscript", "onnxruntime", "openvino", "numpy")
LOG_DIR = "logs"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def export_model(
    spec: ModelSpec,
    formats: list[Format],
    out_root: Path,
    options: ExportOptions,
    on_step: Callable[[str, dict[str, Any]], None] = lambda name, entry: None,
) -> dict[str, Any]:
    """Write artifacts/<model>/ and its manifest; a failing format is recorded and the rest go on."""
    model_dir = out_root / spec.name
    model_dir.mkdir(parents=True, exist_ok=True)
    manifest = _fresh_manifest(spec, model_dir, options)
    write_manifest(model_dir, manifest)  # matches the new golden data before any format starts
    for fmt in formats:
        manifest["formats"][fmt.name] = entry = _export_one(spec, fmt, model_dir, options)
        write_manifest(model_dir, manifest)  # after every format, so an interrupted run keeps what finished
        on_step(fmt.name, entry)
    return manifest


def _fresh_manifest(spec: ModelSpec, model_dir: Path, options: ExportOptions) -> dict[str, Any]:
    """A new manifest; entries of formats not re-exported survive only if the golden data is unchanged."""
    golden, rules = _replace_golden(spec, model_dir, options.tolerance)
    previous: dict[str, Any] = {}
    try:
        previous = read_manifest(model_dir)
    except (ContractError, ValueError):
        pass
    same_model = previous.get("golden", {}).get("files") == golden["files"] and previous.get("parity") == rules
    kept = previous.get("formats", {}) if same_model else {}
    for stale in set(FORMATS) - set(kept):
        shutil.rmtree(model_dir / stale, ignore_errors=True)
    return {
        "schema_version": SCHEMA_VERSION,
        "model": spec.name,
        "source": spec.source,
        "versions": library_versions(),
        **goldens.io_specs(spec, golden, model_dir),
        "golden": golden,
        "parity": rules,
        "formats": kept,
    }


def _replace_golden(spec: ModelSpec, model_dir: Path, override: Tolerance | None) -> tuple[dict[str, Any], dict[str, Any]]:
    staging = Path(tempfile.mkdtemp(prefix=".golden.", dir=model_dir))
    try:
        golden, rules = goldens.write_golden(spec, staging, override)
        shutil.rmtree(model_dir / "golden", ignore_errors=True)
        (staging / "golden").rename(model_dir / "golden")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return golden, rules


def _export_one(spec: ModelSpec, fmt: Format, model_dir: Path, options: ExportOptions) -> dict[str, Any]:
    """Export into a hidden staging folder, then rename it into place: no half-written format folder."""
    final = model_dir / fmt.name
    staging = Path(tempfile.mkdtemp(prefix=f".{fmt.name}.", dir=model_dir))
    log = model_dir / LOG_DIR / f"{fmt.name}.log"
    log.unlink(missing_ok=True)
    entry: dict[str, Any] = {"status": "failed", "files": []}
    if fmt.name == "exported_program":
        entry["draft_export"] = options.draft_export
    started = time.perf_counter()
    try:
        fmt.export(spec, staging, options)
        plain_mode(staging)
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        entry["status"] = "ok"
        entry["files"] = file_entries(model_dir, (p for p in final.rglob("*") if p.is_file()))
    except Exception as exc:  # any exporter error is recorded; the next format still runs
        shutil.rmtree(final, ignore_errors=True)  # an old artifact must not pass for the failed one
        log.parent.mkdir(exist_ok=True)
        log.write_text("".join(traceback.format_exception(exc)))
        entry["error"] = f"{type(exc).__name__}: {first_line(exc)}"
        entry["hint"] = fmt.hint
        entry["log"] = log.relative_to(model_dir).as_posix()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    entry["export_seconds"] = round(time.perf_counter() - started, 2)
    entry["verification"] = {}
    return entry


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
