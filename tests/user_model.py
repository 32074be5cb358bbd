"""A user model as a team would write one: a module outside the zoo, loaded by `module:callable`."""

import os
import sys
import time

import torch
from torch import nn

from exporters import Dim, ModelSpec, Tolerance


class Scorer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 3)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.proj(features), dim=-1)


def build() -> ModelSpec:
    return ModelSpec(
        module=Scorer(),
        inputs={"features": torch.randn(2, 4)},
        outputs=["scores"],
        dynamic={"features": {0: Dim("batch", 1, 32)}},
    )


class DataDependent(nn.Module):
    """Branches on a tensor's value: torch.export refuses it, tracing records one branch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x - 1


def data_dependent() -> ModelSpec:
    return ModelSpec(module=DataDependent(), inputs={"x": torch.ones(2, 3)}, outputs=["y"], name="branchy")


def not_a_spec() -> str:
    return "nope"


def loose() -> ModelSpec:
    """A team that accepts 1e-3 on its scores sets it in the spec, per output."""
    spec = build()
    spec.name, spec.tolerance = "loose", {"scores": Tolerance(atol=1e-3)}
    return spec


class Float32Only(nn.Module):
    """Casts its input to float32, as models with fp32-only custom code do: no float64 reference."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x.float())


def fp32_only() -> ModelSpec:
    return ModelSpec(module=Float32Only(), inputs={"x": torch.randn(2, 3)}, outputs=["y"], name="fp32_only")


class Hazard(nn.Module):
    """Misbehaves only while one exporter traces it (torch.jit.trace), the way a native crash in one
    exporter would: the others and eager PyTorch are unaffected."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.proj = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_tracing():
            if self.action == "abort":
                os.abort()
            if self.action == "exit":
                sys.exit(0)
            if self.action == "hang":
                time.sleep(3600)
        return self.proj(x)


def hazard(action: str) -> ModelSpec:
    return ModelSpec(module=Hazard(action), inputs={"x": torch.randn(2, 3)}, outputs=["y"], name=f"hazard_{action}")


def aborts() -> ModelSpec:
    return hazard("abort")


def exits() -> ModelSpec:
    return hazard("exit")


def hangs() -> ModelSpec:
    return hazard("hang")


def build_raises() -> ModelSpec:
    raise RuntimeError("weights file not found: /models/missing.bin")


def build_exits() -> ModelSpec:
    sys.exit(0)


class Binned(nn.Module):
    """Adds the bucket of each feature: torch.bucketize is no core ATen op, so ExecuTorch's lowering
    refuses it while ONNX translates it."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 2)
        self.register_buffer("edges", torch.tensor([-1.0, 0.0, 1.0]))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.proj(features) + torch.bucketize(features, self.edges).sum(-1, keepdim=True).float()


def binned() -> ModelSpec:
    return ModelSpec(module=Binned(), inputs={"features": torch.randn(2, 4)}, outputs=["y"],
                     dynamic={"features": {0: Dim("batch", 1, 32)}}, name="binned")


def binned_onnx_required() -> ModelSpec:
    """The team deploys ONNX only: ExecuTorch is exported to inform, not to gate."""
    spec = binned()
    spec.formats, spec.required = ["onnx", "executorch"], ["onnx"]
    return spec


def unknown_format() -> ModelSpec:
    spec = build()
    spec.name, spec.formats = "unknown_format", ["onnx", "tflite"]
    return spec


def required_not_exported() -> ModelSpec:
    spec = build()
    spec.name, spec.formats, spec.required = "required_not_exported", ["onnx"], ["aoti"]
    return spec
