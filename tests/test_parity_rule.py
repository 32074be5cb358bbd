"""The parity rule judges artifacts against a float64 reference and eager fp32's own error.

Good artifacts of every format pass (test_exporters); here plainly degraded ones must fail: OpenVINO
IR with fp16-compressed weights and OpenVINO's bf16 inference hint, on real exports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import manifest_of, run_cli
from exporters.contract.manifest import load_golden, read_manifest
from exporters.contract.parity import FACTOR, FLOOR_ULPS, Parity


def _openvino_parity(model_dir: Path, xml: Path, precision: str) -> dict:
    import openvino as ov

    manifest = read_manifest(model_dir)
    compiled = ov.Core().compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": precision})
    parity = Parity(manifest["parity"])
    for case in load_golden(model_dir, manifest):
        result = compiled([case.inputs[io["name"]] for io in manifest["inputs"]])
        outputs = {io["name"]: np.asarray(result[port]) for io, port in zip(manifest["outputs"], compiled.outputs)}
        parity.add(case.name, outputs, case.reference)
    return parity.as_dict()


def test_manifest_records_float64_reference_and_eager_error(mlp_dir: Path) -> None:
    manifest = manifest_of(mlp_dir)
    assert manifest["parity"]["reference"] == "float64"
    rule = manifest["parity"]["outputs"]["y"]
    assert rule["rule"] == "eager_bound" and rule["factor"] == FACTOR and rule["floor_ulps"] == FLOOR_ULPS
    for case in manifest["golden"]["cases"]:
        reference = np.load(mlp_dir / case["reference"]["y"])
        eager = np.load(mlp_dir / case["outputs"]["y"])
        assert reference.dtype == np.float64 and eager.dtype == np.float32
        recorded = rule["cases"][case["name"]]
        assert recorded["eager_err"] == pytest.approx(float(np.abs(eager - reference).max()))
        assert 0 < recorded["eager_err"] < 1e-6 and recorded["scale"] == pytest.approx(float(np.abs(reference).max()))


def test_good_openvino_ir_passes_and_fp16_weights_fail(mlp_dir: Path, tmp_path: Path) -> None:
    import openvino as ov

    xml = mlp_dir / "openvino" / "model.xml"
    good = _openvino_parity(mlp_dir, xml, "f32")
    assert good["passed"] and good["worst_ratio"] < 1, good
    fp16 = tmp_path / "fp16.xml"
    ov.save_model(ov.Core().read_model(str(xml)), str(fp16), compress_to_fp16=True)
    degraded = _openvino_parity(mlp_dir, fp16, "f32")
    assert not degraded["passed"] and degraded["max_abs_err"] > 1e-5 and degraded["worst_ratio"] > 10, degraded


def test_bf16_inference_hint_fails(mlp_dir: Path) -> None:
    import openvino as ov

    if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        pytest.skip("SKIPPED LOUDLY: this CPU has no bf16 support, so OpenVINO ignores the bf16 hint here")
    degraded = _openvino_parity(mlp_dir, mlp_dir / "openvino" / "model.xml", "bf16")
    assert not degraded["passed"] and degraded["max_abs_err"] > 1e-4, degraded


def test_user_tolerance_from_the_cli_is_recorded_and_applied(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "mlp", "-f", "onnx", "--atol", "1e-9", "--rtol", "0", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = manifest_of(tmp_path / "mlp")
    assert manifest["parity"]["outputs"]["y"] == {"rule": "fixed", "atol": 1e-9, "rtol": 0.0, "set_by": "cli"}
    verified = run_cli("exporters", "verify", str(tmp_path / "mlp"))  # ONNX Runtime is ~1e-8 off float64
    assert verified.returncode == 1 and "answers worse than eager" in verified.stderr, verified.stderr


def test_tolerance_per_output_in_the_spec(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:loose", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = manifest_of(tmp_path / "loose")
    assert manifest["parity"]["outputs"]["scores"] == {"rule": "fixed", "atol": 1e-3, "rtol": 0.0, "set_by": "spec"}
    assert run_cli("exporters", "verify", str(tmp_path / "loose")).returncode == 0


def test_integer_outputs_must_match_exactly() -> None:
    rules = {"outputs": {"label": {"rule": "exact"}}}
    parity = Parity(rules)
    parity.add("case0", {"label": np.array([1, 2])}, {"label": np.array([1, 2])})
    assert parity.passed
    parity.add("case1", {"label": np.array([1, 3])}, {"label": np.array([1, 2])})
    assert not parity.passed


def test_a_model_that_cannot_run_in_float64_falls_back_with_a_reason(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:fp32_only", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    parity = manifest_of(tmp_path / "fp32_only")["parity"]
    assert parity["reference"] == "eager" and "float64" in parity["reason"]
    assert parity["outputs"]["y"] == {"rule": "fixed", "atol": 1e-5, "rtol": 1e-5, "set_by": "default"}
