"""ExecuTorch program lowered to the XNNPACK backend (.pte)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..spec import ModelSpec
from .base import ExportOptions, Format, Predict, export_program, torch_predict

FILE = "model.pte"


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    lowered = to_edge_transform_and_lower(export_program(spec), partitioner=[XnnpackPartitioner()])
    (out / FILE).write_bytes(lowered.to_executorch().buffer)


def load(folder: Path, manifest: dict[str, Any]) -> Predict:
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(folder / FILE).load_method("forward")
    return torch_predict(lambda *tensors: method.execute(list(tensors)), manifest)


FORMAT = Format(
    name="executorch",
    description="ExecuTorch program with XNNPACK delegation (.pte)",
    export=export,
    load=load,
    runtime="executorch.runtime",
    runtime_package="executorch",
    hint="dynamic dims need a max bound for memory planning, and torch must be the version executorch was built for",
)
