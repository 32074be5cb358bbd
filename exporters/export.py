"""Export one model spec to the chosen formats, each isolated and written atomically."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable

from . import box
from . import golden as goldens
from .contract.causes import decisive_line, hint_for
from .contract.manifest import (GOLDEN_DIR, LOCK_FILE, MANIFEST, SCHEMA_VERSION, TEXT_DIR, ContractError, check_format,
                                file_entries, load_golden, load_text, plain_mode, read_manifest, record_results,
                                writer_lock)
from .fingerprint import Fingerprint, changes, format_fingerprint, model_fingerprint, versions
from .formats import FORMATS, ExportOptions, Format
from .contract.parity import Tolerance
from .spec import ModelSpec, SpecError, weights_digest, write_traceback

# Every library whose version decides what an artifact is or how it runs: each format's exporter and runtime
# packages, and numpy (the golden files).
VERSIONED_PACKAGES = tuple(dict.fromkeys(
    [*(package for fmt in FORMATS.values() for package in (*fmt.packages, fmt.runtime_package)), "numpy"]))
LOG_DIR = "logs"


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), **versions(VERSIONED_PACKAGES)}


def export_model(
    spec: ModelSpec,
    formats: list[Format],
    out_root: Path,
    options: ExportOptions,
    on_step: Callable[[str, dict[str, Any]], None] = lambda name, entry: None,
) -> dict[str, Any]:
    """Write artifacts/<model>/ and its manifest; a failing format is recorded and the rest go on."""
    box.check_budget(spec)  # before anything is written
    model_dir = out_root / spec.name
    created = not model_dir.exists()
    model_dir.mkdir(parents=True, exist_ok=True)
    try:
        with writer_lock(model_dir):
            _sweep_staging(model_dir)
            weights = weights_digest(spec.module)
            fingerprint = model_fingerprint(spec, weights, options.tolerance)
            prints = {fmt.name: format_fingerprint(fingerprint.digest, fmt, options) for fmt in formats}
            previous, why = _same_model(model_dir, fingerprint, options)
            because = {fmt.name: why or _changed(model_dir, previous, fmt, prints[fmt.name]) for fmt in formats}
            due = [fmt for fmt in formats if because[fmt.name]]
            for fmt in formats if previous is not None else []:
                if fmt not in due:
                    on_step(fmt.name, {**previous["formats"][fmt.name], "unchanged": True})
            if previous is not None and not due:
                return previous
            if previous is None:  # new golden data: every format's old files are stale
                start = _fresh_manifest(spec, model_dir, options)
                start["fingerprint"], start["fingerprint_parts"] = fingerprint.digest, fingerprint.parts
            else:  # the golden data stands: only the changed formats export again
                start = {**previous, "versions": library_versions()}
            order = list(FORMATS)
            manifest = record_results(model_dir, {}, start=start, order=order)  # matches the new golden data first
            # Each format exports in its own process: threads only wait for them. This thread records each
            # entry as its format finishes, so an interrupted run keeps what finished.
            with ThreadPoolExecutor(export_jobs(options.jobs, len(due))) as pool:
                running = {pool.submit(_export_one, spec, weights, fmt, model_dir, options): fmt
                           for fmt in sorted(due, key=lambda fmt: not fmt.long_export)}
                for done in as_completed(running):
                    name = running[done].name
                    entry = {**done.result(), "fingerprint": prints[name].digest, "fingerprint_parts": prints[name].parts}
                    manifest = record_results(model_dir, {name: entry}, replace=True, order=order)
                    on_step(name, {**entry, "because": because[name]})
    except BaseException:
        if created and not (model_dir / MANIFEST).exists():
            shutil.rmtree(model_dir, ignore_errors=True)  # no empty folder that looks like an export
        raise
    return manifest


# An export process peaks at about this much memory (AOTI's compile of the 6-layer encoder, measured).
EXPORT_PEAK_BYTES = 3 << 30


def export_jobs(asked: int, formats: int) -> int:
    """Formats exported at once: as asked, else one per core while each has its peak memory free."""
    if asked:
        return asked
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        available = EXPORT_PEAK_BYTES
    return max(1, min(formats, os.cpu_count() or 1, available // EXPORT_PEAK_BYTES))


def _same_model(model_dir: Path, fingerprint: Fingerprint, options: ExportOptions) -> tuple[dict[str, Any] | None, str]:
    """The existing manifest when it was written for identical model inputs and its golden data is intact;
    else None and why the golden data is made again ("" for a first export)."""
    if options.force:
        return None, "--force"
    if not (model_dir / MANIFEST).exists():
        return None, ""
    try:
        manifest = read_manifest(model_dir)
        if manifest.get("fingerprint") != fingerprint.digest:
            return None, changes("the model", manifest.get("fingerprint_parts"), fingerprint)
        load_golden(model_dir, manifest)
        load_text(model_dir, manifest)
    except ContractError as exc:
        return None, f"the last export is unusable: {exc}"
    return manifest, ""


def _changed(model_dir: Path, manifest: dict[str, Any] | None, fmt: Format, fingerprint: Fingerprint) -> str:
    """Why a format exports again ("" when it was exported ok from identical inputs and its files are intact)."""
    if manifest is None:
        return "new"
    entry = manifest["formats"].get(fmt.name)
    if entry is None:
        return "new"
    if entry.get("status") != "ok":
        return f"its last export ended {entry.get('status')!r}"
    if entry.get("fingerprint") != fingerprint.digest:
        return changes(fmt.name, entry.get("fingerprint_parts"), fingerprint)
    try:
        check_format(model_dir, fmt.name, entry)
    except ContractError as exc:
        return f"its files are not those exported: {exc}"
    return ""


def _sweep_staging(model_dir: Path) -> None:
    """Staging folders and result files of runs that were killed (the writer lock is held here)."""
    for leftover in model_dir.glob(".*.*"):
        if leftover.name != LOCK_FILE:
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)


def _fresh_manifest(spec: ModelSpec, model_dir: Path, options: ExportOptions) -> dict[str, Any]:
    """A new manifest; entries of formats not re-exported survive only if the golden data is unchanged."""
    golden, rules, values = _replace_golden(spec, model_dir, options.tolerance)
    io = goldens.io_specs(spec, golden, model_dir, values)
    text = _replace_text(spec, model_dir, io, options.tolerance)
    previous: dict[str, Any] = {}
    try:
        previous = read_manifest(model_dir)
    except ContractError:
        pass
    same_model = previous.get("golden", {}).get("files") == golden["files"] and previous.get("parity") == rules
    kept = previous.get("formats", {}) if same_model else {}
    for stale in set(FORMATS) - set(kept):
        shutil.rmtree(model_dir / stale, ignore_errors=True)
    return {
        "schema_version": SCHEMA_VERSION,
        "model": spec.name,
        "source": spec.source,
        "versions": library_versions(),
        **io,
        "golden": golden,
        "parity": rules,
        **({"text": text} if text else {}),
        "formats": kept,
    }


def _replace_golden(spec: ModelSpec, model_dir: Path,
                    override: Tolerance | None) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    staging = Path(tempfile.mkdtemp(prefix=".golden.", dir=model_dir))
    try:
        try:
            golden, rules, values = goldens.write_golden(spec, staging, override)
        except SpecError:
            raise  # already one line about the spec (a case over the budget or outside its values)
        except (Exception, SystemExit) as exc:  # the model's own forward: one line, traceback in a log
            raise SpecError(f"{spec.name}: running the model eagerly on its golden inputs raised "
                            f"{type(exc).__name__}: {decisive_line(exc)}; traceback in {write_traceback(exc)}") from exc
        shutil.rmtree(model_dir / GOLDEN_DIR, ignore_errors=True)
        (staging / GOLDEN_DIR).rename(model_dir / GOLDEN_DIR)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return golden, rules, values


def _replace_text(spec: ModelSpec, model_dir: Path, io: dict[str, Any], override: Tolerance | None) -> dict[str, Any] | None:
    """The text section and its files (tokenizer, text cases) for a model with text ends; a stale text/ folder goes."""
    shutil.rmtree(model_dir / TEXT_DIR, ignore_errors=True)
    if spec.text is None:
        return None
    from .text.cases import write_text

    staging = Path(tempfile.mkdtemp(prefix=".text.", dir=model_dir))
    try:
        try:
            section = write_text(spec, staging, io, override)
        except SpecError:
            raise
        except (Exception, SystemExit) as exc:  # the model's own forward on a tokenizer's batch
            raise SpecError(f"{spec.name}: running the model eagerly on its text cases raised "
                            f"{type(exc).__name__}: {decisive_line(exc)}; traceback in {write_traceback(exc)}") from exc
        (staging / TEXT_DIR).rename(model_dir / TEXT_DIR)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return section


def _export_one(spec: ModelSpec, weights: str, fmt: Format, model_dir: Path, options: ExportOptions) -> dict[str, Any]:
    """Export in a child process into a hidden staging folder, then rename it into place."""
    final = model_dir / fmt.name
    staging = Path(tempfile.mkdtemp(prefix=f".{fmt.name}.", dir=model_dir))
    result_file = model_dir / f".{fmt.name}.result.json"
    log = model_dir / LOG_DIR / f"{fmt.name}.log"
    log.parent.mkdir(exist_ok=True)
    entry: dict[str, Any] = {"status": "failed", "files": []}
    entry |= fmt.chosen(options)
    request = {"source": spec.source, "format": fmt.name, "staging": str(staging), "result": str(result_file),
               "options": fmt.chosen(options), "weights": weights, "model_dir": str(model_dir), "log": str(log)}
    started = time.perf_counter()
    try:
        outcome = _run_worker(request, log, options.timeout)
        if outcome.get("ok"):
            plain_mode(staging)
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
            entry["files"] = file_entries(model_dir, (p for p in final.rglob("*") if p.is_file()))
            entry["status"] = "problems" if outcome["problems"] else "ok"
            entry["main"], entry["settings"] = fmt.main, dict(fmt.settings)  # what every reader opens and applies
            if fmt.needs:
                try:
                    entry["needs"] = fmt.needs(final)
                except Exception as exc:  # a file torch wrote but we cannot read: the runtimes decide alone
                    outcome.setdefault("warnings", []).append(f"what a runtime needs could not be read from the files: {decisive_line(exc)}")
            for kind in ("problems", "warnings"):  # warnings are suspicions the golden cases decide
                if outcome.get(kind):
                    entry[kind] = outcome[kind]
        else:
            shutil.rmtree(final, ignore_errors=True)  # an old artifact must not pass for the failed one
            entry["error"], entry["hint"] = outcome["error"], outcome["hint"]
        for kind in ("export_path", "remedies"):  # how the artifact was made where it differs from the plain path
            if outcome.get(kind):
                entry[kind] = outcome[kind]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        result_file.unlink(missing_ok=True)
    if entry["status"] == "ok" and "warnings" not in entry or entry["status"] == "problems" and not log.stat().st_size:
        log.unlink(missing_ok=True)
    else:
        entry["log"] = log.relative_to(model_dir).as_posix()
    if not any(log.parent.iterdir()):
        log.parent.rmdir()
    entry["export_seconds"] = round(time.perf_counter() - started, 2)
    entry["verification"] = {}
    return entry


def _run_worker(request: dict[str, Any], log: Path, timeout: float) -> dict[str, Any]:
    """The worker's result, or a failure saying how the child process ended."""
    with open(log, "w") as output:
        child = subprocess.Popen([sys.executable, "-m", "exporters.worker", json.dumps(request)],
                                 stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)  # its own group: compilers it started die with it
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            error = f"Timeout: the export ran longer than {timeout:g} s and was killed"
            output.write(f"\n{error}\n")
            return {"ok": False, "error": error, "hint": hint_for(error, "")}
        finally:
            _kill_group(child.pid)
    result_file = Path(request["result"])
    if result_file.is_file() and result_file.stat().st_size:
        return json.loads(result_file.read_text())
    if code < 0:
        error = f"Crash: the exporting process died of {signal.Signals(-code).name}"
    else:
        error = f"Exit: the exporting process exited with code {code} before finishing"
    with open(log, "a") as output:
        output.write(f"\n{error}\n")
    return {"ok": False, "error": error, "hint": hint_for(error, "")}


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
