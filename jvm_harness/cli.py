"""`python -m jvm_harness`: run exported artifacts inside a JVM through the Java runtime bindings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from exporters.console import console, fail, show
from exporters.contract import ContractError
from exporters.gate import RequireOption

from . import jvm

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)


def jvm_line(result: dict[str, Any]) -> str:
    """The JVM result in one line: worst error, eager's own error, worst ratio to the allowance, timings."""
    line = (f"{result['runtime']:<20} max abs {result['max_abs_err']:.1e}  eager {result['eager_abs_err']:.1e}"
            f"  worst ratio {result['worst_ratio']:.2g}  load {result['load_ms']:.0f} ms, first run {result['first_run_ms']:.1f} ms")
    line += f"  ({result['error']})" if "error" in result else ""
    c = result.get("concurrency")
    if c:
        line += (f"; {c['callers']} callers: {c['calls']} calls, {c['failures']} failed, {c['mismatches']} mismatched"
                 f" ({c['wall_ms']:.0f} ms)" + (f" ({c['first_error']})" if "first_error" in c else ""))
    return line


@app.command()
def verify(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
    engine: Annotated[Optional[list[str]], typer.Option(help="Only this engine (repeatable; default: every engine built).")] = None,
    require: RequireOption = None,
    callers: Annotated[int, typer.Option(min=1, help="Threads sharing one opened runner in the concurrency check.")] = 4,
) -> None:
    """Run the Java check (integrity, golden cases, parity) with every JVM engine; record results in each manifest."""
    from exporters.gate import judge, mark_required, summarize

    from .driver import EngineError, verify_models

    def step(folder: Path, fmt: str, result: dict[str, Any]) -> None:
        show(f"{folder.name}/{fmt}", result["passed"], jvm_line(result))

    console.print(f"[bold]{', '.join(map(str, model_dir))}[/] (JVM engines: {', '.join(engine or jvm.engines()) or 'none built'})")
    try:
        for folder in model_dir if require else []:
            mark_required(folder, None, require)
        checked = verify_models(model_dir, step, engine, callers)
        verdicts = [verdict for folder in model_dir for verdict in judge(folder, None, require)]
    except (ContractError, jvm.JvmError) as exc:
        fail(str(exc))
    except EngineError as exc:
        fail(str(exc), code=exc.code)
    if not checked:
        fail("no exported format has a JVM runner on this build: export one that `SelfCheck --list-runners` names first")
    summarize(verdicts)


@app.command()
def classpath(
    engine: Annotated[str | None, typer.Option(help="Only this engine's jars (default: every engine).")] = None,
) -> None:
    """Print the harness classpath (for `java -cp ... org.exportpipeline.harness.SelfCheck`)."""
    try:
        typer.echo(":".join(jvm.classpath(engine)))
    except jvm.JvmError as exc:
        fail(str(exc))
