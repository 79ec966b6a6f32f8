"""Train the polarity head on real sentiment labels, on top of the emotion encoder.

The head is a multinomial logistic regression (negative / neutral / positive) over the
encoder's pooled vector and its 28 emotion probabilities, so one encoder pass serves
both heads. Its training data mixes five sources with different registers:

- GoEmotions train, folded by the paper's sentiment grouping (Reddit comments);
- TweetEval sentiment val, first half (tweets);
- app_reviews, 80 % by review id, stars 1-2 negative and 4-5 positive (reviews);
- the 3-star reviews of the same 80 %, as neutral (``app_reviews_3star``);
- nhs_fft, 80 % by comment id, labelled sentiment 1-2 positive, 3 neutral, 4-5
  negative (survey comments).

Each source carries a total weight (:class:`PolarityConfig`), whatever its size. The
weights were picked by :func:`tune_polarity_head`, which splits every source's
*training* part once more and scores candidates on that inner split, so the held-back
parts stay unseen until the final report. The held-back parts of each source are the
evaluation sets reported in ``meta.json``; ``airline_tweets`` is never trained on and
stays an outside check for the service.

Rebuild only the head on the shipped encoder with ``feedback-miner train polarity``
(add ``--tune`` to pick the weights again); ``feedback-miner train emotions`` fits it
as step 4 of a full build.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nlp.labels import EMOTIONS, NEGATIVE_EMOTIONS, POSITIVE_EMOTIONS
from nlp.sentiment import POLARITY_CLASSES
from training.data import read_goemotions, shared_data_dir

__all__ = [
    "TUNING_GRID",
    "PolarityConfig",
    "PolaritySet",
    "StarReview",
    "app_reviews",
    "cached_features",
    "fit_mixed_min",
    "fit_polarity_head",
    "goemotions_four_way",
    "inner_split",
    "polarity_sets",
    "tune_polarity_head",
]

logger = logging.getLogger(__name__)

_NEG, _NEU, _POS = (
    POLARITY_CLASSES.index(c) for c in ("negative", "neutral", "positive")
)
_TARGET = "app_reviews"

Features = Callable[[list[str]], np.ndarray]


def _default_weights() -> dict[str, float]:
    # Chosen by tune_polarity_head (see training.polarity in meta.json).
    return {"app_reviews": 2.0, "app_reviews_3star": 0.0}


@dataclass
class PolarityConfig:
    """Options of a polarity-head fit, written into ``meta.json`` beside the head.

    Attributes:
        c: Inverse strength of the logistic regression's L2 penalty.
        goemotions_limit: GoEmotions train texts used; ``None`` for all of them.
        source_weights: Total weight of each source by name; a source not named
            weighs 1 and a weight of 0 leaves the source out of the fit.
        seed: Seed of the solver.
    """

    c: float = 0.5
    goemotions_limit: int | None = None
    source_weights: dict[str, float] = field(default_factory=_default_weights)
    seed: int = 13


# Candidates of tune_polarity_head: the reviews' weight against the other sources
# (1 each), and how much 3-star reviews weigh as neutral (0: left out). The first,
# every source alike and no 3-star reviews, is the reference.
TUNING_GRID: tuple[dict[str, float], ...] = tuple(
    {"app_reviews": app, "app_reviews_3star": three}
    for app in (1.0, 2.0, 3.0, 4.0)
    for three in (0.0, 0.3, 0.6)
)


@dataclass(frozen=True)
class StarReview:
    """One app review with its star rating (1 to 5)."""

    review_id: str
    text: str
    stars: int


@dataclass(frozen=True)
class PolaritySet:
    """Texts with polarity class ids, split into a train and an evaluation part."""

    name: str
    train_texts: list[str]
    train_y: list[int]
    eval_texts: list[str]
    eval_y: list[int]


def polarity_sets(
    data_dir: Path | None = None, *, goemotions_limit: int | None = 15000
) -> list[PolaritySet]:
    """Load the five polarity sources with their fixed train/eval splits.

    Args:
        data_dir: The shared data folder (default: ``../shared/data``).
        goemotions_limit: GoEmotions train texts kept; ``None`` for all.
    """
    data_dir = data_dir or shared_data_dir()
    train, held_out = app_reviews(data_dir)
    return [
        _goemotions_set(data_dir, goemotions_limit),
        _tweeteval_set(data_dir),
        _stars_set("app_reviews", train, held_out, stars=(1, 2, 4, 5)),
        _stars_set("app_reviews_3star", train, held_out, stars=(3,)),
        _nhs_set(data_dir),
    ]


def app_reviews(
    data_dir: Path | None = None,
) -> tuple[list[StarReview], list[StarReview]]:
    """Read every non-blank app review, split 80/20 by a hash of its review id.

    The split is the one the head trains and is evaluated on, so a benchmark that
    takes the second list sees no row the head was fitted or tuned on.

    Args:
        data_dir: The shared data folder (default: ``../shared/data``).

    Returns:
        The training part and the held-out part, every star count included.
    """
    data_dir = data_dir or shared_data_dir()
    train: list[StarReview] = []
    held_out: list[StarReview] = []
    for path in sorted((data_dir / "app_reviews").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                text = record["content"] or ""
                if not text.strip():
                    continue
                review = StarReview(record["reviewId"], text, int(record["score"]))
                (train if _in_train(review.review_id) else held_out).append(review)
    return train, held_out


def cached_features(features: Features) -> Features:
    """Wrap a feature function so that each distinct text is encoded once.

    Tuning fits many candidates on the same texts; the encoder pass is the cost.
    """
    store: dict[str, np.ndarray] = {}

    def lookup(texts: list[str]) -> np.ndarray:
        if not texts:
            return features([])
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        if missing:
            store.update(zip(missing, features(missing), strict=True))
        return np.vstack([store[t] for t in texts])

    return lookup


def fit_polarity_head(
    features: Features,
    sets: Sequence[PolaritySet],
    config: PolarityConfig | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the logistic-regression head and score it on each set's evaluation part.

    Args:
        features: Maps texts to the head's input features (pooled vector and probs).
        sets: The sources, from :func:`polarity_sets`.
        config: Regularisation, source weights and seed (default: the tuned ones).

    Returns:
        The head's parameters (for ``meta.json``) and per-set evaluation figures.
    """
    from sklearn.linear_model import LogisticRegression

    config = config or PolarityConfig()
    x_train, y_train, weights = _training_rows(features, sets, config)
    mean = x_train.mean(axis=0)
    scale = x_train.std(axis=0) + 1e-6
    classifier = LogisticRegression(C=config.c, max_iter=2000, random_state=config.seed)
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
        if part.eval_texts:
            scores = features(part.eval_texts)
            predicted = classifier.predict((scores - mean) / scale)
            report[part.name] = _scores(part.eval_y, predicted)
    return head, report


