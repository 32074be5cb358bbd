"""The Docker runner: Dockerfile shape always; builds and the deployment image when a daemon answers.

Cheap when images are cached: the export stage reuses the dependency layers, and the deployment
image is only run (build it with `make docker-images`), never rebuilt here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from exporters.formats import FORMATS

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
IMAGE = "model-export-pipeline"
RUNTIME_IMAGE = f"{IMAGE}/jvm-runtime:latest"
# Its own tag, so an mlp-only build never replaces the images `make docker-all` tagged.
TEST_TAG = "pytest"


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def daemon() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH (as root: make docker-engine)")
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except subprocess.TimeoutExpired:
        pytest.skip("the Docker daemon did not answer within 20 s")
    if info.returncode != 0:
        why = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        pytest.skip(f"no Docker daemon answers (as root: make docker-engine): {why}")


@pytest.fixture(scope="module")
def runtime_image(daemon: None) -> str:
    if docker("image", "inspect", RUNTIME_IMAGE).returncode != 0:
        pytest.skip(f"{RUNTIME_IMAGE} not built: run make docker-images")
    return RUNTIME_IMAGE


def test_dockerfile_has_every_stage() -> None:
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", DOCKERFILE.read_text(), flags=re.MULTILINE))
    export_stages = {f"export-{name.replace('_', '-')}" for name in FORMATS}
    assert export_stages | {"artifacts", "jvm-harness", "jvm-runtime"} <= stages


def test_staged_ca_certificates_stay_out_of_git() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "docker/.certs/proxy.crt"], cwd=ROOT)
    assert ignored.returncode == 0


@pytest.mark.slow
def test_onnx_stage_exports_mlp_that_verifies(daemon: None) -> None:
    build = subprocess.run(
        ["make", "--no-print-directory", "docker-onnx", "MODELS=mlp", f"TAG={TEST_TAG}", "DOCKER_PROGRESS=plain"],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    verify = docker("run", "--rm", f"{IMAGE}/export-onnx:{TEST_TAG}", "python", "-m", "exporters", "verify", "/out/mlp")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_deployment_image_self_check_passes(runtime_image: str) -> None:
    run = docker("run", "--rm", runtime_image, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "JVM self-check passed" in run.stdout


def test_deployment_image_is_non_root_without_build_tools(runtime_image: str) -> None:
    probe = "id -u; for tool in gcc g++ cc javac mvn python3 pip; do command -v $tool || true; done"
    run = docker("run", "--rm", runtime_image, "sh", "-c", probe)
    assert run.returncode == 0, run.stderr
    uid, *tools = run.stdout.split()
    assert uid != "0"
    assert tools == []


ONNX_IMAGE = f"{IMAGE}/jvm-runtime-onnx:latest"


@pytest.fixture(scope="module")
def onnx_image(daemon: None) -> str:
    if docker("image", "inspect", ONNX_IMAGE).returncode != 0:
        pytest.skip(f"{ONNX_IMAGE} not built: run make docker-images DEPLOY_FORMATS=onnx")
    return ONNX_IMAGE


def test_onnx_image_carries_one_engine_and_self_checks_as_non_root(onnx_image: str) -> None:
    run = docker("run", "--rm", onnx_image, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "onnxruntime-java" in run.stdout and "djl-pytorch" not in run.stdout
    listing = docker("run", "--rm", onnx_image, "sh", "-c", "id -u; ls /opt/harness /opt/harness/lib")
    assert listing.stdout.split()[0] == "10001"
    assert "djl" not in listing.stdout and "jvm-harness-onnxruntime-0.1.0.jar" in listing.stdout


def test_onnx_image_refuses_a_tampered_artifact(onnx_image: str) -> None:
    # cnn is checked first: its refusal ends the run before any model is run.
    tamper = "printf x >> /opt/harness/artifacts/cnn/onnx/model.onnx && exec su app -s /bin/sh -c /opt/harness/self-check"
    run = docker("run", "--rm", "--user", "0", onnx_image, "sh", "-c", tamper, timeout=600)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "cnn/onnx/model.onnx is altered" in run.stderr
