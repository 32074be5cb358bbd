"""Where an artifact's answers part from the reference: the first module whose output leaves the parity rule.

The model is wrapped so that every submodule's tensor output is also a model output (a *tap*), exported again
through the same format, and run by the same runtime (Python, or a JVM engine through `python -m jvm_harness
verify`). The ordinary golden machinery then judges every tap as it judges an output: against the float64
reference, within 4x eager fp32's own error at that tap. Taps are listed in the order eager runs the modules,
so the first one over its rule is where the answers start to part; those before it were still within it.

Tapping adds outputs, which can change what an exporter fuses: where the tapped artifact's own outputs no
longer fail, the report says so (the divergence lives in a fusion the taps prevent).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn

from .contract.manifest import VERIFIABLE, load_golden, read_manifest
from .export import export_model
from .formats import FORMATS, ExportOptions
from .golden import named_outputs
from .spec import ModelSpec, SpecError
from .verify import SIDE, verify_model
from .zoo import load_source, load_spec

MOST_TAPS = 256
SKIPPED = (nn.Dropout, nn.Identity)  # outputs equal to their inputs: nothing to learn


class DiagnoseError(SpecError):
    """diagnose cannot run as asked (no failed verdict, no such runtime, a source that builds another model)."""


class Tapped(nn.Module):
    """The model with each chosen submodule call's first tensor output appended to its outputs, in call order."""

    def __init__(self, model: nn.Module, taps: list[str]) -> None:
        super().__init__()
        self.model = model
        self.taps = taps

    def tapped_forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # Hooks live for one call, on this instance's modules: a deep copy (the float64 reference's) taps itself.
        chosen = {tap.rsplit("#", 1)[0] for tap in self.taps}
        result, seen = run_watched(self.model, inputs, lambda path, module: path in chosen, _first_tensor)
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        by_tap = dict(zip(numbered([path for path, _ in seen]), (tensor for _, tensor in seen)))
        return (*outputs, *(by_tap[tap] for tap in self.taps))


def tapped_module(model: nn.Module, taps: list[str], inputs: list[str]) -> Tapped:
    """A Tapped whose forward names the model's inputs: torch.export binds dynamic shapes by the forward's
    parameters, so a *args forward would not do."""
    bad = [name for name in inputs if not name.isidentifier()]
    if bad:
        raise DiagnoseError(f"diagnose needs inputs named like Python identifiers; {bad} are not")
    params = ", ".join(inputs)
    namespace: dict[str, Any] = {}
    exec(f"def forward(self, {params}):\n    return self.tapped_forward({params})", namespace)  # names checked above
    return type("Tapped", (Tapped,), {"forward": namespace["forward"]})(model, taps)


def _first_tensor(output: Any) -> torch.Tensor | None:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (list, tuple)):
        return next((t for t in output if isinstance(t, torch.Tensor)), None)
    return None


def run_watched(model: nn.Module, inputs: Any, watched: Callable[[str, nn.Module], bool],
                of_output: Callable[[Any], Any]) -> tuple[Any, list[tuple[str, Any]]]:
    """model(*inputs) and, per call of each watched submodule in the order it ran, (its path, of_output(its output))."""
    seen: list[tuple[str, Any]] = []
    handles = [module.register_forward_hook(lambda m, a, out, path=path: seen.append((path, of_output(out))))
               for path, module in model.named_modules() if watched(path, module)]
    try:
        return model(*inputs), seen
    finally:
        for handle in handles:
            handle.remove()


def numbered(paths: list[str]) -> Iterator[str]:
    """Module calls in order, each named 'path#N' for the Nth call of that module: a tap's name."""
    calls: dict[str, int] = {}
    for path in paths:
        calls[path] = calls.get(path, 0) + 1
        yield f"{path}#{calls[path]}"


def _floating(output: Any) -> bool:
    tensor = _first_tensor(output)
    return tensor is not None and tensor.is_floating_point()


def choose_taps(model: nn.Module, inputs: list[torch.Tensor]) -> list[str]:
    """Every submodule call with a floating tensor output, in the order eager runs them ('path#call')."""
    with torch.no_grad():
        _, seen = run_watched(model, inputs, lambda path, module: bool(path) and not isinstance(module, SKIPPED), _floating)
    return [tap for tap, (_, floating) in zip(numbered([path for path, _ in seen]), seen) if floating][:MOST_TAPS]


def tap_name(index: int) -> str:
    return f"tap{index:03d}"


def diagnose(model_dir: Path, fmt: str, runtime: str | None, out_root: Path) -> dict[str, Any]:
    """Re-export the failing model with taps, run it where it failed, and judge every tap; returns the report."""
    manifest = read_manifest(model_dir)
    entry = manifest["formats"].get(fmt)
    if entry is None or entry.get("status") not in VERIFIABLE:
        raise DiagnoseError(f"{model_dir}: {fmt} was not exported (or its export failed): diagnose needs an artifact")
    key, result = _failed_result(entry, runtime, model_dir, fmt)
    spec = load_source(manifest["source"])
    case = _case(model_dir, manifest, result)
    args = [torch.from_numpy(case.inputs[io["name"]]) for io in manifest["inputs"]]
    _same_model(spec, case, args)
    taps = choose_taps(spec.module, args)
    # Each format exports in a child process that rebuilds the spec from its source: the tapped spec's source is
    # this module's `tapped`, told what to build through the environment the child inherits.
    os.environ[REQUEST] = json.dumps({"source": manifest["source"], "model_dir": str(model_dir), "case": case.name,
                                      "taps": taps, "format": fmt, "name": manifest["model"]})
    export_model(load_spec(TAPPED_SOURCE), [FORMATS[fmt]], out_root, ExportOptions(force=True))
    tapped_dir = out_root / manifest["model"]
    tapped_entry = read_manifest(tapped_dir)["formats"][fmt]
    if tapped_entry["status"] not in VERIFIABLE:
        raise DiagnoseError(f"the tapped model did not export to {fmt}: {tapped_entry.get('error')}")
    _run(tapped_dir, fmt, key)
    verdict = read_manifest(tapped_dir)["formats"][fmt]["verification"].get(key)
    if verdict is None:
        raise DiagnoseError(f"{key} recorded no verdict for the tapped model in {tapped_dir}/manifest.json")
    kinds = {path: type(module).__name__ for path, module in spec.module.named_modules()}
    return _report(model_dir, fmt, key, result, case.name, spec.outputs, taps, kinds, verdict, tapped_dir)


