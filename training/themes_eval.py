"""Score the theme engine against gold groupings (intents, complaint reasons).

The texts are embedded with the packaged embedder, then :class:`nlp.themes.ThemeModel`
is fitted; ``fit_seconds`` times the fit alone (reduction, clustering, labelling),
``embed_seconds`` the embedding. NMI and ARI come from scikit-learn, with the
outliers counted as one more cluster (id -1), so leaving texts out costs score
instead of being free. Both are given before and after outlier reduction.

Reads a CSV with a header row, or CLINC150's ``data.json`` (one split, a list of
``[text, intent]`` pairs; ``val`` by default).
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from nlp.themes import ThemeModel, is_stop_word
from training.data import read_labelled_csv
from training.errors import DataError

__all__ = ["evaluate_themes", "read_theme_data", "stop_word_share"]

logger = logging.getLogger(__name__)


def evaluate_themes(
    path: Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    split: str = "val",
    sample: int | None = 3000,
    seed: int = 0,
    model: ThemeModel | None = None,
) -> dict[str, Any]:
    """Fit themes on a labelled file and compare them with the gold labels.

    Args:
        path: A CSV, or a CLINC150-style JSON file.
        text_column: Header of the text column (CSV).
        label_column: Header of the gold label column (CSV).
        split: The JSON split to read.
        sample: Texts drawn (seeded) when the file holds more; ``None`` for all.
        seed: Seed of the sample and of the model.
        model: The model to fit; by default one with the packaged embedder.

    Returns:
        The figures: ``n``, ``gold_groups``, ``nmi``, ``ari``, ``themes``,
        ``outlier_share``, the same after outlier reduction, ``stop_word_share``,
        ``fit_seconds`` and ``embed_seconds``.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from nlp.embeddings import Embedder

    texts, gold = read_theme_data(
        path, text_column=text_column, label_column=label_column, split=split
    )
    if sample is not None and len(texts) > sample:
        index = sorted(random.Random(seed).sample(range(len(texts)), sample))
        texts, gold = [texts[i] for i in index], [gold[i] for i in index]

    started = time.perf_counter()
    embeddings = Embedder.load().embed(texts)
    embed_seconds = time.perf_counter() - started

    model = model or ThemeModel(seed=seed)
    predicted = model.fit(texts, embeddings).labels_.copy()
    reduced = model.reduce_outliers()
    result: dict[str, Any] = {
        "n": len(texts),
        "gold_groups": len(set(gold)),
        "nmi": round(float(normalized_mutual_info_score(gold, predicted)), 4),
        "ari": round(float(adjusted_rand_score(gold, predicted)), 4),
        "themes": int(predicted.max(initial=-1)) + 1,
        "outlier_share": round(float(np.mean(predicted == -1)), 4),
        "nmi_reduced": round(float(normalized_mutual_info_score(gold, reduced)), 4),
        "ari_reduced": round(float(adjusted_rand_score(gold, reduced)), 4),
        "outlier_share_reduced": round(float(np.mean(reduced == -1)), 4),
        "stop_word_share": round(stop_word_share([t.label for t in model.themes_]), 4),
        "fit_seconds": round(model.fit_seconds_, 2),
        "embed_seconds": round(embed_seconds, 2),
        "outliers": "counted as one cluster (-1) in nmi and ari",
        "labels": [t.label for t in model.themes_[:10]],
    }
    logger.info("scored %d themes on %d texts", result["themes"], len(texts))
    return result


def read_theme_data(
    path: Path, *, text_column: str, label_column: str, split: str = "val"
) -> tuple[list[str], list[str]]:
    """Read texts and gold groups from a CSV or a CLINC150-style JSON file.

    Raises:
        DataError: If the file is missing or malformed.
    """
    if path.suffix.lower() != ".json":
        return read_labelled_csv(
            path,
            text_column=text_column,
            label_column=label_column,
            skip_malformed=True,
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid UTF-8 JSON: {e}") from None
    if not isinstance(data, dict) or split not in data:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path}: expected a split named {split!r}, got {keys!r}")
    rows = data[split]
    bad = next((r for r in rows if not (isinstance(r, list) and len(r) == 2)), None)
    if bad is not None:
        raise DataError(f"{path}: expected [text, label] pairs, got {bad!r}")
    return [str(r[0]) for r in rows], [str(r[1]) for r in rows]


def stop_word_share(labels: list[str]) -> float:
    """Share of the words in labels that are English stop words (0 when none)."""
    words = [w for label in labels for w in label.replace(",", " ").split()]
    return sum(is_stop_word(w.lower()) for w in words) / len(words) if words else 0.0
