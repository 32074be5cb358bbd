"""What a format is: how to export a spec into a folder and how to run that folder in Python."""

from __future__ import annotations

import contextlib
import importlib
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..contract.causes import Cause
from ..contract.parity import Tolerance
from ..spec import ModelSpec
from .guards import with_guard_remedy

if TYPE_CHECKING:
    import torch


# A runnable artifact: golden inputs by name in, outputs by name out.
Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
# Loads a format folder; threads, when given, is the runtime's intra-op thread count (None: its default).
Load = Callable[[Path, dict[str, Any], "int | None"], Predict]
# What an artifact declares it takes and gives: {"inputs"|"outputs": [(name, numpy dtype, dims)]}, each dim an
# int when fixed, or (min, max) when dynamic (None for an unbounded side).
Signature = dict[str, list[tuple[str, str, list[Any]]]]


@dataclass(frozen=True)
class ExportOptions:
    draft_export: bool = False
    tolerance: Tolerance | None = None  # --atol/--rtol: one fixed bound for every output, this run only
    timeout: float = 1800.0  # seconds one format's export may take before its process is killed
    force: bool = False  # export even when nothing the export depends on changed
    jobs: int = 0  # formats exported at once; 0: one per core, as memory allows (export.export_jobs)


# Exports a spec into a folder; returns the problems the exporter reported.
Export = Callable[[ModelSpec, Path, "ExportOptions"], "list[str] | None"]


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    main: str  # the file in the format folder a runtime opens; the manifest records it for every reader
    export: Export
    load: Load
    runtime: str  # the Python runtime `verify` runs it with
    runtime_package: str  # the distribution whose version names that runtime
    hint: str  # what to try first when its export fails and no cause in the error picks a better one (contract/causes.py)
    caveat: str  # what a team deploying it must know, as the benchmark report states it
    threads: str  # how load() sets the runtime's intra-op threads, as benchmarks state it
    signature: Callable[[Path], Signature] | None = None  # reads a folder's declared signature, where the format keeps one
    needs: Callable[[Path], dict[str, Any]] | None = None  # what a runtime must support, read from the exported files
    need_keys: tuple[str, ...] = ()  # the keys needs() may record: what the JVM runners' limits read (docs/manifest.md)
    packages: tuple[str, ...] = ("torch",)  # the libraries its exporter uses: a new version re-exports it
    host_bound: bool = False  # compiled for this machine: the C++ compiler and the CPU are part of its fingerprint
    long_export: bool = False  # a compile that takes minutes (AOTI, XNNPACK lowering): started first when in parallel
    # Whether one loaded predict may be called from several threads at once (as its runtime documents it);
    # where not, a multi-threaded Python service loads one per thread, and the bench's caller scaling does so.
    shared_calls: bool = True
    # What a runtime must be told when it opens main, for the answers verify checked: OpenVINO's CPU compile
    # properties, the environment variables AOTI's runtime reads. The manifest records them, so the Java
    # runners apply these values rather than a copy of them (the schema bounds which names a manifest may carry).
    settings: dict[str, str] = field(default_factory=dict)
    # Other ways to the same artifact, tried in order when `export` fails or its artifact fails the export's own
    # checks (signature, loading, the box's cases); the manifest records the path taken and why others failed.
    path: str = ""  # what `export` goes through, named where fallbacks exist
    fallbacks: tuple[tuple[str, Export], ...] = ()
    # The ExportOptions fields that change what this format writes (draft_export): each enters its fingerprint, its
    # manifest entry and its worker's options, and reproduce exports again with the recorded values.
    options: tuple[str, ...] = ()
    # What only this format's exporter says when it fails, and what to try: tried after the shared causes.
    causes: tuple[Cause, ...] = ()

    def chosen(self, options: ExportOptions) -> dict[str, Any]:
        """This format's own options as this export sets them."""
        return {name: getattr(options, name) for name in self.options}

    def runtime_version(self) -> str:
        return metadata.version(self.runtime_package)


def zip_names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as z:
        return z.namelist()


def zip_record(archive: Path, name: str, suffix: bool = False) -> str:
    """A text record of a torch zip archive under its one top folder, as torch's reader looks it up: `.data/NAME`
    first, then `NAME` (a large TorchScript file keeps its `version` under .data/); suffix: the exact name."""
    with zipfile.ZipFile(archive) as z:
        if suffix:
            return z.read(name).decode()
        tops = {n.split("/", 1)[0] for n in z.namelist() if "/" in n}
        for top in sorted(tops):
            for candidate in (f"{top}/.data/{name}", f"{top}/{name}"):
                if candidate in z.namelist():
                    return z.read(candidate).decode()
    raise ValueError(f"{archive.name} has no {name} record")


def torch_dynamic_shapes(spec: ModelSpec) -> tuple[dict[int, Any] | None, ...]:
    """torch.export dynamic_shapes, positional; one torch Dim object per dim name so inputs share it."""
    import torch

    dims: dict[str, torch.export.Dim] = {}
    shapes = []
    for input_name in spec.inputs:
        axes = {}
        for axis, dim in spec.dynamic.get(input_name, {}).items():
            axes[axis] = dims.setdefault(dim.name, torch.export.Dim(dim.name, min=dim.min, max=dim.max))
        shapes.append(axes or None)
    return tuple(shapes)


