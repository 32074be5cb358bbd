"""Run the Java check (`SelfCheck`, the code a deployment image runs) on model folders and record its
results in each manifest under verification['jvm/<runtime>'].

The Java side checks integrity, feeds the golden cases and judges parity; this module only passes
folders in and writes results out (each result with its `concurrency` figures: N callers sharing one
opened runner). One child process per engine, each starting a JVM through JPype
with that engine's jars only: two libtorch builds must never share a process, and no torch is
imported here for the same reason.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
import sys
from pathlib import Path
from typing import Any, Callable

from exporters.contract.manifest import (MANIFEST, VERIFIABLE, ContractError, check_format, checked_formats, load_golden,
                                         read_manifest, record_results, sha256, verification_key)

from . import jvm, runtimes

SIDE = "jvm"


class EngineError(RuntimeError):
    """An engine's JVM refused the input (exit 2); the message is its one line."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class EngineCrash(EngineError):
    """An engine's JVM died (a signal, or an exit code the child never gives): that engine's verdict on every
    format it was to check, not an abort of the run. crashed is what the manifest records; stderr is all of it."""

    def __init__(self, message: str, crashed: dict[str, Any], stderr: str) -> None:
        super().__init__(message, 1)
        self.crashed = crashed
        self.stderr = stderr


LAST_LINES = 10  # of a dead child's stderr, kept in its crashed record
HS_ERR_BANNER = "A fatal error has been detected by the Java Runtime Environment"


def check(engine: str, model_dirs: list[Path], callers: int | None = None, version: str | None = None) -> list[dict[str, Any]]:
    """SelfCheck's results for one engine (on that runtime version, else the pinned one), from a child process that
    owns the JVM. callers: the threads sharing one opened runner in the concurrency check; None is SelfCheck's own
    default (ConcurrencyCheck.DEFAULT_CALLERS, read in the child once its JVM runs). A refusal raises EngineError
    (exit 2), a child that died EngineCrash."""
    word = engine if version is None else f"{engine}={version}"
    child = subprocess.run(
        [sys.executable, "-m", "jvm_harness.driver", word, str(callers or 0), *map(str, model_dirs)],
        capture_output=True, text=True, errors="replace",
    )
    if child.returncode == 0:
        return json.loads(child.stdout)
    lines = child.stderr.strip().splitlines()
    if child.returncode == 2 and lines:
        raise EngineError(lines[-1].removeprefix("error: "), 2)
    raise crash(word, callers, model_dirs, child)


def crash(word: str, callers: int | None, model_dirs: list[Path], child: subprocess.CompletedProcess) -> EngineCrash:
    """What a dead child leaves: its signal (exit_code 128+N, as a shell and Java's Process report it) or exit
    code, and its last stderr lines, or the summary of the hs_err file the JVM wrote when it caught the fault."""
    code = child.returncode
    name = None
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
    summary = hs_err_summary(f"{child.stdout}\n{child.stderr}")
    last = summary or [line for line in child.stderr.splitlines() if line.strip()][-LAST_LINES:]
    crashed = {"signal": name, "exit_code": 128 - code if code < 0 else code, "last_lines": last}
    hint = summary[0] if summary else last[-1].strip() if last else "no message"
    message = (f"the JVM for engine {word} died with {name or f'exit code {code}'} ({hint[:200]}): "
               f"reproduce with `{reproduce(word, callers, model_dirs)}`")
    return EngineCrash(message, crashed, child.stderr)


def hs_err_summary(output: str) -> list[str]:
    """The fault line, the problematic frame and the hs_err file's path from the banner a JVM prints when it
    catches a fatal signal in native code (on stdout unless -XX:+DisplayVMOutputToStderr); [] without one."""
    lines = [line.rstrip() for line in output.splitlines()]
    start = next((i for i, line in enumerate(lines) if HS_ERR_BANNER in line), None)
    if start is None:
        return []
    summary = [next((line.lstrip("# ") for line in lines[start + 1:] if line.startswith("#") and line.strip("# ")), "")]
    for label, prefix in (("# Problematic frame:", ""), ("# An error report file with more information is saved as:", "hs_err: ")):
        at = lines.index(label, start) if label in lines[start:] else len(lines)
        if at + 1 < len(lines) and lines[at + 1].strip("# "):
            summary.append(prefix + lines[at + 1].lstrip("# "))
    return [line for line in summary if line]


def reproduce(word: str, callers: int | None, model_dirs: list[Path]) -> str:
    """The command that runs the same child alone and prints its results (python -m jvm_harness check-engine)."""
    python = Path(sys.executable)
    shown = str(python.relative_to(Path.cwd())) if python.is_relative_to(Path.cwd()) else str(python)
    return shlex.join([shown, "-m", "jvm_harness", "check-engine", word, *map(str, model_dirs),
                       *(["--callers", str(callers)] if callers else [])])


