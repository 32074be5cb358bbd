"""Writes the contract vectors: small model folders (a manifest plus tiny files) that both readers,
Python (exporters.contract.manifest) and Java (Manifest.java), must answer as expected.json says.

Run: python tests/contract_vectors/generate.py OUT. The folders are written at test time, so only this
script and expected.json are committed. No runtime opens the fake format files: these vectors test
the contract (paths, digests, schema, golden), which every reader checks before a runtime opens a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

EXPECTED = Path(__file__).with_name("expected.json")
FORMATS = {"onnx": "onnx/model.onnx", "torchscript": "torchscript/model.pt"}


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _entry(rel: str, data: bytes) -> dict[str, Any]:
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def base_files() -> dict[str, bytes]:
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    y = np.arange(4, dtype=np.float32).reshape(2, 2)
    return {"golden/c0_x.npy": _npy(x), "golden/c0_y.npy": _npy(y),
            **{rel: f"not a real {name} file\n".encode() for name, rel in FORMATS.items()}}


def base_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    """An mlp-shaped manifest: one input with a dynamic batch, one output, one golden case, two formats."""
    return {
        "schema_version": 3, "model": "vec", "source": "zoo:vec",
        "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 2]}],
        "dims": {"batch": {"min": 1, "max": 4}},
        "golden": {"files": [_entry(rel, files[rel]) for rel in ("golden/c0_x.npy", "golden/c0_y.npy")],
                   "cases": [{"name": "c0", "inputs": {"x": "golden/c0_x.npy"}, "outputs": {"y": "golden/c0_y.npy"}}]},
        "parity": {"reference": "eager", "reason": "vector",
                   "outputs": {"y": {"rule": "fixed", "atol": 1e-5, "rtol": 1e-5, "set_by": "default"}}},
        "formats": {name: {"status": "ok", "files": [_entry(rel, files[rel])], "main": rel.split("/", 1)[1],
                           "settings": {}, "verification": {}}
                    for name, rel in FORMATS.items()},
    }


TEXT_RANGE = {"min": 0, "max": 9, "from": "nn.Embedding tokens, 10 rows"}
TEXT_IDS = np.array([[1, 2, 3], [4, 5, 9]], np.int64)


def text_files() -> dict[str, bytes]:
    return {"golden/c0_input_ids.npy": _npy(TEXT_IDS), "golden/c0_attention_mask.npy": _npy(np.ones((2, 3), np.int64)),
            "golden/c0_y.npy": _npy(np.zeros((2, 2), np.float32)),
            **{rel: f"not a real {name} file\n".encode() for name, rel in FORMATS.items()}}


def text_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    """A text encoder's manifest: token ids with a value range and a mask, sharing the dims batch and seq."""
    manifest = base_manifest(files | {"golden/c0_x.npy": b""})
    names = ("golden/c0_input_ids.npy", "golden/c0_attention_mask.npy", "golden/c0_y.npy")
    manifest["inputs"] = [{"name": "input_ids", "dtype": "int64", "shape": ["batch", "seq"], "values": dict(TEXT_RANGE)},
                          {"name": "attention_mask", "dtype": "int64", "shape": ["batch", "seq"]}]
    manifest["dims"] = {"batch": {"min": 1, "max": 4}, "seq": {"min": 2, "max": 16}}
    manifest["golden"] = {"files": [_entry(rel, files[rel]) for rel in names],
                          "cases": [{"name": "c0", "inputs": {"input_ids": names[0], "attention_mask": names[1]},
                                     "outputs": {"y": names[2]}}]}
    return manifest


DETECTOR_OUTPUTS = {"boxes": ("float32", ["detections", 4]), "scores": ("float32", ["detections"]),
                    "labels": ("int64", ["detections"])}


def detector_files() -> dict[str, bytes]:
    """One image in, two detections out: each output's first dim is decided by the data."""
    outputs = {name: np.zeros([2 if dim == "detections" else dim for dim in shape], dtype)
               for name, (dtype, shape) in DETECTOR_OUTPUTS.items()}
    return {"golden/c0_image.npy": _npy(np.zeros((3, 4, 5), np.float32)),
            **{f"golden/c0_{name}.npy": _npy(array) for name, array in outputs.items()},
            **{rel: f"not a real {name} file\n".encode() for name, rel in FORMATS.items()}}


