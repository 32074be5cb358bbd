"""An engine whose JVM dies is that runtime's verdict: its formats are recorded as crashed, the other engines
still run, and the gate decides as for any failed verdict.

How the child really dies: OpenVINO's runner loads its C library from the folder HARNESS_OPENVINO_LIB names (the
product's own setting, the one a deployment image uses). The tests point it at a folder whose libopenvino_c is a
small native library compiled here that corrupts the process as it is loaded: a double free that glibc detects and
answers with abort() (SIGABRT, the way "corrupted double-linked list" kills a JVM), or, with STUB_CRASH=segv, a write
through a null pointer, a fault the JVM catches itself (it writes hs_err_pidN.log, then aborts). Nothing in the
product knows about the tests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, copy_model, manifest_of, run_cli

STUB = r"""
#include <stdlib.h>
#include <string.h>
/* Stands in for libopenvino_c: dies as it is loaded, as a runtime that corrupted its heap does. */
__attribute__((constructor)) static void die(void) {
  const char *how = getenv("STUB_CRASH");
  if (how && strcmp(how, "segv") == 0) {
    *(volatile int *)0 = 1;  /* a fault the JVM catches: it writes hs_err, then aborts */
  }
  void *block = malloc(40);
  free(block);
  free(block);  /* glibc detects the double free and aborts: SIGABRT */
}
"""
OPENVINO, ONNX = "jvm/openvino-c-jna", "jvm/onnxruntime-java"
TARGET = ROOT / "jvm_harness" / "target"


@pytest.fixture(scope="module")
def crashing_openvino(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as the OpenVINO wheel's libs (libtbb, libopenvino, libopenvino_c.so.N) whose C library kills
    the process that loads it."""
    folder = tmp_path_factory.mktemp("crashing-openvino")
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler builds the harness's JNI shim; none found"
    (folder / "stub.c").write_text(STUB)
    (folder / "empty.c").write_text("void nothing(void) {}\n")
    subprocess.run([compiler, "-shared", "-fPIC", "-o", folder / "libopenvino_c.so.2641", folder / "stub.c"], check=True)
    for name in ("libtbb.so.12", "libopenvino.so.2641"):
        subprocess.run([compiler, "-shared", "-fPIC", "-o", folder / name, folder / "empty.c"], check=True)
    return folder


@pytest.fixture()
def onnx_and_openvino(mlp_dir: Path, tmp_path: Path) -> Path:
    return copy_model(mlp_dir, tmp_path / "models", ("onnx", "openvino"))


def reproduce_command(stderr: str) -> list[str]:
    found = re.search(r"reproduce with `([^`]+)`", stderr)
    assert found, stderr
    return shlex.split(found.group(1))


