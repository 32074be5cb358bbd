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


def test_the_contract_loads_without_torch():
    """The JVM verify's whole import chain: the harness CLI and the contract, with torch never loaded."""
    probe = "import sys, jvm_harness.cli, exporters.contract.gate; assert 'torch' not in sys.modules, 'torch loaded'"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
