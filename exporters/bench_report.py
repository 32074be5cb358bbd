"""bench.json and bench.md from measured rows: ratios, tables and "Which format for a JVM service".

Everything here is computed from the rows and the manifests' records; nothing names a winner.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from .bench import EAGER, METRICS, python_pair
from .contract.manifest import write_json_atomic
from .formats import FORMATS
from .contract.gate import is_required

JVM_RATIO_TARGET = 1.05  # same runtime, same native kernels: the JVM should cost at most 5% more
JVM_RATIO_LIMIT = 1.10  # beyond this at batch 1 the bench note must explain the gap


def ok_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row.get("error") is None]


def _case(row: dict[str, Any]) -> tuple:
    return row["model"], row["format"], row["side"], row["runtime"], row["batch"]


def combine(round_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per case: each metric's median over rounds (a failed round fails the case), in measuring order."""
    cases: dict[tuple, list[dict[str, Any]]] = {}
    for row in round_rows:
        cases.setdefault(_case(row), []).append(row)
    rows = []
    for rounds in cases.values():
        row = {key: value for key, value in rounds[0].items() if key != "round"}
        row["rounds"] = len(rounds)
        failed = next((r["error"] for r in rounds if r.get("error")), None)
        if failed:
            row.update({key: None for key in METRICS}, error=failed)
        else:
            row.update({key: round(statistics.median(r[key] for r in rounds), 4) for key in METRICS})
            row["warmup"] = min(r["warmup"] for r in rounds)
        rows.append(row)
    return rows


