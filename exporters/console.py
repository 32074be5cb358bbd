"""The terminal both CLIs print to: one line per result, errors as one red line and an exit code, the gate's
lines. The contract returns verdicts and raises errors; this is where they are printed and the run exits."""

from __future__ import annotations

from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console

from .contract.gate import GateFailure, Verdict, check_deployable, decide

console = Console(stderr=True, highlight=False, soft_wrap=True)

# Both CLIs take it (exporters export/verify/gate, jvm_harness verify).
RequireOption = Annotated[
    Optional[list[str]],
    typer.Option("--require", help="Format that must pass for exit 0 (repeatable); the others only inform. "
                                   "Default: the spec's required=, else every format."),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Exit 2 for bad input (the default), 1 for a failed export or parity check."""
    console.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)


def show(name: str, ok: bool, detail: str, mark: str = "") -> None:
    label = "ok" if ok else (mark or "failed")
    console.print(f"  {name:<17} [{'green' if ok else 'red'}]{label.upper() if not ok else label:<8}[/]  {detail}")


def summarize(verdicts: list[Verdict], deploy: list[str] | None = None) -> None:
    """Print the gate's last lines; exit 1 when a format deploy names did not pass, or a required one failed."""
    try:
        check_deployable(verdicts, deploy or [])
    except GateFailure as exc:
        fail(str(exc), exc.code)
    decision = decide(verdicts)
    for line in decision.lines:
        console.print(line)
    if decision.failure:
        fail(str(decision.failure), decision.failure.code)
    console.print("gate: [green]passed[/]: every required format exported and verified"
                  + (" (informative failures above)" if any(v.failure for v in verdicts) else ""))
