"""Golden cases: inputs, eager fp32 outputs and the float64 reference outputs, saved as .npy."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import box
from .contract import parity
from .contract.causes import decisive_line
from .contract.manifest import GOLDEN_DIR, file_entries, input_specs, value_problem
from .contract.parity import Tolerance
from .spec import ModelSpec, SpecError, write_traceback

SEED = 1234


def golden_inputs(spec: ModelSpec) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """Labelled cases: the spec's own (or its example), then the box's corners and an interior point.

    Box cases are resized from the largest own case, so they inherit its structure (exporters/box.py).
    A model without dynamic dims gets one sampled case beside its example, so there are always two.
    """
    generator = torch.Generator().manual_seed(SEED)
    own = [("given", case) for case in spec.golden] or [("example", dict(spec.inputs))]
    corners = box.points(spec)
    if not corners:
        if len(own) > 1:
            return own
        return own + [("sampled", {name: _sample_like(t, list(t.shape), generator) for name, t in spec.inputs.items()})]
    return own + [(point.label, box.case_at(spec, _source(spec), point, generator)) for point in corners]


def _source(spec: ModelSpec) -> dict[str, torch.Tensor]:
    """The own case box cases are resized from: the largest."""
    own = spec.golden or [dict(spec.inputs)]
    return max(own, key=lambda case: sum(t.numel() for t in case.values()))


class CaseRefused(SpecError):
    """Eager PyTorch itself raised on a golden case: the message names the case and how it was made."""


def _eager_refused(spec: ModelSpec, label: str, inputs: dict[str, torch.Tensor], exc: BaseException) -> CaseRefused:
    sizes = ", ".join(f"{name}={size}" for name, size in _dim_sizes(spec, inputs).items())
    at = f"the golden case at {label}" + (f" ({sizes})" if sizes else "")
    why = f"{type(exc).__name__}: {decisive_line(exc)}; traceback in {write_traceback(exc)}"
    if label in ("given", "example") or spec.make_case is not None:
        made = "the spec's own" if label in ("given", "example") else "made by the spec's make_case"
        return CaseRefused(f"{spec.name}: running the model eagerly on {at}, {made}, raised {why}")
    source = _source(spec)
    resized = ", ".join(f"{name} {list(source[name].shape)} -> {list(tensor.shape)}"
                        for name, tensor in inputs.items() if tensor.shape != source[name].shape)
    return CaseRefused(f"{spec.name}: {at} was derived from the spec's own inputs by resizing each input along its "
                       f"dynamic axes on its own ({resized or 'values redrawn'}), and eager PyTorch refused it: {why}. "
                       "Inputs whose sizes or values are tied (offsets into another input, lengths) lose that tie this "
                       "way: give ModelSpec(make_case=...) to build the inputs at given dim sizes")


def _sample_like(example: torch.Tensor, shape: list[int], generator: torch.Generator) -> torch.Tensor:
    if example.is_floating_point():
        return torch.randn(shape, generator=generator, dtype=example.dtype)
    # Integer and bool inputs (ids, masks) stay within the values the example uses.
    low, high = int(example.min()), int(example.max())
    return torch.randint(low, high + 1, shape, generator=generator).to(example.dtype)


SPEC_VALUES = "declared in the spec"  # the "from" of a range the spec's values= gives


class EmbeddingWatch:
    """Forward pre-hooks on every nn.Embedding and nn.EmbeddingBag of a module while eager runs: which integer
    model input reaches one unchanged (the same tensor, or the same data and shape), so its valid values are
    the table's rows. Where several tables take an input, the smallest decides."""

    def __init__(self, module: nn.Module) -> None:
        self.current: dict[str, torch.Tensor] = {}  # the inputs of the run in progress
        self.found: dict[str, tuple[int, str]] = {}  # input -> (rows, what the table is)
        self._handles = [table.register_forward_pre_hook(functools.partial(self._saw, _table_label(name, table)),
                                                         with_kwargs=True)
                         for name, table in module.named_modules() if isinstance(table, (nn.Embedding, nn.EmbeddingBag))]

    def _saw(self, label: str, table: nn.Module, args: tuple, kwargs: dict) -> None:
        given = args[0] if args else kwargs.get("input")
        if not isinstance(given, torch.Tensor):
            return
        for name, tensor in self.current.items():
            if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
                continue
            same = given is tensor or (given.numel() > 0 and given.data_ptr() == tensor.data_ptr()
                                       and given.shape == tensor.shape and given.dtype == tensor.dtype)
            rows = int(table.num_embeddings)
            if same and (name not in self.found or rows < self.found[name][0]):
                self.found[name] = (rows, label)

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _table_label(name: str, table: nn.Module) -> str:
    kind = "nn.Embedding" if isinstance(table, nn.Embedding) else "nn.EmbeddingBag"
    return f"{kind} {name}, {table.num_embeddings} rows" if name else f"{kind}, {table.num_embeddings} rows"


