"""The format registry: adding a format is one module and one line here."""

from . import aoti, executorch, exported_program, onnx, openvino, torchscript
from .base import ExportOptions, Format

FORMATS: dict[str, Format] = {
    module.FORMAT.name: module.FORMAT
    for module in (torchscript, exported_program, onnx, aoti, executorch, openvino)
}

__all__ = ["FORMATS", "ExportOptions", "Format"]
