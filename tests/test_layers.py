"""The Python layers hold (pyproject.toml's [tool.importlinter] contracts): the contract at the bottom, never
importing the rest of the project or torch; the exporters and the JVM harness beside each other above it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout, done.stdout[-2000:]


def test_what_a_warm_run_imports_loads_without_torch():
    """The JVM verify's import chain (the harness CLI and the contract) and the exporters' CLI, format registry,
    zoo names, verify and report: a run with nothing to redo never pays torch's seconds of import."""
    modules = "jvm_harness.cli, exporters.contract.gate, exporters.cli, exporters.formats, exporters.zoo, exporters.verify, exporters.report"
    probe = f"import sys, {modules}; loaded = [m for m in ('torch', 'onnx', 'openvino', 'executorch') if m in sys.modules]; assert not loaded, loaded"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
