"""The emotion label sets: the 28 GoEmotions labels and the views built on them.

The customer-success (CS) view folds the 28 fine labels into the feelings a CS team
acts on. Each CS emotion scores as the highest probability among its members and has
its own threshold, tuned on the GoEmotions dev split against the same folding of the
gold labels (see ``training/emotions.py``).

| CS emotion     | GoEmotions members                                  |
| -------------- | --------------------------------------------------- |
| frustration    | annoyance, disapproval                              |
| anger          | anger, disgust                                      |
| disappointment | disappointment, sadness, grief                      |
| confusion      | confusion                                           |
| anxiety        | fear, nervousness                                   |
| delight        | joy, excitement, amusement, love, admiration        |
| gratitude      | gratitude                                           |
| satisfaction   | approval, relief, optimism, pride                   |
| neutral        | neutral                                             |

Caring, curiosity, desire, embarrassment, realization, remorse and surprise stay in the
28-label reading only: in support text they describe the writer's stance more than a
feeling about the vendor.

The Ekman and sentiment groupings are the ones defined in the GoEmotions paper
(Demszky et al., 2020, section 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "CS_VIEW",
    "EKMAN",
    "EMOTIONS",
    "NEGATIVE_EMOTIONS",
    "POSITIVE_EMOTIONS",
    "SENTIMENT_GROUPS",
    "fold_labels",
]

EMOTIONS: tuple[str, ...] = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)

CS_VIEW: dict[str, tuple[str, ...]] = {
    "frustration": ("annoyance", "disapproval"),
    "anger": ("anger", "disgust"),
    "disappointment": ("disappointment", "sadness", "grief"),
    "confusion": ("confusion",),
    "anxiety": ("fear", "nervousness"),
    "delight": ("joy", "excitement", "amusement", "love", "admiration"),
    "gratitude": ("gratitude",),
    "satisfaction": ("approval", "relief", "optimism", "pride"),
    "neutral": ("neutral",),
}

EKMAN: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": (
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}

POSITIVE_EMOTIONS: tuple[str, ...] = EKMAN["joy"]
NEGATIVE_EMOTIONS: tuple[str, ...] = (
    "fear",
    "nervousness",
    "remorse",
    "embarrassment",
    "disappointment",
    "sadness",
    "grief",
    "disgust",
    "anger",
    "annoyance",
    "disapproval",
)

SENTIMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "positive": POSITIVE_EMOTIONS,
    "negative": NEGATIVE_EMOTIONS,
    "ambiguous": ("realization", "surprise", "curiosity", "confusion"),
    "neutral": ("neutral",),
}


def fold_labels(
    matrix: np.ndarray, groups: Mapping[str, Sequence[str]] = CS_VIEW
) -> np.ndarray:
    """Fold 28 label columns into group columns, taking the maximum over members.

    For a 0/1 matrix this is "any member present"; for probabilities it is the score
    of the most likely member, which is how the CS view scores.

    Args:
        matrix: Shape (texts, 28), columns in :data:`EMOTIONS` order.
        groups: Group name to member labels.

    Returns:
        Shape (texts, len(groups)), columns in the groups' order.
    """
    index = {label: i for i, label in enumerate(EMOTIONS)}
    if len(matrix) == 0:
        return np.zeros((0, len(groups)), dtype=matrix.dtype)
    columns = [
        matrix[:, [index[m] for m in members]].max(axis=1)
        for members in groups.values()
    ]
    return np.stack(columns, axis=1)
