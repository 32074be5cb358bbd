"""The model spec: what every exporter needs to know about a model, and nothing format-specific.

A user model is any callable `module:function` returning a ModelSpec, for example:

    def build() -> ModelSpec:
        return ModelSpec(
            module=MyNet(),
            inputs={"x": torch.randn(2, 10)},
            outputs=["y"],
            dynamic={"x": {0: Dim("batch", 1, 64)}},
        )

An integer input that indexes a table (token ids into an nn.Embedding) gets its valid values recorded in the
manifest, so a service's check refuses an id the table lacks: found at export when the input reaches an
nn.Embedding or nn.EmbeddingBag unchanged, or declared here, which wins: `values={"input_ids": (0, 8191)}`.
"""

from __future__ import annotations

import hashlib
import importlib
import tempfile
import traceback
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable


from .contract.parity import Tolerance
from .text import TextSpec

if TYPE_CHECKING:
    import torch


class SpecError(ValueError):
    """A model spec that cannot be loaded or is inconsistent."""


@dataclass(frozen=True)
class Dim:
    """A dynamic dimension with inclusive bounds (ExecuTorch memory planning needs a max)."""

    name: str
    min: int = 1
    max: int = 64


@dataclass
class ModelSpec:
    module: torch.nn.Module
    inputs: dict[str, torch.Tensor]
    outputs: list[str]
    dynamic: dict[str, dict[int, Dim]] = field(default_factory=dict)
    # Output dims whose size the data decides, by output name and axis, with the model's bound (a detector's
    # detections per image: {"boxes": {0: Dim("detections", 0, 100)}}); every golden case must stay within it.
    data_dims: dict[str, dict[int, Dim]] = field(default_factory=dict)
    # Valid values of integer inputs, inclusive: {"input_ids": (0, 8191)}. Inputs not named here get the range of
    # the nn.Embedding/nn.EmbeddingBag they reach unchanged, found at export (exporters/golden.py).
    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    golden: list[dict[str, torch.Tensor]] = field(default_factory=list)
    # None keeps the default rule (exporters/contract/parity.py); one Tolerance for every output, or per output name.
    tolerance: Tolerance | dict[str, Tolerance] | None = None
    # Builds the inputs at given dim sizes ({"batch": 16, ...}) where resizing a real case cannot keep
    # their structure (offsets into another input); default: golden cases derive from the spec's own.
    make_case: Callable[[dict[str, int]], dict[str, torch.Tensor]] | None = None
    # The most one golden case (inputs and outputs) may hold; the box's max must fit (exporters/box.py).
    case_budget_mb: float = 1024.0
    # The CI gate: formats to export (None: every format) and those that must pass (None: all of them);
    # a failure of any other format is reported but keeps the exit code 0. The command line overrides both.
    formats: list[str] | None = None
    required: list[str] | None = None
    # The model's text ends (tokenizer in front, postprocess behind), proven with it: exporters/text/spec.py.
    text: TextSpec | None = None
    name: str = ""
    source: str = ""

    def validate(self) -> None:
        import torch
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.name):
            raise SpecError(f"model name '{self.name}' must be letters, digits, '_', '.', '-' (it names a folder)")
        if not isinstance(self.module, torch.nn.Module):
            raise SpecError(f"{self.name}: module is {type(self.module).__name__}, expected torch.nn.Module")
        unknown = set(self.dynamic) - set(self.inputs)
        if unknown:
            raise SpecError(f"{self.name}: dynamic dims name unknown inputs {sorted(unknown)}")
        if not self.case_budget_mb > 0:
            raise SpecError(f"{self.name}: case_budget_mb is {self.case_budget_mb}; give a positive number of MiB")
        for case in self.golden:
            if list(case) != list(self.inputs):
                raise SpecError(f"{self.name}: golden case inputs {list(case)} differ from {list(self.inputs)}")
        if isinstance(self.tolerance, dict):
            unknown = set(self.tolerance) - set(self.outputs)
            if unknown:
                raise SpecError(f"{self.name}: tolerance names unknown outputs {sorted(unknown)}")
        self._validate_gate()
        self._validate_values()
        self._validate_data_dims()
        if self.text is not None:
            self.text.validate(self)
        for input_name, dims in self.dynamic.items():
            for axis, dim in dims.items():
                size = self.inputs[input_name].shape[axis]
                if size < 2:
                    raise SpecError(f"{self.name}: example {input_name} dim {axis} is {size}; torch.export "
                                    f"specializes sizes 0 and 1, so give an example of at least 2")
                if not dim.min <= size <= dim.max:
                    raise SpecError(f"{self.name}: example {input_name} dim {axis}={size} outside {dim}")

    def _validate_gate(self) -> None:
        from .formats import FORMATS  # the registry imports this module

        for field_name in ("formats", "required"):
            unknown = [name for name in getattr(self, field_name) or [] if name not in FORMATS]
            if unknown:
                raise SpecError(f"{self.name}: {field_name}= names unknown format {', '.join(unknown)}; "
                                f"choose from {', '.join(FORMATS)}")
        outside = sorted(set(self.required or []) - set(self.formats or FORMATS))
        if outside:
            raise SpecError(f"{self.name}: required= names {', '.join(outside)}, which formats= does not export: "
                            "add it to formats= or drop it from required=")

    def _validate_values(self) -> None:
        import torch

        unknown = sorted(set(self.values) - set(self.inputs))
        if unknown:
            raise SpecError(f"{self.name}: values= names unknown inputs {unknown}; the inputs are {list(self.inputs)}")
        for input_name, bounds in self.values.items():
            example = self.inputs[input_name]
            if example.is_floating_point() or example.is_complex() or example.dtype == torch.bool:
                raise SpecError(f"{self.name}: values= gives {input_name} a range, but it is {example.dtype}: "
                                "only integer inputs take one")
            if (not isinstance(bounds, (tuple, list)) or len(bounds) != 2
                    or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) or bounds[0] > bounds[1]):
                raise SpecError(f"{self.name}: values[{input_name!r}] is {bounds!r}; give (min, max), integers with "
                                "min <= max (both inclusive)")
            if example.numel() and not bounds[0] <= int(example.min()) <= int(example.max()) <= bounds[1]:
                raise SpecError(f"{self.name}: example {input_name} holds values {int(example.min())}..{int(example.max())}, "
                                f"outside its values= range {bounds[0]}..{bounds[1]}: fix the example or the range")

    def _validate_data_dims(self) -> None:
        unknown = sorted(set(self.data_dims) - set(self.outputs))
        if unknown:
            raise SpecError(f"{self.name}: data_dims= names unknown outputs {unknown}; the outputs are {self.outputs}")
        input_dims = {dim.name for dims in self.dynamic.values() for dim in dims.values()}
        seen: dict[str, Dim] = {}
        for output, dims in self.data_dims.items():
            for axis, dim in dims.items():
                if seen.setdefault(dim.name, dim) != dim:
                    raise SpecError(f"{self.name}: data_dims names {dim.name!r} as {seen[dim.name]} and as {dim}: one "
                                    "name, one bound (the manifest's dims holds one)")
                if dim.name in input_dims:
                    raise SpecError(f"{self.name}: data_dims[{output!r}] names {dim.name!r}, an input dim: a size the "
                                    "data decides needs a name of its own")
                if not 0 <= dim.min <= dim.max:
                    raise SpecError(f"{self.name}: data_dims[{output!r}][{axis}] is {dim}; give 0 <= min <= max")

    def tolerance_for(self, output: str) -> Tolerance | None:
        if isinstance(self.tolerance, dict):
            return self.tolerance.get(output)
        return self.tolerance

    def symbolic_shape(self, input_name: str) -> list[int | str]:
        dims = self.dynamic.get(input_name, {})
        return [dims[i].name if i in dims else int(s) for i, s in enumerate(self.inputs[input_name].shape)]

    def example_args(self) -> tuple[torch.Tensor, ...]:
        return tuple(self.inputs.values())


