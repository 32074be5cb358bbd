"""ExecuTorch program lowered to the XNNPACK backend (.pte)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract.causes import Cause, decisive_line
from ..spec import ModelSpec
from .base import REMEDIES, ExportOptions, Format, Predict, export_program, torch_predict

if TYPE_CHECKING:
    import torch


FILE = "model.pte"


def export(spec: ModelSpec, out: Path, options: ExportOptions) -> None:
    from executorch.exir import to_edge_transform_and_lower

    from .attention import VIEW_AFTER_DECOMPOSITION, MathAttention

    try:
        lowered = to_edge_transform_and_lower(export_program(spec), partitioner=[_partitioner()])
    except Exception as exc:  # SDPA's decomposition broke views the trace recorded: trace it as math (attention.py)
        if not VIEW_AFTER_DECOMPOSITION.search(str(exc)):
            raise
        with MathAttention():
            program = export_program(spec)
        lowered = to_edge_transform_and_lower(program, partitioner=[_partitioner()])
        REMEDIES.append("lowering decomposes scaled_dot_product_attention into another layout than the trace's views "
                        f"assumed ({decisive_line(exc)}): traced it as aten's math composition")
    (out / FILE).write_bytes(lowered.to_executorch().buffer)


def _partitioner() -> Any:
    """XNNPACK's partitioner, except that unsqueezes with more than one dynamic dim stay portable.

    XNNPACK writes unsqueeze as a static reshape, which allows one dynamic dim, but executorch 1.4's
    partitioner checks only the axis: a padded [batch, seq] attention mask unsqueezed to
    [batch, 1, 1, seq] then fails the whole lowering ("reshape only supports 1 dynamic dimension").
    """
    import torch

    from executorch.backends.xnnpack.partition.config import ALL_PARTITIONER_CONFIGS
    from executorch.backends.xnnpack.partition.config.generic_node_configs import UnsqueezeCopyConfig
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from torch.fx.experimental.symbolic_shapes import free_symbols

    class UnsqueezeOneDynamicDim(UnsqueezeCopyConfig):
        def check_constraints(self, node: torch.fx.Node, ep: torch.export.ExportedProgram) -> bool:
            dynamic = sum(1 for size in node.meta["val"].shape if free_symbols(size))
            return dynamic <= 1 and super().check_constraints(node, ep)

    configs = [UnsqueezeOneDynamicDim if config is UnsqueezeCopyConfig else config for config in ALL_PARTITIONER_CONFIGS]
    return XnnpackPartitioner(configs=configs)


def load(folder: Path, manifest: dict[str, Any], threads: int | None = None) -> Predict:
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool
    from executorch.runtime import Runtime

    if threads:  # XNNPACK runs on ExecuTorch's own process-wide pool, not torch's
        _unsafe_reset_threadpool(threads)

    method = Runtime.get().load_program(folder / FILE).load_method("forward")
    return torch_predict(lambda *tensors: method.execute(list(tensors)), manifest)


def needs(folder: Path) -> dict[str, Any]:
    """The flatbuffer file identifier (bytes 4..8, e.g. ET12): the program schema a runtime must read."""
    with open(folder / FILE, "rb") as program:
        head = program.read(8)
    return {"pte_file_identifier": head[4:8].decode("ascii", "replace")}


FORMAT = Format(
    name="executorch",
    description="ExecuTorch program with XNNPACK delegation (.pte)",
    main=FILE,
    export=export,
    load=load,
    runtime="executorch.runtime",
    runtime_package="executorch",
    hint="dynamic dims need a max bound for memory planning, and torch must be the version executorch was built for",
    causes=(Cause(re.compile(r"XNNPACK|Partitioner|memory plan", re.I),
                  "ExecuTorch lowering failed: dynamic dims need a max bound for memory planning; see the log"),),
    long_export=True,
    caveat=("ExecuTorch targets edge devices: no desktop JVM artifact exists, the JVM needs a JNI shim over "
             "its C++ runtime, and executorch is built against one exact torch"),
    threads="executorch _unsafe_reset_threadpool (experimental, process-wide)",
    # a Method's execute is not thread-safe (inputs are set on the Method itself)
    shared_calls=False,
    needs=needs,
    need_keys=("pte_file_identifier",),
    packages=("torch", "executorch"),
)
