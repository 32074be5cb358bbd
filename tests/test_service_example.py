"""The README's service example runs as written: one Model opened, 200 calls from 8 threads, every answer equal."""

from __future__ import annotations

import json
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


ENGINES = [  # engine, the formats its runners serve
    ("onnxruntime", ["onnx"]),
    ("openvino", ["openvino"]),
    ("executorch", ["executorch"]),
    ("libtorch-javacpp", ["torchscript", "aoti"]),
    ("djl-pytorch", ["torchscript"]),
]


@pytest.fixture(scope="module")
def fresh_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`make jvm-install`, then the installed artifacts copied into a fresh local repository through a mirror of this
    machine's (so a resolve there reaches nothing else): the repository and the Maven settings naming the mirror."""
    installed = subprocess.run(["make", "--no-print-directory", "jvm-install"], cwd=ROOT, capture_output=True, text=True,
                               timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    root = tmp_path_factory.mktemp("maven")
    settings = root / "settings.xml"
    settings.write_text("<settings><mirrors><mirror><id>machine</id><mirrorOf>*</mirrorOf>"
                        f"<url>{(Path.home() / '.m2' / 'repository').as_uri()}</url></mirror></mirrors></settings>")
    return root / "repository", settings


@pytest.mark.parametrize(("engine", "formats"), ENGINES, ids=[engine for engine, _ in ENGINES])
def test_one_maven_dependency_is_a_whole_engine_natives_included(mlp_dir: Path, fresh_repository: tuple[Path, Path],
                                                                 tmp_path: Path, engine: str, formats: list[str]) -> None:
    """A service's pom with org.exportpipeline:jvm-harness-ENGINE and nothing else resolves in a fresh repository, and
    in a process with no -D setting, no Python environment on its paths and an empty home (natives extracted there at
    first use), SelfCheck passes every format the engine serves; no other engine's jars come along."""
    repository, settings = fresh_repository
    project = tmp_path / "service"
    project.mkdir()
    (project / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>org.example</groupId>'
        '<artifactId>service</artifactId><version>1</version><dependencies><dependency><groupId>org.exportpipeline</groupId>'
        f'<artifactId>jvm-harness-{engine}</artifactId><version>0.1.0</version></dependency></dependencies></project>')
    listed = tmp_path / "classpath.txt"
    resolved = subprocess.run(["mvn", "-q", "-B", "-ntp", "-s", str(settings), f"-Dmaven.repo.local={repository}",
                               "-f", str(project / "pom.xml"), "dependency:build-classpath", f"-Dmdep.outputFile={listed}"],
                              capture_output=True, text=True, timeout=600)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    jars = [Path(jar) for jar in listed.read_text().strip().split(":")]
    assert all(jar.is_relative_to(repository) for jar in jars), jars
    others = [jar.name for jar in jars if jar.name.startswith("jvm-harness-") and not jar.name.startswith((f"jvm-harness-{engine}-", "jvm-harness-0"))]
    assert not others, others
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}  # nothing of the checkout or its .venv
    java = jvm.java_command(str(EXAMPLE), None)[0]
    copy = tmp_path / "mlp"
    shutil.copytree(mlp_dir, copy)
    done = subprocess.run([java, *jvm.jvm_options(jvm.jvm_path()), "-cp", listed.read_text().strip(),
                           "org.exportpipeline.harness.tools.SelfCheck", "--json", str(copy)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    results = json.loads(done.stdout[done.stdout.index("["):])
    assert sorted(r["format"] for r in results) == sorted(formats), results
    assert all(r["verification"]["passed"] for r in results), results