def inner_split(sets: Sequence[PolaritySet], share: float = 0.8) -> list[PolaritySet]:
    """Split each source's *training* part again, into a fit and a validation part.

    The held-back evaluation parts are dropped, so nothing tuned on the result has
    seen them. Rows go by a salted hash of their position, stable across runs.
    """
    result = []
    for part in sets:
        keys = [
            _in_train(f"tune:{part.name}:{i}", share) for i in range(len(part.train_y))
        ]
        rows = list(zip(part.train_texts, part.train_y, strict=True))
        fit = [row for row, keep in zip(rows, keys, strict=True) if keep]
        val = [row for row, keep in zip(rows, keys, strict=True) if not keep]
        result.append(
            PolaritySet(
                name=part.name,
                train_texts=[t for t, _ in fit],
                train_y=[y for _, y in fit],
                eval_texts=[t for t, _ in val],
                eval_y=[y for _, y in val],
            )
        )
    return result


def tune_polarity_head(
    features: Features,
    sets: Sequence[PolaritySet],
    base: PolarityConfig | None = None,
    grid: Sequence[dict[str, float]] = TUNING_GRID,
    *,
    tolerance: float = 0.01,
) -> tuple[PolarityConfig, list[dict[str, Any]]]:
    """Pick the source weights on an inner split of the training parts.

    Each candidate is fitted on the inner fit part and scored on the inner
    validation part (:func:`inner_split`). The winner has the highest accuracy on
    the app reviews among the candidates whose *others* figure (the mean macro-F1
    of the other sources with more than one class) is within ``tolerance`` of the
    first candidate's, so agreement with the stars is not bought by giving up the
    other registers. The first candidate is the reference and is always eligible.

    Args:
        features: As for :func:`fit_polarity_head` (wrap it in
            :func:`cached_features`: every candidate scores the same texts).
        sets: The sources, from :func:`polarity_sets`.
        base: The options the candidates start from.
        grid: Source weights to try, each merged into ``base.source_weights``;
            the first is the reference.
        tolerance: How far below the reference the others figure may fall.

    Returns:
        The chosen candidate's options and one row of figures per candidate.
    """
    base = base or PolarityConfig()
    inner = inner_split(sets)
    table: list[dict[str, Any]] = []
    for weights in grid:
        config = replace(base, source_weights={**base.source_weights, **weights})
        _, report = fit_polarity_head(features, inner, config)
        others = [
            figures["macro_f1"]
            for name, figures in report.items()
            if name != _TARGET and "macro_f1" in figures
        ]
        row = {
            "source_weights": weights,
            "target_accuracy": report[_TARGET]["accuracy"],
            "others_macro_f1": float(np.mean(others)) if others else 0.0,
            "inner": report,
        }
        table.append(row)
        logger.info(
            "candidate %s: %s accuracy %.4f, others macro-F1 %.4f",
            weights,
            _TARGET,
            row["target_accuracy"],
            row["others_macro_f1"],
        )
    floor = table[0]["others_macro_f1"] - tolerance
    eligible = [row for row in table if row["others_macro_f1"] >= floor]
    best = max(eligible, key=lambda row: row["target_accuracy"])
    chosen = {**base.source_weights, **best["source_weights"]}
    return replace(base, source_weights=chosen), table