def input_values(spec: ModelSpec, found: dict[str, tuple[int, str]]) -> dict[str, dict[str, Any]]:
    """Each integer input's valid values for the manifest: the spec's values= where it names the input, else
    the rows of the table it reaches unchanged (EmbeddingWatch)."""
    values = {name: {"min": 0, "max": rows - 1, "from": label} for name, (rows, label) in found.items()}
    values |= {name: {"min": int(low), "max": int(high), "from": SPEC_VALUES} for name, (low, high) in spec.values.items()}
    return {name: values[name] for name in spec.inputs if name in values}


def _check_values(spec: ModelSpec, labelled: list[tuple[str, dict[str, torch.Tensor]]],
                  values: dict[str, dict[str, Any]]) -> None:
    """Every golden case within the value ranges the manifest will promise (make_case may build any ids)."""
    specs = input_specs({"inputs": [{"name": name, "dtype": str(tensor.numpy().dtype), "shape": list(tensor.shape),
                                     **({"values": values[name]} if name in values else {})}
                                    for name, tensor in spec.inputs.items()]})
    for label, inputs in labelled:
        for declared in specs:
            problem = declared.values and value_problem(declared, inputs[declared.name].numpy())
            if problem:
                raise SpecError(f"{spec.name}: golden case at {label}: {problem} (fix the case, make_case or values=)")


def write_golden(spec: ModelSpec, model_dir: Path,
                 override: Tolerance | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    """Run eager fp32 and float64 on each case, save inputs, outputs and references as .npy.

    Returns the manifest's golden section, its parity section (the rule and its inputs), and the valid values
    of integer inputs (input_values), found while eager ran the cases.
    """
    labelled = golden_inputs(spec)
    inputs_per_case = [inputs for _, inputs in labelled]
    eager = []
    watch = EmbeddingWatch(spec.module)
    try:
        for label, inputs in labelled:
            watch.current = inputs
            try:
                eager.append(named_outputs(spec.module, spec.outputs, list(inputs.values())))
            except Exception as exc:  # the model's own forward: one line naming the case, traceback in a log
                raise _eager_refused(spec, label, inputs, exc) from exc
            _check_data_dims(spec, label, eager[-1])
            box.check_case_bytes(spec, label, [*inputs.values(), *map(torch.from_numpy, eager[-1].values())])
    finally:
        watch.close()  # the float64 run deep-copies the module: no hooks may come along
    values = input_values(spec, watch.found)
    _check_values(spec, labelled, values)
    reference, reason = float64_outputs(spec, inputs_per_case)
    if reference is not None:
        reason = _counts_differ(spec, [label for label, _ in labelled], eager, reference)
        reference = None if reason else reference
    cases, paths = [], []
    for index, (label, inputs) in enumerate(labelled):
        case: dict[str, Any] = {"name": f"case{index}", "at": label, "dims": _dim_sizes(spec, inputs)}
        roles = {"inputs": {k: v.numpy() for k, v in inputs.items()}, "outputs": eager[index]}
        if reference is not None:
            roles["reference"] = reference[index]
        for role, arrays in roles.items():
            case[role] = {}
            for name, array in arrays.items():
                path = model_dir / GOLDEN_DIR / case["name"] / role / f"{name}.npy"
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, array)
                case[role][name] = path.relative_to(model_dir).as_posix()
                paths.append(path)
        case["shapes"] = {name: list(a.shape) for name, a in {**roles["inputs"], **roles["outputs"]}.items()}
        cases.append(case)
    rules = parity.build_rules(spec.outputs, spec.tolerance_for, [c["name"] for c in cases], eager, reference, reason, override)
    golden = {"cases": cases, "files": file_entries(model_dir, paths)}
    return {**golden, "box": covered_box(golden)}, rules, values


def _check_data_dims(spec: ModelSpec, label: str, outputs: dict[str, np.ndarray]) -> None:
    """Each size the data decides within its declared bound: a service sizes its buffers from it."""
    for name, dims in spec.data_dims.items():
        for axis, dim in dims.items():
            size = outputs[name].shape[axis]
            if not dim.min <= size <= dim.max:
                raise SpecError(f"{spec.name}: golden case at {label}: output {name} has {size} along dim {axis} "
                                f"({dim.name}), outside its declared {dim.min}..{dim.max}: fix data_dims= or the model")


