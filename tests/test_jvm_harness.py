"""The JPype driver runs the Java check (SelfCheck: integrity, golden cases, parity) in a real JVM per engine."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, manifest_of, run_cli

# (format, manifest key, engine): two TorchScript runtimes, DJL's libtorch 2.7.1 and the exporter's 2.13.
JVM_RUNTIMES = [
    ("onnx", "jvm/onnxruntime-java", "onnxruntime"),
    ("torchscript", "jvm/djl-pytorch", "djl-pytorch"),
    ("torchscript", "jvm/libtorch-javacpp", "libtorch-javacpp"),
    ("aoti", "jvm/libtorch-aoti", "libtorch-javacpp"),
    ("openvino", "jvm/openvino-c-jna", "openvino"),
    ("executorch", "jvm/executorch-jni", "executorch"),
]


@pytest.fixture()
def mlp_copy(mlp_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "mlp"
    shutil.copytree(mlp_dir, copy)
    return copy


def test_jvm_runtimes_match_golden_outputs(mlp_copy: Path) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert result.returncode == 0, result.stderr
    formats = manifest_of(mlp_copy)["formats"]
    for fmt, key, _ in JVM_RUNTIMES:
        jvm = formats[fmt]["verification"][key]
        assert jvm["passed"] and jvm["cases"] == 4 and jvm["box"] == {"batch": [1, 64]}, jvm
        assert jvm["side"] == "jvm" and jvm["runtime"] == key.removeprefix("jvm/")
        assert 0 <= jvm["worst_ratio"] <= 1 and jvm["max_abs_err"] <= 1e-5, jvm
        assert set(jvm["outputs"]) == {"y"} and "eager_abs_err" in jvm
        assert jvm["load_ms"] > 0 and jvm["first_run_ms"] > 0
        assert jvm["java"] and jvm["version"]
        concurrency = jvm["concurrency"]  # 4 callers sharing one opened runner, each case twice each (4 cases)
        assert (concurrency["callers"], concurrency["calls"], concurrency["failures"], concurrency["mismatches"]) == (4, 32, 0, 0)
        assert concurrency["passed"] and concurrency["wall_ms"] > 0 and "first_error" not in concurrency, concurrency
    # Versions name the runtime that ran the artifact, not the exporter's library.
    assert formats["executorch"]["verification"]["jvm/executorch-jni"]["version"] == "executorch 1.5.1"
    assert formats["aoti"]["verification"]["jvm/libtorch-aoti"]["version"].startswith("libtorch 2.13.0")
    assert formats["openvino"]["verification"]["jvm/openvino-c-jna"]["version"].startswith("openvino 2026.4.1")


def test_unchanged_results_are_reused_and_a_changed_key_or_force_reruns(mlp_copy: Path) -> None:
    assert run_cli("jvm_harness", "verify", str(mlp_copy)).returncode == 0
    first = manifest_of(mlp_copy)["formats"]
    again = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("(reused: ") == len(JVM_RUNTIMES), again.stderr
    assert manifest_of(mlp_copy)["formats"] == first  # nothing ran, nothing rewritten
    # One key that no longer matches (as a new harness jar or runtime version makes it): only that engine runs again.
    manifest = manifest_of(mlp_copy)
    manifest["formats"]["onnx"]["verification"]["jvm/onnxruntime-java"]["key"] = "another harness"
    (mlp_copy / "manifest.json").write_text(json.dumps(manifest))
    partly = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert partly.returncode == 0, partly.stderr
    assert partly.stderr.count("(reused: ") == len(JVM_RUNTIMES) - 1, partly.stderr
    rerun = manifest_of(mlp_copy)["formats"]["onnx"]["verification"]["jvm/onnxruntime-java"]
    assert rerun["key"] == first["onnx"]["verification"]["jvm/onnxruntime-java"]["key"] and rerun["passed"]
    forced = run_cli("jvm_harness", "verify", "--force", "--engine", "onnxruntime", str(mlp_copy))
    assert forced.returncode == 0 and "(reused: " not in forced.stderr, forced.stderr


def test_a_step_adds_its_verdicts_to_the_manifest_as_it_is_and_none_over_a_changed_one(mlp_copy: Path) -> None:
    """The one writer (record_results) merges each step's results into the manifest as it is now, so a verdict
    joins what another step recorded meanwhile; one drawn from a manifest that changed since is refused."""
    from exporters.contract.manifest import ContractError, record_results, sha256

    checked = sha256(mlp_copy / "manifest.json")  # as the JVM read it
    recorded = manifest_of(mlp_copy)["formats"]["onnx"]["verification"]
    verdict = {"jvm/onnxruntime-java": {**recorded["python/onnxruntime"], "side": "jvm", "runtime": "onnxruntime-java"}}
    record_results(mlp_copy, {"onnx": {"required": False}})  # another step, meanwhile
    with pytest.raises(ContractError, match="changed while the JVM checked it"):
        record_results(mlp_copy, {"onnx": {"verification": verdict}}, drawn_from={checked})
    record_results(mlp_copy, {"onnx": {"verification": verdict}}, drawn_from={sha256(mlp_copy / "manifest.json")})
    onnx = manifest_of(mlp_copy)["formats"]["onnx"]
    assert onnx["required"] is False and onnx["verification"] == {**recorded, **verdict}


def test_a_reused_result_still_hash_checks_the_files(mlp_copy: Path) -> None:
    assert run_cli("jvm_harness", "verify", "--engine", "onnxruntime", str(mlp_copy)).returncode == 0
    with open(mlp_copy / "onnx" / "model.onnx", "ab") as model:
        model.write(b"\0")
    _refused(mlp_copy, "onnx/model.onnx is altered")


@pytest.mark.parametrize("engine", sorted({engine for _, _, engine in JVM_RUNTIMES}))
def test_one_engine_runs_only_its_own_runners(mlp_copy: Path, engine: str) -> None:
    result = run_cli("jvm_harness", "verify", "--engine", engine, str(mlp_copy))
    assert result.returncode == 0, result.stderr
    formats = manifest_of(mlp_copy)["formats"]
    recorded = {key for entry in formats.values() for key in entry["verification"] if key.startswith("jvm/")}
    assert recorded == {key for _, key, owner in JVM_RUNTIMES if owner == engine}


def test_pure_java_self_check_runs_each_engine_in_its_own_jvm(mlp_copy: Path) -> None:
    classpath = run_cli("jvm_harness", "classpath").stdout.strip()
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    result = subprocess.run(
        [java, "-cp", classpath, "org.exportpipeline.harness.tools.SelfCheck", str(mlp_copy)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for _, key, _ in JVM_RUNTIMES:
        assert f" {key.removeprefix('jvm/')} " in result.stdout, result.stdout
    assert "JVM self-check passed" in result.stdout


def _rewrite_golden_output(model_dir: Path, value: float) -> None:
    """Change case0's reference (float64 when recorded, else eager) and re-record its hash and size."""
    manifest = manifest_of(model_dir)
    case = manifest["golden"]["cases"][0]
    rel = case.get("reference", case["outputs"])["y"]
    array = np.load(model_dir / rel)
    array.flat[0] = value
    np.save(model_dir / rel, array)
    for entry in manifest["golden"]["files"]:
        if entry["path"] == rel:
            entry["sha256"] = hashlib.sha256((model_dir / rel).read_bytes()).hexdigest()
            entry["bytes"] = (model_dir / rel).stat().st_size
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


