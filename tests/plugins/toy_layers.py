"""A toy format, as a team would add one: a stack of dense layers written as .npy files and a layer list.

It is what tests/test_plugins.py drops into a copy of exporters/formats/ with one line in the registry, to prove
that a format is one module: export, verify, the report and the Dockerfile stages take it from FORMATS alone.
Its Python runtime is numpy; its JVM runtime is tests/plugins/toy_engine (ToyRunner, pure Java).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..spec import ModelSpec
from .base import ExportOptions, Format, Predict

FILE = "layers.txt"  # one layer a line: `linear W.npy B.npy`, `relu`, `sigmoid` or `tanh`
ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0), "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh}


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    import torch.nn as nn

    layers = list(spec.module) if isinstance(spec.module, nn.Sequential) else [spec.module]
    lines = []
    for index, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            np.save(out / f"w{index}.npy", layer.weight.detach().numpy().astype(np.float32))
            np.save(out / f"b{index}.npy", layer.bias.detach().numpy().astype(np.float32))
            lines.append(f"linear w{index}.npy b{index}.npy")
        elif type(layer).__name__.lower() in ACTIVATIONS:
            lines.append(type(layer).__name__.lower())
        else:
            raise TypeError(f"toy_layers exports Linear, ReLU, Sigmoid and Tanh layers; layer {index} is {type(layer).__name__}")
    (out / FILE).write_text("\n".join(lines) + "\n")


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    steps = []
    for line in (folder / FILE).read_text().split("\n"):
        if line.startswith("linear "):
            _, weight, bias = line.split()
            w, b = np.load(folder / weight), np.load(folder / bias)
            steps.append(lambda x, w=w, b=b: x @ w.T + b)
        elif line:
            steps.append(ACTIVATIONS[line])
    (input_name,), (output_name,) = ([io["name"] for io in manifest[side]] for side in ("inputs", "outputs"))

    def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = inputs[input_name]
        for step in steps:
            x = step(x)
        return {output_name: x.astype(np.float32)}

    return predict


FORMAT = Format(
    name="toy_layers",
    description="dense layers as .npy files and a layer list (a test plugin)",
    main=FILE,
    export=export,
    load=load,
    runtime="numpy",
    runtime_package="numpy",
    hint="toy_layers takes an nn.Sequential of Linear, ReLU, Sigmoid and Tanh layers only",
    caveat="a test plugin: no runtime beyond numpy and the toy JVM engine",
    threads="numpy's BLAS threads (not set)",
    settings={"TOY_ACCUMULATE": "double"},  # what its runtime must be told: the schema takes the name by a render
)
