"""TorchScript (.pt) by tracing; run with torch.jit in Python and DJL or JNI libtorch in the JVM."""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from ..spec import ModelSpec
from .base import (TORCH_THREADS, zip_record, ExportOptions, Format, Predict, load_operator_libraries, set_torch_threads,
                   torch_predict)

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
    load_operator_libraries(operator_libraries(folder / FILE))  # else: "Unknown builtin op: torchvision::nms"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        module = torch.jit.load(str(folder / FILE), map_location="cpu")
    return torch_predict(module, manifest)


def needs(folder: Path) -> dict[str, Any]:
    """The archive's file-format version (its `version` record), which a loading libtorch must know, and the operator
    libraries its code calls outside libtorch's own, which the loading process must have registered first."""
    found: dict[str, Any] = {"torchscript_file_version": int(zip_record(folder / FILE, "version"))}
    libraries = operator_libraries(folder / FILE)
    if libraries:
        found["operator_libraries"] = libraries
    return found


# Op namespaces libtorch itself registers (ATen, the interpreter's prim ops, its quantized and CPU backend kernels).
LIBTORCH_NAMESPACES = {"aten", "prim", "prims", "quantized", "_quantized", "profiler", "mkldnn", "mkldnn_prepacked",
                       "xnnpack", "_caffe2"}
# A call in the archive's serialized code: `ops.torchvision.nms(`, never a module path (`ops.boxes.nms` of
# `__torch__.torchvision.ops.boxes`, preceded by a dot).
OP_CALL = re.compile(r"(?<![\w.])ops\.(\w+)\.(\w+)\(")


def operator_libraries(archive: Path) -> dict[str, list[str]]:
    """{namespace: [op, ...]} of the ops the archive's code calls that libtorch does not register itself."""
    found: dict[str, set[str]] = {}
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            if "/code/" in name and name.endswith(".py"):
                for namespace, op in OP_CALL.findall(z.read(name).decode()):
                    if namespace not in LIBTORCH_NAMESPACES:
                        found.setdefault(namespace, set()).add(op)
    return {namespace: sorted(ops) for namespace, ops in sorted(found.items())}


FORMAT = Format(
    name="torchscript",
    description="TorchScript module traced with torch.jit.trace (.pt)",
    main=FILE,
    export=export,
    load=load,
    runtime="torch.jit",
    runtime_package="torch",
    hint="tracing needs data-independent control flow; check the model with torch.jit.trace directly",
    caveat="TorchScript (torch.jit) is deprecated upstream: torch 2.13 warns on every use",
    threads=TORCH_THREADS,
    needs=needs,
    need_keys=("torchscript_file_version", "operator_libraries"),
)