def derive(rows: list[dict[str, Any]], round_rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each artifact against eager at the same model and batch (medians over rounds), and each JVM runtime
    against its Python pair: the median of the ratios taken within each round, Python and JVM measured in turn."""
    measured = ok_rows(rows)
    eager = {(r["model"], r["batch"]): r for r in measured if r["format"] == EAGER}
    python = {(r["model"], r["batch"], r["runtime"]): r for r in measured if r["side"] == "python"}
    in_round = {(r["model"], r["batch"], r["runtime"], r["round"]): r for r in ok_rows(round_rows)}
    vs_eager, jvm_vs_python = [], []
    for row in measured:
        base = eager.get((row["model"], row["batch"]))
        if row["format"] != EAGER and base:
            vs_eager.append({**_key(row), "p50_ratio": _ratio(row["p50_ms"], base["p50_ms"]),
                             "throughput_ratio": _ratio(row["throughput_per_s"], base["throughput_per_s"])})
        pair = python.get((row["model"], row["batch"], python_pair(row)))
        if row["side"] == "jvm" and pair:
            paired = [(jvm, in_round.get((jvm["model"], jvm["batch"], pair["runtime"], jvm["round"])))
                      for jvm in round_rows if _case(jvm) == _case(row)]
            per_round = [_ratio(j["p50_ms"], p["p50_ms"]) for j, p in paired if p]
            jvm_vs_python.append({
                "model": row["model"], "format": row["format"], "batch": row["batch"], "jvm_runtime": row["runtime"],
                "python_runtime": pair["runtime"], "jvm_p50_ms": row["p50_ms"], "python_p50_ms": pair["p50_ms"],
                "p50_ratio": round(statistics.median(per_round), 3), "p50_ratio_per_round": per_round,
                "p99_ratio": _ratio(row["p99_ms"], pair["p99_ms"]),
            })
    return {"vs_eager": vs_eager, "jvm_vs_python": jvm_vs_python}


def _key(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("model", "format", "side", "runtime", "batch")}


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3)


def artifact_facts(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the recommendation needs from a manifest: status, gate, size and parity per format."""
    return {
        name: {
            "status": entry["status"],
            "required": is_required(entry),
            "bytes": sum(f["bytes"] for f in entry["files"]),
            "parity": {runtime: result["passed"] for runtime, result in entry["verification"].items()},
        }
        for name, entry in manifest["formats"].items()
    }


def recommend(result: dict[str, Any]) -> list[str]:
    """The "Which format for a JVM service" section, drawn from the measured rows and the manifests."""
    rows = ok_rows(result["rows"])
    vs_eager = {(r["model"], r["side"], r["runtime"], r["batch"]): r["p50_ratio"] for r in result["vs_eager"]}
    lines = ["## Which format for a JVM service", "",
             "Drawn from this run's numbers and each manifest's parity records; re-run `make bench` on the serving",
             "hardware before deciding.", ""]
    formats_seen: set[str] = set()
    for model, all_facts in result["artifacts"].items():
        facts = {name: fact for name, fact in all_facts.items() if fact["status"] == "ok"}
        everywhere = [name for name, fact in facts.items() if fact["parity"] and all(fact["parity"].values())]
        unverified_jvm = [name for name in everywhere if not any(k.startswith("jvm/") for k in facts[name]["parity"])]
        lines.append(f"**{model}**")
        not_exported = [f"{name} ({'required' if fact['required'] else 'informative'})"
                        for name, fact in all_facts.items() if name not in facts]
        if not_exported:
            lines.append(f"- export failed or reported problems (never proposed): {', '.join(not_exported)}")
        lines.append(f"- passed parity on every runtime that verified it: {', '.join(everywhere) or 'none'}"
                     + (f" (not verified in a JVM: {', '.join(unverified_jvm)})" if unverified_jvm else ""))
        failed = [name for name, fact in facts.items() if not all(fact["parity"].values())]
        if failed:
            lines.append(f"- failed parity on some runtime: {', '.join(failed)}")
        unchecked = [name for name, fact in facts.items() if not fact["parity"]]
        if unchecked:
            lines.append(f"- never verified (run `make verify jvm-verify`): {', '.join(unchecked)}")
        jvm = [r for r in rows if r["model"] == model and r["side"] == "jvm"]
        for batch in sorted({r["batch"] for r in jvm}):
            at_batch = sorted((r for r in jvm if r["batch"] == batch), key=lambda r: r["p50_ms"])
            passing = [r for r in at_batch if r["format"] in everywhere]  # only a format that passed is proposed
            line = f"- no format that passed parity everywhere was measured in a JVM at batch {batch}"
            if passing:
                best = passing[0]
                line = (f"- fastest JVM runtime at batch {batch} that passed parity: {best['runtime']} ({best['format']}) "
                        f"p50 {best['p50_ms']:.3f} ms, {_vs(vs_eager.get((model, 'jvm', best['runtime'], batch)))}")
            faster = at_batch[:at_batch.index(passing[0])] if passing else at_batch
            if faster:
                line += "; faster but failed parity or never verified (not proposed): " + ", ".join(
                    f"{r['runtime']} ({r['format']}) p50 {r['p50_ms']:.3f} ms" for r in faster)
            lines.append(line)
        broken = [r for r in result["rows"] if r["model"] == model and r.get("error")]
        lines += [f"- failed at batch {r['batch']} in {r['side']}/{r['runtime']} ({r['format']}): {r['error']}"
                  for r in broken]
        if not jvm:
            lines.append("- no JVM runtime was measured for this model")
        no_jvm = [name for name in facts if not any(r["format"] == name for r in jvm)]
        if no_jvm and jvm:
            lines.append(f"- exported but without a JVM runtime in this harness: {', '.join(no_jvm)}")
        formats_seen.update(facts)
        lines.append("")
    lines += ["Caveats (recorded facts, for the formats above):", ""]
    lines += [f"- {name}: {fmt.caveat}" for name, fmt in FORMATS.items() if name in formats_seen]
    isa = result["machine"].get("isa")
    if isa and "aoti" in formats_seen:
        lines.append(f"- this bench host's vector extensions: {', '.join(isa)}; an AOTI package exported here "
                     "expects them on the serving host")
    lines += _build_differences(rows)
    return lines + [""]


def _build_differences(rows: list[dict[str, Any]]) -> list[str]:
    """A JVM runtime on another native build than its Python pair is not the same kernels (from row versions)."""
    python = {r["runtime"]: r["version"] for r in rows if r["side"] == "python"}
    seen = {}
    for row in rows:
        pair = python_pair(row)
        if row["side"] == "jvm" and pair in python:
            seen[row["runtime"]] = f"- {row['runtime']} runs {row['version']}; its Python pair {pair} runs {python[pair]}"
    return list(seen.values())


def _vs(ratio: float | None) -> str:
    return "no eager baseline" if ratio is None else f"{ratio:.2f}x eager's p50"


def to_markdown(result: dict[str, Any]) -> str:
    m, s = result["machine"], result["settings"]
    lines = [
        "# Latency and throughput: Python and JVM runtimes beside eager PyTorch",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['platform']}; load average "
        f"{m['load_average_1m']} at start, {m['load_average_1m_end']} at end. Threads: {s['threads']} intra-op for "
        f"every runtime on both sides (how each was told: `thread_setting` in bench.json). Warm-up at least "
        f"{s['warmup']} calls and {s['warmup_s']} s, then {s['repeats']} timed repeats, in {s['rounds']} round(s): "
        "each cell is the median over rounds.",
        "",
        "Per model and batch, eager PyTorch runs first, then each format in its Python runtime and right after it",
        "each JVM runtime (timed inside Java), so both sides see the same machine noise. Each row loads the",
        "artifact afresh (load ms), times the first call, then times calls back to back on inputs prepared once",
        "(the largest golden case's rows tiled along dim 0). Percentiles interpolate between ranks; throughput is",
        "batch x repeats over the timed total.",
        "",
        "| model | batch | format | side | runtime | p50 ms | p90 ms | p99 ms | items/s | load ms | first run ms | vs eager |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = {(r["model"], r["side"], r["runtime"], r["batch"]): r["p50_ratio"] for r in result["vs_eager"]}
    for row in result["rows"]:
        head = f"| {row['model']} | {row['batch']} | {row['format']} | {row['side']} | {row['runtime']} |"
        if row.get("error"):
            lines.append(f"{head} **failed**: {row['error']} | | | | | | |")
            continue
        ratio = ratios.get((row["model"], row["side"], row["runtime"], row["batch"]))
        lines.append(f"{head} {row['p50_ms']:.3f} | {row['p90_ms']:.3f} | {row['p99_ms']:.3f} | "
                     f"{row['throughput_per_s']:.0f} | {row['load_ms']:.0f} | {row['first_run_ms']:.1f} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    lines += ["", f"## JVM against Python, same runtime (target <= {JVM_RATIO_TARGET:.2f} at p50)", "",
              "p50 ratio: the median of the ratios taken within each round (Python, then JVM right after).", "",
              "| model | batch | format | JVM runtime | Python runtime | JVM p50 ms | Python p50 ms | p50 ratio | per round | p99 ratio |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["jvm_vs_python"]:
        flag = " **over 1.10**" if r["batch"] == 1 and r["p50_ratio"] > JVM_RATIO_LIMIT else ""
        lines.append(f"| {r['model']} | {r['batch']} | {r['format']} | {r['jvm_runtime']} | {r['python_runtime']} | "
                     f"{r['jvm_p50_ms']:.3f} | {r['python_p50_ms']:.3f} | {r['p50_ratio']:.2f}{flag} | "
                     f"{' '.join(f'{x:.2f}' for x in r['p50_ratio_per_round'])} | {r['p99_ratio']:.2f} |")
    lines += scaling_section(result)
    if result["plots"]:
        lines += ["", "## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in result["plots"]]
    lines += ["", *recommend(result)]
    return "\n".join(lines)


def ideal_scaling(callers: int, cores: int) -> int:
    """What N callers can reach at best: one core each, up to the cores there are."""
    return max(1, min(callers, cores))


def scaling_section(result: dict[str, Any]) -> list[str]:
    """Throughput with 1..N callers sharing one loaded model, against the same runtime's one-caller row."""
    rows = result.get("scaling") or []
    if not rows:
        return []
    cores = result["machine"]["usable_cores"]
    lines = ["", "## Caller scaling: one loaded model, several threads calling at once", "",
             f"At the smallest batch, {result['settings']['threads']} intra-op thread(s) per call, on {cores} usable "
             "cores: each caller makes its warm-up calls, then all are released together. Scaling is throughput "
             "against the same runtime's one-caller row; of ideal divides it by min(callers, cores). A Python "
             "runtime that scales releases the GIL while it computes.", "",
             "| model | format | side | runtime | sharing | callers | items/s | p50 ms | p99 ms | scaling | of ideal |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        head = f"| {r['model']} | {r['format']} | {r['side']} | {r['runtime']} | {r['sharing']} | {r['callers']} |"
        if r.get("error"):
            lines.append(f"{head} **failed**: {r['error']} | | | | |")
            continue
        scaling = r["scaling"]
        of_ideal = "-" if scaling is None else f"{scaling / ideal_scaling(r['callers'], cores):.2f}"
        lines.append(f"{head} {r['throughput_per_s']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                     f"{'-' if scaling is None else f'{scaling:.2f}'} | {of_ideal} |")
    return lines


def write(result: dict[str, Any], out: Path) -> Path:
    write_json_atomic(out / "bench.json", result)
    (out / "bench.md").write_text(to_markdown(result))
    return out / "bench.md"
