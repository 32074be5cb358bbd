"""A user model as a team would write one: a module outside the zoo, loaded by `module:callable`."""

import torch
from torch import nn

from exporters import Dim, ModelSpec


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
