"""`python -m jvm_harness`: run exported artifacts inside a JVM through the Java runtime bindings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from exporters.console import RequireOption, console, fail, show, summarize
from exporters.contract.lines import text_part, worst_part
from exporters.contract.manifest import ContractError

from . import jvm
from . import runtimes as runtime_versions

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
CallersOption = Annotated[Optional[int], typer.Option(
    min=1, help="Threads sharing one opened runner in the concurrency check (default: SelfCheck's, ConcurrencyCheck.DEFAULT_CALLERS).")]


def jvm_line(result: dict[str, Any]) -> str:
    """The JVM result in one line: worst error, eager's own error, worst ratio to the allowance, timings (or how
    the runtime's JVM died)."""
    if "crashed" in result:
        return f"{result['runtime']:<20} crashed: {result['error']}"
    if result.get("raised"):  # refused to load or run it: no errors, timings or callers to show
        return f"{result['runtime']:<20} {result['error']}"
    line = (f"{result['runtime']:<20} max abs {result['max_abs_err']:.1e}  eager {result['eager_abs_err']:.1e}"
            f"  worst ratio {result['worst_ratio']:.2g}  load {result['load_ms']:.0f} ms, first run {result['first_run_ms']:.1f} ms")
    line += f"  ({result['error']})" if "error" in result else ""
    line += f"  {worst_part(result)}" if not result["passed"] and result.get("worst") and "error" not in result else ""
    c = result.get("concurrency")
    if c:
        line += (f"; {c['callers']} callers: {c['calls']} calls, {c['failures']} failed, {c['mismatches']} mismatched"
                 f" ({c['wall_ms']:.0f} ms)" + (f" ({c['first_error']})" if "first_error" in c else ""))
    return line + text_part(result.get("text"))


def mark(result: dict[str, Any]) -> str:
    """A result's label when it did not pass: crashed when its JVM died, does not run when the runtime refused to load
    or run it, else failed."""
    if "crashed" in result:
        return "crashed"
    return "does not run" if result.get("raised") else ""


@app.command()
def verify(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
    engine: Annotated[Optional[list[str]], typer.Option(help="Only this engine (repeatable; default: every engine built).")] = None,
    require: RequireOption = None,
    callers: CallersOption = None,
    runtimes: Annotated[str, typer.Option(help="Prove on these runtime versions only, e.g. 'onnxruntime=1.22.0 openvino=2025.4.1' "
                                               "(fetched on first use; results recorded as jvm/RUNTIME@VERSION).")] = "",
    force: Annotated[bool, typer.Option(help="Run every check again, even where a recorded result's key matches.")] = False,
) -> None:
    """Run the Java check (integrity, golden cases, parity) with every JVM engine; record results in each manifest."""
    from exporters.contract.gate import judge, mark_required

    from .driver import EngineError, record_key, verify_models

    chosen: set[str] = set()  # this run's records on chosen versions: the gate judges them, not older sweeps'

    def step(folder: Path, fmt: str, result: dict[str, Any]) -> None:
        chosen.add(record_key(result))
        reused = ("  (reused: files, golden data, rule, runtime version, harness and CPU unchanged; --force reruns)"
                  if result.get("reused") else "")
        show(f"{folder.name}/{fmt}", result["passed"], jvm_line(result) + reused, mark=mark(result))

    try:
        versions = runtime_versions.parse(runtimes)
    except runtime_versions.VersionError as exc:
        fail(str(exc), code=2)
    shown = [f"{e}={v}" for e, v in versions.items()] or engine or jvm.engines()
    console.print(f"[bold]{', '.join(map(str, model_dir))}[/] (JVM engines: {', '.join(shown) or 'none built'})")
    try:
        for folder in model_dir if require else []:
            mark_required(folder, None, require)
        checked = verify_models(model_dir, step, engine, callers, versions, force)
        verdicts = [verdict for folder in model_dir for verdict in judge(folder, None, require, frozenset(chosen))]
    except (ContractError, jvm.JvmError) as exc:
        fail(str(exc))
    except EngineError as exc:
        fail(str(exc), code=exc.code)
    if not checked:
        fail("no exported format has a JVM runner on this build: export one that `SelfCheck --list-runners` names first")
    summarize(verdicts)


