"""Failures that say why: the decisive line of each cause on one line, the hint that cause picks (never one the model
does not have), the remedies tried before a format fails, the worst case a failed verdict names, and `diagnose`
finding the first module whose answers leave the rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, manifest_of, run_cli
from exporters.contract.causes import decisive_line, hint_for
from exporters.contract.parity import Parity
from exporters.spec import Dim, ModelSpec

VECTORS = json.loads((ROOT / "tests/contract_vectors/failure_lines.json").read_text())


@pytest.mark.parametrize("vector", VECTORS, ids=[v["case"] for v in VECTORS])
def test_the_decisive_line_is_the_reason_not_the_first_line(vector: dict) -> None:
    """The same vectors hold Java's Messages.decisive (MessagesTest) to the same lines."""
    assert decisive_line(vector["message"]) == vector["line"]


# One failure text per cause, as the exporters and runtimes word it, and a phrase of the hint it must pick.
CAUSE_TEXTS = {
    "guard not provable": ("UserError: Constraints violated (past)! Not all values of past = L['past'].size()[1] in the "
                           "specified range past <= 255 satisfy the generated guard (min(16*s0, 8) % 16) == 0.", "could not prove a guard"),
    "guard failing inside the range": ("GuardFails: the guard past <= 100 that torch.export generated fails at past=101, "
                                       "inside the declared past 2..255", "narrow the Dim's bounds"),
    "operator without a kernel": ("RefusedCase: the exported artifact does not load in executorch: ... (missing operator "
                                  "aten::_embedding_bag.out)", "kernel library"),
    "operator library not loaded": ("RuntimeError: Unknown builtin op: torchvision::nms.", "load that operator library"),
    "runtime rejecting an input value": ("RefusedCase: the exported artifact refuses golden case4: EmbeddingBagOffsetsSum "
                                         "node with name 'bag' Offset value exceeds indices size.", "differs from PyTorch"),
    "lowering view/stride": ("RuntimeError: Cannot view a tensor with shape [s43, s53, 128] and strides (128, 128*s43, 1) "
                             "as a tensor with shape (s43*s53, 128)!", ".contiguous()"),
    "dim fixed by the exporter": ("RefusedCase: the artifact's declared signature disagrees with the manifest: output tags "
                                  "dim 1 is fixed to 2", "fixed a dim the spec declares dynamic"),
    "a static tensor in the memory plan": ("RefusedCase: the exported artifact refuses golden case1 (min: batch=1, seq=2): "
                                           "method->execute() failed with error 0x12 (ExecuTorch: aten::arange.start_out "
                                           "failed: Attempted to resize a static tensor. Expected shape (2), but received (1).)",
                                           "memory plan holds a tensor"),
    "data-dependent": ("GuardOnDataDependentSymNode: Could not guard on data-dependent expression Eq(4*u1, 0)", "torch.cond"),
}


@pytest.mark.parametrize("cause", CAUSE_TEXTS)
def test_each_cause_picks_its_own_hint(cause: str) -> None:
    text, phrase = CAUSE_TEXTS[cause]
    hint = hint_for(text, "the format's own hint")
    assert phrase in hint, hint
    others = [p for c, (_, p) in CAUSE_TEXTS.items() if c != cause and p != phrase]
    assert not [p for p in others if p in hint], hint


# What one format's exporter says, and a phrase of the hint its own cause picks (Format.causes).
OWN_CAUSES = {
    "aoti": ("CppCompileError: C++ compile error\nCommand: g++ /tmp/torchinductor/ab/cabc.cpp", "a C++ compile failed"),
    "openvino": ("OpConversionFailure: Check 'is_conversion_successful' failed: No conversion rule found for aten::frobnicate",
                 "OpenVINO's PyTorch frontend lacks an operator"),
    "onnx": ("OnnxExporterError: Failed to convert the exported program to an ONNX model. Unsupported FX nodes: "
             "{'call_function': ['aten.frobnicate.default']}", "no ONNX translation"),
    "executorch": ("RuntimeError: XNNPACK delegate failed to lower the graph", "ExecuTorch lowering failed"),
}


@pytest.mark.parametrize("name", OWN_CAUSES)
def test_a_format_s_own_cause_picks_its_hint_for_that_format_only(name: str, tmp_path: Path) -> None:
    """An exporter's own words pick that format's hint; another format given the same text keeps its own hint."""
    from exporters import worker
    from exporters.formats import FORMATS

    text, phrase = OWN_CAUSES[name]
    log = tmp_path / "export.log"
    log.write_text("")
    failed = lambda fmt: worker._failure(RuntimeError(text), fmt, frozenset(), log)["hint"]  # the worker's record
    assert phrase in failed(FORMATS[name]), failed(FORMATS[name])
    for other in set(FORMATS) - {name}:
        assert failed(FORMATS[other]) == FORMATS[other].hint
    assert hint_for(text, "the gate's fallback") == "the gate's fallback"  # a runtime's refusal never reads them


