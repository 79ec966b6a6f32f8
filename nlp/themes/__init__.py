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
from nlp.themes.stages import (
    Clusterer,
    HDBSCANClusterer,
    IdentityReducer,
    PCAReducer,
    Reducer,
    SpectralReducer,
)

__all__ = [
    "CTfidfLabeler",
    "Clusterer",
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
    "is_stop_word",
    "match_themes",
]