def _training_rows(
    features: Features, sets: Sequence[PolaritySet], config: PolarityConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x_parts, y_parts, w_parts = [], [], []
    for part in sets:
        total = config.source_weights.get(part.name, 1.0)
        if total <= 0 or not part.train_texts:
            continue
        x_parts.append(features(part.train_texts))
        y_parts.append(np.asarray(part.train_y))
        # A source's weight is its total, whatever its size.
        w_parts.append(np.full(len(part.train_y), total / len(part.train_y)))
        logger.info("polarity source %s: %d train texts", part.name, len(part.train_y))
    weights = np.concatenate(w_parts)
    # Scaled to a mean of 1, so the penalty means the same for any weighting.
    return np.concatenate(x_parts), np.concatenate(y_parts), weights / weights.mean()


def _scores(gold: list[int], predicted: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    figures: dict[str, Any] = {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, predicted)),
    }
    if len(set(gold)) > 1:
        # Over the classes in gold or predictions, as meta.json always reported.
        figures["macro_f1"] = float(f1_score(gold, predicted, average="macro"))
    return figures


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


def _goemotions_set(data_dir: Path, limit: int | None) -> PolaritySet:
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


def _stars_set(
    name: str,
    train: list[StarReview],
    held_out: list[StarReview],
    *,
    stars: tuple[int, ...],
) -> PolaritySet:
    kept = [r for r in train if r.stars in stars]
    held = [r for r in held_out if r.stars in stars]
    return PolaritySet(
        name=name,
        train_texts=[r.text for r in kept],
        train_y=[_star_polarity(r.stars) for r in kept],
        eval_texts=[r.text for r in held],
        eval_y=[_star_polarity(r.stars) for r in held],
    )


def _star_polarity(stars: int) -> int:
    return _NEG if stars <= 2 else _NEU if stars == 3 else _POS


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
        # A sample with no mixed text (gold or predicted) has a mixed F1 of 0.
        mixed_f1 = float(
            f1_score(
                gold, predicted, labels=["mixed"], average="macro", zero_division=0.0
            )
        )
        if macro > best[0]:
            best = (macro, float(candidate), mixed_f1)
    macro, chosen, mixed_f1 = best
    return chosen, {
        "four_way_macro_f1": macro,
        "mixed_f1": mixed_f1,
        "mixed_support": int(sum(g == "mixed" for g in gold)),
    }
