"""The README's service example runs as written: one Model opened, 200 calls from 8 threads, every answer equal."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from jvm_harness import jvm

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "jvm_harness" / "example" / "ServeFromThreads.java"


@pytest.mark.parametrize(("engine", "fmt", "runtime"), [
    ("onnxruntime", "onnx", "onnxruntime-java"),
    ("openvino", "openvino", "openvino-c-jna"),
    ("executorch", "executorch", "executorch-jni"),
])
def test_service_example_serves_many_threads_from_one_model(mlp_dir: Path, engine: str, fmt: str, runtime: str) -> None:
    done = subprocess.run([*jvm.java_command(str(EXAMPLE), engine), str(mlp_dir), fmt],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{runtime} on {mlp_dir}: 200 answers from 8 request threads, 200 identical to the first" in done.stdout


def test_service_example_refuses_a_tampered_file_before_the_runtime_opens_it(mlp_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(mlp_dir, tmp_path / "mlp")
    with open(tmp_path / "mlp" / "onnx" / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    done = subprocess.run([*jvm.java_command(str(EXAMPLE), "onnxruntime"), str(tmp_path / "mlp"), "onnx"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "ContractException" in done.stderr and "model.onnx" in done.stderr, done.stderr


def test_the_installed_maven_artifacts_give_a_service_exactly_one_engine(mlp_dir: Path, tmp_path: Path) -> None:
    """`make jvm-install`, then a service's pom (core + onnxruntime jar + ORT) resolves and runs the example."""
    installed = subprocess.run(["make", "--no-print-directory", "jvm-install"], cwd=ROOT, capture_output=True, text=True,
                               timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = tmp_path / "classpath.txt"
    resolved = subprocess.run(["mvn", "-q", "-B", "-ntp", "-f", str(EXAMPLE.parent / "pom.xml"), "dependency:build-classpath",
                               f"-Dmdep.outputFile={listed}"], capture_output=True, text=True, timeout=600)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    jars = sorted(Path(jar).name for jar in listed.read_text().strip().split(":"))
    core = {jar.name for jar in (ROOT / "jvm_harness" / "target" / "lib" / "core").glob("*.jar")}  # the contract reader's own
    assert [jar for jar in jars if jar not in core] == [
        "jvm-harness-0.1.0-onnxruntime.jar", "jvm-harness-0.1.0.jar", "onnxruntime-1.29.0.jar"]  # no other engine
    java = jvm.java_command(str(EXAMPLE), "onnxruntime")[0]
    done = subprocess.run([java, "-cp", listed.read_text().strip(), str(EXAMPLE), str(mlp_dir), "onnx"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "200 identical to the first" in done.stdout, done.stderr