def test_a_dead_engine_jvm_is_recorded_as_crashed_and_the_others_still_run(
        onnx_and_openvino: Path, crashing_openvino: Path, tmp_path: Path) -> None:
    env = {"HARNESS_OPENVINO_LIB": str(crashing_openvino), "TMPDIR": str(tmp_path)}
    folder = str(onnx_and_openvino)
    informative = run_cli("jvm_harness", "verify", "--engine", "openvino", "--engine", "onnxruntime", "--require", "onnx", folder, env=env)
    assert informative.returncode == 0, informative.stderr  # openvino informative: its crash does not fail the run
    verification = {fmt: entry["verification"] for fmt, entry in manifest_of(onnx_and_openvino)["formats"].items()}
    crashed = verification["openvino"][OPENVINO]
    assert crashed["passed"] is False and "key" not in crashed, crashed
    assert crashed["crashed"]["signal"] == "SIGABRT" and crashed["crashed"]["exit_code"] == 134, crashed
    assert any("double free detected" in line for line in crashed["crashed"]["last_lines"]), crashed
    assert crashed["error"].startswith("the JVM for engine openvino died with SIGABRT (free(): double free detected"), crashed
    assert verification["onnx"][ONNX]["passed"] and verification["onnx"][ONNX]["cases"] == 4
    assert re.search(r"mlp/openvino +CRASHED +openvino-c-jna +crashed: the JVM for engine openvino died with SIGABRT", informative.stderr)
    assert "gate: informative mlp/openvino failed: the runtime crashed in jvm/openvino-c-jna" in informative.stderr

    # The command the error names runs the same child alone: it dies again, said in one line, no traceback.
    command = reproduce_command(crashed["error"])
    assert command[1:5] == ["-m", "jvm_harness", "check-engine", "openvino"] and folder in command, command
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})
    assert again.returncode == 1 and "Traceback" not in again.stderr, again.stderr
    assert "double free detected" in again.stderr and "error: the JVM for engine openvino died with SIGABRT" in again.stderr

    # Never reused as a verdict: the next run checks openvino again (here it faults, caught by the JVM: hs_err) and
    # reuses onnx; openvino now required, the crash fails the run.
    required = run_cli("jvm_harness", "verify", "--engine", "openvino", "--engine", "onnxruntime", "--require", "openvino", folder,
                       env={**env, "STUB_CRASH": "segv"})
    assert required.returncode == 1, required.stderr
    assert required.stderr.count("(reused: ") == 1 and "mlp/onnx" in required.stderr, required.stderr
    assert "gate: required mlp/openvino failed: the runtime crashed in jvm/openvino-c-jna" in required.stderr
    crashed = manifest_of(onnx_and_openvino)["formats"]["openvino"]["verification"][OPENVINO]["crashed"]
    fault, frame, hs_err = crashed["last_lines"]
    assert crashed["signal"] == "SIGABRT" and fault.startswith("SIGSEGV (0xb) at pc=") and "libopenvino_c.so.2641" in frame, crashed
    assert Path(hs_err.removeprefix("hs_err: ")).parent == tmp_path and Path(hs_err.removeprefix("hs_err: ")).is_file()

    # The report shows the cell as crashed, with its signal, not as a parity failure.
    report = run_cli("exporters", "report", str(onnx_and_openvino.parent))
    assert report.returncode == 0, report.stderr
    assert "| **CRASHED** SIGABRT (SIGSEGV (0xb) at pc=" in (onnx_and_openvino.parent / "report.md").read_text()


def test_check_engine_is_documented_and_refuses_an_unknown_engine(mlp_dir: Path) -> None:
    helped = run_cli("jvm_harness", "check-engine", "--help")
    assert helped.returncode == 0 and "ENGINE=VERSION" in helped.stdout, helped.stdout + helped.stderr
    unknown = run_cli("jvm_harness", "check-engine", "no-such-engine", str(mlp_dir))
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr and "no engine no-such-engine" in unknown.stderr


def test_pure_java_self_check_records_a_dead_engine_and_names_its_command(
        onnx_and_openvino: Path, crashing_openvino: Path, tmp_path: Path) -> None:
    """SelfCheck relaunching itself per engine: the dead engine's formats are crashed results, the others pass."""
    classpath = ":".join(str(TARGET / part) for part in ("jvm-harness.jar", "lib/core/*", "jvm-harness-onnxruntime.jar",
                                                         "lib/onnxruntime/*", "jvm-harness-openvino.jar", "lib/openvino/*"))
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    env = {**os.environ, "HARNESS_OPENVINO_LIB": str(crashing_openvino), "STUB_CRASH": "segv"}
    result = subprocess.run([java, f"-XX:ErrorFile={tmp_path}/hs_err_pid%p.log", "-cp", classpath,  # the children inherit it
                             "org.exportpipeline.harness.tools.SelfCheck", "--json", str(onnx_and_openvino)],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    results = {r["format"]: r["verification"] for r in json.loads(result.stdout)}
    assert results["onnx"]["passed"], results["onnx"]
    crashed = results["openvino"]
    assert crashed["passed"] is False and crashed["runtime"] == "openvino-c-jna", crashed
    assert crashed["crashed"]["signal"] == "SIGABRT" and crashed["crashed"]["exit_code"] == 134, crashed
    fault, frame, hs_err = crashed["crashed"]["last_lines"]
    assert fault.startswith("SIGSEGV (0xb) at pc=") and "libopenvino_c.so.2641" in frame and Path(hs_err.removeprefix("hs_err: ")).is_file()
    assert f"error: {crashed['error']}" in result.stderr
    # The command it names (the java command line it used, SelfCheck --engine openvino and the folder) reproduces it.
    command = reproduce_command(crashed["error"])
    assert command[command.index("org.exportpipeline.harness.tools.SelfCheck") + 1:] == ["--engine", "openvino", str(onnx_and_openvino)]
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert again.returncode == -signal.SIGABRT and "A fatal error has been detected by the Java Runtime Environment" in again.stdout
