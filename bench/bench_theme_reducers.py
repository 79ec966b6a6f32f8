"""Which reduction lets HDBSCAN find intents: PCA, spectral embedding or UMAP.

Run:  .venv/bin/python bench/bench_theme_reducers.py
      # -> bench/results/theme_reducers.txt (issue #4 exploration)

Embeds a 3,000-text sample of banking77 train (seed 0) with the bundled embedder,
reduces it several ways, clusters with scikit-learn's HDBSCAN, and prints NMI / ARI
against the 77 intents (outliers counted as one cluster), the outlier share, the
number of clusters and the seconds taken.
"""

from __future__ import annotations

import csv
import random
import time
import warnings

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA
from sklearn.manifold import SpectralEmbedding
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nlp.embeddings import Embedder
from training.data import shared_data_dir


def main() -> None:
    warnings.filterwarnings("ignore")
    path = shared_data_dir() / "banking77" / "train.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            (r["text"], r["category"])
            for r in csv.DictReader(handle)
            if r.get("category")
        ]
    rows = random.Random(0).sample(rows, 3000)
    gold = [c for _, c in rows]
    embeddings = Embedder.load().embed([t for t, _ in rows])

    def run(name: str, x: np.ndarray, started: float, **options: object) -> None:
        labels = HDBSCAN(**options).fit_predict(x)  # type: ignore[arg-type]
        print(
            f"{name:44s} nmi {normalized_mutual_info_score(gold, labels):.3f} "
            f"ari {adjusted_rand_score(gold, labels):.3f} "
            f"out {(labels == -1).mean():.2f} k {labels.max() + 1} "
            f"total {time.perf_counter() - started:.1f}s",
            flush=True,
        )

    for dims in (5, 10, 50):
        started = time.perf_counter()
        x = PCA(dims, random_state=0).fit_transform(embeddings)
        for size, samples in ((10, None), (10, 2), (5, 2)):
            run(
                f"pca{dims} mcs{size} ms{samples}",
                x,
                started,
                min_cluster_size=size,
                min_samples=samples,
            )
    for neighbours in (10, 15):
        for dims in (5, 10, 20):
            started = time.perf_counter()
            x = SpectralEmbedding(
                n_components=dims,
                affinity="nearest_neighbors",
                n_neighbors=neighbours,
                random_state=0,
            ).fit_transform(embeddings)
            for size, samples in ((10, 2), (10, None), (5, 2)):
                run(
                    f"spectral k{neighbours} d{dims} mcs{size} ms{samples}",
                    x,
                    started,
                    min_cluster_size=size,
                    min_samples=samples,
                )

    import umap  # BERTopic's reducer; the first call compiles with numba

    for epochs in (100, 200):
        started = time.perf_counter()
        x = umap.UMAP(
            n_neighbors=15,
            n_components=5,
            min_dist=0.0,
            metric="cosine",
            n_epochs=epochs,
        ).fit_transform(embeddings)
        run(
            f"umap5 epochs{epochs} mcs10 ms2",
            x,
            started,
            min_cluster_size=10,
            min_samples=2,
        )


if __name__ == "__main__":
    main()
