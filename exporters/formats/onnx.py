"""ONNX via the dynamo exporter, or the TorchScript-based one where torch.export cannot take the model; run with ONNX
Runtime in Python and ONNX Runtime Java in the JVM."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..contract.console import first_line
from ..spec import ModelSpec
from .base import ExportOptions, Format, Predict, Signature, recurrent_loops_kept, torch_dynamic_shapes



FILE = "model.onnx"  # torch writes weights beside it as model.onnx.data: both are part of the artifact


# The TorchScript-based exporter traces instead of torch.export: it takes models whose control flow or output sizes
# depend on the data (torchvision documents it for its detectors, from opset 11). It writes its default opset (20 in
# torch 2.13), which needs.opset_imports records for every runtime's check.
FALLBACK_PATH = "torchscript-exporter"
PATH_KEY, WHY_KEY = "exporters.path", "exporters.path_why"  # metadata_props naming the path that made the file


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    try:
        _export_dynamo(spec, out)
    except Exception as first:
        cause = first
        while cause.__cause__ is not None:  # torch.onnx wraps torch.export's error in a "step 1/3" banner
            cause = cause.__cause__
        why = f"torch.export (dynamo) failed: {type(cause).__name__}: {first_line(cause)}"
        for stale in out.glob(f"{FILE}*"):
            stale.unlink()
        try:
            _export_traced(spec, out)
        except Exception as second:
            raise RuntimeError(f"{FALLBACK_PATH} failed too ({type(second).__name__}: {first_line(second)}); "
                               f"first {why}") from first
        _record_path(out / FILE, why)


def _export_dynamo(spec: ModelSpec, out: Path) -> None:
    # torch.onnx captures under the recurrent decomposition but decomposes without it: wrapped whole, an
    # LSTM's output keeps its dynamic sequence dim instead of declaring the example's length.
    import torch
    with recurrent_loops_kept():
        torch.onnx.export(
            spec.module,
            spec.example_args(),
            str(out / FILE),
            dynamo=True,
            input_names=list(spec.inputs),
            output_names=spec.outputs,
            dynamic_shapes=torch_dynamic_shapes(spec),
            verbose=False,
        )


def _export_traced(spec: ModelSpec, out: Path) -> None:
    """The TorchScript-based exporter, dims named as the manifest names them (inputs' and the data's)."""
    import torch
    axes = {name: {axis: dim.name for axis, dim in dims.items()} for name, dims in {**spec.dynamic, **spec.data_dims}.items()}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))  # the exporter is deprecated in 2.13
        torch.onnx.export(spec.module, spec.example_args(), str(out / FILE), dynamo=False, input_names=list(spec.inputs),
                          output_names=spec.outputs, dynamic_axes=axes)


def _record_path(file: Path, why: str) -> None:
    """Writes into the file which exporter made it and why the first failed, so the file says it wherever it goes."""
    import onnx

    model = onnx.load(str(file))
    for key, value in ((PATH_KEY, FALLBACK_PATH), (WHY_KEY, why)):
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(file))


def path(folder: Path) -> dict[str, str]:
    """Which export path made the file (the manifest's formats.onnx.path), and why the first one failed."""
    import onnx

    props = {p.key: p.value for p in onnx.load(str(folder / FILE), load_external_data=False).metadata_props}
    if PATH_KEY not in props:
        return {"path": "dynamo"}
    return {"path": props[PATH_KEY], "path_why": props.get(WHY_KEY, "")}


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
    threads="SessionOptions.intra_op_num_threads",
    signature=signature,
    needs=needs,
    path=path,
    packages=("torch", "onnx", "onnxscript"),
)
