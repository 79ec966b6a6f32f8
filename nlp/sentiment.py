"""Polarity: negative, neutral, positive or mixed, with a score in [-1, 1].

The head is a logistic regression over the encoder's pooled vector and the 28 emotion
probabilities (trained by ``training/polarity.py``). The score is
P(positive) - P(negative). A text is *mixed* when both sides are substantial: each of
P(positive) and P(negative) is at least ``mixed_min``, or, for a text read in several
pieces, at least one piece leans clearly each way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.errors import ModelError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["POLARITY_CLASSES", "POLARITY_LABELS", "Polarity", "PolarityHead"]

POLARITY_CLASSES: tuple[str, ...] = ("negative", "neutral", "positive")
POLARITY_LABELS: tuple[str, ...] = (*POLARITY_CLASSES, "mixed")


@dataclass(frozen=True)
class Polarity:
    """A polarity reading: label, score in [-1, 1], and class probabilities."""

    label: str
    score: float
    probabilities: dict[str, float]


class PolarityHead:
    """The trained logistic-regression head, applied with NumPy.

    Args:
        params: The ``polarity`` block of an artifact's ``meta.json``.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        if tuple(params.get("classes", ())) != POLARITY_CLASSES:
            raise ModelError(
                f"polarity head classes must be {POLARITY_CLASSES!r}, "
                f"got {params.get('classes')!r}"
            )
        self._mean = np.asarray(params["mean"], dtype=np.float32)
        self._scale = np.asarray(params["scale"], dtype=np.float32)
        self._coef = np.asarray(params["coef"], dtype=np.float32)
        self._intercept = np.asarray(params["intercept"], dtype=np.float32)
        self.mixed_min = float(params.get("mixed_min", 0.3))

    def probabilities(
        self, pooled: NDArray[np.float32], probs: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """Return class probabilities, shape (n, 3), in POLARITY_CLASSES order."""
        features = (np.hstack([pooled, probs]) - self._mean) / self._scale
        logits = features @ self._coef.T + self._intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: NDArray[np.float32] = (exp / exp.sum(axis=1, keepdims=True)).astype(
            np.float32
        )
        return result

    def read(
        self,
        probabilities: NDArray[np.float32],
        *,
        pieces: NDArray[np.float32] | None = None,
    ) -> Polarity:
        """Turn one text's class probabilities into a :class:`Polarity`.

        Args:
            probabilities: Shape (3,), the text's (aggregated) class probabilities.
            pieces: Shape (k, 3), the per-piece probabilities of a text read in
                pieces; a clearly positive and a clearly negative piece make it mixed.
        """
        negative, neutral, positive = (float(p) for p in probabilities)
        mixed = negative >= self.mixed_min and positive >= self.mixed_min
        if pieces is not None and len(pieces) > 1:
            leaning = pieces.argmax(axis=1)
            mixed = mixed or (
                bool((leaning == 0).any() & (leaning == 2).any())
                and min(negative, positive) >= self.mixed_min / 2
            )
        label = "mixed" if mixed else POLARITY_CLASSES[int(np.argmax(probabilities))]
        return Polarity(
            label=label,
            score=round(positive - negative, 4),
            probabilities={
                "negative": round(negative, 4),
                "neutral": round(neutral, 4),
                "positive": round(positive, 4),
            },
        )