def crashed_results(engine: str, model_dirs: list[Path], died: EngineCrash) -> list[dict[str, Any]]:
    """A failed result per (folder, format) the engine was to check: crashed says how its JVM died. It carries
    no key, so the next run checks it again rather than reusing it."""
    runners = [runner for runner in jvm.runners() if runner.engine == engine]
    results = []
    for folder in model_dirs:
        manifest = read_manifest(folder)
        for runner in runners:
            if manifest["formats"].get(runner.format, {}).get("status") not in VERIFIABLE:
                continue
            results.append({"model_dir": str(folder), "model": manifest["model"], "manifest_sha256": sha256(folder / MANIFEST),
                            "format": runner.format, "runtime": runner.runtime,
                            "verification": {"side": SIDE, "runtime": runner.runtime, "passed": False,
                                             "crashed": died.crashed, "error": str(died)}})
    return results


def check_or_crashed(engine: str, model_dirs: list[Path], callers: int | None, version: str | None) -> list[dict[str, Any]]:
    """check(), with a JVM that died recorded as that engine's crashed results."""
    try:
        return check(engine, model_dirs, callers, version)
    except EngineCrash as died:
        return crashed_results(engine, model_dirs, died)


def record_key(result: dict[str, Any]) -> str:
    """Where a result sits in verification: jvm/RUNTIME for the pinned build, jvm/RUNTIME@VERSION for a
    chosen runtime version, so several versions' results sit side by side."""
    chosen = result.get("engine_version")
    return f"{SIDE}/{result['runtime']}" + (f"@{chosen}" if chosen else "")


@functools.cache
def harness_digest(engine: str, version: str | None) -> str:
    """The Java side of a verdict: the harness and engine jars' bytes, and the name and size of every library
    on that engine's classpath and native path (names carry versions; the large runtime jars are not read)."""
    digest = hashlib.sha256()
    for jar in (jvm.JAR, jvm.TARGET / f"jvm-harness-{engine}.jar"):
        digest.update(jar.name.encode() + sha256(jar).encode())
    folders = [Path(p.removesuffix("*")) for p in jvm.classpath(engine, version) if p.endswith("*")]
    folders += [Path(o.partition("=")[2]) for o in jvm.native_options(engine, version)]
    for folder in folders:
        for lib in sorted(folder.glob("*")) if folder.is_dir() else []:
            digest.update(f"{lib.name}:{lib.stat().st_size}".encode())
    return digest.hexdigest()


def result_key(manifest: dict[str, Any], fmt: str, runtime: str, engine: str, version: str | None, callers: int | None) -> str:
    """What a JVM verdict depends on: the Python verdict's key (files, golden data, rule, CPU) with the engine's
    runtime version, the harness that judged it and the concurrency check's callers."""
    chosen = version or (runtimes.pinned(engine) if engine in runtimes.RUNTIMES else "pinned")
    return verification_key(manifest, manifest["formats"][fmt], runtime,
                            f"{engine}={chosen} harness {harness_digest(engine, version)} callers {callers or 'default'}")


def reusable(folder: Path, engine: str, version: str | None, callers: int | None) -> list[tuple[str, dict[str, Any]]] | None:
    """The folder's recorded results for this engine when each one's key still matches and its files still
    hash-check; None when any format of the engine must be checked again."""
    manifest = read_manifest(folder)
    reused = []
    for runner in jvm.runners():
        entry = manifest["formats"].get(runner.format)
        if runner.engine != engine or entry is None or entry.get("status") not in VERIFIABLE:
            continue
        recorded = entry["verification"].get(f"{SIDE}/{runner.runtime}" + (f"@{version}" if version else ""), {})
        if recorded.get("key") != result_key(manifest, runner.format, runner.runtime, engine, version, callers):
            return None
        try:
            check_format(folder, runner.format, entry)
        except ContractError:
            return None  # the Java check refuses it and records why
        reused.append((runner.format, recorded))
    return reused


def refusing(due: dict[str, list[Path]]) -> str | None:
    """The first engine with a folder the contract refuses before its runners could open it: the manifest and
    golden data checked once per folder (every engine reads them), then each engine's format files."""
    manifests: dict[Path, dict[str, Any] | None] = {}  # None: the folder itself is refused

    def manifest_of(folder: Path) -> dict[str, Any] | None:
        if folder not in manifests:
            try:
                manifests[folder] = read_manifest(folder)
                load_golden(folder, manifests[folder])
            except ContractError:
                manifests[folder] = None
        return manifests[folder]

    runners = jvm.runners()
    for engine, folders in due.items():
        formats = [runner.format for runner in runners if runner.engine == engine]
        for folder in folders:
            manifest = manifest_of(folder)
            if manifest is None:
                return engine
            try:
                checked_formats(folder, manifest, formats)
            except ContractError:
                return engine
    return None


