"""The bench's PNG plots: latency per format and side, JVM/Python ratios, artifact size against latency,
throughput against callers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .bench_report import JVM_RATIO_LIMIT, JVM_RATIO_TARGET, ok_rows

PLOTS_DIR = "plots"  # under the bench output folder; bench.md and report.md link these relative paths
SIDE_COLORS = {"python": "tab:blue", "jvm": "tab:orange"}


def write_plots(result: dict[str, Any], out: Path) -> list[str]:
    """Writes the plots under out/plots and returns their paths relative to out."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI or servers
    import matplotlib.pyplot as plt

    rows = ok_rows(result["rows"])
    if not rows:
        return []
    (out / PLOTS_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("latency", _latency), ("jvm_python_ratio", _ratios), ("size_latency", _size_latency),
                       ("caller_scaling", _caller_scaling)):
        figure = draw(plt, rows, result)
        if figure is None:
            continue
        path = f"{PLOTS_DIR}/{name}.png"
        figure.savefig(out / path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def _latency(plt: Any, rows: list[dict[str, Any]], result: dict[str, Any]) -> Any:
    """One panel per model and batch: p50 bars per format and runtime, whiskers up to p90, coloured by side."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    panels = [(m, b) for m in models for b in sorted({r["batch"] for r in rows if r["model"] == m})]
    figure, axes = plt.subplots(len(panels), 1, figsize=(10, 2.8 * len(panels)), squeeze=False)
    for ax, (model, batch) in zip(axes[:, 0], panels):
        group = [r for r in rows if r["model"] == model and r["batch"] == batch]
        p50 = [r["p50_ms"] for r in group]
        ax.bar(range(len(group)), p50, yerr=[[0] * len(group), [r["p90_ms"] - r["p50_ms"] for r in group]],
               color=[SIDE_COLORS[r["side"]] for r in group], capsize=3)
        ax.set_xticks(range(len(group)), [f"{r['format']}\n{r['runtime']}" for r in group], fontsize=7)
        ax.set_ylabel("p50 ms (to p90)")
        ax.set_title(f"{model}, batch {batch}", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=color) for color in SIDE_COLORS.values()]
    figure.legend(handles, list(SIDE_COLORS), loc="upper right")
    figure.tight_layout()
    return figure


def _ratios(plt: Any, rows: list[dict[str, Any]], result: dict[str, Any]) -> Any:
    pairs = result["jvm_vs_python"]
    if not pairs:
        return None
    figure, ax = plt.subplots(figsize=(9, 0.35 * len(pairs) + 1.2))
    labels = [f"{p['model']} b{p['batch']} {p['jvm_runtime']} / {p['python_runtime']}" for p in pairs]
    colors = ["tab:red" if p["p50_ratio"] > JVM_RATIO_LIMIT else "tab:green" for p in pairs]
    ax.barh(range(len(pairs)), [p["p50_ratio"] for p in pairs], color=colors)
    ax.set_yticks(range(len(pairs)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=1)
    ax.axvline(JVM_RATIO_TARGET, color="grey", linestyle="--", linewidth=1, label=f"target {JVM_RATIO_TARGET}")
    ax.set_xlabel("JVM p50 / Python p50, same runtime")
    ax.legend(loc="lower right")
    figure.tight_layout()
    return figure


def _size_latency(plt: Any, rows: list[dict[str, Any]], result: dict[str, Any]) -> Any:
    """Each artifact at batch 1: bytes on disk against p50, one marker per side."""
    points = [(result["artifacts"][r["model"]][r["format"]]["bytes"], r) for r in rows
              if r["batch"] == 1 and r["format"] in result["artifacts"].get(r["model"], {})]
    if not points:
        return None
    figure, ax = plt.subplots(figsize=(8, 5))
    for side, marker in (("python", "o"), ("jvm", "^")):
        chosen = [(size, r) for size, r in points if r["side"] == side]
        ax.scatter([s / 1024 for s, _ in chosen], [r["p50_ms"] for _, r in chosen], marker=marker,
                   color=SIDE_COLORS[side], label=side)
        for size, r in chosen:
            ax.annotate(f"{r['model']}/{r['format']}", (size / 1024, r["p50_ms"]), fontsize=6,
                        xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("artifact size (KiB, all files of the format)")
    ax.set_ylabel("p50 ms at batch 1")
    ax.legend()
    figure.tight_layout()
    return figure


def _caller_scaling(plt: Any, rows: list[dict[str, Any]], result: dict[str, Any]) -> Any:
    """One panel per model: throughput against callers, a line per side and runtime."""
    scaling = ok_rows(result.get("scaling") or [])
    models = list(dict.fromkeys(r["model"] for r in scaling))
    if not models:
        return None
    cores = result["machine"]["usable_cores"]
    figure, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.5), squeeze=False)
    for ax, model in zip(axes[0], models):
        lines = {}
        for r in (r for r in scaling if r["model"] == model):
            lines.setdefault((r["side"], r["runtime"], r["format"]), []).append((r["callers"], r["throughput_per_s"]))
        for (side, runtime, fmt), points in lines.items():
            ax.plot(*zip(*sorted(points)), marker="^" if side == "jvm" else "o",
                    linestyle="-" if side == "jvm" else ":", label=f"{side}/{runtime} ({fmt})")
        ax.set_xticks(sorted({c for points in lines.values() for c, _ in points}))
        ax.set_xlabel(f"callers sharing one loaded model ({cores} usable cores)")
        ax.set_ylabel("items/s")
        ax.set_title(model, fontsize=10)
        ax.legend(fontsize=6)
    figure.tight_layout()
    return figure
