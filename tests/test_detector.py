"""A detector (tests/detector_model.py): outputs whose count the data decides, an operator library its TorchScript
program needs, and an ONNX export through the TorchScript-based exporter where torch.export cannot take it.

The end-to-end run (export of all six formats, verify in Python and in every JVM engine) is made once per run and
read by each test here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from exporters import Dim, ModelSpec
from exporters.contract.parity import Parity, data_axes
from exporters.golden import write_golden
from exporters.spec import SpecError

from conftest import ROOT, cli_once, export_once, manifest_of

GUARD = "Could not guard on data-dependent expression Eq(4*u1, 0)"  # where torch.export stops on the detector
TORCH_EXPORT_STOPS = f"GuardOnDataDependentSymNode: {GUARD}"
TORCHVISION = "does not load: needs operator library torchvision (torchvision::nms, torchvision::roi_align)"


@pytest.fixture(scope="module")
def detector(shared_root: Path) -> tuple[dict, list[subprocess.CompletedProcess]]:
    """The detector exported to every format (the export's own exit is 1: three formats fail), then verified in
    Python and in the JVM engines, gated and reported; its manifest, and those runs."""
    out = shared_root / "detector"
    runs = cli_once(shared_root, "detector", ("exporters", "export", "tests.detector_model:build", "--out", str(out)),
                    ("exporters", "verify", str(out / "detector")), ("jvm_harness", "verify", str(out / "detector")),
                    ("exporters", "gate", str(out / "detector")), ("exporters", "report", str(out)))
    return manifest_of(out / "detector"), runs


@pytest.mark.slow
def test_the_manifest_declares_detections_as_a_dim_the_data_decides(detector) -> None:
    manifest, _ = detector
    assert manifest["outputs"] == [{"name": "boxes", "dtype": "float32", "shape": ["detections", 4]},
                                   {"name": "scores", "dtype": "float32", "shape": ["detections"]},
                                   {"name": "labels", "dtype": "int64", "shape": ["detections"]}]
    assert manifest["dims"] == {"detections": {"min": 0, "max": 20, "decided_by": "data"}}
    assert [case["shapes"]["boxes"] for case in manifest["golden"]["cases"]] == [[4, 4], [12, 4]]
    assert manifest["parity"]["reference"] == "float64"  # both golden images keep as many boxes in float64


@pytest.mark.slow
def test_verdicts_per_format_and_runtime(detector) -> None:
    manifest, (exported, verified, jvm, gate, _) = detector
    formats = manifest["formats"]
    verdicts = {f"{name}:{key}": (result["passed"], result.get("error", ""))
                for name, entry in formats.items() for key, result in entry["verification"].items()}
    passing = ("torchscript:python/torch.jit", "onnx:python/onnxruntime", "onnx:jvm/onnxruntime-java",
               "openvino:python/openvino", "openvino:jvm/openvino-c-jna")
    refused = ("torchscript:jvm/djl-pytorch", "torchscript:jvm/libtorch-javacpp")
    assert {key: passed for key, (passed, _) in verdicts.items()} == {**dict.fromkeys(passing, True),
                                                                      **dict.fromkeys(refused, False)}
    for key in refused:
        assert f"model.pt {TORCHVISION}, which {key.split('/')[1]} cannot load: " in verdicts[key][1]
    for key in passing:
        result = formats[key.split(":")[0]]["verification"][key.split(":")[1]]
        assert result["cases"] == 2 and result["worst_ratio"] < 1, result
    for name in ("exported_program", "aoti", "executorch"):
        assert formats[name]["status"] == "failed" and formats[name]["error"].startswith(TORCH_EXPORT_STOPS), formats[name]
    assert exported.returncode == verified.returncode == jvm.returncode == gate.returncode == 1
    assert jvm.stderr.count("detector/torchscript DOES NOT RUN") == 2, jvm.stderr
    assert ("gate: required detector/torchscript failed: the artifact does not run in jvm/djl-pytorch, "
            "jvm/libtorch-javacpp (loading the artifact: UnsupportedOperationException: model.pt " + TORCHVISION) in gate.stderr


@pytest.mark.slow
def test_the_report_says_which_runtime_cannot_load_it_and_which_path_made_it(detector, shared_root: Path) -> None:
    assert detector[1][-1].returncode == 0, detector[1][-1].stderr
    rows: dict[str, str] = {}
    for line in (shared_root / "detector" / "report.md").read_text().splitlines():
        if line.startswith("| detector | "):
            rows.setdefault(line.split(" | ")[1], line)  # the parity table's row comes before the timings'
    refused = f"**DOES NOT RUN** (loading the artifact: UnsupportedOperationException: model.pt {TORCHVISION}"
    assert rows["torchscript"].count(refused) == 2
    assert "ok, required, via the TorchScript-based exporter (dynamo=False)" in rows["onnx"]
    assert "ok, required, via the PyTorch frontend over the traced module" in rows["openvino"]


@pytest.mark.slow
def test_onnx_and_openvino_record_the_path_that_made_them(detector) -> None:
    onnx, openvino = (detector[0]["formats"][name]["export_path"] for name in ("onnx", "openvino"))
    assert onnx["taken"] == "the TorchScript-based exporter (dynamo=False)"
    assert [tried["path"] for tried in onnx["tried"]] == ["the dynamo exporter (torch.export)"]
    assert GUARD in onnx["tried"][0]["error"] and "\x1b" not in onnx["tried"][0]["error"]  # torch.onnx colours it
    assert detector[0]["formats"]["onnx"]["needs"]["opset_imports"] == {"ai.onnx": 20}  # that exporter's default
    assert openvino["taken"] == "the PyTorch frontend over the traced module"
    assert [tried["path"] for tried in openvino["tried"]] == ["the PyTorch frontend over the ExportedProgram",
                                                             "the ONNX frontend over the ONNX exporter's graph"]
    assert all(GUARD in tried["error"] for tried in openvino["tried"]), openvino


@pytest.mark.slow
def test_the_torchscript_program_needs_torchvision_and_does_not_load_without_it(detector, shared_root: Path) -> None:
    assert detector[0]["formats"]["torchscript"]["needs"]["operator_libraries"] == {"torchvision": ["nms", "roi_align"]}
    folder = shared_root / "detector" / "detector"
    # A process where torchvision cannot be imported: the program is refused naming the library, not run.
    child = subprocess.run(
        [sys.executable, "-c", "import sys, json, pathlib; sys.modules['torchvision'] = None\n"
         "from exporters.formats import FORMATS\n"
         f"folder = pathlib.Path({str(folder)!r})\n"
         "FORMATS['torchscript'].load(folder / 'torchscript', json.loads((folder / 'manifest.json').read_text()))"],
        cwd=ROOT, capture_output=True, text=True)
    assert child.returncode == 1
    assert f"MissingOperatorLibrary: {TORCHVISION}: import of torchvision halted" in child.stderr.splitlines()[-1]


class KeepRows(nn.Module):
    """Keeps the rows whose sum reaches 1: [0.1, 0.2, 0.7] sums to 1.0 in fp32 and to 0.99999999 in float64."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[x.sum(dim=1) >= 1.0]


def keep_rows(bound: int = 2) -> ModelSpec:
    case = {"x": torch.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.5]])}
    return ModelSpec(name="keep", module=KeepRows(), inputs=dict(case), outputs=["kept"],
                     data_dims={"kept": {0: Dim("rows", 0, bound)}}, golden=[case, case])


