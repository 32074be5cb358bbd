"""scaled_dot_product_attention traced as its math composition, for a lowering that decomposes it.

torch.export records SDPA as one op with the fused CPU kernel's output layout, and the views the model takes
after it (transpose, reshape, then .view in a linear layer, as GPT-2's attention does) as plain views of that
layout. Decomposing SDPA later (ExecuTorch's to_edge, ep.run_decompositions) gives its output another layout,
and with a dynamic sequence those recorded views no longer apply: "Cannot view a tensor with shape [s0, s1, 128]
and strides (128, 128*s0, 1) ...". Tracing SDPA as aten's math composition from the start keeps the trace's views
consistent with what lowering runs.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

# The failure this remedies, as torch words it.
VIEW_AFTER_DECOMPOSITION = re.compile(r"Cannot view a tensor with shape")


class MathAttention(TorchFunctionMode):
    """While active, F.scaled_dot_product_attention runs (and traces) as aten's math composition."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is not torch.nn.functional.scaled_dot_product_attention:
            return func(*args, **kwargs)
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal")
        given = {**dict(zip(names, args)), **kwargs}
        return torch.ops.aten._scaled_dot_product_attention_math(
            given["query"], given["key"], given["value"], given.get("attn_mask"), given.get("dropout_p", 0.0),
            given.get("is_causal", False), scale=given.get("scale"), enable_gqa=given.get("enable_gqa", False))[0]
