"""Text models the tests export: each with a tokenizer trained here from text kept in the repository (no hub
download), cached per test run in $TEST_TOKENIZERS so the export's worker processes read the very same file
(the `tokenizers` trainers are not deterministic across runs)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from filelock import FileLock
from torch import nn

from exporters import Dim, ModelSpec, TextSpec
from exporters.text import train


def trained(kind: str) -> Path:
    folder = Path(os.environ.get("TEST_TOKENIZERS", Path(tempfile.gettempdir()) / "exporters-test-tokenizers"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.json"
    with FileLock(str(path) + ".lock"):
        if not path.exists():
            getattr(train, kind)(train.lines()).save(str(path))
    return path


class PairScorer(nn.Module):
    """A cross-encoder's shape: token and segment embeddings, masked mean, two logits."""

    def __init__(self, vocab: int, width: int = 32) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.segments = nn.Embedding(2, width)
        self.head = nn.Linear(width, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.tokens(input_ids) + self.segments(token_type_ids))
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))


def reranker() -> ModelSpec:
    """Pairs in (WordPiece, [CLS] a [SEP] b [SEP] with type ids), relevance labels out (softmax, top 2)."""
    tokenizer = trained("wordpiece")
    vocab = TextSpec(tokenizer=tokenizer, postprocess=[]).resolved().get_vocab_size()
    batch, seq = Dim("batch", 1, 16), Dim("seq", 2, 64)
    example = {"input_ids": torch.randint(0, vocab, (2, 8)), "attention_mask": torch.ones(2, 8, dtype=torch.int64),
               "token_type_ids": torch.zeros(2, 8, dtype=torch.int64)}
    return ModelSpec(
        name="reranker", module=PairScorer(vocab), inputs=example, outputs=["logits"],
        dynamic={name: {0: batch, 1: seq} for name in example}, formats=["onnx", "torchscript"],
        text=TextSpec(tokenizer=tokenizer, pairs=True, postprocess=["softmax", "top_k"], k=2, labels=["irrelevant", "relevant"],
                      fills={"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"},
                      texts=[("Is the VPN down?", "The VPN drops every few minutes.")]),
    )


class Embedder(nn.Module):
    def __init__(self, vocab: int, width: int = 24, max_len: int = 64) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(max_len, width)
        self.mix = nn.Linear(width, width)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        return torch.tanh(self.mix(self.tokens(input_ids) + self.positions(positions)))


def bpe_embedder() -> ModelSpec:
    """Texts in (byte-level BPE, pad <pad> on the left), mean-pooled L2-normalized embeddings out."""
    tokenizer = trained("bpe")
    vocab = TextSpec(tokenizer=tokenizer, postprocess=[]).resolved().get_vocab_size()
    batch, seq = Dim("batch", 1, 16), Dim("seq", 2, 64)
    example = {"input_ids": torch.randint(0, vocab, (2, 8)), "attention_mask": torch.ones(2, 8, dtype=torch.int64)}
    return ModelSpec(
        name="bpe_embedder", module=Embedder(vocab), inputs=example, outputs=["hidden"],
        dynamic={name: {0: batch, 1: seq} for name in example}, formats=["onnx"],
        text=TextSpec(tokenizer=tokenizer, postprocess=["mean_pool", "l2_normalize"], padding_side="left", max_length=48),
    )


def too_many_ids() -> ModelSpec:
    """The BPE embedder with a 100-row embedding: the tokenizer's 1000 ids do not fit."""
    spec = bpe_embedder()
    spec.name, spec.module = "too_many_ids", Embedder(100)
    spec.inputs = {name: tensor % 100 for name, tensor in spec.inputs.items()}
    return spec
