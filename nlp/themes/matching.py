"""Theme identity across refits: match new themes to their predecessors.

Themes are matched one-to-one by the cosine similarity of their centroids, with the
Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) maximising the total
similarity; a pair below the threshold is no match. An unmatched new theme is new;
an unmatched old theme has gone (or was merged into a matched one). The caller
carries ids and human edits over along the matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlp.errors import InputError
from nlp.themes.model import Theme

__all__ = ["ThemeMatch", "match_themes"]


@dataclass(frozen=True)
class ThemeMatch:
    """An old theme and the new theme that continues it."""

    old_id: int
    new_id: int
    similarity: float


def match_themes(
    old: Sequence[Theme], new: Sequence[Theme], *, threshold: float = 0.8
) -> list[ThemeMatch]:
    """Pair each new theme with at most one old theme by centroid similarity.

    Args:
        old: The themes of the previous fit.
        new: The themes of the refit.
        threshold: Least cosine similarity for a pair to count as the same theme.

    Returns:
        The matches, by new theme id.

    Raises:
        InputError: If the two fits' centroids have different dimensions.
    """
    if not old or not new:
        return []
    old_c = np.vstack([t.centroid for t in old]).astype(np.float64)
    new_c = np.vstack([t.centroid for t in new]).astype(np.float64)
    if old_c.shape[1] != new_c.shape[1]:
        raise InputError(
            f"expected centroids of one size, got {old_c.shape[1]} (old) and "
            f"{new_c.shape[1]} (new); themes from different embedders cannot match",
            field="themes",
            code="shape_mismatch",
        )
    from scipy.optimize import linear_sum_assignment

    similarity = new_c @ old_c.T
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    matches = [
        ThemeMatch(
            old_id=old[c].theme_id,
            new_id=new[r].theme_id,
            similarity=round(float(similarity[r, c]), 6),
        )
        for r, c in zip(rows, cols, strict=True)
        if similarity[r, c] >= threshold
    ]
    return sorted(matches, key=lambda m: m.new_id)
