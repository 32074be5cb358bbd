"""Terminal output shared by both CLIs: one line per result, errors as one red line and an exit code."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Exit 2 for bad input (the default), 1 for a failed export or parity check."""
    console.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)


def show(name: str, ok: bool, detail: str, mark: str = "") -> None:
    label = "ok" if ok else (mark or "failed")
    console.print(f"  {name:<17} [{'green' if ok else 'red'}]{label.upper() if not ok else label:<8}[/]  {detail}")


def parity_line(result: dict) -> str:
    line = f"{result['runtime']:<34} err {result['max_abs_err']:.1e}  eager's own {result['eager_abs_err']:.1e}"
    worst = "" if result["passed"] or "error" in result else f"  {worst_part(result)}"
    return line + (f"  {result['error']}" if "error" in result else "") + worst + text_part(result.get("text"))


def worst_part(result: dict) -> str:
    """Where a verdict's answers part most: ratio, case with its box point and dims, output and element."""
    worst = result.get("worst")
    if not worst:
        return f"worst ratio {result['worst_ratio']:.3g} to the allowed error"
    at = f" ({worst['at']})" if worst.get("at") else ""
    return (f"worst ratio {worst['ratio']:.3g} to the allowed error at {worst['case']}{at}, output "
            f"{worst['output']}{worst['index']}")


def text_part(text: dict | None) -> str:
    """A verdict's strings-to-answers part (verification.text), as both the Python and the JVM lines end."""
    if not text:
        return ""
    ids = "DIFFER" if "differs at token" in text.get("error", "") else "exact"
    part = (f"; text {'pass' if text['passed'] else 'FAIL'}: {text['texts']} texts, token ids {ids}, answers worst ratio "
            f"{text['worst_ratio']:.2g}")
    concurrency = text.get("concurrency")
    if concurrency:
        part += f", {concurrency['callers']} callers {concurrency['calls']} calls {concurrency.get('mismatches', 0)} wrong"
    error = text.get("error") or (concurrency or {}).get("first_error")
    return part + (f" ({error})" if error else "")