def test_altered_golden_output_fails_jvm_parity(mlp_copy: Path) -> None:
    _rewrite_golden_output(mlp_copy, -1.0)  # sigmoid outputs lie in (0, 1)
    result = run_cli("jvm_harness", "verify", str(mlp_copy))
    assert result.returncode == 1
    for fmt, key, _ in JVM_RUNTIMES:
        assert f"gate: required mlp/{fmt} failed: answers worse than eager PyTorch in" in result.stderr
        assert manifest_of(mlp_copy)["formats"][fmt]["verification"][key]["max_abs_err"] > 1.0


def _refused(model_dir: Path, expected: str) -> None:
    """The driver exits 2 with the Java check's one line, and records nothing."""
    before = (model_dir / "manifest.json").read_bytes()
    result = run_cli("jvm_harness", "verify", str(model_dir))
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert (model_dir / "manifest.json").read_bytes() == before


def test_altered_golden_file_is_refused_as_a_broken_contract(mlp_copy: Path) -> None:
    rel = manifest_of(mlp_copy)["golden"]["cases"][0]["outputs"]["y"]
    np.save(mlp_copy / rel, np.zeros((1, 1), np.float32))
    _refused(mlp_copy, "is altered")


def test_byte_appended_to_the_model_is_refused(mlp_copy: Path) -> None:
    with open(mlp_copy / "torchscript" / "model.pt", "ab") as model:
        model.write(b"\0")
    _refused(mlp_copy, "torchscript/model.pt is altered")


