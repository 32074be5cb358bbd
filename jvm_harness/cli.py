"""`python -m jvm_harness`: run exported artifacts inside a JVM through the Java runtime bindings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from exporters.console import console, fail, parity_line, show
from exporters.contract import ContractError, read_manifest

from . import jvm

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)

# Exit code of an engine's process that found no exported format of its own: not an error by itself.
NOTHING_CHECKED = 3


@app.command()
def verify(
    model_dir: Annotated[list[Path], typer.Argument(help="Model artifact folder(s), e.g. artifacts/mlp.")],
    engine: Annotated[
        Optional[str], typer.Option(help="Run only this engine's runners, in this process (default: each engine in a child).")
    ] = None,
) -> None:
    """Feed every golden case to each JVM runner (ONNX Runtime, DJL, libtorch 2.13, OpenVINO, ExecuTorch) and compare."""
    if engine is None:
        _verify_each_engine(model_dir)
    else:
        _verify_engine(model_dir, engine)


def _verify_each_engine(model_dirs: list[Path]) -> None:
    """One child process (one JVM) per engine: two libtorch builds cannot share a process."""
    from .driver import engines

    try:
        names = engines()
    except jvm.JvmError as exc:
        fail(str(exc))
    codes = [
        subprocess.run([sys.executable, "-m", "jvm_harness", "verify", "--engine", name, *map(str, model_dirs)]).returncode
        for name in names
    ]
    if 2 in codes:
        raise typer.Exit(2)  # the child said what
    crashed = [name for name, code in zip(names, codes, strict=True) if code not in (0, 1, NOTHING_CHECKED)]
    if crashed:
        fail(f"the JVM of {', '.join(crashed)} exited abnormally (a native crash?): run with --engine to see it", code=1)
    if all(code == NOTHING_CHECKED for code in codes):
        fail("no exported format has a JVM runner (onnx, torchscript, aoti, openvino, executorch): export one first")
    failures = [
        f"{folder.name}/{fmt} ({key.removeprefix('jvm/')})"
        for folder in model_dirs
        for fmt, entry in read_manifest(folder)["formats"].items()
        for key, result in entry.get("verification", {}).items()
        if key.startswith("jvm/") and not result["passed"]
    ]
    if failures or 1 in codes:
        fail(f"{', '.join(failures)} differ from the golden outputs inside the JVM", code=1)


def _verify_engine(model_dirs: list[Path], engine: str) -> None:
    from .driver import verify_model

    checked = 0
    failed = False
    for folder in model_dirs:
        console.print(f"[bold]{folder}[/] (JVM: {engine})")

        def step(name: str, result: dict[str, Any]) -> None:
            nonlocal checked, failed
            checked += 1
            timing = f"  load {result['load_ms']:.0f} ms, first run {result['first_run_ms']:.1f} ms"
            show(name, result["passed"], parity_line(result) + timing)
            failed |= not result["passed"]

        try:
            verify_model(folder, engine, step)
        except (ContractError, jvm.JvmError) as exc:
            fail(str(exc))
    if failed:
        raise typer.Exit(1)
    if not checked:
        raise typer.Exit(NOTHING_CHECKED)


@app.command()
def classpath() -> None:
    """Print the harness classpath (for `java -cp ... org.exportpipeline.harness.SelfCheck`)."""
    try:
        typer.echo(":".join(jvm.classpath()))
    except jvm.JvmError as exc:
        fail(str(exc))
