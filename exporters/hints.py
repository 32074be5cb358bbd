"""What to try when an export fails, chosen by the failure's cause rather than by the format.

One registry: the first cause whose pattern matches the error (type and message) gives the hint;
a format's own hint is the fallback.
"""

from __future__ import annotations

import re

DATA_DEPENDENT = (
    "the model branches on a tensor's value (data-dependent control flow): rewrite the branch with "
    "torch.cond, or retry with --draft-export to see where"
)

CAUSES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"declared signature disagrees", re.I),
     "the exporter fixed a dim the spec declares dynamic (or renamed or retyped a port): check that the model "
     "does not specialize that dim (a loop over it, a size read as a Python int), or declare it static. Known "
     "cause: OpenVINO converted from the ExportedProgram fixes an nn.LSTM's sequence dim in its outputs"),
    (re.compile(r"missing operator", re.I),
     "the ExecuTorch program needs an operator kernel its runtime does not register (named in the error): "
     "rewrite that op with supported ones, or link a kernel library that provides it"),
    (re.compile(r"refuses golden", re.I),
     "the artifact serves fewer sizes than the declared box (the refused case and its dims are named): its "
     "exporter fixed or narrowed a dynamic dim. Known causes: ATen's convolution branches at batch 16 and AOTI "
     "and ExecuTorch keep the example's side; ExecuTorch unrolls nn.LSTM over the sequence, fixing it to the "
     "example's length. Declare a box the format can serve, or leave the format out"),
    (re.compile(r"data.dependent|GuardOnDataDependent|Dynamic control flow is not supported", re.I), DATA_DEPENDENT),
    (re.compile(r"Constraints violated|specializ|ConstraintViolation", re.I),
     "a dim declared dynamic is fixed by the model (or its bounds are too wide): check the ModelSpec's Dim "
     "bounds, or retry with --draft-export to see which line fixes it"),
    (re.compile(r"CppCompileError|InvalidCxxCompiler|No working C compiler|command .*g\+\+.* failed", re.I),
     "a C++ compile failed: AOTI needs g++ and the Python headers at export time; see the log"),
    (re.compile(r"No conversion rule|OpConversionFailure|FrontEnd.*(not supported|failed)", re.I),
     "OpenVINO's PyTorch frontend lacks an operator of this model; try converting from the ONNX artifact"),
    (re.compile(r"Unsupported FX nodes|No decomposition|OnnxExporterError|not supported in ONNX", re.I),
     "an operator has no ONNX translation; see the export log, or register a custom translation"),
    (re.compile(r"XNNPACK|Partitioner|memory plan", re.I),
     "ExecuTorch lowering failed: dynamic dims need a max bound for memory planning; see the log"),
    (re.compile(r"^Timeout\b"), "raise --timeout, or export this format alone to see how long it takes"),
    (re.compile(r"^Crash\b"), "the exporter crashed in native code; see the log, and report it upstream with the model"),
    (re.compile(r"^Exit\b"), "the model or an exporter called sys.exit(); remove that call from the model code"),
]


def hint_for(error: str, fallback: str) -> str:
    return next((hint for pattern, hint in CAUSES if pattern.search(error)), fallback)
