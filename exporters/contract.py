"""The artifact contract: manifest.json, golden vectors and the parity rule.

This is the one Python reading of the contract; the JPype driver (jvm_harness) uses it too, while the
Java side reads the same files on its own (jvm_harness/src/main/java/.../Manifest.java).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

SCHEMA_VERSION = 2
MANIFEST = "manifest.json"
GOLDEN_DIR = "golden"


class ContractError(RuntimeError):
    """An artifact directory that does not hold what the contract promises."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(root: Path, paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Path relative to the model directory, sha256 and size of each file."""
    return [
        {"path": path.relative_to(root).as_posix(), "sha256": sha256(path), "bytes": path.stat().st_size}
        for path in sorted(paths)
    ]


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def plain_mode(path: Path) -> None:
    """Give a mkstemp/mkdtemp result (0600/0700) the mode a plain create would have under the umask."""
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~current_umask())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a sibling temp file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
        plain_mode(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / MANIFEST
    if not path.is_file():
        raise ContractError(f"{path} not found: run `python -m exporters export MODEL` first")
    manifest = json.loads(path.read_text())
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ContractError(f"{path} has schema {manifest.get('schema_version')}, expected {SCHEMA_VERSION}: re-export")
    return manifest


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> None:
    write_json_atomic(Path(model_dir) / MANIFEST, manifest)


@dataclass
class GoldenCase:
    """Inputs, eager fp32 outputs, and the reference artifacts are judged against (float64 when recorded)."""

    name: str
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]


def load_golden(model_dir: Path, manifest: dict[str, Any]) -> list[GoldenCase]:
    """Every golden case, after checking each file against its recorded sha256."""
    by_path = {entry["path"]: entry for entry in manifest["golden"]["files"]}
    cases = []
    for case in manifest["golden"]["cases"]:
        arrays = {}
        for role in ("inputs", "outputs", "reference"):
            arrays[role] = {}
            for name, rel in case.get(role, {}).items():
                path = Path(model_dir) / rel
                if not path.is_file() or sha256(path) != by_path[rel]["sha256"]:
                    raise ContractError(f"golden file {path} is missing or altered: re-export the model")
                arrays[role][name] = np.load(path)
        reference = arrays["reference"] or arrays["outputs"]
        cases.append(GoldenCase(case["name"], arrays["inputs"], arrays["outputs"], reference))
    return cases
