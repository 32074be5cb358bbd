"""The declared shape box: golden cases reach every dim's min and max, and a format that cannot serve
the box fails its export by cause instead of passing on the sizes it happened to be shown."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from conftest import ROOT, manifest_of, run_cli
from exporters import box
from exporters.golden import golden_inputs
from exporters.spec import load_user_spec
from exporters.zoo import ZOO, load_spec

sys.path.insert(0, str(ROOT / "tests" / "team_model"))


def _specs():
    return [load_spec(name) for name in ZOO] + [load_user_spec("ticket_classifier.model:build")]


@pytest.mark.parametrize("spec", _specs(), ids=lambda spec: spec.name)
def test_golden_cases_reach_every_dims_min_and_max_and_inside(spec) -> None:
    cases = [case for _, case in golden_inputs(spec)]
    for name, dim in box.dims(spec).items():
        sizes = {case[input_name].shape[axis] for case in cases
                 for input_name, axes in spec.dynamic.items() for axis, d in axes.items() if d.name == name}
        assert {dim.min, dim.max} <= sizes, (name, sizes)
        inside = [size for size in sizes if dim.min < size < dim.max and size & (size - 1)]
        assert inside, f"{name}: no interior size that is not a power of two in {sorted(sizes)}"
    for case in cases:  # dims that share a name move together
        for name in box.dims(spec):
            seen = {case[i].shape[a] for i, axes in spec.dynamic.items() for a, d in axes.items() if d.name == name}
            assert len(seen) == 1, (name, seen)


@pytest.mark.parametrize("model", ["transformer", "encoder"])
def test_box_cases_keep_token_structure(model: str) -> None:
    """Ids stay within the example's range, masks stay 0/1 with padding at the end and a first token kept."""
    spec = load_spec(model)
    low = min(int(case["input_ids"].min()) for case in spec.golden)
    high = max(int(case["input_ids"].max()) for case in spec.golden)
    for label, case in golden_inputs(spec):
        ids, mask = case["input_ids"], case["attention_mask"]
        assert low <= int(ids.min()) and int(ids.max()) <= high, label
        assert set(mask.unique().tolist()) <= {0, 1}, label
        assert bool((mask[:, 1:] <= mask[:, :-1]).all()), f"{label}: padding not at the end"
        assert bool((mask[:, 0] == 1).all()), f"{label}: a row with no token"


def test_grown_float_rows_are_not_copies() -> None:
    spec = load_spec("mlp")
    largest = dict(golden_inputs(spec))["max"]["x"]
    assert largest.shape[0] == 64 and torch.unique(largest, dim=0).shape[0] == 64


def test_an_oversized_corner_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:oversized", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rows=1000000" in lines[0] and "lower the max of rows" in lines[0], lines
    assert "--case-budget-mb" in lines[0]
    assert not (tmp_path / "oversized").exists()


def test_make_case_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:bad_make_case", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "make_case({'batch': 1}) gave features torch.float32 [2, 8], expected torch.float32 [1, 4]" in result.stderr
    assert not (tmp_path / "bad_make_case").exists()


def test_cnn_serves_its_declared_max_batch_in_aoti_and_executorch(tmp_path: Path) -> None:
    """Regression: the golden cases never reached cnn's max batch, where both formats refused it."""
    exported = run_cli("exporters", "export", "cnn", "-f", "aoti", "-f", "executorch", "--out", str(tmp_path))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    manifest = manifest_of(tmp_path / "cnn")
    assert manifest["golden"]["box"] == {"batch": [1, 15]}
    assert run_cli("exporters", "verify", str(tmp_path / "cnn")).returncode == 0
    for name in ("aoti", "executorch"):
        assert manifest_of(tmp_path / "cnn")["formats"][name]["verification"][
            f"python/{'torch._inductor.aoti_load_package' if name == 'aoti' else 'executorch.runtime'}"]["box"] == {
            "batch": [1, 15]}


def test_a_box_a_format_cannot_serve_fails_its_export_by_cause(tmp_path: Path) -> None:
    """Across batch 16 AOTI compiles for batch <= 15 and ExecuTorch plans memory for 15: export says so."""
    result = run_cli("exporters", "export", "tests.user_model:cnn_across_16", "-f", "aoti", "-f", "executorch",
                     "--out", str(tmp_path))
    assert result.returncode == 1
    formats = manifest_of(tmp_path / "cnn_across_16")["formats"]
    for name in ("aoti", "executorch"):
        entry = formats[name]
        assert entry["status"] == "failed" and "refuses golden" in entry["error"] and "batch=16" in entry["error"], entry
        assert "fixed or narrowed a dynamic dim" in entry["hint"] and "batch 16" in entry["hint"], entry
        assert not (tmp_path / "cnn_across_16" / name).exists()


