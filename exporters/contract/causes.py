"""Why something failed, in one line, and what to try: chosen by the cause found in the failure's text.

Exporters and runtimes rarely put their reason first: OpenVINO opens with source locations, torch.export
with a summary ("Constraints violated (past)!") before the guard that decides, a TorchScript traceback
with frames. `decisive_line` keeps the reason (the Java side applies the same rule: Messages.decisive, with
the shared vectors in tests/contract_vectors/failure_lines.json). `hint_for` picks what to try by the
cause in the whole text, and names a known cause only where the model has the modules behind it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Lines that only say where, never why.
LOCATION = re.compile(r"^(Exception from \S+:\d*:?|Traceback.*|The following operation failed.*|File \".*"
                      r"|Exception raised from .*|frame #\d+.*|\s*~*\^*~*|Check '.*' failed at \S+:\d+:?)$")
ERROR_LINE = re.compile(r"^[A-Za-z._]*(Error|Exception)\b.*")
# Reasons that decide wherever they sit in the text: the first match wins.
DECISIVE = [re.compile(pattern) for pattern in (
    r"Not all values of .* satisfy the generated guard .*",
    r"Could not guard on data-dependent expression .*",
    r"Missing operator: .*",
    r"Unknown builtin op: .*",
    r"Cannot view a tensor with shape .*",
)]
LIMIT = 500


def decisive_line(failure: BaseException | str) -> str:
    """The failure's reason on one bounded line: a decisive match joined to the first line where the match is
    elsewhere; after leading locations, a traceback's last error line or the last line (OpenVINO's order)."""
    text = ANSI.sub("", str(failure))
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    reasons = [line for line in lines if not LOCATION.match(line)] or lines
    head = reasons[0]
    for pattern in DECISIVE:
        found = next((match.group(0) for line in reasons if (match := pattern.search(line))), None)
        if found:
            return _bounded(found if found in head else f"{_bounded(head, 160)} {found}")
    if LOCATION.match(lines[0]) and len(lines) > 1:
        errors = [line for line in reasons if ERROR_LINE.match(line)]
        return _bounded(errors[-1] if errors else reasons[-1])
    return _bounded(head)


def _bounded(line: str, limit: int = LIMIT) -> str:
    return line if len(line) <= limit else line[:limit - 3] + "..."


@dataclass(frozen=True)
class Cause:
    """A failure's cause, found by its pattern in the error text; `known` adds causes seen before only where the
    model has the module kind behind each (a hint never names a cause the model does not have)."""

    pattern: re.Pattern[str]
    hint: str
    known: tuple[tuple[frozenset[str], str], ...] = ()  # (torch module class names, the known cause)

    def advice(self, kinds: frozenset[str]) -> str:
        seen = [cause for names, cause in self.known if names & kinds]
        return self.hint + (f". Known cause in this model: {'; '.join(seen)}" if seen else "")


DATA_DEPENDENT = (
    "the model's control flow or an output's size depends on a tensor's values (data-dependent): torch.export "
    "cannot trace it as is (--draft-export shows where). Rewrite a branch with torch.cond, bound a size with "
    "torch._check, or use the formats that do not go through torch.export (TorchScript; ONNX's TorchScript-based "
    "exporter)")
GUARD_FAILS = (
    "the model holds a size fact only for part of the declared range of that dim (the guard torch.export generated and "
    "the first size where it fails are named): narrow the Dim's bounds to where it holds, or change the line that "
    "computes that size (--draft-export shows the line)")
UNPROVEN_GUARD = (
    "torch.export could not prove a guard on a dim declared dynamic (named): where each guard can be checked at every "
    "declared size the export retries with Dim.AUTO by itself, and this one could not. State the fact with "
    "torch._check(...) in the model, simplify the size arithmetic the guard names, or retry with --draft-export")
FIXED_DIM = ("the exporter fixed a dim the spec declares dynamic: check that the model does not specialize it (a "
             "loop over it, a size read as a Python int), or declare it static")

# torch.nn's own classes only: Hugging Face's GPT-2 "Conv1D" is a linear layer.
CONVOLUTIONS = frozenset({"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"})
LSTM = frozenset({"LSTM"})

# The causes any format's export or any runtime's refusal may show (the gate reads a runtime's): first match wins.
# What only one format's exporter says is that format's (Format.causes), tried after these.
CAUSES: list[Cause] = [
    Cause(re.compile(r"declared signature disagrees", re.I), FIXED_DIM + " (or that no port was renamed or retyped)",
          ((LSTM, "OpenVINO converted from the ExportedProgram fixes an nn.LSTM's sequence dim in its outputs"),)),
    Cause(re.compile(r"ExecuTorch: \S+ failed: Attempted to resize a static tensor"),
          "the program's memory plan holds a tensor at the example's size whose size the box varies (the operator "
          "whose output it is is named: often an arange or a mask built from a dynamic dim): the lowered program "
          "fixed that size. Declare that dim static for this format (a box it can serve), or leave the format out"),
    Cause(re.compile(r"missing operator", re.I),
          "the ExecuTorch program needs an operator kernel its runtime does not register (named in the error): "
          "rewrite that op with supported ones, or link a kernel library that provides it"),
    Cause(re.compile(r"Unknown builtin op: (\w+)::"),
          "the program calls an operator from a library its runtime has not loaded (the namespace before '::' "
          "names it, e.g. torchvision): load that operator library in the runtime"),
    Cause(re.compile(r"Offset value exceeds indices size", re.I),
          "a runtime semantic that differs from PyTorch on a valid input: OpenVINO's EmbeddingBagOffsetsSum refuses "
          "an offset equal to the number of ids, which PyTorch takes as an empty last bag. A service that sends "
          "empty bags cannot use OpenVINO; one that never does can declare a box whose cases have none (make_case)"),
    Cause(re.compile(r"Cannot view a tensor with shape", re.I),
          "lowering decomposed an op into another memory layout than the views the trace recorded after it assume "
          "(a dynamic dim under transpose/reshape then .view; scaled_dot_product_attention is retried as its math "
          "composition by itself): compute that tensor so the view holds (.contiguous() before .view, or .reshape "
          "instead of .view, after the op the log names), or declare those dims static for this format"),
    Cause(re.compile(r"refuses golden", re.I),
          "the artifact serves fewer sizes than the declared box (the refused case and its dims are named): its "
          "exporter fixed or narrowed a dynamic dim. Declare a box the format can serve, or leave the format out",
          ((CONVOLUTIONS, "ATen's convolution branches at batch 16 and AOTI and ExecuTorch keep the example's side"),
           (LSTM, "ExecuTorch unrolls nn.LSTM over the sequence, fixing it to the example's length"))),
    Cause(re.compile(r"data.dependent|GuardOnDataDependent|Dynamic control flow is not supported", re.I), DATA_DEPENDENT),
    Cause(re.compile(r"that torch\.export generated fails at"), GUARD_FAILS),
    Cause(re.compile(r"satisfy the generated guard", re.I), UNPROVEN_GUARD),
    Cause(re.compile(r"Constraints violated|specializ|ConstraintViolation", re.I), FIXED_DIM + " (--draft-export shows the line)"),
    Cause(re.compile(r"^Timeout\b"), "raise --timeout, or export this format alone to see how long it takes"),
    Cause(re.compile(r"^Crash\b"), "the exporter crashed in native code; see the log, and report it upstream with the model"),
    Cause(re.compile(r"^Exit\b"), "the model or an exporter called sys.exit(); remove that call from the model code"),
]


def hint_for(error: str, fallback: str, kinds: frozenset[str] = frozenset(), own: Sequence[Cause] = ()) -> str:
    """What to try: the first cause found in the error's text (the shared ones, then the format's OWN), else the
    format's own hint. `kinds` are the class names of the model's modules."""
    return next((cause.advice(kinds) for cause in (*CAUSES, *own) if cause.pattern.search(error)), fallback)
