"""Latency of each exported artifact in its Python runtime, as a ratio to eager PyTorch run side by side.

Each repeat times the eager module and the artifact back to back on the same golden case (the
largest), so machine noise hits both; ratios are medians over repeats after a warm-up. Both sides
include the same numpy-to-tensor handoff, as a serving process would pay it.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Callable

import torch

from .contract import load_golden, read_manifest, write_json_atomic
from .formats import FORMATS
from .formats.base import torch_predict
from .zoo import load_source


def _time_ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1e3


def bench_model(model_dir: Path, warmup: int, repeats: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    manifest = read_manifest(model_dir)
    case = max(load_golden(model_dir, manifest), key=lambda c: sum(a.size for a in c.inputs.values()))
    eager = torch_predict(load_source(manifest["source"]).module, manifest)
    rows = []
    for name in FORMATS:
        entry = manifest["formats"].get(name)
        if not entry or entry["status"] != "ok" or (only and name not in only):
            continue
        predict = FORMATS[name].load(model_dir / name, manifest)
        for _ in range(warmup):
            eager(case.inputs)
            predict(case.inputs)
        eager_ms, format_ms = [], []
        for _ in range(repeats):
            eager_ms.append(_time_ms(lambda: eager(case.inputs)))
            format_ms.append(_time_ms(lambda: predict(case.inputs)))
        rows.append({
            "model": manifest["model"], "format": name, "runtime": FORMATS[name].runtime, "case": case.name,
            "eager_median_ms": round(statistics.median(eager_ms), 4),
            "median_ms": round(statistics.median(format_ms), 4),
            "ratio_to_eager": round(statistics.median(f / e for f, e in zip(format_ms, eager_ms)), 3),
            "warmup": warmup, "repeats": repeats,
        })
    return rows


def write_bench(rows: list[dict[str, Any]], out: Path) -> Path:
    lines = [
        "# Python runtime latency",
        "",
        "Median over repeats after warm-up, on each model's largest golden case; ratio < 1 is faster than eager",
        f"PyTorch timed side by side ({torch.get_num_threads()} intra-op threads).",
        "",
        "| model | format | runtime | eager ms | artifact ms | ratio to eager |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['model']} | {r['format']} | {r['runtime']} | {r['eager_median_ms']:.3f} | {r['median_ms']:.3f}"
        f" | {r['ratio_to_eager']:.2f} |"
        for r in rows
    ]
    write_json_atomic(out / "bench.json", {"rows": rows})
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    return out / "bench.md"
