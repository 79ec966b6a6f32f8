"""A fitted theme model as a file, to assign later exports to the same themes.

The file is JSON: the format name, the version of the embedder the centroids come
from, the assignment threshold, and per theme its id, label, terms, size and
centroid. No text of the fit is kept (a theme's representative texts stay out),
so the file holds no customer's words beyond the label terms.

A loaded model assigns texts by their nearest centroid, as the fitted one does
after :meth:`ThemeModel.forget_fitted_texts` (``transform`` reads only the
centroids and the threshold, :meth:`ThemeModel.from_centroids`; the centroids are
written as full-precision floats). Right after a fit, a text of the fitted sample
keeps its clustering's theme instead, which a text just under the threshold does
not get from the file. It cannot be refitted or have its
outliers reduced; it has ``themes_`` (without representative texts) and
``status_``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import InputError
from nlp.themes.model import TextEmbedder, Theme, ThemeModel

__all__ = ["FORMAT", "load_theme_model", "save_theme_model", "theme_model_dict"]

FORMAT = "feedback-miner-themes.v1"


def theme_model_dict(model: ThemeModel, *, embedder_version: str) -> dict[str, Any]:
    """The saved form of a fitted model (see the module docstring)."""
    # The model's own float64 centroids, as transform() reads them (a theme's
    # ``centroid`` attribute is a float32 copy).
    centroids = np.asarray(model._centroids, dtype=np.float64)
    return {
        "format": FORMAT,
        "embedder": embedder_version,
        "assign_threshold": model.assign_threshold,
        "themes": [
            {
                "id": theme.theme_id,
                "label": theme.label,
                "terms": list(theme.terms),
                "size": theme.size,
                "centroid": [float(x) for x in centroids[theme.theme_id]],
            }
            for theme in model.themes_
        ],
    }


def save_theme_model(model: ThemeModel, path: Path, *, embedder_version: str) -> None:
    """Write a fitted model to ``path`` as JSON, atomically."""
    data = theme_model_dict(model, embedder_version=embedder_version)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def load_theme_model(
    path: Path, *, embedder: TextEmbedder | None, embedder_version: str
) -> ThemeModel:
    """Read a model written by :func:`save_theme_model`.

    Args:
        path: The file.
        embedder: Embeds the texts the model is asked to assign.
        embedder_version: The version of ``embedder``; it must be the one the
            centroids were computed with.

    Raises:
        InputError: If the file is missing, not JSON, of another format or
            embedder, or its themes are malformed; ``field`` is ``"themes"``.
    """
    if path.is_dir():
        raise _bad(path, "a folder, not a theme model file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise _bad(path, "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _bad(path, f"not a theme model file ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise _bad(path, f"expected format {FORMAT!r}, got {found!r}")
    if data.get("embedder") != embedder_version:
        raise _bad(
            path,
            f"fitted with embedder {data.get('embedder')!r}, but this one is "
            f"{embedder_version!r}; fit the themes again",
        )
    themes = _themes(data.get("themes"), path)
    threshold = data.get("assign_threshold")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        raise _bad(path, f"expected a number for assign_threshold, got {threshold!r}")
    if not themes:
        raise _bad(path, "it holds no theme")
    centroids = np.asarray([t.centroid for t in themes], dtype=np.float64)
    model = ThemeModel.from_centroids(
        centroids, embedder=embedder, assign_threshold=float(threshold)
    )
    model.themes_ = themes
    model.status_ = "themed"
    return model


def _themes(entries: object, path: Path) -> list[Theme]:
    if not isinstance(entries, list):
        raise _bad(path, "expected a list of themes")
    themes: list[Theme] = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _bad(path, f"theme {number}: expected an object")
        why = _theme_problem(entry, number, themes[0].centroid.size if themes else None)
        if why is not None:
            raise _bad(path, f"theme {number}: {why}")
        vector = np.asarray(entry["centroid"], dtype=np.float32)
        themes.append(
            Theme(
                number, entry["label"], tuple(entry["terms"]), entry["size"], (), vector
            )
        )
    return themes


def _theme_problem(
    entry: Mapping[str, Any], number: int, width: int | None
) -> str | None:
    label, terms, size = entry.get("label"), entry.get("terms"), entry.get("size")
    centroid = entry.get("centroid")
    if entry.get("id") != number:
        return f"expected id {number} (ids run 0, 1, ...), got {entry.get('id')!r}"
    if not isinstance(label, str) or not label.strip():
        return "expected a label (a non-empty string)"
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        return "expected terms (a list of strings)"
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "expected a size (a whole number)"
    if not isinstance(centroid, list) or not centroid:
        return "expected a centroid (a list of numbers)"
    if not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
        for x in centroid
    ):
        return "expected a centroid of finite numbers"
    if width is not None and len(centroid) != width:
        return (
            f"expected a centroid of {width} numbers as theme 0's, got {len(centroid)}"
        )
    if not any(centroid):
        return "a centroid of zeros points nowhere"
    return None


def _bad(path: Path, why: str) -> InputError:
    return InputError(f"{path}: {why}", field="themes", code="invalid_theme_model")
