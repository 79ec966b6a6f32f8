"""Train the polarity head on real sentiment labels, on top of the emotion encoder.

The head is a multinomial logistic regression (negative / neutral / positive) over the
encoder's pooled vector and its 28 emotion probabilities, so one encoder pass serves
both heads. Its training data mixes four sources with different registers:

- GoEmotions train, folded by the paper's sentiment grouping (Reddit comments);
- TweetEval sentiment val, first half (tweets);
- app_reviews, 80 % by review id, stars 1-2 negative and 4-5 positive (reviews);
- nhs_fft, 80 % by comment id, labelled sentiment 1-2 positive, 3 neutral, 4-5
  negative (survey comments).

The held-back parts of each source are the evaluation sets reported in ``meta.json``;
``airline_tweets`` is never trained on and stays an outside check for the service.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.labels import EMOTIONS, NEGATIVE_EMOTIONS, POSITIVE_EMOTIONS
from nlp.sentiment import POLARITY_CLASSES
from training.data import read_goemotions, shared_data_dir

__all__ = [
    "PolaritySet",
    "fit_mixed_min",
    "fit_polarity_head",
    "goemotions_four_way",
    "polarity_sets",
]

logger = logging.getLogger(__name__)

_NEG, _NEU, _POS = (
    POLARITY_CLASSES.index(c) for c in ("negative", "neutral", "positive")
)


@dataclass(frozen=True)
class PolaritySet:
    """Texts with polarity class ids, split into a train and an evaluation part."""

    name: str
    train_texts: list[str]
    train_y: list[int]
    eval_texts: list[str]
    eval_y: list[int]


def polarity_sets(
    data_dir: Path | None = None, *, goemotions_limit: int = 15000
) -> list[PolaritySet]:
    """Load the four polarity sources with their fixed train/eval splits."""
    data_dir = data_dir or shared_data_dir()
    return [
        _goemotions_set(data_dir, goemotions_limit),
        _tweeteval_set(data_dir),
        _app_reviews_set(data_dir),
        _nhs_set(data_dir),
    ]


def fit_polarity_head(
    features: Callable[[list[str]], np.ndarray],
    sets: list[PolaritySet],
    *,
    seed: int = 13,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the logistic-regression head and score it on each set's evaluation part.

    Args:
        features: Maps texts to the head's input features (pooled vector and probs).
        sets: The sources, from :func:`polarity_sets`.
        seed: Seed of the solver.

    Returns:
        The head's parameters (for ``meta.json``) and per-set evaluation figures.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    x_parts, y_parts, w_parts = [], [], []
    for part in sets:
        x_parts.append(features(part.train_texts))
        y_parts.append(np.asarray(part.train_y))
        # Each source weighs the same in total, whatever its size.
        w_parts.append(np.full(len(part.train_y), 1.0 / len(part.train_y)))
        logger.info("polarity source %s: %d train texts", part.name, len(part.train_y))
    x_train = np.concatenate(x_parts)
    y_train = np.concatenate(y_parts)
    weights = np.concatenate(w_parts) * len(y_train) / len(sets)

    mean = x_train.mean(axis=0)
    scale = x_train.std(axis=0) + 1e-6
    classifier = LogisticRegression(C=0.5, max_iter=2000, random_state=seed)
    classifier.fit((x_train - mean) / scale, y_train, sample_weight=weights)
    head = {
        "classes": list(POLARITY_CLASSES),
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": classifier.coef_.round(6).tolist(),
        "intercept": classifier.intercept_.round(6).tolist(),
    }

    report: dict[str, Any] = {}
    for part in sets:
        predicted = classifier.predict((features(part.eval_texts) - mean) / scale)
        report[part.name] = {
            "n": len(part.eval_y),
            "accuracy": float(accuracy_score(part.eval_y, predicted)),
            "macro_f1": float(f1_score(part.eval_y, predicted, average="macro")),
        }
    return head, report


def _in_train(key: str, share: float = 0.8) -> bool:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def _split(name: str, rows: list[tuple[str, str, int]]) -> PolaritySet:
    train = [(t, y) for key, t, y in rows if _in_train(key)]
    held = [(t, y) for key, t, y in rows if not _in_train(key)]
    return PolaritySet(
        name=name,
        train_texts=[t for t, _ in train],
        train_y=[y for _, y in train],
        eval_texts=[t for t, _ in held],
        eval_y=[y for _, y in held],
    )


def _goemotions_set(data_dir: Path, limit: int) -> PolaritySet:
    pos = [EMOTIONS.index(e) for e in POSITIVE_EMOTIONS]
    neg = [EMOTIONS.index(e) for e in NEGATIVE_EMOTIONS]
    neutral = EMOTIONS.index("neutral")

    def fold(path: Path) -> tuple[list[str], list[int]]:
        data = read_goemotions(path)
        texts, labels = [], []
        for text, row in zip(data.texts, data.y, strict=True):
            has_pos, has_neg = bool(row[pos].any()), bool(row[neg].any())
            if has_pos != has_neg:
                texts.append(text)
                labels.append(_POS if has_pos else _NEG)
            elif row[neutral] and row.sum() == 1:
                texts.append(text)
                labels.append(_NEU)
        return texts, labels

    train_texts, train_y = fold(data_dir / "goemotions" / "train.tsv")
    eval_texts, eval_y = fold(data_dir / "goemotions" / "dev.tsv")
    return PolaritySet(
        "goemotions", train_texts[:limit], train_y[:limit], eval_texts, eval_y
    )


def _tweeteval_set(data_dir: Path) -> PolaritySet:
    folder = data_dir / "tweeteval-sentiment"
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [int(v) for v in (folder / "val_labels.txt").read_text().split()]
    # TweetEval ids: 0 negative, 1 neutral, 2 positive.
    mapped = [(_NEG, _NEU, _POS)[v] for v in labels]
    half = len(texts) // 2
    return PolaritySet(
        "tweeteval", texts[:half], mapped[:half], texts[half:], mapped[half:]
    )


def _app_reviews_set(data_dir: Path) -> PolaritySet:
    rows: list[tuple[str, str, int]] = []
    for path in sorted((data_dir / "app_reviews").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                stars, text = int(record["score"]), record["content"] or ""
                if stars != 3 and text.strip():
                    rows.append(
                        (record["reviewId"], text, _NEG if stars <= 2 else _POS)
                    )
    return _split("app_reviews", rows)


def _nhs_set(data_dir: Path) -> PolaritySet:
    rows: list[tuple[str, str, int]] = []
    path = data_dir / "nhs_fft" / "comments.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            text, label = record["FFT answer"] or "", record["Comment sentiment"]
            if text.strip() and label.strip():
                value = int(float(label))
                polarity = _POS if value <= 2 else _NEU if value == 3 else _NEG
                rows.append((record["Comment ID"], text, polarity))
    return _split("nhs_fft", rows)


def goemotions_four_way(path: Path) -> tuple[list[str], list[str]]:
    """Fold a GoEmotions file into four polarity classes, ``mixed`` included.

    A text with both a positive and a negative emotion is mixed; one with only
    ambiguous emotions (surprise, curiosity, ...) is left out.
    """
    data = read_goemotions(path)
    pos = [EMOTIONS.index(e) for e in POSITIVE_EMOTIONS]
    neg = [EMOTIONS.index(e) for e in NEGATIVE_EMOTIONS]
    neutral = EMOTIONS.index("neutral")
    texts, labels = [], []
    for text, row in zip(data.texts, data.y, strict=True):
        has_pos, has_neg = bool(row[pos].any()), bool(row[neg].any())
        label = (
            "mixed"
            if has_pos and has_neg
            else "positive"
            if has_pos
            else "negative"
            if has_neg
            else "neutral"
            if row[neutral]
            else None
        )
        if label:
            texts.append(text)
            labels.append(label)
    return texts, labels


def fit_mixed_min(
    probabilities: np.ndarray, gold: list[str]
) -> tuple[float, dict[str, float]]:
    """Pick the ``mixed_min`` that maximises four-class macro-F1.

    Args:
        probabilities: Head outputs, shape (n, 3), in POLARITY_CLASSES order.
        gold: Four-way gold labels.

    Returns:
        The chosen value and the figures at it (macro-F1, mixed F1, mixed support).
    """
    from sklearn.metrics import f1_score

    best: tuple[float, float, float] = (-1.0, 0.3, 0.0)
    for candidate in np.round(np.arange(0.10, 0.50, 0.02), 2):
        mixed = (probabilities[:, _NEG] >= candidate) & (
            probabilities[:, _POS] >= candidate
        )
        predicted = np.where(
            mixed, "mixed", np.asarray(POLARITY_CLASSES)[probabilities.argmax(axis=1)]
        )
        macro = float(f1_score(gold, predicted, average="macro"))
        mixed_f1 = float(f1_score(gold, predicted, labels=["mixed"], average="macro"))
        if macro > best[0]:
            best = (macro, float(candidate), mixed_f1)
    macro, chosen, mixed_f1 = best
    return chosen, {
        "four_way_macro_f1": macro,
        "mixed_f1": mixed_f1,
        "mixed_support": int(sum(g == "mixed" for g in gold)),
    }
