"""Texts to model inputs as the manifest's text.tokenizer says, the same steps as text/TextTokenizer.java.

The `tokenizers` library encodes each text (normalization, pre-tokenization, special tokens, truncation to
max_length); padding is this module's own, not the tokenizer file's, so the pad id, side and mask are the
manifest's in both languages (DJL's tokenizer once padded with [PAD]'s id whatever the file said).
Thread-safe: encoding reads the tokenizer only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


class TextError(ValueError):
    """A text a service must refuse: one line, what and why and what to try."""


def text_problem(index: int, text: Any, max_bytes: int) -> str | None:
    """Why one text cannot be encoded (as TextTokenizer.java words it), or None."""
    if not isinstance(text, str):
        return f"text {index} is {type(text).__name__}, not a string"
    for at, char in enumerate(text):
        if 0xD800 <= ord(char) <= 0xDFFF:
            return (f"text {index} holds an unpaired UTF-16 surrogate (U+{ord(char):04X}) at char {at}: "
                    "send valid Unicode (a tokenizer would drop or replace it silently)")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        return f"text {index} is {size} bytes of UTF-8, over the model's max_text_bytes {max_bytes}: shorten it"
    return None


def items_problem(items: Sequence[Any], settings: dict[str, Any]) -> str | None:
    """Why a batch of texts (or pairs) cannot be encoded, or None."""
    if not len(items):
        return "no texts given: send at least one"
    for index, item in enumerate(items):
        if settings["pairs"]:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                return f"text {index} is {type(item).__name__}: this model takes (first, second) pairs"
            problem = text_problem(index, item[0], settings["max_text_bytes"]) or text_problem(index, item[1], settings["max_text_bytes"])
        elif isinstance(item, (tuple, list)):
            return f"text {index} is a pair: this model takes single texts"
        else:
            problem = text_problem(index, item, settings["max_text_bytes"])
        if problem:
            return problem
    return None


@dataclass(frozen=True)
class Batch:
    inputs: dict[str, np.ndarray]  # by model input name, in the manifest's order
    mask: np.ndarray  # the attention mask, which mean pooling reads whether or not the model takes it


class TextTokenizer:
    def __init__(self, tokenizer_json: str, settings: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self.settings = settings
        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(settings["max_length"], strategy=settings["truncation"])

    def encode(self, items: Sequence[Any]) -> Batch:
        """One batch: each model input the tokenizer fills, int64 (batch, seq), padded to the longest text (at least
        the seq box's min), and its attention mask. Raises TextError for a batch that cannot be encoded."""
        settings = self.settings
        problem = items_problem(items, settings)
        if problem:
            raise TextError(problem)
        if len(items) > settings["max_batch"]:
            raise TextError(f"{len(items)} texts in one batch, over the model's batch max {settings['max_batch']}: "
                            "split them (the pipeline's answer() does)")
        given = [tuple(item) for item in items] if settings["pairs"] else list(items)
        encodings = self._tokenizer.encode_batch(given, add_special_tokens=settings["add_special_tokens"])
        seq = max([len(e.ids) for e in encodings] + [settings["min_length"]])
        pad = {"ids": settings["pad_id"], "attention_mask": 0, "type_ids": 0}
        arrays = {field: np.full((len(items), seq), value, dtype=np.int64) for field, value in pad.items()}
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            at = slice(0, length) if settings["padding_side"] == "right" else slice(seq - length, seq)
            arrays["ids"][row, at] = encoding.ids
            arrays["attention_mask"][row, at] = 1  # our mask: 1 on every token the tokenizer gave, 0 on padding
            arrays["type_ids"][row, at] = encoding.type_ids
        return Batch({name: arrays[field] for name, field in settings["fills"].items()}, arrays["attention_mask"])


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]
