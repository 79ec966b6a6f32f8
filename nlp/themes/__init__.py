"""Theme mining: find what many texts are about, name it, and assign new texts.

The pipeline is :class:`ThemeModel` over injectable stages: a reducer
(:class:`SpectralReducer`), a clusterer (:class:`HDBSCANClusterer`) and a labeler
(:class:`CTfidfLabeler`). It accepts precomputed embeddings, so the stages can be
tested and benchmarked without the encoder. :func:`match_themes` carries theme
identity across refits.
"""

from __future__ import annotations

from nlp.themes.labels import CTfidfLabeler, RegexTerms, SpacyTerms, is_stop_word
from nlp.themes.matching import ThemeMatch, match_themes
from nlp.themes.model import TextEmbedder, Theme, ThemeModel, ThemeStatus
from nlp.themes.saved import load_theme_model, save_theme_model
from nlp.themes.stages import (
    Clusterer,
    HDBSCANClusterer,
    IdentityReducer,
    PCAReducer,
    Reducer,
    SpectralReducer,
)
from nlp.themes.trends import (
    Emergence,
    compare_windows,
    emergence,
    two_proportion_z,
    week_start,
    weekly_counts,
    window_counts,
)

__all__ = [
    "CTfidfLabeler",
    "Clusterer",
    "Emergence",
    "HDBSCANClusterer",
    "IdentityReducer",
    "PCAReducer",
    "Reducer",
    "RegexTerms",
    "SpacyTerms",
    "SpectralReducer",
    "TextEmbedder",
    "Theme",
    "ThemeMatch",
    "ThemeModel",
    "ThemeStatus",
    "compare_windows",
    "emergence",
    "is_stop_word",
    "load_theme_model",
    "match_themes",
    "save_theme_model",
    "two_proportion_z",
    "week_start",
    "weekly_counts",
    "window_counts",
]
