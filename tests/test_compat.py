"""Runtime versions as a choice: the same artifact proven on several ONNX Runtime Java versions, results
side by side in the manifest; a model newer than a runtime refused in one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import copy_model, manifest_of, run_cli

OLDEST, NEWEST = "1.20.0", "1.29.0"


@pytest.fixture(scope="session")
def mlp_onnx(mlp_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_model(mlp_dir, tmp_path_factory.mktemp("compat-onnx"), ("onnx",))


@pytest.fixture(scope="session")
def mlp_pte(mlp_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_model(mlp_dir, tmp_path_factory.mktemp("compat-executorch"), ("executorch",))


def test_versions_recorded_side_by_side(mlp_onnx: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(mlp_onnx, tmp_path / "mlp"))
    for version in (OLDEST, NEWEST):
        result = run_cli("jvm_harness", "verify", str(folder), "--runtimes", f"onnxruntime={version}")
        assert result.returncode == 0, result.stdout + result.stderr
    entry = manifest_of(folder)["formats"]["onnx"]
    assert entry["needs"] == {"onnx_ir_version": 10, "opset_imports": {"ai.onnx": 20}}
    for version in (OLDEST, NEWEST):
        record = entry["verification"][f"jvm/onnxruntime-java@{version}"]
        assert record["version"] == version and record["engine_version"] == version
        assert record["passed"] is True and record["cases"] >= 2 and record["max_abs_err"] < 1e-5


def test_opset_beyond_the_runtime_is_refused_in_one_line(mlp_onnx: Path, tmp_path: Path) -> None:
    import onnx

    folder = Path(shutil.copytree(mlp_onnx, tmp_path / "mlp"))
    path = folder / "onnx" / "model.onnx"
    model = onnx.load(str(path), load_external_data=False)
    model.opset_import[0].version = 22  # one past what ONNX Runtime 1.20 implements
    path.write_bytes(model.SerializeToString())
    manifest = manifest_of(folder)
    for file in manifest["formats"]["onnx"]["files"]:
        if file["path"] == "onnx/model.onnx":
            file["sha256"], file["bytes"] = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))

    old = run_cli("jvm_harness", "verify", str(folder), "--runtimes", f"onnxruntime={OLDEST}")
    assert old.returncode == 1, old.stdout + old.stderr
    record = manifest_of(folder)["formats"]["onnx"]["verification"][f"jvm/onnxruntime-java@{OLDEST}"]
    assert record["passed"] is False and record["cases"] == 0
    assert record["error"] == ("loading the artifact: UnsupportedOperationException: model.onnx needs IR 10 / opset 22; ONNX Runtime 1.20.0"
                               " supports up to IR 10 / opset 21: export with a lower opset or upgrade ONNX Runtime")
    new = run_cli("jvm_harness", "verify", str(folder), "--runtimes", f"onnxruntime={NEWEST}")
    assert new.returncode == 0, new.stdout + new.stderr


def test_executorch_programs_are_proven_on_each_runtime_version(mlp_pte: Path, tmp_path: Path) -> None:
    """The 1.5.0 shim is built from its own wheel (runtimes.py) and reports that version; both read 1.4.1's program."""
    folder = Path(shutil.copytree(mlp_pte, tmp_path / "mlp"))
    out = tmp_path / "compat.json"
    result = run_cli("jvm_harness", "compat", str(folder), "--engine", "executorch", "--out", str(out),
                     "--require-pass", "executorch=1.5.0", "--require-pass", "executorch=1.5.1")
    assert result.returncode == 0, result.stdout + result.stderr
    cells = {cell["version"]: cell for cell in json.loads(out.read_text())["cells"]}
    assert sorted(cells) == ["1.5.0", "1.5.1"]
    for version, cell in cells.items():
        assert (cell["status"], cell["producer"], cell["direction"]) == ("passed", "executorch 1.4.1", "artifact older than runtime")
        record = manifest_of(folder)["formats"]["executorch"]["verification"][f"jvm/executorch-jni@{version}"]
        assert record["version"] == f"executorch {version}" and record["cases"] >= 2 and record["max_abs_err"] < 1e-5


