"""Multi-label metrics and per-label threshold fitting.

F1 follows scikit-learn's definitions (``zero_division=0``); the tests check these
functions against scikit-learn on random data.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "fit_thresholds",
    "macro_f1",
    "micro_f1",
    "per_label_scores",
]

_GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


def per_label_scores(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return an array of shape (labels, 4): precision, recall, F1, support."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    tp = (y_true & y_pred).sum(0).astype(float)
    predicted = y_pred.sum(0).astype(float)
    support = y_true.sum(0).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(
        2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0
    )
    return np.stack([precision, recall, f1, support], axis=1)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-label F1 scores."""
    return float(per_label_scores(y_true, y_pred)[:, 2].mean())


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 over all (text, label) decisions pooled together."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    tp = float((y_true & y_pred).sum())
    denom = float(y_true.sum() + y_pred.sum())
    return 2 * tp / denom if denom else 0.0


def fit_thresholds(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Pick, for each label independently, the threshold that maximises its F1.

    Args:
        y_true: Multi-hot gold labels, shape (texts, labels).
        probs: Scores in [0, 1], same shape.

    Returns:
        One threshold per label, from a grid of 0.02 to 0.95.
    """
    y_true = np.asarray(y_true, dtype=bool)
    thresholds = np.empty(y_true.shape[1])
    for j in range(y_true.shape[1]):
        predictions = probs[:, j][:, None] >= _GRID[None, :]
        gold = y_true[:, j][:, None]
        tp = (predictions & gold).sum(0)
        denom = predictions.sum(0) + gold.sum()
        f1 = np.divide(2 * tp, denom, out=np.zeros(len(_GRID)), where=denom > 0)
        thresholds[j] = _GRID[int(np.argmax(f1))]
    return thresholds
