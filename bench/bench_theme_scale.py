"""How the theme engine scales: fit seconds and peak memory at 100k and 1M texts.

Run:  nice -n 5 .venv/bin/python bench/bench_theme_scale.py
      # -> bench/results/theme_scale.json

Issue #4's target: 100,000 texts clustered in at most 60 s after embedding on 2
cores, and memory that stays bounded at 1,000,000 texts.

The 100k corpus is real text: every distinct text of GoEmotions train and dev, banking77
train, CLINC150 train and val, app_reviews, airline_tweets, nhs_fft and TweetEval
sentiment val, embedded
once with the bundled embedder (cached under ``--cache``; embedding is not timed).
The 1M corpus repeats it ten times, each copy's texts made distinct by a suffix
and its embeddings moved by small Gaussian noise (standard deviation 0.01 per
dimension, then normalised), so that clustering sees a million distinct points;
the embeddings are synthetic there, the cost is real.

Before the timed fit, a fit of 2,000 texts pays the imports (reported as
``warmup_fit_2000_seconds``). Each size runs in a child process so that its peak
RSS (``ru_maxrss``) is its own;
the figure includes the corpus and its embeddings (1M x 384 float32 = 1.5 GB).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

_RESULTS = Path(__file__).resolve().parent / "results" / "theme_scale.json"
_DEFAULT_CACHE = Path("/tmp/feedback-miner-bench")


def corpus() -> list[str]:
    """Return the distinct texts of the shared data sets, in a fixed order."""
    from training.data import read_goemotions, read_labelled_csv, shared_data_dir

    data = shared_data_dir()
    texts: list[str] = []
    for split in ("train", "dev"):
        texts += read_goemotions(data / "goemotions" / f"{split}.tsv").texts
    texts += read_labelled_csv(
        data / "banking77" / "train.csv",
        text_column="text",
        label_column="category",
        skip_malformed=True,
    )[0]
    clinc = json.loads((data / "clinc150" / "data.json").read_text("utf-8"))
    texts += [str(row[0]) for part in ("train", "val") for row in clinc[part]]
    for path in sorted((data / "app_reviews").glob("*.csv")):
        texts += _column(path, "content")
    texts += _column(data / "airline_tweets" / "tweets.csv", "text")
    texts += _column(data / "nhs_fft" / "comments.csv", "FFT answer")
    tweets = data / "tweeteval-sentiment" / "val_text.txt"
    texts += tweets.read_text("utf-8").splitlines()
    return list(dict.fromkeys(t for t in texts if t.strip()))


def _column(path: Path, name: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[name] for row in csv.DictReader(handle)]


def embedded_corpus(cache: Path, size: int) -> tuple[list[str], np.ndarray]:
    """The first ``size`` distinct texts and their embeddings, cached."""
    texts = corpus()[:size]
    path = cache / f"scale-{len(texts)}.npy"
    if path.exists():
        return texts, np.load(path)
    from nlp.embeddings import Embedder

    started = time.perf_counter()
    embeddings = Embedder.load().embed(texts)
    seconds = time.perf_counter() - started
    print(f"embedded {len(texts)} texts in {seconds:.0f} s", file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, embeddings)
    return texts, embeddings


def multiplied(
    texts: list[str], embeddings: np.ndarray, copies: int
) -> tuple[list[str], np.ndarray]:
    """``copies`` distinct variants of every text, with nearby embeddings."""
    rng = np.random.default_rng(0)
    out_texts = [f"{t} #{c}" if c else t for c in range(copies) for t in texts]
    out = np.empty((len(texts) * copies, embeddings.shape[1]), dtype=np.float32)
    for c in range(copies):
        block = embeddings + (rng.normal(0, 0.01, embeddings.shape) if c else 0.0)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        out[c * len(texts) : (c + 1) * len(texts)] = block / norms
    return out_texts, out


def run_one(size: int, cache: Path) -> dict[str, Any]:
    """Fit the default ThemeModel on ``size`` texts; time and describe it."""
    from nlp.themes import ThemeModel

    base_size = min(size, 100_000)
    texts, embeddings = embedded_corpus(cache, base_size)
    if size > len(texts):
        texts, embeddings = multiplied(texts, embeddings, -(-size // len(texts)))
        texts, embeddings = texts[:size], embeddings[:size]
    loaded_rss = _peak_rss_mb()

    # A first small fit pays the imports (scikit-learn, SciPy, spaCy), as a
    # service's first refresh does; the timed fit then starts warm, but still
    # loads its own spaCy pipeline.
    started = time.perf_counter()
    ThemeModel(seed=0).fit(texts[:2000], embeddings[:2000])
    warmup_seconds = time.perf_counter() - started

    started = time.perf_counter()
    model = ThemeModel(seed=0).fit(texts, embeddings)
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    again = model.transform(texts[:10_000], embeddings=embeddings[:10_000])
    assign_rate = 10_000 / (time.perf_counter() - started)
    return {
        "texts": len(texts),
        "distinct_embeddings": "real" if size <= len(corpus()) else "synthetic",
        "fit_seconds": round(fit_seconds, 1),
        "warmup_fit_2000_seconds": round(warmup_seconds, 1),
        "themes": len(model.themes_),
        "outlier_share": round(model.outlier_share_, 4),
        "transform_agrees_with_fit": bool(
            np.array_equal(again, model.labels_[:10_000])
        ),
        "transform_texts_per_second": round(assign_rate),
        "rss_after_loading_mb": loaded_rss,
        "peak_rss_mb": _peak_rss_mb(),
        "largest_themes": [t.label for t in model.themes_[:5]],
    }


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--cache", type=Path, default=_DEFAULT_CACHE)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=_RESULTS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.cache)))
        return

    results = {}
    for size in args.sizes:
        command = [sys.executable, __file__, "--child", str(size)]
        command += ["--cache", str(args.cache)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        results[str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps({size: results[str(size)]}), flush=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