def detector_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    """A detector's manifest: a static image in, outputs whose first dim (detections, at most 20) the data decides,
    and a TorchScript program that needs torchvision's operator library."""
    manifest = base_manifest(files | {"golden/c0_x.npy": b"", "golden/c0_y.npy": b""})
    manifest["inputs"] = [{"name": "image", "dtype": "float32", "shape": [3, 4, 5]}]
    manifest["outputs"] = [{"name": name, "dtype": dtype, "shape": shape} for name, (dtype, shape) in DETECTOR_OUTPUTS.items()]
    manifest["dims"] = {"detections": {"min": 0, "max": 20, "decided_by": "data"}}
    names = sorted(rel for rel in files if rel.startswith("golden/"))
    manifest["golden"] = {"files": [_entry(rel, files[rel]) for rel in names],
                          "cases": [{"name": "c0", "inputs": {"image": "golden/c0_image.npy"},
                                     "outputs": {name: f"golden/c0_{name}.npy" for name in DETECTOR_OUTPUTS}}]}
    manifest["parity"]["outputs"] = {"boxes": {"rule": "fixed", "atol": 1e-5, "rtol": 1e-5, "set_by": "default"},
                                     "scores": {"rule": "fixed", "atol": 1e-5, "rtol": 1e-5, "set_by": "default"},
                                     "labels": {"rule": "exact"}}
    manifest["formats"]["torchscript"]["needs"] = {"torchscript_file_version": 5,
                                                   "operator_libraries": {"torchvision": ["nms", "roi_align"]}}
    return manifest


BASES = {"mlp": (base_files, base_manifest), "text": (text_files, text_manifest),
         "detector": (detector_files, detector_manifest)}

Mutation = Callable[[Path, dict[str, Any], dict[str, bytes]], None]


def _golden_input(array: np.ndarray) -> Mutation:
    def mutate(folder: Path, manifest: dict[str, Any], files: dict[str, bytes]) -> None:
        files["golden/c0_x.npy"] = _npy(array)
        manifest["golden"]["files"][0] = _entry("golden/c0_x.npy", files["golden/c0_x.npy"])
    return mutate


def _golden_text(name: str, array: np.ndarray) -> Mutation:
    """The text base's golden input NAME replaced, or added when the manifest declares no such input."""
    def mutate(folder, manifest, files):
        rel = f"golden/c0_{name}.npy"
        files[rel] = _npy(array)
        listed = [entry for entry in manifest["golden"]["files"] if entry["path"] != rel]
        manifest["golden"]["files"] = [*listed, _entry(rel, files[rel])]
        manifest["golden"]["cases"][0]["inputs"][name] = rel
    return mutate


def _with(array: np.ndarray, index: tuple, value: int) -> np.ndarray:
    array = array.copy()
    array[index] = value
    return array


def _values_on_float(folder, manifest, files):
    manifest["inputs"][0]["values"] = {"min": 0, "max": 1}


def _altered(folder, manifest, files):
    files["onnx/model.onnx"] = b"NOT a real onnx file\n"  # same size, other bytes


def _duplicate(folder, manifest, files):
    listed = manifest["formats"]["onnx"]["files"]
    listed.append(dict(listed[0]))


def _path(rel: str) -> Mutation:
    def mutate(folder, manifest, files):
        manifest["formats"]["onnx"]["files"][0]["path"] = rel
    return mutate


def _other_format(folder, manifest, files):
    """onnx lists torchscript's file, with its true digest: only the folder rule refuses it."""
    manifest["formats"]["onnx"]["files"][0] = dict(manifest["formats"]["torchscript"]["files"][0])


def _symlink_out(folder, manifest, files):
    (folder.parent / "outside.onnx").write_bytes(files["onnx/model.onnx"])
    del files["onnx/model.onnx"]
    (folder / "onnx").mkdir(parents=True, exist_ok=True)
    os.symlink("../../outside.onnx", folder / "onnx/model.onnx")