def test_a_hint_names_a_known_cause_only_where_the_model_has_its_module() -> None:
    refused = "RefusedCase: the exported artifact refuses golden case3 (max: batch=16) inside the declared box: shape"
    plain = hint_for(refused, "", frozenset({"Linear", "ReLU"}))
    assert "LSTM" not in plain and "convolution" not in plain, plain
    tagger = hint_for(refused, "", frozenset({"Embedding", "LSTM", "Linear"}))
    assert "nn.LSTM" in tagger and "convolution" not in tagger, tagger
    assert "convolution" in hint_for(refused, "", frozenset({"Conv2d"}))


def test_guards_are_checked_at_every_size_of_the_declared_range() -> None:
    import torch

    from exporters.formats.guards import unproven_guards

    spec = ModelSpec(module=torch.nn.Identity(), inputs={"past": torch.zeros(1, 5)}, outputs=["y"],
                     dynamic={"past": {1: Dim("past", 2, 255)}})
    text = ("Constraints violated (past)!\n"
            "  - Not all values of past = L['past'].size()[1] in the specified range past <= 255 satisfy the generated "
            "guard min(16 + 16*L['past'].size()[1], 32 + 32*L['past'].size()[1]) == (16 + 16*L['past'].size()[1]).\n"
            "  - Not all values of past = L['past'].size()[1] in the specified range past <= 255 satisfy the generated "
            "guard (L['past'].size()[1] % 7) != 0.\n"
            "  - Not all values of past = L['past'].size()[1] in the specified range past <= 255 satisfy the generated "
            "guard __import__('os').getpid() > 0.\n")
    holds, fails, refused = unproven_guards(RuntimeError(text), spec)
    assert (holds.expression, holds.fails_at, holds.checked) == ("min(16 + 16*past, 32 + 32*past) == (16 + 16*past)", None, True)
    assert (fails.expression, fails.fails_at) == ("(past % 7) != 0", 7)
    assert (refused.fails_at, refused.checked) == (None, False)  # never evaluated: not size arithmetic


def test_a_failed_verdict_names_its_worst_case_output_and_element() -> None:
    rules = {"outputs": {"y": {"rule": "fixed", "atol": 1e-3, "rtol": 0.0}}}
    parity = Parity(rules)
    parity.add("case0", {"y": np.zeros((2, 3))}, {"y": np.zeros((2, 3))}, "min: batch=2")
    parity.add("case1", {"y": np.array([[0, 0, 0], [0, 0.5, 0]])}, {"y": np.zeros((2, 3))}, "max: batch=2")
    result = parity.as_dict()
    assert not result["passed"] and result["failed_cases"] == ["case1"]
    assert result["worst"] == {"case": "case1", "at": "max: batch=2", "output": "y", "index": [1, 1], "ratio": 500.0,
                               "err": 0.5}


