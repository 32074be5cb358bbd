"""Run every exported artifact in its Python runtime against the golden cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .contract import load_golden, read_manifest, sha256, write_manifest
from .parity import Parity
from .export import first_line
from .formats import FORMATS

SIDE = "python"


def check_files(model_dir: Path, entry: dict[str, Any]) -> str | None:
    """Why the format's files differ from what the manifest recorded, or None if they match."""
    for file in entry["files"]:
        path = model_dir / file["path"]
        if not path.is_file():
            return f"{file['path']} is missing"
        if sha256(path) != file["sha256"]:
            return f"{file['path']} does not match its recorded sha256"
    return None


def verify_model(
    model_dir: Path,
    only: list[str] | None = None,
    on_result: Callable[[str, dict[str, Any]], None] = lambda name, result: None,
) -> dict[str, Any]:
    """Verify each ok format, record results under verification['python/<runtime>'], return the manifest."""
    manifest = read_manifest(model_dir)
    cases = load_golden(model_dir, manifest)
    for name, entry in manifest["formats"].items():
        if entry["status"] != "ok" or (only and name not in only) or name not in FORMATS:
            continue
        fmt = FORMATS[name]
        parity = Parity(manifest["parity"])
        problem = check_files(model_dir, entry)
        if problem:
            parity.fail(problem)
        else:
            try:
                predict = fmt.load(model_dir / name, manifest)
                for case in cases:
                    parity.add(case.name, predict(case.inputs), case.reference)
            except Exception as exc:  # a runtime error is a verification failure, with the runtime's words
                parity.fail(f"{type(exc).__name__}: {first_line(exc)}")
        result = {"side": SIDE, "runtime": fmt.runtime, "version": fmt.runtime_version(), **parity.as_dict()}
        entry["verification"][f"{SIDE}/{fmt.runtime}"] = result
        write_manifest(model_dir, manifest)
        on_result(name, result)
    return manifest
