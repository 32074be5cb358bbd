"""OpenVINO IR (.xml + .bin) with fp32 weights, converted from the ExportedProgram (else from the ONNX exporter's
graph, else from the traced module)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..contract.causes import Cause
from ..spec import ModelSpec
from . import onnx
from .base import ExportOptions, Format, Predict, Signature, export_program

FILE = "model.xml"  # weights in model.bin beside it
# CPU compile properties. Parity needs f32 arithmetic: CPUs with bf16 support would otherwise lower precision.
SETTINGS = {"INFERENCE_PRECISION_HINT": "f32"}


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    import openvino as ov

    _save(ov.convert_model(export_program(spec)), spec, out)


def export_from_onnx(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    """The fallback path: OpenVINO's ONNX frontend over the ONNX exporter's graph, where the PyTorch frontend
    lacks an operator or fixes a dim (an nn.LSTM's sequence in its outputs)."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix=".openvino-onnx.", dir=out.parent) as scratch:
        onnx.export(spec, Path(scratch), options)
        _save(ov.convert_model(str(Path(scratch) / onnx.FILE)), spec, out)


def export_traced(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    """The last path, where neither torch.export nor the ONNX exporter takes the model (outputs whose count the data
    decides): the PyTorch frontend over the module traced (it translates torchvision::nms and roi_align)."""
    import openvino as ov
    import torch

    with torch.no_grad():  # as torchscript.py traces: fused fast paths differ between traces otherwise
        _save(ov.convert_model(spec.module, example_input=spec.example_args()), spec, out)


def _save(model: Any, spec: ModelSpec, out: Path) -> None:
    import openvino as ov

    # Conversion makes every dim dynamic: put back static dims and the bounds of dynamic ones.
    shapes = {}
    for port, (name, example) in zip(model.inputs, spec.inputs.items(), strict=True):
        dims = spec.dynamic.get(name, {})
        shapes[port] = ov.PartialShape(
            [ov.Dimension(dims[i].min, dims[i].max) if i in dims else size for i, size in enumerate(example.shape)]
        )
        port.get_tensor().set_names({name})
    model.reshape(shapes)
    for port, name in zip(model.outputs, spec.outputs, strict=True):
        port.get_tensor().set_names({name})
    # save_model compresses weights to fp16 by default, which alone costs up to 5e-4 of parity.
    ov.save_model(model, str(out / FILE), compress_to_fp16=False)


def signature(folder: Path) -> Signature:
    """The IR's declared ports: static dims, and dynamic ones with their bounds (-1: unbounded)."""
    import openvino as ov

    model = ov.Core().read_model(str(folder / FILE))

    def dims(shape: Any) -> list[Any]:
        return [d.get_length() if d.is_static else
                (d.get_min_length() if d.get_min_length() > 0 else None, d.get_max_length() if d.get_max_length() >= 0 else None)
                for d in shape]

    return {section: [(port.get_any_name(), str(np.dtype(port.get_element_type().to_dtype())), dims(port.get_partial_shape()))
                      for port in ports]
            for section, ports in (("inputs", model.inputs), ("outputs", model.outputs))}


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    import openvino as ov

    config = {**SETTINGS, "INFERENCE_NUM_THREADS": threads} if threads else SETTINGS
    compiled = ov.Core().compile_model(str(folder / FILE), "CPU", config)
    input_names = [io["name"] for io in manifest["inputs"]]
    output_names = [io["name"] for io in manifest["outputs"]]

    def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        result = compiled([inputs[name] for name in input_names])
        return {name: np.asarray(result[port]) for name, port in zip(output_names, compiled.outputs, strict=True)}

    return predict


def needs(folder: Path) -> dict[str, Any]:
    """The IR version (the xml root's `version`), which an OpenVINO runtime must read."""
    import xml.etree.ElementTree as ElementTree

    return {"openvino_ir_version": int(ElementTree.parse(folder / FILE).getroot().get("version", "0"))}


FORMAT = Format(
    name="openvino",
    description="OpenVINO IR converted from torch.export, saved with fp32 weights (.xml + .bin)",
    main=FILE,
    path="the PyTorch frontend over the ExportedProgram",
    fallbacks=(("the ONNX frontend over the ONNX exporter's graph", export_from_onnx),
               ("the PyTorch frontend over the traced module", export_traced)),
    settings=SETTINGS,
    export=export,
    load=load,
    runtime="openvino",
    runtime_package="openvino",
    hint="an operator may be unsupported by OpenVINO's frontends (each path tried is in the entry's export_path)",
    causes=(Cause(re.compile(r"No conversion rule|OpConversionFailure|FrontEnd.*(not supported|failed)", re.I),
                  "OpenVINO's PyTorch frontend lacks an operator of this model; try converting from the ONNX artifact"),),
    caveat="OpenVINO's CPU plugin targets x86 CPUs",
    threads="CPU property INFERENCE_NUM_THREADS",
    signature=signature,
    # CompiledModel.__call__ reuses one infer request: concurrent calls race on it
    shared_calls=False,
    needs=needs,
    need_keys=("openvino_ir_version",),
    packages=("torch", "openvino", "onnx", "onnxscript"),  # onnx: its fallback path
)
