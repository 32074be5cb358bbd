"""The CI gate: the formats a team deploys must pass, the others only inform.

Each manifest records per format whether it is required (`formats.<name>.required`), and the verdict
is drawn from the manifests alone, so export, verify, the JVM verify and `gate` judge the same way.
It reads manifests only (the contract layer): the JVM verify imports it and must never import torch.
It returns verdicts and raises GateFailure; the CLIs print them and exit (exporters/console.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .causes import hint_for
from .lines import worst_part
from .manifest import read_manifest, record_results


class GateFailure(Exception):
    """A format that must pass did not: the one line a CLI prints, and the exit code it ends with."""

    code = 1


@dataclass(frozen=True)
class Verdict:
    model: str
    format: str
    required: bool
    failure: str | None  # None: passed
    hint: str = ""


def mark_required(model_dir: Path, names: list[str] | None, required: list[str]) -> None:
    """Record in the manifest whether each of `names` (None: every format in it) is required."""
    recorded = read_manifest(model_dir)["formats"] if names is None else names
    record_results(model_dir, {name: {"required": name in required} for name in recorded})


def is_required(entry: dict[str, Any]) -> bool:
    return entry.get("required", True)  # a manifest from before the gate: every format gated, as it was


def failure(entry: dict[str, Any], chosen: frozenset[str] = frozenset()) -> tuple[str | None, str]:
    """Why a format fails the gate and what to try, or None: exported ok and every recorded verification passed.
    Records on a chosen runtime version (keys with @VERSION, the compatibility sweep's) count only when named in chosen."""
    if entry["status"] != "ok":
        why = entry.get("error") or "; ".join(entry.get("problems", []))
        return f"export {entry['status']}: {why}", entry.get("hint", "see the problems in the manifest")
    failed = {key: result for key, result in entry["verification"].items()
              if not result["passed"] and ("@" not in key or key in chosen)}
    crashed = {key: result for key, result in failed.items() if "crashed" in result}
    if crashed:  # the runtime's process died before it answered: no parity to compare
        result = next(iter(crashed.values()))
        worse = [key for key in failed if key not in crashed]
        return (f"the runtime crashed in {', '.join(crashed)} ({result['error']})"
                + (f"; answers worse than eager PyTorch in {', '.join(worse)}" if worse else ""),
                "run the command in that error alone; the manifest's crashed.last_lines has the runtime's last words")
    raised = {key: result for key, result in failed.items() if result.get("raised")}
    if raised:  # no answers to compare: the runtime refused to load or run the artifact
        result = next(iter(raised.values()))
        worse = [key for key in failed if key not in raised]
        return (f"the artifact does not run in {', '.join(raised)} ({result['error']})"
                + (f"; answers worse than eager PyTorch in {', '.join(worse)}" if worse else ""),
                hint_for(result["error"], "the runtime's own words are in the error; see the verify log"))
    if failed:
        result = next(iter(failed.values()))
        return (f"answers worse than eager PyTorch in {', '.join(failed)}" + (f" ({result['error']})" if result.get("error")
                else f" ({worst_part(result)})"),
                "find where the answers part: python -m exporters diagnose MODEL_DIR FORMAT [--runtime R]; compare its "
                "cells in report.md; set a tolerance in the spec if that error is acceptable")
    return None, ""


def judge(model_dir: Path, scope: list[str] | None = None, require: list[str] | None = None,
          chosen: frozenset[str] = frozenset()) -> list[Verdict]:
    """One verdict per format in scope (default: every format in the manifest). `require` replaces the
    manifest's required flags, and a format it names that the manifest lacks fails."""
    manifest = read_manifest(model_dir)
    entries = manifest["formats"]
    names = [name for name in entries if scope is None or name in scope]
    names += [name for name in [*(scope or []), *(require or [])] if name not in entries and name not in names]
    verdicts = []
    for name in names:
        if name not in entries:
            verdicts.append(Verdict(manifest["model"], name, name in require if require else True, "not exported",
                                    "export it (FORMATS, --format), or check its name: python -m exporters formats"))
            continue
        why, hint = failure(entries[name], chosen)
        required = name in require if require else is_required(entries[name])
        verdicts.append(Verdict(manifest["model"], name, required, why, hint))
    return verdicts


@dataclass(frozen=True)
class Decision:
    """The gate over every verdict: its lines (required passed, each informative failure, each required failure)
    and, when a required format failed, its failure."""

    lines: list[str]
    failure: GateFailure | None


def decide(verdicts: list[Verdict]) -> Decision:
    passed = [f"{v.model}/{v.format}" for v in verdicts if v.required and not v.failure]
    lines = [f"gate: required passed: {', '.join(passed) or 'none'}"]
    lines += [f"gate: informative {v.model}/{v.format} failed: {v.failure}; hint: {v.hint}"
              for v in verdicts if v.failure and not v.required]
    red = [v for v in verdicts if v.failure and v.required]
    lines += [f"gate: required {v.model}/{v.format} failed: {v.failure}; hint: {v.hint}" for v in red]
    failure = GateFailure(f"{len(red)} required format(s) failed: {', '.join(f'{v.model}/{v.format}' for v in red)}; "
                          "require fewer formats (REQUIRE, --require, the spec's required=) only if you do not deploy "
                          "them") if red else None
    return Decision(lines, failure)


def check_deployable(verdicts: list[Verdict], deploy: list[str]) -> None:
    """A deployment image may carry only formats that passed, for every model."""
    bad = [f"{v.model}/{v.format} ({v.failure})" for v in verdicts if v.format in deploy and v.failure]
    bad += [f"{name} (not exported)" for name in deploy if not any(v.format == name for v in verdicts)]
    if bad:
        raise GateFailure(f"DEPLOY_FORMATS names formats that did not pass: {'; '.join(bad)}: deploy only formats "
                          "the gate passed, or fix those first")
