"""Golden cases: reference inputs and the eager model's outputs, saved as .npy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .contract import GOLDEN_DIR, file_entries
from .spec import ModelSpec

SEED = 1234


def golden_inputs(spec: ModelSpec) -> list[dict[str, torch.Tensor]]:
    """The spec's own cases, or two generated ones: every dynamic dim at its min, then at example+1."""
    if spec.golden:
        return spec.golden
    generator = torch.Generator().manual_seed(SEED)
    sizes = {dim.name: (dim.min, min(dim.max, spec.inputs[name].shape[axis] + 1))
             for name, dims in spec.dynamic.items() for axis, dim in dims.items()}
    cases = []
    for pick in (0, 1):
        case = {}
        for name, example in spec.inputs.items():
            dims = spec.dynamic.get(name, {})
            shape = [sizes[dims[i].name][pick] if i in dims else s for i, s in enumerate(example.shape)]
            case[name] = _sample_like(example, shape, generator)
        cases.append(case)
    return cases


def _sample_like(example: torch.Tensor, shape: list[int], generator: torch.Generator) -> torch.Tensor:
    if example.is_floating_point():
        return torch.randn(shape, generator=generator, dtype=example.dtype)
    # Integer and bool inputs (ids, masks) stay within the values the example uses.
    low, high = int(example.min()), int(example.max())
    return torch.randint(low, high + 1, shape, generator=generator).to(example.dtype)


def write_golden(spec: ModelSpec, model_dir: Path) -> dict[str, Any]:
    """Run eager on each case, save inputs and outputs, and return the manifest's golden section."""
    cases, paths = [], []
    for index, inputs in enumerate(golden_inputs(spec)):
        with torch.no_grad():
            result = spec.module(*inputs.values())
        outputs = dict(zip(spec.outputs, result if isinstance(result, (list, tuple)) else [result], strict=True))
        case = {"name": f"case{index}", "inputs": {}, "outputs": {}}
        for role, tensors in (("inputs", inputs), ("outputs", outputs)):
            for name, tensor in tensors.items():
                path = model_dir / GOLDEN_DIR / case["name"] / role / f"{name}.npy"
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, tensor.detach().numpy())
                case[role][name] = path.relative_to(model_dir).as_posix()
                paths.append(path)
        case["shapes"] = {name: list(t.shape) for name, t in {**inputs, **outputs}.items()}
        cases.append(case)
    return {"cases": cases, "files": file_entries(model_dir, paths)}


def io_specs(spec: ModelSpec, golden: dict[str, Any], model_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Inputs and outputs with symbolic dims; an output dim is named after the input dim it follows."""
    dim_sizes = {}
    for name, dims in spec.dynamic.items():
        for axis, dim in dims.items():
            dim_sizes[dim.name] = [case["shapes"][name][axis] for case in golden["cases"]]
    inputs = [
        {"name": name, "dtype": str(tensor.numpy().dtype), "shape": spec.symbolic_shape(name)}
        for name, tensor in spec.inputs.items()
    ]
    outputs = []
    for name in spec.outputs:
        shapes = [case["shapes"][name] for case in golden["cases"]]
        symbolic = []
        for axis, size in enumerate(shapes[0]):
            sizes = [shape[axis] for shape in shapes]
            if len(set(sizes)) == 1:
                symbolic.append(size)
            else:
                symbolic.append(next((dim for dim, seen in dim_sizes.items() if seen == sizes), "?"))
        dtype = str(np.load(model_dir / golden["cases"][0]["outputs"][name], mmap_mode="r").dtype)
        outputs.append({"name": name, "dtype": dtype, "shape": symbolic})
    dims = {dim.name: {"min": dim.min, "max": dim.max} for dims in spec.dynamic.values() for dim in dims.values()}
    return {"inputs": inputs, "outputs": outputs, "dims": dims}
