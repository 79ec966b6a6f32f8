"""Vector and input helpers of the theme model: checks, duplicate collapsing,
centroids and the nearest-centroid rule that both fitting and assignment use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Distinct",
    "centroids",
    "check_embeddings",
    "check_texts",
    "distinct",
    "merge_close",
    "nearest",
    "nearest_ids",
    "order_by_size",
    "promote_duplicates",
    "unit_rows",
]

# Rows compared with the centroids at a time: 8,192 x 384 float64 is 25 MB.
_NEAREST_BLOCK = 8192


@dataclass
class Distinct:
    """Distinct non-empty texts: first row of each, count, and each row's group."""

    first_row: NDArray[np.intp]
    counts: NDArray[np.float64]
    group: NDArray[np.intp]  # per input row; -1 for an empty text


def check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError(
            "expected a list of texts, got a single string; wrap it in a list",
            field="texts",
            code="invalid_type",
        )
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise InputError(
                f"expected texts[{i}] to be a string, got {type(text).__name__} "
                f"({text!r}); drop or convert missing values first",
                field=f"texts[{i}]",
                code="invalid_type",
            )
    return out


def check_embeddings(
    embeddings: ArrayLike, n: int | None, *, field: str = "embeddings"
) -> NDArray[np.float32]:
    try:
        array = np.asarray(embeddings, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise InputError(
            f"expected {field} as a 2-d array of numbers, got {e}",
            field=field,
            code="invalid_type",
        ) from None
    if array.ndim != 2 or (n is not None and array.shape[0] != n):
        expected = f"({n}, d)" if n is not None else "(n, d)"
        raise InputError(
            f"expected {field} of shape {expected}, one row per text, got "
            f"{array.shape}",
            field=field,
            code="shape_mismatch",
        )
    if not np.isfinite(array).all():
        raise InputError(
            f"expected finite {field}, got NaN or infinite values",
            field=field,
            code="not_finite",
        )
    return array


def distinct(texts: list[str]) -> Distinct:
    first: dict[str, int] = {}
    first_row: list[int] = []
    counts: list[float] = []
    group = np.full(len(texts), -1, dtype=np.intp)
    for row, text in enumerate(texts):
        if not text.strip():
            continue
        g = first.setdefault(text, len(first_row))
        if g == len(first_row):
            first_row.append(row)
            counts.append(0.0)
        counts[g] += 1.0
        group[row] = g
    return Distinct(
        first_row=np.asarray(first_row, dtype=np.intp),
        counts=np.asarray(counts, dtype=np.float64),
        group=group,
    )


def unit_rows(vectors: NDArray[Any]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def promote_duplicates(
    clusters: NDArray[np.intp], counts: NDArray[np.float64], min_size: int
) -> NDArray[np.intp]:
    # A text repeated min_size times is a theme even if, being one point, density
    # clustering calls it noise.
    out = clusters.copy()
    next_id = int(out.max(initial=-1)) + 1
    for i in np.flatnonzero((out == -1) & (counts >= min_size)):
        out[i] = next_id
        next_id += 1
    return out


def order_by_size(
    clusters: NDArray[np.intp], counts: NDArray[np.float64]
) -> NDArray[np.intp]:
    # Largest first; ties by first member, so ids do not depend on HDBSCAN's order.
    ids = [k for k in np.unique(clusters) if k >= 0]
    key = {k: (-counts[clusters == k].sum(), np.argmax(clusters == k)) for k in ids}
    order = sorted(ids, key=lambda k: key[k])
    mapping = np.full(int(clusters.max(initial=-1)) + 2, -1, dtype=np.intp)
    for new, old in enumerate(order):
        mapping[old] = new
    return mapping[clusters]


def nearest_ids(
    vectors: NDArray[np.float32], centroids: NDArray[np.float64], threshold: float
) -> NDArray[np.intp]:
    best, similarity = nearest(vectors, centroids)
    return np.where(similarity >= threshold, best, -1)


def nearest(
    vectors: NDArray[np.float32],
    centroids: NDArray[np.float64],
    *,
    exact: bool = True,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    best = np.full(len(vectors), -1, dtype=np.intp)
    similarity = np.full(len(vectors), -np.inf)
    if not len(centroids) or not len(vectors):
        return best, similarity
    # Blocks of rows bound memory on a million texts. With ``exact``, einsum
    # computes each row on its own, so neither the blocks nor the batch change a
    # result, to the bit (what transform() promises); without it a BLAS product is
    # some ten times faster, for the fit's own refinement rounds.
    for start in range(0, len(vectors), _NEAREST_BLOCK):
        block = unit_rows(vectors[start : start + _NEAREST_BLOCK]).astype(np.float64)
        scores = (
            np.einsum("ij,kj->ik", block, centroids) if exact else block @ centroids.T
        )
        rows = slice(start, start + len(block))
        best[rows] = scores.argmax(axis=1)
        similarity[rows] = scores[np.arange(len(block)), best[rows]]
    return best, similarity


def centroids(
    vectors: NDArray[np.float32],
    clusters: NDArray[np.intp],
    counts: NDArray[np.float64],
) -> NDArray[np.float64]:
    n = int(clusters.max(initial=-1)) + 1
    centroids = np.zeros((n, vectors.shape[1] if n else 0), dtype=np.float64)
    for k in range(n):
        index = clusters == k
        centroids[k] = counts[index] @ vectors[index].astype(np.float64)
    return unit_rows(centroids).astype(np.float64)


def merge_close(
    vectors: NDArray[np.float32],
    clusters: NDArray[np.intp],
    counts: NDArray[np.float64],
    threshold: float,
) -> NDArray[np.intp]:
    # Clusters whose centroids are at least this similar are one theme: a dense
    # region that density clustering split without a real border between its parts.
    found = centroids(vectors, clusters, counts)
    if len(found) < 2:
        return clusters
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    close = (found @ found.T) >= threshold
    _, component = connected_components(csr_matrix(close), directed=False)
    padded = np.append(component, -1)  # index -1 (noise) stays -1
    return np.asarray(padded[clusters], dtype=np.intp)
