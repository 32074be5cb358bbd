"""The matrix across models, formats and runtimes: report.json for machines, report.md for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .contract.manifest import ContractError, MANIFEST, read_manifest, write_json_atomic
from .formats import FORMATS
from .contract.lines import worst_part
from .contract.gate import is_required
from .contract.parity import FACTOR, FLOOR_ULPS

# Rows follow the registry, whatever order stages or merges wrote the manifest's formats in.
FORMAT_ORDER = {name: index for index, name in enumerate(FORMATS)}
NO_JVM = "n/a: no JVM runtime"


def collect(artifacts: Path) -> list[dict[str, Any]]:
    rows = []
    for manifest_path in sorted(artifacts.glob(f"*/{MANIFEST}")):
        manifest = read_manifest(manifest_path.parent)
        for name, entry in sorted(manifest["formats"].items(), key=lambda item: FORMAT_ORDER.get(item[0], 99)):
            rows.append({
                "model": manifest["model"],
                "format": name,
                "status": entry["status"],
                "required": is_required(entry),
                "bytes": sum(f["bytes"] for f in entry["files"]),
                "export_seconds": entry["export_seconds"],
                "reproducible": entry.get("reproducible"),
                "error": entry.get("error"),
                "warnings": entry.get("warnings", []),
                "export_path": entry.get("export_path", {}),
                "verification": entry["verification"],
                "box": proven_box(entry["verification"]),
            })
    if not rows:
        raise ContractError(f"no {MANIFEST} under {artifacts}: run `python -m exporters export MODEL` first")
    return rows


def proven_box(verification: dict[str, Any]) -> dict[str, list[int]] | None:
    """The dim sizes every runtime passed across (all golden cases, so min to max); None without a pass everywhere."""
    results = [r for k, r in verification.items() if "@" not in k]  # chosen-version records: the compat section's
    if not results or not all(result["passed"] for result in results):
        return None
    boxes = [result.get("box", {}) for result in results]
    return {name: [max(b[name][0] for b in boxes), min(b[name][1] for b in boxes)] for name in boxes[0]}


def _box(box: dict[str, list[int]] | None) -> str:
    if box is None:
        return "-"
    return ", ".join(f"{name} {low}..{high}" for name, (low, high) in box.items()) or "static"


def _runtime_columns(rows: list[dict[str, Any]]) -> list[str]:
    jvm = sorted({key for row in rows for key in row["verification"] if not key.startswith("python/") and "@" not in key}, reverse=True)
    return ["python", *jvm]


def _crashed(result: dict[str, Any]) -> str:
    """How a runtime's process died, for a cell: the signal (else the exit code) and its last words."""
    crashed = result["crashed"]
    how = crashed.get("signal") or f"exit code {crashed.get('exit_code')}"
    lines = crashed.get("last_lines") or [""]
    last = lines[0] if lines[-1].startswith("hs_err: ") else lines[-1]  # the JVM's fault line, else the last stderr line
    return f"**CRASHED** {how}" + (f" ({last[:120].replace('|', '/')})" if last else "")


def _cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    if "crashed" in result:
        return _crashed(result)
    if result.get("raised"):  # the runtime refused to load or run it: no errors to show
        return f"**DOES NOT RUN** ({result['error']})"
    verdict = "pass" if result["passed"] else "**FAIL**"
    cell = f"{verdict} {result['max_abs_err']:.1e} (eager {result['eager_abs_err']:.1e})"
    if result.get("error"):
        return f"{cell} ({result['error']})"
    return cell if result["passed"] else f"{cell}, {worst_part(result)}"


