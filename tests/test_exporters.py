"""Every format from one spec, verified in Python, recorded in the manifest as the contract says."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import copy_model, manifest_of, run_cli
from exporters.contract.manifest import current_umask
from exporters.formats import FORMATS

TOLERANCE = 1e-5


def test_every_format_exports_and_matches_eager(mlp_dir: Path) -> None:
    formats = manifest_of(mlp_dir)["formats"]
    assert sorted(formats) == sorted(FORMATS)
    for name, entry in formats.items():
        assert entry["status"] == "ok", (name, entry.get("error"))
        (result,) = entry["verification"].values()
        assert result["side"] == "python" and result["passed"], (name, result)
        assert result["cases"] == 4 and result["box"] == {"batch": [1, 64]}  # example, min, max, interior
        assert result["worst_ratio"] <= 1.0 and result["max_abs_err"] <= TOLERANCE, (name, result)
        assert "tolerance" not in entry
        assert entry["export_seconds"] > 0


def test_files_are_present_with_matching_hashes(mlp_dir: Path) -> None:
    manifest = manifest_of(mlp_dir)
    entries = [f for entry in manifest["formats"].values() for f in entry["files"]] + manifest["golden"]["files"]
    for entry in entries:
        data = (mlp_dir / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["bytes"], entry["path"]
    onnx_files = {f["path"] for f in manifest["formats"]["onnx"]["files"]}
    assert "onnx/model.onnx" in onnx_files
    leftovers = [p.name for p in mlp_dir.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert not leftovers, f"staging left behind: {leftovers}"


def test_artifacts_are_readable_by_others_like_plainly_created_files(mlp_dir: Path) -> None:
    """Staging uses mkstemp/mkdtemp (0600/0700); a deployment's service user must still read the files."""
    assert (mlp_dir / "manifest.json").stat().st_mode & 0o777 == 0o666 & ~current_umask()
    for fmt in FORMATS:
        assert (mlp_dir / fmt).stat().st_mode & 0o777 == 0o777 & ~current_umask(), fmt


def test_manifest_records_versions_io_and_golden_cases(mlp_dir: Path) -> None:
    manifest = manifest_of(mlp_dir)
    assert manifest["schema_version"] == 3 and manifest["model"] == "mlp"
    for package in ("torch", "onnxruntime", "openvino", "executorch", "onnx"):
        assert manifest["versions"][package][0].isdigit(), package
    assert manifest["inputs"] == [{"name": "x", "dtype": "float32", "shape": ["batch", 10]}]
    assert manifest["outputs"] == [{"name": "y", "dtype": "float32", "shape": ["batch", 1]}]
    assert manifest["dims"] == {"batch": {"min": 1, "max": 64}}
    batches = [np.load(mlp_dir / case["inputs"]["x"]).shape[0] for case in manifest["golden"]["cases"]]
    assert batches == [2, 1, 64, 33]
    assert [(case["at"], case["dims"]) for case in manifest["golden"]["cases"]] == [
        ("example", {"batch": 2}), ("min", {"batch": 1}), ("max", {"batch": 64}), ("interior", {"batch": 33})]
    assert manifest["golden"]["box"] == {"batch": [1, 64]}


def test_each_format_records_its_main_file_and_runtime_settings_from_the_registry(mlp_dir: Path) -> None:
    """The Java runners open `main` and apply `settings` as the manifest says: no copy of either lives in Java."""
    formats = manifest_of(mlp_dir)["formats"]
    for name, fmt in FORMATS.items():
        assert (formats[name]["main"], formats[name]["settings"]) == (fmt.main, fmt.settings), name
        assert f"{name}/{fmt.main}" in {file["path"] for file in formats[name]["files"]}, name
    assert formats["openvino"]["settings"] == {"INFERENCE_PRECISION_HINT": "f32"}
    assert formats["aoti"]["settings"] == {"AOTI_RUNTIME_CHECK_INPUTS": "1"}
    assert formats["onnx"]["main"] == "model.onnx" and formats["onnx"]["settings"] == {}


def test_the_schema_allows_exactly_the_settings_the_formats_declare() -> None:
    """A manifest may make a Java runner set only the names the schema lists (no cache folder, no library to
    preload); the formats' settings are where those names come from, and the schema's list must match them."""
    from exporters.contract.manifest import SCHEMA

    allowed = json.loads(SCHEMA.read_text())["$defs"]["settings"]["propertyNames"]["enum"]
    declared = sorted({name for fmt in FORMATS.values() for name in fmt.settings})
    assert sorted(allowed) == declared, (f"manifest.schema.json's settings names {sorted(allowed)} differ from the "
                                         f"formats' {declared}: run `python -m jvm_harness render`")


