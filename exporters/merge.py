"""Merge artifact trees exported format by format (one Docker stage each) into one tree.

Golden data is deterministic, so every tree of a model must hold the same golden files; the
manifests' format entries are unioned and each format's folder (and failure log) copied over.
With a format filter it also cuts a tree down to what a deployment serves, manifest included.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .contract.manifest import (MANIFEST, TEXT_DIR, ContractError, confined, load_golden, load_text, read_manifest,
                                record_results)
from .formats import FORMATS


def merge_trees(sources: list[Path], out: Path, only: list[str] | None = None) -> list[str]:
    """Merge every model folder of each source root into out (only the `only` formats when given)."""
    merged: dict[str, dict] = {}
    for source in sources:
        model_dirs = sorted(path.parent for path in source.glob(f"*/{MANIFEST}"))
        if not model_dirs:
            raise ContractError(f"no {MANIFEST} under {source}: is it an artifacts folder?")
        for model_dir in model_dirs:
            manifest = read_manifest(model_dir)
            load_golden(model_dir, manifest)  # confined, size- and hash-checked before anything is copied
            load_text(model_dir, manifest)
            target = out / model_dir.name
            if model_dir.name not in merged:
                merged[model_dir.name] = _start(model_dir, manifest, target)
            elif (merged[model_dir.name]["golden"]["files"], merged[model_dir.name].get("text", {}).get("files")) != (
                    manifest["golden"]["files"], manifest.get("text", {}).get("files")):
                raise ContractError(f"{model_dir} has other golden data than the trees merged before it: "
                                    "were the stages built from different models or versions?")
            for name, entry in manifest["formats"].items():
                if only and name not in only:
                    continue
                if name not in FORMATS:  # a format key names a folder: only the registry's may be copied
                    raise ContractError(f"{model_dir / MANIFEST} lists unknown format {name!r}: refusing to merge it")
                _copy(model_dir / name, target / name)
                if "log" in entry:
                    confined(model_dir, entry["log"])  # a manifest-named path must not write outside --out
                    _copy(model_dir / entry["log"], target / entry["log"])
                merged[model_dir.name]["formats"][name] = entry
    for name, manifest in merged.items():
        record_results(out / name, {}, start=manifest)
    return sorted(merged)


def _start(model_dir: Path, manifest: dict, target: Path) -> dict:
    """A fresh target folder holding the golden data (and text cases) and a manifest with no formats yet."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copytree(model_dir / "golden", target / "golden", symlinks=True)
    if "text" in manifest:
        shutil.copytree(model_dir / TEXT_DIR, target / TEXT_DIR, symlinks=True)
    return {**manifest, "formats": {}}


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)  # a link stays a link: readers refuse it
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
