"""The format registry: adding a format is one module of this package (defining FORMAT) and one line in MODULES."""

from importlib import import_module

from .base import ExportOptions, Format

# In the order exports start, reports list them and the Dockerfile stages them.
MODULES = (
    "torchscript",
    "exported_program",
    "onnx",
    "aoti",
    "executorch",
    "openvino",
)

FORMATS: dict[str, Format] = {
    fmt.name: fmt for fmt in (import_module(f"{__name__}.{module}").FORMAT for module in MODULES)
}

__all__ = ["FORMATS", "ExportOptions", "Format"]
