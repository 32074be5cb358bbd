"""The parity rule: an artifact passes when it is not meaningfully worse than eager fp32 itself.

Eager fp32 is not the truth: a deep model's fp32 run drifts from exact arithmetic by itself, and an
artifact with other kernels drifts differently, often less. So the truth is the same model run in
float64 (the *reference*), and each output of each golden case records eager fp32's own error
against it. An artifact passes a case when its error against the reference is within FACTOR times
eager's error, or within a floor of FLOOR_ULPS units in the last place at the output's scale (so a
tiny model whose eager run is exact is not held to zero). The numbers live in the manifest's
`parity` section and the Java side applies the same rule from there (Parity.java). No torch here: the JPype driver reads it.

Other rules, per output: `fixed` (|a - ref| <= atol + rtol*|ref| elementwise) when the user sets a
tolerance or the model cannot run in float64, and `exact` for integer and bool outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class ToleranceError(ValueError):
    """A tolerance that cannot bound anything."""


@dataclass(frozen=True)
class Tolerance:
    """A fixed elementwise bound, |a - ref| <= atol + rtol*|ref|, in place of the default rule."""

    atol: float
    rtol: float = 0.0

    def __post_init__(self) -> None:
        if self.atol < 0 or self.rtol < 0 or self.atol + self.rtol == 0:
            raise ToleranceError(f"tolerance atol={self.atol} rtol={self.rtol}: both must be >= 0 and not both 0")


FACTOR = 4.0
FLOOR_ULPS = 16
# Where no float64 reference exists the reference is eager fp32 itself: the fixed bound Polygraphy
# and Optimum use.
FALLBACK = Tolerance(atol=1e-5, rtol=1e-5)


def build_rules(
    output_names: list[str],
    tolerance_for: Callable[[str], Tolerance | None],
    case_names: list[str],
    eager: list[dict[str, np.ndarray]],
    reference: list[dict[str, np.ndarray]] | None,
    reason: str,
    override: Tolerance | None = None,
) -> dict[str, Any]:
    """The manifest's `parity` section: the reference used and each output's rule with its inputs."""
    section: dict[str, Any] = {"reference": "float64" if reference is not None else "eager"}
    if reference is None:
        section["reason"] = reason
    outputs = {}
    for name in output_names:
        dtype = eager[0][name].dtype
        set_by, tolerance = ("cli", override) if override else ("spec", tolerance_for(name))
        if dtype.kind not in "fc":
            outputs[name] = {"rule": "exact"}
        elif tolerance is not None or reference is None:
            tolerance = tolerance or FALLBACK
            outputs[name] = {"rule": "fixed", "atol": tolerance.atol, "rtol": tolerance.rtol,
                             "set_by": set_by if tolerance is not FALLBACK else "default"}
        else:
            outputs[name] = {
                "rule": "eager_bound", "factor": FACTOR, "floor_ulps": FLOOR_ULPS, "eps": float(np.finfo(dtype).eps),
                "cases": {
                    case: {"eager_err": _max_abs(got[name], want[name]), "scale": _max_abs(want[name], 0.0)}
                    for case, got, want in zip(case_names, eager, reference, strict=True)
                },
            }
    section["outputs"] = outputs
    return section


def _max_abs(a: np.ndarray, b: np.ndarray | float) -> float:
    diff = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    return float(diff.max()) if diff.size else 0.0


@dataclass
class OutputParity:
    max_abs_err: float = 0.0
    eager_abs_err: float = 0.0
    worst_ratio: float = 0.0


@dataclass
class Parity:
    """An artifact's answers on every golden case judged by the manifest's rules (see the module doc).

    Besides the worst figures per output it keeps where the answers part most: the case (its box point and
    dims), the output and the element index of the worst error/allowed ratio, and every case that failed."""

    rules: dict[str, Any]
    data_axes: dict[str, dict[int, str]] = field(default_factory=dict)  # data_axes(manifest): counts named as such
    passed: bool = True
    cases: int = 0
    error: str | None = None
    outputs: dict[str, OutputParity] = field(default_factory=dict)
    worst: dict[str, Any] | None = None
    failed_cases: list[str] = field(default_factory=list)

    def add(self, case: str, actual: dict[str, np.ndarray], reference: dict[str, np.ndarray], where: str = "") -> None:
        self.cases += 1
        for name, want in reference.items():
            if name not in actual:
                self.fail(f"output {name} is missing")
                continue
            got = np.asarray(actual[name])
            if got.shape != want.shape:
                self.fail(shape_difference(name, got.shape, want.shape, self.data_axes.get(name, {})))
                continue
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            if not np.all(np.isfinite(diff)):
                self.fail(f"output {name}: NaN or inf in the difference to the reference")
                continue
            rule = self.rules["outputs"][name]
            err, eager_err, ratio = self._judge(rule, case, diff, np.abs(want.astype(np.float64)))
            seen = self.outputs.setdefault(name, OutputParity())
            seen.max_abs_err = max(seen.max_abs_err, err)
            seen.eager_abs_err = max(seen.eager_abs_err, eager_err)
            seen.worst_ratio = max(seen.worst_ratio, ratio)
            if ratio > 0 and (self.worst is None or ratio > self.worst["ratio"]):
                self.worst = {"case": case, "at": where, "output": name, "index": _worst_index(rule, diff, want),
                              "ratio": ratio, "err": err}
            if ratio > 1.0:
                self.passed = False
                if case not in self.failed_cases:
                    self.failed_cases.append(case)

    @staticmethod
    def _judge(rule: dict[str, Any], case: str, diff: np.ndarray, magnitude: np.ndarray) -> tuple[float, float, float]:
        """(artifact error, eager's own error, error / allowed) for one output of one case."""
        err = float(diff.max()) if diff.size else 0.0
        if rule["rule"] == "eager_bound":
            inputs = rule["cases"][case]
            allowed = max(rule["factor"] * inputs["eager_err"], rule["floor_ulps"] * rule["eps"] * inputs["scale"])
            return err, inputs["eager_err"], _ratio(err, allowed)
        if rule["rule"] == "fixed":
            bound = rule["atol"] + rule["rtol"] * magnitude
            ratios = np.where(diff == 0, 0.0, diff / np.where(bound > 0, bound, np.inf))
            ratios[(diff > 0) & (bound == 0)] = np.inf
            return err, 0.0, float(ratios.max()) if ratios.size else 0.0
        if rule["rule"] == "exact":
            return err, 0.0, 0.0 if err == 0 else float("inf")
        raise ValueError(f"unknown parity rule {rule['rule']!r}")

    def fail(self, error: str) -> None:
        self.passed = False
        self.error = self.error or error

    def as_dict(self) -> dict[str, Any]:
        outputs = {name: vars(seen) for name, seen in self.outputs.items()}
        result: dict[str, Any] = {
            "passed": self.passed,
            "cases": self.cases,
            "max_abs_err": max((o.max_abs_err for o in self.outputs.values()), default=0.0),
            "eager_abs_err": max((o.eager_abs_err for o in self.outputs.values()), default=0.0),
            "worst_ratio": max((o.worst_ratio for o in self.outputs.values()), default=0.0),
            "outputs": outputs,
        }
        if self.worst is not None:
            result["worst"] = self.worst
        if self.failed_cases:
            result["failed_cases"] = self.failed_cases
        if self.error:
            result["error"] = self.error
        return result


def data_axes(manifest: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Per output, the axes whose size the data decides (a dim `dims` marks "decided_by": "data") and their names."""
    decided = {name for name, dim in manifest.get("dims", {}).items() if dim.get("decided_by") == "data"}
    return {io["name"]: {axis: dim for axis, dim in enumerate(io["shape"]) if dim in decided}
            for io in manifest["outputs"] if decided.intersection(d for d in io["shape"] if isinstance(d, str))}


def shape_difference(name: str, got: tuple[int, ...], want: tuple[int, ...], axes: dict[int, str]) -> str:
    """One line for an answer of another shape: where only a count the data decides differs, the artifact kept other
    detections than the reference did, and the line says so (Parity.java words it alike)."""
    for axis, dim in axes.items():
        others = [a for a in range(len(want)) if a != axis]
        if len(got) == len(want) > axis and all(got[a] == want[a] for a in others):
            unit = "rows" if axis == 0 else f"entries along dim {axis}"
            return f"output {name}: the artifact returned {got[axis]} {unit} ({dim}), the reference {want[axis]}"
    return f"output {name}: shape {list(got)} != golden {list(want)}"


def _worst_index(rule: dict[str, Any], diff: np.ndarray, want: np.ndarray) -> list[int]:
    """The element with the worst error (the worst error/bound under a fixed rule), as an index per dim."""
    if not diff.size:
        return []
    if rule["rule"] == "fixed":
        bound = rule["atol"] + rule["rtol"] * np.abs(want.astype(np.float64))
        flat = int(np.argmax(np.where(bound > 0, diff / np.where(bound > 0, bound, 1.0), np.where(diff > 0, np.inf, 0.0))))
    else:
        flat = int(np.argmax(diff))
    return [int(i) for i in np.unravel_index(flat, diff.shape)]


def _ratio(err: float, allowed: float) -> float:
    if err == 0:
        return 0.0
    return err / allowed if allowed > 0 else float("inf")
