"""ONNX via the dynamo exporter, or the TorchScript-based one where torch.export cannot take the model; run with ONNX
Runtime in Python and ONNX Runtime Java in the JVM."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..contract.causes import Cause
from ..spec import ModelSpec
from .base import REMEDIES, ExportOptions, Format, Predict, Signature, recurrent_loops_kept, torch_dynamic_shapes
from .guards import with_guard_remedy

# ONNX Runtime (1.29+) records telemetry from its first session unless this is set before it: set here, on import of
# the registry, before anything in this process (an exporter's own checks included) can start it. A value set stays.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

FILE = "model.onnx"  # torch writes weights beside it as model.onnx.data: both are part of the artifact


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    # torch.onnx captures under the recurrent decomposition but decomposes without it: wrapped whole, an
    # LSTM's output keeps its dynamic sequence dim instead of declaring the example's length.
    import torch

    def trace(shapes: tuple[dict[int, Any] | None, ...]) -> None:
        torch.onnx.export(spec.module, spec.example_args(), str(out / FILE), dynamo=True, input_names=list(spec.inputs),
                          output_names=spec.outputs, dynamic_shapes=shapes, verbose=False)

    with recurrent_loops_kept():
        with_guard_remedy(spec, trace, torch_dynamic_shapes(spec), REMEDIES)


def export_traced(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    """The fallback path: the TorchScript-based exporter traces instead of torch.export, so it takes models whose
    control flow or output sizes the data decides (torchvision documents it for its detectors, from opset 11); dims
    are named as the manifest names them (the inputs' and the data's). It writes its default opset (20 in torch
    2.13), which needs.opset_imports records for every runtime's check."""
    import torch

    axes = {name: {axis: dim.name for axis, dim in dims.items()} for name, dims in {**spec.dynamic, **spec.data_dims}.items()}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))  # the exporter is deprecated in 2.13
        torch.onnx.export(spec.module, spec.example_args(), str(out / FILE), dynamo=False, input_names=list(spec.inputs),
                          output_names=spec.outputs, dynamic_axes=axes)


def signature(folder: Path) -> Signature:
    """The graph's declared inputs and outputs (a dim_param, or no value, is dynamic and unbounded)."""
    import onnx
    from onnx.helper import tensor_dtype_to_np_dtype

    graph = onnx.load(str(folder / FILE), load_external_data=False).graph
    return {section: [(value.name, str(tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)),
                       [dim.dim_value if dim.HasField("dim_value") else (None, None)
                        for dim in value.type.tensor_type.shape.dim])
                      for value in values]
            for section, values in (("inputs", graph.input), ("outputs", graph.output))}


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(folder / FILE), options, providers=["CPUExecutionProvider"])
    output_names = [io["name"] for io in manifest["outputs"]]

    def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(output_names, session.run(output_names, inputs), strict=True))

    return predict


def needs(folder: Path) -> dict[str, Any]:
    """The IR version and opset imports a runtime must implement (read from the file, weights not loaded)."""
    import onnx

    model = onnx.load(str(folder / FILE), load_external_data=False)
    return {"onnx_ir_version": model.ir_version,
            "opset_imports": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import}}


FORMAT = Format(
    name="onnx",
    description="ONNX from the dynamo exporter (else the TorchScript-based one), dynamic axes kept (.onnx + .onnx.data)",
    main=FILE,
    export=export,
    load=load,
    runtime="onnxruntime",
    runtime_package="onnxruntime",
    hint="an operator may lack an ONNX translation; check the export report with torch.onnx.export(..., report=True)",
    causes=(Cause(re.compile(r"Unsupported FX nodes|No decomposition|OnnxExporterError|not supported in ONNX", re.I),
                  "an operator has no ONNX translation; see the export log, or register a custom translation"),),
    caveat="model.onnx and model.onnx.data (external weights torch writes) must be deployed together",
    threads="SessionOptions.intra_op_num_threads",
    signature=signature,
    needs=needs,
    need_keys=("onnx_ir_version", "opset_imports"),
    path="the dynamo exporter (torch.export)",
    fallbacks=(("the TorchScript-based exporter (dynamo=False)", export_traced),),
    packages=("torch", "onnx", "onnxscript"),
)