def test_each_format_records_the_needs_it_declares(mlp_dir: Path) -> None:
    """A format's need_keys are what the JVM runners' limits may read: its needs() records those and no others."""
    formats = manifest_of(mlp_dir)["formats"]
    for name, fmt in FORMATS.items():
        recorded = set(formats[name].get("needs", {}))
        assert recorded <= set(fmt.need_keys), f"{name} records {sorted(recorded - set(fmt.need_keys))} it does not declare"
        assert bool(fmt.needs) == bool(fmt.need_keys), name
    assert set(formats["aoti"]["needs"]) == {"compiled_by_torch", "cpu_isa", "pt2_archive_version"}


@pytest.mark.parametrize("records", [{"model/version": "10\n"}, {"model/.data/version": "10\n", "model/data.pkl": ""}])
def test_a_torchscript_file_version_is_read_where_torch_reads_it(records: dict[str, str], tmp_path: Path) -> None:
    """A large TorchScript archive keeps `version` under .data/ (the encoder's does); torch's reader looks there first."""
    from exporters.formats.torchscript import FORMAT

    (tmp_path / "torchscript").mkdir()
    with zipfile.ZipFile(tmp_path / "torchscript" / "model.pt", "w") as archive:
        for name, text in records.items():
            archive.writestr(name, text)
    assert FORMAT.needs(tmp_path / "torchscript") == {"torchscript_file_version": 10}


def test_onnx_keeps_the_batch_axis_dynamic(mlp_dir: Path) -> None:
    import onnx

    model = onnx.load(str(mlp_dir / "onnx" / "model.onnx"), load_external_data=False)
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.dim_value


def test_openvino_ir_keeps_fp32_weights(mlp_dir: Path) -> None:
    xml = (mlp_dir / "openvino" / "model.xml").read_text()
    assert 'element_type="f16"' not in xml
    assert 'element_type="f32"' in xml


def test_aoti_package_rejects_a_wrong_input_shape(mlp_dir: Path) -> None:
    manifest = manifest_of(mlp_dir)
    predict = FORMATS["aoti"].load(mlp_dir / "aoti", manifest)
    assert predict({"x": np.ones((1, 10), np.float32)})["y"].shape == (1, 1)
    with pytest.raises(Exception):
        predict({"x": np.ones((2, 11), np.float32)})


