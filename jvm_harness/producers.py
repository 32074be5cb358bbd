"""Producers other than the project's pins: the zoo exported by another torch (and the executorch built for
it), each in its own environment under .cache/producers/NAME/, into ARTIFACTS/producers/NAME/MODEL/.

The exporter is this project's own (`python -m exporters export`, the worktree on PYTHONPATH) run by that
environment's interpreter; every other runtime dependency keeps its pyproject.toml pin. Consumption is
today's: `python -m exporters verify` from this interpreter (the pinned Python runtimes), then the JVM
engines on their pinned and oldest runtime versions (compat.versions, producer slice).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / ".cache" / "producers"


@dataclass(frozen=True)
class Producer:
    """One torch and the executorch release paired with it (None: no release lowers with it, `why` says so)."""
    torch: str
    executorch: str | None
    why: str  # how the pairing was chosen, or why there is none


# name -> producer. The project's own producer is pyproject.toml's pins (torch 2.13.0, executorch 1.4.1).
PRODUCERS: dict[str, Producer] = {
    "torch-2.12.1": Producer("2.12.1", "1.3.1", "the previous torch minor; executorch 1.3.1 is built against torch 2.12"),
    "torch-2.15.0": Producer("2.15.0", "1.5.1", "the newest torch on PyPI; executorch 1.5.x declares no torch requirement"),
}


class ProducerError(ValueError):
    """An unknown producer or an environment pip could not build: one line saying what to do."""


def check(name: str) -> Producer:
    if name not in PRODUCERS:
        raise ProducerError(f"unknown producer '{name}': choose one of {', '.join(PRODUCERS)}")
    return PRODUCERS[name]


def pins(name: str) -> list[str]:
    """pyproject.toml's runtime dependencies with this producer's torch and executorch in place of ours."""
    producer = check(name)
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    swapped = {"torch": producer.torch, "executorch": producer.executorch}
    out = []
    for pin in ours:
        package = re.split(r"[=<>!~ ]", pin, maxsplit=1)[0]
        if package not in swapped:
            out.append(pin)
        elif swapped[package] is not None:
            out.append(f"{package}=={swapped[package]}")
    return out


def interpreter(name: str) -> Path:
    return ENVS / name / "bin" / "python"


def ensure(name: str) -> Path:
    """The producer's interpreter, its environment made once with exact pins (pip's cache reused); a stamp
    holding the pins says it is complete, so a changed pin rebuilds it."""
    wanted = "\n".join(pins(name))
    stamp = ENVS / name / ".complete"
    if stamp.is_file() and stamp.read_text() == wanted:
        return interpreter(name)
    if not interpreter(name).is_file():
        subprocess.run([sys.executable, "-m", "venv", str(ENVS / name)], check=True)
    done = subprocess.run([str(interpreter(name)), "-m", "pip", "install", "-q", *pins(name)], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ProducerError(f"pip could not build producer {name} ({' '.join(pins(name))}): {last}")
    stamp.write_text(wanted)
    return interpreter(name)


def tree(artifacts: Path, name: str) -> Path:
    return artifacts / "producers" / name


def export(name: str, models: list[str], artifacts: Path, formats: list[str] | None = None) -> list[Path]:
    """Export the models with the producer's torch into its own tree; a format that fails to export is
    recorded in the manifest by the exporter (a result, not an error), so the exit code is not ours to judge."""
    python, out = ensure(name), tree(artifacts, name)
    # As if activated: executorch 1.3.1 runs `flatc` from PATH, the one its wheel puts in the environment's bin.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "PATH": os.pathsep.join([str(python.parent), os.environ.get("PATH", "")]), "VIRTUAL_ENV": str(python.parent.parent)}
    words = [word for fmt in formats or [] for word in ("--format", fmt)]
    subprocess.run([str(python), "-m", "exporters", "export", *models, *words, "--out", str(out)], env=env)
    folders = [out / model for model in models if (out / model / "manifest.json").is_file()]
    if not folders:
        raise ProducerError(f"producer {name} wrote no manifest under {out}: see the export output above")
    return folders


def verify_python(folders: list[Path]) -> None:
    """Today's Python runtimes on the producer's artifacts; results land in each manifest (python/RUNTIME)."""
    subprocess.run([sys.executable, "-m", "exporters", "verify", *map(str, folders)])
