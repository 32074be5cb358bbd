"""Latency and throughput of every artifact in its Python runtime and in each JVM runtime, beside eager PyTorch.

Per model, at batch 1 and at 32 (clamped to the batch dim's bounds): eager PyTorch built from the
user's model word (never from the manifest's `source`, which would let a folder name code to run),
then for each format its Python runtime and right after it every JVM runtime that runs the same
artifact, so the sides alternate case by case and machine noise hits both. Each measurement loads
the artifact afresh (load_ms), times the first call (first_run_ms), then warm-up calls and timed
repeats back to back on inputs prepared once: the largest golden case's rows tiled along dim 0.
The JVM side is timed inside Java (`python -m jvm_harness bench-case`, one child JVM per runtime and case). Each
case runs in several rounds, Python and JVM in turn, so a ratio can be taken within each round.

Caller scaling, at the smallest batch: one loaded model shared by 1, 2 and 4 threads calling at once, as a
service's request threads share it, on each side. A Python runtime whose predict is not thread-safe
(Format.shared_calls) gets one loaded copy per thread, as a Python service would have to; whether a runtime
scales in Python then shows whether it releases the GIL while it computes.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .contract.causes import decisive_line
from .contract.manifest import GoldenCase, check_format, load_golden, read_manifest
from .formats import FORMATS
from .formats.base import TORCH_THREADS, Predict, set_torch_threads, torch_predict
from .spec import ModelSpec

EAGER = "eager"  # the baseline's format name in rows
EAGER_RUNTIME = "torch"
LARGE_BATCH = 32


def python_pair(row: dict[str, Any]) -> str | None:
    """The Python runtime a JVM row is compared with: the one that verifies its format (the format registry's)."""
    return FORMATS[row["format"]].runtime if row["format"] in FORMATS else None


METRICS = ("p50_ms", "p90_ms", "p99_ms", "throughput_per_s", "load_ms", "first_run_ms")
CALLERS = (1, 2, 4)  # threads sharing one loaded model in the caller-scaling rows


def machine() -> dict[str, Any]:
    """What the numbers were measured on; the load average shows how busy the machine was."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    field = lambda name: next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith(name)), "")  # noqa: E731
    return {"cpu": field("model name") or platform.processor() or "unknown", "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            # vector extensions an AOTI package compiled here may rely on
            "isa": sorted(flag for flag in field("flags").split() if flag.startswith(("avx", "amx"))),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def largest_case(cases: list[GoldenCase]) -> GoldenCase:
    """The case with the most input elements, the first of equals (Bench.java picks the same)."""
    return max(cases, key=lambda case: sum(array.size for array in case.inputs.values()))


def batch_sizes(manifest: dict[str, Any], case: GoldenCase) -> list[int]:
    """1 and LARGE_BATCH within the batch dim's bounds when every input shares dynamic dim 0, else the case's own."""
    first = {io["shape"][0] if io["shape"] else None for io in manifest["inputs"]}
    dim = first.pop() if len(first) == 1 else None
    if not isinstance(dim, str):
        shape = next(iter(case.inputs.values())).shape
        return [shape[0] if shape else 1]
    bounds = manifest["dims"][dim]
    return sorted({min(max(size, bounds["min"]), bounds["max"]) for size in (1, LARGE_BATCH)})


def tile(inputs: dict[str, np.ndarray], batch: int) -> dict[str, np.ndarray]:
    """Each input's dim-0 rows repeated cyclically to `batch` rows (Bench.java tiles the same way); scalars as they are."""
    return {name: np.ascontiguousarray(np.take(array, np.arange(batch) % array.shape[0], axis=0)) if array.ndim else array
            for name, array in inputs.items()}


def summarize(samples_ms: list[float], batch: int) -> dict[str, float]:
    """Percentiles interpolate linearly between ranks (numpy's default; Bench.java matches it)."""
    p50, p90, p99 = np.percentile(samples_ms, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "throughput_per_s": batch * len(samples_ms) / (sum(samples_ms) / 1e3)}


def time_python(load: Callable[[], Predict], inputs: dict[str, np.ndarray], batch: int, warmup: int,
                warmup_s: float, repeats: int) -> dict[str, float]:
    """Load, first call, warm-up (at least `warmup` calls and `warmup_s` seconds), then timed calls back to
    back: the sequence Bench.java runs."""
    started = time.perf_counter()
    predict = load()
    load_ms = (time.perf_counter() - started) * 1e3
    started = time.perf_counter()
    predict(inputs)
    first_run_ms = (time.perf_counter() - started) * 1e3
    warmup_end, warmups = time.perf_counter() + warmup_s, 0
    while warmups < warmup or time.perf_counter() < warmup_end:
        predict(inputs)
        warmups += 1
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        predict(inputs)
        samples.append((time.perf_counter() - started) * 1e3)
    return {**summarize(samples, batch), "load_ms": load_ms, "first_run_ms": first_run_ms, "warmup": warmups}


def loaded_once(load: Callable[[], Predict]) -> Callable[[], Predict]:
    """One loaded model for every caller and caller count, loaded by the first caller that asks."""
    lock, loaded = threading.Lock(), []

    def predict_for() -> Predict:
        with lock:
            if not loaded:
                loaded.append(load())
        return loaded[0]

    return predict_for


def time_callers(predict_for: Callable[[], Predict], inputs: dict[str, np.ndarray], batch: int, callers: int,
                 warmup: int, repeats: int) -> dict[str, float]:
    """`callers` threads calling at once (Bench.java's --callers): each takes predict_for() (one shared predict, or
    its own copy), makes `warmup` untimed calls, then `repeats` timed ones, all released together. Throughput is
    calls x batch over the wall time from the release to the last return; percentiles are over every call."""
    samples: list[list[float]] = [[] for _ in range(callers)]
    released = threading.Barrier(callers + 1)

    def caller(index: int) -> None:
        try:
            predict = predict_for()
            for _ in range(warmup):
                predict(inputs)
        finally:
            released.wait()  # a caller that failed to warm up must not hold the others back
        for _ in range(repeats):
            started = time.perf_counter()
            predict(inputs)
            samples[index].append((time.perf_counter() - started) * 1e3)

    with ThreadPoolExecutor(callers) as pool:
        calls = [pool.submit(caller, index) for index in range(callers)]
        released.wait()
        started = time.perf_counter()
        for call in calls:
            call.result()
        wall_ms = (time.perf_counter() - started) * 1e3
    every = [sample for caller_samples in samples for sample in caller_samples]
    # summarize's percentiles (Bench.java's convention); throughput over the wall time, since calls overlap
    return {**summarize(every, batch), "throughput_per_s": batch * len(every) / (wall_ms / 1e3)}


class JvmSideError(RuntimeError):
    """The JVM side could not run at all (not built, no JVM, bad input); the message says what to do."""


class JvmSide:
    """The JVM runtimes, timed by the JVM harness's own command line: a process and JSON lines between the
    two packages, never an import (each loads native runtimes of its own; see jvm_harness/bench.py)."""

    def __init__(self) -> None:
        self.formats: dict[str, str] = json.loads(self._run("bench-runtimes"))  # runtime -> format

    def measure(self, folder: Path, runtime: str, case: str, batch: int, threads: int, warmup: int, warmup_s: float,
                repeats: int, callers: tuple[int, ...] = (1,)) -> list[dict[str, Any]]:
        """One row per caller count, or one row with `error` when the runtime fails on this model."""
        out = self._run("bench-case", str(folder), "--runtime", runtime, "--case", case, "--batch", str(batch),
                        "--threads", str(threads), "--warmup", str(warmup), "--warmup-s", str(warmup_s),
                        "--repeats", str(repeats), *(arg for count in callers for arg in ("--callers", str(count))))
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    @staticmethod
    def _run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "jvm_harness", *args], capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()] or ["(no message)"]
            raise JvmSideError(lines[-1].removeprefix("error: ").strip())
        return done.stdout


