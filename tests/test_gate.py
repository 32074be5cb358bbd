"""The CI gate: required formats must pass for exit 0, informative ones are reported with their hints.

`tests.user_model:binned` exports to ONNX while ExecuTorch's lowering refuses it (torch.bucketize).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, cli_once, copy_model, manifest_of, run_cli
from exporters.bench_report import recommend
from exporters.contract.manifest import file_entries
from exporters.formats import FORMATS

BINNED = ("exporters", "export", "tests.user_model:binned", "-f", "onnx", "-f", "executorch")


def required_flags(model_dir: Path) -> dict[str, bool]:
    return {name: entry["required"] for name, entry in manifest_of(model_dir)["formats"].items()}


@pytest.fixture()
def binned_runs(shared_root: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess, Path]:
    """binned exported to onnx + executorch: every format required (the default), then --require onnx; the two
    runs made once per run, each test given their outcomes and its own copy of the folder they left."""
    out = shared_root / "gate"
    red, green = cli_once(shared_root, "gate", (*BINNED, "--out", str(out)), (*BINNED, "--require", "onnx", "--out", str(out)))
    return red, green, copy_model(out / "binned", tmp_path)


def test_an_informative_failure_keeps_exit_0(binned_runs: tuple) -> None:
    _, green, model_dir = binned_runs
    assert green.returncode == 0, green.stderr
    last = green.stderr.strip().splitlines()[-3:]
    assert last[0] == "gate: required passed: binned/onnx"
    assert last[1].startswith("gate: informative binned/executorch failed: export failed: SpecViolationError")
    assert "; hint: " in last[1]
    assert last[2].startswith("gate: passed")
    assert required_flags(model_dir) == {"onnx": True, "executorch": False}


def test_without_require_every_format_gates_and_the_run_is_red(binned_runs: tuple) -> None:
    red, _, _ = binned_runs
    assert red.returncode == 1, red.stderr
    assert "gate: required binned/executorch failed: export failed: SpecViolationError" in red.stderr
    assert red.stderr.strip().splitlines()[-1].startswith("error: 1 required format(s) failed: binned/executorch")


def test_verify_and_gate_judge_from_the_manifest_and_the_command_line_overrides_it(binned_runs: tuple) -> None:
    _, _, model_dir = binned_runs
    verified = run_cli("exporters", "verify", str(model_dir))  # the flags export recorded: onnx only
    assert verified.returncode == 0, verified.stderr
    assert "gate: required passed: binned/onnx" in verified.stderr
    strict = run_cli("exporters", "gate", str(model_dir), "--require", "onnx", "--require", "executorch")
    assert strict.returncode == 1 and "gate: required binned/executorch failed" in strict.stderr, strict.stderr
    deploy = run_cli("exporters", "gate", str(model_dir), "--deployable", "executorch")
    assert deploy.returncode == 1, deploy.stderr
    assert "DEPLOY_FORMATS names formats that did not pass: binned/executorch" in deploy.stderr
    assert run_cli("exporters", "gate", str(model_dir), "--deployable", "onnx").returncode == 0


def test_report_marks_each_format_required_or_informative(binned_runs: tuple) -> None:
    _, _, model_dir = binned_runs
    assert run_cli("exporters", "report", str(model_dir.parent)).returncode == 0
    text = (model_dir.parent / "report.md").read_text()
    assert "| binned | onnx | ok, required |" in text
    assert "| binned | executorch | **failed**, informative: SpecViolationError" in text


def test_the_spec_chooses_formats_and_the_stage_exports_only_its_own(tmp_path: Path) -> None:
    """binned_onnx_required says formats=[onnx, executorch], required=[onnx]: the Docker stage of
    executorch exports it as informative, the stage of aoti exports nothing."""
    result = run_cli("exporters", "export", "tests.user_model:binned_onnx_required", "--stage", "executorch",
                     "--out", str(tmp_path / "et"))
    assert result.returncode == 0, result.stderr
    assert required_flags(tmp_path / "et" / "binned") == {"executorch": False}
    assert "gate: informative binned/executorch failed" in result.stderr
    result = run_cli("exporters", "export", "tests.user_model:binned_onnx_required", "--stage", "aoti",
                     "--out", str(tmp_path / "aoti"))
    assert result.returncode == 0, result.stderr
    assert manifest_of(tmp_path / "aoti" / "binned")["formats"] == {}


@pytest.mark.parametrize(("target", "args", "expected"), [
    ("tests.user_model:unknown_format", [], "unknown_format: formats= names unknown format tflite; choose from"),
    ("tests.user_model:required_not_exported", [],
     "required_not_exported: required= names aoti, which formats= does not export"),
    ("mlp", ["-f", "onnx", "--require", "aoti"], "mlp: --require names aoti, which this run does not export (onnx)"),
    ("mlp", ["--require", "tflite"], "unknown format tflite"),
])
def test_a_bad_gate_is_one_line_and_exit_2(tmp_path: Path, target: str, args: list[str], expected: str) -> None:
    result = run_cli("exporters", "export", target, *args, "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not list(tmp_path.iterdir())


def test_a_required_format_failing_in_the_jvm_fails_the_gate(mlp_dir: Path, tmp_path: Path) -> None:
    model_dir = copy_model(mlp_dir, tmp_path, ("onnx", "torchscript"))
    assert run_cli("exporters", "verify", str(model_dir)).returncode == 0
    with open(model_dir / "onnx" / "model.onnx.data", "r+b") as weights:  # same size, other weights
        weights.write(b"\x7f\x7f\x7f\x7f")
    manifest = manifest_of(model_dir)  # re-recorded, as a tampering exporter would: integrity passes, parity fails
    manifest["formats"]["onnx"]["files"] = file_entries(model_dir, sorted((model_dir / "onnx").iterdir()))
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    jvm = ("jvm_harness", "verify", "--engine", "onnxruntime", str(model_dir))
    red = run_cli(*jvm, "--require", "onnx")
    assert red.returncode == 1, red.stderr
    assert "gate: required mlp/onnx failed: answers worse than eager PyTorch in jvm/onnxruntime-java" in red.stderr
    green = run_cli(*jvm, "--require", "torchscript")
    assert green.returncode == 0, green.stderr
    assert "gate: required passed: mlp/torchscript" in green.stderr
    assert "gate: informative mlp/onnx failed: answers worse than eager PyTorch in jvm/onnxruntime-java" in green.stderr


def docker_build_commands(*variables: str) -> list[str]:
    dry = subprocess.run(["make", "-n", "--no-print-directory", "docker-artifacts", "MODELS=mlp", *variables],
                         cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    return [line for line in dry.stdout.splitlines() if " build " in line and "--target artifacts" in line]


def reachable_stages(target: str, build_args: dict[str, str]) -> set[str]:
    """The stages BuildKit builds for target: FROM and COPY --from edges, global ARGs substituted."""
    text = (ROOT / "docker" / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG (STAGE_\w+)=(\S+)$", text, flags=re.MULTILINE)) | build_args
    edges: dict[str, set[str]] = {}
    stage = None
    for line in text.splitlines():
        if match := re.match(r"FROM (\S+) AS (\S+)$", line):
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), match.group(1))
            stage = match.group(2)
            edges[stage] = {base}
        elif stage and (match := re.match(r"COPY --from=(\S+)", line)):
            edges[stage].add(match.group(1))
    seen, todo = set(), [target]
    while todo:
        name = todo.pop()
        if name in edges and name not in seen:
            seen.add(name)
            todo += edges[name]
    return seen


def test_docker_builds_only_the_export_stages_of_formats(tmp_path: Path) -> None:
    (command,) = docker_build_commands("FORMATS=onnx executorch", "REQUIRE=onnx")
    assert '--build-arg FORMATS="onnx executorch" --build-arg REQUIRE="onnx"' in command
    skipped = dict(re.findall(r"--build-arg (STAGE_\w+)=(\S+)", command))
    assert skipped == {f"STAGE_{name}": "no-export" for name in FORMATS if name not in ("onnx", "executorch")}
    exports = {s for s in reachable_stages("artifacts", skipped) if s.startswith("export-")}
    assert exports == {"export-onnx", "export-executorch"}
    (everything,) = docker_build_commands()
    assert "STAGE_" not in everything
    assert {s for s in reachable_stages("artifacts", {}) if s.startswith("export-")} == {
        f"export-{name.replace('_', '-')}" for name in FORMATS}


def test_make_passes_formats_and_require_to_every_step() -> None:
    dry = subprocess.run(["make", "-n", "--no-print-directory", "all-native", "MODELS=mlp", "FORMATS=onnx aoti",
                          "REQUIRE=onnx"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout
    assert "-m exporters export 'mlp' --out artifacts --format onnx --format aoti --require onnx" in commands
    assert re.search(r"-m exporters verify \$dirs --format onnx --format aoti --require onnx", commands)
    assert re.search(r"-m jvm_harness verify \$dirs --require onnx", commands)
    assert re.search(r"-m exporters gate \$dirs --format onnx --format aoti --require onnx", commands)


def test_the_recommendation_never_proposes_a_format_that_failed() -> None:
    def row(fmt: str, runtime: str, p50: float) -> dict:
        return {"model": "m", "format": fmt, "side": "jvm", "runtime": runtime, "batch": 1, "p50_ms": p50,
                "version": "1"}

    facts = {"onnx": {"status": "ok", "required": True, "bytes": 1, "parity": {"jvm/onnxruntime-java": True}},
             "torchscript": {"status": "ok", "required": False, "bytes": 1, "parity": {"jvm/djl-pytorch": False}},
             "executorch": {"status": "failed", "required": False, "bytes": 0, "parity": {}}}
    result = {"rows": [row("torchscript", "djl-pytorch", 0.1), row("onnx", "onnxruntime-java", 0.2)],
              "vs_eager": [], "artifacts": {"m": facts}, "machine": {}}
    text = "\n".join(recommend(result))
    assert "fastest JVM runtime at batch 1 that passed parity: onnxruntime-java (onnx)" in text
    assert "faster but failed parity or never verified (not proposed): djl-pytorch (torchscript)" in text
    assert "export failed or reported problems (never proposed): executorch (informative)" in text
