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
import shutil
import sys
import traceback
import warnings
from pathlib import Path

from .contract.causes import decisive_line, hint_for


def quiet_libraries() -> None:
    """torch and friends warn about their own deprecations on every export; that is not the user's news."""
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(torch|onnxscript|executorch|copyreg)")
    for logger in ("torch.onnx", "torch._export", "torch.export", "torch.utils._pytree"):
        logging.getLogger(logger).setLevel(logging.ERROR)


def main(request: dict) -> None:
    from .formats import FORMATS
    from .spec import weights_digest
    from .zoo import load_source

    quiet_libraries()
    fmt = FORMATS[request["format"]]
    result: dict = {"ok": False, "problems": []}
    kinds: frozenset[str] = frozenset()
    try:
        spec = load_source(request["source"])
        kinds = frozenset(type(module).__name__ for module in spec.module.modules())
        if weights_digest(spec.module) != request["weights"]:
            raise RuntimeError("the model's weights differ between two calls of its build(): seed its random "
                               "initialisation or load the weights from a file")
        result.update(_export_by_first_path(fmt, spec, request))
        result["ok"] = True
    except Exception as exc:
        result.update(_failure(exc, fmt, kinds, Path(request["log"])))
    Path(request["result"]).write_text(json.dumps(result))


def _export_by_first_path(fmt, spec, request: dict) -> dict:
    """Export through the format's own path, then its fallbacks in order, until an artifact passes the checks; the
    result names the path taken and why each earlier one failed."""
    from .formats import ExportOptions
    from .formats.base import REMEDIES

    staging, paths, tried = Path(request["staging"]), [(fmt.path, fmt.export), *fmt.fallbacks], []
    for index, (path, export) in enumerate(paths):
        REMEDIES.clear()  # those of the path that made the artifact
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                problems = export(spec, staging, ExportOptions(**request["options"]))
            _check_artifact(fmt, staging, Path(request["model_dir"]))
        except Exception as exc:
            if index == len(paths) - 1:
                raise FailedPaths(tried) from exc
            traceback.print_exc()
            print(f"export path {path!r} failed; trying {paths[index + 1][0]!r}", file=sys.stderr, flush=True)
            tried.append({"path": path, "error": f"{type(exc).__name__}: {decisive_line(exc)}"})
            for leftover in staging.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            continue
        taken = {"export_path": {"taken": path, **({"tried": tried} if tried else {})}} if fmt.fallbacks else {}
        return {"problems": list(problems or []), "warnings": _tracer_warnings(caught), "remedies": list(REMEDIES), **taken}
    raise AssertionError("unreachable: the last path returns or raises")


class FailedPaths(Exception):
    """Every export path of a format failed: the last one's error is the cause; `tried` the earlier ones."""

    def __init__(self, tried: list[dict[str, str]]) -> None:
        super().__init__("every export path failed")
        self.tried = tried


def _failure(exc: BaseException, fmt, kinds: frozenset[str], log: Path) -> dict:
    """The error on one line (the first path's where several failed, the others after it) and the hint its cause picks."""
    traceback.print_exc()
    sys.stderr.flush()
    tried = exc.tried if isinstance(exc, FailedPaths) else []
    cause = exc.__cause__ if isinstance(exc, FailedPaths) else exc
    last = f"{type(cause).__name__}: {decisive_line(cause)}{_runtime_log_reasons(log)}"
    if not tried:
        return {"error": last, "hint": hint_for(f"{type(cause).__name__}: {cause} {last}", fmt.hint, kinds, fmt.causes)}
    first = tried[0]["error"]
    also = "; ".join(f"{entry['path']} also failed: {entry['error']}" for entry in tried[1:])
    error = f"{first}; {also + '; ' if also else ''}{fmt.fallbacks[-1][0]} also failed: {last}"
    return {"error": error, "hint": hint_for(first, fmt.hint, kinds, fmt.causes),
            "export_path": {"taken": None, "tried": [*tried, {"path": fmt.fallbacks[-1][0], "error": last}]}}


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
    try:
        predict = fmt.load(staging, manifest)
    except Exception as exc:
        raise RefusedCase(f"the exported artifact does not load in {fmt.runtime}: {decisive_line(exc)}") from exc
    for case in load_golden(model_dir, manifest):
        try:
            predict(case.inputs)
        except Exception as exc:
            raise RefusedCase(f"the exported artifact refuses golden {case.name} ({case.where}) inside the declared box "
                              f"{manifest['dims']}: {decisive_line(exc)}") from exc


def _runtime_log_reasons(log: Path) -> str:
    """ExecuTorch names a missing operator, and why a kernel failed, only in its log, not in the error it raises
    ("method->execute() failed with error 0x12")."""
    text = log.read_text(errors="replace")
    missing = sorted(set(re.findall(r"Missing operator: \[?\d*\]? ?([\w:.]+)", text)))
    if missing:
        return f" (missing operator {', '.join(missing)})"
    failed = re.search(r"KernelCall failed at instruction \S+ in operator ([\w:.]+)", text)
    resize = re.search(r"\] (Attempted to resize [^\n]*)", text)
    if failed:
        operator = failed.group(1).rstrip(":")
        return f" (ExecuTorch: {operator} failed" + (f": {resize.group(1).strip()})" if resize else ")")
    return ""


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