@app.command("check-engine")
def check_engine(
    engine: Annotated[str, typer.Argument(help="ENGINE, or ENGINE=VERSION for a served runtime version (fetched on first use).")],
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
    callers: CallersOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print SelfCheck's results as its JSON array.")] = False,
) -> None:
    """Run one engine's check alone, in the child JVM verify starts for it, and print its results; records nothing.
    What verify prints to reproduce an engine whose JVM died. Exit 0 passed, 1 a result failed or the JVM died
    (its stderr shown first), 2 refused input."""
    from .driver import EngineCrash, EngineError, check

    try:
        name, _, version = engine.partition("=")
        if version:
            runtime_versions.check(name, version)
        jvm.classpath(name, version or None)  # an engine that was not built (or a version that cannot be fetched) says so
        results = check(name, model_dir, callers, version or None)
    except runtime_versions.VersionError as exc:
        fail(str(exc), code=2)
    except EngineCrash as exc:
        typer.echo(exc.stderr, err=True, nl=False)
        fail(str(exc), code=1)
    except (EngineError, ContractError, jvm.JvmError) as exc:
        fail(str(exc), code=2)
    if as_json:
        typer.echo(json.dumps(results, indent=1))
    else:
        for result in results:
            show(f"{Path(result['model_dir']).name}/{result['format']}", result["verification"]["passed"], jvm_line(result["verification"]))
    if not results:
        fail(f"nothing checked: no format in {', '.join(map(str, model_dir))} has a runner of engine {name}", code=2)
    if not all(result["verification"]["passed"] for result in results):
        raise typer.Exit(1)


@app.command()
def compat(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp artifacts/cnn.")],
    out: Annotated[Path, typer.Option(help="Where the matrix goes (report.md's matrix section reads ARTIFACTS/compat.json).")] = Path("artifacts/compat.json"),
    engine: Annotated[Optional[list[str]], typer.Option(help="Only this engine (repeatable; default: every engine with versions).")] = None,
    ci: Annotated[bool, typer.Option(help="The CI slice: only the oldest and newest version of each engine, whose cells must "
                                          "pass for exit 0 (but the formats a version cannot serve: runtimes.Engine.only).")] = False,
    require_pass: Annotated[Optional[list[str]], typer.Option(
        help="ENGINE=VERSION[/FORMAT] whose cells must pass for exit 0 (repeatable): what a service on that runtime relies on.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 on any failed-parity cell (a runtime that loads the artifact and answers wrongly).")] = False,
    producer_slice: Annotated[bool, typer.Option(help="The folders are another producer's (make compat-producers): the pinned and oldest "
                                                      "version of each engine, plus a cell per failed export and per Python verification.")] = False,
) -> None:
    """Prove every artifact on every served runtime version of each JVM engine: passed / failed parity / refused to load."""
    from .compat import FAILED, PASSED, must_pass, sweep, write

    def step(cell: dict[str, Any]) -> None:
        show(f"{cell['model']}/{cell['format']}", cell["status"] == PASSED,
             f"{cell['engine']} {cell['version']:<9} ({cell['direction']}) {cell['status']}"
             + (f": {cell['message']}" if cell["message"] else ""), mark=cell["status"])

    for name in engine or []:
        if name not in runtime_versions.RUNTIMES:
            fail(f"unknown JVM engine '{name}': choose one of {', '.join(runtime_versions.RUNTIMES)}")
    try:
        wanted = [(*runtime_versions.parse(word.split("/")[0]).popitem(), word.partition("/")[2] or None) for word in require_pass or []]
        wanted += must_pass(engine) if ci else []
        jvm.classpath()
        matrix = sweep(model_dir, engine, ci, step, producer_slice)
    except runtime_versions.VersionError as exc:
        fail(str(exc))
    except (ContractError, jvm.JvmError) as exc:
        fail(str(exc))
    write(out, matrix)
    console.print(f"compat: {sum(c['status'] == PASSED for c in matrix['cells'])} of {len(matrix['cells'])} cells passed; wrote {out}")
    bad = [c for c in matrix["cells"] if c["status"] != PASSED and (strict and c["status"] == FAILED or any(
        (c["engine"], c["version"]) == (e, v) and f in (None, c["format"]) for e, v, f in wanted))]
    missing = [f"{e}={v}" + (f"/{f}" if f else "") for e, v, f in wanted
               if not any((c["engine"], c["version"]) == (e, v) and f in (None, c["format"]) for c in matrix["cells"])]
    if missing:
        fail(f"no cell for {', '.join(missing)}: nothing exported for that engine/format in {', '.join(map(str, model_dir))}", code=1)
    if bad:
        fail(f"{len(bad)} cell(s) that must pass did not: " + "; ".join(f"{c['model']}/{c['format']} on {c['engine']} {c['version']}: {c['status']}"
                                                                        for c in bad), code=1)


