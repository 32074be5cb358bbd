"""Shared fixtures: one full export of `mlp` per session, and a CLI runner in a child process.

CLIs run as child processes, as users run them: the JPype driver loads DJL's libtorch, which must
never share a process with the torch this test process imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m <args>` from the repo root; returns the finished process with text output."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def manifest_of(model_dir: Path) -> dict:
    return json.loads((model_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def mlp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mlp exported to all six formats and verified in Python, once for the whole session."""
    out = tmp_path_factory.mktemp("artifacts")
    exported = run_cli("exporters", "export", "mlp", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    verified = run_cli("exporters", "verify", str(out / "mlp"))
    assert verified.returncode == 0, verified.stderr
    return out / "mlp"
