"""The declared shape box: the points a pass must cover, and golden inputs built at them.

A manifest's dims are a contract (a service sends any size inside them), so the golden set reaches
each dynamic dim's min and max, dims that share a name moving together, plus one interior size that
is not a power of two. Inputs at those points are derived from a real case (the spec's own, or its
example) so integer inputs keep their structure: ids stay in range, masks stay 0/1 with padding at
the end. Where that cannot hold (offsets that index another input), the spec's `make_case` builds them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .spec import Dim, ModelSpec, SpecError

MIB = 1 << 20


@dataclass(frozen=True)
class Point:
    """A named point of the box: every dim name with its size there."""

    label: str  # "min", "max", "seq=max" (that dim at its max, the others at their min), "interior"
    sizes: dict[str, int]


def dims(spec: ModelSpec) -> dict[str, Dim]:
    """The spec's dynamic dims by name, in the order the inputs declare them."""
    found: dict[str, Dim] = {}
    for axes in spec.dynamic.values():
        for dim in axes.values():
            found.setdefault(dim.name, dim)
    return found


def points(spec: ModelSpec) -> list[Point]:
    """All dims at min, all at max, each alone at its max (all four corners for two dims), one interior."""
    box = dims(spec)
    if not box:
        return []
    low = {name: dim.min for name, dim in box.items()}
    found = [Point("min", low), Point("max", {name: dim.max for name, dim in box.items()})]
    if len(box) > 1:
        found += [Point(f"{name}=max", {**low, name: dim.max}) for name, dim in box.items()]
    inside = {name: _interior(dim) for name, dim in box.items()}
    if any(size is not None for size in inside.values()):
        found.append(Point("interior", {name: low[name] if size is None else size for name, size in inside.items()}))
    unique: dict[tuple[int, ...], Point] = {}
    for point in found:
        unique.setdefault(tuple(point.sizes.values()), point)
    return list(unique.values())


def _interior(dim: Dim) -> int | None:
    """A size strictly inside the bounds, nearest the middle, preferring one that is not a power of two."""
    inside = range(dim.min + 1, dim.max)
    if not inside:
        return None
    middle = (dim.min + dim.max) / 2
    return min(inside, key=lambda size: (size & (size - 1) == 0, abs(size - middle)))


def shape_at(spec: ModelSpec, input_name: str, sizes: dict[str, int]) -> list[int]:
    axes = spec.dynamic.get(input_name, {})
    return [sizes[axes[axis].name] if axis in axes else int(size)
            for axis, size in enumerate(spec.inputs[input_name].shape)]


def check_budget(spec: ModelSpec) -> None:
    """Refuse, before anything is written, a box whose largest case would not fit the stated budget."""
    largest = {name: dim.max for name, dim in dims(spec).items()}
    need = sum(math.prod(shape_at(spec, name, largest)) * example.element_size() for name, example in spec.inputs.items())
    if need > spec.case_budget_mb * MIB:
        at = ", ".join(f"{name}={size}" for name, size in largest.items())
        raise SpecError(f"{spec.name}: the golden case at the box's max ({at}) needs {need / MIB:.0f} MiB of inputs, "
                        f"over the {spec.case_budget_mb:g} MiB case budget: lower the max of "
                        f"{' or '.join(dims(spec))}, or raise the budget (ModelSpec(case_budget_mb=...) or "
                        "--case-budget-mb)")


def check_case_bytes(spec: ModelSpec, label: str, tensors: list[torch.Tensor]) -> None:
    """Outputs are known only once the model ran: the same budget holds for a case's inputs and outputs."""
    need = sum(t.numel() * t.element_size() for t in tensors)
    if need > spec.case_budget_mb * MIB:
        raise SpecError(f"{spec.name}: the golden case at {label} holds {need / MIB:.0f} MiB of inputs and outputs, "
                        f"over the {spec.case_budget_mb:g} MiB case budget: lower the max of "
                        f"{' or '.join(dims(spec)) or 'its dims'}, or raise the budget (ModelSpec(case_budget_mb=...) "
                        "or --case-budget-mb)")


def case_at(spec: ModelSpec, source: dict[str, torch.Tensor], point: Point,
            generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Inputs at a point: the spec's make_case, or the source case resized along each dynamic axis."""
    if spec.make_case is not None:
        case = spec.make_case(dict(point.sizes))
        if not isinstance(case, dict) or list(case) != list(spec.inputs):
            raise SpecError(f"{spec.name}: make_case({point.sizes}) must return a dict of inputs {list(spec.inputs)}")
        for name, tensor in case.items():
            if list(tensor.shape) != shape_at(spec, name, point.sizes) or tensor.dtype != spec.inputs[name].dtype:
                raise SpecError(f"{spec.name}: make_case({point.sizes}) gave {name} {tensor.dtype} {list(tensor.shape)}, "
                                f"expected {spec.inputs[name].dtype} {shape_at(spec, name, point.sizes)}")
        return case
    resized = {}
    for name, tensor in source.items():
        for axis, dim in spec.dynamic.get(name, {}).items():
            tensor = _resize(tensor, axis, point.sizes[dim.name], generator)
        resized[name] = tensor
    return resized


def _resize(tensor: torch.Tensor, axis: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Truncate, or grow: rows repeat cyclically along axis 0 (the batch), other axes repeat their last
    position (padding stays at the end). Grown float positions are then redrawn from the source's own
    values, so repeated rows differ and a runtime that mixes rows up cannot hide behind copies."""
    have = tensor.shape[axis]
    if size <= have:
        return tensor.narrow(axis, 0, size).clone()
    index = torch.arange(size) % have if axis == 0 else torch.arange(size).clamp(max=have - 1)
    grown = tensor.index_select(axis, index)
    if tensor.is_floating_point():
        new = grown.narrow(axis, have, size - have)
        values = tensor.flatten()
        new.copy_(values[torch.randint(0, values.numel(), new.shape, generator=generator)])
    return grown