def weights_digest(module: torch.nn.Module) -> str:
    """sha256 over every parameter and buffer: the same model in another process must give the same."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes() if tensor.dtype != torch.bfloat16
                      else tensor.detach().float().numpy().tobytes())
    return digest.hexdigest()


def load_user_spec(target: str) -> ModelSpec:
    """Import `package.module:callable` and call it for a ModelSpec."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise SpecError(f"'{target}' is neither a zoo model nor a `module:callable` path")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"cannot import {module_name}: {exc}; is it on PYTHONPATH, with its requirements installed?") from exc
    except (Exception, SystemExit) as exc:
        raise SpecError(f"importing {module_name} raised {type(exc).__name__}: {str(exc).strip()[:200]}; "
                        f"traceback in {write_traceback(exc)}") from exc
    build = getattr(module, attr, None)
    if not callable(build):
        raise SpecError(f"{module_name} has no callable '{attr}'")
    try:
        spec = build()
    except (Exception, SystemExit) as exc:  # the user's code: one line here, the traceback in a log
        raise SpecError(f"{target} raised {type(exc).__name__}: {str(exc).strip()[:200]}; "
                        f"traceback in {write_traceback(exc)}") from exc
    if not isinstance(spec, ModelSpec):
        raise SpecError(f"{target} returned {type(spec).__name__}, expected exporters.ModelSpec")
    spec.name = spec.name or module_name.rsplit(".", 1)[-1]
    spec.source = target
    return spec


def write_traceback(exc: BaseException) -> str:
    """Keep a user code traceback in a temp file (no model folder exists yet) and return its path."""
    handle, path = tempfile.mkstemp(prefix="exporters-", suffix=".log")
    with open(handle, "w") as log:
        log.write("".join(traceback.format_exception(exc)))
    return path


def run_formats(spec: ModelSpec, formats: list[str] | None, require: list[str] | None) -> tuple[list[str], list[str]]:
    """This run's formats and the required ones among them: the command line over the spec over every format."""
    from .formats import FORMATS  # the registry imports this module

    chosen = formats or spec.formats or list(FORMATS)
    if not require:
        return chosen, [name for name in chosen if spec.required is None or name in spec.required]
    outside = [name for name in require if name not in chosen]
    if outside:
        raise SpecError(f"{spec.name}: --require names {', '.join(outside)}, which this run does not export "
                        f"({', '.join(chosen)}): add it to --format (FORMATS) or drop it from --require (REQUIRE)")
    return chosen, [name for name in chosen if name in require]
