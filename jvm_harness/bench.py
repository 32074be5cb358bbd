"""Run the pure-Java benchmark (org.exportpipeline.harness.tools.Bench) in a child JVM per runtime and case.

Timing happens inside Java, so neither JPype nor this process is in the JVM figures. A child per
runtime keeps runtimes on different libtorch builds out of one JVM, and keeps every JVM out of the
calling process, which has torch loaded.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from . import jvm

MAIN = "org.exportpipeline.harness.tools.Bench"
TIMEOUT_S = 1800  # one runtime on one model and batch; a hang must not stall the whole bench


class BenchError(RuntimeError):
    """The Java bench could not run at all (bad input, no JVM); the message says what to do."""


def _java(args: list[str], engine: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([*jvm.java_command(MAIN, engine), *args], capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the Java bench ({' '.join(args)}) ran past {TIMEOUT_S} s: lower --repeats") from None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ")[:300] if lines else "(no message)"


def runtimes() -> dict[str, str]:
    """Every registered JVM runner's runtime name and the format it runs (jvm.runners: SelfCheck --list-runners)."""
    return {runner.runtime: runner.format for runner in jvm.runners()}


def measure(model_dir: Path, runtime: str, case: str, batch: int, threads: int, warmup: int, warmup_s: float,
            repeats: int, callers: tuple[int, ...] = (1,)) -> list[dict[str, Any]]:
    """One row per caller count from the Java bench (one opened runner shared by that many threads); a runtime
    that fails on this model gives one row with `error`. It runs with its engine's jars only."""
    engine = next((runner.engine for runner in jvm.runners() if runner.runtime == runtime), None)
    done = _java(["--runtime", runtime, "--case", case, "--batch", str(batch), "--threads", str(threads),
                  "--warmup", str(warmup), "--warmup-s", str(warmup_s), "--repeats", str(repeats),
                  *(arg for count in callers for arg in ("--callers", str(count))), str(model_dir)],
                 engine)
    if done.returncode == 1:
        return [{"error": _last_line(done.stderr)}]
    if done.returncode != 0:
        raise BenchError(f"the Java bench refused {model_dir} for {runtime}: {_last_line(done.stderr)}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