@app.command("compat-producers")
def compat_producers(
    model: Annotated[Optional[list[str]], typer.Argument(help="Zoo models to export with each producer.")] = None,
    producer: Annotated[Optional[list[str]], typer.Option(help="Only this producer (repeatable; default: every one in producers.PRODUCERS).")] = None,
    artifacts: Annotated[Path, typer.Option(help="Artifacts root: each producer's tree is ARTIFACTS/producers/NAME/.")] = Path("artifacts"),
    out: Annotated[Path, typer.Option(help="Where the matrix goes (report.md's matrix section reads it beside compat.json).")] = Path("artifacts/compat-producers.json"),
) -> None:
    """Export the zoo with other torch versions (each in its own environment), then consume it with today's
    Python runtimes and the pinned and oldest runtime of each JVM engine."""
    from . import producers as registry
    from .compat import PASSED, sweep, write

    def step(cell: dict[str, Any]) -> None:
        show(f"{cell['model']}/{cell['format']}", cell["status"] == PASSED,
             f"{cell['made_by']}: {cell['engine']} {cell['version']} ({cell['direction']}) {cell['status']}"
             + (f": {cell['message']}" if cell["message"] else ""), mark=cell["status"])

    names = producer or list(registry.PRODUCERS)
    matrix: dict[str, Any] = {"producers": {}, "cells": []}
    try:
        for name in names:
            registry.check(name)
        jvm.classpath()
        for name in names:
            console.print(f"[bold]{name}[/]: {' '.join(registry.pins(name))}")
            folders = registry.export(name, model or ["mlp", "cnn"], artifacts)
            registry.verify_python(folders)
            swept = sweep(folders, on_cell=step, producer=True)
            matrix["producers"][name] = {**vars(registry.PRODUCERS[name]), "versions": swept["producer"]}
            matrix["cells"] += swept["cells"]
    except (registry.ProducerError, runtime_versions.VersionError, ContractError, jvm.JvmError) as exc:
        fail(str(exc))
    write(out, matrix)
    console.print(f"compat-producers: {sum(c['status'] == PASSED for c in matrix['cells'])} of {len(matrix['cells'])} cells passed; wrote {out}")


@app.command()
def soak(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/encoder.")],
    seconds: Annotated[float, typer.Option(min=1, help="How long the callers share each opened runner.")] = 120,
    callers: Annotated[Optional[int], typer.Option(min=1, help="Threads sharing one opened runner (default: Soak.DEFAULT_CALLERS, 8).")] = None,
    max_rss_slope: Annotated[Optional[float], typer.Option(min=0, help="Bound on RSS growth after the warm-up, MiB per minute (default: Soak.DEFAULT_MAX_RSS_SLOPE, 30).")] = None,
    engine: Annotated[Optional[list[str]], typer.Option(help="Only this engine (repeatable; default: every engine built).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the results here as JSON.")] = None,
) -> None:
    """A service's load, sustained, on every JVM runtime: CALLERS threads for SECONDS per runner, fresh input buffers per
    call, the GC forced meanwhile; zero wrong answers, no failed call and a bounded RSS slope, or exit 1."""
    from .soak import SoakError
    from .soak import soak as run_soak

    def step(result: dict[str, Any]) -> None:
        s = result["verification"].get("soak", {})
        show(f"{Path(result['model_dir']).name}/{result['format']}", result["verification"]["passed"],
             f"{result['runtime']:<18} {s.get('callers')} callers {s.get('seconds')} s: {s.get('calls')} calls"
             f" ({s.get('calls_per_s')}/s), {s.get('wrong')} wrong, {s.get('failures')} failed, {s.get('gc_collections')} GCs,"
             f" RSS {s.get('rss_start_mib')} -> {s.get('rss_end_mib')} MiB, slope {s.get('rss_slope_mib_per_min')} MiB/min"
             + ("" if s.get("rss_judged") else " (not judged: under 60 s after warm-up)")
             + (f" ({s['first_error']})" if "first_error" in s else "")
             + (f" ({result['verification']['error']})" if "error" in result["verification"] else ""))

    try:
        results = run_soak(model_dir, seconds, callers, max_rss_slope, engine or jvm.engines(), step)
    except (SoakError, jvm.JvmError) as exc:
        fail(str(exc))
    if out:
        out.write_text(json.dumps(results, indent=1))
    if not results:
        fail("nothing soaked: no exported format of these folders has a JVM runner on this build")
    if not all(result["verification"]["passed"] for result in results):
        fail(f"soak: {sum(not r['verification']['passed'] for r in results)} of {len(results)} runners failed", code=1)
    console.print(f"soak: all {len(results)} runners passed")


