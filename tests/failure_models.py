"""Models shaped like what teams ship, each failing (or nearly failing) for one known cause: the tests hold the
pipeline to naming that cause on one line, with the hint it picks, and to the remedies it tries first."""

from __future__ import annotations

import torch
from torch import nn

from exporters import Dim, ModelSpec


class DecoderStep(nn.Module):
    """One decoder step with its key/value cache passed in and out: the kept cache length is the smaller of two
    sizes, a guard (min(16 + 16*past, 32 + 32*past) == 16 + 16*past) that holds for every past and that
    torch.export's solver cannot prove."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.kv = nn.Linear(16, 32)
        self.q = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cache = torch.cat([past, self.kv(x)], 1)  # [1, past + 1, 32]: keys and values side by side
        flat = cache.reshape(1, -1)
        keys = flat[:, :torch.sym_min(16 * cache.shape[1], flat.shape[1])].view(1, cache.shape[1], 16)
        return torch.softmax(self.q(x) @ keys.transpose(1, 2), -1) @ keys, cache


class WindowedStep(DecoderStep):
    """Keeps at most 100 cached positions: past 100 the model is another program, and the guard says so."""

    def forward(self, x: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if past.shape[1] > 100:
            past = past[:, -100:]
        return super().forward(x, past)


def _step(module: nn.Module, name: str) -> ModelSpec:
    generator = torch.Generator().manual_seed(1)
    return ModelSpec(module=module, name=name, outputs=["attended", "cache"],
                     inputs={"x": torch.randn(1, 1, 16, generator=generator), "past": torch.randn(1, 5, 32, generator=generator)},
                     dynamic={"past": {1: Dim("past", 2, 255)}})


def decoder_step() -> ModelSpec:
    return _step(DecoderStep(), "decoder_step")


def windowed_step() -> ModelSpec:
    return _step(WindowedStep(), "windowed_step")


class Bags(nn.Module):
    """nn.EmbeddingBag over ids and offsets: bags may be empty, as PyTorch allows (an offset equal to the number
    of ids is an empty last bag)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.bag = nn.EmbeddingBag(50, 8, mode="sum")
        self.head = nn.Linear(8, 2)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.head(self.bag(ids, offsets))


def bags_case(sizes: dict[str, int]) -> dict[str, torch.Tensor]:
    """Ids and sorted offsets into them at the given sizes; with more bags than ids, some bags are empty."""
    generator = torch.Generator().manual_seed(sizes["n_ids"] * 1000 + sizes["batch"])
    offsets = torch.sort(torch.randint(0, sizes["n_ids"] + 1, (sizes["batch"],), generator=generator)).values
    offsets[0] = 0
    return {"ids": torch.randint(0, 50, (sizes["n_ids"],), generator=generator), "offsets": offsets}


def _bags(make_case: bool) -> ModelSpec:
    return ModelSpec(module=Bags(), name="bags", outputs=["scores"], make_case=bags_case if make_case else None,
                     inputs={"ids": torch.randint(0, 50, (6,), generator=torch.Generator().manual_seed(2)),
                             "offsets": torch.tensor([0, 2, 4])},
                     dynamic={"ids": {0: Dim("n_ids", 2, 64)}, "offsets": {0: Dim("batch", 1, 256)}})


def bags() -> ModelSpec:
    return _bags(make_case=True)


def bags_without_make_case() -> ModelSpec:
    return _bags(make_case=False)


class Shrink(nn.Module):
    """log1p of tiny values: eager keeps them exact; ONNX has no Log1p, and its exporter writes Log(1 + x), which
    rounds 1 + x first and loses them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(x * 1e-6)


class Diverging(nn.Module):
    """Linear, tanh, Shrink, linear: answers part from the reference at Shrink, in ONNX, in Python and in Java."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encode = nn.Linear(8, 16)
        self.squash = nn.Tanh()
        self.shrink = Shrink()
        self.decode = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.shrink(self.squash(self.encode(x))) * 1e6)


def diverging() -> ModelSpec:
    return ModelSpec(module=Diverging(), inputs={"x": torch.randn(2, 8, generator=torch.Generator().manual_seed(3))},
                     outputs=["y"], dynamic={"x": {0: Dim("batch", 1, 8)}}, name="diverging")


class AttentionThenView(nn.Module):
    """Attention as GPT-2 writes it: SDPA, transpose, reshape, .contiguous(), then a linear layer's .view. With a
    dynamic sequence, lowering's decomposition of SDPA breaks the views torch.export recorded after it."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.qkv = nn.Linear(32, 96)
        self.out = nn.Parameter(torch.randn(32, 32) / 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = x.shape
        q, k, v = (t.view(batch, seq, 4, 8).transpose(1, 2) for t in self.qkv(x).split(32, -1))
        attended = nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, seq, -1).contiguous()
        return (attended.view(-1, 32) @ self.out).view(batch, seq, 32)


def attention_then_view() -> ModelSpec:
    return ModelSpec(module=AttentionThenView(), inputs={"x": torch.randn(2, 6, 32, generator=torch.Generator().manual_seed(4))},
                     outputs=["y"], dynamic={"x": {1: Dim("seq", 2, 32)}}, name="attention_then_view")