# What an export did beyond its plain path (a remedy it applied), for the format's manifest entry. One format
# exports per worker process, so a module-level list is that export's own.
REMEDIES: list[str] = []


def export_program(spec: ModelSpec) -> torch.export.ExportedProgram:
    """The strict-shape torch.export every graph-based format starts from (guards torch cannot prove: guards.py)."""
    import torch

    def trace(shapes: tuple[dict[int, Any] | None, ...]) -> torch.export.ExportedProgram:
        return torch.export.export(spec.module, spec.example_args(), dynamic_shapes=shapes)

    with recurrent_loops_kept():
        return with_guard_remedy(spec, trace, torch_dynamic_shapes(spec), REMEDIES)


def recurrent_loops_kept() -> contextlib.AbstractContextManager[None]:
    """torch.export's decomposition of nn.LSTM unrolls its loop over time and so fixes the sequence dim to the
    example's length ("Constraints violated (seq)"); the while_loop decomposition that torch.onnx's own capture
    uses keeps it dynamic. A private torch API: where it is gone, export goes on without it."""
    try:
        from torch.export._patches import register_lstm_while_loop_decomposition
    except ImportError:
        return contextlib.nullcontext()
    return register_lstm_while_loop_decomposition()


# Operator libraries a Python runtime loads for an artifact, by their ops' namespace: the module whose import registers
# them (torchvision's _C library registers torchvision::nms and roi_align). Only these: a manifest says what a model
# needs, never what code to run.
OPERATOR_LIBRARIES = {"torchvision": "torchvision"}


class MissingOperatorLibrary(RuntimeError):
    """The artifact calls operators of a library this process cannot load: it does not load, whatever its answers."""


def load_operator_libraries(libraries: dict[str, list[str]]) -> None:
    """Registers each operator library (needs' operator_libraries: {library: [op, ...]}) before a program that calls
    them is loaded, or says in one line which one cannot be."""
    for library, ops in libraries.items():
        named = f"operator library {library} ({', '.join(f'{library}::{op}' for op in ops)})"
        if library not in OPERATOR_LIBRARIES:
            raise MissingOperatorLibrary(f"does not load: needs {named}, which this verifier cannot load")
        try:
            importlib.import_module(OPERATOR_LIBRARIES[library])
        except ImportError as exc:
            raise MissingOperatorLibrary(f"does not load: needs {named}: {exc}; install the {library} built for this "
                                         "torch") from exc


TORCH_THREADS = "torch.set_num_threads (process-wide)"


def set_torch_threads(threads: int | None) -> None:
    """torch's intra-op pool is process-wide: eager, torch.jit, torch.export and AOTI kernels share it."""
    import torch

    if threads:
        torch.set_num_threads(threads)


def torch_predict(run: Callable[..., Any], manifest: dict[str, Any]) -> Predict:
    """Wrap a torch callable (positional tensors in, tensor or tuple out) as a Predict."""
    import torch

    input_names = [io["name"] for io in manifest["inputs"]]
    output_names = [io["name"] for io in manifest["outputs"]]

    def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.no_grad():
            result = run(*(torch.from_numpy(inputs[name]) for name in input_names))
        tensors = result if isinstance(result, (list, tuple)) else [result]
        return {name: tensor.detach().numpy() for name, tensor in zip(output_names, tensors, strict=True)}

    return predict


def signature_mismatches(declared: Signature, manifest: dict[str, Any]) -> list[str]:
    """Where an artifact's own signature disagrees with the manifest: names, dtypes, fixed and dynamic dims.

    A dim the manifest calls dynamic that the artifact fixes would be wrong metadata for every service that
    sizes buffers from the model; a dynamic input bound narrower than the box refuses sizes the box promises.
    """
    found = []
    for section in ("inputs", "outputs"):
        have = {name: (dtype, dims) for name, dtype, dims in declared[section]}
        for io in manifest[section]:
            if io["name"] not in have:
                found.append(f"{section[:-1]} {io['name']} is not in the artifact, which declares {sorted(have)}")
                continue
            dtype, dims = have[io["name"]]
            if dtype != io["dtype"]:
                found.append(f"{section[:-1]} {io['name']} is {dtype} in the artifact, {io['dtype']} in the manifest")
            if len(dims) != len(io["shape"]):
                found.append(f"{section[:-1]} {io['name']} has rank {len(dims)} in the artifact, {len(io['shape'])} in the manifest")
                continue
            for axis, (got, want) in enumerate(zip(dims, io["shape"])):
                if isinstance(want, str) and isinstance(got, int):
                    found.append(f"{section[:-1]} {io['name']} dim {axis} is fixed to {got} in the artifact, "
                                 f"where the manifest's {want} is dynamic")
                elif isinstance(want, str) and section == "inputs" and isinstance(got, tuple):
                    box = manifest["dims"][want]
                    low, high = got
                    if low is not None and low > box["min"] or high is not None and high < box["max"]:
                        found.append(f"input {io['name']} dim {axis} ({want}) accepts {low}..{high} in the artifact, "
                                     f"narrower than the declared {box['min']}..{box['max']}")
                elif isinstance(want, int) and isinstance(got, int) and got != want:
                    found.append(f"{section[:-1]} {io['name']} dim {axis} is {got} in the artifact, {want} in the manifest")
    return found