def _missing_key(folder, manifest, files):
    del manifest["golden"]


def _wrong_type(folder, manifest, files):
    manifest["inputs"] = {"name": "x"}


def _set(*path_and_value: Any) -> Mutation:
    """Sets (or, with value None, deletes) one field of the manifest, named by its path from the root."""
    *path, key, value = path_and_value

    def mutate(folder, manifest, files):
        node = manifest
        for step in path:
            node = node[step]
        if value is None:
            del node[key]
        else:
            node[key] = value
    return mutate


def _problems(folder, manifest, files):
    manifest["formats"]["onnx"]["status"] = "problems"
    manifest["formats"]["onnx"]["problems"] = ["the exporter warned"]


# Vectors whose whole manifest.json is replaced: (bytes or None, and a symlink flag).
def _raw(data: bytes) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / "manifest.json").write_bytes(data)
    return write


def _symlinked_manifest(folder: Path) -> None:
    real = folder.parent / f"{folder.name}.real.json"
    (folder / "manifest.json").rename(real)
    os.symlink(real, folder / "manifest.json")


MUTATIONS: dict[str, Mutation] = {
    "valid": lambda folder, manifest, files: None,
    "altered_file": _altered,
    "duplicate_file_entry": _duplicate,
    "path_absolute": _path("/etc/passwd"),
    "path_dotdot": _path("onnx/../../outside.onnx"),
    "path_symlink_out": _symlink_out,
    "path_other_format_folder": _other_format,
    "schema_missing_key": _missing_key,
    "schema_wrong_type": _wrong_type,
    "golden_wrong_dtype": _golden_input(np.zeros((2, 4), np.float64)),
    "golden_big_endian": _golden_input(np.zeros((2, 4), ">f4")),
    "golden_wrong_shape": _golden_input(np.zeros((2, 5), np.float32)),
    "golden_batch_over_box": _golden_input(np.zeros((5, 4), np.float32)),
    "status_problems": _problems,
    "schema_old_version": _set("schema_version", 2),
    "schema_bad_digest": _set("golden", "files", 0, "sha256", "not a digest"),
    "schema_missing_main": _set("formats", "onnx", "main", None),
    "schema_unlisted_setting": _set("formats", "onnx", "settings", {"CACHE_DIR": "cache"}),
    "main_not_listed": _set("formats", "onnx", "main", "../torchscript/model.pt"),
}
# Vectors on the text base (token ids with a value range, a mask sharing their dims).
TEXT_MUTATIONS: dict[str, Mutation] = {
    "text_valid": lambda folder, manifest, files: None,
    "golden_id_over_range": _golden_text("input_ids", _with(TEXT_IDS, (1, 2), 10)),
    "golden_id_below_range": _golden_text("input_ids", _with(TEXT_IDS, (0, 0), -1)),
    "golden_seq_disagrees": _golden_text("attention_mask", np.ones((2, 4), np.int64)),
    "golden_unknown_input": _golden_text("token_type_ids", np.zeros((2, 3), np.int64)),
    "values_empty_range": _set("inputs", 0, "values", {"min": 9, "max": 0}),
    "schema_values_not_integer": _set("inputs", 0, "values", "min", "0"),
    "manifest_nan_token": _set("parity", "outputs", "y", "atol", float("nan")),
    "manifest_infinity_token": _set("dims", "seq", "max", float("inf")),
    "manifest_minus_infinity_token": _set("inputs", 0, "values", "min", float("-inf")),
}
MUTATIONS["values_on_float_input"] = _values_on_float
# Vectors on the detector base (outputs whose size the data decides).
DETECTOR_MUTATIONS: dict[str, Mutation] = {
    "detector_valid": lambda folder, manifest, files: None,
    "detector_input_on_data_dim": _set("inputs", 0, "shape", ["detections", 4, 5]),
    "detector_schema_decided_by_unknown": _set("dims", "detections", "decided_by", "model"),
}

