"""`python -m jvm_harness`: run exported artifacts inside a JVM through the Java runtime bindings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from exporters.console import console, fail, parity_line, show
from exporters.contract import ContractError

from . import jvm

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)


@app.command()
def verify(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
) -> None:
    """Feed every golden case to each JVM runner (ONNX Runtime Java, DJL) and compare with the golden outputs."""
    from .driver import verify_model

    failures: list[str] = []
    checked = 0
    for folder in model_dir:
        console.print(f"[bold]{folder}[/] (JVM runtimes)")

        def step(name: str, result: dict[str, Any]) -> None:
            nonlocal checked
            checked += 1
            timing = f"  load {result['load_ms']:.0f} ms, first run {result['first_run_ms']:.1f} ms"
            show(name, result["passed"], parity_line(result) + timing)
            if not result["passed"]:
                failures.append(f"{folder.name}/{name}")

        try:
            verify_model(folder, step)
        except (ContractError, jvm.JvmError) as exc:
            fail(str(exc))
    if not checked:
        fail("no exported format has a JVM runner (onnx, torchscript): export one first")
    if failures:
        fail(f"{', '.join(failures)} differ from the golden outputs inside the JVM", code=1)


@app.command()
def classpath() -> None:
    """Print the harness classpath (for `java -cp ... org.exportpipeline.harness.SelfCheck`)."""
    try:
        typer.echo(":".join(jvm.classpath()))
    except jvm.JvmError as exc:
        fail(str(exc))