def test_a_float64_run_that_keeps_other_rows_is_no_reference(tmp_path: Path) -> None:
    golden, rules, _ = write_golden(keep_rows(), tmp_path)
    assert [case["shapes"]["kept"] for case in golden["cases"]] == [[2, 3], [2, 3]]
    assert rules["reference"] == "eager"
    assert rules["reason"] == ("the float64 run kept 1 rows where eager fp32 kept 2 (output kept, golden case at given): "
                               "thresholds decide differently in float64, so eager fp32 is the reference")
    assert rules["outputs"]["kept"] == {"rule": "fixed", "atol": 1e-5, "rtol": 1e-5, "set_by": "default"}


def test_a_count_beyond_its_bound_or_an_unknown_output_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"output kept has 2 along dim 0 \(rows\), outside its declared 0..1"):
        write_golden(keep_rows(bound=1), tmp_path)
    spec = keep_rows()
    spec.data_dims = {"boxes": {0: Dim("rows", 0, 2)}}
    with pytest.raises(SpecError, match=r"data_dims= names unknown outputs \['boxes'\]"):
        spec.validate()
    spec.outputs, spec.data_dims = ["kept", "more"], {"kept": {0: Dim("rows", 0, 2)}, "more": {0: Dim("rows", 0, 3)}}
    with pytest.raises(SpecError, match=r"data_dims names 'rows' as Dim\(name='rows', min=0, max=2\) and as "):
        spec.validate()


def test_a_count_that_differs_is_named_in_one_line() -> None:
    manifest = {"outputs": [{"name": "boxes", "dtype": "float32", "shape": ["detections", 4]}],
                "dims": {"detections": {"min": 0, "max": 20, "decided_by": "data"}},
                "parity": {"outputs": {"boxes": {"rule": "fixed", "atol": 1e-5, "rtol": 1e-5}}}}
    parity = Parity(manifest["parity"], data_axes(manifest))
    parity.add("case0", {"boxes": np.zeros((12, 4), np.float32)}, {"boxes": np.zeros((13, 4), np.float32)})
    assert parity.error == "output boxes: the artifact returned 12 rows (detections), the reference 13"
    other = Parity(manifest["parity"], data_axes(manifest))  # another width is no count: the plain shape line
    other.add("case0", {"boxes": np.zeros((13, 5), np.float32)}, {"boxes": np.zeros((13, 4), np.float32)})
    assert other.error == "output boxes: shape [13, 5] != golden [13, 4]"


def test_a_new_bound_is_a_new_model_fingerprint() -> None:
    """The manifest's dims come from data_dims: another bound exports again; a model without data dims keeps its parts."""
    from exporters.fingerprint import model_fingerprint

    two, three = (model_fingerprint(keep_rows(bound), "w" * 64, None) for bound in (2, 3))
    assert two.digest != three.digest and "data dims" in two.parts
    plain = keep_rows()
    plain.data_dims = {}
    assert "data dims" not in model_fingerprint(plain, "w" * 64, None).parts
