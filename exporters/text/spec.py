"""What a spec declares about its model's text ends: the tokenizer in front and the postprocess behind.

    ModelSpec(..., text=TextSpec(tokenizer="tokenizer.json", postprocess=["mean_pool", "l2_normalize"]))

The tokenizer is a `tokenizers` tokenizer.json (a path, a tokenizers.Tokenizer, or a transformers fast tokenizer,
saved as one); the postprocess a chain from postprocess.STEPS. Export proves the pair on the spec's texts and the
built-in corpus (corpus.py), token ids exact and answers by the parity rule, in Python and in every JVM runtime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .postprocess import STEPS, chain_problem

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from ..spec import ModelSpec

# What a tokenizer fills: the encoding's field for each model input it names.
FIELDS = ("ids", "attention_mask", "type_ids")
DEFAULT_FILLS = {"input_ids": "ids", "attention_mask": "attention_mask"}
PAD_TOKENS = ("[PAD]", "<pad>")


@dataclass
class TextSpec:
    tokenizer: Any  # a tokenizer.json path, a tokenizers.Tokenizer, or a transformers fast tokenizer
    postprocess: Sequence[str]  # a chain from STEPS, e.g. ["mean_pool", "l2_normalize"] or ["softmax", "top_k"]
    output: str = ""  # the model output the chain reads; default: the first
    max_length: int = 0  # tokens per text (pair) after truncation; 0: the seq box's max
    pairs: bool = False  # texts come as (first, second) pairs (rerankers, cross-encoders)
    padding_side: str = "right"
    pad_id: int | None = None  # default: the tokenizer's own padding id, else its [PAD] / <pad> token
    add_special_tokens: bool = True
    fills: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FILLS))  # model input -> encoding field
    labels: list[str] | None = None  # class names, one per score (top_k answers name them)
    k: int = 1  # how many labels top_k returns
    texts: list[Any] = field(default_factory=list)  # the team's own texts (or pairs), proven beside the corpus
    max_text_bytes: int = 16384  # UTF-8 bytes a text may have: a service refuses longer ones before tokenizing

    def resolved(self) -> Tokenizer:
        """The tokenizer as a tokenizers.Tokenizer, whatever form the spec gave it in."""
        from tokenizers import Tokenizer

        given = self.tokenizer
        if isinstance(given, (str, Path)):
            return Tokenizer.from_file(str(given))
        if isinstance(given, Tokenizer):
            return given
        backend = getattr(given, "backend_tokenizer", None)  # a transformers fast tokenizer
        if isinstance(backend, Tokenizer):
            return backend
        raise TypeError(f"tokenizer is {type(given).__name__}: give a tokenizer.json path, a tokenizers.Tokenizer "
                        "or a transformers fast tokenizer")

    def validate(self, spec: ModelSpec) -> None:
        from ..spec import SpecError

        where = f"{spec.name}: text"
        try:
            tokenizer = self.resolved()
        except Exception as exc:
            raise SpecError(f"{where}: the tokenizer cannot be read ({type(exc).__name__}: {str(exc).strip()[:200]})") from exc
        unknown = sorted(set(self.fills) - set(spec.inputs))
        if unknown:
            raise SpecError(f"{where}.fills names unknown inputs {unknown}; the inputs are {list(spec.inputs)}")
        unfilled = [name for name in spec.inputs if name not in self.fills]
        if unfilled:
            raise SpecError(f"{where}: inputs {unfilled} are not filled by the tokenizer; map each to one of "
                            f"{', '.join(FIELDS)} in fills=")
        bad = {name: f for name, f in self.fills.items() if f not in FIELDS}
        if bad:
            raise SpecError(f"{where}.fills maps {bad}; each input takes one of {', '.join(FIELDS)}")
        if self.padding_side not in ("right", "left"):
            raise SpecError(f"{where}.padding_side is {self.padding_side!r}: give 'right' or 'left'")
        output = self.output or spec.outputs[0]
        if output not in spec.outputs:
            raise SpecError(f"{where}.output {output!r} is not a model output; the outputs are {spec.outputs}")
        if "cls_pool" in self.postprocess and self.padding_side != "right":
            raise SpecError(f"{where}: cls_pool reads position 0, which left padding fills with pad tokens: pad right")
        problem = chain_problem(list(self.postprocess), self.labels, self.k)
        if problem:
            raise SpecError(f"{where}.postprocess {list(self.postprocess)}: {problem}")
        if not 0 < self.max_text_bytes <= 1 << 20:
            raise SpecError(f"{where}.max_text_bytes is {self.max_text_bytes}: give 1..1048576")
        seq = self.seq_dim(spec)
        batch = self.batch_dim(spec)
        if seq is None or batch is None:
            raise SpecError(f"{where}: the tokenizer fills {list(self.fills)}, whose dims 0 and 1 must be dynamic "
                            "(batch, seq) in dynamic= so texts of any count and length fit")
        if batch.min != 1:
            raise SpecError(f"{where}: the batch dim {batch.name} starts at {batch.min}; a service sends one text too, "
                            "so give it min 1")
        if self.max_length > seq.max:
            raise SpecError(f"{where}: the tokenizer's max_length {self.max_length} exceeds the model's seq box max "
                            f"{seq.max} ({seq.name}): lower max_length or widen the Dim")
        if self.max_length and self.max_length < seq.min:
            raise SpecError(f"{where}: max_length {self.max_length} is below the seq box min {seq.min} ({seq.name})")
        self.pad(tokenizer, where)
        for index, item in enumerate(self.texts):
            if self.pairs != (isinstance(item, (tuple, list)) and len(item) == 2):
                raise SpecError(f"{where}.texts[{index}] is {type(item).__name__}: give "
                                f"{'(first, second) pairs' if self.pairs else 'strings'} (pairs={self.pairs})")

    def seq_dim(self, spec: ModelSpec):
        """The Dim of the filled inputs' axis 1 (the tokens), or None where it is not dynamic."""
        return spec.dynamic.get(next(iter(self.fills)), {}).get(1)

    def batch_dim(self, spec: ModelSpec):
        return spec.dynamic.get(next(iter(self.fills)), {}).get(0)

    def pad(self, tokenizer: Tokenizer, where: str) -> int:
        """The pad id: as given, else the tokenizer's own padding id, else its pad token's id (deepjavalibrary/djl#2669
        padded with [PAD]'s id whatever the tokenizer said)."""
        from ..spec import SpecError

        if self.pad_id is not None:
            return self.pad_id
        if tokenizer.padding is not None:
            return int(tokenizer.padding["pad_id"])
        for token in PAD_TOKENS:
            found = tokenizer.token_to_id(token)
            if found is not None:
                return found
        raise SpecError(f"{where}: the tokenizer has no padding settings and no {' or '.join(PAD_TOKENS)} token: give pad_id=")

    def settings(self, spec: ModelSpec, tokenizer: Tokenizer, file: str) -> dict[str, Any]:
        """The manifest's text.tokenizer: everything both languages need to encode as export did."""
        import tokenizers

        seq = self.seq_dim(spec)
        return {
            "file": file, "tokenizers": tokenizers.__version__, "max_length": self.max_length or seq.max,
            "min_length": seq.min, "max_batch": self.batch_dim(spec).max, "truncation": "longest_first",
            "padding_side": self.padding_side, "pad_id": self.pad(tokenizer, spec.name), "add_special_tokens": self.add_special_tokens,
            "pairs": self.pairs, "fills": {name: self.fills[name] for name in spec.inputs}, "max_text_bytes": self.max_text_bytes,
            "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
        }

    def postprocess_section(self, spec: ModelSpec) -> dict[str, Any]:
        section: dict[str, Any] = {"output": self.output or spec.outputs[0], "steps": list(self.postprocess)}
        if "top_k" in self.postprocess:
            section["k"] = self.k
        if self.labels is not None:
            section["labels"] = list(self.labels)
        return section

    def digest_text(self) -> str:
        """What the model's fingerprint keeps of the text ends: the tokenizer's content and every setting."""
        fields = {k: v for k, v in vars(self).items() if k != "tokenizer"}
        return self.resolved().to_str() + json.dumps(fields, sort_keys=True, default=repr)


__all__ = ["TextSpec", "FIELDS", "STEPS"]