@pytest.mark.parametrize("spec, message", [
    ("tensorrt=10.0", "unknown JVM engine 'tensorrt': choose one of onnxruntime, "),
    ("onnxruntime=1.25.0", "onnxruntime 1.25.0 is not served here: choose one of 1.29.0, 1.20.0"),
    ("onnxruntime", "JVM_RUNTIMES word 'onnxruntime' is not ENGINE=VERSION"),
])
def test_bad_runtime_choice_is_one_line_and_exit_2(mlp_onnx: Path, spec: str, message: str) -> None:
    result = run_cli("jvm_harness", "verify", str(mlp_onnx), "--runtimes", spec)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and not result.stdout, result.stdout + result.stderr


def test_producer_registry_swaps_torch_and_executorch_only() -> None:
    import tomllib

    from conftest import ROOT
    from jvm_harness import compat, producers

    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = producers.pins("torch-2.12.1")
    assert "torch==2.12.1" in pins and "executorch==1.3.1" in pins and len(pins) == len(ours)
    assert [p for p in pins if not p.startswith(("torch==", "executorch=="))] == [
        p for p in ours if not p.startswith(("torch==", "executorch=="))]
    assert producers.interpreter("torch-2.15.0") == ROOT / ".cache" / "producers" / "torch-2.15.0" / "bin" / "python"
    with pytest.raises(producers.ProducerError, match="unknown producer 'torch-9.0': choose one of torch-2.12.1, torch-2.15.0"):
        producers.pins("torch-9.0")
    # Another producer's artifacts meet the pinned runtime and the oldest of each engine.
    assert compat.versions("onnxruntime", ci=False, producer=True) == ["1.29.0", "1.20.0"]
    assert compat.versions("djl-pytorch", ci=False, producer=True) == ["0.35.1", "0.27.0"]
    assert compat.versions("libtorch-javacpp", ci=True) == ["2.7.1", "2.13.0"]  # the CI slice is unchanged
    assert compat.made_by({"torch": "2.15.0", "executorch": "not installed"}) == "torch 2.15.0 (no executorch)"


def test_another_producers_tree_is_labelled_from_its_manifest(mlp_onnx: Path, tmp_path: Path) -> None:
    """A tree as another torch leaves it (its versions in the manifest, one format failed to export) on the
    producer slice: a cell per failed export, per Python verification and per JVM runtime, each saying who made it."""
    import json

    from exporters.report import compat_section

    folder = Path(shutil.copytree(mlp_onnx, tmp_path / "mlp"))
    assert run_cli("exporters", "verify", str(folder)).returncode == 0
    manifest = manifest_of(folder)
    manifest["versions"].update(torch="2.12.1", executorch="1.3.1")
    manifest["formats"]["executorch"] = {"status": "failed", "error": "RuntimeError: no lowering", "files": [], "verification": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))

    out = tmp_path / "compat-producers.json"
    result = run_cli("jvm_harness", "compat", str(folder), "--engine", "onnxruntime", "--producer-slice", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    cells = json.loads(out.read_text())["cells"]
    assert {c["made_by"] for c in cells} == {"torch 2.12.1 + executorch 1.3.1"}
    assert [(c["format"], c["engine"], c["version"], c["status"], c["direction"]) for c in cells] == [
        ("onnx", "python/onnxruntime", "1.29.0", "passed", "same release"),
        ("executorch", "export", "-", "failed to export", "-"),
        ("onnx", "onnxruntime", "1.29.0", "passed", "same release"),
        ("onnx", "onnxruntime", "1.20.0", "passed", "artifact newer than runtime"),
    ]
    assert cells[1]["message"] == "RuntimeError: no lowering"

    matrix = json.loads(out.read_text())
    out.write_text(json.dumps({**matrix, "producers": {"torch-2.12.1": {"torch": "2.12.1", "executorch": "1.3.1", "why": "previous minor"}}}))
    section = compat_section(tmp_path)
    assert "- torch-2.12.1: torch 2.12.1, executorch 1.3.1 (previous minor)" in section
    assert ("| mlp | executorch | torch 2.12.1 + executorch 1.3.1 | export | - | - | - | **failed to export**"
            " | RuntimeError: no lowering |") in section
