"""The JPype driver runs ONNX and TorchScript artifacts inside a real JVM and checks parity."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import manifest_of, run_cli

JVM_RUNTIMES = {"onnx": "jvm/onnxruntime-java", "torchscript": "jvm/djl-pytorch"}


@pytest.fixture()
def mlp_copy(mlp_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "mlp"
    shutil.copytree(mlp_dir, copy)
    return copy


def test_jvm_runtimes_match_golden_outputs(mlp_copy: Path) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert result.returncode == 0, result.stderr
    formats = manifest_of(mlp_copy)["formats"]
    for fmt, key in JVM_RUNTIMES.items():
        jvm = formats[fmt]["verification"][key]
        assert jvm["passed"] and jvm["cases"] == 2, jvm
        assert jvm["worst_ratio"] <= 1.0, jvm
        assert jvm["load_ms"] > 0 and jvm["first_run_ms"] > 0
        assert jvm["java"] and jvm["version"]


def _rewrite_golden_output(model_dir: Path, value: float) -> None:
    """Change case0's output and re-record its hash, as if the artifacts drifted from eager."""
    manifest = manifest_of(model_dir)
    rel = manifest["golden"]["cases"][0]["outputs"]["y"]
    array = np.load(model_dir / rel)
    array.flat[0] = value
    np.save(model_dir / rel, array)
    for entry in manifest["golden"]["files"]:
        if entry["path"] == rel:
            entry["sha256"] = hashlib.sha256((model_dir / rel).read_bytes()).hexdigest()
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


def test_altered_golden_output_fails_jvm_parity(mlp_copy: Path) -> None:
    _rewrite_golden_output(mlp_copy, -1.0)  # sigmoid outputs lie in (0, 1)
    result = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert result.returncode == 1
    assert "mlp/onnx, mlp/torchscript differ from the golden outputs inside the JVM" in result.stderr
    for fmt, key in JVM_RUNTIMES.items():
        assert manifest_of(mlp_copy)["formats"][fmt]["verification"][key]["max_abs_err"] > 1.0


def test_altered_golden_file_is_refused_as_a_broken_contract(mlp_copy: Path) -> None:
    rel = manifest_of(mlp_copy)["golden"]["cases"][0]["outputs"]["y"]
    np.save(mlp_copy / rel, np.zeros((1, 1), np.float32))
    result = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert result.returncode == 2
    assert "is missing or altered: re-export the model" in result.stderr


def test_unbuilt_harness_says_what_to_run(mlp_dir: Path, tmp_path: Path) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_dir), env={"HARNESS_TARGET": str(tmp_path)})
    assert result.returncode == 2
    assert "JVM harness not built" in result.stderr and "run `make jvm`" in result.stderr


def test_missing_jvm_says_what_to_install(mlp_dir: Path, tmp_path: Path) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_dir), env={"JAVA_HOME": str(tmp_path / "no-jdk")})
    assert result.returncode == 2
    assert "no JVM found" in result.stderr and "JAVA_HOME" in result.stderr
