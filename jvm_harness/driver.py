"""Feed golden cases from Python into each Java runner and record the JVM's parity in the manifest.

No torch in this process: DJL and the JavaCPP presets bring their own libtorch, and two libtorch
builds in one process clash. For the same reason one process (one JVM) runs one engine's runners.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import jpype
import jpype.nio
import numpy as np

from exporters.contract import GoldenCase, Parity, load_golden, read_manifest, write_manifest

from . import jvm

SIDE = "jvm"


def harness_class(name: str) -> Any:
    return jpype.JClass(f"org.exportpipeline.harness.{name}")


def to_java(name: str, array: np.ndarray) -> Any:
    """A Java Tensor over the array's own memory (a direct ByteBuffer, no copy)."""
    buffer = jpype.nio.convertToDirectBuffer(array)
    return harness_class("Tensor").of(name, str(array.dtype), jpype.JArray(jpype.JLong)(list(array.shape)), buffer)


def to_numpy(tensor: Any) -> np.ndarray:
    """A copy of a Java Tensor's buffer: the Java side may free it after the call."""
    dtype = np.dtype(str(tensor.dtype().numpy()))
    shape = tuple(int(d) for d in tensor.shape())
    return np.frombuffer(memoryview(tensor.data()), dtype=dtype).reshape(shape).copy()


def engines() -> list[str]:
    """The engines of the registered Java runners, in registry order."""
    jvm.start()
    return [str(engine) for engine in harness_class("Runners").engines()]


def verify_model(
    model_dir: Path, engine: str, on_result: Callable[[str, dict[str, Any]], None] = lambda fmt, result: None
) -> dict[str, Any]:
    """Run one engine's Java runners whose format was exported; record results under verification['jvm/<runtime>']."""
    jvm.start()
    manifest = read_manifest(model_dir)
    cases = load_golden(model_dir, manifest)
    java_manifest = harness_class("Manifest").read(java_path(model_dir))
    for runner in harness_class("Runners").of(engine):
        fmt = str(runner.format())
        entry = manifest["formats"].get(fmt)
        if not entry or entry["status"] != "ok":
            continue
        result = {"side": SIDE, "runtime": str(runner.runtime()), "java": jvm.java_version(),
                  **_run_cases(runner, java_manifest, cases, entry["tolerance"])}
        entry["verification"][f"{SIDE}/{result['runtime']}"] = result
        write_manifest(model_dir, manifest)
        on_result(fmt, result)
    return manifest


def _run_cases(runner: Any, java_manifest: Any, cases: list[GoldenCase], tolerance: dict) -> dict[str, Any]:
    """Open the runner's artifact and feed it every golden case; a Java exception fails this runner only."""
    parity, version, timings = Parity(), "unavailable", {"load_ms": 0.0, "first_run_ms": 0.0}
    LinkedHashMap = jpype.JClass("java.util.LinkedHashMap")
    try:
        with runner:
            version = str(runner.version())  # starts the engine's native side: load_ms is the model's alone
            started = time.perf_counter()
            runner.open(java_manifest.formatDir(runner.format()), java_manifest)
            timings["load_ms"] = round((time.perf_counter() - started) * 1e3, 1)
            for case in cases:
                feeds = LinkedHashMap()
                for name, array in case.inputs.items():  # np.load gives contiguous arrays, alive in `case`
                    feeds.put(name, to_java(name, array))
                started = time.perf_counter()
                outputs = runner.run(feeds)
                if parity.cases == 0:
                    timings["first_run_ms"] = round((time.perf_counter() - started) * 1e3, 2)
                parity.add({str(k): to_numpy(v) for k, v in outputs.items()}, case.outputs, tolerance)
    except jpype.JException as exc:
        parity.fail(f"{exc.getClass().getSimpleName()}: {_first_line(exc.getMessage())}")
    return {"version": version, **parity.as_dict(), **timings}


def java_path(path: Path) -> Any:
    return jpype.JClass("java.nio.file.Path").of(str(path), jpype.JArray(jpype.JString)([]))


def _first_line(message: Any) -> str:
    text = str(message or "").strip()
    return text.splitlines()[0][:300] if text else "(no message)"