def verify_models(
    model_dirs: list[Path],
    on_result: Callable[[Path, str, dict[str, Any]], None] = lambda folder, fmt, result: None,
    engines: list[str] | None = None,
    callers: int | None = None,
    versions: dict[str, str] | None = None,
    force: bool = False,
) -> int:
    """Check every folder with every engine (or those given; with versions, exactly those engines on those
    runtime versions), then record the results; returns how many runners ran or were reused.

    An engine's recorded results are reused where every key matches (see result_key) and the files still
    hash-check; force runs every check again. One JVM per engine, given only the folders that need it."""
    jvm.classpath()  # a harness that is not built says what to run, before any child starts
    versions = versions or {}
    engines = list(versions) if versions and not engines else engines
    for engine in engines or []:
        jvm.classpath(engine, versions.get(engine))  # an engine that was not built says so; a version is fetched
    due: dict[str, list[Path]] = {}
    counted = 0
    for engine in engines or jvm.engines():
        due[engine] = []
        for folder in model_dirs:
            reused = None if force else reusable(folder, engine, versions.get(engine), callers)
            if reused is None:
                due[engine].append(folder)
            for fmt, recorded in reused or []:
                on_result(folder, fmt, {**recorded, "reused": True})
                counted += 1
    # A folder the contract refuses is refused by every engine that opens it: the first such engine runs alone,
    # so the refusal costs one JVM and reads in the Java check's words (the same rule: tests/contract_vectors).
    alone = refusing(due)
    first = {alone: check_or_crashed(alone, due[alone], callers, versions.get(alone))} if alone else {}
    # The other engines check at once, one JVM each, as many as there are cores: a JVM starting up uses one.
    with ThreadPoolExecutor(max(1, min(len(due), os.cpu_count() or 1))) as pool:
        running = {engine: pool.submit(check_or_crashed, engine, folders, callers, versions.get(engine))
                   for engine, folders in due.items() if folders and engine not in first}
    checked = {**first, **{engine: future.result() for engine, future in running.items()}}
    results = []
    for engine in sorted(checked, key=list(due).index):
        for result in checked[engine]:
            if engine in versions:
                result["verification"]["engine_version"] = versions[engine]
            results.append({**result, "engine": engine})
    for folder in model_dirs:
        mine = [result for result in results if Path(result["model_dir"]).resolve() == folder.resolve()]
        if not mine:
            continue
        found = verdicts(read_manifest(folder), mine, callers)
        record_results(folder, found, drawn_from={result["manifest_sha256"] for result in mine})
        for result in mine:
            on_result(folder, result["format"], found[result["format"]]["verification"][record_key(result["verification"])])
    return counted + len(results)


def verdicts(manifest: dict[str, Any], mine: list[dict[str, Any]], callers: int | None) -> dict[str, dict[str, Any]]:
    """What one folder's results add to its manifest, by format: each verdict with the box SelfCheck ran (every
    case) and its key. A crashed result has no key: never reused, checked again next run. A format the manifest
    no longer records takes none (it changed under the JVM, and the record refuses it)."""
    found: dict[str, dict[str, Any]] = {}
    for result in mine:
        if result["format"] not in manifest["formats"]:
            continue
        verification = dict(result["verification"])
        if "crashed" not in verification:
            verification.update(box=manifest["golden"].get("box", {}),
                                key=result_key(manifest, result["format"], verification["runtime"],
                                               result["engine"], verification.get("engine_version"), callers))
        found.setdefault(result["format"], {"verification": {}})["verification"][record_key(verification)] = verification
    return found


def main(word: str, callers: int | None, model_dirs: list[str]) -> int:
    """Child side: start a JVM with one engine's jars (ENGINE or ENGINE=VERSION) and print SelfCheck's JSON results."""
    import jpype

    engine, _, version = word.partition("=")
    try:
        jvm.start(engine, version or None)
        self_check = jpype.JClass(jvm.SELF_CHECK)
        folders = jpype.java.util.ArrayList()
        for folder in model_dirs:
            folders.add(folder)
        default = jpype.JClass("org.exportpipeline.harness.tools.ConcurrencyCheck").DEFAULT_CALLERS
        print(self_check.checkJson(engine, folders, None, callers or default))
        return 0
    except jvm.JvmError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except jpype.JException as exc:
        if exc.getClass().getSimpleName() != "ContractException":
            raise
        print(f"error: {exc.getMessage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) or None, sys.argv[3:]))  # 0: SelfCheck's default