def test_a_refusal_is_left_to_the_first_engine_that_opens_the_altered_file(mlp_copy: Path) -> None:
    """The driver's pre-check picks the engine that runs alone (its refusal ends the run): none for an intact
    folder, the ONNX engine for an altered ONNX file, the first engine for altered golden data every engine reads."""
    from jvm_harness import driver, jvm

    due = {engine: [mlp_copy] for engine in jvm.engines()}
    assert len(due) == len({engine for _, _, engine in JVM_RUNTIMES}), due
    assert driver.refusing(due) is None
    with open(mlp_copy / "onnx" / "model.onnx", "ab") as model:
        model.write(b"\0")
    assert driver.refusing(due) == "onnxruntime"
    assert driver.refusing({engine: folders for engine, folders in due.items() if engine != "onnxruntime"}) is None
    rel = manifest_of(mlp_copy)["golden"]["cases"][0]["outputs"]["y"]
    np.save(mlp_copy / rel, np.zeros((1, 1), np.float32))
    assert driver.refusing(due) == next(iter(due))


@pytest.mark.parametrize(
    ("path", "expected"),
    [("../outside/x.npy", "leads out of the model folder"), ("/etc/passwd", "is not a relative path"),
     ("/dev/zero", "is not a relative path")],
)
def test_golden_paths_outside_the_model_folder_are_refused(mlp_copy: Path, path: str, expected: str) -> None:
    (mlp_copy.parent / "outside").mkdir(exist_ok=True)
    manifest = manifest_of(mlp_copy)
    rel = manifest["golden"]["cases"][0]["outputs"]["y"]
    shutil.copy(mlp_copy / rel, mlp_copy.parent / "outside" / "x.npy")
    manifest["golden"]["cases"][0]["outputs"]["y"] = path
    entry = next(entry for entry in manifest["golden"]["files"] if entry["path"] == rel)
    entry["path"] = path
    (mlp_copy / "manifest.json").write_text(json.dumps(manifest))
    _refused(mlp_copy, expected)


def test_truncated_manifest_is_one_line(mlp_copy: Path) -> None:
    text = (mlp_copy / "manifest.json").read_text()
    (mlp_copy / "manifest.json").write_text(text[: len(text) // 2])
    _refused(mlp_copy, "is not valid JSON")


def test_unbuilt_harness_says_what_to_run(mlp_dir: Path, tmp_path: Path) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_dir), env={"HARNESS_TARGET": str(tmp_path)})
    assert result.returncode == 2
    assert "JVM harness not built" in result.stderr and "run `make jvm`" in result.stderr


def test_missing_jvm_says_what_to_install(mlp_dir: Path, tmp_path: Path) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_dir), env={"JAVA_HOME": str(tmp_path / "no-jdk")})
    assert result.returncode == 2
    assert "no JVM found" in result.stderr and "JAVA_HOME" in result.stderr


def test_onnx_deploy_bundle_carries_one_engine_and_a_jlink_runtime_that_self_checks(mlp_dir: Path, tmp_path: Path) -> None:
    """docker/deploy-bundle.sh, as the per-format image runs it, without Docker."""
    artifacts, bundle = tmp_path / "artifacts", tmp_path / "bundle"
    merged = run_cli("exporters", "merge", str(mlp_dir.parent), "--format", "onnx", "--out", str(artifacts))
    assert merged.returncode == 0, merged.stderr
    built = subprocess.run([ROOT / "docker" / "deploy-bundle.sh", ROOT / "jvm_harness" / "target", artifacts, bundle, "onnx"],
                           capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable})
    assert built.returncode == 0, built.stderr
    jars = sorted(p.relative_to(bundle / "harness").as_posix() for p in (bundle / "harness").rglob("*.jar"))
    assert all(jar.startswith("lib/") for jar in jars), jars  # what org.exportpipeline:jvm-harness-onnxruntime resolves to
    assert "lib/jvm-harness-onnxruntime-0.1.0.jar" in jars and not [jar for jar in jars if "djl" in jar or "openvino" in jar], jars
    digest = hashlib.sha256((artifacts / "mlp" / "manifest.json").read_bytes()).hexdigest()
    assert f"--manifest-sha256 {digest} /opt/harness/artifacts/mlp" in (bundle / "self-check").read_text()
    classpath = f"{bundle}/harness/lib/*"
    check = subprocess.run([bundle / "jre" / "bin" / "java", "-cp", classpath, "org.exportpipeline.harness.tools.SelfCheck",
                            "--manifest-sha256", digest, artifacts / "mlp"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "onnxruntime-java" in check.stdout and "djl-pytorch" not in check.stdout
