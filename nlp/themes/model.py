"""The theme model: embeddings → reduction → density clusters → labelled themes.

:meth:`ThemeModel.fit` runs these steps, each a named private function:

1. check the texts and embeddings (embedding the texts when none are given);
2. collapse exact duplicates and empty texts: each distinct non-empty text is
   clustered once, weighted by its count, and its copies share its theme;
3. above ``sample_size`` distinct texts, draw a seeded sample to cluster;
4. reduce (spectral embedding of a kNN graph by default) and cluster (HDBSCAN); a
   text repeated at least ``min_cluster_size`` times that clustering leaves as
   noise becomes a theme of its own (600 copies of one sentence are one theme, not
   noise);
5. merge clusters whose centroids are near-identical (cosine >= 0.95), then
   refine in the original embedding space, as a few rounds of spherical k-means
   started from the clusters: each clustered text moves to its nearest centroid,
   and each noise text joins its nearest centroid when the cosine similarity
   reaches ``assign_threshold`` (the outlier reduction, on by default). The fitted
   labels then follow the same rule as :meth:`ThemeModel.transform`; on the issue
   #4 reference sets this adds 0.02-0.08 NMI (``bench/bench_themes.py``);
6. order the clusters by size, compute their unit-length centroids, and assign the
   texts outside the sample to the nearest one;
7. label each theme (:class:`nlp.themes.labels.CTfidfLabeler`, over the clustered
   sample's texts) and pick the texts nearest its centroid as representative
   quotes.

:meth:`ThemeModel.transform` assigns texts to the nearest centroid whose cosine
similarity reaches ``assign_threshold``, else to -1 (outlier). Each row's
similarities are computed on their own (``np.einsum``, not a batched BLAS product
whose blocking depends on the batch), so a text gets the same theme alone or in
any batch.

``status_`` tells why a fit has no themes: ``"no_text"`` (every text empty),
``"too_few_texts"`` (fewer texts, copies counted, than ``min_cluster_size``) or
``"no_themes"`` (clustering found only noise); otherwise it is ``"themed"``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from nlp.errors import InputError
from nlp.themes import _vectors
from nlp.themes.labels import CTfidfLabeler
from nlp.themes.stages import Clusterer, HDBSCANClusterer, Reducer, SpectralReducer

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["TextEmbedder", "Theme", "ThemeModel", "ThemeStatus"]

logger = logging.getLogger(__name__)

# Rounds of centroid refinement after clustering; labels rarely change after 3.
_REFINE_ROUNDS = 3

# Clusters whose centroids reach this cosine are merged. Distinct themes of the
# reference sets stay below it (nearest pairs: banking77 0.91, airline 0.94); the
# parts of one featureless blob that a cluster-size cap splits are above 0.99.
_MERGE_COSINE = 0.95

ThemeStatus = Literal["themed", "no_themes", "too_few_texts", "no_text"]


class TextEmbedder(Protocol):
    """Anything that embeds texts, such as :class:`nlp.embeddings.Embedder`."""

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Return one vector per text."""


@dataclass(frozen=True, eq=False)
class Theme:
    """One theme of a fitted model.

    Attributes:
        theme_id: 0 for the largest theme, then by decreasing size.
        label: A short name made of the top terms; never empty.
        terms: The top terms, best first.
        size: Texts in the theme, duplicates included.
        representative_texts: Distinct texts nearest the centroid, nearest first.
        centroid: Unit-length mean embedding of the theme's texts.
    """

    theme_id: int
    label: str
    terms: tuple[str, ...]
    size: int
    representative_texts: tuple[str, ...]
    centroid: NDArray[np.float32] = field(repr=False)


