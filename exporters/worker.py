"""One format's export in a child process: `python -m exporters.worker REQUEST_JSON`.

A crash, abort, sys.exit or hang inside an exporter (native code in AOTI, XNNPACK or OpenVINO) then
costs that format only. The child rebuilds the model from its source (same seed), checks that the
weights are those the parent wrote golden data for, exports into the staging folder and writes a
result file; its output and any traceback go to the format's log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import warnings
from pathlib import Path

from .contract.console import first_line
from .hints import hint_for


def quiet_libraries() -> None:
    """torch and friends warn about their own deprecations on every export; that is not the user's news."""
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(torch|onnxscript|executorch|copyreg)")
    for logger in ("torch.onnx", "torch._export", "torch.export", "torch.utils._pytree"):
        logging.getLogger(logger).setLevel(logging.ERROR)


def main(request: dict) -> None:
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
        result["problems"] = list(problems or [])
        result["warnings"] = _tracer_warnings(caught)
        _check_artifact(fmt, Path(request["staging"]), Path(request["model_dir"]))
        result["ok"] = True
    except Exception as exc:
        traceback.print_exc()
        sys.stderr.flush()
        error = f"{type(exc).__name__}: {first_line(exc)}{_missing_kernel(Path(request['log']))}"
        result.update(error=error, hint=hint_for(f"{type(exc).__name__}: {exc} {error}", fmt.hint))
    Path(request["result"]).write_text(json.dumps(result))


class RefusedCase(RuntimeError):
    """The exported artifact fails to load, or refuses a golden case inside the declared box."""


def _check_artifact(fmt, staging: Path, model_dir: Path) -> None:
    """Read back the artifact's own signature where it keeps one, then load it once and run every golden
    case: a signature that disagrees with the manifest, a program that cannot load, or one that refuses a
    shape of the box it declares is a failed export, named by cause; its answers are verify's job."""
    from .contract.manifest import load_golden, read_manifest
    from .formats.base import signature_mismatches

    manifest = read_manifest(model_dir)
    if fmt.signature is not None:
        mismatches = signature_mismatches(fmt.signature(staging), manifest)
        if mismatches:
            raise RefusedCase(f"the artifact's declared signature disagrees with the manifest: {'; '.join(mismatches)}")
    cases = {case["name"]: case for case in manifest["golden"]["cases"]}
    try:
        predict = fmt.load(staging, manifest)
    except Exception as exc:
        raise RefusedCase(f"the exported artifact does not load in {fmt.runtime}: {first_line(exc)}") from exc
    for case in load_golden(model_dir, manifest):
        try:
            predict(case.inputs)
        except Exception as exc:
            at = cases[case.name]
            sizes = ", ".join(f"{name}={size}" for name, size in at.get("dims", {}).items())
            raise RefusedCase(f"the exported artifact refuses golden {case.name} ({at.get('at')}: {sizes}) inside the "
                              f"declared box {manifest['dims']}: {first_line(exc)}") from exc


def _missing_kernel(log: Path) -> str:
    """ExecuTorch names a missing operator only in its log, not in the error it raises."""
    missing = sorted(set(re.findall(r"Missing operator: \[?\d*\]? ?([\w:.]+)", log.read_text(errors="replace"))))
    return f" (missing operator {', '.join(missing)})" if missing else ""


def _tracer_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """TorchScript tracing records one branch of a data-dependent `if` and says so only as a warning.

    A suspicion, not a verdict: torch's own modules (nn.LSTM's size checks) and libraries such as
    Hugging Face transformers warn for branches that hold at every shape; the golden cases decide."""
    import torch

    found = []
    for warning in caught:
        if issubclass(warning.category, torch.jit.TracerWarning) and "Python boolean" in str(warning.message):
            where = f"{Path(warning.filename).name}:{warning.lineno}"
            found.append(f"tracing recorded one branch of data-dependent control flow at {where} (a tensor read as "
                            "a Python bool); the golden cases decide whether it holds at other shapes and values")
    return sorted(set(found))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
