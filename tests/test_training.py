"""Training code on tiny data: the model overfits, exports, and loads back.

Fine-tuning runs on 24 rows for a few steps, so this stays under a minute on two
cores; the real run is ``feedback-miner train emotions``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nlp.artifact import load_artifact
from nlp.emotions import EmotionModel
from nlp.labels import EMOTIONS
from training.data import read_goemotions
from training.errors import DataError

torch = pytest.importorskip("torch")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def overfit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.finetune import FinetuneConfig, finetune

    sample = FIXTURES / "goemotions_sample.tsv"
    out = tmp_path_factory.mktemp("overfit")
    config = FinetuneConfig(
        train_path=str(sample),
        dev_path=str(sample),
        epochs=8,
        batch_size=4,
        body_lr=2e-4,
        head_lr=2e-2,
        warmup_share=0.0,
    )
    finetune(config, out)
    return out


def test_finetune_overfits_a_tiny_set(overfit_dir: Path) -> None:
    summary = json.loads((overfit_dir / "finetune.json").read_text())
    losses = [epoch["train_loss"] for epoch in summary["history"]]
    assert losses[-1] < 0.5 * losses[0]
    assert summary["history"][-1]["dev_macro_f1_tuned"] > 0.3


def test_export_round_trip_matches_torch_and_is_batch_invariant(
    overfit_dir: Path, tmp_path: Path
) -> None:
    from nlp.encoder import base_model_dir
    from training.emotions import BuildConfig, _neutral_meta, _write_meta
    from training.export import export_onnx
    from training.finetune import emotion_model_class, predict_probs

    texts = read_goemotions(FIXTURES / "goemotions_sample.tsv").texts
    export_onnx(overfit_dir / "best.pt", tmp_path, texts)
    _write_meta(tmp_path, BuildConfig(), _neutral_meta(), metrics={})
    onnx_model = EmotionModel(load_artifact(tmp_path), threads=1)

    together = onnx_model.encode(texts).probs
    alone = np.vstack([onnx_model.encode([t]).probs for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)

    model = emotion_model_class().from_base(base_model_dir())
    model.load_state_dict(torch.load(overfit_dir / "best.pt"))
    tokenizer = onnx_model._tokenizer
    reference = predict_probs(model, [e.ids for e in tokenizer.encode_batch(texts)])
    # int8 weights and activations: close to the float model, not equal.
    assert np.abs(reference - together).mean() < 0.03
    assert together.shape == (len(texts), len(EMOTIONS))


def test_read_goemotions_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("fine\t1\tid1\nbroken\tx,2\tid2\n")
    with pytest.raises(DataError) as info:
        read_goemotions(path)
    assert str(info.value) == (
        f"{path}:2: expected comma-separated label ids in column 2, got 'x,2'"
    )


# Re-quantisation from an int8 graph's own weights (training.requantize), on a tiny
# encoder-shaped graph: a word-embedding lookup, two weight MatMuls, masked mean.


def _tiny_float_graph(path: Path) -> None:
    import torch

    from training.export import export_module

    torch.manual_seed(0)

    class _Embeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = torch.nn.Embedding(30, 16)

    class _Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = _Embeddings()
            self.dense = torch.nn.Linear(16, 32)
            self.output = torch.nn.Linear(32, 16)
            self.head = torch.nn.Linear(16, 4)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.embeddings.word_embeddings(input_ids)
            hidden = self.output(torch.nn.functional.gelu(self.dense(hidden)))
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return self.head(pooled)

    export_module(_Tiny().eval(), path, output_names=["logits"])


def _tiny_ids() -> list[list[int]]:
    rng = np.random.default_rng(0)
    return [rng.integers(1, 30, size=n).tolist() for n in (3, 9, 5, 12, 7, 4, 10, 6)]


def _quantize_qdq(fp32_path: Path, int8_path: Path, ids: list[list[int]]) -> None:
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    from training.export import _CalibrationReader, _weight_nodes

    quantize_static(
        str(fp32_path),
        str(int8_path),
        _CalibrationReader(ids),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_quantize=_weight_nodes(onnx.load(str(fp32_path))),
    )


def _quantize_qoperator(fp32_path: Path, int8_path: Path, ids: list[list[int]]) -> None:
    from training.export import quantize_int8

    quantize_int8(fp32_path, int8_path, ids)


def _logits(path: Path, rows: list[list[int]]) -> np.ndarray:
    from nlp.encoder import open_session, pad_ids

    input_ids, mask = pad_ids(rows)
    session = open_session(path, threads=1)
    feed = {"input_ids": input_ids, "attention_mask": mask}
    return np.asarray(session.run(["logits"], feed)[0])


def _integer_weights(path: Path) -> dict[str, np.ndarray]:
    # Each integer weight of a quantised graph as (q - zero_point) * scale, computed
    # here independently of training.requantize, keyed by the float weight's name.
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights = {}
    for name, q in arrays.items():
        if not name.endswith("_quantized") or q.dtype not in (np.int8, np.uint8):
            continue
        base = name.removesuffix("_quantized")
        scale = arrays[f"{base}_scale"].astype(np.float32)
        zero = arrays[f"{base}_zero_point"].astype(np.int32)
        if q.ndim == 2 and scale.size > 1:  # per output channel: columns of B
            scale, zero = scale[None, :], zero[None, :]
        weights[base] = (q.astype(np.int32) - zero).astype(np.float32) * scale
    return weights


@pytest.mark.parametrize("quantize", [_quantize_qoperator, _quantize_qdq])
def test_dequantize_model_restores_the_int8_weights_exactly(
    quantize: Any, tmp_path: Path
) -> None:
    import onnx
    from onnx import numpy_helper

    from training.requantize import dequantize_model

    _tiny_float_graph(tmp_path / "fp32.onnx")
    quantize(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", _tiny_ids())
    dequantize_model(tmp_path / "int8.onnx", tmp_path / "dequantized.onnx")

    expected = _integer_weights(tmp_path / "int8.onnx")
    model = onnx.load(str(tmp_path / "dequantized.onnx"))
    restored = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    # Two MatMul weights and the word-embedding table.
    assert len(expected) == 3
    for name, weight in expected.items():
        np.testing.assert_array_equal(restored[name], weight)
    assert not {n.op_type for n in model.graph.node} & {
        "QLinearMatMul",
        "QuantizeLinear",
        "DequantizeLinear",
    }
    # Float activations on int8-grid weights: near the int8 graph, not equal to it.
    rows = _tiny_ids()
    int8_logits = _logits(tmp_path / "int8.onnx", rows)
    float_logits = _logits(tmp_path / "dequantized.onnx", rows)
    assert np.abs(int8_logits - float_logits).max() < 0.1


def test_quantize_int8_keeps_weights_within_seven_bits(tmp_path: Path) -> None:
    import onnx
    from onnx import numpy_helper

    from training.export import quantize_int8

    _tiny_float_graph(tmp_path / "fp32.onnx")
    quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", _tiny_ids())

    model = onnx.load(str(tmp_path / "int8.onnx"))
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    products = [n for n in model.graph.node if n.op_type == "QLinearMatMul"]
    assert len(products) == 2
    for node in products:
        weight = arrays[node.input[3]].astype(np.int32) - arrays[node.input[5]]
        # uint8 x int8 pairs summed in int16 (AVX2 without VNNI) cannot saturate.
        assert 255 * np.abs(weight).max() * 2 <= 32767


def test_requantized_model_runs_and_is_batch_invariant(tmp_path: Path) -> None:
    from training.export import quantize_int8
    from training.requantize import dequantize_model

    _tiny_float_graph(tmp_path / "fp32.onnx")
    ids = _tiny_ids()
    quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", ids)
    dequantize_model(tmp_path / "int8.onnx", tmp_path / "dequantized.onnx")
    quantize_int8(tmp_path / "dequantized.onnx", tmp_path / "requantized.onnx", ids)

    together = _logits(tmp_path / "requantized.onnx", ids)
    alone = np.vstack([_logits(tmp_path / "requantized.onnx", [row]) for row in ids])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    reference = _logits(tmp_path / "dequantized.onnx", ids)
    assert np.abs(together - reference).max() < 0.1


def test_requantize_artifact_refits_thresholds_and_keeps_the_rest(
    overfit_dir: Path, tmp_path: Path
) -> None:
    from training.emotions import BuildConfig, _neutral_meta, _write_meta
    from training.export import export_onnx
    from training.requantize import RequantizeConfig, requantize_artifact

    sample = FIXTURES / "goemotions_sample.tsv"
    texts = read_goemotions(sample).texts
    source, out = tmp_path / "source", tmp_path / "requantized"
    export_onnx(overfit_dir / "best.pt", source, texts)
    _write_meta(source, BuildConfig(), _neutral_meta(), metrics={})
    config = RequantizeConfig(str(source), str(out), dev_path=str(sample))

    dev = requantize_artifact(config, calibration=texts)

    old = json.loads((source / "meta.json").read_text())
    new = json.loads((out / "meta.json").read_text())
    assert new["metrics"]["dev"] == dev and dev["n"] == len(texts)
    assert list(new["thresholds"]) == list(EMOTIONS)
    assert new["polarity"] == old["polarity"]
    assert new["training"]["requantize"]["source"] == str(source)
    model = EmotionModel(load_artifact(out), threads=1)
    together = model.encode(texts).probs
    alone = np.vstack([model.encode([t]).probs for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_requantize_artifact_refuses_to_overwrite_its_source(tmp_path: Path) -> None:
    from training.errors import ConfigError
    from training.requantize import RequantizeConfig, requantize_artifact

    with pytest.raises(ConfigError) as info:
        requantize_artifact(RequantizeConfig(str(tmp_path), str(tmp_path)))
    assert str(info.value) == (
        f"out_dir must differ from the source artifact, got {str(tmp_path)!r} for "
        "both; write to a new folder and swap it in once checked"
    )


# The polarity head (training.polarity, training.emotions.refit_polarity) on a tiny
# data folder laid out like ../shared/data, written here row by row.

_WORDS = {0: "awful broken", 1: "scheduled for monday", 2: "love it great"}


def _tiny_data_dir(root: Path) -> Path:
    data = root / "data"
    goemotions = data / "goemotions"
    goemotions.mkdir(parents=True)
    sample = (FIXTURES / "goemotions_sample.tsv").read_text(encoding="utf-8")
    (goemotions / "train.tsv").write_text(sample, encoding="utf-8")
    dev = "".join(f"Dev: {line}\n" for line in sample.splitlines())
    (goemotions / "dev.tsv").write_text(dev, encoding="utf-8")

    tweets = data / "tweeteval-sentiment"
    tweets.mkdir()
    labels = [i % 3 for i in range(12)]
    lines = [f"tweet {i} {_WORDS[y]}" for i, y in enumerate(labels)]
    (tweets / "val_text.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tweets / "val_labels.txt").write_text("\n".join(map(str, labels)) + "\n")

    reviews = data / "app_reviews"
    reviews.mkdir()
    rows = ["reviewId,content,score"]
    for i in range(60):
        stars = 1 + i % 5
        word = _WORDS[0 if stars <= 2 else 1 if stars == 3 else 2]
        rows.append(f"id-{i},review {i} {word},{stars}")
    rows.append("id-blank,,5")
    (reviews / "Tiny.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    nhs = data / "nhs_fft"
    nhs.mkdir()
    rows = ["Comment ID,FFT answer,Comment sentiment"]
    for i in range(30):
        sentiment = 1 + i % 5  # 1-2 positive, 3 neutral, 4-5 negative
        word = _WORDS[2 if sentiment <= 2 else 1 if sentiment == 3 else 0]
        rows.append(f"c{i},comment {i} {word},{sentiment}")
    (nhs / "comments.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data


def _word_features(calls: list[list[str]] | None = None) -> Any:
    # Three word-count features and a constant: enough for the head to separate.
    def features(texts: list[str]) -> np.ndarray:
        if calls is not None:
            calls.append(list(texts))
        rows = [[float(w in t) for w in ("awful", "monday", "love")] for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), 3)

    return features


def test_app_reviews_split_by_review_id_keeps_every_star(tmp_path: Path) -> None:
    from training.polarity import app_reviews, polarity_sets

    data = _tiny_data_dir(tmp_path)
    train, held_out = app_reviews(data)
    assert sorted(r.review_id for r in train + held_out) == sorted(
        f"id-{i}" for i in range(60)
    )
    assert train and held_out
    assert {r.review_id for r in train}.isdisjoint(r.review_id for r in held_out)
    assert app_reviews(data) == (train, held_out)  # stable across reads

    sets = {s.name: s for s in polarity_sets(data, goemotions_limit=None)}
    rated = [r for r in held_out if r.stars != 3]
    assert sets["app_reviews"].eval_texts == [r.text for r in rated]
    assert set(sets["app_reviews"].train_y) == {0, 2}
    assert set(sets["app_reviews_3star"].train_y) == {1}


def test_fit_polarity_head_leaves_out_a_source_of_weight_zero(tmp_path: Path) -> None:
    from training.polarity import PolarityConfig, fit_polarity_head, polarity_sets

    sets = polarity_sets(_tiny_data_dir(tmp_path), goemotions_limit=None)
    calls: list[list[str]] = []
    config = PolarityConfig(source_weights={"nhs_fft": 0.0})
    head, report = fit_polarity_head(_word_features(calls), sets, config)

    nhs = next(s for s in sets if s.name == "nhs_fft")
    requested = {t for call in calls for t in call}
    assert requested.isdisjoint(nhs.train_texts)
    assert set(report) == {s.name for s in sets}
    assert report["app_reviews"]["accuracy"] == 1.0
    assert "macro_f1" not in report["app_reviews_3star"]  # one gold class
    assert np.asarray(head["coef"]).shape == (3, 3)


def test_tune_polarity_head_never_sees_the_held_out_rows(tmp_path: Path) -> None:
    from training.polarity import polarity_sets, tune_polarity_head

    sets = polarity_sets(_tiny_data_dir(tmp_path), goemotions_limit=None)
    calls: list[list[str]] = []
    grid = [{"app_reviews": 1.0}, {"app_reviews": 3.0}]
    config, table = tune_polarity_head(_word_features(calls), sets, grid=grid)

    held_out = {t for s in sets for t in s.eval_texts}
    assert held_out.isdisjoint(t for call in calls for t in call)
    assert [row["source_weights"] for row in table] == grid
    assert config.source_weights["app_reviews"] in (1.0, 3.0)


def test_cached_features_encodes_each_text_once() -> None:
    from training.polarity import cached_features

    calls: list[list[str]] = []
    features = cached_features(_word_features(calls))
    first = features(["love it", "awful", "love it"])
    second = features(["awful", "monday"])
    assert calls == [["love it", "awful"], ["monday"]]
    np.testing.assert_array_equal(first[1], second[0])
    assert features([]).shape == (0, 3)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("emotion-head.v1", "emotion-head.v1.1"),
        ("emotion-head.v1.1", "emotion-head.v1.2"),
        ("emotion-head.v2.9", "emotion-head.v2.10"),
    ],
)
def test_next_version_moves_the_minor_number(version: str, expected: str) -> None:
    from training.emotions import next_version

    assert next_version(version) == expected


def test_next_version_refuses_a_version_without_a_number() -> None:
    from training.emotions import next_version
    from training.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        next_version("latest")
    assert str(info.value) == (
        "cannot derive the next version from 'latest': expected a name ending in "
        "'.v<N>' or '.v<N>.<M>'; pass --version instead"
    )


def test_refit_polarity_replaces_only_the_head_and_moves_the_version(
    tmp_path: Path,
) -> None:
    import shutil

    from nlp.analysis import Analyzer
    from nlp.artifact import default_artifact_dir
    from training.emotions import next_version, refit_polarity
    from training.polarity import PolarityConfig

    folder = tmp_path / "artifact"
    shutil.copytree(default_artifact_dir(), folder)
    before = json.loads((folder / "meta.json").read_text())
    config = PolarityConfig(goemotions_limit=None, source_weights={"app_reviews": 2.0})

    report = refit_polarity(folder, config, data_dir=_tiny_data_dir(tmp_path))

    after = json.loads((folder / "meta.json").read_text())
    assert after["version"] == next_version(before["version"])
    assert after["polarity"] != before["polarity"]
    assert 0.0 <= after["polarity"]["mixed_min"] <= 0.5
    assert after["metrics"]["polarity"] == report
    assert after["training"]["polarity"]["source_weights"] == {"app_reviews": 2.0}
    for key in ("format", "labels", "thresholds", "cs_thresholds", "max_tokens"):
        assert after[key] == before[key]
    assert after["metrics"]["dev"] == before["metrics"]["dev"]
    analyzer = Analyzer.load(folder, threads=1)
    assert analyzer.model_version == after["version"]
    assert analyzer.analyze("love it great").polarity is not None
