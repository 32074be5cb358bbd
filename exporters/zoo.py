"""Built-in models: small, deterministic, and each exercising a different export hazard."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .spec import Dim, ModelSpec, SpecError, load_user_spec

SEED = 0
# A manifest's `source` for a zoo model; user models record their `module:callable` as is.
ZOO_SOURCE = "zoo:"


def mlp() -> ModelSpec:
    """Linear-ReLU-Linear-Sigmoid on [batch, 10]."""
    module = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    return ModelSpec(
        module=module,
        inputs={"x": torch.randn(2, 10)},
        outputs=["y"],
        dynamic={"x": {0: Dim("batch", 1, 64)}},
    )


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.Conv2d(6, 9, 5), nn.ReLU())
        self.head = nn.Linear(9 * 24 * 24, 10)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.features(image), 1))


def cnn() -> ModelSpec:
    """Two convolutions and a linear head on [batch, 3, 32, 32] images."""
    return ModelSpec(
        module=SmallCNN(),
        inputs={"image": torch.randn(2, 3, 32, 32)},
        outputs=["logits"],
        dynamic={"image": {0: Dim("batch", 1, 16)}},
    )


class TextEncoder(nn.Module):
    """Token + position embeddings into a 2-layer encoder; padded positions are masked out."""

    def __init__(self, vocab: int = 1000, width: int = 32, max_len: int = 64) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(max_len, width)
        # No nested tensors: their fast path zeroes padded positions, which exported graphs do not.
        layer = nn.TransformerEncoderLayer(width, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        hidden = self.tokens(input_ids) + self.positions(positions)
        return self.encoder(hidden, src_key_padding_mask=attention_mask == 0)


def _text_batch(batch: int, seq: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    ids = torch.randint(0, 1000, (batch, seq), generator=generator)
    mask = torch.ones(batch, seq, dtype=torch.int64)
    for row in range(1, batch):  # later rows are padded, the first never is
        mask[row, seq - row :] = 0
    return {"input_ids": ids, "attention_mask": mask}


def transformer() -> ModelSpec:
    """A small text encoder: int64 token ids and attention mask in, hidden states out."""
    generator = torch.Generator().manual_seed(SEED + 1)
    batch, seq = Dim("batch", 1, 8), Dim("seq", 2, 64)
    return ModelSpec(
        module=TextEncoder(),
        inputs=_text_batch(2, 8, generator),
        outputs=["hidden_states"],
        dynamic={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
        golden=[_text_batch(1, 5, generator), _text_batch(3, 12, generator)],
    )


ZOO: dict[str, Callable[[], ModelSpec]] = {"mlp": mlp, "cnn": cnn, "transformer": transformer}


def load_spec(model: str) -> ModelSpec:
    """A zoo model by name, or a user model by `module:callable`; weights are seeded and eval-mode."""
    torch.manual_seed(SEED)
    if model in ZOO:
        spec = ZOO[model]()
        spec.name, spec.source = model, ZOO_SOURCE + model
    elif ":" in model:
        spec = load_user_spec(model)
    else:
        raise SpecError(f"unknown model '{model}'; zoo models: {', '.join(ZOO)}, or pass module:callable")
    spec.module.eval()
    spec.validate()
    return spec


def load_source(source: str) -> ModelSpec:
    """The spec a manifest's `source` was exported from (same seed, so the same weights)."""
    return load_spec(source.removeprefix(ZOO_SOURCE))
