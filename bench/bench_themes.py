"""Our theme engine against BERTopic's defaults on the same embeddings (issue #4).

Run:  nice -n 5 .venv/bin/python bench/bench_themes.py
      # -> bench/results/themes_vs_bertopic.json

Four reference sets with gold groupings, all train/validation splits (the engine's
settings were tuned on them, so these are not held-out figures):

- ``banking77``: a 3,080-text sample (seed 0) of ``banking77/train.csv``, skipping
  its three malformed rows; gold = ``category``.
- ``clinc150``: the ``val`` split of ``clinc150/data.json``; gold = intent.
- ``airline``: negative tweets of ``airline_tweets/tweets.csv`` with a
  ``negativereason``; gold = that reason.
- ``nhs``: ``nhs_fft/comments.csv`` rows with a non-empty ``FFT answer`` and
  exactly one of the 50 framework columns (those after the 11th) set; gold = it.

Each set is embedded once with :class:`nlp.embeddings.Embedder`. Then
``BERTopic()`` (its defaults: UMAP, HDBSCAN, c-TF-IDF) and ``ThemeModel(seed=0)``
are fitted on those embeddings. ``fit_seconds`` times the whole fit of each,
labelling included. BERTopic runs first in the process, so it pays numba's
compilation of UMAP, and our model runs after it; ``--ours-first`` swaps that.

NMI and ARI come from scikit-learn with outliers as one more cluster (id -1);
``*_reduced`` gives them after outlier reduction (our ``reduce_outliers()``, and
BERTopic's ``reduce_outliers`` with its default strategy, "distributions").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nlp.themes import ThemeModel
from training.data import read_labelled_csv, shared_data_dir

_RESULTS = Path(__file__).resolve().parent / "results" / "themes_vs_bertopic.json"
_SETS = ("banking77", "clinc150", "airline", "nhs")
_BANKING77_SAMPLE = 3080
_NHS_FIRST_THEME_COLUMN = 11  # 0-based: the 50 framework columns follow


def load_set(name: str) -> tuple[list[str], list[str]]:
    """Return the texts and gold groups of one reference set."""
    data = shared_data_dir()
    if name == "banking77":
        texts, gold = read_labelled_csv(
            data / "banking77" / "train.csv",
            text_column="text",
            label_column="category",
            skip_malformed=True,
        )
        index = sorted(random.Random(0).sample(range(len(texts)), _BANKING77_SAMPLE))
        return [texts[i] for i in index], [gold[i] for i in index]
    if name == "clinc150":
        rows = json.loads((data / "clinc150" / "data.json").read_text("utf-8"))["val"]
        return [str(r[0]) for r in rows], [str(r[1]) for r in rows]
    if name == "airline":
        return _read_airline(data / "airline_tweets" / "tweets.csv")
    if name == "nhs":
        return _read_nhs(data / "nhs_fft" / "comments.csv")
    raise ValueError(f"expected one of {_SETS!r}, got {name!r}")


def _read_airline(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            (r["text"], r["negativereason"].strip())
            for r in csv.DictReader(handle)
            if r["airline_sentiment"] == "negative" and r["negativereason"].strip()
        ]
    return [t for t, _ in rows], [g for _, g in rows]


def _read_nhs(path: Path) -> tuple[list[str], list[str]]:
    texts, gold = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        themes = header[_NHS_FIRST_THEME_COLUMN:]
        text_at = header.index("FFT answer")
        for row in reader:
            flags = [c.strip() not in ("", "0") for c in row[_NHS_FIRST_THEME_COLUMN:]]
            if sum(flags) == 1 and row[text_at].strip():
                texts.append(row[text_at])
                gold.append(themes[flags.index(True)])
    return texts, gold


def embed(name: str, texts: list[str], cache: Path | None) -> np.ndarray:
    """Embed texts with the bundled embedder, reading or writing a cache file."""
    path = cache / f"{name}.npy" if cache else None
    if path is not None and path.exists():
        return np.load(path)
    from nlp.embeddings import Embedder

    embeddings = Embedder.load().embed(texts)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, embeddings)
    return embeddings


def score(gold: list[str], labels: np.ndarray) -> dict[str, float]:
    """NMI and ARI with outliers as one cluster, and the outlier share."""
    return {
        "nmi": round(float(normalized_mutual_info_score(gold, labels)), 4),
        "ari": round(float(adjusted_rand_score(gold, labels)), 4),
        "outlier_share": round(float(np.mean(labels == -1)), 4),
    }


def run_bertopic(texts: list[str], embeddings: np.ndarray, gold: list[str]) -> dict:
    """Fit BERTopic with its defaults on the given embeddings and score it."""
    from bertopic import BERTopic

    started = time.perf_counter()
    model = BERTopic()
    labels = np.asarray(model.fit_transform(texts, embeddings=embeddings)[0])
    seconds = time.perf_counter() - started
    reduced = np.asarray(model.reduce_outliers(texts, labels.tolist()))
    return _figures(gold, labels, reduced, seconds)


def run_ours(texts: list[str], embeddings: np.ndarray, gold: list[str]) -> dict:
    """Fit our ThemeModel with its defaults on the given embeddings and score it."""
    started = time.perf_counter()
    model = ThemeModel(seed=0).fit(texts, embeddings)
    seconds = time.perf_counter() - started
    labels = model.labels_.copy()
    result = _figures(gold, labels, model.reduce_outliers().copy(), seconds)
    result["labels"] = [t.label for t in model.themes_[:5]]
    return result


def _figures(
    gold: list[str], labels: np.ndarray, reduced: np.ndarray, seconds: float
) -> dict[str, Any]:
    after = {f"{k}_reduced": v for k, v in score(gold, reduced).items()}
    return {
        **score(gold, labels),
        **after,
        "themes": int(labels.max(initial=-1)) + 1,
        "fit_seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(_SETS), choices=_SETS)
    parser.add_argument("--cache", type=Path, help="folder for cached embeddings")
    parser.add_argument("--no-bertopic", action="store_true")
    parser.add_argument("--ours-first", action="store_true")
    parser.add_argument("--out", type=Path, default=_RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # BERTopic must download nothing

    results: dict[str, Any] = {}
    for name in args.sets:
        texts, gold = load_set(name)
        embeddings = embed(name, texts, args.cache)
        result: dict[str, Any] = {"n": len(texts), "gold_groups": len(set(gold))}
        runs = [("ours", run_ours)]
        if not args.no_bertopic:
            runs.insert(0 if not args.ours_first else 1, ("bertopic", run_bertopic))
        for key, run in runs:
            result[key] = run(texts, embeddings, gold)
        if "bertopic" in result:
            ours, theirs = result["ours"], result["bertopic"]
            result["nmi_gain"] = round(ours["nmi"] - theirs["nmi"], 4)
            result["time_ratio"] = round(ours["fit_seconds"] / theirs["fit_seconds"], 3)
        results[name] = result
        print(json.dumps({name: result}), flush=True)

    if not args.no_bertopic and set(args.sets) == set(_SETS):
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
