"""A format is one module and an engine is one runner: proven by adding a toy of each to a copy of the project.

The copy gets tests/plugins/toy_layers.py as exporters/formats/toy_layers.py plus one line in the format registry,
and tests/plugins/toy_engine (ToyRunner.java and its services file) as its own runner package plus one ENGINES
entry. Nothing else is edited: export, verify, the report and the Docker stages take the format from the
registry; the rendered pom, the harness build and the JVM check take the engine from ENGINES. The generated files
(pom.xml, docker/Dockerfile, docker.mk, and the manifest schema's settings names, where the toy format's setting
joins them) are rendered again by `python -m jvm_harness render`, as a contributor would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"
HARNESS = "org/exportpipeline/harness"
SKIPPED = shutil.ignore_patterns("target", "__pycache__", "*.egg-info")


def add_line(path: Path, after: str, line: str) -> None:
    """One line in a registry, after the line that ends its present list."""
    text = path.read_text()
    assert text.count(after) == 1, f"{path} has no single {after!r} to add after"
    path.write_text(text.replace(after, after + line))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A copy of the project with both plugins added; what it edited, file by file."""
    root = tmp_path_factory.mktemp("plugins") / "repo"
    for part in ("exporters", "jvm_harness", "docker"):
        shutil.copytree(REPO / part, root / part, ignore=SKIPPED)
    shutil.copy(REPO / "docker.mk", root)
    edits = {}
    # The format: its module, and its line in the registry.
    shutil.copy(PLUGINS / "toy_layers.py", root / "exporters/formats/toy_layers.py")
    add_line(root / "exporters/formats/__init__.py", '    "openvino",\n', '    "toy_layers",\n')
    edits["format"] = ["exporters/formats/toy_layers.py (new)", "exporters/formats/__init__.py (+1 line)"]
    # The engine: its runner package, its services file, its ENGINES entry.
    package = root / "jvm_harness/src/main/java" / HARNESS / "toy"
    package.mkdir()
    shutil.copy(PLUGINS / "toy_engine/ToyRunner.java", package)
    shutil.copytree(PLUGINS / "toy_engine/META-INF", root / "jvm_harness/src/engines/toy/META-INF")
    add_line(root / "jvm_harness/runtimes.py", '    }, "executorch", native="harness.executorch.dir"),\n',
             '    "toy": Engine("toy", {"1.0": ()}, "numpy"),\n')
    edits["engine"] = [f"jvm_harness/src/main/java/{HARNESS}/toy/ToyRunner.java (new)",
                       "jvm_harness/src/engines/toy/META-INF/services/org.exportpipeline.harness.Runner (new)",
                       "jvm_harness/runtimes.py (+1 line)"]
    stale = python(root, "jvm_harness", "render", "--check")  # the generated files lag the registries until rendered
    rendered = python(root, "jvm_harness", "render")
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    return {"root": root, "edits": edits, "artifacts": root / "artifacts", "stale": stale,
            "rendered": "".join((rendered.stdout + rendered.stderr).split())}  # unwrapped: rich folds long paths


def run(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """A command of the copied project, its packages first on the path (the installed ones are this checkout's)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([*args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def python(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(root, sys.executable, "-m", *args)


def exported(tree: dict) -> Path:
    """mlp exported in the toy format in this copy (each test worker has its own copy)."""
    root, artifacts = tree["root"], tree["artifacts"]
    if not (artifacts / "mlp/manifest.json").is_file():
        done = python(root, "exporters", "export", "mlp", "--format", "toy_layers", "--out", str(artifacts))
        assert done.returncode == 0, done.stdout + done.stderr
    return artifacts / "mlp"


def test_a_toy_format_exports_verifies_and_reports(tree: dict) -> None:
    root, artifacts = tree["root"], tree["artifacts"]
    assert len(tree["edits"]["format"]) == 2
    listed = python(root, "exporters", "formats")
    assert "toy_layers" in listed.stdout, listed.stdout + listed.stderr

    model = exported(tree)
    verified = python(root, "exporters", "verify", str(model), "--format", "toy_layers")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    entry = json.loads((model / "manifest.json").read_text())["formats"]["toy_layers"]
    assert entry["status"] == "ok" and entry["main"] == "layers.txt" and entry["settings"] == {"TOY_ACCUMULATE": "double"}
    assert {f["path"] for f in entry["files"]} >= {f"toy_layers/{name}" for name in ("layers.txt", "w0.npy", "b0.npy", "w2.npy", "b2.npy")}
    result = entry["verification"]["python/numpy"]
    assert result["passed"] is True and result["cases"] >= 2, result

    reported = python(root, "exporters", "report", str(artifacts))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    assert "toy_layers" in (artifacts / "report.md").read_text()


def test_a_toy_format_gets_its_docker_stage_and_its_settings_name_in_the_schema(tree: dict) -> None:
    root = tree["root"]
    assert tree["stale"].returncode == 1, "the rendered files should be stale until rendered again"
    assert "FROM exporter AS export-toy-layers" in (root / "docker/Dockerfile").read_text()
    assert "toy_layers" in (root / "docker.mk").read_text()
    schema = json.loads((root / "exporters/contract/manifest.schema.json").read_text())
    assert schema["$defs"]["settings"]["propertyNames"]["enum"] == ["AOTI_RUNTIME_CHECK_INPUTS", "INFERENCE_PRECISION_HINT",
                                                                    "TOY_ACCUMULATE"]
    assert "rewrotetherenderedblocksof" in tree["rendered"] and "contract/manifest.schema.json" in tree["rendered"]
    assert python(root, "jvm_harness", "render", "--check").returncode == 0


def test_a_toy_engine_builds_and_passes_the_jvm_check(tree: dict) -> None:
    root, model = tree["root"], exported(tree)
    assert len(tree["edits"]["engine"]) == 3
    assert "<id>engine-toy</id>" in (root / "jvm_harness/pom.xml").read_text()
    built = run(root, "mvn", "-q", "-B", "-o", "-f", "jvm_harness/pom.xml", "-DskipTests", "package")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert (root / "jvm_harness/target/jvm-harness-toy.jar").is_file()

    checked = python(root, "jvm_harness", "verify", str(model), "--engine", "toy")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads((model / "manifest.json").read_text())
    result = manifest["formats"]["toy_layers"]["verification"]["jvm/toy-java"]
    assert result["passed"] is True and result["version"] == "toy 1.0", result
    assert result["concurrency"]["passed"] is True, result["concurrency"]
