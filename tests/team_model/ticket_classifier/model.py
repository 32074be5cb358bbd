"""Ticket priority classifier: ticket text in (its tokenizer.json), the likeliest priorities out; underneath, token
ids and an attention mask in, class logits and probabilities out.

Written as a team would, with its own dependency (einops, pinned in ../requirements.txt), and
exported with `make all MODELS=ticket_classifier.model:build MODEL_SRC=tests/team_model
MODEL_REQUIREMENTS=tests/team_model/requirements.txt`.
"""

from pathlib import Path

import torch
from einops import rearrange
from torch import nn

from exporters import Dim, ModelSpec, TextSpec

VOCAB, WIDTH, HEADS, CLASSES = 2048, 64, 4, 5
PRIORITIES = ["low", "normal", "high", "urgent", "critical"]
# The team's byte-level BPE tokenizer (1000 ids, <pad> is 1), trained on its ticket text.
TOKENIZER = Path(__file__).with_name("tokenizer.json")


class TicketClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, CLASSES)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.tokens(input_ids)
        q, k, v = rearrange(self.qkv(hidden), "b s (three h d) -> three b h s d", three=3, h=HEADS)
        keep = rearrange(attention_mask, "b s -> b 1 1 s").bool()
        scores = (q @ k.transpose(-1, -2)) / (WIDTH // HEADS) ** 0.5
        context = rearrange(scores.masked_fill(~keep, -1e9).softmax(-1) @ v, "b h s d -> b s (h d)")
        hidden = self.norm(hidden + context)
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        logits = self.head((hidden * mask).sum(1) / mask.sum(1))
        return logits, logits.softmax(-1)


def padded(lengths: list[int], seq: int) -> dict[str, torch.Tensor]:
    """A tokenizer's batch: ids then padding (0) with mask 0."""
    ids = torch.zeros(len(lengths), seq, dtype=torch.int64)
    mask = torch.zeros(len(lengths), seq, dtype=torch.int64)
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.randint(1, VOCAB, (length,))
        mask[row, :length] = 1
    return {"input_ids": ids, "attention_mask": mask}


def build() -> ModelSpec:
    batch, seq = Dim("batch", 1, 32), Dim("seq", 2, 64)
    return ModelSpec(
        name="ticket_classifier",
        module=TicketClassifier(),
        inputs=padded([16, 10], 16),
        golden=[padded([5], 5), padded([24, 3, 17], 24)],
        outputs=["logits", "probabilities"],
        dynamic={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
        # Tickets in, the two likeliest priorities out: the service sends text, not token ids.
        text=TextSpec(tokenizer=TOKENIZER, output="logits", postprocess=["softmax", "top_k"], k=2, labels=PRIORITIES,
                      texts=["The checkout page times out for every customer", "Please order a new keyboard"]),
    )