REQUEST = "EXPORTERS_DIAGNOSE"
TAPPED_SOURCE = "exporters.diagnose:tapped"


def tapped() -> ModelSpec:
    """The spec of a diagnose run (REQUEST): the model with its taps, its golden case that failed as its own case."""
    request = json.loads(os.environ[REQUEST])
    spec = load_source(request["source"])
    model_dir = Path(request["model_dir"])
    manifest = read_manifest(model_dir)
    case = next(case for case in load_golden(model_dir, manifest) if case.name == request["case"])
    taps = request["taps"]
    return dataclasses.replace(
        spec, module=tapped_module(spec.module, taps, list(spec.inputs)).eval(), outputs=[*spec.outputs, *(tap_name(i) for i in range(len(taps)))],
        golden=[{name: torch.from_numpy(case.inputs[name]) for name in spec.inputs}], tolerance=None, text=None,
        formats=[request["format"]], required=[request["format"]], name=request["name"])


def _failed_result(entry: dict[str, Any], runtime: str | None, model_dir: Path, fmt: str) -> tuple[str, dict[str, Any]]:
    results = entry.get("verification", {})
    if runtime:
        matches = [key for key in results if key == runtime or key.split("/", 1)[-1] == runtime]
        if not matches:
            raise DiagnoseError(f"{model_dir}: {fmt} has no verdict from runtime {runtime!r}; it has {', '.join(results) or 'none'}")
        return matches[0], results[matches[0]]
    failed = [key for key, result in results.items() if not result.get("passed") and "@" not in key]
    if not failed:
        raise DiagnoseError(f"{model_dir}: no runtime failed {fmt} ({', '.join(results) or 'no verdict yet'}): name one "
                            "with --runtime to diagnose a pass")
    return failed[0], results[failed[0]]


def _case(model_dir: Path, manifest: dict[str, Any], result: dict[str, Any]):
    cases = load_golden(model_dir, manifest)
    wanted = (result.get("worst") or {}).get("case") or (result.get("failed_cases") or [None])[0]
    return next((case for case in cases if case.name == wanted), cases[0])


def _same_model(spec: ModelSpec, case, args: list[torch.Tensor]) -> None:
    """The source must still build the model that was exported: eager on the case gives the recorded answers."""
    got = named_outputs(spec.module, spec.outputs, args)
    for name, array in got.items():
        if not (array.shape == case.outputs[name].shape and (array == case.outputs[name]).all()):
            raise DiagnoseError(f"{spec.source} no longer builds the exported model (eager output {name} on "
                                f"{case.name} differs from the recorded one): export it again first")


def _run(tapped_dir: Path, fmt: str, key: str) -> None:
    if key.startswith(f"{SIDE}/"):
        verify_model(tapped_dir, [fmt], force=True)
        return
    # The JVM engines run through their own CLI: the exporters never import the harness.
    done = subprocess.run([sys.executable, "-m", "jvm_harness", "verify", str(tapped_dir), "--require", fmt],
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise DiagnoseError(f"the JVM check of the tapped model ended {done.returncode}: "
                            f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")


def _report(model_dir: Path, fmt: str, key: str, result: dict[str, Any], case: str, outputs: list[str], taps: list[str],
            kinds: dict[str, str], verdict: dict[str, Any], tapped_dir: Path) -> dict[str, Any]:
    judged = verdict.get("outputs", {})
    rows = [{"tap": tap.removesuffix("#1"), "module": kinds[tap.rsplit("#", 1)[0]], "ratio": judged[tap_name(i)]["worst_ratio"],
             "err": judged[tap_name(i)]["max_abs_err"], "eager_err": judged[tap_name(i)]["eager_abs_err"]}
            for i, tap in enumerate(taps) if tap_name(i) in judged]
    first = next((row for row in rows if row["ratio"] > 1.0), None)
    finals = {name: judged[name]["worst_ratio"] for name in outputs if name in judged}
    report = {"model_dir": str(model_dir), "format": fmt, "runtime": key, "case": case,
              "verdict": {"worst_ratio": result.get("worst_ratio"), "worst": result.get("worst"), "error": result.get("error")},
              "tapped_dir": str(tapped_dir), "taps": rows, "first_diverging": first,
              "tapped_outputs_ratio": finals, "tapped_error": verdict.get("error")}
    if first is None:
        worst = max(rows, key=lambda row: row["ratio"], default=None)
        within = f"the worst tap is {worst['tap']} at ratio {worst['ratio']:.3g}" if worst else "no tap"
        if result.get("passed"):
            report["note"] = f"the verdict diagnosed passed, and every tap is within its rule ({within})"
        elif all(ratio <= 1 for ratio in finals.values()):
            report["note"] = (f"the tapped artifact's own outputs pass ({within}): the divergence lives in a fusion or "
                              "kernel choice the taps prevent")
        else:
            report["note"] = (f"the outputs part after the last tapped module, in the model's own forward code ({within})")
    (tapped_dir / "diagnose.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
