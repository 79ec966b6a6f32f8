"""The reference groupings that theme benchmarks score clusters against.

Each loader returns texts and gold labels from ``../shared/data``:

- ``banking77``: a fixed-seed sample of 3,080 texts of the train split (77 intents);
- ``clinc150``: the val split, 3,000 texts (150 intents);
- ``airline``: negative airline tweets with a complaint reason (10 reasons);
- ``nhs``: NHS survey comments that carry exactly one of the 50 framework themes.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable

from training.data import shared_data_dir

__all__ = ["THEME_SETS", "load_theme_set"]


def _banking77() -> tuple[list[str], list[str]]:
    path = shared_data_dir() / "banking77" / "train.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    rows = random.Random(77).sample(rows, 3080)
    return [t for t, _ in rows], [c for _, c in rows]


def _clinc150() -> tuple[list[str], list[str]]:
    data = json.loads((shared_data_dir() / "clinc150" / "data.json").read_text())
    return [t for t, _ in data["val"]], [c for _, c in data["val"]]


def _airline() -> tuple[list[str], list[str]]:
    path = shared_data_dir() / "airline_tweets" / "tweets.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            (r["text"], r["negativereason"])
            for r in csv.DictReader(handle)
            if r["airline_sentiment"] == "negative" and r["negativereason"]
        ]
    return [t for t, _ in rows], [c for _, c in rows]


def _nhs() -> tuple[list[str], list[str]]:
    path = shared_data_dir() / "nhs_fft" / "comments.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        themes = (reader.fieldnames or [])[11:]
        texts, labels = [], []
        for row in reader:
            present = [t for t in themes if row[t] in ("1", "1.0")]
            if len(present) == 1 and row["FFT answer"].strip():
                texts.append(row["FFT answer"])
                labels.append(present[0])
    return texts, labels


THEME_SETS: dict[str, Callable[[], tuple[list[str], list[str]]]] = {
    "banking77": _banking77,
    "clinc150": _clinc150,
    "airline": _airline,
    "nhs": _nhs,
}


def load_theme_set(name: str) -> tuple[list[str], list[str]]:
    """Return the texts and gold labels of one reference set."""
    return THEME_SETS[name]()
