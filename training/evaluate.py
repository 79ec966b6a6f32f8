"""Evaluate the shipped analysis on labelled files, through the public entry point.

Both functions score texts with :class:`nlp.analysis.Analyzer`, exactly as the API
does, and return plain dicts that the CLI prints as JSON. A text the analyzer does not
score (flagged as non-English, or empty) counts as predicting no label.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nlp.analysis import Analysis, Analyzer
from nlp.labels import CS_VIEW, EKMAN, EMOTIONS, SENTIMENT_GROUPS, fold_labels
from nlp.sentiment import POLARITY_LABELS
from training.data import read_goemotions, read_labelled_csv
from training.errors import ConfigError
from training.metrics import macro_f1, micro_f1, per_label_scores

__all__ = ["evaluate_emotions", "evaluate_polarity", "parse_label_map"]


def evaluate_emotions(path: Path, analyzer: Analyzer) -> dict[str, Any]:
    """Score a GoEmotions-format TSV and return the emotion metrics.

    Returns:
        ``macro_f1`` and ``micro_f1`` over the 28 labels, ``per_label`` P/R/F1 and
        support, and macro-F1 of the Ekman grouping, the sentiment grouping and the
        CS view (with its own per-label table).
    """
    data = read_goemotions(path)
    started = time.perf_counter()
    analyses = analyzer.analyze_many(data.texts)
    seconds = time.perf_counter() - started

    predicted = _multi_hot([a.labels for a in analyses], EMOTIONS)
    cs_predicted = _multi_hot([a.cs_labels for a in analyses], tuple(CS_VIEW))
    cs_gold = fold_labels(data.y)
    return {
        "data": str(path),
        "n": len(data.texts),
        "unscored": sum(a.status != "scored" for a in analyses),
        "model_version": analyzer.model_version,
        "macro_f1": macro_f1(data.y, predicted),
        "micro_f1": micro_f1(data.y, predicted),
        "per_label": _table(EMOTIONS, data.y, predicted),
        "ekman_macro_f1": macro_f1(
            fold_labels(data.y, EKMAN), fold_labels(predicted, EKMAN)
        ),
        "sentiment_macro_f1": macro_f1(
            fold_labels(data.y, SENTIMENT_GROUPS),
            fold_labels(predicted, SENTIMENT_GROUPS),
        ),
        "cs_macro_f1": macro_f1(cs_gold, cs_predicted),
        "cs_per_label": _table(tuple(CS_VIEW), cs_gold, cs_predicted),
        "seconds": round(seconds, 2),
    }


def evaluate_polarity(
    path: Path,
    analyzer: Analyzer,
    *,
    text_column: str,
    label_column: str,
    label_map: Mapping[str, str],
) -> dict[str, Any]:
    """Score a CSV with text and label columns and return polarity agreement.

    Gold labels are mapped through ``label_map`` onto negative / neutral / positive /
    mixed; rows whose label is not in the map are skipped and counted. When the gold
    set has no ``mixed`` class, a ``mixed`` prediction is resolved by the sign of the
    score, since the gold labels forced the annotator to pick a side.

    Returns:
        ``accuracy``, ``macro_f1`` over the gold classes present, per-class P/R/F1,
        the confusion matrix, and counts.
    """
    texts, raw = read_labelled_csv(
        path, text_column=text_column, label_column=label_column
    )
    kept = [
        (t, label_map[r]) for t, r in zip(texts, raw, strict=True) if r in label_map
    ]
    if not kept:
        raise ConfigError(
            f"no row of {path} has a label in the map; labels seen: "
            f"{sorted(set(raw))[:10]!r}, map keys: {sorted(label_map)!r}"
        )
    gold = [g for _, g in kept]
    analyses = analyzer.analyze_many([t for t, _ in kept])
    classes = sorted(set(gold), key=POLARITY_LABELS.index)
    predicted = [
        _polarity_label(a, resolve_mixed="mixed" not in classes) for a in analyses
    ]

    labels = [*classes, *sorted({p for p in predicted} - set(classes))]
    confusion = {g: dict.fromkeys(labels, 0) for g in classes}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    y_true = np.array([[g == c for c in classes] for g in gold])
    y_pred = np.array([[p == c for c in classes] for p in predicted])
    return {
        "data": str(path),
        "n": len(kept),
        "skipped": len(texts) - len(kept),
        "unscored": sum(a.status != "scored" for a in analyses),
        "model_version": analyzer.model_version,
        "accuracy": float(
            np.mean([g == p for g, p in zip(gold, predicted, strict=True)])
        ),
        "macro_f1": macro_f1(y_true, y_pred),
        "per_class": _table(tuple(classes), y_true, y_pred),
        "confusion": confusion,
    }


def parse_label_map(spec: str) -> dict[str, str]:
    """Parse ``"1=negative,2=negative,4=positive"`` into a dict.

    Raises:
        ConfigError: If an entry is malformed or names an unknown polarity.
    """
    mapping: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        key, sep, value = entry.partition("=")
        if not sep or value.strip() not in POLARITY_LABELS:
            raise ConfigError(
                f"label map entry {entry!r}: expected GOLD=POLARITY with POLARITY one "
                f"of {', '.join(POLARITY_LABELS)}"
            )
        mapping[key.strip()] = value.strip()
    if not mapping:
        raise ConfigError(f"label map {spec!r} is empty; e.g. '0=negative,1=positive'")
    return mapping


def _polarity_label(analysis: Analysis, *, resolve_mixed: bool) -> str:
    if analysis.polarity is None:
        return "unscored"
    if resolve_mixed and analysis.polarity.label == "mixed":
        return "positive" if analysis.polarity.score >= 0 else "negative"
    return analysis.polarity.label


def _multi_hot(label_lists: list[list[str]], names: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(label_lists), len(names)), dtype=np.int8)
    for row, labels in enumerate(label_lists):
        matrix[row, [index[label] for label in labels]] = 1
    return matrix


def _table(
    names: tuple[str, ...], y_true: np.ndarray, y_pred: np.ndarray
) -> dict[str, dict[str, float]]:
    scores = per_label_scores(y_true, y_pred)
    return {
        name: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "support": int(s),
        }
        for name, (p, r, f, s) in zip(names, scores, strict=True)
    }
