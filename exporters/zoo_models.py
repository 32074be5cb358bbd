"""The built-in models: small, deterministic, and each exercising a different export hazard (named in exporters/zoo.py)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .spec import Dim, ModelSpec
from .text import TextSpec
from .text.train import ZOO_TOKENIZER
from .zoo import SEED


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
        # 15, not 16: ATen's convolution picks its kernel by batch >= 16, and AOTI and ExecuTorch keep the
        # example's side of that branch (a box across 16 fails their export, named by cause).
        dynamic={"image": {0: Dim("batch", 1, 15)}},
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


class EncoderLayer(nn.Module):
    """A post-norm BERT layer: self-attention with an additive padding bias, then a GELU feed-forward."""

    def __init__(self, width: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.heads, self.head_width = heads, width // heads  # plain ints: tracing would freeze tensor sizes
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))
        self.attention_out = nn.Linear(width, width)
        self.attention_norm = nn.LayerNorm(width, eps=1e-12)
        self.up, self.down = nn.Linear(width, ffn), nn.Linear(ffn, width)
        self.output_norm = nn.LayerNorm(width, eps=1e-12)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, seq, width = hidden.shape
        split = lambda x: x.view(batch, seq, self.heads, self.head_width).transpose(1, 2)  # noqa: E731
        query, key, value = split(self.query(hidden)), split(self.key(hidden)), split(self.value(hidden))
        scores = query @ key.transpose(-1, -2) / math.sqrt(self.head_width) + bias
        context = (scores.softmax(-1) @ value).transpose(1, 2).reshape(batch, seq, width)
        hidden = self.attention_norm(hidden + self.attention_out(context))
        return self.output_norm(hidden + self.down(nn.functional.gelu(self.up(hidden))))


class SentenceEncoder(nn.Module):
    """A MiniLM-shaped sentence encoder: 6 layers, hidden 384, 12 heads, masked mean pooling, L2 norm."""

    def __init__(self, vocab: int = 8192, width: int = 384, heads: int = 12, ffn: int = 1536, layers: int = 6,
                 max_len: int = 128) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(max_len, width)
        self.embedding_norm = nn.LayerNorm(width, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(width, heads, ffn) for _ in range(layers))
        for module in self.modules():  # BERT's initialisation: N(0, 0.02) weights, zero biases
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        hidden = self.embedding_norm(self.tokens(input_ids) + self.positions(positions))
        mask = attention_mask.to(hidden.dtype)
        bias = (1.0 - mask[:, None, None, :]) * torch.finfo(hidden.dtype).min  # as Hugging Face BERT masks
        for layer in self.layers:
            hidden = layer(hidden, bias)
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return hidden, nn.functional.normalize(pooled, dim=-1)


def _tokenized_batch(lengths: list[int], seq: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Token ids as a WordPiece tokenizer pads them: [CLS] words [SEP] then [PAD] (0) with mask 0."""
    ids = torch.zeros(len(lengths), seq, dtype=torch.int64)
    mask = torch.zeros(len(lengths), seq, dtype=torch.int64)
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.randint(5, 8192, (length,), generator=generator)
        ids[row, 0], ids[row, length - 1] = 1, 2  # [CLS], [SEP]
        mask[row, :length] = 1
    return {"input_ids": ids, "attention_mask": mask}


def encoder() -> ModelSpec:
    """A 6-layer BERT-style sentence encoder (hidden 384): padded token batches in, states and embeddings out."""
    generator = torch.Generator().manual_seed(SEED + 2)
    batch, seq = Dim("batch", 1, 32), Dim("seq", 2, 128)
    return ModelSpec(
        module=SentenceEncoder(),
        inputs=_tokenized_batch([12, 9], 12, generator),
        outputs=["last_hidden_state", "sentence_embedding"],
        dynamic={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
        golden=[_tokenized_batch([7], 7, generator), _tokenized_batch([16, 11, 5, 16], 16, generator)],
        # Strings in, embeddings out: the WordPiece tokenizer in front, mean pooling and L2 norm behind.
        text=TextSpec(tokenizer=ZOO_TOKENIZER, output="last_hidden_state", postprocess=["mean_pool", "l2_normalize"],
                      texts=["The VPN drops every few minutes.", "Reset my password, please."]),
    )
