"""Text in, answers out: tokenizer and postprocess proven with the model, in Python and in the JVM.

Models: tests/text_models.py (tokenizers trained here from the repository's text). The JVM side reads the same
cases through DJL's binding of the Rust tokenizers library (TextCheck.java)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from exporters.contract.manifest import load_text, read_manifest
from exporters.text import corpus
from exporters.text.pipeline import TextPipeline, prove
from exporters.text.tokenize import TextError, text_problem

from conftest import ROOT, copy_model, export_once, manifest_of, run_cli

VECTORS = ROOT / "tests" / "contract_vectors" / "text_problems.json"


@pytest.fixture(scope="session")
def reranker_dir(shared_root: Path) -> Path:
    return export_once(shared_root, "reranker", "tests.text_models:reranker", verify=True) / "reranker"


@pytest.fixture(scope="session")
def bpe_dir(shared_root: Path) -> Path:
    return export_once(shared_root, "bpe_embedder", "tests.text_models:bpe_embedder", verify=True) / "bpe_embedder"


def test_export_records_the_tokenizer_its_settings_and_every_corpus_text(reranker_dir: Path) -> None:
    manifest = manifest_of(reranker_dir)
    text = manifest["text"]
    assert text["tokenizer"] | {"tokenizers": "-"} == {
        "file": "text/tokenizer.json", "tokenizers": "-", "max_length": 64, "min_length": 2, "max_batch": 16,
        "truncation": "longest_first", "padding_side": "right", "pad_id": 0, "add_special_tokens": True, "pairs": True,
        "fills": {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"},
        "max_text_bytes": 16384, "vocab_size": text["tokenizer"]["vocab_size"]}
    assert text["postprocess"] == {"output": "logits", "steps": ["softmax", "top_k"], "k": 2, "labels": ["irrelevant", "relevant"]}
    assert text["texts"] == 1 + len(corpus.PAIRS)
    assert {entry["path"] for entry in text["files"]} == {"text/tokenizer.json", "text/cases.json"}
    cases = load_text(reranker_dir, manifest).cases
    long_pair = next(case for case in cases if "pair long" in case["labels"])
    row = long_pair["labels"].index("pair long")
    ids = np.asarray(long_pair["inputs"]["input_ids"])
    assert int(np.asarray(long_pair["inputs"]["attention_mask"])[row].sum()) == 64  # truncation fired at max_length
    types = np.asarray(long_pair["inputs"]["token_type_ids"])[row]
    assert set(types[:64].tolist()) == {0, 1}  # the second text's tokens are type 1
    assert (ids[np.asarray(long_pair["inputs"]["attention_mask"]) == 0] == 0).all()  # padding is the pad id


def test_every_python_runtime_proves_strings_to_answers(reranker_dir: Path, bpe_dir: Path) -> None:
    for model_dir in (reranker_dir, bpe_dir):
        manifest = manifest_of(model_dir)
        for name, entry in manifest["formats"].items():
            result = next(r for key, r in entry["verification"].items() if key.startswith("python/"))
            assert result["passed"] and result["text"]["passed"], (name, result)
            assert result["text"]["texts"] == manifest["text"]["texts"]
            assert result["text"]["worst_ratio"] <= 1.0


def test_every_jvm_runtime_proves_strings_to_answers(reranker_dir: Path, bpe_dir: Path, tmp_path: Path) -> None:
    """ONNX Runtime, libtorch (JavaCPP) and DJL tokenize with DJL's Rust binding: ids exact, answers by the rule."""
    for model_dir in (reranker_dir, bpe_dir):
        copy = copy_model(model_dir, tmp_path / model_dir.name)
        done = run_cli("jvm_harness", "verify", str(copy))
        assert done.returncode == 0, done.stdout + done.stderr
        results = [(key, r) for entry in manifest_of(copy)["formats"].values()
                   for key, r in entry["verification"].items() if key.startswith("jvm/")]
        assert results
        for key, result in results:
            text = result["text"]
            assert text["passed"] and "error" not in text, (key, text)
            assert text["texts"] == manifest_of(copy)["text"]["texts"] and text["tokenizer"].startswith("tokenizers 0.")
            assert text["concurrency"]["calls"] > 0 and text["concurrency"]["mismatches"] == 0


def test_a_tokenizer_setting_that_drifts_fails_on_both_sides_naming_the_text_and_token(reranker_dir: Path, tmp_path: Path) -> None:
    """The pad id the manifest declares is what both sides pad with: a drifted one (as DJL's [PAD] once was) is a
    failed verdict that names the text and the token, not a plausible answer."""
    copy = copy_model(reranker_dir, tmp_path, ("onnx",))
    manifest = manifest_of(copy)
    manifest["text"]["tokenizer"]["pad_id"] = 3
    (copy / "manifest.json").write_text(json.dumps(manifest))
    from exporters.formats import FORMATS

    result = prove(load_text(copy, read_manifest(copy)), FORMATS["onnx"].load(copy / "onnx", read_manifest(copy)))
    assert not result["passed"] and "differs at token" in result["error"], result
    done = run_cli("jvm_harness", "verify", str(copy))
    assert done.returncode == 1, done.stdout + done.stderr
    jvm = manifest_of(copy)["formats"]["onnx"]["verification"]["jvm/onnxruntime-java"]["text"]
    assert not jvm["passed"] and jvm["error"] == result["error"], (jvm, result)


