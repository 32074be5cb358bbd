"""torch.export ExportedProgram (.pt2); `--draft-export` uses torch.export.draft_export and keeps its report."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from ..spec import ModelSpec
from .base import (TORCH_THREADS, ExportOptions, Format, Predict, export_program, recurrent_loops_kept, set_torch_threads,
                   torch_dynamic_shapes, torch_predict)



FILE = "model.pt2"
DRAFT_REPORT = "draft_export_report.txt"
WEIGHTS_ONLY = "TORCH_FORCE_WEIGHTS_ONLY_LOAD"


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> list[str]:
    import torch
    problems = []
    if options.draft_export:
        # draft_export may add shape guards that plain export would not; verify checks every golden case.
        with recurrent_loops_kept():
            program = torch.export.draft_export(spec.module, spec.example_args(), dynamic_shapes=torch_dynamic_shapes(spec))
        report = program._report
        (out / DRAFT_REPORT).write_text(str(report) + "\n")
        if not report.successful():
            problems.append(f"draft_export reported {len(report.failures)} problem(s) (see {DRAFT_REPORT}); "
                            "the program may hold only on shapes and values like the example's")
    else:
        program = export_program(spec)
    torch.export.save(program, out / FILE)
    return problems


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    """torch.export.load without running pickled code: weights load weights-only, pickled objects are refused.

    torch.export.load unpickles custom and opaque constants and loads weights with weights_only=False,
    so a crafted .pt2 could run code; the programs this pipeline writes hold neither kind of object.
    """
    import torch
    from torch.export.pt2_archive import constants as pt2

    # Names of pickled members torch.export.load would unpickle; torch before 2.13 has no opaque objects (its
    # constants lack the name), yet a .pt2 it reads could still carry them, so their prefix is refused by value.
    prefixes = (pt2.CUSTOM_OBJ_FILENAME_PREFIX, getattr(pt2, "OPAQUE_OBJ_FILENAME_PREFIX", "opaque_obj_"))
    path = folder / FILE
    with zipfile.ZipFile(path) as archive:
        pickled = [name for name in archive.namelist() if Path(name).name.startswith(prefixes)]
    if pickled:
        raise UnsafeArtifactError(f"{path} holds pickled objects ({pickled[0]}) that would run code on load; "
                                  "this pipeline never writes them: re-export the model")
    previous = os.environ.get(WEIGHTS_ONLY)
    os.environ[WEIGHTS_ONLY] = "1"  # every torch.load inside torch.export.load becomes weights_only
    try:
        program = torch.export.load(path)
    finally:
        os.environ.pop(WEIGHTS_ONLY) if previous is None else os.environ.__setitem__(WEIGHTS_ONLY, previous)
    set_torch_threads(threads)
    return torch_predict(program.module(), manifest)


class UnsafeArtifactError(RuntimeError):
    """An artifact that would execute code when loaded."""


FORMAT = Format(
    name="exported_program",
    description="torch.export ExportedProgram (.pt2), optionally via draft_export",
    main=FILE,
    export=export,
    load=load,
    runtime="torch.export",
    runtime_package="torch",
    hint="a dim declared dynamic may be specialized by the model; retry with --draft-export to see why",
    options=("draft_export",),
    caveat="no JVM runtime loads an ExportedProgram; it is the input AOTI, ExecuTorch and OpenVINO start from",
    threads=TORCH_THREADS,
)
