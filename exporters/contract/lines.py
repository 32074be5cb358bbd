"""The one-line results both CLIs print (exporters/console.py prints them): a verdict's parity, where its answers
part most, and its text part."""

from __future__ import annotations


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

