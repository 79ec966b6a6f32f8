"""Themes for a rescoring run: fitted on a sample of the input (or read from a
theme model file), then assigned.

``--themes fit`` reads the input once, keeps a uniform reservoir sample of its
usable texts (Vitter's algorithm R, seeded, so a rerun draws the same sample),
fits :class:`nlp.themes.ThemeModel` on it, and the scorer then assigns every row
to a theme with :meth:`ThemeModel.transform`, which gives a text the same theme
in any batch.

The fitted model assigns every row by its nearest centroid
(:meth:`ThemeModel.forget_fitted_texts`), so its theme model file
(:mod:`nlp.themes.saved`) assigns exactly as it does. That file is kept with the
job's progress, so that a resumed run assigns rows to the same themes without
fitting again, and is written beside the output at the end, where ``--themes
FILE`` reads it to assign another export to the same themes. Across processes
(workers, Ray actors) the model travels as a pickle (:func:`themes_to_bytes`).
"""

from __future__ import annotations

import logging
import pickle
import random
from typing import TYPE_CHECKING

from service.rescore.readers import Source, iter_chunks
from service.rescore.rows import check_text

if TYPE_CHECKING:
    from nlp.themes import TextEmbedder, ThemeModel

__all__ = [
    "fit_themes",
    "no_themes_reason",
    "redact_for_themes",
    "sample_texts",
    "themes_from_bytes",
    "themes_to_bytes",
]

logger = logging.getLogger(__name__)


def sample_texts(
    source: Source, text_column: str, *, size: int, max_chars: int, seed: int = 0
) -> list[str]:
    """Draw a uniform sample of ``size`` usable texts from the whole input."""
    rng = random.Random(seed)
    sample: list[str] = []
    seen = 0
    for chunk in iter_chunks(source, text_column, size=4096):
        for value in chunk.texts:
            text, error, _ = check_text(
                value, max_chars=max_chars, encoding=source.encoding
            )
            if text is None or error is not None:
                continue
            seen += 1
            if len(sample) < size:
                sample.append(text)
            elif (slot := rng.randrange(seen)) < size:
                sample[slot] = text
    logger.info("sampled %d of %d usable texts for themes", len(sample), seen)
    return sample


_NO_THEMES = {
    "no_text": "no usable text",
    "too_few_texts": "fewer usable texts than --min-cluster-size {size}",
    "no_themes": "no group of --min-cluster-size {size} or more similar texts",
}


def no_themes_reason(status: str, min_cluster_size: int) -> str:
    """Why a fit with this :attr:`ThemeModel.status_` found no theme, in the
    words of the command-line options (``feedback-miner rescore`` and
    ``feedback-miner themes``)."""
    return _NO_THEMES[status].format(size=min_cluster_size)


def redact_for_themes(texts: list[str]) -> list[str]:
    """The texts redacted, placeholders left out: what the themes are fitted on.

    The labels and terms of a theme are words of its texts, and they go into the
    output and the report; redacting first keeps names and addresses out of them.
    """
    from service.redaction import Redactor, strip_placeholders

    redacted = Redactor.load().redact_many(texts)
    return [strip_placeholders(r.text) for r in redacted]


def fit_themes(
    texts: list[str],
    *,
    embedder: TextEmbedder,
    min_cluster_size: int = 10,
    seed: int = 0,
) -> ThemeModel:
    """Fit a theme model on ``texts``."""
    from nlp.themes import ThemeModel

    model = ThemeModel(embedder=embedder, min_cluster_size=min_cluster_size, seed=seed)
    # Every row by its nearest centroid, sampled or not: the rows of this run get
    # the themes that the saved model file gives them in a later run.
    model.fit(texts).forget_fitted_texts()
    logger.info("found %d themes in %d texts", len(model.themes_), len(texts))
    return model


def themes_to_bytes(model: ThemeModel) -> bytes:
    """Serialize a fitted model without its embedder (for workers and actors)."""
    embedder, model.embedder = model.embedder, None
    try:
        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        model.embedder = embedder


def themes_from_bytes(data: bytes, *, embedder: TextEmbedder | None) -> ThemeModel:
    """Rebuild a model from :func:`themes_to_bytes` and give it ``embedder``."""
    model: ThemeModel = pickle.loads(data)
    model.embedder = embedder
    return model
