"""AOTInductor package (.pt2): a CPU shared library compiled ahead of time, frozen weights."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..contract.causes import Cause
from ..spec import ModelSpec
from .base import TORCH_THREADS, zip_names, zip_record, ExportOptions, Format, Predict, export_program, set_torch_threads, torch_predict



FILE = "model.pt2"
INDUCTOR_CONFIGS = {
    "freezing": True,
    # Dims are exported with min=1 but traced at >=2; without this, checked packages reject batch 1.
    "aot_inductor.check_lowerbound": False,
}
# Environment its runtime reads: without input checks a package runs any shape and silently returns a
# wrongly shaped output.
SETTINGS = {"AOTI_RUNTIME_CHECK_INPUTS": "1"}


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    import torch
    torch._inductor.aoti_compile_and_package(
        export_program(spec), package_path=str(out / FILE), inductor_configs=INDUCTOR_CONFIGS
    )


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    import torch
    set_torch_threads(threads)
    os.environ.update(SETTINGS)
    return torch_predict(torch._inductor.aoti_load_package(str(folder / FILE)), manifest)


def needs(folder: Path) -> dict[str, Any]:
    """The torch that compiled the package (its C shim is what a libtorch must provide) and the CPU ISA the
    compiled kernels assume, as the package's metadata records it."""
    from importlib import metadata

    isa = sorted({json.loads(zip_record(folder / FILE, name, suffix=True))["AOTI_CPU_ISA"]
                  for name in zip_names(folder / FILE) if name.endswith("_metadata.json")})
    return {"compiled_by_torch": metadata.version("torch"), "cpu_isa": isa,
            "pt2_archive_version": zip_record(folder / FILE, "archive_version").strip()}


FORMAT = Format(
    name="aoti",
    description="AOTInductor package for CPU, freezing on, input checks on at load (.pt2)",
    main=FILE,
    settings=SETTINGS,
    export=export,
    load=load,
    runtime="torch._inductor.aoti_load_package",
    runtime_package="torch",
    hint="AOTI needs a working C++ compiler (g++) and the same torch at load time; see the log for the failing step",
    causes=(Cause(re.compile(r"CppCompileError|InvalidCxxCompiler|No working C compiler|command .*g\+\+.* failed", re.I),
                  "a C++ compile failed: AOTI needs g++ and the Python headers at export time; see the log"),),
    long_export=True,
    caveat=("an AOTI package is a shared library compiled for the export host's instruction set and needs the same "
             "libtorch at load; loading it runs its code"),
    threads=TORCH_THREADS,
    needs=needs,
    need_keys=("compiled_by_torch", "cpu_isa", "pt2_archive_version"),
    host_bound=True,
)