def test_a_program_that_cannot_load_fails_its_export_naming_the_operator(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:embedding_bag", "-f", "executorch", "--out", str(tmp_path))
    assert result.returncode == 1
    entry = manifest_of(tmp_path / "embedding_bag")["formats"]["executorch"]
    assert entry["status"] == "failed" and "does not load" in entry["error"], entry
    assert "missing operator aten::_embedding_bag.out" in entry["error"], entry
    assert "kernel" in entry["hint"], entry


def test_an_artifacts_own_signature_is_checked_against_the_manifest(mlp_dir: Path) -> None:
    """ONNX graph ports and OpenVINO IR shapes are read back: a fixed dim the manifest calls dynamic,
    or a bound narrower than the box, is named."""
    from exporters.formats import FORMATS
    from exporters.formats.base import signature_mismatches

    manifest = manifest_of(mlp_dir)
    onnx, openvino = (FORMATS[name].signature(mlp_dir / name) for name in ("onnx", "openvino"))
    assert signature_mismatches(onnx, manifest) == [] and signature_mismatches(openvino, manifest) == []
    wider = {**manifest, "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", "features"]}],
             "dims": {"batch": {"min": 1, "max": 128}, "features": {"min": 1, "max": 20}}}
    assert signature_mismatches(onnx, wider) == [
        "input x dim 1 is fixed to 10 in the artifact, where the manifest's features is dynamic"]
    assert signature_mismatches(openvino, wider) == [
        "input x dim 0 (batch) accepts 1..64 in the artifact, narrower than the declared 1..128",
        "input x dim 1 is fixed to 10 in the artifact, where the manifest's features is dynamic"]
    retyped = {**manifest, "outputs": [{"name": "y", "dtype": "float64", "shape": ["batch", 1]}]}
    assert signature_mismatches(onnx, retyped) == ["output y is float32 in the artifact, float64 in the manifest"]


def test_an_lstm_keeps_its_sequence_dynamic_where_a_format_can_and_fails_by_cause_where_not(tmp_path: Path) -> None:
    """torch.export under the while_loop decomposition keeps seq dynamic (ONNX declares it in its output too);
    TorchScript's tracer warnings are torch's own size checks, recorded, and the box's cases decide."""
    formats = ["torchscript", "exported_program", "onnx", "executorch", "openvino"]
    required = ("--require", "torchscript", "--require", "exported_program", "--require", "onnx", "--require", "openvino")
    result = run_cli("exporters", "export", "tests.user_model:lstm_tagger", *(f"-f{name}" for name in formats),
                     *required, "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr  # the two that cannot serve the box only inform
    model_dir = tmp_path / "lstm_tagger"
    entries = manifest_of(model_dir)["formats"]
    assert [entries[name]["status"] for name in formats] == ["ok", "ok", "ok", "failed", "ok"], entries
    assert any("rnn.py" in warning for warning in entries["torchscript"]["warnings"])
    assert "refuses golden" in entries["executorch"]["error"] and "nn.LSTM" in entries["executorch"]["hint"]
    # OpenVINO's PyTorch frontend fixes seq in the output; its ONNX frontend keeps it, and the manifest says which made it
    (tried,) = entries["openvino"]["export_path"]["tried"]
    assert "output tags dim 1 is fixed to 2" in tried["error"] and tried["path"] == "the PyTorch frontend over the ExportedProgram"
    assert entries["openvino"]["export_path"]["taken"] == "the ONNX frontend over the ONNX exporter's graph"
    from exporters.formats import FORMATS

    (output,) = FORMATS["onnx"].signature(model_dir / "onnx")["outputs"]
    assert output[2] == [(None, None), (None, None), 17]
    verified = run_cli("exporters", "verify", str(model_dir))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for name in ("torchscript", "exported_program", "onnx", "openvino"):
        (result,) = manifest_of(model_dir)["formats"][name]["verification"].values()
        assert result["passed"] and result["box"] == {"batch": [1, 16], "seq": [2, 64]}, (name, result)
    assert manifest_of(model_dir)["golden"]["box"] == {"batch": [1, 16], "seq": [2, 64]}