def test_an_unprovable_guard_is_remedied_with_dim_auto_and_a_failing_one_named(tmp_path: Path) -> None:
    """The decoder step: torch cannot prove its guards, each holds at every past of 2..255, so the export retries with
    Dim.AUTO and records it; OpenVINO's PyTorch frontend lacks sym_min, so its ONNX path makes the IR. The windowed
    step really is another program past 100: its guard is named with the first size it fails at."""
    formats = ("-f", "exported_program", "-f", "openvino")
    result = run_cli("exporters", "export", "tests.failure_models:decoder_step", *formats, "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    entries = manifest_of(tmp_path / "decoder_step")["formats"]
    remedy = entries["exported_program"]["remedies"][0]
    assert "could not prove 11 guard(s) on past that hold at every declared size" in remedy, remedy
    assert "min(16 + 16*past, 32 + 32*past)" in remedy and "Dim.AUTO" in remedy
    path = entries["openvino"]["export_path"]
    assert path["taken"] == "the ONNX frontend over the ONNX exporter's graph", path
    assert path["tried"][0]["path"] == "the PyTorch frontend over the ExportedProgram"
    assert "No conversion rule found" in path["tried"][0]["error"] and "sym_min" in path["tried"][0]["error"]
    assert "remedy: torch.export could not prove" in result.stderr and "exported through the ONNX frontend" in result.stderr
    verified = run_cli("exporters", "verify", str(tmp_path / "decoder_step"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for name in ("exported_program", "openvino"):
        (check,) = manifest_of(tmp_path / "decoder_step")["formats"][name]["verification"].values()
        assert check["passed"] and check["box"] == {"past": [2, 255]}, (name, check)

    failed = run_cli("exporters", "export", "tests.failure_models:windowed_step", "-f", "exported_program", "--out",
                     str(tmp_path))
    assert failed.returncode == 1
    entry = manifest_of(tmp_path / "windowed_step")["formats"]["exported_program"]
    assert entry["error"].startswith("GuardFails: the guard 2 <= past and past <= 100 that torch.export generated fails "
                                     "at past=101, inside the declared past 2..255"), entry["error"]
    assert "narrow the Dim's bounds" in entry["hint"], entry["hint"]


def test_box_derivation_that_breaks_structure_names_the_case_and_make_case(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.failure_models:bags_without_make_case", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "the golden case at max (n_ids=64, batch=256) was derived from the spec's own inputs by resizing each input" in line
    assert "(ids [6] -> [64], offsets [3] -> [256])" in line and "eager PyTorch refused it: RuntimeError:" in line
    assert "give ModelSpec(make_case=...)" in line, line
    assert not (tmp_path / "bags").exists()


def test_a_runtime_semantic_that_differs_from_pytorch_is_named(tmp_path: Path) -> None:
    """make_case builds empty bags, which PyTorch takes: ONNX serves them, OpenVINO refuses the offset and says why."""
    result = run_cli("exporters", "export", "tests.failure_models:bags", "-f", "onnx", "-f", "openvino", "--require",
                     "onnx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    entries = manifest_of(tmp_path / "bags")["formats"]
    assert entries["onnx"]["status"] == "ok"
    entry = entries["openvino"]
    assert entry["status"] == "failed" and entry["error"].startswith("RefusedCase: the exported artifact refuses golden")
    assert "Offset value exceeds indices size." in entry["error"] and "Exception from src/" not in entry["error"]
    assert "which PyTorch takes as an empty last bag" in entry["hint"] and "LSTM" not in entry["hint"], entry["hint"]


@pytest.fixture(scope="module")
def diverging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("diverging")
    exported = run_cli("exporters", "export", "tests.failure_models:diverging", "-f", "onnx", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    verified = run_cli("exporters", "verify", str(out / "diverging"))
    assert verified.returncode == 1, verified.stdout + verified.stderr
    return out / "diverging"


def test_a_failed_verdict_names_where_on_its_line_and_in_the_manifest(diverging: Path) -> None:
    result = manifest_of(diverging)["formats"]["onnx"]["verification"]["python/onnxruntime"]
    worst = result["worst"]
    assert not result["passed"] and worst["output"] == "y" and worst["ratio"] > 1e3, result
    assert worst["at"].startswith(next(c["at"] for c in manifest_of(diverging)["golden"]["cases"] if c["name"] == worst["case"]))
    gate = run_cli("exporters", "gate", str(diverging))
    assert f"at {worst['case']} ({worst['at']}), output y{worst['index']}" in gate.stderr, gate.stderr
    assert "python -m exporters diagnose" in gate.stderr


def test_diagnose_names_the_first_module_that_leaves_the_rule(diverging: Path) -> None:
    result = run_cli("exporters", "diagnose", str(diverging), "onnx")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first diverging operation: shrink (Shrink, ratio" in result.stderr, result.stderr
    report = json.loads((diverging.parent / "diagnose" / "diverging" / "diagnose.json").read_text())
    taps = {row["tap"]: row for row in report["taps"]}
    assert list(taps) == ["encode", "squash", "shrink", "decode"]
    assert taps["encode"]["ratio"] <= 1 and taps["squash"]["ratio"] <= 1 and taps["shrink"]["ratio"] > 100
    assert report["first_diverging"]["tap"] == "shrink" and report["runtime"] == "python/onnxruntime"


def test_diagnose_runs_the_tapped_model_through_a_jvm_runtime(diverging: Path, tmp_path: Path) -> None:
    jvm = run_cli("jvm_harness", "verify", str(diverging), "--engine", "onnxruntime")
    assert jvm.returncode == 1, jvm.stdout + jvm.stderr
    result = run_cli("exporters", "diagnose", str(diverging), "onnx", "--runtime", "jvm/onnxruntime-java", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "diverging" / "diagnose.json").read_text())
    assert report["runtime"] == "jvm/onnxruntime-java" and report["first_diverging"]["tap"] == "shrink", report
    tapped = manifest_of(tmp_path / "diverging")["formats"]["onnx"]["verification"]
    assert "jvm/onnxruntime-java" in tapped, tapped


@pytest.mark.slow
def test_a_view_broken_by_lowering_sdpa_is_remedied_by_tracing_attention_as_math(tmp_path: Path) -> None:
    """GPT-2's attention shape: ExecuTorch's lowering failed with "Cannot view a tensor with shape ..."; the export
    retries with SDPA traced as aten's math composition, records it, and the answers pass."""
    result = run_cli("exporters", "export", "tests.failure_models:attention_then_view", "-f", "executorch", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    (remedy,) = manifest_of(tmp_path / "attention_then_view")["formats"]["executorch"]["remedies"]
    assert "Cannot view a tensor with shape" in remedy and "traced it as aten's math composition" in remedy, remedy
    verified = run_cli("exporters", "verify", str(tmp_path / "attention_then_view"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
