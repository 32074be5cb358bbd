"""What a format is: how to export a spec into a folder and how to run that folder in Python."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..parity import Tolerance
from ..spec import ModelSpec

# A runnable artifact: golden inputs by name in, outputs by name out.
Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
# Loads a format folder; threads, when given, is the runtime's intra-op thread count (None: its default).
Load = Callable[[Path, dict[str, Any], "int | None"], Predict]


@dataclass(frozen=True)
class ExportOptions:
    draft_export: bool = False
    tolerance: Tolerance | None = None  # --atol/--rtol: one fixed bound for every output, this run only
    timeout: float = 1800.0  # seconds one format's export may take before its process is killed
    force: bool = False  # export even when nothing the export depends on changed


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    export: Callable[[ModelSpec, Path, ExportOptions], list[str] | None]  # problems the exporter reported
    load: Load
    runtime: str  # the Python runtime `verify` runs it with
    runtime_package: str  # the distribution whose version names that runtime
    hint: str  # what to try first when its export fails
    threads: str  # how load() sets the runtime's intra-op threads, as benchmarks state it

    def runtime_version(self) -> str:
        return metadata.version(self.runtime_package)


def torch_dynamic_shapes(spec: ModelSpec) -> tuple[dict[int, Any] | None, ...]:
    """torch.export dynamic_shapes, positional; one torch Dim object per dim name so inputs share it."""
    dims: dict[str, torch.export.Dim] = {}
    shapes = []
    for input_name in spec.inputs:
        axes = {}
        for axis, dim in spec.dynamic.get(input_name, {}).items():
            axes[axis] = dims.setdefault(dim.name, torch.export.Dim(dim.name, min=dim.min, max=dim.max))
        shapes.append(axes or None)
    return tuple(shapes)


def export_program(spec: ModelSpec) -> torch.export.ExportedProgram:
    """The strict-shape torch.export every graph-based format starts from."""
    return torch.export.export(spec.module, spec.example_args(), dynamic_shapes=torch_dynamic_shapes(spec))


TORCH_THREADS = "torch.set_num_threads (process-wide)"


def set_torch_threads(threads: int | None) -> None:
    """torch's intra-op pool is process-wide: eager, torch.jit, torch.export and AOTI kernels share it."""
    if threads:
        torch.set_num_threads(threads)


def torch_predict(run: Callable[..., Any], manifest: dict[str, Any]) -> Predict:
    """Wrap a torch callable (positional tensors in, tensor or tuple out) as a Predict."""
    input_names = [io["name"] for io in manifest["inputs"]]
    output_names = [io["name"] for io in manifest["outputs"]]

    def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.no_grad():
            result = run(*(torch.from_numpy(inputs[name]) for name in input_names))
        tensors = result if isinstance(result, (list, tuple)) else [result]
        return {name: tensor.detach().numpy() for name, tensor in zip(output_names, tensors, strict=True)}

    return predict
