"""The reduction and clustering stages of the theme pipeline.

Each stage has a scikit-learn shape (``fit`` / ``transform`` / ``fit_predict``,
learned attributes ending in ``_``), so :class:`nlp.themes.ThemeModel` takes any
object with the same methods: a UMAP reducer, another clusterer, or the
pass-through :class:`IdentityReducer` when embeddings are already small.

Reducing first matters: density clustering of raw 384-d sentence vectors leaves
most points as noise, because distances concentrate in high dimensions. PCA is the
default reducer: it is deterministic, takes well under a second on 20,000 texts and
needs no compiler at start-up (UMAP's numba JIT alone takes longer than our fit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "Clusterer",
    "HDBSCANClusterer",
    "IdentityReducer",
    "PCAReducer",
    "Reducer",
]


class Reducer(Protocol):
    """A dimensionality reduction stage."""

    def fit_transform(self, embeddings: NDArray[np.float32]) -> NDArray[Any]:
        """Learn the projection and return the reduced embeddings."""


class Clusterer(Protocol):
    """A clustering stage: cluster ids from 0, and -1 for noise."""

    def fit_predict(self, points: NDArray[Any]) -> NDArray[np.intp]:
        """Cluster the points and return one cluster id per row."""


class IdentityReducer:
    """A pass-through reducer, for embeddings that are already low-dimensional."""

    def fit_transform(self, embeddings: NDArray[np.float32]) -> NDArray[Any]:
        """Return the embeddings unchanged."""
        return embeddings


class PCAReducer:
    """Principal components of the embeddings, whitened off.

    Args:
        n_components: Output dimensions; lowered to the number of rows or
            columns when the input has fewer.
        seed: Seed of the SVD solver (the default solver is deterministic anyway).
    """

    def __init__(self, n_components: int = 30, *, seed: int = 0) -> None:
        self.n_components = n_components
        self.seed = seed

    def fit_transform(self, embeddings: NDArray[np.float32]) -> NDArray[Any]:
        """Fit the components and return the projected rows."""
        from sklearn.decomposition import PCA

        n = min(self.n_components, *embeddings.shape)
        # covariance_eigh: one 384 x 384 eigendecomposition, fast when rows >> dims.
        solver = (
            "covariance_eigh" if embeddings.shape[0] > embeddings.shape[1] else "full"
        )
        self.pca_ = PCA(n_components=n, svd_solver=solver, random_state=self.seed)
        return np.asarray(self.pca_.fit_transform(embeddings), dtype=np.float64)


class HDBSCANClusterer:
    """HDBSCAN from scikit-learn (``sklearn.cluster.HDBSCAN``).

    Args:
        min_cluster_size: Fewest points in a cluster.
        min_samples: Neighbourhood size of the core distance (``None``: the
            ``min_cluster_size``); lowered to the number of points. 2 keeps far
            fewer texts as noise on intent data than 10 (see the module docstring).
        cluster_selection_method: ``"eom"`` (fewer, larger clusters) or ``"leaf"``
            (the finest stable clusters, which suits fine-grained intents).
    """

    def __init__(
        self,
        min_cluster_size: int = 10,
        *,
        min_samples: int | None = 2,
        cluster_selection_method: str = "eom",
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method

    def fit_predict(self, points: NDArray[Any]) -> NDArray[np.intp]:
        """Cluster the points; return their cluster ids (-1 for noise)."""
        from sklearn.cluster import HDBSCAN

        min_samples = min(self.min_samples or self.min_cluster_size, len(points))
        self.hdbscan_ = HDBSCAN(
            min_cluster_size=self.min_cluster_size,
            min_samples=min_samples,
            cluster_selection_method=self.cluster_selection_method,
            copy=True,
        )
        return np.asarray(self.hdbscan_.fit_predict(points), dtype=np.intp)
