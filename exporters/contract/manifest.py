"""The artifact contract: manifest.json, golden vectors and the parity rule.

This is the one Python reading of the contract; the JPype driver (jvm_harness) uses it too, while the
Java side reads the same files on its own (jvm_harness/src/main/java/.../Manifest.java).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import platform
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterable, Iterator, Sequence

import jsonschema
import numpy as np

MANIFEST = "manifest.json"
GOLDEN_DIR = "golden"
# A text model's folder (the manifest's optional `text` section): its tokenizer and its text cases.
TEXT_DIR, TEXT_TOKENIZER, TEXT_CASES = "text", "tokenizer.json", "cases.json"
LOCK_FILE = ".lock"  # one export per model folder at a time (export, reproduce); the other steps do not take it
# The manifest's structure as JSON Schema: the one definition a reader validates against before use, and the
# one source of the facts both readers share (Manifest.java reads them from the same file).
SCHEMA = Path(__file__).with_name("manifest.schema.json")
_SCHEMA = json.loads(SCHEMA.read_text())
SCHEMA_VERSION: int = _SCHEMA["properties"]["schema_version"]["const"]  # 3: each format records its main file and settings
MAX_MANIFEST_BYTES: int = _SCHEMA["$defs"]["manifest_bytes"]["maximum"]
VERIFIABLE: tuple[str, ...] = tuple(_SCHEMA["$defs"]["verifiable"]["enum"])  # the statuses whose files were written


class ContractError(RuntimeError):
    """An artifact directory that does not hold what the contract promises."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verification_key(manifest: dict[str, Any], entry: dict[str, Any], runtime: str, version: str) -> str:
    """Everything a verdict depends on: the artifact's and the golden files' recorded digests (checked
    against the files on every run), the parity rule, the runtime and its version, the CPU (its ISA
    picks the kernels; AOTI's compiled code needs it), and a text model's text section (its files' digests,
    the tokenizer's settings, the postprocess and the answers' rules)."""
    digest = hashlib.sha256()
    for part in ([f["sha256"] for f in entry["files"]], [f["sha256"] for f in manifest["golden"]["files"]],
                 manifest["parity"], runtime, version, cpu_features(), *([manifest["text"]] if "text" in manifest else [])):
        digest.update(json.dumps(part, sort_keys=True).encode())
    return digest.hexdigest()


