"""Texts in, answers out, in Python: what a team's Python service calls, and what verify proves per runtime.

    pipeline = TextPipeline.open("artifacts/encoder", "onnx")
    pipeline.embed(["first text", "second"])      # float32 (texts, width)
    pipeline.classify(["a ticket"])               # [[(label, score), ...]] best first

The same steps as the JVM's TextModel: tokenizer (tokenize.py), the exported model, the declared postprocess.
Thread-safe: tokenizing and the postprocess run in the caller's thread, the runtime's calls one at a time (the Python
OpenVINO runtime's infer request refuses a second call in flight: "Infer Request is busy").
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..contract.causes import decisive_line
from ..contract.manifest import ContractError, TextCases, checked_formats, load_text, read_manifest
from ..contract.parity import Parity
from . import postprocess
from .tokenize import Batch, TextTokenizer, batches

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


class TextPipeline:
    def __init__(self, text: TextCases, predict: Predict) -> None:
        self.text = text
        self.tokenizer = TextTokenizer(text.tokenizer_json, text.settings)
        self._predict = predict
        self._one_call = threading.Lock()

    @classmethod
    def open(cls, model_dir: str | Path, format_name: str) -> TextPipeline:
        """One exported format of a text model folder, every file it reads checked against the manifest first."""
        from ..formats import FORMATS

        model_dir = Path(model_dir)
        manifest = read_manifest(model_dir)
        text = load_text(model_dir, manifest)
        if text is None:
            raise ContractError(f"{model_dir}: the model declares no text ends (ModelSpec text=): call its formats with tensors")
        if not checked_formats(model_dir, manifest, [format_name]):  # each of its files checked against the manifest
            raise ContractError(f"{model_dir}: format {format_name} was not exported: export it, or open one the manifest lists")
        return cls(text, FORMATS[format_name].load(model_dir / format_name, manifest))

    def run(self, batch: Batch) -> dict[str, np.ndarray]:
        """One encoded batch through the model and the postprocess."""
        section = self.text.postprocess
        with self._one_call:
            output = self._predict(batch.inputs)[section["output"]]
        return postprocess.apply(section, output, batch.mask)

    def answer(self, items: Sequence[Any]) -> dict[str, np.ndarray]:
        """Any number of texts (or pairs), in batches of the model's batch max; the answers in the order given."""
        parts = [self.run(self.tokenizer.encode(chunk)) for chunk in batches(list(items), self.text.settings["max_batch"])]
        if not parts:
            self.tokenizer.encode([])  # raises: no texts
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    def embed(self, texts: Sequence[Any]) -> np.ndarray:
        return self.answer(texts)[postprocess.VECTOR]

    def classify(self, texts: Sequence[Any]) -> list[list[tuple[str, float]]]:
        answers = self.answer(texts)
        if postprocess.TOP_K not in answers:
            raise ValueError("the model's postprocess has no top_k step: call embed()")
        labels = self.text.postprocess.get("labels")
        return [[(labels[i] if labels else str(i), float(scores[i])) for i in best]
                for best, scores in zip(answers[postprocess.TOP_K], answers[postprocess.VECTOR])]


def prove(text: TextCases, predict: Predict) -> dict[str, Any]:
    """The text verdict of one runtime: each case's token ids, masks and type ids equal to those recorded (exact),
    then its answers judged by the text parity rules. As TextCheck.java does it."""
    pipeline = TextPipeline(text, predict)
    parity = Parity(text.parity)
    for case in text.cases:
        try:
            batch = pipeline.tokenizer.encode(case["items"])
            mismatch = token_mismatch(case, batch.inputs)
            if mismatch:
                parity.fail(mismatch)
                continue
            answers = pipeline.run(batch)
        except Exception as exc:
            parity.fail(f"{case['name']}: {type(exc).__name__}: {decisive_line(exc)}")
            continue
        parity.add(case["name"], answers, {name: np.asarray(value) for name, value in case.get("reference", case["outputs"]).items()})
    import tokenizers

    return {**parity.as_dict(), "texts": sum(len(case["items"]) for case in text.cases),
            "tokenizer": f"tokenizers {tokenizers.__version__}"}


def token_mismatch(case: dict[str, Any], inputs: dict[str, np.ndarray]) -> str | None:
    """The first place where this tokenizer's inputs differ from those export recorded, in one line, or None."""
    for name, recorded in case["inputs"].items():
        want = np.asarray(recorded, dtype=np.int64)
        got = inputs.get(name)
        if got is None or got.shape != want.shape:
            return (f"{case['name']}: {name} has shape {None if got is None else list(got.shape)}, export recorded "
                    f"{list(want.shape)}")
        rows, cols = np.nonzero(got != want)
        if rows.size:
            row, col = int(rows[0]), int(cols[0])
            return (f"{case['name']}: {name} of text {case['labels'][row]!r} differs at token {col}: {int(got[row, col])} "
                    f"here, {int(want[row, col])} recorded")
    return None
