"""Export's text proof: the tokenizer saved in the model folder, and text cases from the spec's texts and the corpus,
each with its token ids (exact) and its answers from eager fp32 and from the float64 reference through the postprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..contract import parity
from ..contract.manifest import TEXT_CASES, TEXT_DIR, TEXT_TOKENIZER, check_inputs, file_entries, write_json_atomic
from ..contract.parity import Tolerance
from ..golden import float64_outputs, named_outputs
from ..spec import ModelSpec, SpecError
from . import corpus, postprocess
from .tokenize import TextError, TextTokenizer, batches


def corpus_items(pairs: bool) -> list[tuple[str, Any]]:
    return [(label, list(pair)) for label, pair in corpus.PAIRS] if pairs else list(corpus.TEXTS)


def write_text(spec: ModelSpec, model_dir: Path, io: dict[str, Any], override: Tolerance | None) -> dict[str, Any]:
    """The manifest's text section, its files written under model_dir/text. io: the manifest's inputs and dims (the
    cases are checked against them). Eager fp32 and the float64 reference run as for the golden cases (golden.py)."""
    text = spec.text
    tokenizer = text.resolved()
    folder = model_dir / TEXT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TEXT_TOKENIZER).write_text(tokenizer.to_str(), encoding="utf-8")
    settings = text.settings(spec, tokenizer, f"{TEXT_DIR}/{TEXT_TOKENIZER}")
    _check_vocabulary(spec, settings, io)
    section = text.postprocess_section(spec)
    encoder = TextTokenizer((folder / TEXT_TOKENIZER).read_text(encoding="utf-8"), settings)
    own = [(f"text {i}", list(item) if text.pairs else item) for i, item in enumerate(text.texts)]
    builtin = corpus_items(text.pairs)
    chunks = batches(own, settings["max_batch"]) + batches(builtin, settings["max_batch"])
    cases, eager, encoded = [], [], []
    for index, chunk in enumerate(chunks):
        items = [item for _, item in chunk]
        try:
            batch = encoder.encode(items)
        except TextError as exc:
            raise SpecError(f"{spec.name}: text {chunk[0][0]!r}..: {exc}") from exc
        problem = check_inputs(io, batch.inputs)
        if problem:
            raise SpecError(f"{spec.name}: the tokenizer's batch of {[label for label, _ in chunk]} {problem}: match the "
                            "tokenizer and the model's inputs (fills=, max_length=, values=)")
        output = named_outputs(spec.module, spec.outputs, _tensors(spec, batch.inputs))[section["output"]]
        problem = postprocess.check_shape(section, output)
        if problem:
            raise SpecError(f"{spec.name}: text postprocess: {problem}")
        eager.append(postprocess.apply(section, output, batch.mask))
        encoded.append(batch)
        cases.append({"name": f"text{index}", "labels": [label for label, _ in chunk], "items": items,
                      "inputs": {name: array.tolist() for name, array in batch.inputs.items()}, "outputs": _lists(eager[-1])})
    outputs, reason = float64_outputs(spec, [dict(zip(spec.inputs, _tensors(spec, batch.inputs))) for batch in encoded])
    reference = None if outputs is None else [postprocess.apply(section, out[section["output"]], batch.mask, double=True)
                                              for out, batch in zip(outputs, encoded)]
    for case, answers in zip(cases, reference or []):
        case["reference"] = _lists(answers)
    write_json_atomic(folder / TEXT_CASES, {"cases": cases})
    names = postprocess.answer_names(section)
    rules = parity.build_rules(names, lambda name: spec.tolerance_for(section["output"]) if name == postprocess.VECTOR else None,
                               [case["name"] for case in cases], eager, reference, reason, override)
    files = file_entries(model_dir, [folder / TEXT_TOKENIZER, folder / TEXT_CASES])
    return {"tokenizer": settings, "postprocess": section, "answers": names, "cases": f"{TEXT_DIR}/{TEXT_CASES}",
            "texts": len(own) + len(builtin), "files": files, "parity": rules}


def _check_vocabulary(spec: ModelSpec, settings: dict[str, Any], io: dict[str, Any]) -> None:
    """Every id the tokenizer can give must be one the model takes (its input_ids' valid values)."""
    for declared in io["inputs"]:
        if settings["fills"].get(declared["name"]) == "ids" and "values" in declared:
            top = declared["values"]["max"]
            if settings["vocab_size"] - 1 > top:
                raise SpecError(f"{spec.name}: the tokenizer has {settings['vocab_size']} ids, {declared['name']} takes "
                                f"0..{top} ({declared['values']['from']}): give the model's tokenizer, or a larger embedding")


def _tensors(spec: ModelSpec, inputs: dict[str, np.ndarray]) -> list[torch.Tensor]:
    """A batch's inputs in the model's argument order."""
    return [torch.from_numpy(inputs[name]) for name in spec.inputs]


def _lists(answers: dict[str, np.ndarray]) -> dict[str, Any]:
    return {name: array.tolist() for name, array in answers.items()}
