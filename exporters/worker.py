"""One format's export in a child process: `python -m exporters.worker REQUEST_JSON`.

A crash, abort, sys.exit or hang inside an exporter (native code in AOTI, XNNPACK or OpenVINO) then
costs that format only. The child rebuilds the model from its source (same seed), checks that the
weights are those the parent wrote golden data for, exports into the staging folder and writes a
result file; its output and any traceback go to the format's log.
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from pathlib import Path

from .console import first_line
from .hints import DATA_DEPENDENT, hint_for


def main(request: dict) -> None:
    from .cli import quiet_libraries
    from .formats import FORMATS, ExportOptions
    from .spec import weights_digest
    from .zoo import load_source

    quiet_libraries()
    fmt = FORMATS[request["format"]]
    result: dict = {"ok": False, "problems": []}
    try:
        spec = load_source(request["source"])
        if weights_digest(spec.module) != request["weights"]:
            raise RuntimeError("the model's weights differ between two calls of its build(): seed its random "
                               "initialisation or load the weights from a file")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            problems = fmt.export(spec, Path(request["staging"]), ExportOptions(draft_export=request["draft_export"]))
        result["problems"] = list(problems or []) + _tracer_problems(caught)
        result["ok"] = True
    except Exception as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {first_line(exc)}"
        result.update(error=error, hint=hint_for(f"{type(exc).__name__}: {exc}", fmt.hint))
    Path(request["result"]).write_text(json.dumps(result))


def _tracer_problems(caught: list[warnings.WarningMessage]) -> list[str]:
    """TorchScript tracing records one branch of a data-dependent `if` and says so only as a warning."""
    import torch

    problems = []
    for warning in caught:
        if issubclass(warning.category, torch.jit.TracerWarning) and "Python boolean" in str(warning.message):
            where = f"{Path(warning.filename).name}:{warning.lineno}"
            problems.append(f"tracing recorded one branch of data-dependent control flow at {where}; {DATA_DEPENDENT}")
    return sorted(set(problems))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