def test_draft_export_switch_saves_its_report(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "mlp", "-f", "exported_program", "--draft-export", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    entry = manifest_of(tmp_path / "mlp")["formats"]["exported_program"]
    assert entry["draft_export"] is True
    assert "exported_program/draft_export_report.txt" in {f["path"] for f in entry["files"]}
    assert run_cli("exporters", "verify", str(tmp_path / "mlp")).returncode == 0


def test_user_model_by_import_path(tmp_path: Path) -> None:
    result = run_cli("exporters", "export", "tests.user_model:build", "-f", "onnx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = manifest_of(tmp_path / "user_model")
    assert manifest["source"] == "tests.user_model:build"
    assert manifest["outputs"] == [{"name": "scores", "dtype": "float32", "shape": ["batch", 3]}]
    assert run_cli("exporters", "verify", str(tmp_path / "user_model")).returncode == 0


def test_a_failing_format_is_recorded_and_the_others_still_run(tmp_path: Path) -> None:
    result = run_cli(
        "exporters", "export", "tests.user_model:data_dependent",
        "-f", "exported_program", "-f", "torchscript", "-f", "onnx", "--out", str(tmp_path),
    )
    assert result.returncode == 1
    model_dir = tmp_path / "branchy"
    formats = manifest_of(model_dir)["formats"]
    # Tracing records one branch: a warning at export, and the golden cases on both sides decide.
    traced = formats["torchscript"]
    assert traced["status"] == "ok" and "data-dependent control flow" in traced["warnings"][0], traced
    assert "warning (the golden cases decide)" in result.stdout + result.stderr
    verified = run_cli("exporters", "verify", str(model_dir), "-f", "torchscript")
    assert verified.returncode == 1 and "branchy/torchscript failed: answers worse" in verified.stderr, verified.stderr
    failed = formats["exported_program"]
    assert failed["status"] == "failed" and "GuardOnDataDependent" in failed["error"]
    assert "torch.cond" in failed["hint"] and "--draft-export" in failed["hint"]  # by cause, for every graph format
    # ONNX falls back to the TorchScript-based exporter, which traces: one branch recorded, as TorchScript's.
    onnx = formats["onnx"]
    assert onnx["status"] == "ok", onnx
    assert onnx["export_path"]["taken"] == "the TorchScript-based exporter (dynamo=False)", onnx
    assert [tried["path"] for tried in onnx["export_path"]["tried"]] == ["the dynamo exporter (torch.export)"], onnx
    assert "Could not guard on data-dependent expression" in onnx["export_path"]["tried"][0]["error"], onnx
    assert "data-dependent control flow" in onnx["warnings"][0], onnx
    assert "Traceback" in (model_dir / failed["log"]).read_text()
    assert not (model_dir / "exported_program").exists()
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def test_tampered_artifact_fails_verification(mlp_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "mlp"
    shutil.copytree(mlp_dir, copy)
    with open(copy / "openvino" / "model.bin", "r+b") as weights:
        weights.write(b"\x7f\x7f\x7f\x7f")
    before = (copy / "manifest.json").read_bytes()
    result = run_cli("exporters", "verify", str(copy), "-f", "openvino")
    assert result.returncode == 2, result.stderr  # a broken contract, as SelfCheck answers it: no runtime opened it
    assert "openvino/model.bin does not match its recorded sha256" in result.stderr and "Traceback" not in result.stderr
    assert (copy / "manifest.json").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "no_such_model"], "unknown model 'no_such_model'"),
        (["export", "mlp", "-f", "tflite"], "unknown format tflite"),
        (["export", "tests.user_model:not_a_spec"], "returned str, expected exporters.ModelSpec"),
        (["export", "no_such_pkg.mod:build"], "cannot import no_such_pkg.mod"),
        (["verify", "/nonexistent/mlp"], "manifest.json not found"),
        (["report", "/nonexistent"], "no manifest.json under /nonexistent"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli("exporters", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_models_lists_the_zoo() -> None:
    result = run_cli("exporters", "models")
    assert result.returncode == 0
    from exporters.zoo import ZOO

    assert [line.split()[0] for line in result.stdout.splitlines()] == list(ZOO) == ["mlp", "cnn", "transformer", "encoder"]


def test_formats_lists_the_registry() -> None:
    result = run_cli("exporters", "formats")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(FORMATS)


def test_report_tabulates_every_format(mlp_dir: Path, tmp_path: Path) -> None:
    copy_model(mlp_dir, tmp_path)
    result = run_cli("exporters", "report", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "report.json").read_text())["rows"]
    assert {row["format"] for row in rows} == set(FORMATS)
    table = (tmp_path / "report.md").read_text()
    assert table.count("| mlp |") == len(FORMATS)


def test_report_says_when_a_format_has_no_jvm_runtime() -> None:
    from exporters.report import NO_JVM, to_markdown

    result = {"side": "jvm", "runtime": "onnxruntime-java", "version": "1.29.0", "java": "17", "passed": True,
              "max_abs_err": 0.0, "eager_abs_err": 0.0, "worst_ratio": 0.0, "load_ms": 1.0, "first_run_ms": 1.0}
    rows = [{"model": "m", "format": fmt, "status": "ok", "required": True, "bytes": 1, "export_seconds": 1.0,
             "error": None, "warnings": [], "reproducible": None, "verification": verification, "box": box}
            for fmt, verification, box in (("onnx", {"jvm/onnxruntime-java": result}, {"batch": [1, 8]}),
                                           ("exported_program", {}, None))]
    table = to_markdown(rows)
    assert f"| m | exported_program | ok, required | - | 0.0 KiB | 1.00 | - | - | {NO_JVM} |" in table
    assert "| m | onnx | ok, required | batch 1..8 | 0.0 KiB | 1.00 | - | - | pass 0.0e+00 (eager 0.0e+00) |" in table


def test_report_shows_the_concurrency_check_of_each_jvm_runtime() -> None:
    from exporters.report import to_markdown

    concurrency = {"callers": 4, "calls": 100, "failures": 3, "mismatches": 1, "not_bit_identical": 1, "wall_ms": 812.4,
                   "passed": False, "first_error": "IllegalStateException: busy"}
    result = {"side": "jvm", "runtime": "openvino-c-jna", "version": "2026.4.1", "java": "17", "passed": False,
              "max_abs_err": 0.0, "eager_abs_err": 0.0, "worst_ratio": 0.0, "load_ms": 1.0, "first_run_ms": 1.0,
              "concurrency": concurrency}
    rows = [{"model": "m", "format": "openvino", "status": "ok", "required": True, "bytes": 1, "export_seconds": 1.0,
             "error": None, "warnings": [], "box": None, "reproducible": None, "verification": {"jvm/openvino-c-jna": result}}]
    table = to_markdown(rows)
    assert ("| 1 | 1.0 | **FAIL** 4 callers, 100 calls: 3 failed, 1 mismatched, 812 ms (IllegalStateException: busy) |") in table


def test_merge_joins_trees_exported_format_by_format(mlp_dir: Path, tmp_path: Path) -> None:
    for fmt in ("onnx", "torchscript"):
        copy_model(mlp_dir, tmp_path / fmt, (fmt,))  # as a format's stage leaves its tree
        assert list(manifest_of(tmp_path / fmt / "mlp")["formats"]) == [fmt]
    merged = tmp_path / "merged"
    result = run_cli("exporters", "merge", str(tmp_path / "onnx"), str(tmp_path / "torchscript"), "--out", str(merged))
    assert result.returncode == 0, result.stderr
    assert sorted(manifest_of(merged / "mlp")["formats"]) == ["onnx", "torchscript"]
    assert run_cli("exporters", "verify", str(merged / "mlp")).returncode == 0

    onnx_only = tmp_path / "onnx_only"
    result = run_cli("exporters", "merge", str(merged), "-f", "onnx", "--out", str(onnx_only))
    assert result.returncode == 0, result.stderr
    assert list(manifest_of(onnx_only / "mlp")["formats"]) == ["onnx"]
    assert sorted(p.name for p in (onnx_only / "mlp").iterdir()) == ["golden", "manifest.json", "onnx"]


def test_merge_refuses_trees_of_different_models(user_model_onnx: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        copy_model(user_model_onnx, tmp_path / name)
    # b's golden data is consistent with its manifest but not a's: other code or pins exported it.
    model_dir = tmp_path / "b" / "user_model"
    manifest = manifest_of(model_dir)
    rel = manifest["golden"]["cases"][0]["inputs"]["features"]
    np.save(model_dir / rel, np.load(model_dir / rel) + 1)
    entry = next(e for e in manifest["golden"]["files"] if e["path"] == rel)
    entry["sha256"] = hashlib.sha256((model_dir / rel).read_bytes()).hexdigest()
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("exporters", "merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "other golden data" in result.stderr, result.stderr


def test_folders_finds_what_export_wrote_not_the_model_word(user_model_onnx: Path, tmp_path: Path) -> None:
    copy_model(user_model_onnx, tmp_path)
    result = run_cli("exporters", "folders", "--artifacts", str(tmp_path), "tests.user_model:build")
    assert result.returncode == 0 and result.stdout.split() == [str(tmp_path / "user_model")], result.stderr
    missing = run_cli("exporters", "folders", "--artifacts", str(tmp_path), "mlp")
    assert missing.returncode == 2 and "no model under" in missing.stderr and "zoo:mlp" in missing.stderr


def test_dockerfile_export_stages_follow_the_format_registry() -> None:
    from jvm_harness.dockerfile import stage_name
    from jvm_harness.render import DOCKERFILE

    result = run_cli("jvm_harness", "render", "--check")
    assert result.returncode == 0, result.stderr
    text = DOCKERFILE.read_text()
    for name in FORMATS:
        assert f"FROM exporter AS {stage_name(name)}\n" in text
        assert f"FROM ${{STAGE_{name}}} AS {stage_name(name, 'part')}\n" in text
        assert f"COPY --from={stage_name(name, 'part')} /out /parts/{name}\n" in text


def test_an_unchanged_verification_is_reused_and_force_or_a_changed_file_reruns_it(mlp_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "mlp"
    shutil.copytree(mlp_dir, copy)
    again = run_cli("exporters", "verify", str(copy), "-f", "onnx")
    assert again.returncode == 0 and "reused: files, golden data, rule, runtime version and CPU unchanged" in again.stdout + again.stderr
    recorded = manifest_of(copy)["formats"]["onnx"]["verification"]["python/onnxruntime"]
    assert len(recorded["key"]) == 64
    forced = run_cli("exporters", "verify", str(copy), "-f", "onnx", "--force")
    assert forced.returncode == 0 and "reused" not in forced.stdout + forced.stderr
    with open(copy / "onnx" / "model.onnx.data", "r+b") as weights:
        weights.write(b"\x7f\x7f\x7f\x7f")  # the recorded key still matches; the digest check must not
    altered = run_cli("exporters", "verify", str(copy), "-f", "onnx")
    assert altered.returncode == 2 and "reused" not in altered.stdout + altered.stderr
    assert "onnx/model.onnx.data does not match its recorded sha256: it was altered after export" in altered.stderr
