"""Training code on tiny data: the model overfits, exports, and loads back.

Fine-tuning runs on 24 rows for a few steps, so this stays under a minute on two
cores; the real run is ``feedback-miner train emotions``.
"""

from __future__ import annotations

import json
from pathlib import Path

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
