"""Guards torch.export could not prove over a declared range, checked at every size of that range.

torch.export fails a dim declared dynamic when its solver cannot prove a guard the trace produced, even one
that holds for every size (`min(16 + 16*past, 32 + 32*past) == 16 + 16*past` for past >= 0). Each guard is
evaluated here at every size of the declared range: where all hold, the export is retried with `Dim.AUTO`
bounded by the same range (torch then keeps the dim symbolic without demanding a proof) and the manifest
records the remedy; where one fails, the error names the guard and the first size it fails at.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from ..spec import Dim, ModelSpec

T = TypeVar("T")

GUARD = re.compile(r"Not all values of (\w+) = (\S+) in the specified range .*? satisfy the generated guard (.+?)\.?$",
                   re.M)
# sympy's printer names; anything else in a guard leaves it unchecked.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "Min": min, "Max": max, "Abs": abs, "abs": abs,
    "Mod": lambda a, b: a % b, "FloorDiv": lambda a, b: a // b, "CeilToInt": math.ceil, "FloorToInt": math.floor,
    "Eq": lambda a, b: a == b, "Ne": lambda a, b: a != b,
}
SAFE = re.compile(r"^[\w\s+\-*/%()<>=!,]*$")
MOST_SIZES = 1 << 16  # a range wider than this is checked at its ends and evenly spaced sizes


class GuardFails(RuntimeError):
    """A guard torch generated fails inside the declared range: the model specializes that dim there."""


@dataclass(frozen=True)
class Guard:
    dim: Dim  # the declared dim it constrains
    expression: str  # with the dim's name in place of torch's source expression
    fails_at: int | None  # the first size of the declared range where it is false
    checked: bool  # False: the expression could not be evaluated here


def unproven_guards(error: BaseException, spec: ModelSpec) -> list[Guard]:
    """The guards named in a torch.export constraint violation, each checked over its dim's declared range."""
    from ..box import dims  # box imports torch, which a warm run of the registry never loads

    declared = dims(spec)
    return [_check(declared[name], expression.replace(source, name))
            for name, source, expression in GUARD.findall(str(error)) if name in declared]


def _check(dim: Dim, expression: str) -> Guard:
    if not SAFE.match(expression):
        return Guard(dim, expression, None, False)
    try:
        code = compile(expression, "<guard>", "eval")
        if set(code.co_names) - set(FUNCTIONS) - {dim.name}:
            return Guard(dim, expression, None, False)
        for size in _sizes(dim):
            if not eval(code, {"__builtins__": {}}, {**FUNCTIONS, dim.name: size}):  # names and characters checked above
                return Guard(dim, expression, size, True)
    except (SyntaxError, ArithmeticError, TypeError, ValueError):
        return Guard(dim, expression, None, False)
    return Guard(dim, expression, None, True)


def _sizes(dim: Dim) -> range | list[int]:
    if dim.max - dim.min < MOST_SIZES:
        return range(dim.min, dim.max + 1)
    step = (dim.max - dim.min) / MOST_SIZES
    return sorted({dim.min, dim.max, *(dim.min + round(i * step) for i in range(MOST_SIZES))})


def auto_shapes(spec: ModelSpec) -> tuple[dict[int, Any] | None, ...]:
    """dynamic_shapes with Dim.AUTO bounded by each declared dim's range."""
    import torch

    return tuple({axis: torch.export.Dim.AUTO(min=dim.min, max=dim.max)
                  for axis, dim in spec.dynamic.get(name, {}).items()} or None for name in spec.inputs)


def with_guard_remedy(spec: ModelSpec, trace: Callable[[tuple[dict[int, Any] | None, ...]], T],
                      declared: tuple[dict[int, Any] | None, ...], remedies: list[str]) -> T:
    """trace(declared); where torch could not prove guards that hold at every declared size, trace(auto_shapes)
    and say so in remedies. A guard that fails at some size is a GuardFails naming it and that size."""
    try:
        return trace(declared)
    except Exception as exc:
        guards = unproven_guards(exc, spec)
        if not guards:
            raise
        failing = next((guard for guard in guards if guard.fails_at is not None), None)
        if failing:
            dim = failing.dim
            raise GuardFails(f"the guard {failing.expression} that torch.export generated fails at {dim.name}="
                             f"{failing.fails_at}, inside the declared {dim.name} {dim.min}..{dim.max}: the model "
                             f"specializes {dim.name} there ({len(guards)} guard(s) in all)") from exc
        unchecked = [guard for guard in guards if not guard.checked]
        program = trace(auto_shapes(spec))
        remedies.append(f"torch.export could not prove {len(guards)} guard(s) on {', '.join(sorted({g.dim.name for g in guards}))}"
                        + (f" ({len(unchecked)} not evaluable here)" if unchecked else
                           " that hold at every declared size (each checked)")
                        + f", first {guards[0].expression}: exported with Dim.AUTO over the declared range; the golden "
                          "cases decide")
        return program
