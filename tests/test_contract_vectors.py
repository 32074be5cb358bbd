"""The shared contract vectors (tests/contract_vectors) through the Python reader; ContractVectorsTest.java
runs the same folders and the same expected.json through the Java reader."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from exporters.contract.manifest import (ContractError, check_inputs, check_shape, checked_model, load_golden,
                                        read_manifest)
from exporters.contract.parity import Parity, data_axes
from exporters.verify import verify_model

sys.path.insert(0, str(Path(__file__).parent / "contract_vectors"))
import generate  # noqa: E402

EXPECTED = json.loads(generate.EXPECTED.read_text())


@pytest.fixture(scope="session")
def vectors(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("contract-vectors")
    generate.generate(out)
    return out


def read(model_dir: Path) -> tuple[int, str | list[str]]:
    """What a Python reader answers: (2, the one-line error) or (0, the formats a verdict is due for)."""
    try:
        return 0, checked_model(model_dir)[2]
    except ContractError as exc:
        return 2, str(exc)


@pytest.mark.parametrize("name", sorted(EXPECTED["contract"]))
def test_contract_vector(vectors: Path, name: str) -> None:
    want = EXPECTED["contract"][name]
    code, answer = read(vectors / name / "vec")
    assert code == want["exit"], answer
    if code == 0:
        assert answer == want["verdicts"]
    else:
        assert "\n" not in answer and want["error"] in answer, answer
        # verify (exit 2 on a ContractError) refuses it with the same line before any runtime opens a file,
        # as SelfCheck does: never a failed verdict recorded in the manifest.
        with pytest.raises(ContractError) as refused:
            verify_model(vectors / name / "vec")
        assert str(refused.value) == answer


@pytest.mark.parametrize("vector", EXPECTED["inputs"], ids=lambda v: v["name"])
def test_input_vector(vectors: Path, vector: dict) -> None:
    """What a service sends, checked against a vector's manifest: the same line InputCheck.java gives, or none."""
    manifest = read_manifest(vectors / vector["manifest"] / "vec")
    if "shape" in vector:
        asked = vector["shape"]
        assert check_shape(manifest, asked["name"], asked["dtype"], asked["shape"]) == vector["problem"]
    else:
        assert check_inputs(manifest, generate.input_arrays(vector)) == vector["problem"]


@pytest.mark.parametrize("vector", EXPECTED["parity"], ids=lambda v: v["name"])
def test_parity_vector(vector: dict) -> None:
    rule = {"rule": "eager_bound", "factor": vector["factor"], "floor_ulps": vector["floor_ulps"], "eps": vector["eps"],
            "cases": {"c0": {"eager_err": vector["eager_err"], "scale": vector["scale"]}}}
    parity = Parity({"outputs": {"y": rule}})
    # The error sits where the reference is 0, so it is exactly err; the scale sits beside it.
    parity.add("c0", {"y": np.array([vector["err"], vector["scale"]])}, {"y": np.array([0.0, vector["scale"]])})
    result = parity.as_dict()
    assert result["passed"] is vector["pass"]
    assert result["worst_ratio"] == (math.inf if vector["ratio"] is None else vector["ratio"])


@pytest.mark.parametrize("vector", EXPECTED["counts"], ids=lambda v: v["name"])
def test_counts_vector(vectors: Path, vector: dict) -> None:
    """Answers with another number of detections than the reference: the one line Parity.java gives too."""
    manifest = read_manifest(vectors / vector["manifest"] / "vec")
    parity = Parity(manifest["parity"], data_axes(manifest))
    parity.add("c0", generate.count_arrays(manifest, vector["artifact_rows"]),
               generate.count_arrays(manifest, vector["reference_rows"]))
    assert parity.error == vector["error"]
    assert parity.passed is (vector["error"] is None)


@pytest.mark.parametrize("index", range(generate.FUZZ_COUNT))
def test_fuzzed_manifest_gets_a_contract_error_or_verdicts(vectors: Path, index: int) -> None:
    """A randomly mutated manifest (fixed seed) is refused in one line or read whole, parity section included."""
    model_dir = vectors / "fuzz" / f"{index:03d}" / "vec"
    code, answer = read(model_dir)
    assert code == 2 and "\n" not in answer or code == 0, answer
    if code == 0:
        manifest = read_manifest(model_dir)
        parity = Parity(manifest["parity"])
        for case in load_golden(model_dir, manifest):
            parity.add(case.name, case.reference, case.reference)
        assert parity.passed
