"""`python -m exporters`: list, export, verify and report. Exit 0 ok, 1 a required format failed, 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .console import RequireOption, console, fail, show, summarize
from .contract.lines import parity_line
from .contract.manifest import ContractError
from .formats import FORMATS, ExportOptions
from .contract.gate import judge, mark_required
from .contract.parity import Tolerance, ToleranceError
from .spec import SpecError, run_formats
from .worker import quiet_libraries

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)


def check_formats(names: Optional[list[str]]) -> list[str]:
    unknown = [name for name in names or [] if name not in FORMATS]
    if unknown:
        fail(f"unknown format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return names or list(FORMATS)


FormatOption = Annotated[
    Optional[list[str]],
    typer.Option("--format", "-f", help=f"Format to use (repeatable); default all: {', '.join(FORMATS)}."),
]


@app.command()
def models(
    names: Annotated[bool, typer.Option("--names", help="Names only, one per line (for scripts and Make).")] = False,
) -> None:
    """List the built-in model zoo."""
    from .zoo import ZOO, builder

    for name in ZOO:
        typer.echo(name if names else f"{name:<12} {(builder(name).__doc__ or '').strip()}")


@app.command()
def folders(
    model: Annotated[Optional[list[str]], typer.Argument(help="Model words as given to export; default the zoo.")] = None,
    artifacts: Annotated[Path, typer.Option(help="Artifacts root export wrote to.")] = Path("artifacts"),
) -> None:
    """Print the folder export wrote for each MODEL word (found by the manifests' source, not by name)."""
    try:
        typer.echo("\n".join(str(folder) for folder in _folders(model, artifacts)))
    except ContractError as exc:
        fail(str(exc))


def _folders(words: Optional[list[str]], artifacts: Path) -> list[Path]:
    """The folder export wrote for each model word (the zoo when none), found by the manifests' source."""
    from .contract.manifest import model_folders
    from .zoo import ZOO, ZOO_SOURCE

    return model_folders(artifacts, [ZOO_SOURCE + word if word in ZOO else word for word in words or ZOO])


@app.command()
def formats(
    as_json: Annotated[bool, typer.Option("--json", help="As JSON, in the registry's order: each format's name, "
                                          "description, Python runtime and the settings names its manifest entry records.")] = False,
) -> None:
    """List the export formats and the Python runtime that verifies each."""
    if as_json:
        typer.echo(json.dumps([{"name": fmt.name, "description": fmt.description, "runtime": fmt.runtime,
                                "settings": sorted(fmt.settings)} for fmt in FORMATS.values()]))
        return
    for fmt in FORMATS.values():
        typer.echo(f"{fmt.name:<17} {fmt.description}  [verified with {fmt.runtime}]")


@app.command()
def export(
    model: Annotated[Optional[list[str]], typer.Argument(help="Zoo model name or `package.module:callable`; default the zoo.")] = None,
    format: Annotated[Optional[list[str]], typer.Option(
        "--format", "-f", help="Format to export (repeatable); default the spec's formats=, else every format.")] = None,
    require: RequireOption = None,
    stage: Annotated[Optional[str], typer.Option(
        help="Export only this one of the run's formats, none if the run does not choose it (one Docker stage per format).")] = None,
    out: Annotated[Path, typer.Option(help="Artifacts root; writes OUT/MODEL/.")] = Path("artifacts"),
    draft_export: Annotated[bool, typer.Option(help="Use torch.export.draft_export for exported_program.")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds one format's export may take before it is killed.")] = 1800,
    force: Annotated[bool, typer.Option(help="Export even when the model, its code, options and pins are unchanged.")] = False,
    atol: Annotated[Optional[float], typer.Option(help="Fixed absolute tolerance for every output, this run only.")] = None,
    rtol: Annotated[Optional[float], typer.Option(help="Fixed relative tolerance for every output, this run only.")] = None,
    case_budget_mb: Annotated[Optional[float], typer.Option(min=1, help="MiB one golden case may hold (the box's max must fit); default the spec's, 1024.")] = None,
    jobs: Annotated[int, typer.Option(min=0, help="Formats exported at once, each in its own process; 0: one per core as memory allows.")] = 0,
) -> None:
    """Export MODEL to every format (or --format ...), writing OUT/MODEL/manifest.json."""
    from .box import check_budget
    from .export import export_model
    from .zoo import ZOO, load_spec

    check_formats(format)
    check_formats(require)
    check_formats([stage] if stage else None)
    tolerance = None
    if atol is not None or rtol is not None:
        try:
            tolerance = Tolerance(atol or 0.0, rtol or 0.0)
        except ToleranceError as exc:
            fail(f"--atol/--rtol: {exc}")
    try:
        specs = [load_spec(name) for name in model or ZOO]
        for spec in specs:  # every model's box is checked before any export starts
            spec.case_budget_mb = case_budget_mb or spec.case_budget_mb
            check_budget(spec)
    except SpecError as exc:
        fail(str(exc))
    verdicts = []
    for spec in specs:
        try:
            names, required = run_formats(spec, format, require)
        except SpecError as exc:
            fail(str(exc))
        names = [name for name in names if stage in (None, name)]
        console.print(f"[bold]{spec.name}[/] -> {out / spec.name}")

        def step(name: str, entry: dict[str, Any]) -> None:
            size = sum(f["bytes"] for f in entry["files"]) / 1024
            detail = f"{entry['export_seconds']:6.1f} s  {size:9.1f} KiB"
            if entry.get("unchanged"):
                detail = f"unchanged since the last export ({size:.1f} KiB); --force re-exports"
            if entry["status"] == "failed":
                detail = f"{entry['error']}\n    hint: {entry['hint']}; log: {entry['log']}"
            elif entry["status"] == "problems":
                detail += "".join(f"\n    problem: {problem}" for problem in entry["problems"])
            detail += "".join(f"\n    warning (the golden cases decide): {w}" for w in entry.get("warnings", []))
            detail += "".join(f"\n    remedy: {remedy}" for remedy in entry.get("remedies", []))
            if entry["status"] != "failed" and entry.get("export_path", {}).get("tried"):
                path = entry["export_path"]
                detail += f"\n    exported through {path['taken']}: " + "; ".join(
                    f"{tried['path']} failed ({tried['error']})" for tried in path["tried"])
            if entry.get("because", "new") != "new":
                detail += f"\n    exported again: {entry['because']}"
            show(name, entry["status"] == "ok", detail, mark=entry["status"])

        options = ExportOptions(draft_export, tolerance, timeout, force, jobs)
        try:
            with console.status(f"exporting {spec.name}"):
                export_model(spec, [FORMATS[n] for n in names], out, options, step)
            mark_required(out / spec.name, names, required)
        except (ContractError, SpecError) as exc:
            fail(str(exc))
        verdicts += judge(out / spec.name, names)
    summarize(verdicts)


@app.command()
def verify(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
    format: FormatOption = None,
    require: RequireOption = None,
    force: Annotated[bool, typer.Option(help="Run every check again, even where a recorded result's key matches.")] = False,
) -> None:
    """Run each exported artifact in its Python runtime against the golden outputs."""
    from .verify import verify_model

    only = check_formats(format) if format else None
    check_formats(require)
    verified = 0
    for folder in model_dir:
        console.print(f"[bold]{folder}[/] (Python runtimes)")

        def step(name: str, result: dict[str, Any]) -> None:
            nonlocal verified
            verified += 1
            reused = "  (reused: files, golden data, rule, runtime version and CPU unchanged; --force reruns)"
            show(name, result["passed"], parity_line(result) + (reused if result.get("reused") else ""))

        try:
            if require:
                mark_required(folder, None, require)
            with console.status(f"verifying {folder}"):
                unverifiable = verify_model(folder, only, step, force)
        except ContractError as exc:
            fail(str(exc))
        if only and unverifiable:
            console.print(f"  nothing to verify for {'; '.join(unverifiable)}")
    if not verified:
        fail(f"no exported format to verify in {', '.join(map(str, model_dir))}: export first", code=1)
    summarize([verdict for folder in model_dir for verdict in judge(folder, only, require)])


@app.command()
def diagnose(
    model_dir: Annotated[Path, typer.Argument(help="The model folder whose verdict failed, e.g. artifacts/encoder.")],
    format: Annotated[str, typer.Argument(help="The format whose answers part from the reference.")],
    runtime: Annotated[Optional[str], typer.Option(help="The verdict to explain, as the manifest keys it (jvm/onnxruntime-java) "
                                                        "or by runtime name; default: the first failed one.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Where the tapped model is exported (default: MODEL_DIR/../diagnose).")] = None,
) -> None:
    """Find the first module whose output leaves the parity rule: re-export with every module's output tapped, run it where
    the verdict failed, and judge each tap against the float64 reference and eager's own error there."""
    from .diagnose import diagnose as run_diagnose

    check_formats([format])
    try:
        with console.status(f"diagnosing {model_dir} {format}"):
            report = run_diagnose(model_dir, format, runtime, out or model_dir.parent / "diagnose")
    except (ContractError, SpecError) as exc:
        fail(str(exc))
    worst = report["verdict"]["worst"]
    at = f" ({worst['at']})" if worst and worst.get("at") else ""
    console.print(f"[bold]{model_dir}[/] {format} on {report['runtime']}: {len(report['taps'])} module outputs tapped, "
                  f"re-exported with {report['case']}{at} as the model's own golden case beside the box's")
    first = report["first_diverging"]
    shown = (report["taps"][:report["taps"].index(first) + 3][-8:] if first
             else sorted(report["taps"], key=lambda row: -row["ratio"])[:5])  # where it parts, or the closest calls
    for row in shown:
        mark = "[red]leaves the rule[/]" if row["ratio"] > 1 else "within"
        console.print(f"  {row['tap'] + ' (' + row['module'] + ')':<56} ratio {row['ratio']:8.3g}  err {row['err']:.1e}  eager's own "
                      f"{row['eager_err']:.1e}  {mark}")
    if first:
        console.print(f"first diverging operation: [bold]{first['tap']}[/] ({first['module']}, ratio {first['ratio']:.3g}: err {first['err']:.1e}, "
                      f"eager's own {first['eager_err']:.1e}); report: {report['tapped_dir']}/diagnose.json")
    else:
        console.print(f"no module leaves the rule: {report['note']}; report: {report['tapped_dir']}/diagnose.json")


@app.command()
def gate(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
    format: FormatOption = None,
    require: RequireOption = None,
    deployable: Annotated[Optional[list[str]], typer.Option(
        help="Format a deployment image will carry (repeatable): it must have passed for every model.")] = None,
) -> None:
    """Print the CI gate from the manifests: required formats passed, informative failures; exit 1 if a required one failed."""
    only = check_formats(format) if format else None
    check_formats(require)
    check_formats(deployable)
    try:
        verdicts = [verdict for folder in model_dir for verdict in judge(folder, only, require)]
    except ContractError as exc:
        fail(str(exc))
    summarize(verdicts, deployable)


@app.command()
def merge(
    sources: Annotated[list[Path], typer.Argument(help="Artifacts roots to merge, e.g. one per format stage.")],
    out: Annotated[Path, typer.Option(help="Merged artifacts root.")] = Path("artifacts"),
    format: FormatOption = None,
) -> None:
    """Merge artifact trees exported format by format into OUT (or keep only --format ...), native layout."""
    from .merge import merge_trees

    only = check_formats(format) if format else None
    try:
        models = merge_trees(sources, out, only)
    except ContractError as exc:
        fail(str(exc))
    console.print(f"merged {', '.join(models)} from {len(sources)} tree(s) into {out}")


@app.command()
def bench(
    model: Annotated[Optional[list[str]], typer.Argument(help="Model words as given to export; default the zoo.")] = None,
    artifacts: Annotated[Path, typer.Option(help="Artifacts root export wrote to.")] = Path("artifacts"),
    format: FormatOption = None,
    threads: Annotated[int, typer.Option(min=1, help="Intra-op threads for every runtime, Python and JVM.")] = 1,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed calls after the first, at least.")] = 5,
    warmup_s: Annotated[float, typer.Option(min=0, max=3600, help="Seconds of untimed calls, at least (lets the JVM JIT compile).")] = 1.0,
    repeats: Annotated[int, typer.Option(min=1, help="Timed calls per model, batch, runtime and round.")] = 100,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds per case, Python and JVM in turn; medians are reported.")] = 3,
    jvm: Annotated[bool, typer.Option(help="Also time every JVM runtime (needs `make jvm`).")] = True,
    callers: Annotated[Optional[list[int]], typer.Option(
        min=1, help="Threads sharing one loaded model in the caller-scaling rows (repeat; default 1, 2, 4; "
                    "only 1 skips them).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Where bench.json, bench.md and plots/ go; default ARTIFACTS.")] = None,
) -> None:
    """Time every artifact in its Python runtime and in each JVM runtime beside eager PyTorch; write OUT/bench.md."""
    from .bench import CALLERS, Bench, JvmSideError, machine
    from .bench_report import artifact_facts, combine, derive, write
    from .contract.manifest import read_manifest
    from .plots import write_plots
    from .zoo import ZOO, load_spec

    words = model or list(ZOO)
    out = out or artifacts
    try:
        for word in words:  # the eager baseline comes from these words, never from a manifest: fail before timing
            load_spec(word)
        folders = _folders(words, artifacts)
        run = Bench(threads, warmup, warmup_s, repeats, rounds, check_formats(format) if format else None, jvm,
                    tuple(callers or CALLERS), progress=lambda line: console.print(f"  {line}"))
        started = machine()
        for word, folder in zip(words, folders):
            console.print(f"[bold]{folder}[/] ({word})")
            run.model(word, folder, load_spec)
        manifests = {manifest["model"]: manifest for manifest in map(read_manifest, folders)}
    except (ContractError, SpecError) as exc:
        fail(str(exc))
    except JvmSideError as exc:
        fail(f"{exc}; or pass --no-jvm to time the Python side only")
    result = {
        "machine": {**started, "load_average_1m_end": machine()["load_average_1m"]},
        "settings": {"threads": threads, "warmup": warmup, "warmup_s": warmup_s, "repeats": repeats,
                     "rounds": rounds, "models": words, "callers": list(run.callers)},
        "artifacts": {name: artifact_facts(manifest) for name, manifest in manifests.items()},
        "rows": combine(run.rows),
        "round_rows": run.rows,
        "scaling": run.scaling_rows,
    }
    result.update(derive(result["rows"], run.rows))
    result["plots"] = write_plots(result, out)
    typer.echo(write(result, out).read_text())
    console.print(f"wrote {out / 'bench.json'}, {out / 'bench.md'} and {len(result['plots'])} plot(s)")
    failed = [f"{r['model']}/{r['format']} {r['side']}/{r['runtime']} batch {r['batch']}"
              + (f" with {r['callers']} callers" if "callers" in r else "")
              for r in [*result["rows"], *result["scaling"]] if r.get("error")]
    if failed:
        fail(f"{len(failed)} measurement(s) failed: {'; '.join(failed)} (errors in bench.md)", code=1)


@app.command()
def report(artifacts: Annotated[Path, typer.Argument(help="Artifacts root.")] = Path("artifacts")) -> None:
    """Write ARTIFACTS/report.json and report.md: status, parity, size and export time per model x format."""
    from .report import write_report

    try:
        json_path, md_path = write_report(artifacts)
    except ContractError as exc:
        fail(str(exc))
    typer.echo(md_path.read_text())
    console.print(f"wrote {json_path} and {md_path}")


@app.command(name="reproduce")
def reproduce_command(
    model: Annotated[Optional[list[str]], typer.Argument(help="Model words as given to export; default the zoo.")] = None,
    artifacts: Annotated[Path, typer.Option(help="Artifacts root export wrote to.")] = Path("artifacts"),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds one format's export may take.")] = 1800,
) -> None:
    """Export each MODEL again and record per format whether every file came out byte-identical."""
    from .reproduce import reproduce
    from .zoo import ZOO, load_spec

    words = model or list(ZOO)
    try:
        folders = _folders(words, artifacts)
        for word, folder in zip(words, folders):
            with console.status(f"re-exporting {word}"):
                manifest = reproduce(load_spec(word), folder, timeout)
            console.print(f"[bold]{folder}[/] (reproducibility)")
            for name, entry in manifest["formats"].items():
                if "reproducible" in entry:
                    same = entry["reproducible"]["identical"]
                    show(name, same, "byte-identical" if same else "differs: " + ", ".join(entry["reproducible"]["differs"]),
                         mark="differs")
    except (ContractError, SpecError) as exc:
        fail(str(exc))


def main() -> None:
    quiet_libraries()
    app()
