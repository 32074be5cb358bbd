"""The declared postprocess: a chain of named steps from a model output to the answer a service returns.

The same words, in the same order, with the same arithmetic in Java (text/Postprocess.java): float64 throughout,
cast to float32 at the end, so a pass compares the answers both services return.
- mean_pool: (batch, seq, width) -> (batch, width), the mean over positions whose attention mask is 1
  (a row with none gives zeros, as sentence-transformers' clamp does);
- cls_pool: (batch, seq, width) -> (batch, width), position 0 (where the tokenizer puts [CLS]; pad right);
- l2_normalize: each row divided by its L2 norm (at least 1e-12, as torch.nn.functional.normalize);
- softmax: over the last axis, max-subtracted;
- top_k: the k best indices of each row, best first, ties to the lower index; named by labels when given.
The answers: "vector" (what the chain gives before top_k) and, with top_k, "top_k" (int64 indices).
"""

from __future__ import annotations

from typing import Any

import numpy as np

STEPS = ("mean_pool", "cls_pool", "l2_normalize", "softmax", "top_k")
POOLS = ("mean_pool", "cls_pool")
VECTOR, TOP_K = "vector", "top_k"


def chain_problem(steps: list[str], labels: list[str] | None, k: int) -> str | None:
    """Why a chain cannot run (unknown step, pool after a vector step, top_k not last), or None."""
    unknown = [step for step in steps if step not in STEPS]
    if unknown:
        return f"unknown step {', '.join(unknown)}; choose from {', '.join(STEPS)}"
    pools = [i for i, step in enumerate(steps) if step in POOLS]
    if len(pools) > 1 or pools and pools[0] != 0:
        return "a pool (mean_pool, cls_pool) comes once, first"
    if "top_k" in steps and steps.index("top_k") != len(steps) - 1:
        return "top_k comes last"
    if "top_k" in steps and not k >= 1:
        return f"k is {k}; top_k needs k >= 1"
    if labels is not None and ("top_k" not in steps or not all(isinstance(label, str) for label in labels)):
        return "labels name top_k's answers: give a list of strings and end the chain with top_k"
    return None


def answer_names(section: dict[str, Any]) -> list[str]:
    return [VECTOR, TOP_K] if "top_k" in section["steps"] else [VECTOR]


def apply(section: dict[str, Any], output: np.ndarray, mask: np.ndarray, double: bool = False) -> dict[str, np.ndarray]:
    """The chain on one batch's model output; mask is the tokenizer's attention mask (batch, seq). The vector is
    float32 unless double (the float64 reference keeps its precision)."""
    x = np.asarray(output, dtype=np.float64)
    best = None
    for step in section["steps"]:
        if step == "mean_pool":
            weights = np.asarray(mask, dtype=np.float64)[..., None]
            x = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        elif step == "cls_pool":
            x = x[:, 0]
        elif step == "l2_normalize":
            x = x / np.maximum(np.sqrt((x * x).sum(axis=-1, keepdims=True)), 1e-12)
        elif step == "softmax":
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            x = e / e.sum(axis=-1, keepdims=True)
        elif step == "top_k":
            best = np.argsort(-x, axis=-1, kind="stable")[:, : section["k"]].astype(np.int64)
    answers = {VECTOR: x if double else x.astype(np.float32)}
    return answers if best is None else {**answers, TOP_K: best}


def check_shape(section: dict[str, Any], output: np.ndarray) -> str | None:
    """Why the chain cannot read this output (a pool needs (batch, seq, width), the rest (batch, width)), or None."""
    want = 3 if section["steps"] and section["steps"][0] in POOLS else 2
    if output.ndim != want:
        return (f"output {section['output']} has shape {list(output.shape)}; the chain {section['steps']} reads "
                f"{'(batch, seq, width)' if want == 3 else '(batch, width)'}")
    labels = section.get("labels")
    if labels is not None and len(labels) != output.shape[-1]:
        return f"{len(labels)} labels for {output.shape[-1]} scores in output {section['output']}"
    if "k" in section and section["k"] > output.shape[-1]:
        return f"k is {section['k']}, over the {output.shape[-1]} scores of output {section['output']}"
    return None
