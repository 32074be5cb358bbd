"""Reproducibility: export a model again into a scratch folder and compare every file byte for byte.

Known upstream limits, recorded rather than hidden: an AOTI package carries a random
`.data/serialization_id` per save and compile/link command comments (host paths, flags) in its
bundled C++ sources, appended again when the inductor cache is warm; its compiled library is
identical. The result lands in each format's manifest entry as `reproducible`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from .contract.manifest import read_manifest, record_results, writer_lock
from .export import export_model
from .formats import FORMATS, ExportOptions
from .spec import ModelSpec


def reproduce(spec: ModelSpec, model_dir: Path, timeout: float) -> dict[str, Any]:
    """Re-export every ok format of model_dir and record which files came out identical."""
    manifest = read_manifest(model_dir)
    formats = [FORMATS[name] for name, entry in manifest["formats"].items() if entry["status"] == "ok" and name in FORMATS]
    options = {name: manifest["formats"][fmt.name][name] for fmt in formats for name in fmt.options
               if name in manifest["formats"][fmt.name]}  # as the last export set them (Format.options)
    with tempfile.TemporaryDirectory(prefix="reproduce-") as scratch:
        again = export_model(spec, formats, Path(scratch), ExportOptions(**options, timeout=timeout, force=True))
    with writer_lock(model_dir):
        recorded = read_manifest(model_dir)["formats"]
        found = {}
        for fmt in formats:
            before = {f["path"]: f["sha256"] for f in recorded[fmt.name]["files"]}
            after = {f["path"]: f["sha256"] for f in again["formats"][fmt.name]["files"]}
            differs = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
            found[fmt.name] = {"reproducible": {"identical": not differs, "differs": differs}}
        return record_results(model_dir, found)