AFTER: dict[str, Callable[[Path], None]] = {
    "manifest_truncated": lambda folder: _raw((folder / "manifest.json").read_bytes()[:100])(folder),
    "manifest_oversized": lambda folder: _raw(b" " * (16 << 20) + (folder / "manifest.json").read_bytes())(folder),
    "manifest_symlinked": _symlinked_manifest,
}


FUZZ_SEED = 19
FUZZ_COUNT = 200  # even indices mutate the mlp base, odd ones the text base (value ranges, shared dims)
# NaN and the infinities: Python's json writes and reads them as bare tokens, standard JSON has none.
FUZZ_VALUES = [None, 7, "../../etc/passwd", [], {}, 10**30, -1, "", 1.5, True, float("nan"), float("inf"), float("-inf")]


def _places(node: Any, path: tuple = ()) -> list[tuple]:
    """Every key and list index of the manifest tree, as a path from the root."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    places = []
    for key, child in children:
        places += [(*path, key), *_places(child, (*path, key))]
    return places


def fuzz_mutation(index: int) -> Mutation:
    """The index-th random mutation of the base manifest: one key or item deleted or replaced by an odd value."""
    rng = random.Random(FUZZ_SEED * 100003 + index)

    def mutate(folder, manifest, files):
        *parent, key = rng.choice(_places(manifest))
        node = manifest
        for step in parent:
            node = node[step]
        if rng.random() < 0.25:
            del node[key]
        else:
            node[key] = rng.choice(FUZZ_VALUES)
    return mutate


def write_vector(out: Path, name: str, mutation: Mutation | None = None, base: str | None = None) -> Path:
    folder = out / name / "vec"
    folder.mkdir(parents=True)
    make_files, make_manifest = BASES[base or ("text" if name in TEXT_MUTATIONS else
                                                "detector" if name in DETECTOR_MUTATIONS else "mlp")]
    files = make_files()
    manifest = make_manifest(files)
    mutations = {**MUTATIONS, **TEXT_MUTATIONS, **DETECTOR_MUTATIONS}
    (mutation or mutations.get(name, lambda *_: None))(folder, manifest, files)
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    AFTER.get(name, lambda _: None)(folder)
    return folder


def generate(out: Path) -> dict[str, Any]:
    """Writes every contract vector of expected.json under out/NAME/vec, and the fuzz mutations under
    out/fuzz/NNN/vec (each must end in a contract error or verdicts); returns expected.json."""
    expected = json.loads(EXPECTED.read_text())
    shutil.rmtree(out, ignore_errors=True)
    unknown = set(expected["contract"]) - set(MUTATIONS) - set(TEXT_MUTATIONS) - set(DETECTOR_MUTATIONS) - set(AFTER)
    if unknown:
        raise SystemExit(f"expected.json names vectors this script cannot write: {sorted(unknown)}")
    for name in expected["contract"]:
        write_vector(out, name)
    for index in range(FUZZ_COUNT):
        write_vector(out / "fuzz", f"{index:03d}", fuzz_mutation(index), "text" if index % 2 else "mlp")
    return expected


def count_arrays(manifest: dict[str, Any], rows: int) -> dict[str, np.ndarray]:
    """A counts vector's answers: every output with ROWS along its data-decided dims, zeros."""
    decided = {name for name, dim in manifest["dims"].items() if dim.get("decided_by") == "data"}
    return {io["name"]: np.zeros([rows if dim in decided else dim for dim in io["shape"]], io["dtype"])
            for io in manifest["outputs"]}


def input_arrays(vector: dict[str, Any]) -> dict[str, np.ndarray]:
    """An input vector's arrays: each {dtype, shape, fill, at: {flat index: value}}, in the vector's order."""
    arrays = {}
    for name, spec in vector["inputs"].items():
        array = np.full(spec["shape"], spec.get("fill", 0), dtype=spec["dtype"])
        for flat, value in spec.get("at", {}).items():
            array.reshape(-1)[int(flat)] = value
        arrays[name] = array
    return arrays


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
