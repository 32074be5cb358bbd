"""Everything an export depends on, as one digest: an unchanged model is not exported again.

The digest covers the model's weights, golden inputs, dims and tolerances, the code of the model's
modules and of this package, and the versions of every exporting library. A change to any of them
re-exports; `--force` re-exports regardless.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from .golden import golden_inputs
from .spec import ModelSpec

PACKAGE = Path(__file__).resolve().parent


def export_fingerprint(spec: ModelSpec, weights: str, versions: dict[str, str], tolerance: object) -> str:
    digest = hashlib.sha256()
    digest.update(weights.encode())
    for label, case in golden_inputs(spec):
        digest.update(label.encode())
        for name, tensor in case.items():
            digest.update(name.encode() + str(tensor.dtype).encode() + str(list(tensor.shape)).encode())
            digest.update(tensor.contiguous().numpy().tobytes())
    described = {"outputs": spec.outputs, "dynamic": repr(spec.dynamic), "tolerance": repr(spec.tolerance),
                 "cli_tolerance": repr(tolerance), "versions": versions}
    digest.update(json.dumps(described, sort_keys=True).encode())
    for path in _code_files(spec):
        digest.update(str(path.relative_to(path.anchor)).encode() + path.read_bytes())
    return digest.hexdigest()


def _code_files(spec: ModelSpec) -> list[Path]:
    """This package's sources and the files of the modules defining the model and its build()."""
    files = set(PACKAGE.rglob("*.py"))
    module_names = {type(spec.module).__module__, spec.source.partition(":")[0]}
    module_names |= {type(m).__module__ for m in spec.module.modules()}
    for name in module_names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file:
            files.add(Path(file).resolve())
    return sorted(files)
