"""What a service may send: the contract's input check (check_inputs, check_shape; InputCheck.java holds the same
rules and words, tests/contract_vectors holds both to them), and the value ranges export records for integer inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from exporters.contract.manifest import ContractError, check_inputs, check_shape, read_manifest
from exporters.export import export_model
from exporters.fingerprint import model_fingerprint
from exporters.formats import ExportOptions
from exporters.spec import Dim, ModelSpec, SpecError, weights_digest

RANGE = "but the model takes values 0..8191 (nn.Embedding tokens, 8192 rows): pass values within that range"
TEXT = {
    "inputs": [
        {"name": "input_ids", "dtype": "int64", "shape": ["batch", "seq"],
         "values": {"min": 0, "max": 8191, "from": "nn.Embedding tokens, 8192 rows"}},
        {"name": "attention_mask", "dtype": "int64", "shape": ["batch", "seq"]},
        {"name": "positions", "dtype": "int32", "shape": ["seq"], "values": {"min": 0, "max": 127}},
    ],
    "dims": {"batch": {"min": 1, "max": 32}, "seq": {"min": 2, "max": 128}},
}


def text(batch: int, seq: int, mask_seq: int | None = None) -> dict[str, np.ndarray]:
    return {"input_ids": np.arange(batch * seq, dtype=np.int64).reshape(batch, seq),
            "attention_mask": np.ones((batch, mask_seq or seq), np.int64),
            "positions": np.arange(seq, dtype=np.int32)}


def test_acceptable_inputs_have_no_problem_at_the_box_s_corners_and_the_range_s_ends() -> None:
    assert check_inputs(TEXT, text(1, 2)) is None
    inputs = text(32, 128)
    inputs["input_ids"][0, 0], inputs["input_ids"][-1, -1] = 0, 8191
    assert check_inputs(TEXT, inputs) is None


def test_inputs_sharing_a_dim_name_must_agree() -> None:
    assert check_inputs(TEXT, text(1, 7, 9)) == (
        "input attention_mask has seq 9 but input_ids has 7: inputs that share the dim seq must agree")
    inputs = text(1, 7)
    inputs["positions"] = np.arange(8, dtype=np.int32)
    assert check_inputs(TEXT, inputs) == "input positions has seq 8 but input_ids has 7: inputs that share the dim seq must agree"


@pytest.mark.parametrize("value", [-1, 8192, 10**9, np.iinfo(np.int64).min])
def test_int64_values_outside_the_range_are_named_at_their_index(value: int) -> None:
    inputs = text(2, 5)
    inputs["input_ids"][1, 3] = value
    assert check_inputs(TEXT, inputs) == f"input input_ids holds {value} at index [1, 3] {RANGE}"


@pytest.mark.parametrize("value", [-1, 128])
def test_int32_values_outside_the_range_are_named_at_their_index(value: int) -> None:
    inputs = text(1, 4)
    inputs["positions"][2] = value
    assert check_inputs(TEXT, inputs) == (
        f"input positions holds {value} at index [2] but the model takes values 0..127: pass values within that range")


def test_names_dtypes_and_shapes_are_refused_in_the_java_check_s_words_and_order() -> None:
    typo = text(1, 3)
    typo["attention_masks"] = typo.pop("attention_mask")
    assert check_inputs(TEXT, typo) == ("input attention_masks is not an input of the model; it takes input_ids, "
                                        "attention_mask, positions: fix the name or drop it")
    assert check_inputs(TEXT, {"input_ids": text(1, 3)["input_ids"]}) == (
        "input attention_mask is missing; the model takes input_ids, attention_mask, positions")
    inputs = text(1, 3)
    inputs["input_ids"] = inputs["input_ids"].astype(np.int32)
    assert check_inputs(TEXT, inputs) == "input input_ids is int32 but the model was exported for int64"
    assert check_inputs(TEXT, text(33, 3)) == ("input input_ids has shape [33, 3] but the model was exported for "
                                               "[1..32, 2..128]: pass a shape within those bounds")
    shapes_first = text(1, 7, 9)
    shapes_first["input_ids"][0, 0] = -5  # a shape problem is named before any value is read
    assert "must agree" in check_inputs(TEXT, shapes_first)


def test_a_shape_is_judged_before_its_data_exists() -> None:
    assert check_shape(TEXT, "input_ids", "int64", [100000, 7]) == (
        "input input_ids has shape [100000, 7] but the model was exported for [1..32, 2..128]: pass a shape within those bounds")
    assert check_shape(TEXT, "input_ids", "int64", (32, 128)) is None
    assert check_shape(TEXT, "ids", "int64", [1, 7]).startswith("input ids is not an input of the model")


def _write(model_dir: Path, text: str) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "manifest.json").write_text(text)
    return model_dir


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_manifest_with_a_non_standard_token_is_a_contract_error(tmp_path: Path, token: str) -> None:
    with pytest.raises(ContractError, match=f"is not valid JSON \\(non-standard token {token}\\)"):
        read_manifest(_write(tmp_path, f'{{"schema_version": 3, "parity": {{"atol": {token}}}}}'))


# Export: the manifest records integer inputs' valid values.

class Tagger(nn.Module):
    """ids reach an nn.Embedding unchanged; shifted ids reach another; the mask none."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 4)
        self.bag = nn.EmbeddingBag(30, 4, mode="sum")
        self.shifted = nn.Embedding(20, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, ids: torch.Tensor, other: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.embed(ids) + self.bag(ids)[:, None, :] + self.shifted(other + 1)
        return self.head(hidden * mask[..., None])


def tagger(**changes) -> ModelSpec:
    torch.manual_seed(0)
    batch, seq = Dim("batch", 1, 4), Dim("seq", 2, 6)
    spec = ModelSpec(module=Tagger(), outputs=["y"], name="tagger", source="tests.test_inputs:tagger",
                     inputs={"ids": torch.tensor([[1, 9, 3], [4, 5, 0]]), "other": torch.tensor([[1, 2, 3], [0, 0, 0]]),
                             "mask": torch.ones(2, 3)},
                     dynamic={name: {0: batch, 1: seq} for name in ("ids", "other", "mask")})
    for key, value in changes.items():
        setattr(spec, key, value)
    spec.validate()
    return spec


def values_of(manifest: dict) -> dict[str, dict | None]:
    return {io["name"]: io.get("values") for io in manifest["inputs"]}


def test_export_records_the_smallest_table_an_input_reaches_unchanged(tmp_path: Path) -> None:
    manifest = export_model(tagger(), [], tmp_path, ExportOptions())
    # ids reach a 50-row Embedding and a 30-row EmbeddingBag: the smaller decides. other + 1 is no model input.
    assert values_of(manifest) == {"ids": {"min": 0, "max": 29, "from": "nn.EmbeddingBag bag, 30 rows"},
                                   "other": None, "mask": None}
    assert values_of(read_manifest(tmp_path / "tagger")) == values_of(manifest)  # the schema admits it


def test_a_spec_declared_range_wins_and_a_changed_one_exports_again(tmp_path: Path) -> None:
    first = export_model(tagger(values={"ids": (0, 9), "other": (0, 18)}), [], tmp_path, ExportOptions())
    assert values_of(first) == {"ids": {"min": 0, "max": 9, "from": "declared in the spec"},
                                "other": {"min": 0, "max": 18, "from": "declared in the spec"}, "mask": None}
    again = export_model(tagger(values={"ids": (0, 9), "other": (0, 18)}), [], tmp_path, ExportOptions())
    assert again["fingerprint"] == first["fingerprint"]
    changed = export_model(tagger(values={"ids": (0, 9), "other": (0, 17)}), [], tmp_path, ExportOptions())
    assert changed["fingerprint"] != first["fingerprint"]
    assert values_of(read_manifest(tmp_path / "tagger"))["other"]["max"] == 17


def test_the_values_are_part_of_the_model_s_fingerprint() -> None:
    plain = tagger()
    declared = tagger(values={"other": (0, 18)})
    digest = weights_digest(plain.module)
    assert model_fingerprint(plain, digest, None).parts["values"] != model_fingerprint(declared, digest, None).parts["values"]


def test_every_golden_case_lies_within_the_recorded_values(tmp_path: Path) -> None:
    export_model(tagger(), [], tmp_path, ExportOptions())
    manifest = read_manifest(tmp_path / "tagger")
    for case in manifest["golden"]["cases"]:
        inputs = {name: np.load(tmp_path / "tagger" / rel) for name, rel in case["inputs"].items()}
        assert check_inputs(manifest, inputs) is None, case["at"]
    assert len(manifest["golden"]["cases"]) > 2  # the box's corners too


def test_a_make_case_that_builds_ids_outside_the_range_stops_the_export(tmp_path: Path) -> None:
    def make_case(sizes: dict[str, int]) -> dict[str, torch.Tensor]:
        shape = (sizes["batch"], sizes["seq"])
        return {"ids": torch.full(shape, 20), "other": torch.zeros(shape, dtype=torch.int64), "mask": torch.ones(shape)}

    # 20 has a row in both tables, so eager runs it; the spec allows 0..9 only.
    with pytest.raises(SpecError, match=r"tagger: golden case at min: input ids holds 20 at index \[0, 0\] but the model "
                                        r"takes values 0\.\.9 \(declared in the spec\): pass values within that range"):
        export_model(tagger(make_case=make_case, values={"ids": (0, 9)}), [], tmp_path, ExportOptions())
    assert not (tmp_path / "tagger").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [({"mask": (0, 1)}, "values= gives mask a range, but it is torch.float32"),
     ({"idz": (0, 1)}, "values= names unknown inputs ['idz']"),
     ({"ids": (5, 1)}, "give (min, max), integers with min <= max"),
     ({"ids": (0, 8)}, "example ids holds values 0..9, outside its values= range 0..8")],
)
def test_a_wrong_values_declaration_is_one_line(values: dict, message: str) -> None:
    with pytest.raises(SpecError) as refused:
        tagger(values=values)
    assert message in str(refused.value)


def test_the_zoo_encoder_records_its_token_table(tmp_path: Path) -> None:
    from exporters.golden import EmbeddingWatch, golden_inputs
    from exporters.zoo import load_spec

    spec = load_spec("encoder")
    watch = EmbeddingWatch(spec.module)
    try:
        watch.current = dict(spec.inputs)
        with torch.no_grad():
            spec.module(*spec.inputs.values())
    finally:
        watch.close()
    assert watch.found == {"input_ids": (8192, "nn.Embedding tokens, 8192 rows")}
    assert not spec.module.tokens._forward_pre_hooks  # nothing left behind for the float64 copy
    assert json.dumps(watch.found)  # plain values for the manifest
    assert all(int(case["input_ids"].max()) <= 8191 for _, case in golden_inputs(spec))