def _concurrency(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    verdict = "pass" if result["passed"] else "**FAIL**"
    cell = (f"{verdict} {result['callers']} callers, {result['calls']} calls: {result['failures']} failed,"
            f" {result['mismatches']} mismatched, {result['wall_ms']:.0f} ms")
    return f"{cell} ({result['first_error']})" if result.get("first_error") else cell


def _reproducible(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    return "yes" if result["identical"] else "no: " + ", ".join(Path(p).name for p in result["differs"])


def to_markdown(rows: list[dict[str, Any]]) -> str:
    columns = _runtime_columns(rows)
    header = ["model", "format", "status", "box proven", "size", "export s", "reproducible", *(c.replace("/", ": ") for c in columns)]
    lines = [
        "# Export report",
        "",
        "Parity cells: verdict, the artifact's worst absolute error against the reference (the model run in",
        "float64) over every golden case, and eager fp32's own error against it. An artifact passes when it is",
        f"within {FACTOR:g}x eager's error or {FLOOR_ULPS} ulps of the output's scale (rules per output in each manifest).",
        "Box proven: the dim sizes the golden cases span (each dynamic dim at its declared min and max, and inside),",
        "shown only where every runtime passed every case.",
        "Status says whether the format is required (it must pass for the run to exit 0) or informative.",
        "CRASHED: the runtime's process died (signal or exit code, then its last words; the manifest's error has",
        "the command that reproduces it).",
        "DOES NOT RUN: the runtime refused to load or run the artifact (a missing operator library), in its words.",
        "\"via PATH\": the export path that made it where the format's own failed (formats.F.export_path).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    # A format no JVM runtime ran for any model (the ExportedProgram) says so instead of a bare dash.
    jvm_formats = {row["format"] for row in rows if any(key.startswith("jvm/") for key in row["verification"])}
    for row in rows:
        python = next((r for k, r in row["verification"].items() if k.startswith("python/")), None)
        jvm = [_cell(row["verification"].get(c)) if row["format"] in jvm_formats else NO_JVM for c in columns[1:]]
        cells = [_cell(python), *jvm]
        gate = "required" if row["required"] else "informative"
        status = f"ok, {gate}" if row["status"] == "ok" else f"**{row['status']}**, {gate}: {row['error']}"
        if row.get("export_path", {}).get("tried") and row["export_path"].get("taken"):  # not the format's own path
            status += f", via {row['export_path']['taken']}"
        if row["warnings"]:
            status += f" ({len(row['warnings'])} warning(s) at export; the golden cases decide)"
        lines.append(
            f"| {row['model']} | {row['format']} | {status} | {_box(row['box'])} | {row['bytes'] / 1024:.1f} KiB"
            f" | {row['export_seconds']:.2f} | {_reproducible(row['reproducible'])} | " + " | ".join(cells) + " |"
        )
    lines += ["", "JVM timings: model load, then the first golden case (ms). Concurrent: callers sharing one opened",
              "runner x calls, how many threw or gave an answer other than the single caller's, and the wall time.", "",
              "| model | format | runtime | version | java | load ms | first run ms | concurrent |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for key, result in row["verification"].items():
            if result["side"] == "jvm" and "@" not in key and "crashed" in result:
                lines.append(f"| {row['model']} | {row['format']} | {result['runtime']} | - | - | - | - | {_crashed(result)} |")
            elif result["side"] == "jvm" and "@" not in key:
                lines.append(f"| {row['model']} | {row['format']} | {result['runtime']} | {result['version']}"
                             f" | {result['java']} | {result['load_ms']:.0f} | {result['first_run_ms']:.1f}"
                             f" | {_concurrency(result.get('concurrency'))} |")
    return "\n".join(lines + text_section(rows)) + "\n"


def text_section(rows: list[dict[str, Any]]) -> list[str]:
    """Strings to answers, per text model and runtime: the corpus tokenized by each side's binding of the Rust
    tokenizers library, token ids compared exactly, answers after the postprocess judged by the parity rule."""
    found = [(row, key, result["text"]) for row in rows for key, result in row["verification"].items()
             if "@" not in key and isinstance(result.get("text"), dict)]
    if not found:
        return []
    lines = ["", "## Text in, answers out", "",
             "Text models (ModelSpec text=): the spec's texts and the built-in corpus tokenized in each runtime's process,",
             "token ids, masks and type ids compared with export's exactly, the postprocessed answers judged by the parity",
             "rule, from one caller and from several at once.", "",
             "| model | format | runtime | tokenizer | texts | token ids | answers worst ratio | max abs err | concurrent |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row, key, text in found:
        ids = "**differ**" if "differs at token" in text.get("error", "") else "exact"
        verdict = "pass" if text["passed"] else f"**FAIL** {text.get('error', '')}"
        c = text.get("concurrency")
        concurrent = f"{c['callers']} x {c['calls']}, {c.get('mismatches', 0)} wrong" if c else "-"
        lines.append(f"| {row['model']} | {row['format']} | {key} | {text.get('tokenizer', '-')} | {text['texts']} | {ids} "
                     f"| {verdict}, {text['worst_ratio']:.2g} | {text['max_abs_err']:.1e} | {concurrent} |")
    return lines


def bench_links(artifacts: Path) -> str:
    """Links to the bench's page and plots when `make bench` has written them beside the report."""
    path = artifacts / "bench.json"
    if not path.is_file():
        return ""
    try:
        plots = json.loads(path.read_text()).get("plots", [])
    except (ValueError, UnicodeDecodeError, AttributeError):
        return ""  # a damaged bench.json is the bench's to rewrite, not a reason to fail the report
    lines = ["", "## Latency", "", "Python and JVM runtimes beside eager PyTorch, and which format for a JVM service: "
             "[bench.md](bench.md).", ""]
    return "\n".join(lines + [f"![{Path(plot).stem}]({plot})" for plot in plots if isinstance(plot, str)]) + "\n"


def compat_section(artifacts: Path) -> str:
    """The producer x consumer matrix `make compat` wrote to compat.json (and `make compat-producers` to
    compat-producers.json), one row per model x format x producer x runtime version."""
    cells, producers = [], {}
    for name in ("compat.json", "compat-producers.json"):
        try:
            matrix = json.loads((artifacts / name).read_text())
            cells += matrix["cells"]
            producers.update(matrix.get("producers", {}) if name != "compat.json" else {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # no sweep yet, or a damaged one: its make target rewrites it
    if not cells:
        return ""
    lines = ["", "## Compatibility matrix", "",
             "Each artifact on each JVM runtime version served here (`make compat`; CI runs the oldest and newest).",
             "Direction compares the runtime with the producer's version: artifact newer than runtime is a service that",
             "lags the exporter. Refused to load: the runtime, its binding or the pre-load IR/opset check said no.",
             "Made by: the torch (and executorch) that exported the artifact, as its manifest records it.", ""]
    if producers:
        lines += ["Other producers (`make compat-producers`): the zoo exported by another torch in its own environment,",
                  "consumed by today's Python runtimes and by the pinned and oldest runtime of each JVM engine.", ""]
        lines += [f"- {name}: torch {p['torch']}, executorch {p['executorch'] or 'none'} ({p['why']})" for name, p in producers.items()]
        lines.append("")
    lines += ["| model | format | made by | engine | version | runtime build | direction | result | message |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        status = c["status"] if c["status"] == "passed" else f"**{c['status']}**"
        lines.append(f"| {c['model']} | {c['format']} | {c.get('made_by', '-')} | {c['engine']} | {c['version']} | {c['native']}"
                     f" | {c['direction']} | {status} | {c['message'].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def write_report(artifacts: Path) -> tuple[Path, Path]:
    rows = collect(artifacts)
    json_path, md_path = artifacts / "report.json", artifacts / "report.md"
    write_json_atomic(json_path, {"rows": rows})
    md_path.write_text(to_markdown(rows) + compat_section(artifacts) + bench_links(artifacts))
    return json_path, md_path
