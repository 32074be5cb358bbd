"""The bench's output is well formed: rows, ratios, plots and the recommendation. Nothing here is timed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_cli

ROW_KEYS = ("model", "format", "side", "runtime", "batch", "p50_ms", "p90_ms", "p99_ms", "throughput_per_s",
            "load_ms", "first_run_ms", "threads", "warmup", "repeats")
PNG = b"\x89PNG\r\n\x1a\n"


def test_bench_writes_well_formed_rows_for_both_sides(mlp_dir: Path, tmp_path: Path) -> None:
    result = run_cli("exporters", "bench", "mlp", "--artifacts", str(mlp_dir.parent), "-f", "onnx",
                     "--warmup", "1", "--warmup-s", "0", "--repeats", "3", "--rounds", "2", "--callers", "1",
                     "--callers", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    bench = json.loads((tmp_path / "bench.json").read_text())
    rows = bench["rows"]
    assert {(r["format"], r["side"], r["runtime"]) for r in rows} == {
        ("eager", "python", "torch"), ("onnx", "python", "onnxruntime"), ("onnx", "jvm", "onnxruntime-java")}
    assert sorted({r["batch"] for r in rows}) == [1, 32]  # mlp's batch dim allows 1..64
    for row in rows:
        assert all(key in row for key in ROW_KEYS), row
        assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"] and row["throughput_per_s"] > 0, row
        assert row["load_ms"] >= 0 and row["first_run_ms"] > 0 and row["warmup"] >= 1, row
        assert row["repeats"] == 3 and row["rounds"] == 2 and row["threads"] == 1 and row["thread_setting"], row
    assert len(bench["round_rows"]) == 2 * len(rows)
    assert [(r["jvm_runtime"], r["python_runtime"], r["batch"]) for r in bench["jvm_vs_python"]] == [
        ("onnxruntime-java", "onnxruntime", 1), ("onnxruntime-java", "onnxruntime", 32)]
    assert all(len(r["p50_ratio_per_round"]) == 2 and r["p50_ratio"] > 0 for r in bench["jvm_vs_python"])
    assert len(bench["vs_eager"]) == 4 and all(r["p50_ratio"] > 0 for r in bench["vs_eager"])
    assert bench["machine"]["cores"] >= 1 and bench["machine"]["cpu"]
    scaling = bench["scaling"]  # one loaded model per runtime, shared by 1 then 2 callers, at batch 1
    assert [(r["side"], r["runtime"], r["callers"]) for r in scaling] == [
        ("python", "torch", 1), ("python", "torch", 2), ("python", "onnxruntime", 1), ("python", "onnxruntime", 2),
        ("jvm", "onnxruntime-java", 1), ("jvm", "onnxruntime-java", 2)]
    for row in scaling:
        assert row["batch"] == 1 and row["throughput_per_s"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"], row
        assert row["scaling"] == (1.0 if row["callers"] == 1 else round(row["throughput_per_s"] / next(
            r["throughput_per_s"] for r in scaling if r["runtime"] == row["runtime"] and r["callers"] == 1), 3)), row
    assert bench["settings"]["callers"] == [1, 2]
    assert sorted(bench["plots"]) == ["plots/caller_scaling.png", "plots/jvm_python_ratio.png", "plots/latency.png",
                                      "plots/size_latency.png"]
    for plot in bench["plots"]:
        assert (tmp_path / plot).read_bytes().startswith(PNG)
    text = (tmp_path / "bench.md").read_text()
    assert "## Which format for a JVM service" in text and "fastest JVM runtime at batch 1" in text
    assert "## Caller scaling" in text and "| mlp | onnx | jvm | onnxruntime-java | one opened runner shared | 2 |" in text


def test_bench_never_runs_the_source_a_manifest_names(mlp_dir: Path, tmp_path: Path) -> None:
    """The eager baseline comes from the command line: a folder claiming `os:abort` is not run, only not found."""
    shutil.copytree(mlp_dir, tmp_path / "mlp")
    manifest = json.loads((tmp_path / "mlp" / "manifest.json").read_text())
    manifest["source"] = "os:abort"
    (tmp_path / "mlp" / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("exporters", "bench", "mlp", "--artifacts", str(tmp_path), "--no-jvm", "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "no model under" in result.stderr and "zoo:mlp" in result.stderr
    assert not (tmp_path / "bench.json").exists()


def test_bench_refuses_a_tampered_artifact_before_timing(mlp_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(mlp_dir, tmp_path / "mlp")
    with open(tmp_path / "mlp" / "onnx" / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    result = run_cli("exporters", "bench", "mlp", "--artifacts", str(tmp_path), "-f", "onnx", "--no-jvm")
    assert result.returncode == 2 and "was altered after export" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_report_links_the_bench_written_beside_it(mlp_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(mlp_dir, tmp_path / "mlp")
    bench = run_cli("exporters", "bench", "mlp", "--artifacts", str(tmp_path), "-f", "onnx", "--no-jvm",
                    "--warmup", "1", "--warmup-s", "0", "--repeats", "2", "--rounds", "1")
    assert bench.returncode == 0, bench.stderr
    assert not json.loads((tmp_path / "bench.json").read_text())["jvm_vs_python"]
    report = run_cli("exporters", "report", str(tmp_path))
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "report.md").read_text()
    assert "[bench.md](bench.md)" in text and "![latency](plots/latency.png)" in text
