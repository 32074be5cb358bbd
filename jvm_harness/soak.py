"""The sustained check of every JVM runtime: SelfCheck --soak in one `java` per engine (natives of two engines
never share a process), its results gathered into one JSON file. Imports no torch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable

from . import jvm

# The soak's JVM: a fixed, pre-touched heap, so the resident set moves with native memory alone (a growing Java
# heap would read as a leak); JIT thresholds scaled down, so the callers run the compiled code a long-running
# service runs within seconds: compiled code ends a local's reachability at its last use, which is when a buffer
# handed to native code can be freed under the call (the OpenVINO runner's wrong answers needed minutes of load).
SOAK_JVM_OPTIONS = ["-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch", "-XX:CompileThresholdScaling=0.05"]


class SoakError(RuntimeError):
    """An engine's JVM refused the folders or died; the message is its one line."""


def soak(model_dirs: list[Path], seconds: float, callers: int | None, max_rss_slope: float | None, engines: list[str],
         on_result: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Each engine's SelfCheck --soak results on the folders (every runner whose format was exported); callers and the
    slope bound, when None, are the Java soak's own defaults."""
    results = []
    for engine in engines:
        java = jvm.java_command(jvm.SELF_CHECK, engine)
        chosen = [*(["--soak-callers", str(callers)] if callers else []),
                  *(["--soak-max-rss-slope", str(max_rss_slope)] if max_rss_slope is not None else [])]
        command = [java[0], *SOAK_JVM_OPTIONS, *java[1:], "--json", "--engine", engine, "--soak", str(seconds), *chosen,
                   *map(str, model_dirs)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise SoakError(f"the JVM for engine {engine} exited with code {done.returncode} ({last}): run "
                            f"`python -m jvm_harness soak --engine {engine} {' '.join(map(str, model_dirs))}` to see it alone")
        for result in json.loads(done.stdout):
            result["engine"] = engine
            on_result(result)
            results.append(result)
    return results
