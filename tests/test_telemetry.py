"""ONNX Runtime 1.29+ records telemetry from its first environment: a device id and an event cache under
~/.cache/Microsoft (uploaded where it can reach out), whatever setTelemetry(false) says afterwards. Every process the
project starts runs with ORT_DISABLE_TELEMETRY=1, and a JVM service started without it is warned by the runner.
Each check is paired with the same run without the setting, which must leave the traces: the probe can see them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jvm_harness import jvm

SETTING = "ORT_DISABLE_TELEMETRY"
TRACES = Path(".cache", "Microsoft")
WARNING = f"set {SETTING}=1"
# ONNX Runtime 1.29 also stays quiet where one of these says it runs in CI (their names are in libonnxruntime.so), and
# writes under XDG_CACHE_HOME when that is set: the run without the setting must not inherit any of them
QUIET_IN_CI = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "CODEBUILD_BUILD_ID",
               "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER")
NOT_INHERITED = {SETTING, "XDG_CACHE_HOME", *QUIET_IN_CI}

pytestmark = pytest.mark.skipif("onnxruntime" not in jvm.engines(), reason="the onnxruntime engine is not built: make jvm")


def run(command: list[str], home: Path, setting: str | None) -> subprocess.CompletedProcess:
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED} | {"HOME": str(home)}
    if setting is not None:
        env[SETTING] = setting
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_jvm_runner_records_nothing_with_the_setting_and_warns_without_it(tmp_path: Path, mlp_dir: Path) -> None:
    assert os.environ[SETTING] == "1"  # importing jvm_harness set it for every JVM it starts
    command = [*jvm.java_command(jvm.SELF_CHECK, "onnxruntime"), "--engine", "onnxruntime", str(mlp_dir)]

    quiet = run(command, tmp_path / "quiet", "1")
    assert not (tmp_path / "quiet" / TRACES).exists(), sorted((tmp_path / "quiet").rglob("*"))
    assert WARNING not in quiet.stderr

    loud = run(command, tmp_path / "loud", None)
    assert (tmp_path / "loud" / TRACES).is_dir(), "without the setting ONNX Runtime left no trace: the probe is blind"
    assert loud.stderr.count(WARNING) == 1, loud.stderr


def test_python_verification_records_nothing(tmp_path: Path, mlp_dir: Path) -> None:
    load = ("import json, sys; from pathlib import Path; from exporters.formats import onnx; "
            "folder = Path(sys.argv[1]); onnx.load(folder / 'onnx', json.loads((folder / 'manifest.json').read_text()))")
    command = [sys.executable, "-c", load, str(mlp_dir)]

    run(command, tmp_path / "quiet", None)  # the format module sets it before ONNX Runtime starts
    assert not (tmp_path / "quiet" / TRACES).exists(), sorted((tmp_path / "quiet").rglob("*"))

    run(command, tmp_path / "loud", "0")
    assert (tmp_path / "loud" / TRACES).is_dir(), "with the setting at 0 ONNX Runtime left no trace: the probe is blind"
