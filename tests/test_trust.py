"""Trust nothing loaded, isolate every export, never succeed silently: the probes of a careless user and
an attacker against the Python side, each answered with one line and the right exit code."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, copy_model, manifest_of, run_cli
from exporters.contract.manifest import sha256


def _rehash(model_dir: Path, rel: str) -> None:
    """Re-record a file's hash and size, as an attacker who can write the manifest would."""
    manifest = manifest_of(model_dir)
    entries = manifest["golden"]["files"] + [f for e in manifest["formats"].values() for f in e["files"]]
    for entry in entries:
        if entry["path"] == rel:
            entry["sha256"], entry["bytes"] = sha256(model_dir / rel), (model_dir / rel).stat().st_size
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture()
def mlp_copy(mlp_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "mlp"
    shutil.copytree(mlp_dir, copy)
    return copy


class _Payload:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/exporters-pwned-marker"),))


def test_crafted_exported_program_cannot_run_code(mlp_copy: Path) -> None:
    marker = Path("/tmp/exporters-pwned-marker")
    marker.unlink(missing_ok=True)
    archive_path = mlp_copy / "exported_program" / "model.pt2"
    crafted = archive_path.with_suffix(".crafted")
    with zipfile.ZipFile(archive_path) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("model_weights_config.json"):
                config = json.loads(data)
                next(iter(config["config"].values()))["use_pickle"] = True
                data = json.dumps(config).encode()
            elif item.filename.endswith("weights/weight_0"):
                data = pickle.dumps(_Payload())
            target.writestr(item, data)
    crafted.replace(archive_path)
    _rehash(mlp_copy, "exported_program/model.pt2")
    result = run_cli("exporters", "verify", str(mlp_copy), "-f", "exported_program")
    assert result.returncode == 1, result.stderr
    assert not marker.exists(), "loading the crafted program ran its payload"


@pytest.mark.parametrize("path", ["../outside/x.npy", "/etc/passwd", "/dev/zero", "golden/../../x.npy"])
def test_golden_paths_outside_the_model_folder_are_refused(mlp_copy: Path, path: str) -> None:
    manifest = manifest_of(mlp_copy)
    old = manifest["golden"]["cases"][0]["inputs"]["x"]
    manifest["golden"]["cases"][0]["inputs"]["x"] = path
    for entry in manifest["golden"]["files"]:
        if entry["path"] == old:
            entry["path"] = path
    (mlp_copy / "manifest.json").write_text(json.dumps(manifest))
    for cli in (("exporters", "verify"), ("jvm_harness", "verify")):
        result = run_cli(*cli, str(mlp_copy))
        assert result.returncode == 2, (cli, result.stderr)
        assert "refusing" in result.stderr or "not a regular file" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_golden_symlink_out_of_the_folder_is_refused(mlp_copy: Path, tmp_path: Path) -> None:
    rel = manifest_of(mlp_copy)["golden"]["cases"][0]["inputs"]["x"]
    outside = tmp_path / "outside.npy"
    shutil.copy(mlp_copy / rel, outside)
    (mlp_copy / rel).unlink()
    (mlp_copy / rel).symlink_to(outside)
    result = run_cli("exporters", "verify", str(mlp_copy))
    assert result.returncode == 2 and "links outside the model folder" in result.stderr, result.stderr


def test_a_byte_appended_to_an_artifact_is_refused_before_the_runtime_opens_it(mlp_copy: Path) -> None:
    """A broken contract (exit 2, one line), as SelfCheck answers it, for every format asked: no verdict recorded."""
    with open(mlp_copy / "torchscript" / "model.pt", "ab") as artifact:
        artifact.write(b"\0")
    before = (mlp_copy / "manifest.json").read_bytes()
    for formats in (["-f", "torchscript"], ["-f", "onnx", "-f", "torchscript"]):
        result = run_cli("exporters", "verify", str(mlp_copy), *formats)
        assert result.returncode == 2 and "altered after export" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert (mlp_copy / "manifest.json").read_bytes() == before


def test_verify_refuses_a_main_file_or_settings_other_than_its_registry_s(mlp_copy: Path) -> None:
    """Python opens what its registry says; a manifest telling the Java side otherwise is refused, not half-verified."""
    manifest = manifest_of(mlp_copy)
    manifest["formats"]["openvino"]["settings"] = {"INFERENCE_PRECISION_HINT": "bf16"}
    (mlp_copy / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("exporters", "verify", str(mlp_copy), "-f", "openvino")
    assert result.returncode == 2 and "this version opens 'model.xml' with {'INFERENCE_PRECISION_HINT': 'f32'}" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "is not valid JSON"),
        (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "golden"}), "lacks golden"),
    ],
)
def test_a_damaged_manifest_gets_one_line(mlp_copy: Path, damage, message: str) -> None:
    path = mlp_copy / "manifest.json"
    path.write_text(damage(path.read_text()))
    result = run_cli("exporters", "verify", str(mlp_copy))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.astype(np.float64), "input x is float64 but the model was exported for float32"),
        (lambda a: a.astype(">f4"), "big-endian"),
        (lambda a: np.concatenate([a, a], axis=1), "has shape"),
    ],
)
def test_golden_inputs_of_another_dtype_byte_order_or_shape_are_refused(mlp_copy: Path, change, message: str) -> None:
    rel = manifest_of(mlp_copy)["golden"]["cases"][0]["inputs"]["x"]
    np.save(mlp_copy / rel, change(np.load(mlp_copy / rel)))
    _rehash(mlp_copy, rel)
    result = run_cli("exporters", "verify", str(mlp_copy))
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_verify_never_succeeds_silently(mlp_copy: Path) -> None:
    manifest = manifest_of(mlp_copy)
    manifest["formats"]["onnx"]["status"] = "failed"
    (mlp_copy / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("exporters", "verify", str(mlp_copy), "-f", "onnx")
    assert result.returncode == 1 and "onnx export failed" in result.stderr, result.stderr
    manifest["formats"] = {}
    (mlp_copy / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("exporters", "verify", str(mlp_copy))
    assert result.returncode == 1 and "no exported format to verify" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("target", "status"),
    [("tests.user_model:aborts", "Crash: the exporting process died of SIGABRT"),
     ("tests.user_model:exits", "Exit: the exporting process exited with code 0")],
)
def test_a_crash_in_one_format_costs_that_format_only(tmp_path: Path, target: str, status: str) -> None:
    result = run_cli("exporters", "export", target, "-f", "torchscript", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 1, result.stderr
    (model_dir,) = tmp_path.iterdir()
    formats = manifest_of(model_dir)["formats"]
    assert formats["torchscript"]["status"] == "failed" and formats["torchscript"]["error"].startswith(status)
    assert formats["onnx"]["status"] == "ok"
    assert not [p.name for p in model_dir.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def test_a_hanging_export_is_killed_at_its_timeout(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:hangs", "-f", "torchscript", "--timeout", "10",
                     "--out", str(tmp_path))
    assert result.returncode == 1
    entry = manifest_of(tmp_path / "hazard_hang")["formats"]["torchscript"]
    assert entry["error"].startswith("Timeout: the export ran longer than 10 s"), entry


@pytest.mark.parametrize(("target", "raised"), [("tests.user_model:build_raises", "RuntimeError"),
                                                 ("tests.user_model:build_exits", "SystemExit")])
def test_a_failing_build_gets_one_line_a_log_and_no_folder(tmp_path: Path, target: str, raised: str) -> None:
    result = run_cli("exporters", "export", target, "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert f"raised {raised}" in result.stderr and "Traceback" not in result.stderr
    log = Path(result.stderr.split("traceback in ")[1].split()[0])
    assert "Traceback" in log.read_text()
    assert not list(tmp_path.iterdir())


def test_a_second_writer_of_the_same_model_is_refused(tmp_path: Path) -> None:
    model_dir = tmp_path / "user_model"
    model_dir.mkdir()
    with open(model_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run_cli("exporters", "export", "tests.user_model:build", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 2 and "being written by another export" in result.stderr, result.stderr


def _record_many(model_dir: Path, tag: str) -> None:
    from exporters.contract.manifest import record_results

    for i in range(100):
        record_results(model_dir, {"onnx": {"verification": {f"{tag}/{i}": {"passed": True}}}})


def test_steps_recording_at_once_lose_no_verdict(user_model_onnx: Path, tmp_path: Path) -> None:
    """Two steps recording into one manifest at the same moment (a JVM verify beside a Python verify): the one writer
    merges each into what the other wrote. Without its lock, about half of these were lost."""
    import multiprocessing

    model_dir = copy_model(user_model_onnx, tmp_path)
    steps = [multiprocessing.get_context("spawn").Process(target=_record_many, args=(model_dir, tag)) for tag in "ab"]
    for step in steps:
        step.start()
    for step in steps:
        step.join()
    recorded = manifest_of(model_dir)["formats"]["onnx"]["verification"]
    assert sum(key[:2] in ("a/", "b/") for key in recorded) == 200


def test_merge_refuses_a_log_path_outside_its_tree(user_model_onnx: Path, tmp_path: Path) -> None:
    copy_model(user_model_onnx, tmp_path / "a")
    manifest = manifest_of(tmp_path / "a" / "user_model")
    manifest["formats"]["onnx"]["log"] = "../../../escaped.log"
    (tmp_path / "a" / "user_model" / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("exporters", "merge", str(tmp_path / "a"), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "refusing" in result.stderr, result.stderr
    assert not (tmp_path / "escaped.log").exists()


def test_an_unchanged_model_is_not_exported_again(user_model_onnx: Path, tmp_path: Path) -> None:
    args = ("exporters", "export", "tests.user_model:build", "-f", "onnx", "--out", str(tmp_path))
    copy_model(user_model_onnx, tmp_path)  # the first export
    before = manifest_of(tmp_path / "user_model")
    again = run_cli(*args)
    assert again.returncode == 0 and "unchanged since the last export" in again.stderr, again.stderr
    assert manifest_of(tmp_path / "user_model") == before
    forced = run_cli(*args, "--force")
    assert forced.returncode == 0 and "unchanged since the last export" not in forced.stderr


def test_a_format_the_registry_no_longer_lists_keeps_its_record_after_the_others(user_model_onnx: Path, tmp_path: Path) -> None:
    """A plugin format removed from the registry (or one a newer checkout added): its record stays, last."""
    copy_model(user_model_onnx, tmp_path)
    manifest = manifest_of(tmp_path / "user_model")
    manifest["formats"] = {"retired": manifest["formats"]["onnx"], **manifest["formats"]}
    (tmp_path / "user_model" / "manifest.json").write_text(json.dumps(manifest))
    again = run_cli("exporters", "export", "tests.user_model:build", "-f", "onnx", "--out", str(tmp_path), "--force")
    assert again.returncode == 0, again.stderr
    assert list(manifest_of(tmp_path / "user_model")["formats"]) == ["onnx", "retired"]


def test_a_format_whose_fingerprint_changed_exports_alone_on_the_same_golden_data(tmp_path: Path) -> None:
    args = ("exporters", "export", "tests.user_model:build", "-f", "onnx", "-f", "torchscript", "--out", str(tmp_path))
    assert run_cli(*args).returncode == 0
    model_dir = tmp_path / "user_model"
    golden = {p: p.stat().st_mtime_ns for p in (model_dir / "golden").iterdir()}
    manifest = manifest_of(model_dir)
    pinned = manifest["formats"]["onnx"]["fingerprint_parts"]["onnx"]
    manifest["formats"]["onnx"]["fingerprint"] = "exported by another onnx"  # as a new onnx pin leaves it
    manifest["formats"]["onnx"]["fingerprint_parts"]["onnx"] = "1.0.0"
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    lines = {line.split()[0]: line for line in again.stderr.splitlines() if line.startswith("  ")}
    assert "unchanged since the last export" in lines["torchscript"] and "unchanged" not in lines["onnx"], again.stderr
    assert f"exported again: onnx changed: onnx 1.0.0 -> {pinned}" in again.stderr, again.stderr  # says which part
    after = manifest_of(model_dir)
    assert after["formats"]["onnx"]["fingerprint"] == manifest_of(model_dir)["formats"]["onnx"]["fingerprint"] != "exported by another onnx"
    assert after["formats"]["torchscript"] == manifest["formats"]["torchscript"]
    assert {p: p.stat().st_mtime_ns for p in (model_dir / "golden").iterdir()} == golden  # not regenerated


def test_a_checkout_at_another_path_finds_the_export_unchanged(user_model_onnx: Path, tmp_path: Path) -> None:
    """The image runs the code from /src, the host from its checkout: the fingerprint must not name the disk."""
    out = tmp_path / "artifacts"
    copy_model(user_model_onnx, out)  # exported from this checkout
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "exporters", elsewhere / "exporters", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", elsewhere / "tests", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    there = {"cwd": elsewhere, "env": {**os.environ, "PYTHONPATH": str(elsewhere)}, "capture_output": True, "text": True}
    imported = subprocess.run([sys.executable, "-c", "import exporters; print(exporters.__file__)"], **there)
    assert imported.stdout.startswith(str(elsewhere)), imported.stdout + imported.stderr
    again = subprocess.run([sys.executable, "-m", "exporters", "export", "tests.user_model:build", "-f", "onnx", "--out", str(out)], **there)
    assert again.returncode == 0, again.stderr
    assert "unchanged since the last export" in again.stderr, again.stderr


def test_the_model_fingerprint_reads_the_code_an_export_runs_and_no_other() -> None:
    """A report or bench edit must not make every model's golden data again."""
    from exporters import fingerprint

    read = {path.relative_to(fingerprint.PACKAGE).as_posix() for path in fingerprint._export_sources()}
    assert {"export.py", "worker.py", "golden.py", "spec.py", "box.py", "contract/manifest.py", "zoo_models.py"} <= read
    assert not read & {"report.py", "bench.py", "cli.py", "verify.py", "plots.py", "merge.py", "contract/gate.py"}
    assert not [name for name in read if name.startswith("formats/")]  # each format's code keys that format alone


def test_a_format_fingerprint_reads_the_modules_its_format_imports_and_not_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a format (a registry line) re-exports no other; an edit to code a format runs re-exports that format."""
    from exporters import fingerprint
    from exporters.formats import FORMATS, ExportOptions

    def changed_by_editing(module: str) -> set[str]:
        before = {name: fingerprint.format_fingerprint("model", fmt, ExportOptions()).digest for name, fmt in FORMATS.items()}
        content = fingerprint._content
        monkeypatch.setattr(fingerprint, "_content", lambda path: "edited" if path == fingerprint.FORMATS_DIR / module else content(path))
        after = {name: fingerprint.format_fingerprint("model", fmt, ExportOptions()).digest for name, fmt in FORMATS.items()}
        monkeypatch.setattr(fingerprint, "_content", content)
        return {name for name in FORMATS if before[name] != after[name]}

    assert changed_by_editing("__init__.py") == set()
    assert changed_by_editing("onnx.py") == {"onnx", "openvino"}  # OpenVINO falls back on the ONNX exporter's graph
    assert changed_by_editing("attention.py") == {"executorch"}
    assert changed_by_editing("guards.py") == set(FORMATS)  # the guard remedy runs for every format
    parts = fingerprint.format_fingerprint("model", FORMATS["openvino"], ExportOptions()).parts
    assert {"code exporters/formats/openvino.py", "code exporters/formats/onnx.py"} <= set(parts)


def test_only_a_format_compiled_for_this_machine_depends_on_the_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    from exporters import fingerprint
    from exporters.formats import FORMATS, ExportOptions

    before = {name: fingerprint.format_fingerprint("model", fmt, ExportOptions()).digest for name, fmt in FORMATS.items()}
    monkeypatch.setattr(fingerprint, "compiler", lambda: "g++ (another) 99.1")
    after = {name: fingerprint.format_fingerprint("model", fmt, ExportOptions()) for name, fmt in FORMATS.items()}
    assert {name for name in FORMATS if before[name] != after[name].digest} == {"aoti"}
    assert fingerprint.format_fingerprint("other model", FORMATS["onnx"], ExportOptions()).digest != after["onnx"].digest
    assert fingerprint.changes("aoti", {**after["aoti"].parts, "compiler": "g++ 12"}, after["aoti"]) == (
        "aoti changed: compiler g++ 12 -> g++ (another) 99.1")


def test_reproduce_records_byte_identical_formats(mlp_dir: Path, tmp_path: Path) -> None:
    copy_model(mlp_dir, tmp_path, ("onnx", "torchscript"))
    result = run_cli("exporters", "reproduce", "mlp", "--artifacts", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for entry in manifest_of(tmp_path / "mlp")["formats"].values():
        assert entry["reproducible"] == {"identical": True, "differs": []}
    assert run_cli("exporters", "report", str(tmp_path)).returncode == 0
    assert "| yes |" in (tmp_path / "report.md").read_text()
