"""Shared fixtures: each export the suite reads made once per run, and a CLI runner in a child process.

CLIs run as child processes, as users run them: the JPype driver loads DJL's libtorch, which must
never share a process with the torch this test process imports.

The suite runs in pytest-xdist workers: an export several tests read is made once for the whole run,
by the first worker to ask, under a file lock; a test that writes works on its own copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
# The tokenizers tests/text_models.py trains, one set per run shared by every worker and the exports they start.
os.environ.setdefault("TEST_TOKENIZERS", str(Path(tempfile.gettempdir()) / "exporters-test-tokenizers"
                                             / os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than there are cores: most tests wait on a child process (an export, a JVM), and the
    extra worker keeps every core busy meanwhile (measured on 2 cores: 394 s against 430 s with two)."""
    return (os.cpu_count() or 1) + 1


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m <args>` from the repo root; returns the finished process with text output."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def manifest_of(model_dir: Path) -> dict:
    return json.loads((model_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run sees (the base temp's parent under xdist, the base temp alone)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-exports"
    root.mkdir(exist_ok=True)
    return root


def export_once(root: Path, key: str, *args: str, verify: bool = False, start: Path | None = None) -> Path:
    """The artifacts root `exporters export ARGS` wrote (then verified in Python when asked), made once per run.
    From START, a model folder exported before, the export keeps what its fingerprints find unchanged."""
    out = root / key
    done = root / f"{key}.done"
    with FileLock(root / f"{key}.lock"):
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)  # what a worker that failed half-way left
            if start:
                shutil.copytree(start, out / start.name)
            exported = run_cli("exporters", "export", *args, "--out", str(out))
            assert exported.returncode == 0, exported.stderr
            if verify:
                for model_dir in out.iterdir():
                    verified = run_cli("exporters", "verify", str(model_dir))
                    assert verified.returncode == 0, verified.stderr
            done.touch()
    return out


def cli_once(root: Path, key: str, *calls: tuple[str, ...]) -> list[subprocess.CompletedProcess]:
    """CLI runs made once per run, in order, by the first worker to ask (under a lock); the rest read back
    their exit codes and output."""
    record = root / f"{key}.json"
    with FileLock(root / f"{key}.lock"):
        if not record.exists():
            done = [run_cli(*args) for args in calls]
            record.write_text(json.dumps([[p.args, p.returncode, p.stdout, p.stderr] for p in done]))
    return [subprocess.CompletedProcess(*fields) for fields in json.loads(record.read_text())]


def copy_model(model_dir: Path, into: Path, formats: tuple[str, ...] = ()) -> Path:
    """A writable copy of a shared model folder under INTO (only FORMATS, manifest cut to match, when given)."""
    from exporters.merge import merge_trees

    if formats:
        merge_trees([model_dir.parent], into, list(formats))
    else:
        shutil.copytree(model_dir, into / model_dir.name)
    return into / model_dir.name


@pytest.fixture(scope="session")
def mlp_dir(shared_root: Path) -> Path:
    """mlp exported to all six formats and verified in Python, once for the whole run. Read it; copy it to write.
    `make test` exports it before both suites start (MLP_EXPORT names it): then export and verify run here
    too, and reuse what they find unchanged."""
    start = Path(os.environ["MLP_EXPORT"]) if os.environ.get("MLP_EXPORT") else None
    return export_once(shared_root, "mlp", "mlp", verify=True, start=start) / "mlp"


@pytest.fixture(scope="session")
def user_model_onnx(shared_root: Path) -> Path:
    """tests.user_model:build exported to onnx (not verified), once for the whole run. Copy it to write."""
    return export_once(shared_root, "user_model-onnx", "tests.user_model:build", "-f", "onnx") / "user_model"