class Bench:
    """One run's settings and the JVM runtimes it drives; rows accumulate in order of measurement."""

    def __init__(self, threads: int, warmup: int, warmup_s: float, repeats: int, rounds: int, only: list[str] | None,
                 jvm: bool, callers: tuple[int, ...] = CALLERS, progress: Callable[[str], None] = lambda line: None) -> None:
        self.threads, self.warmup, self.warmup_s, self.repeats, self.only = threads, warmup, warmup_s, repeats, only
        self.rounds, self.callers = rounds, tuple(sorted(set(callers)))
        self.progress = progress
        self.jvm = JvmSide() if jvm else None
        self.jvm_runtimes = self.jvm.formats if self.jvm else {}
        set_torch_threads(threads)  # eager and every torch-based runtime share torch's pool
        self.rows: list[dict[str, Any]] = []
        self.scaling_rows: list[dict[str, Any]] = []

    def _row(self, model: str, fmt: str, side: str, runtime: str, version: str, case: str, batch: int, rnd: int,
             thread_setting: str, measured: dict[str, Any]) -> None:
        """One row; `measured` holds the metrics and warm-up calls made, or `error`, and for JVM rows what
        Java reported of threads."""
        row = {"model": model, "format": fmt, "side": side, "runtime": runtime, "version": version, "case": case,
               "batch": batch, "round": rnd, **{key: None for key in METRICS}, "threads": self.threads,
               "thread_setting": thread_setting, "warmup": None, "repeats": self.repeats}
        row.update({key: value for key, value in measured.items() if key in row or key in ("error", "java")})
        for key in METRICS:
            if row[key] is not None:
                row[key] = round(row[key], 4)
        self.rows.append(row)
        outcome = row.get("error") or f"p50 {row['p50_ms']:.3f} ms"
        self.progress(f"{model} batch {batch} round {rnd + 1} {fmt} {side}/{runtime}: {outcome}")

    def model(self, word: str, folder: Path, load_spec: Callable[[str], ModelSpec]) -> None:
        manifest = read_manifest(folder)
        case = largest_case(load_golden(folder, manifest))
        formats = [name for name in FORMATS if manifest["formats"].get(name, {}).get("status") == "ok"
                   and (not self.only or name in self.only)]
        for name in formats:  # integrity before any runtime opens a file
            check_format(folder, name, manifest["formats"][name])
        for batch in batch_sizes(manifest, case):
            inputs = tile(case.inputs, batch)
            for rnd in range(self.rounds):
                eager = time_python(lambda: torch_predict(load_spec(word).module, manifest), inputs, batch,
                                    self.warmup, self.warmup_s, self.repeats)
                self._row(manifest["model"], EAGER, "python", EAGER_RUNTIME, torch.__version__, case.name, batch, rnd,
                          TORCH_THREADS, eager)
            for name in formats:
                for rnd in range(self.rounds):
                    self._python(folder, manifest, name, case.name, batch, rnd, inputs)
                    for runtime in (r for r, fmt in self.jvm_runtimes.items() if fmt == name):
                        self._jvm(folder, manifest, name, runtime, case.name, batch, rnd)
        if max(self.callers) > 1:
            self._scaling(word, folder, manifest, case, formats, load_spec)

    def _scaling(self, word: str, folder: Path, manifest: dict[str, Any], case: GoldenCase, formats: list[str],
                 load_spec: Callable[[str], ModelSpec]) -> None:
        """Each side's throughput with 1..N callers sharing one loaded model, at the smallest batch."""
        batch = batch_sizes(manifest, case)[0]
        inputs = tile(case.inputs, batch)
        eager = torch_predict(load_spec(word).module, manifest)
        self._scaled(manifest, EAGER, "python", EAGER_RUNTIME, torch.__version__, batch, "one module shared",
                     lambda callers: time_callers(lambda: eager, inputs, batch, callers, self.warmup, self.repeats))
        for name in formats:
            fmt = FORMATS[name]
            load = lambda fmt=fmt, name=name: fmt.load(folder / name, manifest, self.threads)  # noqa: E731
            predict_for = loaded_once(load) if fmt.shared_calls else load
            self._scaled(manifest, name, "python", fmt.runtime, fmt.runtime_version(), batch,
                         "one loaded model shared" if fmt.shared_calls else "one loaded copy per thread (not thread-safe)",
                         lambda callers: time_callers(predict_for, inputs, batch, callers, self.warmup, self.repeats))
            for runtime in (r for r, f in self.jvm_runtimes.items() if f == name):
                rows = self.jvm.measure(folder, runtime, case.name, batch, self.threads, self.warmup, self.warmup_s,
                                        self.repeats, self.callers)
                by_callers = {row["callers"]: row for row in rows if "callers" in row}
                self._scaled(manifest, name, "jvm", runtime, rows[0].get("version", ""), batch,
                             "one opened runner shared", lambda callers: by_callers.get(callers) or rows[0])

    def _scaled(self, manifest: dict[str, Any], fmt: str, side: str, runtime: str, version: str, batch: int,
                sharing: str, measure: Callable[[int], dict[str, Any]]) -> None:
        """One scaling row per caller count; `scaling` is throughput against the same runtime's one-caller row."""
        base = None
        for callers in self.callers:
            try:
                measured = measure(callers)
            except Exception as exc:  # a runtime that fails under threads fails its own rows, with its own words
                measured = {"error": f"{type(exc).__name__}: {decisive_line(exc)}"}
            row = {"model": manifest["model"], "format": fmt, "side": side, "runtime": runtime, "version": version,
                   "batch": batch, "callers": callers, "threads": self.threads, "sharing": sharing,
                   **{key: round(measured[key], 4) if measured.get(key) is not None else None
                      for key in ("p50_ms", "p99_ms", "throughput_per_s")}}
            if measured.get("error"):
                row["error"] = measured["error"]
            elif callers == 1:
                base = row["throughput_per_s"]
            row["scaling"] = round(row["throughput_per_s"] / base, 3) if base and not row.get("error") else None
            self.scaling_rows.append(row)
            outcome = row.get("error") or f"{row['throughput_per_s']:.0f} items/s"
            self.progress(f"{manifest['model']} batch {batch} {callers} caller(s) {fmt} {side}/{runtime}: {outcome}")

    def _python(self, folder: Path, manifest: dict[str, Any], name: str, case: str, batch: int, rnd: int,
                inputs: dict[str, np.ndarray]) -> None:
        fmt = FORMATS[name]
        try:
            measured = time_python(lambda: fmt.load(folder / name, manifest, self.threads), inputs, batch,
                                   self.warmup, self.warmup_s, self.repeats)
        except Exception as exc:  # a runtime that fails here fails this row only, with its own words
            measured = {"error": f"{type(exc).__name__}: {decisive_line(exc)}"}
        self._row(manifest["model"], name, "python", fmt.runtime, fmt.runtime_version(), case, batch, rnd,
                  fmt.threads, measured)

    def _jvm(self, folder: Path, manifest: dict[str, Any], name: str, runtime: str, case: str, batch: int,
             rnd: int) -> None:
        measured = self.jvm.measure(folder, runtime, case, batch, self.threads, self.warmup, self.warmup_s, self.repeats)[0]
        self._row(manifest["model"], name, "jvm", runtime, measured.get("version", ""), case, batch, rnd,
                  measured.get("thread_setting", "not reported"), measured)