@app.command()
def classpath(
    engine: Annotated[str | None, typer.Option(help="Only this engine's jars (default: every engine).")] = None,
) -> None:
    """Print the harness classpath (for `java -cp ... org.exportpipeline.harness.tools.SelfCheck`)."""
    try:
        typer.echo(":".join(jvm.classpath(engine)))
    except jvm.JvmError as exc:
        fail(str(exc))


@app.command()
def formats() -> None:
    """Print the formats this build's JVM runners load, space-separated (as SelfCheck --list-runners names them)."""
    try:
        typer.echo(" ".join(dict.fromkeys(runner.format for runner in jvm.runners())))
    except jvm.JvmError as exc:
        fail(str(exc))


@app.command()
def render(
    check: Annotated[bool, typer.Option(help="Only check that pom.xml, docker/Dockerfile, docker.mk and the manifest schema's "
                                        "settings names are up to date (exit 1 if not).")] = False,
) -> None:
    """Render the blocks of pom.xml, docker/Dockerfile and docker.mk and the manifest schema's settings names, written
    from the engine and format registries."""
    from .render import RENDERED

    for path, rendered in RENDERED.items():
        text = path.read_text()
        try:
            wanted = rendered(text)
        except ValueError as exc:
            fail(str(exc))
        if check and wanted != text:
            fail(f"{path} is out of date with the engine or format registry: run `python -m jvm_harness render`", code=1)
        elif wanted != text:
            path.write_text(wanted)
            console.print(f"rewrote the rendered blocks of {path}")


@app.command()
def install(
    repo: Annotated[Optional[Path], typer.Option(help="A local Maven repository other than ~/.m2/repository.")] = None,
) -> None:
    """Install one artifact per engine (org.exportpipeline:jvm-harness-ENGINE:0.1.0: its runners, a pom naming what it
    needs at run time, natives included) and the BOM (jvm-harness-bom); `make jvm-install` runs it after `mvn install`."""
    from .packaging import install as install_artifacts

    try:
        installed = install_artifacts(jvm.TARGET, repo)
    except RuntimeError as exc:
        fail(str(exc))
    console.print(f"installed {len(installed)} artifacts (one per engine, their natives, the BOM)")


@app.command()
def resolve(
    engine: Annotated[list[str], typer.Argument(help="Engines a deployment serves, e.g. onnxruntime djl-pytorch.")],
    out: Annotated[Path, typer.Option(help="Folder for the jars (a deployment's classpath).")],
) -> None:
    """Install the artifacts (as `install`), then copy what a service depending on these engines' artifacts resolves
    into OUT: one folder a deployment puts on its classpath."""
    from .packaging import install as install_artifacts, resolve as resolve_jars

    try:
        install_artifacts(jvm.TARGET)
        jars = resolve_jars(engine, out)
    except RuntimeError as exc:
        fail(str(exc))
    console.print(f"{len(jars)} jars in {out} ({sum(j.stat().st_size for j in jars) >> 20} MiB) for {', '.join(engine)}")


# The benchmark's JVM side as a command line: `python -m exporters bench` drives it in turn with the Python
# side (exporters/bench.py), through a process and JSON lines, so neither package imports the other.
@app.command(name="bench-runtimes")
def bench_runtimes() -> None:
    """Print each registered JVM runtime's format as one JSON object (runtime -> format)."""
    from .bench import BenchError, runtimes

    try:
        typer.echo(json.dumps(runtimes()))
    except (BenchError, jvm.JvmError) as exc:
        fail(str(exc))


@app.command(name="bench-case")
def bench_case(
    model_dir: Annotated[Path, typer.Argument(help="Model folder (export wrote it).")],
    runtime: Annotated[str, typer.Option(help="JVM runtime name, as bench-runtimes lists them.")],
    case: Annotated[str, typer.Option(help="Golden case whose inputs are tiled.")],
    batch: Annotated[int, typer.Option(min=1)],
    threads: Annotated[int, typer.Option(min=1)],
    warmup: Annotated[int, typer.Option(min=0)],
    warmup_s: Annotated[float, typer.Option(min=0)],
    repeats: Annotated[int, typer.Option(min=1)],
    callers: Annotated[Optional[list[int]], typer.Option(min=1, help="Threads sharing one opened runner (repeat).")] = None,
) -> None:
    """Time one runtime on one case and batch in a child JVM: one JSON line per caller count (or one with `error`)."""
    from .bench import BenchError, measure

    try:
        rows = measure(model_dir, runtime, case, batch, threads, warmup, warmup_s, repeats, tuple(callers or (1,)))
    except (BenchError, jvm.JvmError) as exc:
        fail(str(exc))
    for row in rows:
        typer.echo(json.dumps(row))