class ThemeModel:
    """Finds themes in texts and assigns new texts to them.

    Args:
        embedder: Embeds texts when ``fit``/``transform`` get no embeddings.
        reducer: Reduction stage; ``SpectralReducer()`` by default.
        clusterer: Clustering stage; ``HDBSCANClusterer(min_cluster_size)`` by
            default.
        labeler: Labelling stage; :class:`CTfidfLabeler` by default.
        min_cluster_size: Fewest texts in a theme (at least 2).
        assign_threshold: Least cosine similarity to a centroid for ``transform``,
            for texts outside the fitted sample, and for a text clustering left
            as noise to join a theme during the fit.
        sample_size: Most distinct texts clustered; the rest are assigned.
        n_representatives: Representative texts kept per theme.
        seed: Seed of the sample and the reducer.
    """

    def __init__(
        self,
        *,
        embedder: TextEmbedder | None = None,
        reducer: Reducer | None = None,
        clusterer: Clusterer | None = None,
        labeler: CTfidfLabeler | None = None,
        min_cluster_size: int = 10,
        assign_threshold: float = 0.5,
        sample_size: int = 20_000,
        n_representatives: int = 3,
        seed: int = 0,
    ) -> None:
        self.embedder = embedder
        self.reducer = reducer
        self.clusterer = clusterer
        self.labeler = labeler
        self.min_cluster_size = min_cluster_size
        self.assign_threshold = assign_threshold
        self.sample_size = sample_size
        self.n_representatives = n_representatives
        self.seed = seed

    @classmethod
    def from_centroids(
        cls,
        centroids: ArrayLike,
        *,
        embedder: TextEmbedder | None = None,
        assign_threshold: float = 0.5,
    ) -> ThemeModel:
        """Restore a model that assigns texts to stored themes.

        A service keeps only each theme's centroid; this gives it the same
        :meth:`transform` as the fitted model had (theme ids are the rows of
        ``centroids``), without keeping the fitted texts. There is nothing to
        re-label or reduce: ``themes_`` and ``labels_`` are not set.

        Args:
            centroids: One row per theme; normalised to unit length.
            embedder: Embeds texts passed to ``transform`` without embeddings.
            assign_threshold: Least cosine similarity to join a theme.

        Raises:
            InputError: If the centroids are not a finite 2-d array, or the
                threshold is out of range.
        """
        model = cls(embedder=embedder, assign_threshold=assign_threshold)
        model._check_params()
        stored = _vectors.check_embeddings(centroids, None, field="centroids")
        model._centroids = _vectors.unit_rows(stored).astype(np.float64)
        model._known = {}
        return model

    # Fitting

    def fit(
        self, texts: Sequence[str], embeddings: ArrayLike | None = None
    ) -> ThemeModel:
        """Find the themes of texts.

        Args:
            texts: The texts; empty ones are outliers and are not clustered.
            embeddings: One row per text; computed with ``embedder`` when omitted.

        Returns:
            self, with ``themes_``, ``labels_``, ``outlier_share_``, ``status_``
            and ``fit_seconds_`` set.

        Raises:
            InputError: If a parameter is out of range, a text is not a string, or
                the embeddings do not match the texts.
        """
        started = time.perf_counter()
        self._check_params()
        texts = _vectors.check_texts(texts)

        # 1-2. Distinct non-empty texts and their embeddings.
        distinct = _vectors.distinct(texts)
        vectors = self._distinct_embeddings(texts, embeddings, distinct)

        # 3-4. Cluster a sample of the distinct texts.
        sample = self._sample(len(distinct.first_row))
        clusters = np.full(len(distinct.first_row), -1, dtype=np.intp)
        clusters[sample] = self._cluster(vectors[sample], distinct.counts[sample])
        clusters[sample] = _vectors.promote_duplicates(
            clusters[sample], distinct.counts[sample], self.min_cluster_size
        )

        # 5. Merge near-identical clusters, then refine in the embedding space;
        # close noise texts join a theme.
        clusters[sample] = _vectors.merge_close(
            vectors[sample], clusters[sample], distinct.counts[sample], _MERGE_COSINE
        )
        clusters[sample] = self._refine(
            vectors[sample], clusters[sample], distinct.counts[sample]
        )

        # 6. Themes by size, centroids, and the texts outside the sample.
        clusters = _vectors.order_by_size(clusters, distinct.counts)
        self._centroids = _vectors.centroids(vectors, clusters, distinct.counts)
        outside = np.setdiff1d(np.arange(len(clusters)), sample)
        if len(outside):  # all rows in blocks: no copy of a million vectors
            clusters[outside] = self._nearest(vectors)[outside]
        self._known = {texts[distinct.first_row[i]]: int(clusters[i]) for i in sample}
        self._fitted = (texts, vectors, distinct, clusters)
        self._label_rows = sample

        # 7. Labels, quotes and the learned attributes.
        self._finish(len(distinct.first_row))
        self.fit_seconds_ = time.perf_counter() - started
        logger.info(
            "found %d themes in %d texts (%d distinct); %.1f%% outliers",
            len(self.themes_),
            len(texts),
            len(distinct.first_row),
            100 * self.outlier_share_,
        )
        return self

    def fit_transform(
        self, texts: Sequence[str], embeddings: ArrayLike | None = None
    ) -> NDArray[np.intp]:
        """Fit, then return each text's theme id (-1 for an outlier)."""
        return self.fit(texts, embeddings).labels_

    def reduce_outliers(self, threshold: float | None = None) -> NDArray[np.intp]:
        """Move fitted outliers to their nearest theme when similar enough.

        Args:
            threshold: Least cosine similarity to the centroid; defaults to
                ``assign_threshold``. Empty texts stay outliers.

        Returns:
            The updated ``labels_``; theme sizes and ``outlier_share_`` follow.
        """
        if not hasattr(self, "_fitted"):
            raise InputError(
                "this ThemeModel holds no fitted texts (not fitted yet, or restored "
                "from centroids); call fit() first",
                field="model",
                code="not_fitted",
            )
        texts, vectors, distinct, clusters = self._fitted
        noise = np.flatnonzero(clusters == -1)
        clusters[noise] = self._nearest(vectors[noise], threshold=threshold)
        for i in noise:
            self._known[texts[distinct.first_row[i]]] = int(clusters[i])
        self._finish(len(distinct.first_row), relabel=False)
        return self.labels_

    # Assigning

    def forget_fitted_texts(self) -> ThemeModel:
        """Assign every text by its nearest centroid from now on.

        After a fit, :meth:`transform` gives a text of the fitted sample its
        fitted theme. Without that memory the model assigns exactly as one
        restored from its centroids (:meth:`from_centroids`, a saved model file)
        does, fitted texts included.

        Returns:
            self.
        """
        self._known = {}
        return self

    def transform(
        self,
        texts: Sequence[str] | None = None,
        *,
        embeddings: ArrayLike | None = None,
    ) -> NDArray[np.intp]:
        """Assign texts to the fitted themes.

        A text seen in the fitted sample keeps its fitted theme; any other goes to
        the nearest centroid at or above ``assign_threshold``, else -1. Empty texts
        are -1. The result for a text does not depend on the rest of the batch.

        Args:
            texts: The texts; may be omitted when embeddings are given.
            embeddings: One row per text; computed with ``embedder`` when omitted.

        Returns:
            One theme id per row.
        """
        self._require_fitted()
        if texts is None and embeddings is None:
            raise InputError(
                "expected texts or embeddings, got neither; pass at least one",
                field="texts",
                code="missing",
            )
        if texts is None:
            assert embeddings is not None  # narrowed by the check above
            return self._nearest(_vectors.check_embeddings(embeddings, None))
        texts = _vectors.check_texts(texts)
        out = np.full(len(texts), -1, dtype=np.intp)
        todo = [i for i, t in enumerate(texts) if t.strip() and t not in self._known]
        for i, text in enumerate(texts):
            out[i] = self._known.get(text, -1)
        if todo:
            if embeddings is not None:
                vectors = _vectors.check_embeddings(embeddings, len(texts))[todo]
            else:
                vectors = self._embed([texts[i] for i in todo])
            out[todo] = self._nearest(vectors)
        return out

    # Steps

    def _check_params(self) -> None:
        size = self.min_cluster_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise InputError(
                f"expected min_cluster_size to be an integer of at least 2, got "
                f"{size!r}; a theme needs two texts or more",
                field="min_cluster_size",
                code="out_of_range",
            )
        if not -1.0 <= self.assign_threshold <= 1.0:
            raise InputError(
                f"expected assign_threshold to be a cosine similarity in [-1, 1], "
                f"got {self.assign_threshold!r}",
                field="assign_threshold",
                code="out_of_range",
            )
        if self.sample_size < 2:
            raise InputError(
                f"expected sample_size of at least 2, got {self.sample_size!r}",
                field="sample_size",
                code="out_of_range",
            )

    def _distinct_embeddings(
        self,
        texts: list[str],
        embeddings: ArrayLike | None,
        distinct: _vectors.Distinct,
    ) -> NDArray[np.float32]:
        if embeddings is not None:
            vectors = _vectors.check_embeddings(embeddings, len(texts))
            if len(distinct.first_row) < len(vectors):  # else every row is distinct
                vectors = vectors[distinct.first_row]
        elif len(distinct.first_row):
            vectors = self._embed([texts[i] for i in distinct.first_row])
        else:
            vectors = np.zeros((0, 1), dtype=np.float32)
        return _vectors.unit_rows(vectors)

    def _embed(self, texts: list[str]) -> NDArray[np.float32]:
        if self.embedder is None:
            raise InputError(
                "expected embeddings for the texts, got none, and the model has no "
                "embedder; pass embeddings= or ThemeModel(embedder=Embedder.load())",
                field="embeddings",
                code="missing",
            )
        return _vectors.unit_rows(
            np.asarray(self.embedder.embed(texts), dtype=np.float32)
        )

    def _sample(self, n: int) -> NDArray[np.intp]:
        if n <= self.sample_size:
            return np.arange(n, dtype=np.intp)
        rng = np.random.default_rng(self.seed)
        logger.info("clustering a sample of %d of %d texts", self.sample_size, n)
        return np.sort(rng.choice(n, size=self.sample_size, replace=False))

    def _cluster(
        self, vectors: NDArray[np.float32], counts: NDArray[np.float64]
    ) -> NDArray[np.intp]:
        # The clusterer sees each distinct text once. Where copies were folded,
        # min_cluster_size in texts is fewer distinct points (115 texts of 34
        # distinct ones held 8 themes of 9-19 texts and none of 10 distinct
        # points), so it is scaled down, and clusters that then weigh less than
        # min_cluster_size texts are noise again.
        size = self.min_cluster_size
        if counts.sum() > len(vectors):
            size = max(2, math.ceil(size * len(vectors) / counts.sum()))
        if len(vectors) < size:
            return np.full(len(vectors), -1, dtype=np.intp)
        reducer = self.reducer or SpectralReducer(seed=self.seed)
        clusterer = self.clusterer or HDBSCANClusterer(size)
        clusters = np.asarray(
            clusterer.fit_predict(reducer.fit_transform(vectors)), dtype=np.intp
        )
        for k in np.unique(clusters[clusters >= 0]):
            if counts[clusters == k].sum() < self.min_cluster_size:
                clusters[clusters == k] = -1
        if not (clusters >= 0).any():
            clusters = self._one_blob(vectors, counts)
        return clusters

    def _one_blob(
        self, vectors: NDArray[np.float32], counts: NDArray[np.float64]
    ) -> NDArray[np.intp]:
        # HDBSCAN never calls all the points one cluster, so a corpus about one
        # thing (a dozen tickets on the same failing export) would have no theme.
        # When most texts lie within the assignment threshold of their common
        # centroid, those texts are that one theme.
        unit = _vectors.unit_rows(vectors)
        everything = np.zeros(len(vectors), dtype=np.intp)
        [centroid] = _vectors.centroids(unit, everything, counts)
        clusters = np.full(len(vectors), -1, dtype=np.intp)
        close = unit @ centroid >= self.assign_threshold
        weight = counts[close].sum()
        if weight >= self.min_cluster_size and weight >= 0.5 * counts.sum():
            clusters[close] = 0
        return clusters

    def _refine(
        self,
        vectors: NDArray[np.float32],
        clusters: NDArray[np.intp],
        counts: NDArray[np.float64],
    ) -> NDArray[np.intp]:
        # HDBSCAN draws its borders in the reduced space; moving each text to its
        # nearest centroid in the embedding space repairs them, and makes the
        # fitted labels agree with transform(). Clustered texts never become noise.
        for _ in range(_REFINE_ROUNDS):
            centroids = _vectors.centroids(vectors, clusters, counts)
            if not len(centroids):
                break
            best, similarity = _vectors.nearest(vectors, centroids, exact=False)
            close = np.where(similarity >= self.assign_threshold, best, -1)
            refined = np.where(clusters >= 0, best, close)
            if np.array_equal(refined, clusters):
                break
            clusters = refined
        return clusters

    def _nearest(
        self, vectors: NDArray[np.float32], *, threshold: float | None = None
    ) -> NDArray[np.intp]:
        threshold = self.assign_threshold if threshold is None else threshold
        if len(self._centroids) and vectors.shape[1] != self._centroids.shape[1]:
            raise InputError(
                f"expected embeddings of {self._centroids.shape[1]} dimensions, as "
                f"the themes' centroids, got {vectors.shape[1]}",
                field="embeddings",
                code="shape_mismatch",
            )
        return _vectors.nearest_ids(vectors, self._centroids, threshold)

    def _finish(self, n_distinct: int, *, relabel: bool = True) -> None:
        texts, vectors, distinct, clusters = self._fitted
        padded = np.append(clusters, -1)  # group -1 (an empty text) reads the -1
        self.labels_ = padded[distinct.group].astype(np.intp)
        self.outlier_share_ = float(np.mean(self.labels_ == -1)) if len(texts) else 0.0
        if relabel:
            self._labels = self._label(texts, vectors, distinct, clusters)
        self.themes_ = self._themes(texts, vectors, distinct, clusters)
        n_texts = int(distinct.counts.sum())
        self.status_ = _status(n_texts, len(self.themes_), self.min_cluster_size)

    def _label(
        self,
        texts: list[str],
        vectors: NDArray[np.float32],
        distinct: _vectors.Distinct,
        clusters: NDArray[np.intp],
    ) -> tuple[list[str], list[list[str]]]:
        # Above sample_size, the terms are counted over the clustered sample only:
        # a uniform sample of every theme, and the labeller's cost (spaCy, about
        # 3,000 texts per second per core) stays that of sample_size texts.
        in_sample = np.zeros(len(clusters), dtype=bool)
        in_sample[self._label_rows] = True
        members = [
            np.flatnonzero((clusters == k) & in_sample)
            for k in range(len(self._centroids))
        ]
        if not members:
            return [], []
        labeler = self.labeler or CTfidfLabeler()
        labeler.fit(
            [[texts[distinct.first_row[i]] for i in index] for index in members],
            weights=[distinct.counts[index] for index in members],
            similarities=[
                vectors[index].astype(np.float64) @ self._centroids[k]
                for k, index in enumerate(members)
            ],
        )
        return labeler.labels_, labeler.terms_

    def _themes(
        self,
        texts: list[str],
        vectors: NDArray[np.float32],
        distinct: _vectors.Distinct,
        clusters: NDArray[np.intp],
    ) -> list[Theme]:
        labels, terms = self._labels
        themes = []
        for k, centroid in enumerate(self._centroids):
            index = np.flatnonzero(clusters == k)
            nearest = index[np.argsort(-(vectors[index] @ centroid), kind="stable")][
                : self.n_representatives
            ]
            themes.append(
                Theme(
                    theme_id=k,
                    label=labels[k],
                    terms=tuple(terms[k]),
                    size=int(distinct.counts[index].sum()),
                    representative_texts=tuple(
                        texts[distinct.first_row[i]] for i in nearest
                    ),
                    centroid=centroid.astype(np.float32),
                )
            )
        return themes

    def _require_fitted(self) -> None:
        if not hasattr(self, "_centroids"):
            raise InputError(
                "this ThemeModel is not fitted yet; call fit() first",
                field="model",
                code="not_fitted",
            )


def _status(n_texts: int, n_themes: int, min_size: int) -> ThemeStatus:
    # n_texts counts copies: 30 copies of 3 texts are enough for a theme of 10.
    if n_themes:
        return "themed"
    if n_texts == 0:
        return "no_text"
    if n_texts < min_size:
        return "too_few_texts"
    return "no_themes"