def _counts_differ(spec: ModelSpec, labels: list[str], eager: list[dict[str, np.ndarray]],
                   reference: list[dict[str, np.ndarray]]) -> str:
    """Why the float64 run cannot be the reference, or "": where thresholds and NMS keep another number of rows in
    float64 than in fp32 (a score at a threshold), its answers are other detections, not more exact ones."""
    for label, fp32, double in zip(labels, eager, reference, strict=True):
        for name, dims in spec.data_dims.items():
            for axis, dim in dims.items():
                if fp32[name].shape[axis] != double[name].shape[axis]:
                    return (f"the float64 run kept {double[name].shape[axis]} {dim.name} where eager fp32 kept "
                            f"{fp32[name].shape[axis]} (output {name}, golden case at {label}): thresholds decide "
                            "differently in float64, so eager fp32 is the reference")
    return ""


def _dim_sizes(spec: ModelSpec, inputs: dict[str, torch.Tensor]) -> dict[str, int]:
    return {dim.name: int(inputs[name].shape[axis]) for name, axes in spec.dynamic.items() for axis, dim in axes.items()}


def covered_box(golden: dict[str, Any]) -> dict[str, list[int]]:
    """Per dim name, the smallest and largest size the golden cases reach: what a pass proves."""
    sizes: dict[str, list[int]] = {}
    for case in golden["cases"]:
        for name, size in case.get("dims", {}).items():
            sizes.setdefault(name, []).append(size)
    return {name: [min(seen), max(seen)] for name, seen in sizes.items()}


def named_outputs(module: torch.nn.Module, names: list[str], args: list[torch.Tensor]) -> dict[str, np.ndarray]:
    """The module's outputs on args, by output name."""
    with torch.no_grad():
        result = module(*args)
    tensors = result if isinstance(result, (list, tuple)) else [result]
    return {name: t.detach().numpy() for name, t in zip(names, tensors, strict=True)}


def float64_outputs(spec: ModelSpec, cases: list[dict[str, torch.Tensor]]) -> tuple[list[dict[str, np.ndarray]] | None, str]:
    """The model's outputs in float64 for each case, or None and the reason it cannot run in double."""
    try:
        double = copy.deepcopy(spec.module).double()
        results = [
            named_outputs(double, spec.outputs, [t.double() if t.is_floating_point() else t for t in inputs.values()])
            for inputs in cases
        ]
    except Exception as exc:  # any op without a float64 kernel, or a model that insists on fp32
        return None, f"the model does not run in float64 ({type(exc).__name__}: {str(exc).strip()[:200]})"
    for name, array in results[0].items():
        if array.dtype.kind == "f" and array.dtype != np.float64:
            return None, f"output {name} stays {array.dtype} when the model runs in float64 (the model casts it)"
    return results, ""


def io_specs(spec: ModelSpec, golden: dict[str, Any], model_dir: Path,
             values: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Inputs (with their valid values, where known) and outputs with symbolic dims; an output dim is named after
    the input dim it follows, or the data dim the spec declares there (`dims` marks it "decided_by": "data")."""
    dim_sizes = {}
    for name, dims in spec.dynamic.items():
        for axis, dim in dims.items():
            dim_sizes[dim.name] = [case["shapes"][name][axis] for case in golden["cases"]]
    inputs = [
        {"name": name, "dtype": str(tensor.numpy().dtype), "shape": spec.symbolic_shape(name),
         **({"values": values[name]} if name in values else {})}
        for name, tensor in spec.inputs.items()
    ]
    outputs = []
    for name in spec.outputs:
        shapes = [case["shapes"][name] for case in golden["cases"]]
        symbolic = []
        data_dims = spec.data_dims.get(name, {})
        for axis, size in enumerate(shapes[0]):
            sizes = [shape[axis] for shape in shapes]
            if axis in data_dims:
                symbolic.append(data_dims[axis].name)
            elif len(set(sizes)) == 1:
                symbolic.append(size)
            else:
                symbolic.append(next((dim for dim, seen in dim_sizes.items() if seen == sizes), "?"))
        dtype = str(np.load(model_dir / golden["cases"][0]["outputs"][name], mmap_mode="r").dtype)
        outputs.append({"name": name, "dtype": dtype, "shape": symbolic})
    dims = {dim.name: {"min": dim.min, "max": dim.max} for dims in spec.dynamic.values() for dim in dims.values()}
    dims |= {dim.name: {"min": dim.min, "max": dim.max, "decided_by": "data"}
             for dims in spec.data_dims.values() for dim in dims.values()}
    return {"inputs": inputs, "outputs": outputs, "dims": dims}