@functools.cache
def cpu_features() -> str:
    """The machine and its CPU's model and flags, as /proc/cpuinfo states them."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    wanted = [line.split(":", 1)[1].strip() for line in lines if line.startswith(("model name", "flags"))][:2]
    return " | ".join([platform.machine(), *wanted])


def file_entries(root: Path, paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Path relative to the model directory, sha256 and size of each file."""
    return [
        {"path": path.relative_to(root).as_posix(), "sha256": sha256(path), "bytes": path.stat().st_size}
        for path in sorted(paths)
    ]


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def plain_mode(path: Path) -> None:
    """Give a mkstemp/mkdtemp result (0600/0700) the mode a plain create would have under the umask."""
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~current_umask())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a sibling temp file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
        plain_mode(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / MANIFEST
    if path.is_symlink() or not path.is_file():
        raise ContractError(f"{path} not found (or not a regular file): run `python -m exporters export MODEL` first")
    with open(path, "rb") as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ContractError(f"{path} is larger than {MAX_MANIFEST_BYTES >> 20} MiB, so it is no manifest: re-export the model")
    try:
        manifest = json.loads(data.decode(), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path} is not valid JSON ({exc}): the file is damaged; re-export the model") from exc
    if not isinstance(manifest, dict):
        raise ContractError(f"{path} holds no JSON object: the file is damaged; re-export the model")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ContractError(f"{path} has schema {manifest.get('schema_version')}, expected {SCHEMA_VERSION}: re-export")
    error = jsonschema.exceptions.best_match(_validator().iter_errors(manifest))
    if error is not None:
        field = ".".join(map(str, error.absolute_path))
        if error.validator == "required":
            missing = [key for key in error.validator_value if key not in error.instance]
            raise ContractError(f"{path} lacks {'.'.join(filter(None, [field, missing[0]]))}: the file is damaged or "
                                "not ours; re-export the model")
        why = " ".join(error.message.split())[:160]
        raise ContractError(f"{path}: field {field or '(top level)'} is malformed ({why}): the file is damaged or not "
                            "ours; re-export the model")
    _check_references(path, manifest)
    return manifest


def _refuse_constant(token: str) -> Any:
    """NaN, Infinity and -Infinity: Python's json reads and writes them, standard JSON (and the Java reader) not."""
    raise ValueError(f"non-standard token {token}")


def _check_references(path: Path, manifest: dict[str, Any]) -> None:
    """What a schema cannot say: each symbolic dim of an input is bounded in dims and not one the data decides, each
    output has a parity rule, a value range sits on an integer input and is not empty (Manifest.java refuses the
    same in the same words)."""
    dims = manifest.get("dims", {})
    for io in manifest["inputs"]:
        for dim in io["shape"]:
            if isinstance(dim, str) and dim not in dims:
                raise ContractError(f"{path}: {io['name']}'s dim {dim!r} has no bounds in dims: re-export the model")
            if isinstance(dim, str) and dims[dim].get("decided_by") == "data":
                raise ContractError(f"{path}: input {io['name']}'s dim {dim!r} is decided by the model's data, which no "
                                    "input's size can be: re-export the model")
        values = io.get("values")
        if values is not None and not is_integer_dtype(io["dtype"]):
            raise ContractError(f"{path}: input {io['name']} is {io['dtype']} but declares values: only integer "
                                "inputs take a value range; re-export the model")
        if values is not None and values["min"] > values["max"]:
            raise ContractError(f"{path}: input {io['name']} declares values {values['min']}..{values['max']}, "
                                "an empty range: re-export the model")
    for io in manifest["outputs"]:
        if io["name"] not in manifest["parity"]["outputs"]:
            raise ContractError(f"{path}: output {io['name']} has no rule in parity.outputs: re-export the model")


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(_SCHEMA)


def model_folders(artifacts: Path, sources: list[str]) -> list[Path]:
    """The model folder under artifacts whose manifest records each source, in the order asked."""
    found: dict[str, Path] = {}
    for path in sorted(Path(artifacts).glob(f"*/{MANIFEST}")):
        try:
            found.setdefault(json.loads(path.read_text()).get("source"), path.parent)
        except (ValueError, UnicodeDecodeError, AttributeError):
            continue  # a damaged manifest is reported by whoever reads that folder
    missing = [source for source in sources if source not in found]
    if missing:
        raise ContractError(f"no model under {artifacts} was exported from {', '.join(missing)}: "
                            "run `python -m exporters export` for it first")
    return [found[source] for source in sources]


def record_results(model_dir: Path, results: dict[str, dict[str, Any]], *, replace: bool = False,
                   start: dict[str, Any] | None = None, order: Sequence[str] = (),
                   drawn_from: Collection[str] = ()) -> dict[str, Any]:
    """The one writer of manifest.json: each step (export, verify, the JVM verify, the gate's required flags,
    reproduce) hands in what it found, per format, and it is merged into the manifest as it is now, so no step
    writes back a copy it read earlier over what another recorded since. Returns the manifest written.

    A result's fields replace the format's recorded ones, but its verification verdicts join the recorded ones
    key by key; a format the manifest does not record takes none. replace: each result is the format's whole
    entry (an export's: the old verdicts judged other files). start: the manifest to merge into instead of the
    one on disk (an export's, or a merged tree's). order: the formats' order (the registry's). drawn_from: the
    sha256 of the manifest each result was drawn from (the JVM reads it in another process); if the manifest
    is not that one now, nothing is written.
    """
    path = Path(model_dir) / MANIFEST
    with _merging(Path(model_dir)):
        if drawn_from and set(drawn_from) != {sha256(path)}:
            raise ContractError(f"{path} changed while the JVM checked it: run verify again")
        manifest = dict(start if start is not None else read_manifest(model_dir))
        formats = dict(manifest["formats"])
        for name, found in results.items():
            if replace:
                formats[name] = found
            elif name in formats:
                recorded = formats[name]
                formats[name] = {**recorded, **found}
                if "verification" in found:
                    formats[name]["verification"] = {**recorded.get("verification", {}), **found["verification"]}
        # a format the order does not name (one a registry no longer lists) keeps its place after the others
        rank = {name: at for at, name in enumerate(order)}
        manifest["formats"] = dict(sorted(formats.items(), key=lambda item: rank.get(item[0], len(rank)))) if order else formats
        write_json_atomic(path, manifest)
    return manifest


@contextmanager
def _merging(model_dir: Path) -> Iterator[None]:
    """One read-merge-write at a time per model folder (a JVM verify and a Python verify may record at once). The
    lock is on the folder itself: export's lock file is held for a whole export, which records as it goes."""
    model_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(model_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def writer_lock(model_dir: Path) -> Iterator[None]:
    """Hold the model folder's lock for one export; a second writer is refused, not interleaved."""
    path = Path(model_dir) / LOCK_FILE
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ContractError(f"{model_dir} is being written by another export right now: wait for it to "
                                "finish, or export into another --out") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def confined(model_dir: Path, rel: Any) -> Path:
    """The file a manifest names, refused unless it is a regular file inside the model folder."""
    parts = rel.split("/") if isinstance(rel, str) else []
    if not parts or rel.startswith("/") or "\\" in rel or any(part in ("", ".", "..") for part in parts):
        raise ContractError(f"manifest path {rel!r} is not a plain path inside the model folder: refusing it; "
                            "re-export the model")
    path = Path(model_dir) / rel
    real = path.resolve()
    if Path(model_dir).resolve() not in real.parents:
        raise ContractError(f"{rel} links outside the model folder: refusing it; re-export the model")
    if not real.is_file():  # also refuses devices, fifos and folders (/dev/zero would never end)
        raise ContractError(f"{rel} is missing or not a regular file: re-export the model")
    return path


def checked_file(model_dir: Path, entry: dict[str, Any]) -> Path:
    """A manifest-listed file after its size, then its sha256, matched the record."""
    path = confined(model_dir, entry.get("path"))
    size = path.stat().st_size
    if size != entry.get("bytes"):
        raise ContractError(f"{entry['path']} has {size} bytes, the manifest records {entry.get('bytes')}: "
                            "it was altered after export; re-export the model")
    if sha256(path) != entry.get("sha256"):
        raise ContractError(f"{entry['path']} does not match its recorded sha256: it was altered after export; "
                            "re-export the model")
    return path


def unique_entries(entries: Any, where: str) -> dict[str, dict[str, Any]]:
    """File entries by path; a path listed twice is refused, since its two records could disagree."""
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ContractError(f"{MANIFEST}: {where} is not a list of file entries (path, sha256, bytes): re-export the model")
    by_path: dict[str, dict[str, Any]] = {}
    for entry in entries:
        path = entry.get("path")
        if not isinstance(path, str) or path in by_path:
            raise ContractError(f"{MANIFEST}: {where} lists {path!r} twice or with no path: re-export the model")
        by_path[path] = entry
    return by_path


def check_format(model_dir: Path, name: str, entry: dict[str, Any]) -> None:
    """Every file of one format's manifest entry, checked before any runtime opens one of them; its main file
    must be one of them, so what a runtime opens is always a checked file."""
    where = f"formats.{name}.files"
    files = unique_entries(entry.get("files"), where)
    if not files:
        raise ContractError(f"{MANIFEST}: {where} is empty, so nothing can be checked: re-export the model")
    for path, file in files.items():
        if not path.startswith(f"{name}/"):
            raise ContractError(f"{MANIFEST}: {where} lists {path}, outside the {name}/ folder: re-export the model")
        checked_file(model_dir, file)
    if f"{name}/{entry.get('main')}" not in files:
        raise ContractError(f"{MANIFEST}: formats.{name}.main {entry.get('main')!r} is not one of {where}: "
                            "re-export the model")


def checked_model(model_dir: Path, formats: Iterable[str] | None = None) -> tuple[dict[str, Any], list["GoldenCase"], list[str]]:
    """Everything a check does before a runtime opens a file, in SelfCheck's order: the manifest read and validated,
    every file of each format due a verdict (those of `formats`, default all, whose files were written) checked,
    then the golden cases. Returns the manifest, the cases and the formats due, in the order asked."""
    manifest = read_manifest(model_dir)
    due = checked_formats(model_dir, manifest, formats)
    return manifest, load_golden(model_dir, manifest), due


def checked_formats(model_dir: Path, manifest: dict[str, Any], formats: Iterable[str] | None = None) -> list[str]:
    """Every file of each format due a verdict (those of `formats`, default all, whose files were written)
    checked; returns those formats in the order asked."""
    entries = manifest["formats"]
    due = [name for name in (entries if formats is None else formats)
           if name in entries and entries[name].get("status") in VERIFIABLE]
    for name in due:
        check_format(model_dir, name, entries[name])
    return due


@dataclass
class GoldenCase:
    """Inputs, eager fp32 outputs, and the reference artifacts are judged against (float64 when recorded)."""

    name: str
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    where: str = ""  # the box point and its dims ("seq=max: batch=1, seq=128"), as a failed verdict names it


def case_where(case: dict[str, Any]) -> str:
    """A golden case's box point and dim sizes, in the words Java's Manifest.GoldenCase.where uses."""
    dims = ", ".join(f"{name}={size}" for name, size in case.get("dims", {}).items())
    return f"{case.get('at', '')}: {dims}" if dims else str(case.get("at", ""))


def load_golden(model_dir: Path, manifest: dict[str, Any]) -> list[GoldenCase]:
    """Every golden case, each file checked against its record, inputs checked against the manifest's."""
    by_path = unique_entries(manifest["golden"].get("files", []), "golden.files")
    cases = []
    for case in manifest["golden"].get("cases", []):
        arrays: dict[str, dict[str, np.ndarray]] = {}
        for role in ("inputs", "outputs", "reference"):
            arrays[role] = {}
            for name, rel in case.get(role, {}).items():
                if rel not in by_path:
                    raise ContractError(f"golden file {rel!r} is not listed in golden.files: re-export the model")
                arrays[role][name] = _load_npy(checked_file(model_dir, by_path[rel]))
        _check_inputs(case.get("name"), arrays["inputs"], manifest)
        reference = arrays["reference"] or arrays["outputs"]
        cases.append(GoldenCase(case["name"], arrays["inputs"], arrays["outputs"], reference, case_where(case)))
    if not cases:
        raise ContractError(f"{Path(model_dir) / MANIFEST} lists no golden cases: re-export the model")
    return cases


@dataclass
class TextCases:
    """A text model's ends as export recorded them: the tokenizer file's text, its settings, the postprocess, the
    parity rules of the answers, and the cases (items, exact inputs, eager answers, reference answers)."""

    tokenizer_json: str
    settings: dict[str, Any]
    postprocess: dict[str, Any]
    parity: dict[str, Any]
    cases: list[dict[str, Any]]


def load_text(model_dir: Path, manifest: dict[str, Any]) -> TextCases | None:
    """The text section's files, each checked against its record before it is read; None for a model without one."""
    text = manifest.get("text")
    if text is None:
        return None
    by_path = unique_entries(text["files"], "text.files")
    for rel in (text["tokenizer"]["file"], text["cases"]):
        if rel not in by_path:
            raise ContractError(f"text file {rel!r} is not listed in text.files: re-export the model")
    tokenizer_json = checked_file(model_dir, by_path[text["tokenizer"]["file"]]).read_text(encoding="utf-8")
    try:
        cases = json.loads(checked_file(model_dir, by_path[text["cases"]]).read_text(encoding="utf-8"),
                           parse_constant=_refuse_constant)["cases"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ContractError(f"{text['cases']} is not a text case file ({exc}): re-export the model") from exc
    return TextCases(tokenizer_json, text["tokenizer"], text["postprocess"], text["parity"], cases)


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ContractError(f"{path} is not a readable .npy file ({exc}): re-export the model") from exc


def _check_inputs(case: str, inputs: dict[str, np.ndarray], manifest: dict[str, Any]) -> None:
    """A golden input of another dtype, byte order, shape or value range than declared would run silently wrong."""
    for name, array in inputs.items():
        if not array.dtype.isnative:
            raise ContractError(f"golden {case} input {name} is big-endian ({array.dtype.str}); runtimes read "
                                "native byte order: re-export the model")
    problem = check_inputs(manifest, inputs)
    if problem is not None:  # Manifest.goldenCases words it the same
        raise ContractError(f"{MANIFEST}: golden {case} {problem}: re-export the model")
    declared = [io["name"] for io in manifest["inputs"]]
    if list(inputs) != declared:  # runtimes here take golden inputs by position
        raise ContractError(f"golden {case} has inputs {list(inputs)}, the manifest declares {declared}: re-export")


# What a service may send, as InputCheck.java checks it: the same rules, in the same order, in the same words.

def is_integer_dtype(dtype: str) -> bool:
    """int8..int64 and uint8..uint64 by their numpy names: the dtypes a value range applies to."""
    return dtype.startswith(("int", "uint"))


@dataclass(frozen=True)
class InputSpec:
    """A declared input: per axis its dim name (None when fixed) and allowed [min, max], and its value range."""

    name: str
    dtype: str
    dims: tuple[str | None, ...]
    bounds: tuple[tuple[int, int], ...]
    values: tuple[int, int, str | None] | None  # min, max (inclusive) and where they came from


def input_specs(manifest: dict[str, Any]) -> list[InputSpec]:
    """The manifest's inputs in call order, dynamic dims resolved to their bounds from `dims`."""
    dims = manifest.get("dims", {})
    specs = []
    for io in manifest["inputs"]:
        names = tuple(dim if isinstance(dim, str) else None for dim in io["shape"])
        bounds = tuple((dims[dim]["min"], dims[dim]["max"]) if isinstance(dim, str) else (dim, dim) for dim in io["shape"])
        values = io.get("values")
        specs.append(InputSpec(io["name"], io["dtype"], names, bounds,
                               None if values is None else (values["min"], values["max"], values.get("from"))))
    return specs


def _describe(bounds: Iterable[tuple[int, int]]) -> str:
    return "[" + ", ".join(str(low) if low == high else f"{low}..{high}" for low, high in bounds) + "]"


def _listed(shape: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(size)) for size in shape) + "]"


def _unknown(specs: list[InputSpec], name: str) -> str:
    return (f"input {name} is not an input of the model; it takes {', '.join(spec.name for spec in specs)}: "
            "fix the name or drop it")


def _shape_problem(spec: InputSpec, dtype: str, shape: tuple[int, ...]) -> str | None:
    if dtype != spec.dtype:
        return f"input {spec.name} is {dtype} but the model was exported for {spec.dtype}"
    if len(shape) != len(spec.bounds) or any(not low <= size <= high for size, (low, high) in zip(shape, spec.bounds)):
        return (f"input {spec.name} has shape {_listed(shape)} but the model was exported for {_describe(spec.bounds)}: "
                "pass a shape within those bounds")
    return None


def check_shape(manifest: dict[str, Any], name: str, dtype: str, shape: Iterable[int]) -> str | None:
    """One line naming what is wrong with one input's dtype (numpy name) and shape before its data exists, or
    None when the export accepts them; no value check (InputCheck.shapeProblem)."""
    specs = input_specs(manifest)
    spec = next((spec for spec in specs if spec.name == name), None)
    if spec is None:
        return _unknown(specs, name)
    return _shape_problem(spec, dtype, tuple(int(size) for size in shape))


def check_inputs(manifest: dict[str, Any], inputs: dict[str, np.ndarray]) -> str | None:
    """One line naming the input, what it got and what the export accepts, or None when the inputs are
    acceptable (InputCheck.problem, in the same words). In order: unknown names, missing ones, then per input
    dtype, shape within the bounds and dims shared with earlier inputs, then integer values within `values`."""
    specs = input_specs(manifest)
    declared = {spec.name for spec in specs}
    unknown = sorted(set(inputs) - declared)
    if unknown:
        return _unknown(specs, unknown[0])
    for spec in specs:
        if spec.name not in inputs:
            return f"input {spec.name} is missing; the model takes {', '.join(s.name for s in specs)}"
    seen: dict[str, tuple[str, int]] = {}  # dim name -> the first input that has it, and its size there
    for spec in specs:
        array = inputs[spec.name]
        problem = _shape_problem(spec, str(array.dtype), tuple(array.shape))
        if problem is not None:
            return problem
        for dim, size in zip(spec.dims, array.shape):
            if dim is None:
                continue
            first, agreed = seen.setdefault(dim, (spec.name, int(size)))
            if agreed != size:
                return (f"input {spec.name} has {dim} {int(size)} but {first} has {agreed}: inputs that share the dim "
                        f"{dim} must agree")
    for spec in specs:
        if spec.values is not None:
            problem = value_problem(spec, np.asarray(inputs[spec.name]))
            if problem is not None:
                return problem
    return None


def value_problem(spec: InputSpec, array: np.ndarray) -> str | None:
    """The first value (row-major) of an integer array outside the input's declared values, in one line."""
    low, high, source = spec.values
    if array.size == 0 or array.dtype.kind not in "iu":
        return None
    outside = (array < low) | (array > high)
    if not outside.any():
        return None
    flat = int(np.argmax(outside.reshape(-1)))  # the first in row-major order, as Java's loop finds it
    index = np.unravel_index(flat, array.shape) if array.ndim else ()
    value = int(array.reshape(-1)[flat])
    why = f" ({source})" if source else ""
    return (f"input {spec.name} holds {value} at index {_listed(index)} but the model takes values {low}..{high}{why}: "
            "pass values within that range")