def test_the_python_pipeline_answers_as_export_recorded(reranker_dir: Path, bpe_dir: Path) -> None:
    pipeline = TextPipeline.open(reranker_dir, "onnx")
    labels = pipeline.classify([("Is the VPN down?", "The VPN drops every few minutes.")])
    assert [name for name, _ in labels[0]] in (["relevant", "irrelevant"], ["irrelevant", "relevant"])
    assert abs(sum(score for _, score in labels[0]) - 1.0) < 1e-5
    embedder = TextPipeline.open(bpe_dir, "onnx")
    texts = [text for _, text in corpus.TEXTS] * 2  # more than the batch max (16): the pipeline splits
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), 24) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    recorded = load_text(bpe_dir, read_manifest(bpe_dir)).cases[0]
    assert np.allclose(vectors[: len(recorded["items"])], np.asarray(recorded["reference"]["vector"]), atol=1e-5)


def test_left_padding_and_a_bpe_pad_token_are_the_tokenizers_own(bpe_dir: Path) -> None:
    manifest = manifest_of(bpe_dir)
    assert manifest["text"]["tokenizer"]["padding_side"] == "left" and manifest["text"]["tokenizer"]["pad_id"] == 1  # <pad>
    case = load_text(bpe_dir, manifest).cases[0]
    mask = np.asarray(case["inputs"]["attention_mask"])
    assert (mask[:, -1] == 1).all() and (mask[:, 0] == 0).any()  # every text ends at the right edge


@pytest.mark.parametrize("vector", json.loads(VECTORS.read_text())["cases"], ids=lambda v: repr(v["text"])[:24])
def test_text_problems_are_worded_as_the_java_side_words_them(vector: dict) -> None:
    assert text_problem(vector["index"], vector["text"], vector["max_bytes"]) == vector["problem"]


def test_bad_texts_get_one_line_and_nothing_runs(reranker_dir: Path, bpe_dir: Path) -> None:
    pipeline = TextPipeline.open(bpe_dir, "onnx")
    for texts, words in (([], "no texts given"), (["ok", "bad \ud800"], "text 1 holds an unpaired UTF-16 surrogate"),
                         (["x" * 20000], "20000 bytes of UTF-8, over the model's max_text_bytes 16384"),
                         ([("a", "b")], "text 0 is a pair: this model takes single texts")):
        with pytest.raises(TextError, match=words.replace("(", r"\(").replace(")", r"\)")):
            pipeline.embed(texts)
    with pytest.raises(TextError, match="this model takes \\(first, second\\) pairs"):
        TextPipeline.open(reranker_dir, "onnx").classify(["not a pair"])


@pytest.mark.parametrize(("change", "words"), [
    ({"max_length": 512}, "the tokenizer's max_length 512 exceeds the model's seq box max 64 (seq)"),
    ({"fills": {"input_ids": "ids"}}, "inputs ['attention_mask'] are not filled by the tokenizer"),
    ({"postprocess": ["l2_normalize", "mean_pool"]}, "a pool (mean_pool, cls_pool) comes once, first"),
    ({"postprocess": ["cls_pool"], "padding_side": "left"}, "cls_pool reads position 0"),
    ({"labels": ["a"]}, "labels name top_k's answers"),
])
def test_a_text_spec_that_cannot_hold_is_refused_at_export_naming_both_sides(change: dict, words: str) -> None:
    from exporters.spec import SpecError

    from tests.text_models import bpe_embedder

    spec = bpe_embedder()
    spec.name = "bpe_embedder"
    for key, value in change.items():
        setattr(spec.text, key, value)
    with pytest.raises(SpecError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        spec.validate()


def test_a_tokenizer_with_more_ids_than_the_embedding_is_refused_at_export(tmp_path: Path) -> None:
    done = run_cli("exporters", "export", "tests.text_models:too_many_ids", "-f", "onnx", "--out", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the tokenizer has" in done.stderr and "takes 0..99 (nn.Embedding tokens, 100 rows)" in done.stderr, done.stderr
    assert not (tmp_path / "too_many_ids").exists()


def test_the_example_service_answers_text_as_the_python_pipeline_does(reranker_dir: Path, tmp_path: Path) -> None:
    """jvm_harness/example/ModelService.java serves a text model's /text: several clients send pairs, every answer
    (scores and labels) equals the Python pipeline's for the same request; bad texts are 400; SIGTERM exits 143."""
    import random
    import threading

    from test_service import Service

    python = TextPipeline.open(reranker_dir, "onnx")
    service = Service("onnxruntime", reranker_dir, "onnx", "onnxruntime-java", tmp_path)
    pool = [list(pair) for _, pair in corpus.PAIRS] + [[a, b] for (_, a), (_, b) in zip(corpus.TEXTS, corpus.TEXTS[3:])]
    outcome = {"ok": 0, "wrong": []}
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(15):
            pairs = [rng.choice(pool) for _ in range(rng.randrange(1, 20))]
            status, answer = service.post_text({"pairs": pairs})
            want = python.classify(pairs)
            got = [[(label["name"], label["score"]) for label in row] for row in answer.get("labels", [])]
            right = status == 200 and [[n for n, _ in row] for row in got] == [[n for n, _ in row] for row in want] and np.allclose(
                [[s for _, s in row] for row in got], [[s for _, s in row] for row in want], atol=1e-6)
            with lock:
                if right:
                    outcome["ok"] += 1
                else:
                    outcome["wrong"].append((status, answer, want))

    try:
        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(4)]
        [thread.start() for thread in threads]
        [thread.join() for thread in threads]
        assert outcome["ok"] == 60 and not outcome["wrong"], outcome["wrong"][:1]
        status, answer = service.post_text({"pairs": [["fine", "bad \ud800"]]})
        assert status == 400 and answer["error"].startswith("text 0 holds an unpaired UTF-16 surrogate (U+D800) at char 4")
        status, answer = service.post_text({"texts": ["a single text"]})
        assert (status, answer["error"]) == (400, "this model takes (first, second) pairs")
    finally:
        code, stderr = service.stop()
    assert code == 143, stderr
