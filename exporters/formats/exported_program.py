"""torch.export ExportedProgram (.pt2); `--draft-export` uses torch.export.draft_export and keeps its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..spec import ModelSpec
from .base import ExportOptions, Format, Predict, export_program, torch_dynamic_shapes, torch_predict

FILE = "model.pt2"
DRAFT_REPORT = "draft_export_report.txt"


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    if options.draft_export:
        # draft_export may add shape guards that plain export would not; verify checks every golden case.
        program = torch.export.draft_export(spec.module, spec.example_args(), dynamic_shapes=torch_dynamic_shapes(spec))
        (out / DRAFT_REPORT).write_text(str(program._report) + "\n")
    else:
        program = export_program(spec)
    torch.export.save(program, out / FILE)


def load(folder: Path, manifest: dict[str, Any]) -> Predict:
    return torch_predict(torch.export.load(folder / FILE).module(), manifest)


FORMAT = Format(
    name="exported_program",
    description="torch.export ExportedProgram (.pt2), optionally via draft_export",
    export=export,
    load=load,
    runtime="torch.export",
    runtime_package="torch",
    hint="a dim declared dynamic may be specialized by the model; retry with --draft-export to see why",
)
