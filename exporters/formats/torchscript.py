"""TorchScript (.pt) by tracing; run with torch.jit in Python and DJL or JNI libtorch in the JVM."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any


from ..spec import ModelSpec
from .base import TORCH_THREADS, zip_record, ExportOptions, Format, Predict, set_torch_threads, torch_predict

if TYPE_CHECKING:
    import torch


FILE = "model.pt"


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    # Traced under no_grad: otherwise nn.TransformerEncoder takes its fused fast path on one
    # trace and not the other and tracing fails with "Graphs differed across invocations".
    import torch
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))  # torch.jit is deprecated in 2.13
        traced = torch.jit.trace(spec.module, spec.example_args())
        traced.save(str(out / FILE))


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    import torch
    set_torch_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        module = torch.jit.load(str(folder / FILE), map_location="cpu")
    return torch_predict(module, manifest)


def needs(folder: Path) -> dict[str, Any]:
    """The archive's file-format version (its `version` record), which a loading libtorch must know."""
    return {"torchscript_file_version": int(zip_record(folder / FILE, "version"))}


FORMAT = Format(
    name="torchscript",
    description="TorchScript module traced with torch.jit.trace (.pt)",
    main=FILE,
    export=export,
    load=load,
    runtime="torch.jit",
    runtime_package="torch",
    hint="tracing needs data-independent control flow; check the model with torch.jit.trace directly",
    threads=TORCH_THREADS,
    needs=needs,
)
