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
    # Golden cases on both sides of the branch: the evidence that decides the traced program's verdict.
    return ModelSpec(module=DataDependent(), inputs={"x": torch.ones(2, 3)}, outputs=["y"], name="branchy",
                     golden=[{"x": torch.ones(2, 3)}, {"x": torch.full((2, 3), -2.0)}])


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


def oversized() -> ModelSpec:
    """A box whose max case (a million rows of 512 floats, 2 GiB) is over the default 1024 MiB budget."""
    return ModelSpec(module=torch.nn.Linear(512, 2), inputs={"x": torch.randn(2, 512)}, outputs=["y"],
                     dynamic={"x": {0: Dim("rows", 1, 1_000_000)}}, name="oversized")


def cnn_across_16() -> ModelSpec:
    """The zoo's CNN with a batch box that crosses 16, where ATen's convolution switches kernel heuristics."""
    from exporters.zoo_models import SmallCNN

    return ModelSpec(module=SmallCNN(), inputs={"image": torch.randn(2, 3, 32, 32)}, outputs=["logits"],
                     dynamic={"image": {0: Dim("batch", 1, 16)}}, name="cnn_across_16")


def bad_make_case() -> ModelSpec:
    """make_case that ignores the sizes it is asked for."""
    spec = build()
    spec.name = "bad_make_case"
    spec.make_case = lambda sizes: {"features": torch.randn(2, 8)}
    return spec


class BagOfWords(nn.Module):
    """nn.EmbeddingBag over fixed-width rows: ExecuTorch's runtime has no kernel for it."""

    def __init__(self) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(100, 8, mode="mean")
        self.head = nn.Linear(8, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.bag(ids))


def embedding_bag() -> ModelSpec:
    ids = torch.randint(0, 100, (3, 5))
    return ModelSpec(module=BagOfWords(), inputs={"ids": ids}, outputs=["y"], name="embedding_bag",
                     dynamic={"ids": {0: Dim("batch", 1, 8)}})


class Tagger(nn.Module):
    """A bidirectional 2-layer LSTM tagger: token ids [batch, seq] in, tag scores [batch, seq, 17] out."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = nn.Embedding(1000, 32)
        self.lstm = nn.LSTM(32, 24, num_layers=2, bidirectional=True, batch_first=True)
        self.tags = nn.Linear(48, 17)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.tags(self.lstm(self.tokens(ids))[0])


def lstm_tagger() -> ModelSpec:
    # The shortest example sequence the box holds: ExecuTorch unrolls the LSTM over it, and lowering takes longer
    # the longer it is (45 s at 2 steps, 76 s at 6 on 2 cores); the box, not the example, sets what is verified.
    return ModelSpec(module=Tagger(), inputs={"ids": torch.randint(0, 1000, (4, 2))}, outputs=["tags"],
                     dynamic={"ids": {0: Dim("batch", 1, 16), 1: Dim("seq", 2, 64)}}, name="lstm_tagger")


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


class TokenClassifier(nn.Module):
    """Token ids through an embedding table, mean over the unmasked positions, a linear head: the shape of
    the text models services run, small enough to export to every format in a test."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.tokens = nn.Embedding(64, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(self.tokens.weight.dtype)
        pooled = (self.tokens(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(pooled)


def tokens() -> ModelSpec:
    """Integer inputs that index a table: export finds their valid values (0..63) from the embedding."""
    ids = torch.tensor([[5, 9, 2, 0], [7, 1, 0, 0]])
    return ModelSpec(module=TokenClassifier(), name="tokens", outputs=["logits"],
                     inputs={"input_ids": ids, "attention_mask": (ids != 0).long()},
                     dynamic={"input_ids": {0: Dim("batch", 1, 8), 1: Dim("seq", 2, 16)},
                              "attention_mask": {0: Dim("batch", 1, 8), 1: Dim("seq", 2, 16)}})
